"""Image analysis request parameters, checked as Azure checks them: Computer Vision v1.0–v3.2 and Image Analysis 4.0.

Pure functions over the raw query strings (``None`` when a parameter is absent), so the routes (which read them
case-insensitively from the request) and ``percept analyze-image`` (from its options) give the same answers and
raise the same typed errors (:mod:`.image`) with the same texts.
"""

from __future__ import annotations

import re

from .analyze import VisionRequest
from .features import Feature
from .image import (
    BadArgument,
    InvalidDetails,
    InvalidThumbnailSize,
    NotSupportedLanguage,
    NotSupportedVisualFeature,
)

CV_FEATURES = {
    "categories": Feature.CATEGORIES,
    "tags": Feature.TAGS,
    "description": Feature.CAPTION,
    "faces": Feature.FACES,
    "imagetype": Feature.IMAGE_TYPE,
    "color": Feature.COLOR,
    "adult": Feature.ADULT,
    "objects": Feature.OBJECTS,
    "brands": Feature.BRANDS,
}
V2_1_ONLY = frozenset({Feature.OBJECTS, Feature.BRANDS})  # also English only
CV_LANGUAGES = ("en", "es", "ja", "pt", "zh")

IA_FEATURES = {
    "tags": Feature.TAGS,
    "caption": Feature.CAPTION,
    "densecaptions": Feature.DENSE_CAPTIONS,
    "objects": Feature.OBJECTS,
    "read": Feature.READ,
    "smartcrops": Feature.SMART_CROPS,
    "people": Feature.PEOPLE,
}
IA_NAMES = "tags, caption, denseCaptions, objects, read, smartCrops, people"
# Captions are English only; tags come in many languages, but ours are English names, so only English is offered.
IA_LANGUAGES = ("en",)

_MODEL_VERSION = re.compile(r"^(latest|\d{4}-\d{2}-\d{2})(-preview)?$")
CV_MODEL_VERSIONS = ("latest", "2021-04-01", "2021-05-01")


def older(version: str) -> bool:
    """v1.0 and v2.0: before v2.1 added objects, brands, detect, areaOfInterest and descriptionExclude."""
    return version in ("v1.0", "v2.0")


def csv(value: str | None) -> list[str]:
    """A comma-separated list, blanks dropped."""
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def language(value: str | None, allowed: tuple[str, ...] = CV_LANGUAGES) -> str:
    """``language``, English when absent."""
    lang = value or "en"
    if lang not in allowed:
        raise NotSupportedLanguage(f"The language '{lang}' is not supported; use one of {', '.join(allowed)}.")
    return lang


def flag(name: str, value: str | None) -> bool:
    """A ``true``/``false`` parameter (any case), false when absent."""
    raw = (value or "false").lower()
    if raw not in ("true", "false"):
        raise BadArgument(f"{name} '{raw}' is not valid: use true or false.")
    return raw == "true"


def model_version(value: str | None, known: tuple[str, ...] = CV_MODEL_VERSIONS) -> None:
    """``model-version``, where given: ``latest`` or a model's date (the SDKs always send ``latest``)."""
    if value is None:
        return
    if not _MODEL_VERSION.match(value) or value.removesuffix("-preview") not in known:
        raise BadArgument(f"The model-version '{value}' is not valid; use one of {', '.join(known)}.")


# ---- Computer Vision v1.0–v3.2 --------------------------------------------------------------------------------


def visual_features(version: str, value: str | None) -> frozenset[Feature]:
    """``visualFeatures``, case-insensitively; Categories when absent, as the v1.0 contract says."""
    names = csv(value)
    if not names:
        return frozenset({Feature.CATEGORIES})
    out: set[Feature] = set()
    for name in names:
        feature = CV_FEATURES.get(name.lower())
        if feature is None or (feature in V2_1_ONLY and older(version)):
            raise NotSupportedVisualFeature(f"Specified feature type is not valid: '{name}'.")
        out.add(feature)
    return frozenset(out)


