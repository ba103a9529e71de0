"""Turn a request body into a document file on disk, whatever way the caller sent it.

Raw bytes under any content type (the SDKs say octet-stream for everything, and DI labels raw file bytes
``application/json`` at times), chunked or not, are streamed to disk under the size limit, so an oversized
upload is refused as it arrives. A body that parses as a JSON object is a source reference: ``url`` (CV),
``source`` (FR v2), ``urlSource`` or ``base64Source`` (FR v3, DI); a JSON string is base64 (DI's bytearray).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from pathlib import Path

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from ..errors import ContentTooLarge, InvalidContent, InvalidRequest, InvalidUrlSource
from .fetch import UrlPolicy, fetch

JSON_SNIFF_LIMIT = 64 * 1024 * 1024  # a JSON source reference larger than this is not one
URL_KEYS = ("url", "urlSource", "source")


async def receive_document(
    request: Request,
    work_dir: Path,
    *,
    max_bytes: int,
    policy: UrlPolicy,
    url_timeout: float,
    max_redirects: int,
) -> Path:
    """Write the document the request carries to a new file under ``work_dir`` and return its path."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise ContentTooLarge(f"The request body is {declared} bytes; the limit is {max_bytes} bytes.")
    fd, name = tempfile.mkstemp(dir=work_dir, suffix=".upload")
    path = Path(name)
    try:
        size = 0
        head = b""
        with os.fdopen(fd, "wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    raise ContentTooLarge(f"The request body is larger than the limit of {max_bytes} bytes.")
                if len(head) < 16:
                    head += chunk[:16]
                fh.write(chunk)
        if size == 0:
            raise InvalidContent("The request body is empty: send a document or a JSON source.")
        if head.lstrip()[:1] in (b"{", b'"') and size <= JSON_SNIFF_LIMIT:
            reference = _parse_json(path)
            if reference is not None:
                await _resolve_reference(reference, path, max_bytes, policy, url_timeout, max_redirects)
        return path
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _parse_json(path: Path) -> dict[str, object] | str | None:
    """The JSON body, or None when the bytes are a document that merely starts like JSON."""
    try:
        value = json.loads(path.read_bytes())
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict | str) else None


async def _resolve_reference(
    ref: dict[str, object] | str,
    path: Path,
    max_bytes: int,
    policy: UrlPolicy,
    url_timeout: float,
    max_redirects: int,
) -> None:
    if isinstance(ref, str):
        _write_base64(ref, path, max_bytes)
        return
    if isinstance(ref.get("base64Source"), str):
        _write_base64(ref["base64Source"], path, max_bytes)  # type: ignore[arg-type]
        return
    url = next((ref[k] for k in URL_KEYS if isinstance(ref.get(k), str)), None)
    if url is None:
        raise InvalidRequest(
            "The JSON body must carry the document: 'url' (Computer Vision), 'source' (Form Recognizer v2), "
            "'urlSource' or 'base64Source'."
        )
    if not url.strip():
        raise InvalidUrlSource("The URL source is empty.")
    await run_in_threadpool(
        fetch,
        url.strip(),
        path,
        policy=policy,
        max_bytes=max_bytes,
        timeout=url_timeout,
        max_redirects=max_redirects,
    )


def _write_base64(data: str, path: Path, max_bytes: int) -> None:
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidContent("base64Source is not valid base64.") from None
    if len(raw) > max_bytes:
        raise ContentTooLarge(f"The document is {len(raw)} bytes; the limit is {max_bytes} bytes.")
    path.write_bytes(raw)
