"""Request bodies: documents streamed to disk, JSON source references, and small JSON control bodies.

Raw bytes under any content type (the SDKs say octet-stream for everything, and DI labels raw file bytes
``application/json`` at times), chunked or not, are streamed to disk under the size limit, so an oversized
upload is refused as it arrives. A body that parses as a JSON object is a source reference: ``url`` (CV),
``source`` (FR v2), ``urlSource`` or ``base64Source`` (FR v3, DI); a JSON string is base64 (DI's bytearray).

Every body is bounded while it streams. A body whose first byte is ``{`` or ``"`` is JSON (no supported
document format starts that way) and may not pass :data:`JSON_SOURCE_LIMIT`, enough for a ~48 MB document in
base64; control bodies (train, build, compose, copy) may not pass :data:`JSON_BODY_LIMIT`. Parsing and base64
decoding of a large body run off the event loop, on the file mapped into memory, decoding in chunks straight
to the document file, so a 60 MB base64 body costs a few MB of memory rather than several copies of itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import mmap
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from ..errors import ContentTooLarge, InvalidContent, InvalidRequest, InvalidUrlSource, ParameterMissing
from ..io.http import UrlPolicy, fetch

JSON_SOURCE_LIMIT = 64 * 1024 * 1024  # a JSON source reference (base64Source included) larger than this: 413
JSON_BODY_LIMIT = 1024 * 1024  # a JSON control body (train, build, compose, copy) larger than this: 413
URL_KEYS = ("url", "urlSource", "source")
_JSON_START = (b"{", b'"')
_WHITESPACE = b" \t\r\n"
_PARSE_ON_LOOP = 64 * 1024  # smaller JSON is parsed on the loop: a thread hop would cost more
_SMALL_STRING = 1024 * 1024  # larger string values stay unparsed spans of the file until needed
_B64_CHUNK = 4 * 1024 * 1024  # a multiple of 4, so chunks decode independently


def _declared_length(request: Request) -> int | None:
    declared = request.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else None


async def read_json_body(request: Request, limit: int = JSON_BODY_LIMIT) -> dict[str, Any]:
    """The request's JSON object, read under ``limit`` bytes as it streams (413 past it)."""
    too_large = f"The JSON request body is larger than the limit of {limit} bytes."
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        raise ContentTooLarge(too_large)
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise ContentTooLarge(too_large)
    try:
        body = json.loads(raw or b"null") if len(raw) <= _PARSE_ON_LOOP else await run_in_threadpool(json.loads, raw)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack
        raise InvalidRequest("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return body


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
    declared = _declared_length(request)
    if declared is not None and declared > max_bytes:
        raise ContentTooLarge(f"The request body is {declared} bytes; the limit is {max_bytes} bytes.")
    fd, name = tempfile.mkstemp(dir=work_dir, suffix=".upload")
    path = Path(name)
    try:
        size = 0
        first = b""  # the body's first non-blank byte: b"{" or b'"' makes it JSON
        limit = max_bytes
        with os.fdopen(fd, "wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if not first and chunk.strip(_WHITESPACE):
                    first = chunk.lstrip(_WHITESPACE)[:1]
                    if first in _JSON_START:
                        limit = JSON_SOURCE_LIMIT
                        if declared is not None and declared > limit:
                            raise ContentTooLarge(_too_large(limit, json_body=True))
                if size > limit:
                    raise ContentTooLarge(_too_large(limit, json_body=first in _JSON_START))
                fh.write(chunk)
        if size == 0:
            raise InvalidContent("The request body is empty: send a document or a JSON source.")
        if first in _JSON_START:
            url = await run_in_threadpool(_read_reference, path, max_bytes)
            if url is not None:
                await run_in_threadpool(
                    fetch,
                    url,
                    path,
                    policy=policy,
                    max_bytes=max_bytes,
                    timeout=url_timeout,
                    max_redirects=max_redirects,
                )
        return path
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _too_large(limit: int, *, json_body: bool) -> str:
    if json_body:
        return (
            f"The JSON request body is larger than the limit of {limit} bytes; send a large document as raw bytes "
            "(application/octet-stream) instead of base64."
        )
    return f"The request body is larger than the limit of {limit} bytes."


class _NotJson(Exception):
    """The bytes start like JSON but are not: they are taken for a document (and its type is then refused)."""


@dataclass(frozen=True, slots=True)
class _Span:
    """A large JSON string left in the file: ``start``/``end`` are its quotes' offsets (end exclusive)."""

    start: int
    end: int


def _read_reference(path: Path, max_bytes: int) -> str | None:
    """Resolve a JSON body in place: base64 is decoded into ``path``; a URL is returned for fetching;
    bytes that are not JSON are left as the document. Runs in a worker thread."""
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        try:
            value = _Scanner(buf).document()
        except _NotJson:
            return None
        if isinstance(value, _Span | str):
            _decode_base64(buf, value, path, max_bytes)
            return None
        b64 = value.get("base64Source")
        if isinstance(b64, _Span | str):
            _decode_base64(buf, b64, path, max_bytes)
            return None
        for key in URL_KEYS:
            url = value.get(key)
            if isinstance(url, _Span):
                url = json.loads(buf[url.start : url.end])
            if isinstance(url, str):
                if not url.strip():
                    raise InvalidUrlSource("The URL source is empty.")
                return url.strip()
    raise ParameterMissing(
        "The parameter urlSource or base64Source is required (Computer Vision: 'url'; Form Recognizer v2: 'source')."
    )


_SCALAR = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null")
_NESTED = re.compile(rb'["{}\[\]]')


class _Scanner:
    """Just enough of a JSON parser to find a top-level object's values without copying large strings:
    every value is checked by ``json.loads`` except strings over :data:`_SMALL_STRING`, which stay spans."""

    def __init__(self, buf: mmap.mmap) -> None:
        self.buf = buf
        self.n = len(buf)

    def document(self) -> dict[str, Any] | _Span | str:
        i = self._blank(0)
        if i < self.n and self.buf[i] == ord('"'):
            end = self._string_end(i)
            value: dict[str, Any] | _Span | str = self._string(i, end)
        elif i < self.n and self.buf[i] == ord("{"):
            value, end = self._object(i)
        else:
            raise _NotJson
        if self._blank(end) != self.n:
            raise _NotJson
        return value

    def _blank(self, i: int) -> int:
        while i < self.n and self.buf[i] in _WHITESPACE:
            i += 1
        return i

    def _string_end(self, i: int) -> int:
        """Offset after the string whose opening quote is at ``i``."""
        j = i + 1
        while True:
            q = self.buf.find(b'"', j)
            if q < 0:
                raise _NotJson
            k = q
            while self.buf[k - 1] == ord("\\"):  # an odd run of backslashes escapes the quote
                k -= 1
            if (q - k) % 2 == 0:
                return q + 1
            j = q + 1

    def _string(self, start: int, end: int) -> _Span | str:
        if end - start > _SMALL_STRING:
            return _Span(start, end)
        text: str = self._loads(start, end)
        return text

    def _loads(self, start: int, end: int) -> Any:
        try:
            return json.loads(self.buf[start:end])
        except (ValueError, RecursionError):  # nesting deeper than the parser's stack is not a source reference
            raise _NotJson from None

    def _value_end(self, i: int) -> int:
        c = self.buf[i] if i < self.n else -1
        if c == ord('"'):
            return self._string_end(i)
        if c in (ord("{"), ord("[")):
            depth, j = 0, i
            while True:
                m = _NESTED.search(self.buf, j)
                if m is None:
                    raise _NotJson
                t = m.group()
                if t == b'"':
                    j = self._string_end(m.start())
                    continue
                depth += 1 if t in (b"{", b"[") else -1
                j = m.end()
                if depth == 0:
                    return j
        m = _SCALAR.match(self.buf, i)
        if m is None:
            raise _NotJson
        return m.end()

    def _object(self, i: int) -> tuple[dict[str, Any], int]:
        out: dict[str, Any] = {}
        i = self._blank(i + 1)
        if i < self.n and self.buf[i] == ord("}"):
            return out, i + 1
        while True:
            if i >= self.n or self.buf[i] != ord('"'):
                raise _NotJson
            key_end = self._string_end(i)
            key = self._loads(i, key_end)
            i = self._blank(key_end)
            if i >= self.n or self.buf[i] != ord(":"):
                raise _NotJson
            start = self._blank(i + 1)
            end = self._value_end(start)
            is_string = self.buf[start] == ord('"')
            out[key] = self._string(start, end) if is_string else self._loads(start, end)
            i = self._blank(end)
            if i < self.n and self.buf[i] == ord(","):
                i = self._blank(i + 1)
                continue
            if i < self.n and self.buf[i] == ord("}"):
                return out, i + 1
            raise _NotJson


def _decode_base64(buf: mmap.mmap, value: _Span | str, path: Path, max_bytes: int) -> None:
    """Decode base64 into a new file that then replaces ``path``, chunk by chunk straight from the mapped body
    when the string has no JSON escapes (base64 needs none), else from the parsed string."""
    if isinstance(value, _Span) and buf.find(b"\\", value.start, value.end) >= 0:
        value = json.loads(buf[value.start : value.end])
    data: mmap.mmap | bytes = value.encode("ascii", "replace") if isinstance(value, str) else buf
    start, end = (0, len(data)) if isinstance(value, str) else (value.start + 1, value.end - 1)
    invalid = InvalidContent("base64Source is not valid base64.")
    length = end - start
    if length % 4:
        raise invalid
    padding = 0 if length == 0 else (data[end - 1 : end] == b"=") + (data[end - 2 : end] == b"==")
    decoded = length // 4 * 3 - padding
    if decoded > max_bytes:
        raise ContentTooLarge(f"The document is {decoded} bytes; the limit is {max_bytes} bytes.")
    fd, name = tempfile.mkstemp(dir=path.parent, suffix=".upload")
    try:
        with os.fdopen(fd, "wb") as out:
            for a in range(start, end, _B64_CHUNK):
                b = min(a + _B64_CHUNK, end)
                piece = data[a:b]
                if b < end and b"=" in piece:  # padding only at the very end
                    raise invalid
                try:
                    out.write(base64.b64decode(piece, validate=True))
                except (binascii.Error, ValueError):
                    raise invalid from None
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