def details(version: str, value: str | None) -> frozenset[Feature]:
    """``details``: Celebrities and (from v2.0) Landmarks."""
    allowed = {"celebrities": Feature.CELEBRITIES, "landmarks": Feature.LANDMARKS}
    if version == "v1.0":
        allowed.pop("landmarks")
    out: set[Feature] = set()
    for name in csv(value):
        if name.lower() not in allowed:
            raise InvalidDetails(f"Specified details are not valid: '{name}'.")
        out.add(allowed[name.lower()])
    return frozenset(out)


def description_exclude(version: str, value: str | None) -> None:
    """``descriptionExclude`` (v2.1 on; older versions ignore it): Celebrities or Landmarks."""
    if older(version):
        return
    for name in csv(value):
        if name.lower() not in ("celebrities", "landmarks"):
            raise BadArgument(f"descriptionExclude '{name}' is not valid; use Celebrities or Landmarks.")


def max_candidates(value: str | None) -> int:
    raw = value or "1"
    if not raw.isdigit() or int(raw) < 1:
        raise BadArgument(f"maxCandidates '{raw}' is not valid: it must be a positive integer.")
    return int(raw)


def thumbnail_size(version: str, name: str, value: str | None) -> int:
    """A thumbnail ``width`` or ``height``, 1..1024 (v1.0 and v2.0 call a bad one BadArgument)."""
    error = BadArgument if older(version) else InvalidThumbnailSize
    if value is None or not value.strip().isdigit() or not 1 <= int(value) <= 1024:
        raise error(f"The thumbnail {name} '{value}' is not valid: it must be between 1 and 1024.")
    return int(value)


def cv_analyze(
    version: str,
    features: str | None,
    more: str | None,
    lang: str | None,
    exclude: str | None = None,
) -> VisionRequest:
    """``/analyze``'s ``visualFeatures``, ``details``, ``language`` and ``descriptionExclude``, in Azure's order."""
    wanted = visual_features(version, features)
    asked = details(version, more)
    lang = language(lang)
    if lang != "en" and wanted & V2_1_ONLY:
        raise NotSupportedLanguage("Objects and Brands are only available in English.")
    description_exclude(version, exclude)
    return VisionRequest(wanted, language=lang, details=asked)


# ---- Image Analysis 4.0 ---------------------------------------------------------------------------------------


def ia_features(value: str | None) -> frozenset[Feature]:
    """4.0's ``features``: required, case-insensitive."""
    names = csv(value)
    if not names:
        raise NotSupportedVisualFeature("At least one visual feature must be specified in 'features'.")
    out: set[Feature] = set()
    for name in names:
        feature = IA_FEATURES.get(name.lower())
        if feature is None:
            raise NotSupportedVisualFeature(f"The feature '{name}' is not supported; use {IA_NAMES}.")
        out.add(feature)
    return frozenset(out)


def aspect_ratios(value: str | None) -> tuple[float, ...]:
    """``smartcrops-aspect-ratios``: each 0.75..1.8, kept to two decimals."""
    if value is None:
        return ()
    out: list[float] = []
    for item in value.split(","):
        try:
            ratio = float(item)
        except ValueError:
            ratio = float("nan")
        if not 0.75 <= ratio <= 1.8:
            raise BadArgument(f"The aspect ratio '{item.strip()}' is not valid: it must be between 0.75 and 1.8.")
        out.append(round(ratio, 2))
    return tuple(out)


def ia_analyze(
    features: str | None, lang: str | None, ratios: str | None = None, neutral: str | None = None
) -> VisionRequest:
    """4.0's ``features``, ``language``, ``smartcrops-aspect-ratios`` and ``gender-neutral-caption``, in order."""
    wanted = ia_features(features)
    lang = language(lang, IA_LANGUAGES)
    crop_ratios = aspect_ratios(ratios)
    gender_neutral = flag("gender-neutral-caption", neutral)
    return VisionRequest(wanted, language=lang, gender_neutral=gender_neutral, crop_ratios=crop_ratios)
