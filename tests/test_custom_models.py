"""Custom models trained without labels, end to end: forms the tests generate, uploaded to a real Azurite blob
container, trained by SAS URL through the seed's own ``requests`` flow and the unmodified SDKs, then analyzed;
asserting the keys learned and the values extracted."""

from __future__ import annotations

import time
from pathlib import Path

import builders
import cv2
import pytest
import requests
from azurite import container
from server_harness import KEY, start_server

OFFSETS = [(0, 0), (14, -10), (-8, 12), (20, 6), (-12, -14), (6, 18)]
HEADERS = {"Ocp-Apim-Subscription-Key": KEY}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("training-root")
    srv = start_server(
        tmp_path_factory.mktemp("custom") / "data",
        PERCEPT_URL_ALLOW="localhost,127.0.0.1",
        PERCEPT_TRAINING_ROOT=str(root),
    )
    srv.training_root = root  # type: ignore[attr-defined]
    yield srv
    srv.stop()


def _invoice(i: int) -> bytes:
    number, date, bill_to, total = builders.INVOICES[i]
    return builders.invoice_form(number, date, bill_to, total, *OFFSETS[i])


@pytest.fixture(scope="module")
def invoices_sas(azurite: str) -> str:
    files = {f"invoices/Invoice_{i + 1}.pdf": _invoice(i) for i in range(5)}
    files["invoices/notes.txt"] = b"not a form"
    files["elsewhere/Invoice_9.pdf"] = _invoice(5)  # outside the prefix: not trained on
    return container(azurite, "invoices", files)


