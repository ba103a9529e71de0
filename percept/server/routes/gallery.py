"""The galleries image analysis names celebrities and landmarks from: list, enrol, remove (``percept gallery`` over
REST). Percept's own routes, under ``/percept/galleries``, behind the subscription key like every API route.

An enrolment is one photo per request (the body, any image type); more photos of a name are added by posting
again. The embedding is computed in the image analysis worker pool, like every model run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ...errors import ContentTooLarge, InvalidContent, NotFound
from ...vision.gallery_store import KINDS, GalleryStore
from .. import deps
from ..deps import ServicesDep
from ..responses import FastJSONResponse as JSONResponse
from ..vision_http import get_vision

# Largest photo accepted for enrolment.
MAX_IMAGE_BYTES = 20 * 1024 * 1024

router = APIRouter(prefix="/percept/galleries", dependencies=deps.KEY_DEPENDENCIES, tags=["galleries"])


def _store(services: ServicesDep, kind: str) -> GalleryStore:
    """The gallery ``kind`` in the directory the vision workers read (``gallery_dir``, else under the data dir)."""
    from ...vision.settings import VisionSettings

    if kind not in KINDS:
        raise NotFound(f"No gallery '{kind}'; the galleries are: {', '.join(KINDS)}.")
    configured = VisionSettings().gallery_dir
    root = Path(configured) if configured else Path(services.settings.data_dir) / "galleries"
    return GalleryStore(root, kind)


async def _image_bytes(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_IMAGE_BYTES:
        raise ContentTooLarge(f"The image is {declared} bytes; the limit is {MAX_IMAGE_BYTES} bytes.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_IMAGE_BYTES:
            raise ContentTooLarge(f"The image is larger than the limit of {MAX_IMAGE_BYTES} bytes.")
    if not body:
        raise InvalidContent("The request body is empty: send the photo's bytes (application/octet-stream).")
    return bytes(body)


@router.get("/{kind}")
async def list_entries(kind: str, services: ServicesDep) -> dict[str, Any]:
    store = _store(services, kind)
    entries = await run_in_threadpool(store.entries)
    return {"kind": kind, "entries": [e.summary() for e in entries]}


@router.post("/{kind}/entries", status_code=201)
async def add_entry(
    kind: str, request: Request, services: ServicesDep, name: Annotated[str, Query(min_length=1)]
) -> JSONResponse:
    store = _store(services, kind)
    data = await _image_bytes(request)
    row, model = await get_vision(request).gallery_embedding(store.kind, data)
    entry = await run_in_threadpool(store.add, name, row, model)
    return JSONResponse(entry.summary(), status_code=201)


@router.delete("/{kind}/entries/{name_or_id}", status_code=204)
async def remove_entry(kind: str, name_or_id: str, services: ServicesDep) -> Response:
    store = _store(services, kind)
    await run_in_threadpool(store.remove, name_or_id)
    return Response(status_code=204)
