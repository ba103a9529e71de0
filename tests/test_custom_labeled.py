"""Custom models trained with labels, composed and copied, end to end over every API family that has them:
generated forms with labeling-tool files in a real Azurite container, trained through the seed's ``requests``
flow and the unmodified SDKs (FormTrainingClient, DocumentModelAdministrationClient,
DocumentIntelligenceAdministrationClient), analyzed on new, shifted and scanned forms; asserting field values."""

from __future__ import annotations

import json

import builders
import cv2
import pytest
import requests
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azurite import container
from server_harness import KEY, poll_done, start_server

OFFSETS = [(0, 0), (14, -10), (-8, 12), (20, 6), (-12, -14), (6, 18)]
HEADERS = {"Ocp-Apim-Subscription-Key": KEY}
ORDERS = [
    *builders.ORDERS,
    ("PO-80", "Proseware Inc", "5 Ash St, Waco TX"),
    ("PO-81", "Wide World Importers", "6 Fir St, Bend OR"),
]


def _invoice(i: int) -> bytes:
    number, date, bill_to, total = builders.INVOICES[i]
    return builders.invoice_form(number, date, bill_to, total, *OFFSETS[i], paid=i % 2 == 0)


def _labeled_invoices(prefix: str = "") -> dict[str, bytes]:
    files = {f"{prefix}fields.json": json.dumps(builders.INVOICE_FIELDS).encode()}
    for i in range(5):
        name = f"{prefix}Invoice_{i + 1}.pdf"
        number, date, bill_to, total = builders.INVOICES[i]
        files[name] = _invoice(i)
        labels = builders.invoice_labels(name, number, date, bill_to, total, *OFFSETS[i], paid=i % 2 == 0)
        files[name + ".labels.json"] = json.dumps(labels).encode()
    return files


def _labeled_orders() -> dict[str, bytes]:
    files = {"fields.json": json.dumps(builders.ORDER_FIELDS).encode()}
    for i, order in enumerate(ORDERS[:5]):
        name = f"Order_{i + 1}.pdf"
        files[name] = builders.order_form(*order, dx=3 * i, dy=-2 * i)
        files[name + ".labels.json"] = json.dumps(builders.order_labels(name, *order, dx=3 * i, dy=-2 * i)).encode()
    return files


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    srv = start_server(tmp_path_factory.mktemp("labeled") / "data", PERCEPT_URL_ALLOW="localhost,127.0.0.1")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def invoices_sas(azurite: str) -> str:
    files = _labeled_invoices("labeled/")
    files["labeled/Invoice_9.pdf"] = _invoice(5)  # no labels beside it: not trained on
    return container(azurite, "labeled-invoices", files)


@pytest.fixture(scope="module")
def orders_sas(azurite: str) -> str:
    return container(azurite, "labeled-orders", _labeled_orders())


def _poll(url: str) -> dict:
    return poll_done(url, HEADERS, 240)


def _expected(i: int) -> dict[str, object]:
    number, date, bill_to, total = builders.INVOICES[i]
    return {"Number": number, "Date": date, "BillTo": " ".join(bill_to), "Total": total}


