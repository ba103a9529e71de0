"""Layout through the unmodified SDKs over loopback: Form Recognizer v2.0/v2.1 content, prebuilt-layout and
prebuilt-document on 2022-08-31/2023-07-31, Document Intelligence prebuilt-layout with and without markdown."""

from __future__ import annotations

import builders
import pytest
from server_harness import KEY


@pytest.fixture(scope="module")
def form() -> bytes:
    return builders.layout_pdf()


@pytest.fixture(scope="module")
def form_scan(form: bytes) -> bytes:
    import cv2

    gray = builders.scan(builders.render(form, dpi=200), noise=0.05, skew=0.4, blur=True)
    return cv2.imencode(".png", gray)[1].tobytes()


@pytest.mark.parametrize("api_version", ["2.0", "2.1"])
def test_recognize_content(server, form: bytes, api_version: str) -> None:
    from azure.ai.formrecognizer import FormRecognizerApiVersion, FormRecognizerClient
    from azure.core.credentials import AzureKeyCredential

    version = FormRecognizerApiVersion.V2_0 if api_version == "2.0" else FormRecognizerApiVersion.V2_1
    client = FormRecognizerClient(server.endpoint, AzureKeyCredential(KEY), api_version=version)
    pages = client.begin_recognize_content(form).result()
    page = pages[0]
    ruled = next(t for t in page.tables if (t.row_count, t.column_count) == (4, 4))
    cells = {(c.row_index, c.column_index): c for c in ruled.cells}
    assert cells[(0, 0)].text == "Item" and cells[(0, 0)].is_header
    assert cells[(2, 2)].text == "22.00" and not cells[(2, 2)].is_header
    assert cells[(3, 0)].text == "Subtotal" and cells[(3, 0)].column_span == 3
    assert cells[(1, 0)].field_elements[0].text == "Widget"  # the elements pointer resolved into readResults
    borderless = next(t for t in page.tables if t.column_count == 3)
    assert [c.text for c in borderless.cells if c.column_index == 0] == ["Region", "North", "South", "West"]
    if api_version == "2.1":
        states = [m.state for m in sorted(page.selection_marks, key=lambda m: m.bounding_box[0].y)]
        assert states == ["selected", "unselected", "selected", "selected"]


def test_recognize_content_scanned_v21(server, form_scan: bytes) -> None:
    from azure.ai.formrecognizer import FormRecognizerClient
    from azure.core.credentials import AzureKeyCredential

    client = FormRecognizerClient(server.endpoint, AzureKeyCredential(KEY))
    page = client.begin_recognize_content(form_scan).result()[0]
    assert page.unit == "pixel"
    ruled = next(t for t in page.tables if t.column_count == 4)
    cells = {(c.row_index, c.column_index): c.text for c in ruled.cells}
    assert cells[(0, 0)] == "Item" and cells[(1, 3)] == "20.00"
    states = [m.state for m in sorted(page.selection_marks, key=lambda m: m.bounding_box[0].y)]
    assert states == ["selected", "unselected", "selected", "selected"]


@pytest.mark.parametrize("api_version", ["2022-08-31", "2023-07-31"])
def test_prebuilt_layout_and_document(server, form: bytes, api_version: str) -> None:
    from azure.ai.formrecognizer import DocumentAnalysisClient
    from azure.core.credentials import AzureKeyCredential

    client = DocumentAnalysisClient(server.endpoint, AzureKeyCredential(KEY), api_version=api_version)
    layout = client.begin_analyze_document("prebuilt-layout", form).result()
    ruled = next(t for t in layout.tables if (t.row_count, t.column_count) == (4, 4))
    cells = {(c.row_index, c.column_index): c for c in ruled.cells}
    assert cells[(0, 1)].content == "Qty" and cells[(0, 1)].kind == "columnHeader"
    assert cells[(3, 0)].column_span == 3 and cells[(3, 3)].content == "42.00"
    span = cells[(1, 0)].spans[0]
    assert layout.content[span.offset : span.offset + span.length] == "Widget"
    marks = sorted(layout.pages[0].selection_marks, key=lambda m: m.polygon[0].y)
    assert [m.state for m in marks] == ["selected", "unselected", "selected", "selected"]
    assert any(p.role == "title" and p.content == "Quarterly Report" for p in layout.paragraphs)

    document = client.begin_analyze_document("prebuilt-document", form).result()
    pairs = {kv.key.content: kv.value.content if kv.value else None for kv in document.key_value_pairs}
    assert pairs["Date:"] == "9/10/2020" and pairs["Invoice For:"] == "Contoso Ltd"


