"""Form Recognizer 2022-08-31 / 2023-07-31 (``/formrecognizer``) and Document Intelligence 2024-11-30 /
2025-09-01 (``/documentintelligence``): analyze, poll, delete, model and resource info.

Both services share one shape; a router is made per service root with the versions it answers.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ...errors import OperationInProgress
from ...serializers.analyze_v3 import analyze_result
from .. import deps
from ..analyze_jobs import AnalyzeQueryDep, is_custom_model, read_job
from ..deps import ServicesDep
from ..errors import v3_operation_error
from ..ids import ModelId, ResultId
from ..operations import ReadJob
from ..responses import FastJSONResponse as JSONResponse
from ..store import FAILED, PENDING, SUCCEEDED
from ..versions import SERVICES, ApiVersionQuery, V3Version


def routers() -> list[APIRouter]:
    return [_router(root) for root in SERVICES]


def _router(root: str) -> APIRouter:
    router = APIRouter(prefix=f"/{root}", dependencies=deps.KEY_DEPENDENCIES, tags=[root])

    @router.post("/documentModels/{model_id}:analyze", status_code=202, response_class=Response)
    async def analyze(
        request: Request,
        services: ServicesDep,
        model_id: ModelId,
        v: V3Version,
        query: AnalyzeQueryDep,
    ) -> Response:
        custom = await is_custom_model(services, model_id, v)
        job = read_job(model_id, v, custom=custom, query=query)
        op = await deps.accept_document(request, services, model_id=model_id, job=job)
        location = f"{deps.base_url(request)}{root}/documentModels/{model_id}/analyzeResults/{op.id}?api-version={v}"
        return deps.accepted(services, location)

    @router.get("/documentModels/{model_id}/analyzeResults/{result_id}")
    async def analyze_result_get(
        services: ServicesDep, model_id: ModelId, result_id: ResultId, api_version: ApiVersionQuery = None
    ) -> JSONResponse:
        op = await deps.get_operation(services, result_id, model_id)
        body = deps.operation_status(op)
        if op.status == SUCCEEDED:
            doc = await deps.load_document(services, op)
            job = op.job(ReadJob)
            body["analyzeResult"] = analyze_result(
                doc, api_version=job.version, model_id=model_id, string_index_type=job.string_index_type
            )
        elif op.status == FAILED and op.error:
            body["error"] = v3_operation_error(op.error)
        return JSONResponse(body, headers=deps.poll_headers(services, op))

    @router.delete("/documentModels/{model_id}/analyzeResults/{result_id}", status_code=204, response_class=Response)
    async def analyze_result_delete(
        services: ServicesDep, model_id: ModelId, result_id: ResultId, api_version: ApiVersionQuery = None
    ) -> Response:
        op = await deps.get_operation(services, result_id, model_id)
        if op.status in PENDING:
            raise OperationInProgress("The operation is still running; delete its result once it has finished.")
        services.store.delete(result_id)
        return Response(status_code=204)

    return router
