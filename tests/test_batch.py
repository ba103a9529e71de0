"""Batch analysis (DI 2024-11-30 ``:analyzeBatch``) end to end: a real server, real Azurite containers, the
seed's raw REST flow and the unmodified SDK; asserting counts, statuses, error codes and the text of every
result blob, skips on ``overwriteExisting: false``, file lists, request-level errors, kill -9 and resume, and
cancel by DELETE."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import builders
import httpx
import pytest
from azurite import ACCOUNT, ACCOUNT_KEY, container
from server_harness import KEY, Server, start_server

HEADERS = {"Ocp-Apim-Subscription-Key": KEY}
V = "2024-11-30"
WORDS = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel"]


def _service(endpoint: str):  # type: ignore[no-untyped-def]
    from azure.storage.blob import BlobServiceClient

    return BlobServiceClient(endpoint, credential={"account_name": ACCOUNT, "account_key": ACCOUNT_KEY})


def _container(endpoint: str, name: str, files: dict[str, bytes], permission: str = "rwlcd") -> str:
    """Result containers need write access: the default here is read, write, list, create and delete."""
    return container(endpoint, name, files, permission)


def _blobs(endpoint: str, container: str) -> dict[str, bytes]:
    client = _service(endpoint).get_container_client(container)
    return {b.name: client.download_blob(b.name).readall() for b in client.list_blobs()}


def _etags(endpoint: str, container: str) -> dict[str, str]:
    return {b.name: b.etag for b in _service(endpoint).get_container_client(container).list_blobs()}


def _pdf(word: str, i: int) -> bytes:
    return builders.text_pdf([[f"{word} batch document {i}"]])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    srv = start_server(tmp_path_factory.mktemp("batch") / "data", PERCEPT_WORKERS="2")
    yield srv
    srv.stop()


def _post(srv: Server, body: dict, model: str = "prebuilt-read", query: str = "") -> httpx.Response:
    url = f"{srv.endpoint}/documentintelligence/documentModels/{model}:analyzeBatch?api-version={V}{query}"
    return httpx.post(url, json=body, headers=HEADERS, timeout=30)


def _wait(url: str, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = httpx.get(url, headers=HEADERS, timeout=30).json()
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"{url} did not finish")


def _by_name(body: dict) -> dict[str, dict]:
    return {d["sourceUrl"].rsplit("/", 1)[-1]: d for d in body["result"]["details"]}


def test_rest_flow_mixed_documents_then_skips(server: Server, azurite: str) -> None:
    scan = builders.scan(builders.render(builders.text_pdf([["Scanned Kilo page"]]), dpi=200), skew=1.0)
    png = Path(server.data_dir.parent / "scan.png")
    builders.save_image(scan, png)
    files = {
        "in/a.pdf": _pdf("Alpha", 1),
        "in/sub/b.pdf": _pdf("Bravo", 2),
        "in/scan.png": png.read_bytes(),
        "in/broken.pdf": b"%PDF-1.7\n this is no pdf at all",
        "other/c.pdf": _pdf("Charlie", 3),  # outside the prefix
    }
    source = _container(azurite, "mixed-src", files, "rl")
    results = _container(azurite, "mixed-out", {})
    body = {
        "azureBlobSource": {"containerUrl": source, "prefix": "in/"},
        "resultContainerUrl": results,
        "resultPrefix": "out/",
        "overwriteExisting": True,
    }
    r = _post(server, body)
    assert r.status_code == 202, r.text
    location = r.headers["Operation-Location"]
    assert location.startswith(
        f"{server.endpoint}/documentintelligence/documentModels/prebuilt-read/analyzeBatchResults/"
    )
    assert location.endswith(f"?api-version={V}") and "Location" not in {
        k.title() for k in r.headers if k != "operation-location"
    }
    done = _wait(location)
    assert done["status"] == "succeeded", done
    assert done["percentCompleted"] == 100
    result = done["result"]
    assert (result["succeededCount"], result["failedCount"], result["skippedCount"]) == (3, 1, 0)
    details = _by_name(done)
    assert set(details) == {"a.pdf", "b.pdf", "scan.png", "broken.pdf"}
    broken = details["broken.pdf"]
    assert broken["status"] == "failed" and "resultUrl" not in broken
    assert broken["error"]["code"] == "InvalidRequest"
    assert broken["error"]["innererror"]["code"] == "InvalidContent"
    assert "sig=" not in json.dumps(done)  # no SAS in what anyone polling sees
    written = _blobs(azurite, "mixed-out")
    assert set(written) == {"out/a.pdf.ocr.json", "out/sub/b.pdf.ocr.json", "out/scan.png.ocr.json"}
    assert details["b.pdf"]["resultUrl"] == f"{azurite}/mixed-out/out/sub/b.pdf.ocr.json"
    for name, word in (("out/a.pdf.ocr.json", "Alpha batch document 1"), ("out/sub/b.pdf.ocr.json", "Bravo batch")):
        blob = json.loads(written[name])
        assert blob["status"] == "succeeded"
        assert blob["analyzeResult"]["modelId"] == "prebuilt-read"
        assert word in blob["analyzeResult"]["content"]
    assert "Kilo" in json.loads(written["out/scan.png.ocr.json"])["analyzeResult"]["content"]
    # Each result names the batch that wrote it: after a crash the batch knows a result there is its own.
    props = _service(azurite).get_blob_client("mixed-out", "out/a.pdf.ocr.json").get_blob_properties()
    assert props.metadata == {"perceptbatch": location.split("?")[0].rsplit("/", 1)[1]}

    # The same batch again without overwriting: every document with a result is skipped.
    before = _etags(azurite, "mixed-out")
    r = _post(server, {**body, "overwriteExisting": False})
    again = _wait(r.headers["Operation-Location"])
    assert again["status"] == "succeeded"
    counts = again["result"]
    assert (counts["succeededCount"], counts["failedCount"], counts["skippedCount"]) == (0, 1, 3)
    skipped = _by_name(again)["a.pdf"]
    assert skipped["status"] == "skipped" and skipped["error"]["code"] == "OutputExists"
    assert _etags(azurite, "mixed-out") == before  # nothing rewritten


def test_sdk_file_list_list_and_delete(server: Server, azurite: str) -> None:
    from azure.ai.documentintelligence import DocumentIntelligenceClient
    from azure.ai.documentintelligence.models import AnalyzeBatchDocumentsRequest, AzureBlobFileListContentSource
    from azure.core.credentials import AzureKeyCredential
    from azure.core.exceptions import ResourceNotFoundError

    files = {f"docs/{w}.pdf": _pdf(w, i) for i, w in enumerate(WORDS[:4])}
    files["list.jsonl"] = b'{"file": "docs/Alpha.pdf"}\n{"file": "docs/Delta.pdf"}\n'
    source = _container(azurite, "list-src", files, "rl")
    results = _container(azurite, "list-out", {})
    client = DocumentIntelligenceClient(server.endpoint, AzureKeyCredential(KEY))
    request = AnalyzeBatchDocumentsRequest(
        azure_blob_file_list_source=AzureBlobFileListContentSource(container_url=source, file_list="list.jsonl"),
        result_container_url=results,
        result_prefix="r/",
    )
    poller = client.begin_analyze_batch_documents("prebuilt-layout", request, output_content_format="markdown")
    result = poller.result()
    assert (result.succeeded_count, result.failed_count, result.skipped_count) == (2, 0, 0)
    assert sorted(d.result_url.rsplit("/", 1)[-1] for d in result.details) == [
        "Alpha.pdf.ocr.json",
        "Delta.pdf.ocr.json",
    ]
    blob = json.loads(_blobs(azurite, "list-out")["r/docs/Delta.pdf.ocr.json"])
    assert blob["analyzeResult"]["contentFormat"] == "markdown"
    assert "Delta batch document 3" in blob["analyzeResult"]["content"]

    result_id = poller.polling_method()._operation.get_polling_url().split("/")[-1].split("?")[0]  # type: ignore[attr-defined]
    listed = list(client.list_analyze_batch_results("prebuilt-layout"))
    assert result_id in [b.result_id for b in listed]
    assert all(b.status == "succeeded" for b in listed if b.result_id == result_id)
    client.delete_analyze_batch_result("prebuilt-layout", result_id)
    with pytest.raises(ResourceNotFoundError):
        client.delete_analyze_batch_result("prebuilt-layout", result_id)
    assert result_id not in [b.result_id for b in client.list_analyze_batch_results("prebuilt-layout")]


def test_request_errors(server: Server, azurite: str) -> None:
    from azure.ai.documentintelligence import DocumentIntelligenceClient
    from azure.ai.documentintelligence.models import AnalyzeBatchDocumentsRequest, AzureBlobContentSource
    from azure.core.credentials import AzureKeyCredential
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    lines = "".join(json.dumps({"file": f"f{i}.pdf"}) + "\n" for i in range(10_001)).encode()
    source = _container(azurite, "many-src", {"many.jsonl": lines, "x.pdf": _pdf("Echo", 1)}, "rl")
    results = _container(azurite, "many-out", {})
    r = _post(
        server,
        {"azureBlobFileListSource": {"containerUrl": source, "fileList": "many.jsonl"}, "resultContainerUrl": results},
    )
    failed = _wait(r.headers["Operation-Location"])
    assert failed["status"] == "failed"
    assert (failed["error"]["code"], failed["error"]["innererror"]["code"]) == ("InvalidRequest", "InvalidArgument")
    assert "10,000" in failed["error"]["message"]

    r = _post(
        server,
        {"azureBlobFileListSource": {"containerUrl": source, "fileList": "x.pdf"}, "resultContainerUrl": results},
    )
    bad_list = _wait(r.headers["Operation-Location"])
    assert bad_list["error"]["innererror"]["code"] == "InvalidContentSourceFormat"

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    expiry = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    sas = generate_container_sas(
        ACCOUNT,
        "nothing",
        account_key=ACCOUNT_KEY,
        permission=ContainerSasPermissions(read=True, list=True),
        expiry=expiry,
    )
    missing = f"{azurite}/nothing?{sas}"  # a valid SAS for a container that does not exist
    r = _post(server, {"azureBlobSource": {"containerUrl": missing}, "resultContainerUrl": results})
    gone = _wait(r.headers["Operation-Location"])
    assert (gone["error"]["code"], gone["error"]["innererror"]["code"]) == (
        "InvalidRequest",
        "ContentSourceNotAccessible",
    )

    forged = source.split("sig=")[0] + "sig=AAAA"
    client = DocumentIntelligenceClient(server.endpoint, AzureKeyCredential(KEY))
    request = AnalyzeBatchDocumentsRequest(
        azure_blob_source=AzureBlobContentSource(container_url=forged), result_container_url=results
    )
    with pytest.raises(HttpResponseError) as err:
        client.begin_analyze_batch_documents("prebuilt-read", request).result()
    assert err.value.error is not None and err.value.error.code == "InvalidArgument"
    assert err.value.error.innererror["code"] == "InvalidSasToken"

    with pytest.raises(ResourceNotFoundError):
        client.begin_analyze_batch_documents("no-such-model", request)
    r = _post(server, {"azureBlobSource": {"containerUrl": source}})
    assert r.status_code == 400 and r.json()["error"]["innererror"]["code"] == "ParameterMissing"
    r = _post(
        server,
        {"azureBlobSource": {"containerUrl": source}, "azureBlobFileListSource": {}, "resultContainerUrl": results},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidRequest"
    r = _post(server, {"azureBlobSource": {"containerUrl": "ftp://x/y"}, "resultContainerUrl": results})
    assert r.status_code == 400 and r.json()["error"]["innererror"]["code"] == "InvalidContentSourceFormat"


def _slow_batch(azurite: str, name: str, n: int) -> tuple[str, str]:
    """``n`` scanned pages (OCR takes a while each) in a source container, and an empty result container."""
    pages = {}
    for i in range(n):
        gray = builders.render(builders.text_pdf([[f"{WORDS[i % len(WORDS)]} scanned number {i}"]]), dpi=150)
        pages[f"s/{i:03d}.pdf"] = builders.image_pdf([gray], dpi=150)
    return _container(azurite, f"{name}-src", pages, "rl"), _container(azurite, f"{name}-out", {})


def test_kill_mid_batch_then_restart_finishes_each_document_once(
    azurite: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    n = 10
    source, results = _slow_batch(azurite, "kill", n)
    data = tmp_path_factory.mktemp("kill") / "data"
    srv = start_server(data, PERCEPT_WORKERS="1")
    try:
        r = _post(
            srv, {"azureBlobSource": {"containerUrl": source}, "resultContainerUrl": results, "resultPrefix": "o/"}
        )
        location = r.headers["Operation-Location"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            body = httpx.get(location, headers=HEADERS, timeout=30).json()
            done_before = [d for d in body.get("result", {}).get("details", []) if d["status"] == "succeeded"]
            if len(done_before) >= 2:
                break
            time.sleep(0.1)
        assert body["status"] == "running" and 2 <= len(done_before) < n, body
        marked = {d["resultUrl"].split("/kill-out/", 1)[1] for d in done_before}
        tags = _etags(azurite, "kill-out")
    finally:
        srv.kill()
    srv = start_server(data, PERCEPT_WORKERS="1")
    try:
        done = _wait(location.replace(location.split("/documentintelligence")[0], srv.endpoint), 180)
    finally:
        srv.stop()
    assert done["status"] == "succeeded"
    result = done["result"]
    assert (result["succeededCount"], result["failedCount"], result["skippedCount"]) == (n, 0, 0), result
    assert len(result["details"]) == n
    written = _blobs(azurite, "kill-out")
    assert len(written) == n
    for i in range(n):
        content = json.loads(written[f"o/s/{i:03d}.pdf.ocr.json"])["analyzeResult"]["content"]
        assert f"number {i}" in content, content
    after = _etags(azurite, "kill-out")
    assert {k: after[k] for k in marked} == {k: tags[k] for k in marked}  # no document marked done was redone


def test_delete_cancels_the_rest(azurite: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    n = 12
    source, results = _slow_batch(azurite, "cancel", n)
    srv = start_server(tmp_path_factory.mktemp("cancel") / "data", PERCEPT_WORKERS="1")
    try:
        r = _post(srv, {"azureBlobSource": {"containerUrl": source}, "resultContainerUrl": results})
        location = r.headers["Operation-Location"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _blobs(azurite, "cancel-out"):
            time.sleep(0.1)
        assert httpx.delete(location, headers=HEADERS, timeout=30).status_code == 204
        assert httpx.get(location, headers=HEADERS, timeout=30).status_code == 404
        time.sleep(3)  # the documents in flight finish; no more start
        settled = len(_blobs(azurite, "cancel-out"))
        time.sleep(2)
        assert len(_blobs(azurite, "cancel-out")) == settled < n
        assert httpx.delete(location, headers=HEADERS, timeout=30).status_code == 404
    finally:
        srv.stop()


def test_blob_source_read_by_the_worker_processes(azurite: str) -> None:
    """A ``DocumentRef`` naming a ``BlobUrl``: each worker process downloads the blob itself (guarded client,
    storage policy), so the bytes never pass through the driver."""
    import pickle

    from percept.executors import LocalProcessExecutor
    from percept.io.http import UrlPolicy
    from percept.pipeline import read_document
    from percept.source import BlobUrl, DocumentRef, SourceNotAccessible

    source = _container(azurite, "ref-src", {"two.pdf": builders.text_pdf([["Golf page one"], ["Hotel page two"]])})
    url = source.replace("/ref-src?", "/ref-src/?")
    blob = BlobUrl(url, "two.pdf", UrlPolicy.parse("127.0.0.1", setting="PERCEPT_STORAGE_ALLOW"))
    assert pickle.loads(pickle.dumps(blob)) == blob
    executor = LocalProcessExecutor(2)
    try:
        doc = read_document(DocumentRef(blob, "application/pdf", 2), executor=executor)
    finally:
        executor.shutdown()
    assert "Golf page one" in doc.content and "Hotel page two" in doc.content
    refused = BlobUrl(source, "two.pdf")  # loopback is refused without the storage policy's allow-list
    with pytest.raises(SourceNotAccessible, match="PERCEPT_STORAGE_ALLOW"), refused.open_local():
        pass
    with pytest.raises(SourceNotAccessible, match="404"), BlobUrl(source, "gone.pdf", blob.policy).open_local():
        pass
