"""The ASGI application: lifespan (store, worker pool, job runner), middleware, error handlers, routers."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import __version__
from ..config import Limits, ReadOptions, ServerSettings
from ..custom.registry import ModelRegistry
from ..errors import PerceptError
from ..io.http import UrlPolicy
from ..storage import Database, is_shared
from .errors import error_response, family_of
from .jobs import JobRunner
from .lock import DataDirLock
from .responses import FastJSONResponse
from .routes import (
    analyze_v3,
    batch,
    computervision,
    custom_v2,
    formrecognizer_v2,
    gallery,
    health,
    imageanalysis,
    models_v3,
    vision,
)
from .services import Services, resolve_keys
from .store import OperationStore

log = logging.getLogger("percept.server")
access_log = logging.getLogger("percept.access")
_FAMILY_ROOT = re.compile(r"/(vision|formrecognizer|documentintelligence|computervision)(/|$)")


class NormalizePath:
    """Merge duplicate slashes (DI keeps a trailing '/' of the endpoint) and accept a mount prefix.

    The prefix before the first API family segment becomes ``root_path``, so absolute URLs we hand out keep it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = re.sub(r"/{2,}", "/", scope["path"])
            m = _FAMILY_ROOT.search(path)
            if m and m.start() > 0:
                scope["root_path"] = path[: m.start()]
            scope["path"] = path
            scope["raw_path"] = path.encode()
        await self.app(scope, receive, send)


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    settings = settings or ServerSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One server per data directory, before anything in it is touched; several (a shared lock) when they keep
        # their state in a database they share.
        with DataDirLock(settings.data_dir, shared=is_shared(settings.database_url)):
            async with services(app):
                yield

    @asynccontextmanager
    async def services(app: FastAPI) -> AsyncIterator[None]:
        keys, generated = resolve_keys(settings)
        if generated:
            print(f"percept: generated API key {keys[0]} (stored in {settings.data_dir}/api-key)", flush=True)
        # One database (migrated on open): models commit with their operations.
        db = await asyncio.to_thread(Database.open, settings.data_dir, settings.database_url)
        store = OperationStore(settings.data_dir, settings.result_ttl_hours * 3600, db=db)
        models = ModelRegistry(settings.data_dir, db=db)
        policy = UrlPolicy.parse(settings.url_allow)
        storage = UrlPolicy.parse(settings.storage_allow, setting="PERCEPT_STORAGE_ALLOW")
        runner = JobRunner(
            store,
            ReadOptions(),
            Limits(),
            models=models,
            policy=storage,
            training_root=settings.training_root,
            lease_seconds=settings.lease_seconds,
            claim_interval=settings.claim_interval,
        )
        app.state.services = Services(settings, Limits(), store, runner, policy, keys, models)
        await runner.start()
        try:
            yield
        finally:
            await runner.stop()
            db.close()

    app = FastAPI(
        default_response_class=FastJSONResponse,
        title="Percept",
        version=__version__,
        description="Azure Computer Vision and Document Intelligence APIs, self-hosted.",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
        redirect_slashes=False,  # Azure answers 404, not a 307 to a list route (`documentModels/%2F` → `…/`)
    )

    @app.middleware("http")
    async def request_log(request: Request, call_next):  # type: ignore[no-untyped-def]
        rid = request.headers.get("x-ms-client-request-id") or str(uuid.uuid4())
        request.state.request_id = rid
        start = time.perf_counter()
        response = await call_next(request)
        response.headers["apim-request-id"] = rid
        access_log.info(
            json.dumps(
                {
                    "requestId": rid,
                    "method": request.method,
                    "path": request.url.path,
                    "status": response.status_code,
                    "ms": round(1000 * (time.perf_counter() - start), 1),
                }
            )
        )
        return response

    def _rid(request: Request) -> str:
        return getattr(request.state, "request_id", "") or str(uuid.uuid4())

    @app.exception_handler(PerceptError)
    async def percept_error(request: Request, exc: PerceptError):  # type: ignore[no-untyped-def]
        family = family_of(request.url.path[len(request.scope.get("root_path", "")) :])
        return error_response(family, exc.status, exc.outer_code, exc.code, exc.message, _rid(request))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):  # type: ignore[no-untyped-def]
        family = family_of(request.url.path[len(request.scope.get("root_path", "")) :])
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = f"Invalid parameter {where}: {first.get('msg', 'invalid value')}."
        return error_response(family, 400, "InvalidRequest", "InvalidParameter", message, _rid(request))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):  # type: ignore[no-untyped-def]
        family = family_of(request.url.path[len(request.scope.get("root_path", "")) :])
        code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "InvalidRequest")
        message = "Resource not found." if exc.status_code == 404 else str(exc.detail)
        return error_response(family, exc.status_code, code, code, message, _rid(request))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error on %s", request.url.path)
        family = family_of(request.url.path[len(request.scope.get("root_path", "")) :])
        return error_response(family, 500, "InternalServerError", None, "An unexpected error occurred.", _rid(request))

    app.include_router(health.router)
    for router in analyze_v3.routers():  # each service root also answers the model routes
        router.include_router(models_v3.router)
        app.include_router(router)
    for router in computervision.routers():
        app.include_router(router)
    for router in vision.routers():  # image analysis v1.0–v3.2; its lifespan runs the vision worker pool
        app.include_router(router)
    app.include_router(imageanalysis.router)
    app.include_router(formrecognizer_v2.router)
    app.include_router(custom_v2.router)
    app.include_router(gallery.router)
    app.include_router(batch.router)
    app.add_middleware(NormalizePath)
    return app
