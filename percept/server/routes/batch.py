"""Document Intelligence batch analysis: ``:analyzeBatch``, its result (poll), list and delete.

The POST checks the request's shape and the model, and queues the batch; the listing (and so a bad SAS, a
missing container, too many files) is the batch's own first step, and fails it with the error in its status,
as Azure reports request-level batch errors. Each document's outcome is one child operation.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from ...batch.driver import OUTPUT_EXISTS, WAITING
from ...batch.sources import check_url, public_url, result_name
from ...errors import InvalidRequest, NotFound, ParameterMissing
from ...pages import parse_pages
from ...serializers.batch import DocumentOutcome, batch_operation
from .. import deps
from ..analyze_jobs import AnalyzeQueryDep, is_custom_model, read_job
from ..deps import ServicesDep
from ..errors import v3_operation_error
from ..ids import ModelId, ResultId
from ..inputs import read_json_body
from ..operations import BATCH, BatchJob
from ..responses import FastJSONResponse as JSONResponse
from ..services import Services
from ..store import FAILED, SUCCEEDED, Operation
from ..versions import ApiVersionQuery, V3Version

ROOT = "documentintelligence"

router = APIRouter(prefix=f"/{ROOT}", dependencies=deps.KEY_DEPENDENCIES, tags=[ROOT])


def _text(body: dict[str, Any], key: str, where: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidRequest(f"{where}{key} must be a string.")
    return value


def _source(body: dict[str, Any]) -> tuple[str, str, str | None]:
    """(container URL, prefix, file list) of the request's one source."""
    blob, listed = body.get("azureBlobSource"), body.get("azureBlobFileListSource")
    if (blob is None) == (listed is None):
        raise InvalidRequest("Specify exactly one of azureBlobSource and azureBlobFileListSource.")
    name = "azureBlobSource" if blob is not None else "azureBlobFileListSource"
    source = blob if blob is not None else listed
    if not isinstance(source, dict):
        raise InvalidRequest(f"{name} must be an object.")
    url = _text(source, "containerUrl", f"{name}.")
    if not url:
        raise ParameterMissing(f"{name}.containerUrl is required.")
    check_url(url, f"{name}.containerUrl")
    if blob is not None:
        return url, _text(source, "prefix", f"{name}.") or "", None
    file_list = _text(source, "fileList", f"{name}.")
    if not file_list:
        raise ParameterMissing(f"{name}.fileList is required.")
    return url, "", file_list


@router.post("/documentModels/{model_id}:analyzeBatch", status_code=202, response_class=Response)
async def analyze_batch(
    request: Request,
    services: ServicesDep,
    model_id: ModelId,
    v: V3Version,
    query: AnalyzeQueryDep,
) -> Response:
    custom = await is_custom_model(services, model_id, v)
    body = await read_json_body(request)
    source_url, prefix, file_list = _source(body)
    result_url = _text(body, "resultContainerUrl", "")
    if not result_url:
        raise ParameterMissing("resultContainerUrl is required.")
    check_url(result_url, "resultContainerUrl")
    overwrite = body.get("overwriteExisting", False)
    if not isinstance(overwrite, bool):
        raise InvalidRequest("overwriteExisting must be true or false.")
    read = read_job(model_id, v, custom=custom, query=query)
    if query.pages:
        parse_pages(query.pages, services.limits.max_pages)  # its syntax, now; each document applies it to its pages
    job = BatchJob(
        source_url=source_url,
        prefix=prefix,
        file_list=file_list,
        result_url=result_url,
        result_prefix=_text(body, "resultPrefix", "") or "",
        overwrite=overwrite,
        read=read.to_params(),
        version=v,
    )
    op = Operation(id=services.store.new_id(), kind=job.kind, model_id=model_id, params=job.to_params())
    await run_in_threadpool(services.store.create, op)
    services.runner.submit(op.id)
    location = f"{deps.base_url(request)}{ROOT}/documentModels/{model_id}/analyzeBatchResults/{op.id}?api-version={v}"
    return deps.accepted(services, location)


def _outcomes(services: Services, op: Operation) -> list[DocumentOutcome] | None:
    """Each document's outcome, in listing order; None before the documents are listed."""
    children = services.store.children(op.id)
    if not children:
        return [] if op.status == SUCCEEDED else None
    job = op.job(BatchJob)
    prefix = job.prefix if job.file_list is None else ""
    out = []
    for child in children:
        name = str(child.params.get("name", ""))
        source = public_url(job.source_url, name)
        if child.status == SUCCEEDED:
            target = public_url(job.result_url, result_name(name, prefix, job.result_prefix))
            out.append(DocumentOutcome(source, SUCCEEDED, target))
        elif child.status == FAILED and child.error is not None:
            if child.error.inner == OUTPUT_EXISTS:
                error = {"code": OUTPUT_EXISTS, "message": child.error.message}
                out.append(DocumentOutcome(source, "skipped", None, error))
            else:
                out.append(DocumentOutcome(source, FAILED, None, v3_operation_error(child.error)))
        else:
            out.append(DocumentOutcome(source, "notStarted" if child.status == WAITING else child.status))
    return out


def _body(services: Services, op: Operation, details: bool = True) -> dict[str, Any]:
    error = v3_operation_error(op.error) if op.status == FAILED and op.error else None
    return batch_operation(
        result_id=op.id,
        status=op.status,
        created=op.created,
        updated=op.updated,
        outcomes=_outcomes(services, op),
        error=error,
        details=details,
    )


@router.get("/documentModels/{model_id}/analyzeBatchResults/{result_id}")
async def batch_result(
    services: ServicesDep, model_id: ModelId, result_id: ResultId, api_version: ApiVersionQuery = None
) -> JSONResponse:
    op = await deps.get_operation(services, result_id, model_id, kind=BATCH)
    body = await run_in_threadpool(_body, services, op)
    return JSONResponse(body, headers=deps.poll_headers(services, op))


@router.get("/documentModels/{model_id}/analyzeBatchResults")
async def batch_results(services: ServicesDep, model_id: ModelId, v: V3Version) -> JSONResponse:
    def listing() -> list[dict[str, Any]]:
        ops = [op for op in services.store.of_kind(BATCH) if op.model_id == model_id]
        return [_body(services, op, details=False) for op in ops]

    return JSONResponse({"value": await run_in_threadpool(listing)})


@router.delete("/documentModels/{model_id}/analyzeBatchResults/{result_id}", status_code=204, response_class=Response)
async def batch_delete(
    services: ServicesDep, model_id: ModelId, result_id: ResultId, api_version: ApiVersionQuery = None
) -> Response:
    """Removes the batch and its documents' rows; a running batch stops taking documents (see the driver)."""
    op = services.store.get(result_id)
    if op is None or op.kind != BATCH or op.model_id != model_id:
        raise NotFound(f"Operation '{result_id}' was not found or has expired.")

    def delete() -> None:
        store = services.store
        with store.db.transaction():  # one commit for 10,000 rows
            for child in store.children(result_id):
                store.delete(child.id)
            store.delete(result_id)

    await run_in_threadpool(delete)
    return Response(status_code=204)
