"""What the image analysis routes of every family share: the vision worker pool on the application, reading the
picture a request carries, case-insensitive query parameters, and routes that render their own errors.

Not a route module: Computer Vision v1.0–v3.2 (:mod:`.routes.vision`) and Image Analysis 4.0
(:mod:`.routes.imageanalysis`) both build on it.
"""

from __future__ import annotations

import email.parser
import email.policy
import io
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from ..errors import InvalidUrlSource, PerceptError
from ..io.http import GuardedClient, OutboundError, TooLarge, UrlPolicy
from ..vision.image import BadArgument, ImageLimits, InvalidImageFormat, InvalidImageSize, TooManyRequests
from ..vision.service import VisionService
from ..vision.settings import VisionSettings
from .deps import get_services

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
_DRAIN_FACTOR = 4  # an oversized upload is read (and dropped) up to this many limits, so the client sees the answer


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


def retry_headers(exc: PerceptError) -> dict[str, str]:
    """Retry-After only on a 429: azure-core retries any error that carries one (SDK-CALLS.md 1.4)."""
    return {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else {}


def error_route(render: Callable[[Request, PerceptError], Response]) -> type[APIRoute]:
    """A route class whose errors (its dependencies' too) are rendered by ``render`` instead of the app's
    handlers, which know one envelope per family, not per version."""

    class ErrorRoute(APIRoute):
        def get_route_handler(self) -> Handler:
            inner = super().get_route_handler()

            async def handler(request: Request) -> Response:
                try:
                    return await inner(request)
                except PerceptError as exc:
                    return render(request, exc)
                except RequestValidationError as exc:
                    first = exc.errors()[0] if exc.errors() else {}
                    where = ".".join(str(p) for p in first.get("loc", ()))
                    return render(request, BadArgument(f"Invalid parameter {where}: {first.get('msg', 'invalid')}."))

            return handler

    return ErrorRoute


# ---- the worker pool, one per application ----------------------------------------------------------------------


@asynccontextmanager
async def vision_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """End the vision pool with the application (once, whichever router brings this lifespan). The pool itself
    starts on the first image request, so a server that analyzes no images loads no models."""
    try:
        yield
    finally:
        service: VisionService | None = getattr(app.state, "vision", None)
        app.state.vision = None
        if service is not None:
            await run_in_threadpool(service.stop)


def get_vision(request: Request) -> VisionService:
    """The application's vision pool, made on first use. Its galleries are the server's data directory's unless
    ``PERCEPT_VISION_GALLERY_DIR`` says otherwise (``percept serve --data-dir`` is not in the workers' environment,
    so it travels in the settings)."""
    service: VisionService | None = getattr(request.app.state, "vision", None)
    if service is None:
        settings = VisionSettings()
        if not settings.gallery_dir:
            data_dir = get_services(request).settings.data_dir
            settings = settings.model_copy(update={"gallery_dir": str(Path(data_dir) / "galleries")})
        service = request.app.state.vision = VisionService(settings)
    return service


# ---- request bodies -------------------------------------------------------------------------------------------


async def read_image(request: Request, limits: ImageLimits, *, multipart: bool = True) -> bytes:
    """The picture a request carries: raw bytes, a JSON ``{"url": ...}`` (fetched under ``url_allow``), or the
    first part of a multipart form. Over ``limits.max_bytes``: InvalidImageSize."""
    limit = limits.max_bytes
    data = bytearray()
    async for chunk in request.stream():
        if len(data) <= limit * _DRAIN_FACTOR:
            data += chunk
    if len(data) > limit * _DRAIN_FACTOR or (len(data) > limit and data.lstrip()[:1] != b"{"):
        raise InvalidImageSize(f"The image is larger than the limit of {limit} bytes.")
    content_type = request.headers.get("content-type", "").lower()
    if multipart and content_type.startswith("multipart/form-data"):
        return _first_part(bytes(data), request.headers["content-type"])
    if data.lstrip()[:1] == b"{":
        try:
            body = json.loads(data)
        except ValueError:
            body = None
        if isinstance(body, dict):
            return await _fetch(request, body, limits)
    if not data:
        raise InvalidImageFormat('The request body is empty: send an image or a JSON {"url": ...}.')
    return bytes(data)


def _first_part(data: bytes, content_type: str) -> bytes:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + data)
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and payload:
            return payload
    raise InvalidImageFormat("The multipart form holds no image.")


async def _fetch(request: Request, body: dict[str, Any], limits: ImageLimits) -> bytes:
    url = body.get("url")
    if not isinstance(url, str) or not url.strip():
        raise InvalidUrlSource('The JSON body must name the image as {"url": "..."}.')
    services = get_services(request)
    s = services.settings
    return await run_in_threadpool(
        _download, url.strip(), services.policy, limits.max_bytes, s.url_timeout, s.max_redirects
    )


def _download(url: str, policy: UrlPolicy, max_bytes: int, timeout: float, max_redirects: int) -> bytes:
    sink = io.BytesIO()
    try:
        with GuardedClient(policy, max_redirects=max_redirects) as client, client.stream(url, seconds=timeout) as r:
            if r.status_code != 200:
                raise OutboundError(f"answered HTTP {r.status_code}.", r.status_code)
            client.read_into(r, sink, max_bytes=max_bytes)
    except TooLarge as exc:
        raise InvalidImageSize(exc.sentence("The image at the URL")) from None
    except OutboundError as exc:
        raise InvalidUrlSource(exc.sentence("The image URL")) from None
    if not sink.tell():
        raise InvalidImageFormat("The image URL returned no data.")
    return sink.getvalue()


def query(request: Request, name: str) -> str | None:
    """A query parameter by name, case-insensitively (Azure's names are)."""
    wanted = name.lower()
    for key, value in request.query_params.multi_items():
        if key.lower() == wanted:
            return value
    return None
