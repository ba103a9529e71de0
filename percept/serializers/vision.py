"""Computer Vision v1.0–v3.2 image analysis bodies (analyze, describe, tag, detect, domain models, area of
interest) and error envelopes, from one :class:`~percept.vision.model.ImageAnalysis`.

What differs by version, per each version's Swagger: v1.0 tags have no ``hint`` and its category details only
celebrities; v1.0/v2.0 adult results have no gore; objects and brands start with v2.1; ``modelVersion`` with v3.
Errors: v1.0–v2.1 answer a flat ``{"code", "requestId", "message"}`` with the specific code; v3.x wrap it,
``{"error": {"code": "InvalidRequest", "message", "innererror": {"code", "message"}}, "requestId"}``.
"""

from __future__ import annotations

from typing import Any

from ..vision.features import Feature
from ..vision.model import (
    Adult,
    Box,
    Caption,
    Category,
    Celebrity,
    ColorInfo,
    DetectedObject,
    Face,
    ImageAnalysis,
    Landmark,
    ObjectParent,
    Tag,
)

V3 = ("v3.0", "v3.1", "v3.2")
VERSIONS = ("v1.0", "v2.0", "v2.1", *V3)
MODEL_VERSION = "2021-05-01"
DOMAIN_MODELS = {"celebrities": ["people_"], "landmarks": ["outdoor_", "building_"]}
# v1.0–v3.2 have no InvalidImageDimension: a picture too small or too large is InvalidImageSize.
_CV_CODES = {"InvalidImageDimension": "InvalidImageSize", "InvalidModel": "NotFound"}


def rect(box: Box) -> dict[str, int]:
    return {"x": box.x, "y": box.y, "w": box.w, "h": box.h}


def face_rect(box: Box) -> dict[str, int]:
    return {"left": box.x, "top": box.y, "width": box.w, "height": box.h}


