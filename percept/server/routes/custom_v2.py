"""Form Recognizer v2.0/v2.1 custom models (also under ``v2.1-preview.N``, where the seed's script trains):
train (201 + Location, polled until ready or invalid), get, list, delete, analyze and its results."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from ...custom.registry import CREATING, READY, ModelRecord
from ...errors import InvalidRequest
from ...serializers.formrecognizer_v2 import custom_result, failed_result
from ...serializers.models_v2 import model_body, model_list
from .. import deps
from ..bodies import ComposeRequest, CopyRequest, TrainRequest, parse_body
from ..deps import ServicesDep, V2Version
from ..errors import fr2_operation_error
from ..ids import ModelNotFoundV2, ResultId, V2ModelId, is_uuid, v2_model_not_found
from ..inputs import read_json_body
from ..model_service import issue_copy_authorization, start_model_operation, verify_copy_authorization
from ..operations import TRAIN, ReadJob
from ..responses import FastJSONResponse as JSONResponse
from ..store import FAILED, SUCCEEDED

router = APIRouter(
    prefix="/formrecognizer/{path_version}/custom/models",
    dependencies=deps.V2_DEPENDENCIES,
    tags=["formrecognizer v2 custom"],
)


def _model_url(request: Request, path_version: str, model_id: str) -> str:
    return f"{deps.base_url(request)}formrecognizer/{path_version}/custom/models/{model_id}"


@router.post("", status_code=201, response_class=Response)
async def train(request: Request, services: ServicesDep, path_version: str, version: V2Version) -> Response:
    body = parse_body(TrainRequest, await read_json_body(request))
    params = {
        "source": body.source,
        "prefix": body.source_filter.prefix,
        "includeSubFolders": body.source_filter.include_sub_folders,
        "useLabelFile": body.use_label_file,
        "version": version,
    }
    name = body.model_name if version == "2.1" else None
    rec = await start_model_operation(services, str(uuid.uuid4()), name, params)
    return Response(status_code=201, headers={"Location": _model_url(request, path_version, rec.id)})


@router.post("/compose", status_code=201, response_class=Response)
async def compose(request: Request, services: ServicesDep, path_version: str, version: V2Version) -> Response:
    """v2.1: one model answering for several models trained with labels."""
    if version != "2.1":
        raise InvalidRequest("Composing models is available from v2.1.")
    raw = await read_json_body(request)
    ids = parse_body(ComposeRequest, raw, exclude=("modelName",)).model_ids
    for model_id in ids:
        await _record(services, model_id)  # a malformed id is answered as an unknown one: 1022
    name = parse_body(ComposeRequest, raw).model_name  # checked once the models exist
    params = {"action": "compose", "components": ids, "version": "2.1", "useLabelFile": True}
    rec = await start_model_operation(services, str(uuid.uuid4()), name, params)
    return Response(status_code=201, headers={"Location": _model_url(request, path_version, rec.id)})


@router.post("/copyAuthorization", status_code=201)
async def copy_authorization(
    request: Request, services: ServicesDep, path_version: str, version: V2Version
) -> JSONResponse:
    """v2.1: reserve a model id on this (target) resource and sign it, for a copy from a source resource."""
    if version != "2.1":
        raise InvalidRequest("Copying models is available from v2.1.")
    body = await issue_copy_authorization(services)
    location = _model_url(request, path_version, body["modelId"])
    return JSONResponse(body, status_code=201, headers={"Location": location})


@router.post("/{model_id}/copy", status_code=202, response_class=Response)
async def copy(
    request: Request, services: ServicesDep, path_version: str, version: V2Version, model_id: V2ModelId
) -> Response:
    """v2.1: copy a ready model to the id of a copy authorization this server signed."""
    if version != "2.1":
        raise InvalidRequest("Copying models is available from v2.1.")
    rec = await _record(services, model_id)
    if rec.status != READY:
        raise InvalidRequest(f"Model '{model_id}' is not ready (its status is {rec.status}).")
    body = parse_body(CopyRequest, await read_json_body(request))
    target = await verify_copy_authorization(services, body.copy_authorization)
    params = {"action": "copy", "copy_of": model_id, "version": rec.params.get("version", "2.1")}
    params["useLabelFile"] = rec.params.get("useLabelFile", False)
    copied = await start_model_operation(services, target, rec.name, params)
    location = f"{_model_url(request, path_version, model_id)}/copyResults/{copied.params['operation']}"
    return deps.accepted(services, location)


@router.get("/{model_id}/copyResults/{result_id}")
async def copy_result(services: ServicesDep, model_id: V2ModelId, result_id: ResultId) -> JSONResponse:
    op = await deps.get_operation(services, result_id, kind=TRAIN)
    body = deps.operation_status(op)
    body["copyResult"] = {"modelId": op.model_id}
    if op.status == FAILED and op.error:
        body["copyResult"]["errors"] = [fr2_operation_error(op.error)]
    return JSONResponse(body, headers=deps.poll_headers(services, op))


async def _record(services: ServicesDep, model_id: str) -> ModelRecord:
    if not is_uuid(model_id):
        raise v2_model_not_found()
    rec = await run_in_threadpool(services.models.get, model_id)
    if rec is None:
        raise ModelNotFoundV2(f"Model with id '{model_id}' not found.")
    return rec


@router.get("")
async def list_models(services: ServicesDep, op: str = "full") -> JSONResponse:
    if op not in ("full", "summary"):
        raise InvalidRequest("'op' must be full or summary.")
    records = await run_in_threadpool(services.models.list)
    return JSONResponse(model_list(records, summary_only=op == "summary"))


@router.get("/{model_id}")
async def get_model(services: ServicesDep, model_id: V2ModelId) -> JSONResponse:
    rec = await _record(services, model_id)
    if rec.status == CREATING and services.settings.poll_wait > 0:
        pending = [o for o in await run_in_threadpool(services.store.pending) if o.model_id == model_id]
        for o in pending:
            await services.runner.wait(o.id, services.settings.poll_wait)
        rec = await _record(services, model_id)
    return JSONResponse(model_body(rec))


@router.delete("/{model_id}", status_code=204, response_class=Response)
async def delete_model(services: ServicesDep, model_id: V2ModelId) -> Response:
    await _record(services, model_id)
    await run_in_threadpool(services.models.delete, model_id)
    return Response(status_code=204)


@router.post("/{model_id}/analyze", status_code=202, response_class=Response)
async def analyze(
    request: Request,
    services: ServicesDep,
    path_version: str,
    version: V2Version,
    model_id: V2ModelId,
    pages: str | None = None,
) -> Response:
    rec = await _record(services, model_id)
    if rec.status != READY:
        raise InvalidRequest(f"Model '{model_id}' is not ready (its status is {rec.status}).")
    if version == "2.0" and pages:
        raise InvalidRequest("The pages parameter is available from v2.1.")
    details = request.query_params.get("includeTextDetails", "false").lower() == "true"
    job = ReadJob(pages=pages, version=version, options={"layout": True}, custom_model=model_id, include_text=details)
    op = await deps.accept_document(request, services, model_id=model_id, job=job)
    location = f"{_model_url(request, path_version, model_id)}/analyzeResults/{op.id}"
    return deps.accepted(services, location)


@router.get("/{model_id}/analyzeResults/{result_id}")
async def analyze_result(services: ServicesDep, model_id: V2ModelId, result_id: ResultId) -> JSONResponse:
    op = await deps.get_operation(services, result_id, model_id)
    body = deps.operation_status(op)
    if op.status == SUCCEEDED:
        doc = await deps.load_document(services, op)
        job = op.job(ReadJob)
        body["analyzeResult"] = custom_result(doc, job.version, job.include_text)
    elif op.status == FAILED and op.error:
        body["analyzeResult"] = failed_result(op.job(ReadJob).version, fr2_operation_error(op.error))
    return JSONResponse(body, headers=deps.poll_headers(services, op))
