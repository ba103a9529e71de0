"""Ids from requests never reach the disk unchecked: traversal and malformed ids on every family's routes answer
the family's not-found, and the data directory (models, results, database) is left exactly as it was.

The attack this guards against: ``DELETE /formrecognizer/documentModels/%2e%2e`` once ran
``shutil.rmtree(models/..)``, deleting the whole data directory; every request was a 500 after it.
"""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from urllib.parse import urlsplit

import builders
import pytest
import requests
from server_harness import KEY, poll_done, start_server

HEADERS = {"Ocp-Apim-Subscription-Key": KEY}
V3_MODEL_ID = "m" + "-abcdefghijklmnopqrstuvwxyz.0123456789~_ABCDEFGHIJKLMNOPQRSTUVW"  # 64 characters
OFFSETS = [(0, 0), (14, -10), (-8, 12), (20, 6), (-12, -14)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("training-root")
    srv = start_server(tmp_path_factory.mktemp("ids") / "data", PERCEPT_TRAINING_ROOT=str(root))
    srv.training_root = root  # type: ignore[attr-defined]
    yield srv
    srv.stop()


def _invoice(i: int) -> bytes:
    number, date, bill_to, total = builders.INVOICES[i]
    return builders.invoice_form(number, date, bill_to, total, *OFFSETS[i], paid=i % 2 == 0)


def _poll(url: str) -> dict:
    return poll_done(url, HEADERS, 600)


@pytest.fixture(scope="module")
def models(server) -> dict[str, str]:
    """A v2 model (trained without labels) and a v3 model built with the longest id allowed, from local folders,
    plus a finished layout result: what the attacks below must leave alone."""
    unlabeled = server.training_root / "forms"
    unlabeled.mkdir()
    (unlabeled / "Invoice_empty.pdf").write_bytes(builders.invoice_form("", "", ("", ""), ""))
    for i in range(2):
        (unlabeled / f"Invoice_{i}.pdf").write_bytes(_invoice(i))
    labeled = server.training_root / "labeled"
    labeled.mkdir()
    (labeled / "fields.json").write_text(json.dumps(builders.INVOICE_FIELDS))
    for i in range(5):
        name = f"Invoice_{i + 1}.pdf"
        number, date, bill_to, total = builders.INVOICES[i]
        (labeled / name).write_bytes(_invoice(i))
        labels = builders.invoice_labels(name, number, date, bill_to, total, *OFFSETS[i], paid=i % 2 == 0)
        (labeled / f"{name}.labels.json").write_text(json.dumps(labels))

    train = requests.post(
        server.endpoint + "/formrecognizer/v2.1/custom/models",
        json={"source": unlabeled.as_uri(), "sourceFilter": {"prefix": ""}, "useLabelFile": False},
        headers=HEADERS,
    )
    assert train.status_code == 201, train.text
    assert len(V3_MODEL_ID) == 64
    build = requests.post(
        server.endpoint + "/formrecognizer/documentModels:build?api-version=2023-07-31",
        json={"modelId": V3_MODEL_ID, "buildMode": "template", "azureBlobSource": {"containerUrl": labeled.as_uri()}},
        headers=HEADERS,
    )
    assert build.status_code == 202, build.text  # the longest id Azure allows (64) is accepted
    layout = requests.post(
        server.endpoint + "/formrecognizer/v2.1/layout/analyze",
        data=builders.text_pdf([["Kept safe"]]),
        headers={**HEADERS, "Content-Type": "application/pdf"},
    )
    assert layout.status_code == 202, layout.text
    v2 = _poll(train.headers["Location"])
    assert v2["modelInfo"]["status"] == "ready", v2
    v3 = _poll(build.headers["Operation-Location"])
    assert v3["status"] == "succeeded", v3
    assert v3["result"]["modelId"] == V3_MODEL_ID
    assert _poll(layout.headers["Operation-Location"])["status"] == "succeeded"
    return {
        "v2": v2["modelInfo"]["modelId"],
        "v3": V3_MODEL_ID,
        "result": layout.headers["Operation-Location"].rsplit("/", 1)[1],
        "operation": v3["operationId"],
    }


def _raw(server, method: str, path: str, body: bytes = b"") -> tuple[int, dict]:
    """Send ``path`` byte for byte: HTTP clients would resolve the dot segments this test needs to send."""
    url = urlsplit(server.endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.putheader("Ocp-Apim-Subscription-Key", KEY)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def _intact(server, models: dict[str, str]) -> None:
    """Every model folder and learned model, the stored result and the database are where they were."""
    data: Path = server.data_dir
    assert (data / "percept.sqlite3").is_file()
    for model_id in (models["v2"], models["v3"]):
        assert (data / "models" / model_id / "model.json").is_file(), model_id
    assert (data / "operations" / f"{models['result']}.result.json.gz").is_file()


# name -> (raw id, whether it decodes to something with a "/": then no route matches at all)
BAD_IDS = {
    "dotdot": ("%2e%2e", False),
    "dot": (".", False),
    "dotdot-slash-dotdot": ("..%2f..", True),
    "encoded-slash": ("%2F", True),
    "nul": ("%00", False),
    "nul-inside": ("abc%00def", False),
    "10kb": ("a" * 10240, False),
    "newline": ("{real}%0A", False),
}
V3 = {"2022": "api-version=2022-08-31", "2023": "api-version=2023-07-31", "di": "api-version=2024-11-30"}
# (method, path with {id} and the real id its kind has as {real}, what an unknown id of that kind answers)
ROUTES = [
    ("GET", "/formrecognizer/v2.1/custom/models/{id}", "v2", "1022"),
    ("DELETE", "/formrecognizer/v2.1/custom/models/{id}", "v2", "1022"),
    ("DELETE", "/formrecognizer/v2.0/custom/models/{id}", "v2", "1022"),
    ("POST", "/formrecognizer/v2.1/custom/models/{id}/analyze", "v2", "1022"),
    ("GET", "/formrecognizer/v2.1/custom/models/{id}/analyzeResults/{result}", "v2", "1022"),
    ("GET", "/formrecognizer/v2.1/custom/models/{v2}/analyzeResults/{id}", "result", "NotFound"),
    ("GET", "/formrecognizer/v2.1/custom/models/{v2}/copyResults/{id}", "result", "NotFound"),
    ("GET", "/formrecognizer/v2.0/layout/analyzeResults/{id}", "result", "NotFound"),
    ("GET", "/formrecognizer/v2.1/layout/analyzeResults/{id}", "result", "NotFound"),
    *(
        (method, f"/{root}/documentModels/{{id}}?{V3[v]}", "v3", "NotFound")
        for root, versions in (("formrecognizer", ("2022", "2023")), ("documentintelligence", ("di",)))
        for v in versions
        for method in ("GET", "DELETE")
    ),
    ("POST", f"/documentintelligence/documentModels/{{id}}:analyze?{V3['di']}", "v3", "NotFound"),
    ("POST", f"/formrecognizer/documentModels/{{id}}:analyze?{V3['2023']}", "v3", "NotFound"),
    (
        "GET",
        f"/documentintelligence/documentModels/prebuilt-read/analyzeResults/{{id}}?{V3['di']}",
        "result",
        "NotFound",
    ),
    (
        "DELETE",
        f"/documentintelligence/documentModels/prebuilt-read/analyzeResults/{{id}}?{V3['di']}",
        "result",
        "NotFound",
    ),
    ("GET", f"/formrecognizer/documentModels/prebuilt-layout/analyzeResults/{{id}}?{V3['2023']}", "result", "NotFound"),
    ("GET", f"/formrecognizer/documentModels/prebuilt-read/analyzeResults/{{id}}?{V3['2022']}", "result", "NotFound"),
    ("GET", f"/documentintelligence/documentModels/{{id}}/analyzeResults/{{result}}?{V3['di']}", "v3", "NotFound"),
    ("GET", f"/formrecognizer/operations/{{id}}?{V3['2023']}", "operation", "NotFound"),
    ("GET", f"/documentintelligence/operations/{{id}}?{V3['di']}", "operation", "NotFound"),
    ("GET", "/vision/v3.0/read/analyzeResults/{id}", "result", "NotFound"),
    ("GET", "/vision/v3.1/read/analyzeResults/{id}", "result", "NotFound"),
    ("GET", "/vision/v3.2/read/analyzeResults/{id}", "result", "NotFound"),
    ("GET", "/vision/v2.0/textOperations/{id}", "result", "NotFound"),
    ("GET", "/vision/v2.1/textOperations/{id}", "result", "NotFound"),
    ("GET", "/vision/v2.1/read/operations/{id}", "result", "NotFound"),
    ("GET", "/vision/v1.0/textOperations/{id}", "result", "NotFound"),
]


@pytest.mark.parametrize("bad", BAD_IDS, ids=list(BAD_IDS))
@pytest.mark.parametrize(("method", "template", "kind", "code"), ROUTES, ids=[f"{r[0]} {r[1]}" for r in ROUTES])
def test_malformed_ids_are_not_found_and_touch_nothing(
    server, models: dict[str, str], method: str, template: str, kind: str, code: str, bad: str
) -> None:
    raw, routed_away = BAD_IDS[bad]
    ident = raw.replace("{real}", models[kind])
    path = template.replace("{id}", ident).replace("{v2}", models["v2"]).replace("{result}", models["result"])
    status, body = _raw(server, method, path)
    # An id with a "/" in it matches no route at all: the router's not-found (or, where the rest of the path
    # happens to be another route's, its method-not-allowed); otherwise what an unknown id of its kind gets.
    if routed_away and method == "POST" and bad == "encoded-slash":
        expected_status, expected = 405, "MethodNotAllowed"  # `models/%2F/analyze` → `models/analyze`: a GET route
    else:
        expected_status, expected = 404, "NotFound" if routed_away else code
    assert status == expected_status, (path[:120], body)
    assert body["error"]["code"] == expected, body
    if path.startswith("/vision/"):
        assert body["code"] == expected  # Computer Vision's Read clients read the flat copy
    _intact(server, models)


def test_the_data_directory_still_serves(server, models: dict[str, str]) -> None:
    """After every attack above: the server is healthy, both models list and load, the result still reads."""
    assert requests.get(server.endpoint + "/health").status_code == 200
    listed = requests.get(server.endpoint + "/formrecognizer/v2.1/custom/models", headers=HEADERS).json()
    assert {m["modelId"] for m in listed["modelList"]} == {models["v2"], models["v3"]}
    for version in V3.values():
        root = "documentintelligence" if version.endswith("2024-11-30") else "formrecognizer"
        got = requests.get(f"{server.endpoint}/{root}/documentModels/{models['v3']}?{version}", headers=HEADERS)
        assert got.status_code == 200 and got.json()["modelId"] == models["v3"]
    result = requests.get(
        f"{server.endpoint}/formrecognizer/v2.1/layout/analyzeResults/{models['result']}", headers=HEADERS
    ).json()
    assert result["analyzeResult"]["readResults"][0]["lines"][0]["text"] == "Kept safe"
    analyzed = requests.post(
        f"{server.endpoint}/documentintelligence/documentModels/{models['v3']}:analyze?api-version=2024-11-30",
        data=_invoice(3),
        headers={**HEADERS, "Content-Type": "application/pdf"},
    )
    assert analyzed.status_code == 202
    fields = _poll(analyzed.headers["Operation-Location"])["analyzeResult"]["documents"][0]["fields"]
    assert fields["Number"]["valueString"] == builders.INVOICES[3][0]


@pytest.mark.parametrize(
    ("model_id", "status", "code"),
    [
        ("abc\n", 400, "InvalidRequest"),  # "$" would have let the newline through
        ("a", 400, "InvalidRequest"),  # too short
        (V3_MODEL_ID + "x", 400, "InvalidRequest"),  # 65 characters
        ("..", 400, "InvalidRequest"),
        ("-leading-dash", 400, "InvalidRequest"),
        ("a/b", 400, "InvalidRequest"),
        (V3_MODEL_ID, 409, "Conflict"),  # the 64-character id was accepted (built by the fixture): now it is taken
    ],
)
@pytest.mark.parametrize("root", ["formrecognizer", "documentintelligence"])
def test_build_model_id_rules(server, models: dict[str, str], model_id: str, status: int, code: str, root: str) -> None:
    version = "2024-11-30" if root == "documentintelligence" else "2023-07-31"
    body = {
        "modelId": model_id,
        "buildMode": "template",
        "azureBlobSource": {"containerUrl": (server.training_root / "labeled").as_uri()},
    }
    r = requests.post(
        f"{server.endpoint}/{root}/documentModels:build?api-version={version}", json=body, headers=HEADERS
    )
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    if status == 400:
        assert "2-64 letters" in r.json()["error"]["message"]
    _intact(server, models)


def test_ids_inside_bodies(server, models: dict[str, str]) -> None:
    """Component and copy-target ids in bodies are checked too: a compose naming ``..`` finds no model, a copy
    authorization naming ``../..`` is refused before anything is created."""
    compose = requests.post(
        server.endpoint + "/documentintelligence/documentModels:compose?api-version=2024-11-30",
        json={"modelId": "composed-1", "docTypes": {"a": {"modelId": ".."}}},
        headers=HEADERS,
    )
    assert compose.status_code == 404 and compose.json()["error"]["code"] == "NotFound"
    v2_compose = requests.post(
        server.endpoint + "/formrecognizer/v2.1/custom/models/compose", json={"modelIds": [".."]}, headers=HEADERS
    )
    assert v2_compose.status_code == 404 and v2_compose.json()["error"]["code"] == "1022"
    auth = {"modelId": "../..", "accessToken": "x", "expirationDateTimeTicks": 10**19}
    copy = requests.post(
        f"{server.endpoint}/formrecognizer/v2.1/custom/models/{models['v2']}/copy",
        json={"targetResourceId": "r", "targetResourceRegion": "here", "copyAuthorization": auth},
        headers=HEADERS,
    )
    assert copy.status_code == 400 and copy.json()["error"]["code"] == "InvalidRequest"
    assert "copyAuthorization.modelId" in copy.json()["error"]["message"]
    models_now = requests.get(server.endpoint + "/formrecognizer/v2.1/custom/models", headers=HEADERS).json()
    assert models_now["summary"]["count"] == 2
    _intact(server, models)


def test_disk_layer_refuses_what_is_not_an_id(tmp_path: Path) -> None:
    """Defence in depth: paths are built only from valid ids, and deleting an unknown model touches no file."""
    from percept.custom.registry import ModelRegistry
    from percept.ids import InvalidId
    from percept.server.store import OperationStore

    data = tmp_path / "data"
    store = OperationStore(data, 3600)
    registry = ModelRegistry(data)
    try:
        (data / "models" / "unknown-model").mkdir()
        for bad in ("..", ".", "../x", "a/b", "abc\n", "", "x" * 65):
            with pytest.raises(InvalidId):
                registry.folder(bad)
            with pytest.raises(InvalidId):
                store.input_path(bad)
            with pytest.raises(InvalidId):
                store.result_path(bad)
            assert registry.delete(bad) is False
        with pytest.raises(InvalidId):
            store.input_path("A0B1C2D3-0000-4000-8000-000000000000")  # not the canonical form we issue
        assert registry.delete("unknown-model") is False
        assert (data / "models" / "unknown-model").is_dir()  # no row, so nothing is removed
        assert sorted(p.name for p in data.iterdir() if not p.name.startswith("percept.sqlite3")) == [
            "models",
            "operations",
        ]
    finally:
        registry.close()
        store.close()


def test_an_operation_of_another_kind_is_not_found(server, models: dict[str, str]) -> None:
    """A build operation's id is a well-formed result id, but no analyze result: polled as one it is the family's
    404 (it was a 500 once the build had succeeded), and a layout result is no build operation either."""
    v3 = models["v3"]
    paths = [
        f"/formrecognizer/v2.1/custom/models/{models['v2']}/analyzeResults/{models['operation']}",
        f"/formrecognizer/documentModels/{v3}/analyzeResults/{models['operation']}?api-version=2023-07-31",
        f"/formrecognizer/v2.1/layout/analyzeResults/{models['operation']}",
        f"/formrecognizer/operations/{models['result']}?api-version=2023-07-31",
    ]
    for path in paths:
        response = requests.get(server.endpoint + path, headers=HEADERS)
        assert response.status_code == 404, (path, response.text)
        error = response.json()["error"]
        assert error["code"] == "NotFound", (path, error)