@pytest.mark.parametrize("path_version", ["v2.0", "v2.1-preview.2"])
def test_seed_flow_with_labels(server, invoices_sas: str, path_version: str) -> None:
    body = {"source": invoices_sas, "sourceFilter": {"prefix": "labeled/", "includeSubFolders": False}}
    body["useLabelFile"] = True
    base = f"{server.endpoint}/formrecognizer/{path_version}/custom/models"
    resp = requests.post(base, json=body, headers={"Content-Type": "application/json", **HEADERS})
    assert resp.status_code == 201, resp.text
    model = _poll(resp.headers["location"])
    assert model["modelInfo"]["status"] == "ready", model
    train = model["trainResult"]
    assert sorted(d["documentName"] for d in train["trainingDocuments"]) == [
        f"labeled/Invoice_{i}.pdf" for i in range(1, 6)
    ]
    assert {f["fieldName"]: f["accuracy"] for f in train["fields"]} == {
        "Number": 1.0,
        "Date": 1.0,
        "BillTo": 1.0,
        "Total": 1.0,
        "Paid": 1.0,
    }
    assert train["averageModelAccuracy"] == 1.0

    resp = requests.post(
        f"{base}/{model['modelInfo']['modelId']}/analyze",
        data=_invoice(5),
        headers={"Content-Type": "application/pdf", **HEADERS},
        params={"includeTextDetails": True},
    )
    assert resp.status_code == 202
    result = _poll(resp.headers["operation-location"])["analyzeResult"]
    doc = result["documentResults"][0]
    assert doc["docType"] == f"custom:{model['modelInfo']['modelId']}" and doc["pageRange"] == [1, 1]
    fields = doc["fields"]
    assert {k: fields[k]["text"] for k in ("Number", "Date", "BillTo", "Total")} == _expected(5)
    assert fields["Total"]["valueNumber"] == 5010.2 and fields["Date"]["valueDate"] == "2024-06-30"
    assert fields["Paid"]["text"] == "unselected"
    read = result["readResults"][0]
    for pointer in fields["BillTo"]["elements"]:
        _, _, _, _, li, _, wi = pointer.split("/")
        assert read["lines"][int(li)]["words"][int(wi)]["text"] in _expected(5)["BillTo"]


def test_scanned_form_read_with_labeled_model(server, invoices_sas: str) -> None:
    from azure.ai.formrecognizer import FormRecognizerClient, FormTrainingClient

    cred = AzureKeyCredential(KEY)
    trainer = FormTrainingClient(server.endpoint, cred, api_version="2.1")
    model = trainer.begin_training(invoices_sas, use_training_labels=True, prefix="labeled/", model_name="inv").result()
    assert model.model_name == "inv" and model.training_documents[0].status == "succeeded"
    assert {f.name: f.accuracy for f in model.submodels[0].fields.values()}["Total"] == 1.0
    number, date, bill_to, total = builders.INVOICES[5]
    page = builders.invoice_form(number, date, bill_to, total, 6, 18, paid=True)
    gray = builders.scan(builders.render(page, dpi=200), noise=0.03, skew=0.5)
    png = cv2.imencode(".png", gray)[1].tobytes()
    client = FormRecognizerClient(server.endpoint, cred, api_version="2.1")
    form = client.begin_recognize_custom_forms(model.model_id, png, include_field_elements=True).result()[0]
    assert form.form_type == "custom:inv"
    assert form.fields["Number"].value == number and form.fields["Total"].value == 5010.2
    assert form.fields["Date"].value.isoformat() == "2024-06-30"
    assert form.fields["BillTo"].value == " ".join(bill_to)
    assert form.fields["Paid"].value == "selected"


def test_compose_and_copy_v21(server, invoices_sas: str, orders_sas: str) -> None:
    from azure.ai.formrecognizer import FormRecognizerClient, FormTrainingClient

    cred = AzureKeyCredential(KEY)
    trainer = FormTrainingClient(server.endpoint, cred, api_version="2.1")
    invoices = trainer.begin_training(invoices_sas, True, prefix="labeled/", model_name="invoices").result()
    orders = trainer.begin_training(orders_sas, True, model_name="orders").result()
    composed = trainer.begin_create_composed_model([invoices.model_id, orders.model_id], model_name="both").result()
    assert composed.properties.is_composed_model and len(composed.submodels) == 2
    client = FormRecognizerClient(server.endpoint, cred, api_version="2.1")
    order = builders.order_form("PO-90", "Northwind Traders", "4 Pine St, Tulsa OK", dx=10, dy=-6)
    form = client.begin_recognize_custom_forms(composed.model_id, order).result()[0]
    assert form.form_type == "custom:orders"
    assert form.fields["Vendor"].value == "Northwind Traders" and form.fields["ShipTo"].value == "4 Pine St, Tulsa OK"
    form = client.begin_recognize_custom_forms(composed.model_id, _invoice(5)).result()[0]
    assert form.form_type == "custom:invoices" and form.fields["Number"].value == "INV-2001"

    target = trainer.get_copy_authorization(resource_id="local", resource_region="local")
    copied = trainer.begin_copy_model(orders.model_id, target=target).result()
    assert copied.model_id == target["modelId"] and copied.status == "ready"
    form = client.begin_recognize_custom_forms(copied.model_id, order).result()[0]
    assert form.fields["PO"].value == "PO-90"
    forged = {**target, "accessToken": "0" * 64}
    with pytest.raises(HttpResponseError) as err:
        trainer.begin_copy_model(orders.model_id, target=forged).result()
    assert (err.value.status_code, err.value.error.code) == (401, "401")


