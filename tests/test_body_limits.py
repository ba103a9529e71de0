"""Request bodies are bounded while they stream, and large JSON bodies are parsed off the event loop.

The attacks: a 400 MiB JSON body to the training route was read whole into memory (136 → 935 MiB), and a
61 MiB base64Source body was parsed and decoded on the event loop, stalling ``/health`` for 1.6 s.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import builders
import httpx
import psutil
import pytest
from server_harness import KEY, start_server

HEADERS = {"Ocp-Apim-Subscription-Key": KEY, "Content-Type": "application/json"}
DI_READ = "/documentintelligence/documentModels/prebuilt-read:analyze?api-version=2024-11-30"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """A server of its own, so its memory reflects these requests only."""
    srv = start_server(tmp_path_factory.mktemp("limits") / "data")
    yield srv
    srv.stop()


@dataclass
class Watch:
    rss_before: int
    rss_peak: int = 0
    health: list[float] = field(default_factory=list)  # seconds each /health probe took
    failures: list[str] = field(default_factory=list)

    @property
    def growth_mb(self) -> float:
        return (self.rss_peak - self.rss_before) / MB


@contextmanager
def watching(server) -> Iterator[Watch]:
    """Sample the server process's RSS and probe ``/health`` from threads while the block runs."""
    proc = psutil.Process(server.process.pid)
    watch = Watch(rss_before=proc.memory_info().rss)
    watch.rss_peak = watch.rss_before
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            watch.rss_peak = max(watch.rss_peak, proc.memory_info().rss)
            time.sleep(0.01)

    def probe() -> None:
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                start = time.monotonic()
                try:
                    ok = client.get(server.endpoint + "/health").status_code == 200
                except httpx.HTTPError as exc:
                    ok, reason = False, repr(exc)
                else:
                    reason = "status"
                watch.health.append(time.monotonic() - start)
                if not ok:
                    watch.failures.append(reason)
                time.sleep(0.05)

    threads = [threading.Thread(target=sample, daemon=True), threading.Thread(target=probe, daemon=True)]
    for t in threads:
        t.start()
    try:
        yield watch
    finally:
        stop.set()
        for t in threads:
            t.join(15)


def _chunked_json(head: bytes, total: int) -> Iterator[bytes]:
    """A JSON body of ``total`` bytes sent chunked (no Content-Length): a string value that never ends."""
    yield head
    chunk = b"A" * MB
    for _ in range(total // MB):
        yield chunk
    yield b'"}'


def _error(body: dict) -> tuple[str, str | None]:
    error = body["error"]
    return error["code"], error.get("innererror", {}).get("code")


@pytest.mark.parametrize(
    ("path", "head", "codes"),
    [
        # Form Recognizer v2: the specific code at the top.
        ("/formrecognizer/v2.1/custom/models", b'{"source": "', ("ContentLengthExceeded", None)),
        # Document Intelligence: InvalidRequest with the specific code inside.
        (
            "/documentintelligence/documentModels:build?api-version=2024-11-30",
            b'{"modelId": "m1", "description": "',
            ("InvalidRequest", "ContentLengthExceeded"),
        ),
        (DI_READ, b'{"base64Source": "', ("InvalidRequest", "ContentLengthExceeded")),
        ("/vision/v3.2/read/analyze", b'{"url": "', ("ContentLengthExceeded", "ContentLengthExceeded")),
    ],
    ids=["fr-v2-train", "di-build", "di-analyze", "cv-read"],
)
def test_huge_chunked_json_body_is_refused_as_it_streams(server, path: str, head: bytes, codes: tuple) -> None:
    with watching(server) as watch:
        r = httpx.post(server.endpoint + path, content=_chunked_json(head, 300 * MB), headers=HEADERS, timeout=120)
    assert r.status_code == 413, r.text
    assert _error(r.json()) == codes
    assert "larger than the limit" in r.json()["error"]["message"]
    assert watch.growth_mb < 150, watch.growth_mb
    assert not watch.failures and watch.health, watch.failures
    assert max(watch.health) < 1.0, max(watch.health)
    assert list((server.data_dir / "operations").glob("*.upload")) == []  # the partial upload is gone


def test_control_body_over_the_limit_is_refused_before_reading(server) -> None:
    body = json.dumps({"modelId": "m2", "buildMode": "template", "description": "x" * (2 * MB)}).encode()
    r = httpx.post(
        server.endpoint + "/formrecognizer/documentModels:build?api-version=2023-07-31", content=body, headers=HEADERS
    )
    assert r.status_code == 413
    assert _error(r.json()) == ("InvalidRequest", "ContentLengthExceeded")


@pytest.mark.parametrize(
    ("path", "status", "codes"),
    [
        # A control body nested past the parser's stack is invalid JSON, not a RecursionError 500 (found by fuzzing).
        ("/formrecognizer/documentModels:build?api-version=2023-07-31", 400, ("InvalidRequest", None)),
        ("/formrecognizer/v2.1/custom/models", 400, ("InvalidRequest", None)),
        # A document body nested so deep is no source reference: bytes of no known format.
        (DI_READ, 400, ("InvalidRequest", "InvalidContent")),
    ],
    ids=["fr-build", "fr-v2-train", "di-analyze"],
)
def test_deeply_nested_json_is_a_400_not_a_500(server, path: str, status: int, codes: tuple) -> None:
    body = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    r = httpx.post(server.endpoint + path, content=body, headers=HEADERS, timeout=60)
    assert r.status_code == status, r.text
    assert _error(r.json()) == codes


def _big_pdf(lines: list[str], padding: int) -> bytes:
    """A real PDF of ``lines`` carrying ``padding`` bytes of incompressible image data (an image XObject added in
    an incremental update), so it is large on the wire but quick to read."""
    pdf = builders.text_pdf([lines])
    root = re.search(rb"/Root (\d+ \d+ R)", pdf).group(1)
    size = int(re.search(rb"/Size (\d+)", pdf).group(1))
    prev = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    side = int(padding**0.5)
    noise = os.urandom(side * side)
    at = len(pdf) + 1
    image = (
        b"\n%d 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Length %d >>\nstream\n" % (size, side, side, len(noise))
    )
    body = pdf + image + noise + b"\nendstream\nendobj\n"
    trailer = b"xref\n%d 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root %s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        at,
        size + 1,
        root,
        prev,
        len(body),
    )
    return body + trailer


