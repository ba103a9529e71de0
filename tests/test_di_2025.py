"""Document Intelligence 2025-09-01: the operations it shares with 2024-11-30, over real HTTP.

The response shapes are checked against the 2025-09-01 spec examples in ../shared/specs (keys and value types, not
the examples' OCR values); where an example is not stored there, against the shape the 2025-09-01 swagger requires.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import builders
import pytest
import requests
from azurite import container
from needs import missing
from server_harness import KEY, start_server

V = "2025-09-01"
HEADERS = {"Ocp-Apim-Subscription-Key": KEY}
SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs" / "documentintelligence" / V / "examples"
# From the 2025-09-01 GetAnalyzeDocumentResult example (not in ../shared/specs) and the swagger's AnalyzeResult,
# DocumentPage, DocumentWord, DocumentLine and DocumentParagraph: the keys our result has, with their types.
OPERATION = {"status": "succeeded", "createdDateTime": "", "lastUpdatedDateTime": "", "analyzeResult": {}}
RESULT = {
    "apiVersion": V,
    "modelId": "",
    "stringIndexType": "textElements",
    "contentFormat": "text",
    "content": "",
    "pages": [],
    "paragraphs": [],
    "styles": [],
    "languages": [],
}
PAGE = {"pageNumber": 1, "angle": 0.0, "width": 8.5, "height": 11.0, "unit": "inch", "spans": [], "words": []}
WORD = {"content": "", "polygon": [0.0], "confidence": 1.0, "span": {"offset": 0, "length": 1}}
LINE = {"content": "", "polygon": [0.0], "spans": [{"offset": 0, "length": 1}]}
PARAGRAPH = {"content": "", "boundingRegions": [{"pageNumber": 1, "polygon": [0.0]}], "spans": []}


def _example(name: str) -> Any:
    path = SPECS / name
    if not path.is_file():
        missing(f"the spec example {path} (../shared/specs beside the clone) is not present")
    return json.loads(path.read_text())["responses"]["200"]["body"]


def _types(value: Any) -> Any:
    """The shape of a JSON value: dict keys with the shapes of their values, a list's first item, a scalar's type."""
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _same_shape(got: Any, expected: Any) -> None:
    """``got`` has every key of ``expected``, each with a value of the same shape (recursing into objects and
    into the first item of arrays; an empty array or object in ``expected`` only asks for the kind)."""
    want, have = _types(expected), _types(got)
    _compare(have, want, "$")


def _compare(have: Any, want: Any, where: str) -> None:
    if isinstance(want, dict):
        assert isinstance(have, dict), f"{where}: {have!r} is not an object"
        for key, shape in want.items():
            assert key in have, f"{where}.{key} missing (has {sorted(have)})"
            _compare(have[key], shape, f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(have, list), f"{where}: {have!r} is not an array"
        if want and have:
            _compare(have[0], want[0], f"{where}[0]")
    else:
        assert have == want, f"{where}: {have} where the example has {want}"


def _poll(url: str, key: str = "status") -> dict:
    for _ in range(240):
        response = requests.get(url, headers=HEADERS, timeout=30)
        assert response.status_code == 200, response.text
        body = response.json()
        if body[key] in ("succeeded", "failed"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"{url} did not finish")


def _analyze(endpoint: str, model_id: str, data: bytes, query: str = "") -> tuple[str, dict]:
    url = f"{endpoint}/documentintelligence/documentModels/{model_id}:analyze?api-version={V}{query}"
    response = requests.post(url, headers={**HEADERS, "Content-Type": "application/pdf"}, data=data, timeout=30)
    assert response.status_code == 202, response.text
    location = response.headers["Operation-Location"]
    assert location.startswith(f"{endpoint}/documentintelligence/documentModels/{model_id}/analyzeResults/")
    assert location.endswith(f"?api-version={V}")
    return location, _poll(location)


@pytest.mark.parametrize("model_id", ["prebuilt-read", "prebuilt-layout"])
def test_analyze_poll_and_delete(server, truth: str, model_id: str) -> None:
    location, body = _analyze(server.endpoint, model_id, builders.text_pdf([builders.PARAGRAPH]))
    assert set(body) == set(OPERATION) and body["status"] == "succeeded"
    result = body["analyzeResult"]
    _same_shape(result, RESULT)
    assert (result["apiVersion"], result["modelId"], result["contentFormat"]) == (V, model_id, "text")
    assert result["content"] == truth
    assert ("tables" in result) == (model_id == "prebuilt-layout")
    page = result["pages"][0]
    _same_shape(page, PAGE)
    _same_shape(page["words"][0], WORD)
    assert page["words"][0]["content"] == "The" and [w["content"] for w in page["words"]][-1] == "today."
    assert [line["content"] for line in page["lines"]] == builders.PARAGRAPH
    _same_shape(page["lines"][0], LINE)
    _same_shape(result["paragraphs"][0], PARAGRAPH)

    assert requests.delete(location, headers=HEADERS, timeout=30).status_code == 204
    gone = requests.get(location, headers=HEADERS, timeout=30)
    assert gone.status_code == 404


def test_layout_markdown(server) -> None:
    _, body = _analyze(server.endpoint, "prebuilt-layout", builders.layout_pdf(), "&outputContentFormat=markdown")
    result = body["analyzeResult"]
    assert (result["apiVersion"], result["contentFormat"]) == (V, "markdown")
    assert result["tables"] and "<table>" in result["content"]


def test_prebuilt_models_and_info(server) -> None:
    base = f"{server.endpoint}/documentintelligence"
    response = requests.get(f"{base}/documentModels/prebuilt-layout", params={"api-version": V}, headers=HEADERS)
    assert response.status_code == 200
    model = response.json()
    # The GetDocumentModel_Prebuilt example of 2025-09-01 (prebuilt-invoice) has these keys, and docTypes, which
    # a model without fields leaves out.
    assert set(model) == {"modelId", "description", "createdDateTime", "apiVersion", "tags"}
    assert (model["modelId"], model["apiVersion"], model["tags"]) == ("prebuilt-layout", V, {})
    listed = requests.get(f"{base}/documentModels", params={"api-version": V}, headers=HEADERS).json()
    assert [m["modelId"] for m in listed["value"] if m["modelId"].startswith("prebuilt-")] == [
        "prebuilt-read",
        "prebuilt-layout",
    ]
    absent = requests.get(f"{base}/documentModels/prebuilt-document", params={"api-version": V}, headers=HEADERS)
    assert absent.status_code == 404
    info = requests.get(f"{base}/info", params={"api-version": V}, headers=HEADERS)
    assert info.status_code == 200
    body = info.json()
    assert set(body) == {"customDocumentModels"}  # DocumentIntelligenceResourceDetails of 2025-09-01
    assert set(body["customDocumentModels"]) == {"count", "limit"}
    assert isinstance(body["customDocumentModels"]["count"], int) and body["customDocumentModels"]["limit"] > 0
    assert requests.get(f"{base}/operations", params={"api-version": V}, headers=HEADERS).json().keys() == {"value"}


@pytest.mark.parametrize("version", ["2025-09-02", "2023-07-31", "2025-05-01-preview"])
def test_unsupported_versions_are_400(server, version: str) -> None:
    response = requests.post(
        f"{server.endpoint}/documentintelligence/documentModels/prebuilt-read:analyze",
        params={"api-version": version},
        headers=HEADERS,
        data=builders.text_pdf([["x"]]),
    )
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert f"'{version}' is not supported" in message and "2024-11-30, 2025-09-01" in message


def test_formrecognizer_does_not_answer_2025(server) -> None:
    response = requests.get(f"{server.endpoint}/formrecognizer/info", params={"api-version": V}, headers=HEADERS)
    assert response.status_code == 400


def test_sdk_with_api_version_2025(server, truth: str) -> None:
    from azure.ai.documentintelligence import DocumentIntelligenceAdministrationClient, DocumentIntelligenceClient
    from azure.core.credentials import AzureKeyCredential

    cred = AzureKeyCredential(KEY)
    client = DocumentIntelligenceClient(server.endpoint, cred, api_version=V)
    poller = client.begin_analyze_document("prebuilt-layout", builders.text_pdf([builders.PARAGRAPH]))
    result = poller.result()
    assert (result.api_version, result.model_id, result.content) == (V, "prebuilt-layout", truth)
    assert poller.details["operation_id"]
    admin = DocumentIntelligenceAdministrationClient(server.endpoint, cred, api_version=V)
    assert admin.get_model("prebuilt-read").api_version == V
    assert admin.get_resource_details().custom_document_models.limit > 0


# Custom models: build, analyze, compose, operations and delete, from labelled forms in Azurite.
OFFSETS = [(0, 0), (14, -10), (-8, 12), (20, 6), (-12, -14), (6, 18)]


@pytest.fixture(scope="module")
def labeled_server(tmp_path_factory: pytest.TempPathFactory):
    srv = start_server(tmp_path_factory.mktemp("di2025") / "data", PERCEPT_URL_ALLOW="localhost,127.0.0.1")
    yield srv
    srv.stop()


def _invoice(i: int) -> bytes:
    number, date, bill_to, total = builders.INVOICES[i]
    return builders.invoice_form(number, date, bill_to, total, *OFFSETS[i], paid=i % 2 == 0)


@pytest.fixture(scope="module")
def invoices_sas(azurite: str) -> str:
    files = {"fields.json": json.dumps(builders.INVOICE_FIELDS).encode()}
    for i in range(5):
        name = f"Invoice_{i + 1}.pdf"
        number, date, bill_to, total = builders.INVOICES[i]
        files[name] = _invoice(i)
        labels = builders.invoice_labels(name, number, date, bill_to, total, *OFFSETS[i], paid=i % 2 == 0)
        files[name + ".labels.json"] = json.dumps(labels).encode()
    return container(azurite, "di2025-invoices", files)


def _operation(endpoint: str, response: requests.Response) -> dict:
    assert response.status_code == 202, response.text
    location = response.headers["Operation-Location"]
    assert location.startswith(f"{endpoint}/documentintelligence/operations/") and location.endswith(f"={V}")
    return _poll(location)


def test_custom_model_build_analyze_compose_delete(labeled_server, invoices_sas: str) -> None:
    endpoint = labeled_server.endpoint
    base = f"{endpoint}/documentintelligence"
    params = {"api-version": V}
    build = {
        "modelId": "inv2025",
        "description": "Custom model description",
        "buildMode": "template",
        "tags": {"createdBy": "myUserId"},
        "azureBlobSource": {"containerUrl": invoices_sas},
    }
    op = _operation(endpoint, requests.post(f"{base}/documentModels:build", params=params, json=build, headers=HEADERS))
    example = _example("GetOperation_DocumentModelBuild.json")
    _same_shape(op, example)
    assert (op["status"], op["kind"], op["percentCompleted"], op["apiVersion"]) == (
        "succeeded",
        "documentModelBuild",
        100,
        V,
    )
    assert op["resourceLocation"] == f"{base}/documentModels/inv2025?api-version={V}"
    _same_shape(op["result"], example["result"])
    assert op["result"]["apiVersion"] == V

    response = requests.get(f"{base}/documentModels/inv2025", params=params, headers=HEADERS)
    assert response.status_code == 200
    model = response.json()
    example = _example("GetDocumentModel_Custom.json")
    _same_shape(model, {k: v for k, v in example.items() if k != "docTypes"})  # doc type names are the model's
    assert (model["modelId"], model["apiVersion"], model["tags"]) == ("inv2025", V, {"createdBy": "myUserId"})
    assert list(model["docTypes"]) == ["inv2025"]
    doc_type, form = model["docTypes"]["inv2025"], example["docTypes"]["myForm"]
    assert set(doc_type) == set(form) and doc_type["buildMode"] == "template"
    _same_shape(doc_type["fieldSchema"]["Total"], form["fieldSchema"]["Amount"])
    assert doc_type["fieldSchema"]["Total"] == {"type": "number"}
    assert set(doc_type["fieldConfidence"]) == set(doc_type["fieldSchema"])
    _same_shape(doc_type["fieldConfidence"]["Total"], form["fieldConfidence"]["Amount"])

    _, body = _analyze(endpoint, "inv2025", _invoice(5))
    result = body["analyzeResult"]
    assert (result["apiVersion"], result["modelId"]) == (V, "inv2025")
    fields = result["documents"][0]["fields"]
    assert fields["Number"]["valueString"] == builders.INVOICES[5][0]
    assert fields["Total"]["valueNumber"] == float(builders.INVOICES[5][3].replace("$", "").replace(",", ""))

    compose = {"modelId": "all2025", "classifierId": "none", "docTypes": {"invoice": {"modelId": "inv2025"}}}
    op = _operation(
        endpoint, requests.post(f"{base}/documentModels:compose", params=params, json=compose, headers=HEADERS)
    )
    assert (op["status"], op["kind"], op["result"]["modelId"]) == ("succeeded", "documentModelCompose", "all2025")
    listed = requests.get(f"{base}/operations", params=params, headers=HEADERS).json()["value"]
    assert {o["kind"] for o in listed} >= {"documentModelBuild", "documentModelCompose"}
    assert all(o["apiVersion"] == V and "result" not in o for o in listed)

    for model_id in ("all2025", "inv2025"):
        assert requests.delete(f"{base}/documentModels/{model_id}", params=params, headers=HEADERS).status_code == 204
        gone = requests.get(f"{base}/documentModels/{model_id}", params=params, headers=HEADERS)
        assert gone.status_code == 404