def envelope(version: str, result: ImageAnalysis, request_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` plus the fields every image answer ends with."""
    body["requestId"] = request_id
    body["metadata"] = {"width": result.width, "height": result.height, "format": result.format}
    if version in V3:
        body["modelVersion"] = MODEL_VERSION
    return body


def tag(version: str, t: Tag) -> dict[str, Any]:
    out: dict[str, Any] = {"name": t.name, "confidence": t.confidence}
    if t.hint and version != "v1.0":
        out["hint"] = t.hint
    return out


def tags(version: str, items: list[Tag] | None) -> list[dict[str, Any]]:
    return [tag(version, t) for t in items or []]


def description(result: ImageAnalysis, max_candidates: int = 1) -> dict[str, Any]:
    captions: list[Caption] = sorted(result.captions or [], key=lambda c: -c.confidence)[:max_candidates]
    return {
        "tags": [t.name for t in result.tags or []],
        "captions": [{"text": c.text, "confidence": c.confidence} for c in captions],
    }


def face(f: Face) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if f.age is not None:
        out["age"] = f.age
    if f.gender is not None:
        out["gender"] = f.gender
    out["faceRectangle"] = face_rect(f.box)
    return out


def celebrity(c: Celebrity) -> dict[str, Any]:
    return {"name": c.name, "confidence": c.confidence, "faceRectangle": face_rect(c.box)}


def landmark(m: Landmark) -> dict[str, Any]:
    return {"name": m.name, "confidence": m.confidence}


def category(version: str, c: Category) -> dict[str, Any]:
    out: dict[str, Any] = {"name": c.name, "score": c.score}
    detail: dict[str, Any] = {}
    if c.celebrities is not None:
        detail["celebrities"] = [celebrity(x) for x in c.celebrities]
    if c.landmarks is not None and version != "v1.0":
        detail["landmarks"] = [landmark(x) for x in c.landmarks]
    if detail:
        out["detail"] = detail
    return out


def parent(p: ObjectParent) -> dict[str, Any]:
    out: dict[str, Any] = {"object": p.name, "confidence": p.confidence}
    if p.parent is not None:
        out["parent"] = parent(p.parent)
    return out


def detected(o: DetectedObject) -> dict[str, Any]:
    out: dict[str, Any] = {"rectangle": rect(o.box), "object": o.name, "confidence": o.confidence}
    if o.parent is not None:
        out["parent"] = parent(o.parent)
    return out


def adult(version: str, a: Adult) -> dict[str, Any]:
    if version in ("v1.0", "v2.0"):
        return {
            "isAdultContent": a.is_adult,
            "isRacyContent": a.is_racy,
            "adultScore": a.adult_score,
            "racyScore": a.racy_score,
        }
    return {
        "isAdultContent": a.is_adult,
        "isRacyContent": a.is_racy,
        "isGoryContent": a.is_gory,
        "adultScore": a.adult_score,
        "racyScore": a.racy_score,
        "goreScore": a.gore_score,
    }


def color(c: ColorInfo) -> dict[str, Any]:
    return {
        "dominantColorForeground": c.foreground,
        "dominantColorBackground": c.background,
        "dominantColors": list(c.dominant),
        "accentColor": c.accent,
        "isBWImg": c.is_bw,
    }


def analyze_body(
    version: str, result: ImageAnalysis, request_id: str, asked: frozenset[Feature], max_candidates: int = 1
) -> dict[str, Any]:
    """``ImageAnalysis`` with the features ``asked`` for only: stages also fill what those are built from (a
    caption's tags and faces), which the caller did not ask to see."""
    body: dict[str, Any] = {}
    if Feature.CATEGORIES in asked:
        body["categories"] = [category(version, c) for c in result.categories or []]
    if Feature.ADULT in asked and result.adult is not None:
        body["adult"] = adult(version, result.adult)
    if Feature.COLOR in asked and result.color is not None:
        body["color"] = color(result.color)
    if Feature.IMAGE_TYPE in asked and result.image_type is not None:
        body["imageType"] = {
            "clipArtType": result.image_type.clip_art,
            "lineDrawingType": result.image_type.line_drawing,
        }
    if Feature.TAGS in asked:
        body["tags"] = tags(version, result.tags)
    if Feature.CAPTION in asked:
        body["description"] = description(result, max_candidates)
    if Feature.FACES in asked:
        body["faces"] = [face(f) for f in result.faces or []]
    if Feature.OBJECTS in asked:
        body["objects"] = [detected(o) for o in result.objects or []]
    if Feature.BRANDS in asked:
        body["brands"] = [
            {"name": b.name, "confidence": b.confidence, "rectangle": rect(b.box)} for b in result.brands or []
        ]
    return envelope(version, result, request_id, body)


def describe_body(version: str, result: ImageAnalysis, request_id: str, max_candidates: int) -> dict[str, Any]:
    return envelope(version, result, request_id, {"description": description(result, max_candidates)})


def tag_body(version: str, result: ImageAnalysis, request_id: str) -> dict[str, Any]:
    return envelope(version, result, request_id, {"tags": tags(version, result.tags)})


def detect_body(version: str, result: ImageAnalysis, request_id: str) -> dict[str, Any]:
    return envelope(version, result, request_id, {"objects": [detected(o) for o in result.objects or []]})


def domain_body(version: str, model: str, result: ImageAnalysis, request_id: str) -> dict[str, Any]:
    if model == "celebrities":
        found: dict[str, Any] = {"celebrities": [celebrity(c) for c in result.celebrities or []]}
    else:
        found = {"landmarks": [landmark(m) for m in result.landmarks or []]}
    return envelope(version, result, request_id, {"result": found})


def area_body(version: str, result: ImageAnalysis, request_id: str) -> dict[str, Any]:
    box = result.area_of_interest or Box(0, 0, result.width, result.height)
    return envelope(version, result, request_id, {"areaOfInterest": rect(box)})


def models_body() -> dict[str, Any]:
    return {"models": [{"name": name, "categories": cats} for name, cats in DOMAIN_MODELS.items()]}


def error_body(version: str, outer: str, inner: str, message: str, request_id: str) -> dict[str, Any]:
    """The version's error envelope for an error whose outer and specific codes are ``outer`` and ``inner``."""
    code = _CV_CODES.get(inner, inner)
    if version in V3:
        error: dict[str, Any] = {"code": outer, "message": message}
        if code != outer:
            error["innererror"] = {"code": code, "message": message}
        return {"error": error, "requestId": request_id}
    return {"code": code, "requestId": request_id, "message": message}