@pytest.mark.parametrize("api_version", ["2022-08-31", "2023-07-31"])
def test_formrecognizer_v3_build_analyze_compose(server, invoices_sas: str, orders_sas: str, api_version: str) -> None:
    from azure.ai.formrecognizer import DocumentAnalysisClient, DocumentModelAdministrationClient

    cred = AzureKeyCredential(KEY)
    admin = DocumentModelAdministrationClient(server.endpoint, cred, api_version=api_version)
    suffix = api_version.replace("-", "")
    poller = admin.begin_build_document_model(
        "template", blob_container_url=invoices_sas, prefix="labeled/", model_id=f"inv-{suffix}", description="inv"
    )
    model = poller.result()
    assert poller.details["operation_kind"] == "documentModelBuild"
    assert model.model_id == f"inv-{suffix}" and model.description == "inv"
    schema = model.doc_types[f"inv-{suffix}"].field_schema
    assert schema["Total"]["type"] == "number" and schema["Paid"]["type"] == "selectionMark"
    client = DocumentAnalysisClient(server.endpoint, cred, api_version=api_version)
    result = client.begin_analyze_document(model.model_id, _invoice(5)).result()
    doc = result.documents[0]
    assert doc.doc_type == f"inv-{suffix}"
    assert doc.fields["Total"].value == 5010.2 and doc.fields["Number"].value == "INV-2001"
    assert doc.fields["BillTo"].value == "Graphic Design Institute 81 Pixel Court, Boston MA"
    assert doc.fields["Date"].value.isoformat() == "2024-06-30"
    assert doc.fields["Paid"].value == "unselected"
    content = doc.fields["Number"].spans[0]
    assert result.content[content.offset : content.offset + content.length] == "INV-2001"

    orders = admin.begin_build_document_model("neural", blob_container_url=orders_sas, model_id=f"po-{suffix}").result()
    assert "template" in orders.description
    both = admin.begin_compose_document_model([model.model_id, orders.model_id], model_id=f"both-{suffix}").result()
    assert set(both.doc_types) == {f"both-{suffix}:inv-{suffix}", f"both-{suffix}:po-{suffix}"}
    order = builders.order_form("PO-91", "Contoso Pharmaceuticals", "8 Bay St, Erie PA", dx=-5, dy=4)
    doc = client.begin_analyze_document(both.model_id, order).result().documents[0]
    assert doc.doc_type == f"both-{suffix}:po-{suffix}" and doc.fields["PO"].value == "PO-91"

    assert any(m.model_id == model.model_id for m in admin.list_document_models())
    assert admin.get_resource_details().custom_document_models.count >= 3
    ops = list(admin.list_operations())
    build = next(o for o in ops if o.resource_location and f"inv-{suffix}" in o.resource_location)
    assert admin.get_operation(build.operation_id).result.model_id == model.model_id
    with pytest.raises(ResourceExistsError):
        admin.begin_build_document_model("template", blob_container_url=invoices_sas, model_id=f"inv-{suffix}")
    admin.delete_document_model(model.model_id)
    with pytest.raises(ResourceNotFoundError):
        admin.get_document_model(model.model_id)


