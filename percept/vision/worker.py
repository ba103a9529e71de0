"""What the image analysis pool runs: decode and analyze in the worker, so neither a large decode nor a model
ever runs on the server's event loop. Engines load once per worker process, on first use (each stage's cached
accessor)."""

from __future__ import annotations

import os
from typing import Any

from .analyze import VisionRequest, analyze_image
from .features import Feature
from .image import ImageLimits, decode
from .model import ImageAnalysis
from .settings import VisionSettings


def init_vision_worker() -> None:
    """Worker set-up: die with the server (see :mod:`percept.lifeline`); one thread per process."""
    from .. import lifeline

    lifeline.bind_worker()
    os.environ["OMP_THREAD_LIMIT"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    import cv2

    cv2.setNumThreads(1)


def analyze_bytes(data: bytes, limits: ImageLimits, request: VisionRequest, settings: VisionSettings) -> ImageAnalysis:
    """Decode ``data`` under ``limits`` and run the stages ``request`` needs."""
    rgb, fmt = decode(data, limits)
    return analyze_image(rgb, fmt, request, settings)


def area_of_interest(data: bytes, limits: ImageLimits, settings: VisionSettings) -> ImageAnalysis:
    """The analysis with only ``area_of_interest`` asked for (the v2.1+ ``/areaOfInterest`` route)."""
    return analyze_bytes(data, limits, VisionRequest(frozenset({Feature.AREA_OF_INTEREST})), settings)


def gallery_embedding(kind: str, data: bytes) -> tuple[Any, str]:
    """The embedding an enrolment photo adds to gallery ``kind`` and the embedder's name (models stay in the
    workers; the server process loads none)."""
    from .gallery import decode_picture, embed_for

    return embed_for(kind, decode_picture(data))


def thumbnail_bytes(
    data: bytes, limits: ImageLimits, width: int, height: int, smart: bool, settings: VisionSettings
) -> bytes:
    """A ``width`` x ``height`` JPEG of the picture (:func:`.thumbnail.thumbnail`); ``smart`` keeps the faces
    and objects found in frame."""
    from .thumbnail import thumbnail

    rgb, fmt = decode(data, limits)
    if not smart:
        return thumbnail(rgb, width, height, False)
    found = analyze_image(rgb, fmt, VisionRequest(frozenset({Feature.FACES, Feature.OBJECTS})), settings)
    return thumbnail(rgb, width, height, True, found.faces or (), found.objects or ())
