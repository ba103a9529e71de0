"""Form Recognizer 2022-08-31 / 2023-07-31 (``/formrecognizer``) and Document Intelligence 2024-11-30 /
2025-09-01 (``/documentintelligence``): analyze, poll, delete, model and resource info.

Both services share one shape; a router is made per service root with the versions it answers.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ...custom.registry import READY
from ...errors import InvalidRequest, NotFound, OperationInProgress
from ...serializers.analyze_v3 import analyze_result
from ...serializers.offsets import STRING_INDEX_TYPES
from .. import deps
from ..deps import ServicesDep
from ..errors import v3_operation_error
from ..ids import ModelId, ResultId
from ..operations import ReadJob
from ..responses import FastJSONResponse as JSONResponse
from ..store import FAILED, PENDING, SUCCEEDED
from ..versions import SERVICES, VERSION_MODELS, ApiVersionQuery, V3Version

FEATURES = ("ocrHighResolution", "languages", "barcodes", "formulas", "keyValuePairs", "styleFont", "queryFields")


def routers() -> list[APIRouter]:
    return [_router(root) for root in SERVICES]


def _router(root: str) -> APIRouter:
    router = APIRouter(prefix=f"/{root}", dependencies=deps.KEY_DEPENDENCIES, tags=[root])

    async def model(services: ServicesDep, model_id: str, v: str) -> bool:
        """Check the model exists for this version; True for a custom model."""
        if model_id in VERSION_MODELS[v]:
            return False
        rec = await run_in_threadpool(services.models.get, model_id)
        if rec is None or rec.status != READY:
            raise NotFound(f"Model '{model_id}' was not found.")
        return True

    @router.post("/documentModels/{model_id}:analyze", status_code=202, response_class=Response)
    async def analyze(
        request: Request,
        services: ServicesDep,
        model_id: ModelId,
        v: V3Version,
        pages: str | None = None,
        locale: str | None = None,
        string_index_type: Annotated[str, Query(alias="stringIndexType")] = "textElements",
        features: str | None = None,
        output_content_format: Annotated[str | None, Query(alias="outputContentFormat")] = None,
    ) -> Response:
        custom = await model(services, model_id, v)
        if string_index_type not in STRING_INDEX_TYPES:
            raise InvalidRequest(f"stringIndexType must be one of {', '.join(STRING_INDEX_TYPES)}.")
        wanted = [f.strip() for f in (features or "").split(",") if f.strip()]
        unknown = [f for f in wanted if f not in FEATURES]
        if unknown:
            raise InvalidRequest(f"Unknown feature '{unknown[0]}'; features are {', '.join(FEATURES)}.")
        layout = model_id != "prebuilt-read"
        if output_content_format not in (None, "text", "markdown"):
            raise InvalidRequest("outputContentFormat must be text or markdown.")
        if output_content_format == "markdown" and not layout:
            raise InvalidRequest("outputContentFormat=markdown needs prebuilt-layout; prebuilt-read returns text.")
        options: dict[str, Any] = {"layout": layout}
        if locale:  # the engine maps the hint to its own languages (percept.engines)
            options["language"] = locale
        job = ReadJob(
            pages=pages,
            version=v,
            string_index_type=string_index_type,
            content_format=output_content_format or "text",
            key_value_pairs=model_id == "prebuilt-document" or (layout and "keyValuePairs" in wanted),
            options=options,
            custom_model=model_id if custom else None,
            family="v3" if custom else None,
        )
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
