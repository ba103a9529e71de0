"""The image analysis driver: an ordered list of stages, each filling part of one :class:`ImageAnalysis`.

A stage runs when a requested feature (or one built from it, :func:`features.closure`) is among what it
produces. Stages run in a worker process (never on the server's event loop); engines load once per process
through :mod:`percept.engines`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .features import Feature, closure
from .model import ImageAnalysis
from .settings import VisionSettings


@dataclass(slots=True, frozen=True)
class VisionRequest:
    """What a caller asked for, in API-neutral terms."""

    features: frozenset[Feature]
    language: str = "en"
    max_candidates: int = 1
    gender_neutral: bool = False
    crop_ratios: tuple[float, ...] = ()
    # v3 analyze `details=Celebrities,Landmarks` put matches under categories[].detail.
    details: frozenset[Feature] = frozenset()


@dataclass(slots=True)
class VisionContext:
    """What stages share: the picture (RGB, HxWx3 uint8), the request, the result so far, and scratch values one
    stage leaves for another (e.g. the classifier's raw label scores for categories and captions)."""

    rgb: np.ndarray
    request: VisionRequest
    result: ImageAnalysis
    settings: VisionSettings
    wanted: frozenset[Feature]
    scratch: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class Stage:
    name: str
    produces: frozenset[Feature]
    run: Callable[[VisionContext], None]


def _stages() -> list[Stage]:
    from . import adult, captions, categories, color, crops, faces, gallery, imagetype, objects, tags, text

    def s(name: str, run: Callable[[VisionContext], None], *produces: Feature) -> Stage:
        return Stage(name, frozenset(produces), run)

    return [
        s("read", text.run_read, Feature.READ),
        s("faces", faces.run_faces, Feature.FACES),
        s("tags", tags.run_tags, Feature.TAGS),
        s("objects", objects.run_objects, Feature.OBJECTS),
        s("people", objects.run_people, Feature.PEOPLE),
        s("adult", adult.run_adult, Feature.ADULT),
        s("color", color.run_color, Feature.COLOR),
        s("image_type", imagetype.run_image_type, Feature.IMAGE_TYPE),
        s("celebrities", gallery.run_celebrities, Feature.CELEBRITIES),
        s("landmarks", gallery.run_landmarks, Feature.LANDMARKS),
        s("categories", categories.run_categories, Feature.CATEGORIES),
        s("captions", captions.run_captions, Feature.CAPTION),
        s("dense_captions", captions.run_dense_captions, Feature.DENSE_CAPTIONS),
        s("brands", text.run_brands, Feature.BRANDS),
        s("smart_crops", crops.run_smart_crops, Feature.SMART_CROPS),
        s("area_of_interest", crops.run_area_of_interest, Feature.AREA_OF_INTEREST),
    ]


def analyze_image(
    rgb: np.ndarray, fmt: str, request: VisionRequest, settings: VisionSettings | None = None
) -> ImageAnalysis:
    """Run every stage the request needs, in order, on one decoded picture."""
    h, w = rgb.shape[:2]
    wanted = closure(request.features | request.details)
    ctx = VisionContext(rgb, request, ImageAnalysis(w, h, fmt), settings or VisionSettings(), wanted)
    for stage in _stages():
        if stage.produces & wanted:
            stage.run(ctx)
    return ctx.result