def _train_like_the_seed(endpoint: str, path_version: str, sas: str, prefix: str) -> dict:
    """The seed quickstart's training script, unchanged but for endpoint and key (and its poll interval)."""
    body = {
        "source": sas,
        "sourceFilter": {"prefix": prefix, "includeSubFolders": False},
        "useLabelFile": False,
    }
    headers = {"Content-Type": "application/json", **HEADERS}
    resp = requests.post(url=endpoint + f"/formrecognizer/{path_version}/custom/models", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    get_url = resp.headers["location"]
    assert get_url.startswith(endpoint) and "?" not in get_url
    for _ in range(120):
        resp = requests.get(url=get_url, headers=headers)
        assert resp.status_code == 200
        model = resp.json()
        if model["modelInfo"]["status"] in ("ready", "invalid"):
            return model
        time.sleep(0.5)
    raise AssertionError("training did not finish")


def _analyze_like_the_seed(endpoint: str, path_version: str, model_id: str, data: bytes, mime: str) -> dict:
    post_url = endpoint + f"/formrecognizer/{path_version}/custom/models/{model_id}/analyze"
    headers = {"Content-Type": mime, **HEADERS}
    resp = requests.post(url=post_url, data=data, headers=headers, params={"includeTextDetails": True})
    assert resp.status_code == 202, resp.text
    get_url = resp.headers["operation-location"]
    for _ in range(120):
        result = requests.get(url=get_url, headers=HEADERS).json()
        if result["status"] in ("succeeded", "failed"):
            return result
        time.sleep(0.5)
    raise AssertionError("analysis did not finish")


def _pairs(result: dict) -> dict[str, str]:
    return {
        kv["key"]["text"]: kv["value"]["text"]
        for pr in result["analyzeResult"]["pageResults"]
        for kv in pr["keyValuePairs"]
    }


@pytest.mark.parametrize("path_version", ["v2.0", "v2.1-preview.2"])
def test_seed_flow_trains_and_extracts(server, invoices_sas: str, path_version: str) -> None:
    model = _train_like_the_seed(server.endpoint, path_version, invoices_sas, "invoices/")
    assert model["modelInfo"]["status"] == "ready"
    docs = model["trainResult"]["trainingDocuments"]
    assert sorted(d["documentName"] for d in docs) == [f"invoices/Invoice_{i}.pdf" for i in range(1, 6)]
    assert all(d["status"] == "succeeded" and d["pages"] == 1 for d in docs)
    assert model["keys"]["clusters"]["0"] == list(builders.INVOICE_LABELS)

    result = _analyze_like_the_seed(
        server.endpoint, path_version, model["modelInfo"]["modelId"], _invoice(5), "application/pdf"
    )
    assert result["status"] == "succeeded"
    pairs = _pairs(result)
    number, date, bill_to, total = builders.INVOICES[5]
    assert pairs["Invoice Number:"] == number and pairs["Date:"] == date and pairs["Total:"] == total
    assert pairs["Bill To:"] == " ".join(bill_to)
    page = result["analyzeResult"]["pageResults"][0]
    assert page["clusterId"] == 0
    tokens = [kv for kv in page["keyValuePairs"] if kv["key"]["text"].startswith("__Tokens__")]
    assert [kv["value"]["text"] for kv in tokens] == []  # every varying text on this form has its key
    read = result["analyzeResult"]["readResults"][0]
    key = next(kv for kv in page["keyValuePairs"] if kv["key"]["text"] == "Bill To:")
    for pointer in key["value"]["elements"]:
        _, _, _, _, li, _, wi = pointer.split("/")
        assert read["lines"][int(li)]["words"][int(wi)]["text"] in " ".join(bill_to)


def test_scanned_form_analyzed_with_the_model(server, invoices_sas: str) -> None:
    model = _train_like_the_seed(server.endpoint, "v2.1", invoices_sas, "invoices/")
    gray = builders.scan(builders.render(_invoice(5), dpi=200), noise=0.03, skew=0.5)
    png = cv2.imencode(".png", gray)[1].tobytes()
    result = _analyze_like_the_seed(server.endpoint, "v2.1", model["modelInfo"]["modelId"], png, "image/png")
    pairs = _pairs(result)
    number, date, _, total = builders.INVOICES[5]
    assert pairs["Invoice Number:"] == number and pairs["Total:"] == total and pairs["Date:"] == date


@pytest.mark.parametrize("api_version", ["2.0", "2.1"])
def test_sdk_training_and_recognition(server, invoices_sas: str, api_version: str) -> None:
    from azure.ai.formrecognizer import FormRecognizerClient, FormTrainingClient
    from azure.core.credentials import AzureKeyCredential
    from azure.core.exceptions import ResourceNotFoundError

    cred = AzureKeyCredential(KEY)
    trainer = FormTrainingClient(server.endpoint, cred, api_version=api_version)
    model = trainer.begin_training(invoices_sas, use_training_labels=False, prefix="invoices/").result()
    assert model.status == "ready"
    labels = sorted(f.label for f in model.submodels[0].fields.values())
    assert labels == sorted(builders.INVOICE_LABELS)
    client = FormRecognizerClient(server.endpoint, cred, api_version=api_version)
    forms = client.begin_recognize_custom_forms(model.model_id, _invoice(5), include_field_elements=True).result()
    got = {f.label_data.text: f.value_data.text for f in forms[0].fields.values() if f.label_data}
    assert got["Invoice Number:"] == builders.INVOICES[5][0] and got["Total:"] == builders.INVOICES[5][3]
    assert forms[0].form_type == "form-0"
    assert any(m.model_id == model.model_id for m in trainer.list_custom_models())
    assert trainer.get_account_properties().custom_model_count >= 1
    trainer.delete_model(model.model_id)
    with pytest.raises(ResourceNotFoundError, match="not found") as err:
        trainer.get_custom_model(model.model_id)
    assert (err.value.status_code, err.value.error.code) == (404, "1022")  # FR v2's "model not found"


def test_two_form_types_are_clustered(server, azurite: str) -> None:
    files = {f"Invoice_{i + 1}.pdf": _invoice(i) for i in range(3)}
    files.update({f"Order_{i + 1}.pdf": builders.order_form(*o, dx=4 * i) for i, o in enumerate(builders.ORDERS)})
    model = _train_like_the_seed(server.endpoint, "v2.1", container(azurite, "mixed", files), "")
    clusters = model["keys"]["clusters"]
    assert sorted(map(sorted, clusters.values())) == sorted(
        [sorted(builders.INVOICE_LABELS), sorted(builders.ORDER_LABELS)]
    )
    order_cluster = next(int(c) for c, keys in clusters.items() if "Vendor:" in keys)
    new_order = builders.order_form("PO-80", "Northwind Traders", "4 Pine St, Tulsa OK", dx=10, dy=-6)
    result = _analyze_like_the_seed(
        server.endpoint, "v2.1", model["modelInfo"]["modelId"], new_order, "application/pdf"
    )
    assert result["analyzeResult"]["pageResults"][0]["clusterId"] == order_cluster
    pairs = _pairs(result)
    assert pairs["PO Number:"] == "PO-80" and pairs["Vendor:"] == "Northwind Traders"
    assert pairs["Ship To:"] == "4 Pine St, Tulsa OK"


def test_local_folder_source_and_its_root(server, tmp_path: Path) -> None:
    folder = server.training_root / "forms"
    folder.mkdir(exist_ok=True)
    (folder / "Invoice_empty.pdf").write_bytes(builders.invoice_form("", "", ("", ""), ""))
    for i in range(2):
        (folder / f"Invoice_{i}.pdf").write_bytes(_invoice(i))
    model = _train_like_the_seed(server.endpoint, "v2.1", folder.as_uri(), "")
    assert model["modelInfo"]["status"] == "ready"  # one empty form plus two filled ones is enough
    assert "Invoice Number:" in model["keys"]["clusters"]["0"]
    outside = tmp_path / "outside"
    outside.mkdir()
    model = _train_like_the_seed(server.endpoint, "v2.1", outside.as_uri(), "")
    assert model["modelInfo"]["status"] == "invalid"
    assert "outside the allowed training root" in model["trainResult"]["errors"][0]["message"]


def test_training_errors_are_clear(server, azurite: str) -> None:
    from azure.ai.formrecognizer import FormTrainingClient
    from azure.core.credentials import AzureKeyCredential
    from azure.core.exceptions import HttpResponseError

    few = container(azurite, "few", {"a.pdf": _invoice(0), "b.pdf": _invoice(1)})
    model = _train_like_the_seed(server.endpoint, "v2.0", few, "")
    assert model["modelInfo"]["status"] == "invalid"
    assert "at least 5 readable forms" in model["trainResult"]["errors"][0]["message"]
    trainer = FormTrainingClient(server.endpoint, AzureKeyCredential(KEY), api_version="2.1")
    with pytest.raises(HttpResponseError, match="No PDF or image files") as err:
        trainer.begin_training(container(azurite, "empty", {}), use_training_labels=False).result()
    assert err.value.error.code == "TrainingContentMissing"  # the invalid model's first training error
    bad = requests.post(
        server.endpoint + "/formrecognizer/v2.1/custom/models", json={"sourceFilter": {}}, headers=HEADERS
    )
    assert bad.status_code == 400 and "source" in bad.json()["error"]["message"]
    ssrf = _train_like_the_seed(server.endpoint, "v2.1", "http://169.254.169.254/latest?sig=x", "")
    assert ssrf["modelInfo"]["status"] == "invalid"
    missing = requests.post(
        server.endpoint + "/formrecognizer/v2.1/custom/models/nope/analyze",
        data=_invoice(0),
        headers={"Content-Type": "application/pdf", **HEADERS},
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "1022"


def test_model_survives_restart(server, invoices_sas: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    data = tmp_path_factory.mktemp("restart") / "data"
    env = {"PERCEPT_URL_ALLOW": "localhost,127.0.0.1"}
    first = start_server(data, **env)
    try:
        model = _train_like_the_seed(first.endpoint, "v2.1", invoices_sas, "invoices/")
    finally:
        first.kill()
    second = start_server(data, **env)
    try:
        again = requests.get(
            second.endpoint + f"/formrecognizer/v2.1/custom/models/{model['modelInfo']['modelId']}", headers=HEADERS
        ).json()
        assert again["modelInfo"]["status"] == "ready" and again["keys"] == model["keys"]
        result = _analyze_like_the_seed(
            second.endpoint, "v2.1", model["modelInfo"]["modelId"], _invoice(5), "application/pdf"
        )
        assert _pairs(result)["Invoice Number:"] == builders.INVOICES[5][0]
    finally:
        second.stop()
