"""The seeds' ``requests`` scripts, auth, bad input, URL safety, crash recovery and retention, over real HTTP."""

from __future__ import annotations

import json
import time
from pathlib import Path

import builders
import pytest
import requests
from server_harness import KEY, file_server, start_server

from percept.evaluation import cer

HEADERS = {"Ocp-Apim-Subscription-Key": KEY}


def _poll(url: str, done, headers=HEADERS, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = requests.get(url, headers=headers, timeout=30).json()
        if done(body):
            return body
        time.sleep(0.3)
    raise AssertionError(f"{url} did not finish: {body}")


def test_seed_v1_recognize_text_polls_until_recognition_result(server, scan_png: Path, truth: str) -> None:
    # As the v1.0 notebook does it: POST RecognizeText with a JSON url, then poll until recognitionResult appears.
    with file_server() as files:
        files.files["/page.png"] = scan_png.read_bytes()
        response = requests.post(
            server.endpoint + "/vision/v1.0/RecognizeText",
            headers=HEADERS,
            params={"handwriting": False},
            json={"url": f"http://localhost:{files.port}/page.png"},
        )
        response.raise_for_status()
        assert response.status_code == 202 and "Location" not in response.headers
        operation_url = response.headers["Operation-Location"]
        analysis = _poll(operation_url, lambda b: "recognitionResult" in b)
    assert analysis["status"] == "Succeeded"
    polygons = [(line["boundingBox"], line["text"]) for line in analysis["recognitionResult"]["lines"]]
    assert all(len(p) == 8 and all(isinstance(v, int) for v in p) for p, _ in polygons)
    assert cer("\n".join(t for _, t in polygons), truth) <= 0.01


def test_seed_v1_ocr_from_disk(server, scan_png: Path, truth: str) -> None:
    headers = {**HEADERS, "Content-Type": "application/octet-stream"}
    response = requests.post(
        server.endpoint + "/vision/v1.0/ocr",
        headers=headers,
        params={"language": "unk", "detectOrientation": "true"},
        data=scan_png.read_bytes(),
    )
    response.raise_for_status()
    analysis = response.json()
    word_infos = [w for region in analysis["regions"] for line in region["lines"] for w in line["words"]]
    assert cer(" ".join(w["text"] for w in word_infos), truth) <= 0.01
    assert all(len(w["boundingBox"].split(",")) == 4 for w in word_infos)


def test_v2_recognize_text_reports_not_started_with_a_space_until_done(server, scan_png: Path, truth) -> None:
    response = requests.post(
        server.endpoint + "/vision/v2.0/recognizeText",
        headers=HEADERS,
        params={"mode": "Printed"},
        data=scan_png.read_bytes(),
    )
    assert response.status_code == 202
    first = requests.get(response.headers["Operation-Location"], headers=HEADERS).json()
    assert first["status"] in ("Not Started", "Running", "Succeeded")
    body = _poll(response.headers["Operation-Location"], lambda b: b["status"] in ("Succeeded", "Failed"))
    assert cer("\n".join(ln["text"] for ln in body["recognitionResult"]["lines"]), truth) <= 0.01


def test_v21_batch_read(server, digital_pdf: bytes) -> None:
    response = requests.post(
        server.endpoint + "/vision/v2.1/read/core/asyncBatchAnalyze", headers=HEADERS, data=digital_pdf
    )
    assert response.status_code == 202 and "/vision/v2.1/read/operations/" in response.headers["Operation-Location"]
    body = _poll(response.headers["Operation-Location"], lambda b: b["status"] in ("Succeeded", "Failed"))
    pages = body["recognitionResults"]
    assert [p["page"] for p in pages] == [1, 2] and pages[0]["unit"] == "inch"
    assert [ln["text"] for ln in pages[0]["lines"]] == builders.PARAGRAPH


def test_seed_v32_read_script(server, scan_png: Path, truth: str) -> None:
    response = requests.post(
        server.endpoint + "/vision/v3.2/read/analyze",
        headers={**HEADERS, "Content-Type": "application/octet-stream"},
        data=scan_png.read_bytes(),
    )
    assert response.status_code == 202
    location = response.headers["Operation-Location"]
    assert "?" not in location and location.rsplit("/", 1)[-1]
    body = _poll(location, lambda b: b["status"] not in ("notStarted", "running"))
    assert body["status"] == "succeeded"
    assert body["createdDateTime"].endswith("Z") and len(body["createdDateTime"]) == 20
    lines = [ln["text"] for page in body["analyzeResult"]["readResults"] for ln in page["lines"]]
    assert cer("\n".join(lines), truth) <= 0.01


def test_mount_prefix_and_duplicate_slashes(server, digital_pdf: bytes) -> None:
    response = requests.post(
        server.endpoint + "/prefix//documentintelligence/documentModels/prebuilt-read:analyze",
        params={"api-version": "2024-11-30"},
        headers=HEADERS,
        data=digital_pdf,
    )
    assert response.status_code == 202
    location = response.headers["Operation-Location"]
    assert location.startswith(server.endpoint + "/prefix/documentintelligence/")
    body = _poll(location, lambda b: b["status"] in ("succeeded", "failed"))
    assert body["analyzeResult"]["content"].startswith(builders.PARAGRAPH[0])


AUTH_CASES = [
    ("post", "/vision/v3.2/read/analyze", {}),
    ("post", "/vision/v3.2/ocr", {}),
    ("post", "/vision/v2.1/recognizeText", {}),
    ("post", "/vision/v1.0/ocr", {}),
    ("get", "/vision/v1.0/textOperations/x", {}),
    ("post", "/formrecognizer/documentModels/prebuilt-read:analyze", {"api-version": "2023-07-31"}),
    ("get", "/formrecognizer/info", {"api-version": "2022-08-31"}),
    ("post", "/documentintelligence/documentModels/prebuilt-read:analyze", {"api-version": "2024-11-30"}),
    ("get", "/documentintelligence/documentModels", {"api-version": "2024-11-30"}),
]


@pytest.mark.parametrize(("method", "path", "params"), AUTH_CASES)
@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_missing_or_wrong_key_is_401_in_the_family_shape(server, method, path, params, key) -> None:
    headers = {"Ocp-Apim-Subscription-Key": key} if key else {}
    response = requests.request(method, server.endpoint + path, params=params, headers=headers, data=b"x")
    assert response.status_code == 401
    body = response.json()
    assert body["error"]["code"] == "401" and "subscription key" in body["error"]["message"]
    if path.startswith("/vision"):
        assert body["code"] == "401"  # CV read clients read the flat fields


DI_ANALYZE = "/documentintelligence/documentModels/prebuilt-read:analyze?api-version=2024-11-30"


@pytest.mark.parametrize(
    ("body", "content_type", "outer", "inner"),
    [
        # Azure answers unrecognisable bytes (and a JSON body cut short, which is bytes too) 400 InvalidContent.
        (b"\x00\x01garbage bytes that are no document", "application/octet-stream", "InvalidRequest", "InvalidContent"),
        (b"", "application/octet-stream", "InvalidRequest", "InvalidContent"),
        (b'{"urlSource": ', "application/json", "InvalidRequest", "InvalidContent"),
        # What Azure answers (azure-sdk-for-python#36434): InvalidArgument / ParameterMissing, "The parameter
        # urlSource or base64Source is required."
        (b'{"nothing": 1}', "application/json", "InvalidArgument", "ParameterMissing"),
        (b'{"base64Source": "***"}', "application/json", "InvalidRequest", "InvalidContent"),
        (b"%PDF-1.7\n" + b"\x00" * 500, "application/pdf", "InvalidRequest", "InvalidContent"),
    ],
)
def test_bad_input_gets_a_json_error_not_a_500(server, body: bytes, content_type: str, outer: str, inner: str) -> None:
    response = requests.post(server.endpoint + DI_ANALYZE, headers={**HEADERS, "Content-Type": content_type}, data=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error.get("innererror", {}).get("code")) == (outer, inner), response.text
    assert "Retry-After" not in response.headers


def test_bad_input_sdk_error(server) -> None:
    from azure.ai.documentintelligence import DocumentIntelligenceClient
    from azure.core.credentials import AzureKeyCredential
    from azure.core.exceptions import HttpResponseError

    client = DocumentIntelligenceClient(server.endpoint, AzureKeyCredential(KEY))
    with pytest.raises(HttpResponseError) as err:
        client.begin_analyze_document("prebuilt-read", b"not a document at all")
    assert err.value.status_code == 400  # Azure: 400 InvalidRequest / InvalidContent for bytes of no known format
    assert err.value.error.code == "InvalidRequest"
    assert err.value.error.innererror["code"] == "InvalidContent"


def test_oversized_upload_is_refused_while_streaming(tmp_path: Path) -> None:
    srv = start_server(tmp_path / "data", PERCEPT_MAX_DOCUMENT_BYTES=str(1 << 20))
    try:
        sent = 0

        def body():  # chunked, no Content-Length: the server must count as it reads
            nonlocal sent
            for _ in range(64):
                sent += 1 << 16
                yield b"\x89PNG\r\n\x1a\n" + b"\x00" * ((1 << 16) - 8)

        response = requests.post(srv.endpoint + DI_ANALYZE, headers=HEADERS, data=body())
        assert response.status_code == 413
        assert response.json()["error"]["innererror"]["code"] == "ContentLengthExceeded"
        declared = requests.post(
            srv.endpoint + DI_ANALYZE, headers={**HEADERS, "Content-Length": str(5 << 20)}, data=b"x" * (5 << 20)
        )
        assert declared.status_code == 413
        assert not list((tmp_path / "data" / "operations").glob("*.upload"))  # nothing left behind
    finally:
        srv.stop()


@pytest.mark.parametrize("target", ["127.0.0.1", "169.254.169.254", "redirect"])
def test_url_sources_to_private_addresses_are_refused_without_connecting(server, target: str) -> None:
    with file_server() as files:
        files.files["/secret.png"] = b"\x89PNG\r\n\x1a\nsecret"
        if target == "redirect":
            files.redirects["/hop"] = f"http://127.0.0.1:{files.port}/secret.png"
            url = f"http://localhost:{files.port}/hop"  # allowed host, redirecting to a refused one
        else:
            url = f"http://{target}:{files.port}/secret.png"
        response = requests.post(server.endpoint + DI_ANALYZE, headers=HEADERS, json={"urlSource": url})
        assert response.status_code == 400
        assert response.json()["error"]["innererror"]["code"] == "InvalidImageUrl"
        assert "/secret.png" not in files.hits
        assert files.hits == (["/hop"] if target == "redirect" else [])


def test_non_http_url_is_refused(server) -> None:
    response = requests.post(server.endpoint + DI_ANALYZE, headers=HEADERS, json={"urlSource": "file:///etc/passwd"})
    assert response.status_code == 400
    assert "http" in response.json()["error"]["message"]


def test_unknown_operation_is_404(server) -> None:
    response = requests.get(
        server.endpoint + "/documentintelligence/documentModels/prebuilt-read/analyzeResults/nope", headers=HEADERS
    )
    assert response.status_code == 404 and response.json()["error"]["code"] == "NotFound"


def test_kill_9_with_operations_pending_then_restart_completes_them(tmp_path: Path, clean_scan, truth) -> None:
    data = tmp_path / "data"
    srv = start_server(data, PERCEPT_WORKERS="1")
    pages = builders.image_pdf([clean_scan] * 3)
    locations = []
    for _ in range(4):
        response = requests.post(srv.endpoint + DI_ANALYZE, headers=HEADERS, data=pages)
        assert response.status_code == 202
        locations.append(response.headers["Operation-Location"])
    srv.kill()  # some operations running, most not started
    stray = data / "operations" / "cut-off.upload"  # as an upload interrupted by the crash leaves behind
    stray.write_bytes(b"partial")
    srv = start_server(data, PERCEPT_WORKERS="2")
    assert not stray.exists()
    try:
        for location in locations:
            location = location.replace(location.split("/documentintelligence")[0], srv.endpoint)
            body = _poll(location, lambda b: b["status"] in ("succeeded", "failed"))
            assert body["status"] == "succeeded"
            assert cer(body["analyzeResult"]["content"], "\n".join([truth] * 3)) <= 0.01
    finally:
        srv.stop()


def test_results_expire_then_404(tmp_path: Path, digital_pdf: bytes) -> None:
    srv = start_server(tmp_path / "data", PERCEPT_RESULT_TTL_HOURS=str(2 / 3600))
    try:
        response = requests.post(srv.endpoint + DI_ANALYZE, headers=HEADERS, data=digital_pdf)
        location = response.headers["Operation-Location"]
        assert _poll(location, lambda b: b["status"] == "succeeded")["analyzeResult"]["content"]
        time.sleep(2.5)
        expired = requests.get(location, headers=HEADERS)
        assert expired.status_code == 404
    finally:
        srv.stop()


def test_generated_key_is_stored_and_printed(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from server_harness import free_port

    env = {k: v for k, v in os.environ.items() if k != "PERCEPT_API_KEYS"}
    data = tmp_path / "data"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "percept.cli", "serve", "--port", str(port), "--data-dir", str(data)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        printed = ""
        deadline = time.monotonic() + 60
        while "generated API key" not in printed and time.monotonic() < deadline:
            printed += proc.stdout.readline()
        key = (data / "api-key").read_text().strip()
        assert key in printed and len(key) == 32
        for _ in range(100):
            try:
                ok = requests.get(
                    f"http://127.0.0.1:{port}/documentintelligence/info?api-version=2024-11-30",
                    headers={"Ocp-Apim-Subscription-Key": key},
                    timeout=1,
                )
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert ok.status_code == 200 and json.loads(ok.text)["customDocumentModels"]["count"] == 0
    finally:
        proc.terminate()
        proc.wait(15)


def test_health_and_openapi_need_no_key(server) -> None:
    health = requests.get(server.endpoint + "/health").json()
    assert health["status"] == "ok" and health["workers"] >= 1
    spec = requests.get(server.endpoint + "/openapi.json").json()
    assert "/documentintelligence/documentModels/{model_id}:analyze" in spec["paths"]
    assert requests.get(server.endpoint + "/docs").status_code == 200


def test_a_long_document_does_not_block_other_requests(server, clean_scan) -> None:
    import threading

    health_times: list[float] = []
    stop = threading.Event()

    def probe() -> None:  # the event loop must answer promptly the whole time
        while not stop.is_set():
            t = time.monotonic()
            requests.get(server.endpoint + "/health", timeout=10)
            health_times.append(time.monotonic() - t)
            stop.wait(0.05)

    long_scan = builders.image_pdf([clean_scan] * 16)
    long_started = time.monotonic()
    response = requests.post(server.endpoint + DI_ANALYZE, headers=HEADERS, data=long_scan)
    location = response.headers["Operation-Location"]
    prober = threading.Thread(target=probe)
    prober.start()
    try:
        too_early = requests.delete(location, headers=HEADERS)  # a running operation's result can't be deleted
        assert too_early.status_code == 409 and too_early.json()["error"]["code"] == "Conflict"
        small_started = time.monotonic()
        small = requests.post(server.endpoint + DI_ANALYZE, headers=HEADERS, data=builders.text_pdf([["tiny"]]))
        body = _poll(small.headers["Operation-Location"], lambda b: b["status"] == "succeeded")
        small_latency = time.monotonic() - small_started
        assert body["analyzeResult"]["content"] == "tiny"
        assert _poll(location, lambda b: b["status"] in ("succeeded", "failed"))["status"] == "succeeded"
        long_total = time.monotonic() - long_started
    finally:
        stop.set()
        prober.join()
    assert small_latency < long_total / 2  # the small document did not wait for the long one
    # a loop blocked by document work would stall for the whole document (4 s and more here)
    assert len(health_times) >= 10 and max(health_times) < 1.0


def test_a_crashed_worker_is_replaced_and_the_document_retried(tmp_path: Path, clean_scan, truth) -> None:
    import signal

    import psutil

    srv = start_server(tmp_path / "data", PERCEPT_WORKERS="2")
    try:
        pages = builders.image_pdf([clean_scan] * 8)
        response = requests.post(srv.endpoint + DI_ANALYZE, headers=HEADERS, data=pages)
        location = response.headers["Operation-Location"]
        deadline = time.monotonic() + 30
        workers: list[psutil.Process] = []
        while not workers and time.monotonic() < deadline:  # the pool's workers: grandchildren via forkserver
            server = psutil.Process(srv.process.pid)
            workers = [
                p
                for p in server.children(recursive=True)
                if p.parent().pid != server.pid and "tesseract" not in p.name()
            ]
            time.sleep(0.1)
        assert workers, "no worker process found"
        time.sleep(0.5)
        workers[0].send_signal(signal.SIGKILL)  # as a native crash or the OOM killer would
        body = _poll(location, lambda b: b["status"] in ("succeeded", "failed"))
        assert body["status"] == "succeeded"
        assert cer(body["analyzeResult"]["content"], "\n".join([truth] * 8)) <= 0.01
        after = requests.post(srv.endpoint + DI_ANALYZE, headers=HEADERS, data=builders.text_pdf([["still alive"]]))
        assert (
            _poll(after.headers["Operation-Location"], lambda b: b["status"] == "succeeded")["analyzeResult"]["content"]
            == "still alive"
        )
        assert "starting a new pool" in srv.log.read_text()
    finally:
        srv.stop()


def test_a_graceful_restart_loses_no_operation(tmp_path: Path, clean_scan, truth) -> None:
    data = tmp_path / "data"
    srv = start_server(data, PERCEPT_WORKERS="1")
    pages = builders.image_pdf([clean_scan] * 3)
    locations = []
    for _ in range(3):
        response = requests.post(srv.endpoint + DI_ANALYZE, headers=HEADERS, data=pages)
        locations.append(response.headers["Operation-Location"].split("/documentintelligence")[1])
    time.sleep(1.0)  # the first one is being read when the server is asked to stop
    srv.stop()  # SIGTERM: uvicorn's graceful shutdown
    srv = start_server(data, PERCEPT_WORKERS="2")
    try:
        for location in locations:
            body = _poll(
                srv.endpoint + "/documentintelligence" + location, lambda b: b["status"] in ("succeeded", "failed")
            )
            assert body["status"] == "succeeded", body
            assert cer(body["analyzeResult"]["content"], "\n".join([truth] * 3)) <= 0.01
    finally:
        srv.stop()


BAD_BODIES = {
    "bomb": lambda: builders.png_header(60000, 60000),
    "encrypted": lambda: builders.text_pdf([["secret"]], encrypt="pw"),
    "pdf": lambda: builders.text_pdf([["one page"]]),
}


@pytest.mark.parametrize(
    ("query", "body", "status", "inner"),
    [
        ("", "bomb", 400, "InvalidContentDimensions"),  # Document Intelligence's code for out-of-range sizes
        ("", "encrypted", 400, "InvalidContent"),
        ("&pages=7-9", "pdf", 400, "InvalidParameter"),
        ("&stringIndexType=bytes", "pdf", 400, "InvalidRequest"),
        ("&outputContentFormat=markdown", "pdf", 400, "InvalidRequest"),
    ],
)
def test_more_bad_requests_are_client_errors(server, query: str, body: str, status: int, inner: str) -> None:
    # Bodies are built here, not in the parameters: generated PDFs carry timestamps, and xdist workers must
    # collect identical test ids.
    response = requests.post(server.endpoint + DI_ANALYZE + query, headers=HEADERS, data=BAD_BODIES[body]())
    assert response.status_code == status
    error = response.json()["error"]
    assert error.get("innererror", {}).get("code", error["code"]) == inner


def test_unsupported_api_version_is_refused(server) -> None:
    response = requests.post(
        server.endpoint + "/formrecognizer/documentModels/prebuilt-read:analyze",
        params={"api-version": "2024-11-30"},
        headers=HEADERS,
        data=builders.text_pdf([["x"]]),
    )
    assert response.status_code == 400
    assert "2022-08-31" in response.json()["error"]["message"]


def test_cv_error_carries_flat_and_wrapped_fields(server) -> None:
    response = requests.post(server.endpoint + "/vision/v3.2/read/analyze", headers=HEADERS, data=b"junk")
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == body["error"]["code"] == "InvalidImageFormat"
    assert body["requestId"] == response.headers["apim-request-id"]
