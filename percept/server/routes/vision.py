"""Computer Vision v1.0–v3.2 image analysis: analyze, describe, tag, detect, domain models, thumbnails and areas
of interest, under ``/vision/{version}`` (the read/OCR routes of the same prefixes are in :mod:`.computervision`).

Each request is answered synchronously: the picture is read here (raw bytes, chunked or not; a JSON ``{"url"}``
fetched through the SSRF-guarded client; a multipart form's first part), then decoded and analyzed in the vision
worker pool. Query parameters are checked by :mod:`percept.vision.params`, in the order Azure checks them, with
each version's codes; errors are rendered in each version's envelope by :func:`render_cv_error`.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from ...errors import PerceptError
from ...serializers import vision as ser
from ...vision import params
from ...vision.analyze import VisionRequest
from ...vision.features import Feature
from ...vision.image import CV_LIMITS, InvalidModel
from ..deps import require_key
from ..errors import error_body as shared_error_body
from ..responses import FastJSONResponse as JSONResponse
from ..vision_http import error_route, get_vision, query, read_image, request_id, retry_headers, vision_lifespan

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


# ---- routes ---------------------------------------------------------------------------------------------------


def _language(request: Request) -> str:
    return params.language(query(request, "language"))


async def _picture(request: Request) -> bytes:
    """The request's picture, read once ``model-version`` (the last parameter checked) is valid."""
    params.model_version(query(request, "model-version"))
    return await read_image(request, CV_LIMITS)


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

    async def analyze(request: Request, wanted: VisionRequest) -> tuple[Any, str]:
        data = await _picture(request)
        result = await get_vision(request).analyze(data, CV_LIMITS, wanted)
        return result, request_id(request)

    @router.post("/analyze")
    async def analyze_image(request: Request) -> JSONResponse:
        q = partial(query, request)
        wanted = params.cv_analyze(version, q("visualFeatures"), q("details"), q("language"), q("descriptionExclude"))
        result, rid = await analyze(request, wanted)
        return JSONResponse(ser.analyze_body(version, result, rid, wanted.features))

    @router.post("/describe")
    async def describe(request: Request) -> JSONResponse:
        count = params.max_candidates(query(request, "maxCandidates"))
        lang = _language(request)
        params.description_exclude(version, query(request, "descriptionExclude"))
        wanted = VisionRequest(frozenset({Feature.CAPTION}), language=lang, max_candidates=count)
        result, rid = await analyze(request, wanted)
        return JSONResponse(ser.describe_body(version, result, rid, count))

    @router.post("/tag")
    async def tag(request: Request) -> JSONResponse:
        lang = _language(request)
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
        lang = _language(request)
        feature = Feature.CELEBRITIES if name == "celebrities" else Feature.LANDMARKS
        result, rid = await analyze(request, VisionRequest(frozenset({feature}), language=lang))
        return JSONResponse(ser.domain_body(version, name, result, rid))

    @router.post("/generateThumbnail", response_class=Response)
    async def generate_thumbnail(request: Request) -> Response:
        width = params.thumbnail_size(version, "width", query(request, "width"))
        height = params.thumbnail_size(version, "height", query(request, "height"))
        smart = params.flag("smartCropping", query(request, "smartCropping"))
        data = await _picture(request)
        jpeg = await get_vision(request).thumbnail(data, CV_LIMITS, width, height, smart)
        return Response(jpeg, media_type="image/jpeg")

    if not params.older(version):  # v2.1 added detect and areaOfInterest

        @router.post("/detect")
        async def detect(request: Request) -> JSONResponse:
            result, rid = await analyze(request, VisionRequest(frozenset({Feature.OBJECTS})))
            return JSONResponse(ser.detect_body(version, result, rid))

        @router.post("/areaOfInterest")
        async def area_of_interest(request: Request) -> JSONResponse:
            data = await _picture(request)
            result = await get_vision(request).area_of_interest(data, CV_LIMITS)
            return JSONResponse(ser.area_body(version, result, request_id(request)))

    return router
