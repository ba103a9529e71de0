"""Form Recognizer 2022-08-31 / 2023-07-31 (``/formrecognizer``) and Document Intelligence 2024-11-30 /
2025-09-01 (``/documentintelligence``): analyze, poll, delete, model and resource info.

Both services share one shape; a router is made per service root with the versions it answers.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ...custom.registry import READY
from ...errors import InvalidRequest, NotFound, OperationInProgress
from ...ocr.languages import tesseract_languages
from ...serializers.analyze_v3 import analyze_result
from ...serializers.offsets import STRING_INDEX_TYPES
from ..deps import (
    ServicesDep,
    accept_document,
    accepted,
    base_url,
    get_operation,
    load_document,
    operation_status,
    poll_headers,
    require_key,
)
from ..errors import v3_operation_error
from ..ids import ModelId, ResultId
from ..operations import ReadJob
from ..responses import FastJSONResponse as JSONResponse
from ..store import FAILED, PENDING, SUCCEEDED
from . import models_v3

SERVICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "formrecognizer": ("2023-07-31", ("2022-08-31", "2023-07-31")),
    "documentintelligence": ("2024-11-30", ("2024-11-30", "2025-09-01")),
}
PREBUILT = {
    "prebuilt-read": "Extract printed and handwritten text from documents and images.",
    "prebuilt-layout": "Extract text, tables, selection marks and document structure.",
    "prebuilt-document": "Extract text, tables, structure and general key-value pairs.",
}
# Models each service version offers (prebuilt-document was folded into layout's keyValuePairs in 2024-11-30).
VERSION_MODELS = {
    "2022-08-31": ("prebuilt-read", "prebuilt-layout", "prebuilt-document"),
    "2023-07-31": ("prebuilt-read", "prebuilt-layout", "prebuilt-document"),
    "2024-11-30": ("prebuilt-read", "prebuilt-layout"),
    "2025-09-01": ("prebuilt-read", "prebuilt-layout"),
}
FEATURES = ("ocrHighResolution", "languages", "barcodes", "formulas", "keyValuePairs", "styleFont", "queryFields")
MODEL_CREATED = "2024-11-30T00:00:00Z"

ApiVersion = Annotated[str | None, Query(alias="api-version")]


def routers() -> list[APIRouter]:
    return [_router(root, default, versions) for root, (default, versions) in SERVICES.items()]


def _model_info(model_id: str, version: str) -> dict[str, Any]:
    return {
        "modelId": model_id,
        "description": PREBUILT[model_id],
        "createdDateTime": MODEL_CREATED,
        "apiVersion": version,
        "tags": {},
    }


def _router(root: str, default_version: str, versions: tuple[str, ...]) -> APIRouter:
    router = APIRouter(prefix=f"/{root}", dependencies=[Depends(require_key)], tags=[root])

    def version(requested: str | None) -> str:
        v = requested or default_version
        if v not in versions:
            raise InvalidRequest(
                f"The api-version '{v}' is not supported under /{root}; use one of {', '.join(versions)}."
            )
        return v

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
        api_version: ApiVersion = None,
        pages: str | None = None,
        locale: str | None = None,
        string_index_type: Annotated[str, Query(alias="stringIndexType")] = "textElements",
        features: str | None = None,
        output_content_format: Annotated[str | None, Query(alias="outputContentFormat")] = None,
    ) -> Response:
        v = version(api_version)
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
        pack = tesseract_languages(locale)
        if pack:
            options["ocr_languages"] = pack
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
        op = await accept_document(request, services, model_id=model_id, job=job)
        location = f"{base_url(request)}{root}/documentModels/{model_id}/analyzeResults/{op.id}?api-version={v}"
        return accepted(services, location)

    @router.get("/documentModels/{model_id}/analyzeResults/{result_id}")
    async def analyze_result_get(
        services: ServicesDep, model_id: ModelId, result_id: ResultId, api_version: ApiVersion = None
    ) -> JSONResponse:
        op = await get_operation(services, result_id, model_id)
        body = operation_status(op)
        if op.status == SUCCEEDED:
            doc = await load_document(services, op)
            job = op.job(ReadJob)
            body["analyzeResult"] = analyze_result(
                doc, api_version=job.version, model_id=model_id, string_index_type=job.string_index_type
            )
        elif op.status == FAILED and op.error:
            body["error"] = v3_operation_error(op.error)
        return JSONResponse(body, headers=poll_headers(services, op))

    @router.delete("/documentModels/{model_id}/analyzeResults/{result_id}", status_code=204, response_class=Response)
    async def analyze_result_delete(
        services: ServicesDep, model_id: ModelId, result_id: ResultId, api_version: ApiVersion = None
    ) -> Response:
        op = await get_operation(services, result_id, model_id)
        if op.status in PENDING:
            raise OperationInProgress("The operation is still running; delete its result once it has finished.")
        services.store.delete(result_id)
        return Response(status_code=204)

    models_v3.register(router, root, version, lambda v: [_model_info(m, v) for m in VERSION_MODELS[v]])
    return router
