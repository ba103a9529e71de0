"""Image Analysis 4.0: ``POST /computervision/imageanalysis:analyze?api-version=2023-10-01``.

The picture comes as raw bytes or a JSON ``{"url"}`` (read by :func:`.vision.read_image` under 4.0's limits);
``features`` is required. Errors are azure-core's ``{"error": {"code", "message", "innererror"}}``.
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Depends, Request, Response

from ...errors import InvalidRequest, PerceptError
from ...serializers import imageanalysis as ser
from ...vision import params
from ...vision.image import IA_LIMITS
from ..deps import require_key
from ..errors import error_body as shared_error_body
from ..responses import FastJSONResponse as JSONResponse
from ..vision_http import error_route, get_vision, query, read_image, request_id, retry_headers, vision_lifespan


class UnsupportedApiVersion(InvalidRequest, code="UnsupportedApiVersion"):
    """An ``api-version`` Image Analysis does not answer (or none)."""


def render_ia_error(request: Request, exc: PerceptError) -> Response:
    if exc.status == 401:
        return JSONResponse(shared_error_body("v3", "401", None, exc.message, request_id(request)), status_code=401)
    status = 400 if exc.status in (413, 415) else exc.status
    return JSONResponse(
        ser.error_body(exc.outer_code, exc.code, exc.message), status_code=status, headers=retry_headers(exc)
    )


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
    q = partial(query, request)
    wanted = params.ia_analyze(q("features"), q("language"), q("smartcrops-aspect-ratios"), q("gender-neutral-caption"))
    params.model_version(q("model-version"), ("latest", ser.MODEL_VERSION))
    data = await read_image(request, IA_LIMITS, multipart=False)
    result = await get_vision(request).analyze(data, IA_LIMITS, wanted)
    return JSONResponse(ser.result_body(result, wanted.features))