def test_document_intelligence_build_and_analyze(server, invoices_sas: str, azurite: str) -> None:
    from azure.ai.documentintelligence import DocumentIntelligenceAdministrationClient, DocumentIntelligenceClient
    from azure.ai.documentintelligence.models import AzureBlobContentSource, BuildDocumentModelRequest

    cred = AzureKeyCredential(KEY)
    admin = DocumentIntelligenceAdministrationClient(server.endpoint, cred)
    request = BuildDocumentModelRequest(
        model_id="di-invoices",
        build_mode="template",
        azure_blob_source=AzureBlobContentSource(container_url=invoices_sas, prefix="labeled/"),
    )
    model = admin.begin_build_document_model(request).result()
    assert model.model_id == "di-invoices"
    assert model.doc_types["di-invoices"].field_confidence["Total"] == 1.0
    client = DocumentIntelligenceClient(server.endpoint, cred)
    result = client.begin_analyze_document("di-invoices", _invoice(3)).result()
    fields = result.documents[0].fields
    assert fields["Number"].value_string == "INV-1004" and fields["Total"].value_number == 19.99
    assert fields["Paid"].value_selection_mark == "unselected"
    assert admin.get_resource_details().custom_document_models.count >= 1

    # Too few labelled forms: the operation fails with the reason, and no model is left behind.
    few = {k: v for k, v in _labeled_invoices().items() if not k.startswith(("Invoice_4", "Invoice_5"))}
    bad = BuildDocumentModelRequest(
        model_id="di-few",
        build_mode="template",
        azure_blob_source=AzureBlobContentSource(container_url=container(azurite, "few-labeled", few)),
    )
    with pytest.raises(HttpResponseError, match="at least 5") as err:
        admin.begin_build_document_model(bad).result()
    assert (err.value.error.code, err.value.error.innererror["code"]) == ("InvalidRequest", "TrainingContentMissing")
    with pytest.raises(ResourceNotFoundError):
        admin.get_model("di-few")


def test_model_errors_are_clear(server, azurite: str) -> None:
    base = f"{server.endpoint}/formrecognizer"
    build = f"{base}/documentModels:build?api-version=2023-07-31"
    sas = container(azurite, "broken-labels", {**_labeled_invoices(), "Invoice_2.pdf.labels.json": b"{not json"})
    bad = ("InvalidRequest", None)  # a plain 400 InvalidRequest, no innererror
    for body, status, code, inner, message in [
        ({"modelId": "x", "buildMode": "template", "azureBlobSource": {"containerUrl": sas}}, 400, *bad, "modelId"),
        ({"modelId": "ok-id", "buildMode": "fast", "azureBlobSource": {"containerUrl": sas}}, 400, *bad, "buildMode"),
        ({"modelId": "ok-id", "buildMode": "template"}, 400, *bad, "containerUrl"),
        (
            {"modelId": "prebuilt-layout", "buildMode": "template", "azureBlobSource": {"containerUrl": sas}},
            409,
            "Conflict",
            "ModelExists",
            "exists",
        ),
    ]:
        resp = requests.post(build, json=body, headers=HEADERS)
        error = resp.json()["error"]
        assert (resp.status_code, error["code"], error.get("innererror", {}).get("code")) == (status, code, inner)
        assert message in error["message"], resp.text
    resp = requests.post(
        f"{base}/documentModels/no-such-model:analyze?api-version=2023-07-31", data=_invoice(0), headers=HEADERS
    )
    assert resp.status_code == 404 and resp.json()["error"]["message"]

    # A broken labels file fails its own form and leaves four: too few to train with labels.
    resp = requests.post(f"{base}/v2.1/custom/models", json={"source": sas, "useLabelFile": True}, headers=HEADERS)
    model = _poll(resp.headers["location"])
    assert model["modelInfo"]["status"] == "invalid"
    docs = {d["documentName"]: d for d in model["trainResult"]["trainingDocuments"]}
    assert docs["Invoice_2.pdf"]["status"] == "failed"
    assert docs["Invoice_2.pdf"]["errors"][0]["code"] == "InvalidLabelFile"
    assert "at least 5" in model["trainResult"]["errors"][0]["message"]
