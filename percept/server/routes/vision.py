"""Computer Vision v1.0–v3.2 image analysis: analyze, describe, tag, detect, domain models, thumbnails and areas
of interest, under ``/vision/{version}`` (the read/OCR routes of the same prefixes are in :mod:`.computervision`).

Each request is answered synchronously: the picture is read here (raw bytes, chunked or not; a JSON ``{"url"}``
fetched through the SSRF-guarded client; a multipart form's first part), then decoded and analyzed in the vision
worker pool. Query parameters are checked here, in the order Azure checks them, with each version's codes; errors
are rendered in each version's envelope by :class:`VisionRoute`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from ...errors import PerceptError
from ...serializers import vision as ser
from ...vision.analyze import VisionRequest
from ...vision.features import Feature
from ...vision.image import (
    CV_LIMITS,
    BadArgument,
    InvalidDetails,
    InvalidModel,
    InvalidThumbnailSize,
    NotSupportedLanguage,
    NotSupportedVisualFeature,
)
from ..deps import require_key
from ..errors import error_body as shared_error_body
from ..responses import FastJSONResponse as JSONResponse
from ..vision_http import (
    check_model_version,
    error_route,
    get_vision,
    query,
    read_image,
    request_id,
    retry_headers,
    vision_lifespan,
)

_VISUAL_FEATURES = {
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
_V2_1_ONLY = frozenset({Feature.OBJECTS, Feature.BRANDS})
LANGUAGES = ("en", "es", "ja", "pt", "zh")


# ---- errors ---------------------------------------------------------------------------------------------------


def render_cv_error(request: Request, exc: PerceptError) -> Response:
    """``exc`` in the envelope of the version the path names (v1.0–v2.1 flat, v3.x wrapped)."""
    rid = request_id(request)
    version = request.url.path[len(request.scope.get("root_path", "")) :].split("/")[2]
    if exc.status == 401:
        return JSONResponse(shared_error_body("cv", "401", None, exc.message, rid), status_code=401)
    status = 400 if exc.status in (413, 415) else exc.status
    body = ser.error_body(version, exc.outer_code, exc.code, exc.message, rid)
    return JSONResponse(body, status_code=status, headers=retry_headers(exc))


# ---- query parameters -----------------------------------------------------------------------------------------


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def visual_features(version: str, value: str | None) -> frozenset[Feature]:
    """``visualFeatures``, case-insensitively; Categories when absent, as the v1.0 contract says."""
    names = _csv(value)
    if not names:
        return frozenset({Feature.CATEGORIES})
    out: set[Feature] = set()
    for name in names:
        feature = _VISUAL_FEATURES.get(name.lower())
        if feature is None or (feature in _V2_1_ONLY and version in ("v1.0", "v2.0")):
            raise NotSupportedVisualFeature(f"Specified feature type is not valid: '{name}'.")
        out.add(feature)
    return frozenset(out)


def details(version: str, value: str | None) -> frozenset[Feature]:
    allowed = {"celebrities": Feature.CELEBRITIES, "landmarks": Feature.LANDMARKS}
    if version == "v1.0":
        allowed.pop("landmarks")
    out: set[Feature] = set()
    for name in _csv(value):
        if name.lower() not in allowed:
            raise InvalidDetails(f"Specified details are not valid: '{name}'.")
        out.add(allowed[name.lower()])
    return frozenset(out)


def language(request: Request) -> str:
    lang = query(request, "language") or "en"
    if lang not in LANGUAGES:
        raise NotSupportedLanguage(f"The language '{lang}' is not supported; use one of {', '.join(LANGUAGES)}.")
    return lang


def description_exclude(request: Request) -> None:
    for name in _csv(query(request, "descriptionExclude")):
        if name.lower() not in ("celebrities", "landmarks"):
            raise BadArgument(f"descriptionExclude '{name}' is not valid; use Celebrities or Landmarks.")


def max_candidates(request: Request) -> int:
    raw = query(request, "maxCandidates") or "1"
    if not raw.isdigit() or int(raw) < 1:
        raise BadArgument(f"maxCandidates '{raw}' is not valid: it must be a positive integer.")
    return int(raw)


def thumbnail_size(request: Request, name: str, version: str) -> int:
    raw = query(request, name)
    error = InvalidThumbnailSize if version not in ("v1.0", "v2.0") else BadArgument
    if raw is None or not raw.strip().isdigit() or not 1 <= int(raw) <= 1024:
        raise error(f"The thumbnail {name} '{raw}' is not valid: it must be between 1 and 1024.")
    return int(raw)


def _flag(request: Request, name: str) -> bool:
    raw = (query(request, name) or "false").lower()
    if raw not in ("true", "false"):
        raise BadArgument(f"{name} '{raw}' is not valid: use true or false.")
    return raw == "true"


# ---- routes ---------------------------------------------------------------------------------------------------


def routers() -> list[APIRouter]:
    return [_router(v, lifespan=(i == 0)) for i, v in enumerate(ser.VERSIONS)]


def _router(version: str, *, lifespan: bool) -> APIRouter:
    router = APIRouter(
        prefix=f"/vision/{version}",
        dependencies=[Depends(require_key)],
        tags=[f"vision {version}"],
        route_class=error_route(render_cv_error),
        lifespan=vision_lifespan if lifespan else None,
    )
    newer = version not in ("v1.0", "v2.0")  # v2.1 added detect, areaOfInterest and descriptionExclude

    async def analyze(request: Request, wanted: VisionRequest) -> tuple[Any, str]:
        check_model_version(request)
        data = await read_image(request, CV_LIMITS)
        result = await get_vision(request).analyze(data, CV_LIMITS, wanted)
        return result, request_id(request)

    @router.post("/analyze")
    async def analyze_image(request: Request) -> JSONResponse:
        features = visual_features(version, query(request, "visualFeatures"))
        more = details(version, query(request, "details"))
        lang = language(request)
        if lang != "en" and features & _V2_1_ONLY:
            raise NotSupportedLanguage("Objects and Brands are only available in English.")
        if newer:
            description_exclude(request)
        result, rid = await analyze(request, VisionRequest(features, language=lang, details=more))
        return JSONResponse(ser.analyze_body(version, result, rid, features))

    @router.post("/describe")
    async def describe(request: Request) -> JSONResponse:
        count = max_candidates(request)
        lang = language(request)
        if newer:
            description_exclude(request)
        wanted = VisionRequest(frozenset({Feature.CAPTION}), language=lang, max_candidates=count)
        result, rid = await analyze(request, wanted)
        return JSONResponse(ser.describe_body(version, result, rid, count))

    @router.post("/tag")
    async def tag(request: Request) -> JSONResponse:
        lang = language(request)
        result, rid = await analyze(request, VisionRequest(frozenset({Feature.TAGS}), language=lang))
        return JSONResponse(ser.tag_body(version, result, rid))

    @router.get("/models")
    async def list_models() -> JSONResponse:
        return JSONResponse(ser.models_body())

    @router.post("/models/{model}/analyze")
    async def analyze_by_domain(request: Request, model: str) -> JSONResponse:
        name = model.lower()
        if name not in ser.DOMAIN_MODELS or (version == "v1.0" and name not in ser.DOMAIN_MODELS):
            raise InvalidModel(f"The model '{model}' was not found; use celebrities or landmarks.")
        lang = language(request)
        feature = Feature.CELEBRITIES if name == "celebrities" else Feature.LANDMARKS
        result, rid = await analyze(request, VisionRequest(frozenset({feature}), language=lang))
        return JSONResponse(ser.domain_body(version, name, result, rid))

    @router.post("/generateThumbnail", response_class=Response)
    async def generate_thumbnail(request: Request) -> Response:
        width = thumbnail_size(request, "width", version)
        height = thumbnail_size(request, "height", version)
        smart = _flag(request, "smartCropping")
        check_model_version(request)
        data = await read_image(request, CV_LIMITS)
        jpeg = await get_vision(request).thumbnail(data, CV_LIMITS, width, height, smart)
        return Response(jpeg, media_type="image/jpeg")

    if newer:

        @router.post("/detect")
        async def detect(request: Request) -> JSONResponse:
            result, rid = await analyze(request, VisionRequest(frozenset({Feature.OBJECTS})))
            return JSONResponse(ser.detect_body(version, result, rid))

        @router.post("/areaOfInterest")
        async def area_of_interest(request: Request) -> JSONResponse:
            check_model_version(request)
            data = await read_image(request, CV_LIMITS)
            result = await get_vision(request).area_of_interest(data, CV_LIMITS)
            return JSONResponse(ser.area_body(version, result, request_id(request)))

    return router
