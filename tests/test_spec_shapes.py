"""Snapshot tests of response shapes against the spec examples in ../shared/specs.

Each test runs the real server on a generated PDF and compares the *structure* of our response with the example's:
every key of the example, recursively (objects, and the first item of arrays), with a value of the same JSON type.
The examples' values (OCR text, coordinates, dates) are not compared. Keys an example has that this server does not
implement are listed per example in ``ALLOWED_MISSING``, each with the reason; anything else missing fails.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import builders
import pytest
import requests
from needs import missing
from server_harness import KEY

HEADERS = {"Ocp-Apim-Subscription-Key": KEY}
PDF_HEADERS = {**HEADERS, "Content-Type": "application/pdf"}
SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs"

# Per example: the JSON paths ($ is the body, [0] an array's first item) whose key we do not send, and why.
ALLOWED_MISSING: dict[str, dict[str, str]] = {
    "computervision/v3.2/SuccessfulGetReadResult": {},
    "formrecognizer/v2.1/LayoutBatchResult": {},
    "documentintelligence/2024-11-30/GetResourceDetails": {},
    "documentintelligence/2024-11-30/GetDocumentModels": {
        "$.nextLink": "every model fits one page here, and the SDK's pager stops on a missing nextLink",
    },
    "documentintelligence/2024-11-30/GetDocumentModel_Prebuilt": {
        "$.docTypes": "the example is prebuilt-invoice; prebuilt-layout (what we offer) extracts no document fields",
    },
}


def _example(name: str, status: str = "200") -> dict[str, Any]:
    service, version, example = name.split("/")
    path = SPECS / service / version / "examples" / f"{example}.json"
    if not path.is_file():
        missing(f"the spec example {path} (../shared/specs beside the clone) is not present")
    response: dict[str, Any] = json.loads(path.read_text())["responses"][status]
    return response


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"  # the examples write 600 where we write 600.0: JSON has one number type
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string"}[type(value)]


def _compare(got: Any, want: Any, where: str, allowed: dict[str, str], problems: list[str]) -> None:
    if _kind(got) != _kind(want):
        problems.append(f"{where}: {_kind(got)} where the example has {_kind(want)}")
    elif isinstance(want, dict):
        for key, value in want.items():
            path = f"{where}.{key}"
            if key in got:
                _compare(got[key], value, path, allowed, problems)
            elif path not in allowed:
                problems.append(f"{path} missing (we have {sorted(got)})")
    elif isinstance(want, list) and want and got:
        _compare(got[0], want[0], f"{where}[0]", allowed, problems)


def assert_shape(got: Any, name: str) -> None:
    """``got`` has the structure of the example ``name``'s 200 body, but for its allowed-missing keys."""
    allowed = ALLOWED_MISSING[name]
    problems: list[str] = []
    _compare(got, _example(name)["body"], "$", allowed, problems)
    assert not problems, "\n".join(problems)
    unused = [p for p in allowed if _present(got, p)]
    assert not unused, f"allowed to be missing but present (drop them from ALLOWED_MISSING): {unused}"


def _present(body: Any, path: str) -> bool:
    value = body
    for part in path.removeprefix("$.").replace("[0]", ".[0]").split("."):
        if part == "[0]":
            if not isinstance(value, list) or not value:
                return False
            value = value[0]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return False
    return True


def _poll(url: str) -> dict[str, Any]:
    for _ in range(240):
        response = requests.get(url, headers=HEADERS, timeout=30)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"].lower() in ("succeeded", "failed"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"{url} did not finish")


def _accepted(response: requests.Response) -> str:
    """A 202 of a long-running operation: where to poll, and the server's Retry-After (its default, 1 s)."""
    assert response.status_code == 202, response.text
    assert response.headers["Retry-After"] == "1"
    return response.headers["Operation-Location"]


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return builders.text_pdf([builders.PARAGRAPH])


def test_cv_read_result(server, pdf: bytes) -> None:
    response = requests.post(f"{server.endpoint}/vision/v3.2/read/analyze", headers=PDF_HEADERS, data=pdf, timeout=30)
    body = _poll(_accepted(response))
    assert body["status"] == "succeeded"
    assert_shape(body, "computervision/v3.2/SuccessfulGetReadResult")


def test_fr_v21_layout_result(server, pdf: bytes) -> None:
    url = f"{server.endpoint}/formrecognizer/v2.1/layout/analyze"
    body = _poll(_accepted(requests.post(url, headers=PDF_HEADERS, data=pdf, timeout=30)))
    assert body["status"] == "succeeded"
    assert_shape(body, "formrecognizer/v2.1/LayoutBatchResult")


def test_di_analyze_accepted(server, pdf: bytes) -> None:
    """AnalyzeDocument_Stream: the 202 carries the example's headers, and its Operation-Location is the example's
    URL with our endpoint, model and operation id."""
    example = _example("documentintelligence/2024-11-30/AnalyzeDocument_Stream", "202")
    url = f"{server.endpoint}/documentintelligence/documentModels/prebuilt-layout:analyze?api-version=2024-11-30"
    response = requests.post(url, headers=PDF_HEADERS, data=pdf, timeout=30)
    location = _accepted(response)
    assert all(name in response.headers for name in example["headers"])  # names compare case-insensitively
    want = example["headers"]["Operation-Location"]
    prefix, _, tail = want.partition("/documentintelligence/")
    op_id = tail.split("/analyzeResults/")[1].split("?")[0]
    expected = want.replace(prefix, server.endpoint).replace("customModel", "prebuilt-layout")
    assert location == expected.replace(op_id, location.split("/analyzeResults/")[1].split("?")[0])
    assert _poll(location)["status"] == "succeeded"


@pytest.mark.parametrize(
    ("example", "path"),
    [
        ("GetResourceDetails", "info"),
        ("GetDocumentModels", "documentModels"),
        ("GetDocumentModel_Prebuilt", "documentModels/prebuilt-layout"),
    ],
)
def test_di_model_management(server, example: str, path: str) -> None:
    url = f"{server.endpoint}/documentintelligence/{path}"
    response = requests.get(url, params={"api-version": "2024-11-30"}, headers=HEADERS, timeout=30)
    assert response.status_code == 200, response.text
    assert_shape(response.json(), f"documentintelligence/2024-11-30/{example}")
