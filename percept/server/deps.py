"""What routes share: the services, the key check, and accepting and loading documents."""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from ..errors import NotFound, Unauthorized
from ..model import Document
from ..pages import parse_pages
from ..serializers.timestamps import timestamp
from ..source import open_document
from .inputs import receive_document
from .operations import READ, ReadJob
from .services import Services
from .store import PENDING, Operation, store_input


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def require_key(request: Request) -> None:
    """``Ocp-Apim-Subscription-Key`` against the configured keys, in constant time."""
    key = request.headers.get("ocp-apim-subscription-key", "").encode()
    keys = get_services(request).keys
    ok = False
    for k in keys:  # every key compared, so timing says nothing about which one matched
        ok |= hmac.compare_digest(key, k.encode())
    if not key or not ok:
        raise Unauthorized("Access denied due to invalid subscription key or wrong API endpoint.")


KEY_DEPENDENCIES = [Depends(require_key)]  # every router but health's


def base_url(request: Request) -> str:
    """Scheme, host and mount prefix the caller used, ending in '/'."""
    return str(request.base_url)


async def _receive(request: Request, services: Services) -> Path:
    """The request's document as a file under the data directory (uploads and URL sources alike)."""
    s = services.settings
    return await receive_document(
        request,
        services.store.files,
        max_bytes=services.limits.max_document_bytes,
        policy=services.policy,
        url_timeout=s.url_timeout,
        max_redirects=s.max_redirects,
    )


async def accept_document(request: Request, services: Services, *, model_id: str, job: ReadJob) -> Operation:
    """Receive, validate and persist a document, then queue its operation; returns it for the 202."""
    path = await _receive(request, services)
    try:
        ref = await run_in_threadpool(open_document, path, services.limits)
        parse_pages(job.pages, ref.page_count)  # a bad range fails now, not after the 202
        job = job.model_copy(update={"mime_type": ref.mime_type, "page_count": ref.page_count})
        op = Operation(id=services.store.new_id(), kind=job.kind, model_id=model_id, params=job.to_params())
        await run_in_threadpool(_persist, services, op, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    services.runner.submit(op.id)
    return op


def _persist(services: Services, op: Operation, upload: Path) -> None:
    """Input file in place and row committed (both fsynced) before the 202 goes out."""
    store_input(services.store, op.id, upload)
    services.store.create(op)


async def read_synchronously(request: Request, services: Services, job: ReadJob) -> Document:
    """For synchronous APIs: receive and read the document now, in the worker pool, then forget it."""
    path = await _receive(request, services)
    try:
        return await services.runner.read_now(path, job)
    finally:
        path.unlink(missing_ok=True)


async def get_operation(services: Services, op_id: str, model_id: str | None = None, kind: str = READ) -> Operation:
    """The operation of ``kind`` for a poll (a training operation's id is no analyze result, and the reverse);
    a pending one is held up to ``poll_wait`` seconds in case it finishes, so small documents are answered on the
    SDKs' first poll instead of after their 1 s back-off."""
    op = services.store.get(op_id)
    if op is None or op.kind != kind or (model_id is not None and op.model_id != model_id):
        raise NotFound(f"Operation '{op_id}' was not found or has expired.")
    if op.status in PENDING and services.settings.poll_wait > 0:
        await services.runner.wait(op_id, services.settings.poll_wait)
        op = services.store.get(op_id) or op
    return op


def operation_status(op: Operation) -> dict[str, Any]:
    """The fields every poll body of every family starts with."""
    return {"status": op.status, "createdDateTime": timestamp(op.created), "lastUpdatedDateTime": timestamp(op.updated)}


def accepted(services: Services, location: str) -> Response:
    """The 202 that starts every long-running operation: where to poll, and how long to wait first."""
    return Response(
        status_code=202,
        headers={"Operation-Location": location, "Retry-After": str(services.settings.retry_after)},
    )


def poll_headers(services: Services, op: Operation) -> dict[str, str]:
    """Retry-After only while the operation is pending."""
    return {"Retry-After": str(services.settings.retry_after)} if op.status in PENDING else {}


async def load_document(services: Services, op: Operation) -> Document:
    return await run_in_threadpool(services.store.load_result, op.id)


# Form Recognizer v2.0/v2.1: the API version is a path segment (``/formrecognizer/{path_version}/...``).
PATH_VERSIONS = {
    "v2.0": "2.0",
    "v2.1": "2.1",
    "v2.1-preview.1": "2.1",
    "v2.1-preview.2": "2.1",
    "v2.1-preview.3": "2.1",
}


def api_version(path_version: str) -> str:
    """The API version a ``/formrecognizer/{path_version}`` path names (a dependency of every v2 route)."""
    if path_version not in PATH_VERSIONS:
        raise NotFound(f"Resource not found: /formrecognizer/{path_version} is not an API version.")
    return PATH_VERSIONS[path_version]


V2Version = Annotated[str, Depends(api_version)]  # "2.0" or "2.1", for a route that depends on which
V2_DEPENDENCIES = [Depends(require_key), Depends(api_version)]  # the key first: a 401 before anything else