def test_document_intelligence_layout_markdown(server, form: bytes) -> None:
    from azure.ai.documentintelligence import DocumentIntelligenceClient
    from azure.ai.documentintelligence.models import AnalyzeDocumentRequest, DocumentContentFormat
    from azure.core.credentials import AzureKeyCredential

    client = DocumentIntelligenceClient(server.endpoint, AzureKeyCredential(KEY))
    text = client.begin_analyze_document("prebuilt-layout", AnalyzeDocumentRequest(bytes_source=form)).result()
    assert text.content_format == "text" and "<table>" not in text.content
    assert ":selected:" in text.content
    md = client.begin_analyze_document(
        "prebuilt-layout",
        AnalyzeDocumentRequest(bytes_source=form),
        output_content_format=DocumentContentFormat.MARKDOWN,
        features=["keyValuePairs"],
    ).result()
    assert md.content_format == "markdown" and md.content.startswith("# Quarterly Report")
    assert '<td colspan="3">Subtotal</td>' in md.content and "☒ Express delivery" in md.content
    ruled = next(t for t in md.tables if (t.row_count, t.column_count) == (4, 4))
    cell = next(c for c in ruled.cells if c.content == "42.00")
    assert md.content[cell.spans[0].offset : cell.spans[0].offset + cell.spans[0].length] == "42.00"
    assert {kv.key.content for kv in md.key_value_pairs} >= {"Date:", "Invoice For:"}


def test_markdown_refused_for_read_and_unknown_model(server, form: bytes) -> None:
    import httpx

    url = f"{server.endpoint}/documentintelligence/documentModels/prebuilt-read:analyze"
    r = httpx.post(
        url,
        params={"api-version": "2024-11-30", "outputContentFormat": "markdown"},
        headers={"Ocp-Apim-Subscription-Key": KEY, "Content-Type": "application/pdf"},
        content=form,
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidRequest"
    r = httpx.post(
        f"{server.endpoint}/documentintelligence/documentModels/prebuilt-document:analyze",
        params={"api-version": "2024-11-30"},
        headers={"Ocp-Apim-Subscription-Key": KEY, "Content-Type": "application/pdf"},
        content=form,
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "NotFound"


def test_v21_preview_path_and_bad_version(server, form: bytes) -> None:
    import time

    import httpx

    headers = {"Ocp-Apim-Subscription-Key": KEY, "Content-Type": "application/pdf"}
    r = httpx.post(f"{server.endpoint}/formrecognizer/v2.1-preview.2/layout/analyze", headers=headers, content=form)
    assert r.status_code == 202
    location = r.headers["Operation-Location"]
    assert "/formrecognizer/v2.1-preview.2/layout/analyzeResults/" in location
    for _ in range(60):
        body = httpx.get(location, headers=headers).json()
        if body["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.5)
    assert body["analyzeResult"]["version"] == "2.1.0"
    tables = body["analyzeResult"]["pageResults"][0]["tables"]
    assert any(c["text"] == "Subtotal" and c["columnSpan"] == 3 for t in tables for c in t["cells"])
    r = httpx.post(f"{server.endpoint}/formrecognizer/v9.9/layout/analyze", headers=headers, content=form)
    assert r.status_code == 404 and r.json()["error"]["code"] == "NotFound"
    r = httpx.post(f"{server.endpoint}/formrecognizer/v2.1/layout/analyze", headers=headers, content=b"garbage")
    # Azure: 400 for bytes of no known format; FR v2 names it InvalidImage ("not a valid image or password
    # protected"), its code for what v3 calls InvalidContent.
    assert (r.status_code, r.json()["error"]["code"]) == (400, "InvalidImage"), r.text
