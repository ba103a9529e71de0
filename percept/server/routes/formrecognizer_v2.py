"""Form Recognizer v2.0 and v2.1 layout (also under the ``v2.1-preview.N`` paths old scripts post to)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from ...errors import InvalidRequest
from ...serializers.formrecognizer_v2 import failed_result, layout_result
from .. import deps
from ..deps import ServicesDep, V2Version
from ..errors import fr2_operation_error
from ..ids import ResultId
from ..operations import ReadJob
from ..responses import FastJSONResponse as JSONResponse
from ..store import FAILED, SUCCEEDED

LAYOUT = "layout"  # the operation's model id


router = APIRouter(
    prefix="/formrecognizer/{path_version}", dependencies=deps.V2_DEPENDENCIES, tags=["formrecognizer v2"]
)


@router.post("/layout/analyze", status_code=202, response_class=Response)
async def analyze_layout(
    request: Request,
    services: ServicesDep,
    path_version: str,
    version: V2Version,
    pages: str | None = None,
    language: str | None = None,
    reading_order: str | None = None,
) -> Response:
    order = request.query_params.get("readingOrder", reading_order)
    if order not in (None, "basic", "natural"):
        raise InvalidRequest("readingOrder must be basic or natural.")
    if version == "2.0" and pages:
        raise InvalidRequest("The pages parameter is available from v2.1.")
    options: dict[str, Any] = {"layout": True}
    if language:  # the engine maps the hint to its own languages (percept.engines)
        options["language"] = language
    job = ReadJob(pages=pages, version=version, options=options)
    op = await deps.accept_document(request, services, model_id=LAYOUT, job=job)
    location = f"{deps.base_url(request)}formrecognizer/{path_version}/layout/analyzeResults/{op.id}"
    return deps.accepted(services, location)


@router.get("/layout/analyzeResults/{result_id}")
async def layout_analyze_result(services: ServicesDep, result_id: ResultId) -> JSONResponse:
    op = await deps.get_operation(services, result_id, LAYOUT)
    body = deps.operation_status(op)
    if op.status == SUCCEEDED:
        doc = await deps.load_document(services, op)
        body["analyzeResult"] = layout_result(doc, op.job(ReadJob).version)
    elif op.status == FAILED and op.error:
        body["analyzeResult"] = failed_result(op.job(ReadJob).version, fr2_operation_error(op.error))
    return JSONResponse(body, headers=deps.poll_headers(services, op))
