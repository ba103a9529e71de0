"""Form Recognizer v2.0 and v2.1 layout (also under the ``v2.1-preview.N`` paths old scripts post to)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from ...errors import InvalidRequest, NotFound
from ...ocr.languages import tesseract_languages
from ...serializers.formrecognizer_v2 import failed_result, layout_result
from ..deps import (
    ServicesDep,
    accept_document,
    base_url,
    get_operation,
    load_document,
    operation_status,
    poll_headers,
    require_key,
)
from ..ids import ResultId
from ..responses import FastJSONResponse as JSONResponse
from ..store import FAILED, SUCCEEDED

PATH_VERSIONS = {
    "v2.0": "2.0",
    "v2.1": "2.1",
    "v2.1-preview.1": "2.1",
    "v2.1-preview.2": "2.1",
    "v2.1-preview.3": "2.1",
}
LAYOUT = "layout"  # the operation's model id

router = APIRouter(
    prefix="/formrecognizer/{path_version}", dependencies=[Depends(require_key)], tags=["formrecognizer v2"]
)


def api_version(path_version: str) -> str:
    if path_version not in PATH_VERSIONS:
        raise NotFound(f"Resource not found: /formrecognizer/{path_version} is not an API version.")
    return PATH_VERSIONS[path_version]


@router.post("/layout/analyze", status_code=202, response_class=Response)
async def analyze_layout(
    request: Request,
    services: ServicesDep,
    path_version: str,
    pages: str | None = None,
    language: str | None = None,
    reading_order: str | None = None,
) -> Response:
    version = api_version(path_version)
    order = request.query_params.get("readingOrder", reading_order)
    if order not in (None, "basic", "natural"):
        raise InvalidRequest("readingOrder must be basic or natural.")
    if version == "2.0" and pages:
        raise InvalidRequest("The pages parameter is available from v2.1.")
    options: dict[str, Any] = {"layout": True}
    pack = tesseract_languages(language)
    if pack:
        options["ocr_languages"] = pack
    params = {"pages": pages, "version": version, "options": options}
    op = await accept_document(request, services, model_id=LAYOUT, params=params)
    location = f"{base_url(request)}formrecognizer/{path_version}/layout/analyzeResults/{op.id}"
    headers = {"Operation-Location": location, "Retry-After": str(services.settings.retry_after)}
    return Response(status_code=202, headers=headers)


@router.get("/layout/analyzeResults/{result_id}")
async def layout_analyze_result(services: ServicesDep, path_version: str, result_id: ResultId) -> JSONResponse:
    api_version(path_version)
    op = await get_operation(services, result_id, LAYOUT)
    body = operation_status(op)
    if op.status == SUCCEEDED:
        doc = await load_document(services, op)
        body["analyzeResult"] = layout_result(doc, op.params["version"])
    elif op.status == FAILED and op.error:
        body["analyzeResult"] = failed_result(op.params["version"], op.error)
    return JSONResponse(body, headers=poll_headers(services, op))
