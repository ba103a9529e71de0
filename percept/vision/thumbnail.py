"""Thumbnails (``/generateThumbnail``): a JPEG of exactly the asked width x height.

Plain: Azure's centre crop to the asked aspect ratio, then a resize. Smart: the smart crop (largest box of that
ratio holding the faces and the salient region, :func:`crops.smart_crop`), then a resize. Quality 80 with 4:2:0
chroma keeps a 50x50 thumbnail near 1.5 KB; the computervision SDK's ``generate_thumbnail`` hands back its
body in 4096-byte chunks and many callers keep only the last one, so small thumbnails must fit one chunk.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .crops import place_crop, smart_crop
from .model import Box, DetectedObject, Face

JPEG_QUALITY = 80


def _encode(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(
        ".jpg",
        cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
        [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY, cv2.IMWRITE_JPEG_OPTIMIZE, 1],
    )
    if not ok:  # pragma: no cover - OpenCV encodes any 8-bit 3-channel array
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def thumbnail_box(
    rgb: np.ndarray,
    width: int,
    height: int,
    smart: bool,
    faces: Sequence[Face] = (),
    objects: Sequence[DetectedObject] = (),
) -> Box:
    """The part of the picture the thumbnail shows."""
    h, w = rgb.shape[:2]
    ratio = width / height
    if smart:
        return smart_crop(rgb, faces, objects, ratio)
    return place_crop(w, h, ratio, Box(0, 0, w, h))


def thumbnail(
    rgb: np.ndarray,
    width: int,
    height: int,
    smart: bool,
    faces: Sequence[Face] = (),
    objects: Sequence[DetectedObject] = (),
) -> bytes:
    """A ``width`` x ``height`` JPEG of the picture (RGB, HxWx3 uint8)."""
    box = thumbnail_box(rgb, width, height, smart, faces, objects)
    part = rgb[box.y : box.y + box.h, box.x : box.x + box.w]
    shrinking = width <= box.w and height <= box.h
    resized = cv2.resize(part, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
    return _encode(resized)
