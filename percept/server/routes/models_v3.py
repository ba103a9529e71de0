"""Model management of Form Recognizer 2022-08-31/2023-07-31 and Document Intelligence 2024-11-30/2025-09-01: build,
compose, get, list, delete, the operations that build them, and the resource's model count.

One router, mounted under each service's root by :func:`.analyze_v3.routers`: the two services share the code
and differ only in their root (:func:`..versions.service_root`) and versions (:data:`..versions.V3Version`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from ...custom.registry import MODEL_LIMIT, READY, ModelRecord
from ...errors import InvalidRequest, NotFound
from ...serializers.models_v3 import custom_details, model_operation
from .. import deps
from ..bodies import (
    META_FIELDS,
    BuildDocumentModelRequest,
    ComposeDocumentModelRequest,
    DocumentModelMeta,
    NewDocumentModel,
    parse_body,
)
from ..deps import ServicesDep
from ..errors import v3_operation_error
from ..ids import ModelId, OperationId, is_model_id, model_not_found
from ..inputs import read_json_body
from ..model_service import require_new_model_id, start_model_operation
from ..operations import TRAIN
from ..responses import FastJSONResponse as JSONResponse
from ..store import FAILED, Operation
from ..versions import V3Version, prebuilt_models, service_root

NEURAL_NOTE = "Built as a template model: neural models use the same engine on this server."

router = APIRouter()  # mounted under each service root by :func:`.analyze_v3.routers`


def _operation_url(request: Request, op_id: str, v: str) -> str:
    return f"{deps.base_url(request)}{service_root(request)}/operations/{op_id}?api-version={v}"


def _model_url(request: Request, model_id: str, v: str) -> str:
    return f"{deps.base_url(request)}{service_root(request)}/documentModels/{model_id}?api-version={v}"


async def _new_model_id(services: ServicesDep, body: dict[str, Any]) -> str:
    """A build's or compose's ``modelId``, checked and found free before the rest of its body."""
    model_id = parse_body(NewDocumentModel, body).model_id
    await require_new_model_id(services, model_id)
    return model_id


def _operation(request: Request, op: Operation, rec: ModelRecord | None, v: str) -> dict[str, Any]:
    error = v3_operation_error(op.error) if op.status == FAILED and op.error else None
    return model_operation(op, rec, v, _model_url(request, op.model_id, v), error)


def _meta(meta: DocumentModelMeta, v: str) -> dict[str, Any]:
    return {"family": "v3", "api_version": v, "description": meta.description, "tags": meta.tags or {}}


@router.post("/documentModels:build", status_code=202, response_class=Response)
async def build(request: Request, services: ServicesDep, v: V3Version) -> Response:
    raw = await read_json_body(request)
    model_id = await _new_model_id(services, raw)
    body = parse_body(BuildDocumentModelRequest, raw)
    params = _meta(body, v)
    if body.build_mode == "neural":
        params["description"] = f"{params['description']} ({NEURAL_NOTE})" if params["description"] else NEURAL_NOTE
    source = body.azure_blob_source
    params.update(
        source=source.container_url,
        prefix=source.prefix,
        includeSubFolders=True,
        useLabelFile=True,
        buildMode=body.build_mode,
    )
    rec = await start_model_operation(services, model_id, None, params)
    return deps.accepted(services, _operation_url(request, rec.params["operation"], v))


@router.post("/documentModels:compose", status_code=202, response_class=Response)
async def compose(request: Request, services: ServicesDep, v: V3Version) -> Response:
    raw = await read_json_body(request)
    model_id = await _new_model_id(services, raw)
    ids = parse_body(ComposeDocumentModelRequest, raw, exclude=META_FIELDS).component_ids
    for part in ids:
        if not is_model_id(part):  # refers to an existing model: answered like an unknown one
            raise model_not_found()
        rec = await run_in_threadpool(services.models.get, part)
        if rec is None or rec.status != READY:
            raise NotFound(f"Model '{part}' was not found.")
    body = parse_body(ComposeDocumentModelRequest, raw)  # description and tags, once the components exist
    params = {**_meta(body, v), "action": "compose", "components": ids, "useLabelFile": True}
    rec = await start_model_operation(services, model_id, None, params)
    return deps.accepted(services, _operation_url(request, rec.params["operation"], v))


@router.get("/operations/{operation_id}")
async def get_operation_details(
    request: Request, services: ServicesDep, operation_id: OperationId, v: V3Version
) -> JSONResponse:
    op = await deps.get_operation(services, operation_id, kind=TRAIN)
    rec = await run_in_threadpool(services.models.get, op.model_id)
    body = _operation(request, op, rec, v)
    return JSONResponse(body, headers=deps.poll_headers(services, op))


@router.get("/operations")
async def list_operations(request: Request, services: ServicesDep, v: V3Version) -> JSONResponse:
    ops = await run_in_threadpool(services.store.of_kind, TRAIN)
    value = []
    for op in ops:
        rec = await run_in_threadpool(services.models.get, op.model_id)  # its kind: build or compose
        item = _operation(request, op, rec, v)
        item.pop("result", None)
        value.append(item)
    return JSONResponse({"value": value})


@router.get("/documentModels")
async def list_models(services: ServicesDep, v: V3Version) -> JSONResponse:
    records = await run_in_threadpool(services.models.list)
    custom = [custom_details(r, v) for r in records if r.status == READY]
    for c in custom:
        del c["docTypes"]  # summaries, as Azure lists them
    return JSONResponse({"value": prebuilt_models(v) + custom})


@router.get("/documentModels/{model_id}")
async def get_model(services: ServicesDep, model_id: ModelId, v: V3Version) -> JSONResponse:
    for details in prebuilt_models(v):
        if details["modelId"] == model_id:
            return JSONResponse(details)
    rec = await run_in_threadpool(services.models.get, model_id)
    if rec is None or rec.status != READY:
        raise NotFound(f"Model '{model_id}' was not found.")
    return JSONResponse(custom_details(rec, v))


@router.delete("/documentModels/{model_id}", status_code=204, response_class=Response)
async def delete_model(services: ServicesDep, model_id: ModelId, v: V3Version) -> Response:
    if model_id.startswith("prebuilt-"):
        raise InvalidRequest("Prebuilt models cannot be deleted.")
    if not await run_in_threadpool(services.models.delete, model_id):
        raise NotFound(f"Model '{model_id}' was not found.")
    return Response(status_code=204)


@router.get("/info")
async def info(services: ServicesDep, v: V3Version) -> dict[str, Any]:
    count = await run_in_threadpool(services.models.count)
    body: dict[str, Any] = {"customDocumentModels": {"count": count, "limit": MODEL_LIMIT}}
    if v == "2023-07-31":
        body["customNeuralDocumentModelBuilds"] = {
            "used": 0,
            "quota": MODEL_LIMIT,
            "quotaResetDateTime": "2100-01-01T00:00:00Z",
        }
    return body
