"""Image Analysis 4.0 (``2023-10-01``) ``ImageAnalysisResult`` from one :class:`~percept.vision.model.ImageAnalysis`,
and its azure-core error body.

Only the requested features' results appear. Coordinates are ints, as the SDK types them; ``read`` lines go
into one block, as the service answers a single picture.
"""

from __future__ import annotations

from typing import Any

from ..vision.features import Feature
from ..vision.model import Box, ImageAnalysis

API_VERSION = "2023-10-01"
MODEL_VERSION = "2023-10-01"


def box(b: Box) -> dict[str, int]:
    return {"x": b.x, "y": b.y, "w": b.w, "h": b.h}


def _polygon(points: tuple[tuple[float, float], ...]) -> list[dict[str, int]]:
    return [{"x": round(x), "y": round(y)} for x, y in points]


def result_body(result: ImageAnalysis, asked: frozenset[Feature]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "modelVersion": MODEL_VERSION,
        "metadata": {"width": result.width, "height": result.height},
    }
    if Feature.CAPTION in asked:
        best = max(result.captions or [], key=lambda c: c.confidence, default=None)
        if best is not None:
            body["captionResult"] = {"text": best.text, "confidence": best.confidence}
    if Feature.DENSE_CAPTIONS in asked:
        body["denseCaptionsResult"] = {
            "values": [
                {"text": c.text, "confidence": c.confidence, "boundingBox": box(c.box or _whole(result))}
                for c in result.dense_captions or []
            ]
        }
    if Feature.TAGS in asked:
        body["tagsResult"] = {"values": [{"name": t.name, "confidence": t.confidence} for t in result.tags or []]}
    if Feature.OBJECTS in asked:
        body["objectsResult"] = {
            "values": [
                {"boundingBox": box(o.box), "tags": [{"name": o.name, "confidence": o.confidence}]}
                for o in result.objects or []
            ]
        }
    if Feature.PEOPLE in asked:
        body["peopleResult"] = {
            "values": [{"boundingBox": box(p.box), "confidence": p.confidence} for p in result.people or []]
        }
    if Feature.SMART_CROPS in asked:
        body["smartCropsResult"] = {
            "values": [{"aspectRatio": c.aspect_ratio, "boundingBox": box(c.box)} for c in result.smart_crops or []]
        }
    if Feature.READ in asked:
        lines = [
            {
                "text": line.text,
                "boundingPolygon": _polygon(line.polygon),
                "words": [
                    {"text": w.text, "boundingPolygon": _polygon(w.polygon), "confidence": w.confidence}
                    for w in line.words
                ],
            }
            for line in result.read or []
        ]
        body["readResult"] = {"blocks": [{"lines": lines}] if lines else []}
    return body


def _whole(result: ImageAnalysis) -> Box:
    return Box(0, 0, result.width, result.height)


def error_body(outer: str, inner: str, message: str) -> dict[str, Any]:
    """``{"error": {"code", "message", "innererror"?}}`` (azure-core's ErrorResponse)."""
    error: dict[str, Any] = {"code": outer, "message": message}
    if inner != outer:
        error["innererror"] = {"code": inner, "message": message}
    return {"error": error}
