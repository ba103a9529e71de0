"""Where the picture's subject is: a saliency box, the area of interest (``/areaOfInterest``) and smart crops
(Image Analysis 4.0 ``smartCrops``, and the smart thumbnail of ``/generateThumbnail``).

Saliency is the spectral residual of Hou & Zhang (CVPR 2007) on a 64x64 copy of each Lab channel (OpenCV's own
``cv2.saliency`` is in opencv-contrib only), with a mild centre prior. Faces and detected objects are added to
that map with a high weight, since what a person photographs is usually the people and things in it. A box is
then read from the map's mass: the central 90% of it along each axis.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np

from .model import Box, DetectedObject, Face, SmartCrop

if TYPE_CHECKING:
    from .analyze import VisionContext

_SR_SIDE = 64  # spectral residual works on a 64x64 copy (the paper's scale)
_MAP_SIDE = 96  # longest side of the map the box is read from
_BASELINE = 1.0  # saliency up to this many times the map's mean is background
_MASS = 0.9  # share of the map's mass the salient box holds (5% cut on each side of each axis)
_FACE_WEIGHT = 2.0  # mass a face adds (times its confidence), relative to the saliency map's total of 1
_OBJECT_WEIGHT = 1.0  # mass an object adds (times its confidence)
_AOI_OBJECT_CONFIDENCE = 0.5  # an object counts towards the area of interest from this confidence
_AOI_OBJECT_AREA = 0.01  # ...and from this share of the picture
# Image Analysis 4.0 accepts aspect ratios (width / height) in this range; with none asked it picks the one
# closest to the picture's own.
MIN_RATIO, MAX_RATIO = 0.75, 1.8


def saliency_map(rgb: np.ndarray) -> np.ndarray:
    """A saliency map with the picture's aspect ratio (longest side 96), values >= 0 summing to 1."""
    h, w = rgb.shape[:2]
    lab = cv2.cvtColor(cv2.resize(rgb, (_SR_SIDE, _SR_SIDE), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2LAB)
    sal: np.ndarray = np.zeros((_SR_SIDE, _SR_SIDE), np.float64)
    for c in range(3):
        spectrum = np.fft.fft2(lab[..., c].astype(np.float64))
        log_amp = np.log(np.abs(spectrum) + 1e-9)
        residual = log_amp - cv2.blur(log_amp, (3, 3))
        sal = sal + np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    sal = cv2.GaussianBlur(sal, (0, 0), 3.0)
    scale = _MAP_SIDE / max(h, w)
    mw, mh = max(1, round(w * scale)), max(1, round(h * scale))
    sal = cv2.resize(sal, (mw, mh), interpolation=cv2.INTER_LINEAR)
    # Mild centre prior: the border keeps 60% of its weight.
    yy = np.linspace(-1, 1, mh)[:, None]
    xx = np.linspace(-1, 1, mw)[None, :]
    sal = sal * (0.6 + 0.4 * np.exp(-(xx**2 + yy**2) / (2 * 0.5**2)))
    # Keep what stands out: the usual object threshold for spectral residual maps is a few times their mean.
    # Squaring favours the strongest peaks over broad low ringing.
    sal = np.maximum(sal - _BASELINE * float(sal.mean()), 0) ** 2
    total = float(sal.sum())
    return sal / total if total > 0 else np.full((mh, mw), 1.0 / (mh * mw))


def _span(mass: np.ndarray) -> tuple[float, float]:
    """Fractional start and end (0..1) of the central _MASS of a 1-D mass distribution."""
    cum = np.cumsum(mass) / max(float(mass.sum()), 1e-12)
    cut = (1 - _MASS) / 2
    lo = int(np.searchsorted(cum, cut))
    hi = int(np.searchsorted(cum, 1 - cut)) + 1
    return lo / len(mass), min(hi, len(mass)) / len(mass)


def union(boxes: Iterable[Box]) -> Box | None:
    found = list(boxes)
    if not found:
        return None
    x0, y0 = min(b.x for b in found), min(b.y for b in found)
    x1, y1 = max(b.x + b.w for b in found), max(b.y + b.h for b in found)
    return Box(x0, y0, x1 - x0, y1 - y0)


def clip(box: Box, width: int, height: int) -> Box:
    """The box inside the picture, at least one pixel each way."""
    x0 = min(max(0, box.x), width - 1)
    y0 = min(max(0, box.y), height - 1)
    x1 = min(max(x0 + 1, box.x + box.w), width)
    y1 = min(max(y0 + 1, box.y + box.h), height)
    return Box(x0, y0, x1 - x0, y1 - y0)


def salient_box(rgb: np.ndarray, faces: Sequence[Face] = (), objects: Sequence[DetectedObject] = ()) -> Box:
    """The box holding the central 90% of the saliency map plus heavily weighted faces and objects; it always
    holds every face whole."""
    h, w = rgb.shape[:2]
    sal = saliency_map(rgb)
    mh, mw = sal.shape
    sx, sy = mw / w, mh / h
    weighted = [(f.box, _FACE_WEIGHT * f.confidence) for f in faces]
    weighted += [(o.box, _OBJECT_WEIGHT * o.confidence) for o in objects]
    for box, weight in weighted:
        x0, y0 = int(box.x * sx), int(box.y * sy)
        x1, y1 = max(x0 + 1, int(np.ceil((box.x + box.w) * sx))), max(y0 + 1, int(np.ceil((box.y + box.h) * sy)))
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(mw, x1), min(mh, y1)
        if x1 > x0 and y1 > y0:
            sal[y0:y1, x0:x1] += weight / ((x1 - x0) * (y1 - y0))
    fx0, fx1 = _span(sal.sum(axis=0))
    fy0, fy1 = _span(sal.sum(axis=1))
    box = Box(int(fx0 * w), int(fy0 * h), round((fx1 - fx0) * w), round((fy1 - fy0) * h))
    whole = union([box, *(f.box for f in faces)])
    return clip(whole or box, w, h)


def area_of_interest(rgb: np.ndarray, faces: Sequence[Face] = (), objects: Sequence[DetectedObject] = ()) -> Box:
    """What matters in the picture: the union of its faces and sizeable, confident objects, else the saliency
    box. Never empty, always inside the picture."""
    h, w = rgb.shape[:2]
    kept = [o.box for o in objects if o.confidence >= _AOI_OBJECT_CONFIDENCE and o.box.area >= _AOI_OBJECT_AREA * w * h]
    found = union([f.box for f in faces] + kept)
    return clip(found if found is not None else salient_box(rgb), w, h)


def crop_size(width: int, height: int, aspect_ratio: float) -> tuple[int, int]:
    """The largest width x height of that aspect ratio (width / height) inside the picture."""
    if width / height > aspect_ratio:
        return min(width, max(1, round(height * aspect_ratio))), height
    return width, min(height, max(1, round(width / aspect_ratio)))


def place_crop(width: int, height: int, aspect_ratio: float, region: Box, must: Box | None = None) -> Box:
    """The largest crop of that aspect ratio, centred on ``region`` and shifted, where it fits, to hold ``must``
    (the faces) whole; always inside the picture."""
    cw, ch = crop_size(width, height, aspect_ratio)

    def axis(size: int, crop: int, lo: int, length: int, must_lo: int | None, must_len: int) -> int:
        start = lo + (length - crop) // 2
        if must_lo is not None and must_len <= crop:
            start = min(max(start, must_lo + must_len - crop), must_lo)
        return min(max(0, start), size - crop)

    x = axis(width, cw, region.x, region.w, must.x if must else None, must.w if must else 0)
    y = axis(height, ch, region.y, region.h, must.y if must else None, must.h if must else 0)
    return Box(x, y, cw, ch)


def smart_crop(rgb: np.ndarray, faces: Sequence[Face], objects: Sequence[DetectedObject], aspect_ratio: float) -> Box:
    """The largest box of ``aspect_ratio`` (width / height) that keeps the faces and the salient region in frame
    (as much of the salient region as the ratio allows, centred on it)."""
    h, w = rgb.shape[:2]
    region = salient_box(rgb, faces, objects)
    return place_crop(w, h, aspect_ratio, region, union(f.box for f in faces))


def default_ratio(width: int, height: int) -> float:
    """Image Analysis 4.0's ratio when none is asked: the picture's own, held to 0.75–1.8, two decimals."""
    return round(min(MAX_RATIO, max(MIN_RATIO, width / height)), 2)


def _found(ctx: VisionContext) -> tuple[list[Face], list[DetectedObject]]:
    return list(ctx.result.faces or ()), list(ctx.result.objects or ())


def run_smart_crops(ctx: VisionContext) -> None:
    h, w = ctx.rgb.shape[:2]
    faces, objects = _found(ctx)
    region = salient_box(ctx.rgb, faces, objects)
    must = union(f.box for f in faces)
    ratios = ctx.request.crop_ratios or (default_ratio(w, h),)
    ctx.result.smart_crops = [SmartCrop(r, place_crop(w, h, r, region, must)) for r in ratios]


def run_area_of_interest(ctx: VisionContext) -> None:
    faces, objects = _found(ctx)
    ctx.result.area_of_interest = area_of_interest(ctx.rgb, faces, objects)
