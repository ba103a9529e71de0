"""Image Analysis 4.0: ``POST /computervision/imageanalysis:analyze?api-version=2023-10-01``.

The picture comes as raw bytes or a JSON ``{"url"}`` (read by :func:`.vision.read_image` under 4.0's limits);
``features`` is required. Errors are azure-core's ``{"error": {"code", "message", "innererror"}}``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from ...errors import InvalidRequest, PerceptError
from ...serializers import imageanalysis as ser
from ...vision.analyze import VisionRequest
from ...vision.features import Feature
from ...vision.image import IA_LIMITS, BadArgument, NotSupportedLanguage, NotSupportedVisualFeature
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

FEATURES = {
    "tags": Feature.TAGS,
    "caption": Feature.CAPTION,
    "densecaptions": Feature.DENSE_CAPTIONS,
    "objects": Feature.OBJECTS,
    "read": Feature.READ,
    "smartcrops": Feature.SMART_CROPS,
    "people": Feature.PEOPLE,
}
_NAMES = "tags, caption, denseCaptions, objects, read, smartCrops, people"
# Captions are English only; tags come in many languages, but ours are English names, so only English is offered.
LANGUAGES = ("en",)


class UnsupportedApiVersion(InvalidRequest, code="UnsupportedApiVersion"):
    """An ``api-version`` Image Analysis does not answer (or none)."""


def render_ia_error(request: Request, exc: PerceptError) -> Response:
    if exc.status == 401:
        return JSONResponse(shared_error_body("v3", "401", None, exc.message, request_id(request)), status_code=401)
    status = 400 if exc.status in (413, 415) else exc.status
    return JSONResponse(
        ser.error_body(exc.outer_code, exc.code, exc.message), status_code=status, headers=retry_headers(exc)
    )


def _features(request: Request) -> frozenset[Feature]:
    names = [n.strip() for n in (query(request, "features") or "").split(",") if n.strip()]
    if not names:
        raise NotSupportedVisualFeature("At least one visual feature must be specified in 'features'.")
    out: set[Feature] = set()
    for name in names:
        feature = FEATURES.get(name.lower())
        if feature is None:
            raise NotSupportedVisualFeature(f"The feature '{name}' is not supported; use {_NAMES}.")
        out.add(feature)
    return frozenset(out)


def _ratios(request: Request) -> tuple[float, ...]:
    raw = query(request, "smartcrops-aspect-ratios")
    if raw is None:
        return ()
    out: list[float] = []
    for item in raw.split(","):
        try:
            value = float(item)
        except ValueError:
            value = float("nan")
        if not 0.75 <= value <= 1.8:
            raise BadArgument(f"The aspect ratio '{item.strip()}' is not valid: it must be between 0.75 and 1.8.")
        out.append(round(value, 2))
    return tuple(out)


def _bool(request: Request, name: str) -> bool:
    raw = (query(request, name) or "false").lower()
    if raw not in ("true", "false"):
        raise BadArgument(f"{name} '{raw}' is not valid: use true or false.")
    return raw == "true"


router = APIRouter(
    prefix="/computervision",
    dependencies=[Depends(require_key)],
    tags=["image analysis 4.0"],
    route_class=error_route(render_ia_error),
    lifespan=vision_lifespan,
)


@router.post("/imageanalysis:analyze")
async def analyze(request: Request) -> JSONResponse:
    version = query(request, "api-version")
    if version != ser.API_VERSION:
        raise UnsupportedApiVersion(f"The api-version '{version or ''}' is not supported; use {ser.API_VERSION}.")
    features = _features(request)
    lang = query(request, "language") or "en"
    if lang not in LANGUAGES:
        raise NotSupportedLanguage(f"The language '{lang}' is not supported; use one of {', '.join(LANGUAGES)}.")
    ratios = _ratios(request)
    neutral = _bool(request, "gender-neutral-caption")
    check_model_version(request, ("latest", ser.MODEL_VERSION))
    data = await read_image(request, IA_LIMITS, multipart=False)
    wanted = VisionRequest(features, language=lang, gender_neutral=neutral, crop_ratios=ratios)
    result = await get_vision(request).analyze(data, IA_LIMITS, wanted)
    return JSONResponse(ser.result_body(result, features))
