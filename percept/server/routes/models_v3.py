"""Model management of Form Recognizer 2022-08-31/2023-07-31 and Document Intelligence 2024-11-30/2025-09-01: build,
compose, get, list, delete, the operations that build them, and the resource's model count.

Registered on each service's router by :mod:`.analyze_v3`, so the two services share the code and differ only
in their root and versions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ...custom.registry import MODEL_LIMIT, READY, ModelRecord
from ...errors import InvalidRequest, NotFound
from ...serializers.models_v3 import custom_details, model_operation
from ..deps import ServicesDep, accepted, base_url, get_operation, poll_headers
from ..errors import v3_operation_error
from ..ids import MODEL_ID_RULE, ModelId, OperationId, is_model_id, model_not_found
from ..inputs import read_json_body
from ..model_service import require_new_model_id, start_model_operation
from ..operations import TRAIN
from ..responses import FastJSONResponse as JSONResponse
from ..store import FAILED, Operation

ApiVersion = Annotated[str | None, Query(alias="api-version")]
NEURAL_NOTE = "Built as a template model: neural models use the same engine on this server."


def register(
    router: APIRouter,
    root: str,
    version: Callable[[str | None], str],
    prebuilt: Callable[[str], list[dict[str, Any]]],
) -> None:
    """Add the model-management routes of service ``root`` to its router."""

    def operation_url(request: Request, op_id: str, v: str) -> str:
        return f"{base_url(request)}{root}/operations/{op_id}?api-version={v}"

    def model_url(request: Request, model_id: str, v: str) -> str:
        return f"{base_url(request)}{root}/documentModels/{model_id}?api-version={v}"

    async def new_model_id(services: ServicesDep, body: dict[str, Any]) -> str:
        model_id = body.get("modelId")
        if not is_model_id(model_id):  # a new resource's id in the body: 400, as Azure answers
            raise InvalidRequest(f"'modelId' is required: {MODEL_ID_RULE}.")
        await require_new_model_id(services, model_id)
        return model_id

    def operation(request: Request, op: Operation, rec: ModelRecord | None, v: str) -> dict[str, Any]:
        error = v3_operation_error(op.error) if op.status == FAILED and op.error else None
        return model_operation(op, rec, v, model_url(request, op.model_id, v), error)

    def meta(body: dict[str, Any], v: str) -> dict[str, Any]:
        description, tags = body.get("description"), body.get("tags")
        if description is not None and (not isinstance(description, str) or len(description) > 4096):
            raise InvalidRequest("'description' must be a string of at most 4096 characters.")
        if tags is not None and (not isinstance(tags, dict) or not all(isinstance(x, str) for x in tags.values())):
            raise InvalidRequest("'tags' must be an object of strings.")
        return {"family": "v3", "api_version": v, "description": description, "tags": tags or {}}

    @router.post("/documentModels:build", status_code=202, response_class=Response)
    async def build(request: Request, services: ServicesDep, api_version: ApiVersion = None) -> Response:
        v = version(api_version)
        body = await read_json_body(request)
        model_id = await new_model_id(services, body)
        mode = body.get("buildMode")
        if mode not in ("template", "neural"):
            raise InvalidRequest("'buildMode' must be template or neural.")
        if "azureBlobFileListSource" in body and "azureBlobSource" not in body:
            raise InvalidRequest("azureBlobFileListSource is not supported here; use azureBlobSource with a prefix.")
        source = body.get("azureBlobSource")
        if not isinstance(source, dict) or not isinstance(source.get("containerUrl"), str):
            raise InvalidRequest("'azureBlobSource.containerUrl' is required: the SAS URL of a blob container.")
        prefix = source.get("prefix") or ""
        if not isinstance(prefix, str) or len(prefix) > 1024:
            raise InvalidRequest("'azureBlobSource.prefix' must be a string of at most 1024 characters.")
        params = meta(body, v)
        if mode == "neural":
            params["description"] = f"{params['description']} ({NEURAL_NOTE})" if params["description"] else NEURAL_NOTE
        params.update(
            source=source["containerUrl"], prefix=prefix, includeSubFolders=True, useLabelFile=True, buildMode=mode
        )
        rec = await start_model_operation(services, model_id, None, params)
        return accepted(services, operation_url(request, rec.params["operation"], v))

    @router.post("/documentModels:compose", status_code=202, response_class=Response)
    async def compose(request: Request, services: ServicesDep, api_version: ApiVersion = None) -> Response:
        v = version(api_version)
        body = await read_json_body(request)
        model_id = await new_model_id(services, body)
        if isinstance(body.get("componentModels"), list):  # 2022-08-31, 2023-07-31
            ids = [c.get("modelId") for c in body["componentModels"] if isinstance(c, dict)]
        elif isinstance(body.get("docTypes"), dict):  # 2024-11-30, 2025-09-01 (no classifier needed here)
            ids = [d.get("modelId") for d in body["docTypes"].values() if isinstance(d, dict)]
        else:
            raise InvalidRequest("'componentModels' (or 'docTypes') must list the models to compose.")
        if not ids or not all(isinstance(i, str) for i in ids) or len(ids) > 200:
            raise InvalidRequest("Compose between 1 and 200 models, each by its 'modelId'.")
        for part in ids:
            if not is_model_id(part):  # refers to an existing model: answered like an unknown one
                raise model_not_found()
            rec = await run_in_threadpool(services.models.get, part)
            if rec is None or rec.status != READY:
                raise NotFound(f"Model '{part}' was not found.")
        params = {**meta(body, v), "action": "compose", "components": ids, "useLabelFile": True}
        rec = await start_model_operation(services, model_id, None, params)
        return accepted(services, operation_url(request, rec.params["operation"], v))

    @router.get("/operations/{operation_id}")
    async def get_operation_details(
        request: Request, services: ServicesDep, operation_id: OperationId, api_version: ApiVersion = None
    ) -> JSONResponse:
        v = version(api_version)
        op = await get_operation(services, operation_id, kind=TRAIN)
        rec = await run_in_threadpool(services.models.get, op.model_id)
        body = operation(request, op, rec, v)
        return JSONResponse(body, headers=poll_headers(services, op))

    @router.get("/operations")
    async def list_operations(request: Request, services: ServicesDep, api_version: ApiVersion = None) -> JSONResponse:
        v = version(api_version)
        ops = await run_in_threadpool(services.store.of_kind, TRAIN)
        value = []
        for op in ops:
            rec = await run_in_threadpool(services.models.get, op.model_id)  # its kind: build or compose
            item = operation(request, op, rec, v)
            item.pop("result", None)
            value.append(item)
        return JSONResponse({"value": value})

    @router.get("/documentModels")
    async def list_models(services: ServicesDep, api_version: ApiVersion = None) -> JSONResponse:
        v = version(api_version)
        records = await run_in_threadpool(services.models.list)
        custom = [custom_details(r, v) for r in records if r.status == READY]
        for c in custom:
            del c["docTypes"]  # summaries, as Azure lists them
        return JSONResponse({"value": prebuilt(v) + custom})

    @router.get("/documentModels/{model_id}")
    async def get_model(services: ServicesDep, model_id: ModelId, api_version: ApiVersion = None) -> JSONResponse:
        v = version(api_version)
        for details in prebuilt(v):
            if details["modelId"] == model_id:
                return JSONResponse(details)
        rec = await run_in_threadpool(services.models.get, model_id)
        if rec is None or rec.status != READY:
            raise NotFound(f"Model '{model_id}' was not found.")
        return JSONResponse(custom_details(rec, v))

    @router.delete("/documentModels/{model_id}", status_code=204, response_class=Response)
    async def delete_model(services: ServicesDep, model_id: ModelId, api_version: ApiVersion = None) -> Response:
        version(api_version)
        if model_id.startswith("prebuilt-"):
            raise InvalidRequest("Prebuilt models cannot be deleted.")
        if not await run_in_threadpool(services.models.delete, model_id):
            raise NotFound(f"Model '{model_id}' was not found.")
        return Response(status_code=204)

    @router.get("/info")
    async def info(services: ServicesDep, api_version: ApiVersion = None) -> dict[str, Any]:
        v = version(api_version)
        count = await run_in_threadpool(services.models.count)
        body: dict[str, Any] = {"customDocumentModels": {"count": count, "limit": MODEL_LIMIT}}
        if v == "2023-07-31":
            body["customNeuralDocumentModelBuilds"] = {
                "used": 0,
                "quota": MODEL_LIMIT,
                "quotaResetDateTime": "2100-01-01T00:00:00Z",
            }
        return body