def _poll(server, location: str) -> dict:
    for _ in range(240):
        body = httpx.get(location, headers=HEADERS, timeout=30).json()
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.25)
    raise AssertionError("did not finish")


def test_large_base64_source_is_decoded_off_the_loop(server) -> None:
    lines = ["Percept reads large documents", "sent as base64 inside JSON"]
    pdf = _big_pdf(lines, 45_100_000)
    body = json.dumps({"base64Source": base64.b64encode(pdf).decode()}).encode()
    assert len(pdf) > 45_000_000 and len(body) > 57 * MB
    with watching(server) as watch:
        r = httpx.post(server.endpoint + DI_READ, content=body, headers=HEADERS, timeout=120)
        assert r.status_code == 202, r.text
        del body
        result = _poll(server, r.headers["Operation-Location"])
    assert result["status"] == "succeeded", result
    assert result["analyzeResult"]["content"] == "\n".join(lines)
    assert not watch.failures and len(watch.health) >= 3, watch.failures
    assert max(watch.health) < 1.0, max(watch.health)
    # The body is decoded from the file in chunks: not read, parsed and decoded as several whole copies.
    assert watch.growth_mb < 150, watch.growth_mb


@pytest.mark.parametrize("form", ["escaped-slashes", "json-string", "other-keys"])
def test_base64_sources_in_every_json_form(server, digital_pdf: bytes, truth: str, form: str) -> None:
    """JSON may escape '/' as '\\/', DI sends a bytearray as a bare JSON string, and other keys may come along."""
    encoded = base64.b64encode(digital_pdf).decode()
    if form == "escaped-slashes":
        assert "/" in encoded
        body = ('{"base64Source": "' + encoded.replace("/", "\\/") + '"}').encode()
    elif form == "json-string":
        body = json.dumps(encoded).encode()
    else:
        body = json.dumps({"urlSource": None, "base64Source": encoded, "extra": {"a": [1, "}"]}}).encode()
    r = httpx.post(server.endpoint + DI_READ, content=body, headers=HEADERS)
    assert r.status_code == 202, r.text
    result = _poll(server, r.headers["Operation-Location"])
    assert result["analyzeResult"]["content"].startswith(truth.splitlines()[0])


@pytest.mark.parametrize(
    "payload",
    ['{"base64Source": "AAAA=AAA"}', '{"base64Source": "AAA"}', '{"base64Source": "AA AA"}', '"JVBERi0x*"'],
    ids=["padding-inside", "bad-length", "blank-inside", "bad-character"],
)
def test_invalid_base64_is_a_clear_400(server, payload: str) -> None:
    r = httpx.post(server.endpoint + DI_READ, content=payload.encode(), headers=HEADERS)
    assert r.status_code == 400
    assert _error(r.json()) == ("InvalidRequest", "InvalidContent")
    assert "not valid base64" in r.json()["error"]["message"]
