"""Form Recognizer v2.0/v2.1 custom models (also under ``v2.1-preview.N``, where the seed's script trains):
train (201 + Location, polled until ready or invalid), get, list, delete, analyze and its results."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import time
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from ...custom.registry import CREATING, MODEL_LIMIT, READY, ModelRecord
from ...errors import InvalidRequest, Unauthorized
from ...serializers.formrecognizer_v2 import custom_result, failed_result
from ..deps import (
    ServicesDep,
    accept_document,
    accepted,
    base_url,
    get_operation,
    load_document,
    operation_status,
    poll_headers,
    timestamp,
)
from ..errors import fr2_operation_error
from ..ids import ModelNotFoundV2, ResultId, V2ModelId, is_uuid, v2_model_not_found
from ..inputs import read_json_body
from ..operations import TRAIN, ReadJob, TrainJob
from ..responses import FastJSONResponse as JSONResponse
from ..store import FAILED, SUCCEEDED, Operation
from .formrecognizer_v2 import V2_DEPENDENCIES, V2Version

router = APIRouter(
    prefix="/formrecognizer/{path_version}/custom/models",
    dependencies=V2_DEPENDENCIES,
    tags=["formrecognizer v2 custom"],
)


class ModelExists(InvalidRequest):
    code = "ModelExists"
    status = 409
    outer_code = "Conflict"


def _model_url(request: Request, path_version: str, model_id: str) -> str:
    return f"{base_url(request)}formrecognizer/{path_version}/custom/models/{model_id}"


async def json_body(request: Request) -> dict[str, Any]:
    """A control body (train, build, compose, copy): a small JSON object, bounded while it streams."""
    return await read_json_body(request)


@router.post("", status_code=201, response_class=Response)
async def train(request: Request, services: ServicesDep, path_version: str, version: V2Version) -> Response:
    body = await json_body(request)
    source = body.get("source")
    if not isinstance(source, str) or not source.strip():
        raise InvalidRequest("'source' is required: the SAS URL of a blob container (or an allowed local folder).")
    filt = body.get("sourceFilter") or {}
    if not isinstance(filt, dict):
        raise InvalidRequest("'sourceFilter' must be an object with 'prefix' and 'includeSubFolders'.")
    prefix = filt.get("prefix") or ""
    if not isinstance(prefix, str) or len(prefix) > 1024:
        raise InvalidRequest("'sourceFilter.prefix' must be a string of at most 1024 characters.")
    use_labels = body.get("useLabelFile", False)
    if not isinstance(use_labels, bool):
        raise InvalidRequest("'useLabelFile' must be true or false.")
    name = body.get("modelName")
    if name is not None and (not isinstance(name, str) or len(name) > 1024):
        raise InvalidRequest("'modelName' must be a string of at most 1024 characters.")
    params = {
        "source": source.strip(),
        "prefix": prefix,
        "includeSubFolders": bool(filt.get("includeSubFolders", False)),
        "useLabelFile": use_labels,
        "version": version,
    }
    rec = await start_model_operation(services, str(uuid.uuid4()), name if version == "2.1" else None, params)
    return Response(status_code=201, headers={"Location": _model_url(request, path_version, rec.id)})


async def start_model_operation(
    services: ServicesDep, model_id: str, name: str | None, params: dict[str, Any]
) -> ModelRecord:
    """Create a model (creating) and queue the operation that builds, composes or copies it.

    The model row and its operation commit in one transaction: a crash leaves both (built after the restart)
    or neither (the client got no answer), never a model creating forever."""
    if services.models.count() >= MODEL_LIMIT:
        raise InvalidRequest(f"The model limit ({MODEL_LIMIT}) is reached; delete models first.")
    rec = ModelRecord(id=model_id, name=name, params=params)
    job = TrainJob(model_id=rec.id)
    op = Operation(id=services.store.new_id(), kind=job.kind, model_id=rec.id, params=job.to_params())
    rec.params["operation"] = op.id

    def persist() -> None:
        try:
            with services.store.db.transaction():
                services.models.create(rec)
                services.store.create(op)
        except sqlite3.IntegrityError:  # the same id requested twice at once
            raise ModelExists(f"A model with id '{rec.id}' already exists.") from None

    await run_in_threadpool(persist)
    services.runner.submit(op.id)
    return rec


@router.post("/compose", status_code=201, response_class=Response)
async def compose(request: Request, services: ServicesDep, path_version: str, version: V2Version) -> Response:
    """v2.1: one model answering for several models trained with labels."""
    if version != "2.1":
        raise InvalidRequest("Composing models is available from v2.1.")
    body = await json_body(request)
    ids = body.get("modelIds")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids) or len(ids) > 100:
        raise InvalidRequest("'modelIds' must list between 1 and 100 model ids.")
    for model_id in ids:
        await _record(services, model_id)  # a malformed id is answered as an unknown one: 1022
    name = body.get("modelName")
    if name is not None and not isinstance(name, str):
        raise InvalidRequest("'modelName' must be a string.")
    params = {"action": "compose", "components": ids, "version": "2.1", "useLabelFile": True}
    rec = await start_model_operation(services, str(uuid.uuid4()), name, params)
    return Response(status_code=201, headers={"Location": _model_url(request, path_version, rec.id)})


COPY_AUTHORIZATION_TTL_S = 24 * 3600
_TICKS_AT_EPOCH = 621355968000000000  # .NET ticks (100 ns since year 1) at 1970-01-01


def _copy_token(services: ServicesDep, model_id: str, expires_ticks: int) -> str:
    message = f"{model_id}|{expires_ticks}".encode()
    return hmac.new(services.models.secret(), message, hashlib.sha256).hexdigest()


@router.post("/copyAuthorization", status_code=201)
async def copy_authorization(
    request: Request, services: ServicesDep, path_version: str, version: V2Version
) -> JSONResponse:
    """v2.1: reserve a model id on this (target) resource and sign it, for a copy from a source resource."""
    if version != "2.1":
        raise InvalidRequest("Copying models is available from v2.1.")
    model_id = str(uuid.uuid4())
    ticks = int((time.time() + COPY_AUTHORIZATION_TTL_S) * 10_000_000) + _TICKS_AT_EPOCH
    token = await run_in_threadpool(_copy_token, services, model_id, ticks)
    body = {"modelId": model_id, "accessToken": token, "expirationDateTimeTicks": ticks}
    return JSONResponse(body, status_code=201, headers={"Location": _model_url(request, path_version, model_id)})


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
    body = await json_body(request)
    auth = body.get("copyAuthorization")
    if not isinstance(auth, dict) or not all(k in auth for k in ("modelId", "accessToken", "expirationDateTimeTicks")):
        raise InvalidRequest("'copyAuthorization' must carry modelId, accessToken and expirationDateTimeTicks.")
    target, ticks = auth["modelId"], auth["expirationDateTimeTicks"]
    if not is_uuid(target):  # only UUIDs are ever signed here
        raise InvalidRequest("'copyAuthorization.modelId' is not a model id this resource issued.")
    if not isinstance(ticks, int) or ticks < int(time.time() * 10_000_000) + _TICKS_AT_EPOCH:
        raise InvalidRequest("The copy authorization has expired; get a new one from the target resource.")
    expected = await run_in_threadpool(_copy_token, services, target, ticks)
    if not hmac.compare_digest(expected, str(auth["accessToken"])):
        raise Unauthorized("The copy authorization was not issued by this resource.")
    if await run_in_threadpool(services.models.get, target) is not None:
        raise InvalidRequest(f"Model '{target}' already exists; a copy authorization is used once.")
    params = {"action": "copy", "copy_of": model_id, "version": rec.params.get("version", "2.1")}
    params["useLabelFile"] = rec.params.get("useLabelFile", False)
    copied = await start_model_operation(services, target, rec.name, params)
    location = f"{_model_url(request, path_version, model_id)}/copyResults/{copied.params['operation']}"
    return accepted(services, location)


@router.get("/{model_id}/copyResults/{result_id}")
async def copy_result(services: ServicesDep, model_id: V2ModelId, result_id: ResultId) -> JSONResponse:
    op = await get_operation(services, result_id, kind=TRAIN)
    body = operation_status(op)
    body["copyResult"] = {"modelId": op.model_id}
    if op.status == FAILED and op.error:
        body["copyResult"]["errors"] = [fr2_operation_error(op.error)]
    return JSONResponse(body, headers=poll_headers(services, op))


def _model_info(rec: ModelRecord) -> dict[str, Any]:
    info: dict[str, Any] = {
        "modelId": rec.id,
        "status": rec.status,
        "createdDateTime": timestamp(rec.created),
        "lastUpdatedDateTime": timestamp(rec.updated),
    }
    if rec.name:
        info["modelName"] = rec.name
    if rec.params.get("version") == "2.1":
        info["attributes"] = {"isComposed": rec.params.get("action") == "compose"}
    return info


def model_body(rec: ModelRecord) -> dict[str, Any]:
    body: dict[str, Any] = {"modelInfo": _model_info(rec)}
    if rec.keys is not None:
        body["keys"] = {"clusters": rec.keys}
    if rec.train_result is not None:
        tr = rec.train_result
        body["trainResult"] = {"trainingDocuments": tr.get("trainingDocuments", []), "errors": tr.get("errors", [])}
        if "composedTrainResults" in tr:
            body["composedTrainResults"] = tr["composedTrainResults"]
            del body["trainResult"]
        elif "fields" in tr:
            body["trainResult"]["fields"] = tr["fields"]
            body["trainResult"]["averageModelAccuracy"] = tr["averageModelAccuracy"]
    return body


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
    last = max((r.updated for r in records), default=0.0)
    summary = {"count": len(records), "limit": MODEL_LIMIT, "lastUpdatedDateTime": timestamp(last)}
    if op == "summary":
        return JSONResponse({"summary": summary})
    return JSONResponse({"summary": summary, "modelList": [_model_info(r) for r in records], "nextLink": ""})


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
    op = await accept_document(request, services, model_id=model_id, job=job)
    location = f"{_model_url(request, path_version, model_id)}/analyzeResults/{op.id}"
    return accepted(services, location)


@router.get("/{model_id}/analyzeResults/{result_id}")
async def analyze_result(services: ServicesDep, model_id: V2ModelId, result_id: ResultId) -> JSONResponse:
    op = await get_operation(services, result_id, model_id)
    body = operation_status(op)
    if op.status == SUCCEEDED:
        doc = await load_document(services, op)
        job = op.job(ReadJob)
        body["analyzeResult"] = custom_result(doc, job.version, job.include_text)
    elif op.status == FAILED and op.error:
        body["analyzeResult"] = failed_result(op.job(ReadJob).version, fr2_operation_error(op.error))
    return JSONResponse(body, headers=poll_headers(services, op))
