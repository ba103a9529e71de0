"""Crash windows: nothing a user submitted is lost, and nothing a crash leaves behind lingers, across kill -9 and
restarts. Each test first puts the data directory in the state a crash leaves (by a real kill -9 of the server,
or by writing exactly the rows and files the crash would leave), then restarts a real server and asserts what the
APIs answer and what is left on disk."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from contextlib import closing
from pathlib import Path

import builders
import pytest
import requests
from azurite import container
from server_harness import KEY, Server, free_port, start_server

HEADERS = {"Ocp-Apim-Subscription-Key": KEY}
OFFSETS = [(0, 0), (14, -10), (-8, 12), (20, 6), (-12, -14), (6, 18)]
DI_ANALYZE = "/documentintelligence/documentModels/prebuilt-read:analyze?api-version=2024-11-30"
DI_RESULT = "/documentintelligence/documentModels/prebuilt-read/analyzeResults/{}?api-version=2024-11-30"
FIELD_SCHEMA = {
    "Number": {"type": "string"},
    "Date": {"type": "date"},
    "BillTo": {"type": "string"},
    "Total": {"type": "number"},
    "Paid": {"type": "selectionMark"},
}
# The models table as the versions before one shared database kept it, in its own models.sqlite3.
LEGACY_SCHEMA = """
CREATE TABLE models (
    id TEXT PRIMARY KEY, name TEXT, status TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL,
    params TEXT NOT NULL, train_result TEXT, keys TEXT
);
"""


def _invoice(i: int, *, paid: bool | None = None) -> bytes:
    number, date, bill_to, total = builders.INVOICES[i]
    return builders.invoice_form(number, date, bill_to, total, *OFFSETS[i], paid=paid)


def _labeled_folder(folder: Path) -> Path:
    """Five invoices with the labeling tool's files beside them, as a local training folder."""
    folder.mkdir(parents=True)
    (folder / "fields.json").write_text(json.dumps(builders.INVOICE_FIELDS))
    for i in range(5):
        name = f"Invoice_{i + 1}.pdf"
        number, date, bill_to, total = builders.INVOICES[i]
        (folder / name).write_bytes(_invoice(i, paid=i % 2 == 0))
        labels = builders.invoice_labels(name, number, date, bill_to, total, *OFFSETS[i], paid=i % 2 == 0)
        (folder / f"{name}.labels.json").write_text(json.dumps(labels))
    return folder


def _get(url: str, **params: str) -> requests.Response:
    return requests.get(url, headers=HEADERS, params=params, timeout=30)


def _poll(url: str, done, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        response = _get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        if done(body):
            return body
        time.sleep(0.3)
    raise AssertionError(f"{url} did not finish: {body}")


def _model(endpoint: str, model_id: str) -> dict:
    """Poll the v2.1 GET model route until the model is built."""
    url = f"{endpoint}/formrecognizer/v2.1/custom/models/{model_id}"
    return _poll(url, lambda b: b["modelInfo"]["status"] in ("ready", "invalid"))


def _v3_model(endpoint: str, model_id: str) -> requests.Response:
    return _get(f"{endpoint}/formrecognizer/documentModels/{model_id}", **{"api-version": "2023-07-31"})


def _train(endpoint: str, source: str, *, labels: bool) -> str:
    body = {"source": source, "sourceFilter": {"prefix": "", "includeSubFolders": False}, "useLabelFile": labels}
    response = requests.post(f"{endpoint}/formrecognizer/v2.1/custom/models", json=body, headers=HEADERS, timeout=30)
    assert response.status_code == 201, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def _analyze(endpoint: str, model_id: str, data: bytes) -> dict:
    url = f"{endpoint}/formrecognizer/v2.1/custom/models/{model_id}/analyze"
    headers = {"Content-Type": "application/pdf", **HEADERS}
    response = requests.post(url, data=data, headers=headers, timeout=30)
    assert response.status_code == 202, response.text
    body = _poll(response.headers["Operation-Location"], lambda b: b["status"] in ("succeeded", "failed"))
    assert body["status"] == "succeeded", body
    return body["analyzeResult"]


def _labeled_values(endpoint: str, model_id: str) -> dict[str, str]:
    fields = _analyze(endpoint, model_id, _invoice(5, paid=False))["documentResults"][0]["fields"]
    return {name: fields[name]["text"] for name in ("Number", "Date", "BillTo", "Total", "Paid")}


LABELED_VALUES = {
    "Number": "INV-2001",
    "Date": "6/30/2024",
    "BillTo": "Graphic Design Institute 81 Pixel Court, Boston MA",
    "Total": "$5,010.20",
    "Paid": "unselected",
}


def _rows(data: Path, sql: str, args: tuple = ()) -> list[tuple]:
    with closing(sqlite3.connect(data / "percept.sqlite3")) as db:
        return db.execute(sql, args).fetchall()


def _write(db_path: Path, sql: str, args: tuple = (), script: str = "") -> None:
    with closing(sqlite3.connect(db_path)) as db:
        if script:
            db.executescript(script)
        db.execute(sql, args)
        db.commit()


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.mark.parametrize("where", ["percept.sqlite3", "models.sqlite3"])
def test_model_left_creating_without_its_operation_is_built_after_restart(tmp_path: Path, where: str) -> None:
    root = tmp_path / "root"
    forms = _labeled_folder(root / "forms")
    data = tmp_path / "data"
    env = {"PERCEPT_TRAINING_ROOT": str(root)}
    start_server(data, **env).kill()  # a data directory as a server leaves it

    # The crash: start_model_operation's first half (the model row, creating, naming an operation) committed,
    # the operation never did. `models.sqlite3` is an earlier version's data directory, where the two were
    # separate databases; `percept.sqlite3` is the same state in today's database.
    model_id = str(uuid.uuid4())
    params = {
        "source": str(forms),
        "prefix": "",
        "includeSubFolders": False,
        "useLabelFile": True,
        "version": "2.1",
        "operation": str(uuid.uuid4()),
    }
    insert = "INSERT INTO models (id, name, status, created, updated, params) VALUES (?, ?, ?, ?, ?, ?)"
    row = (model_id, "crashed", "creating", time.time(), time.time(), json.dumps(params))
    _write(data / where, insert, row, script=LEGACY_SCHEMA if where == "models.sqlite3" else "")
    assert _rows(data, "SELECT id FROM operations") == []

    server = start_server(data, **env)
    try:
        model = _model(server.endpoint, model_id)
        assert model["modelInfo"]["status"] == "ready", model
        assert model["modelInfo"]["modelName"] == "crashed"
        train = model["trainResult"]
        assert sorted(d["documentName"] for d in train["trainingDocuments"]) == [
            f"Invoice_{i}.pdf" for i in range(1, 6)
        ]
        assert {f["fieldName"]: f["accuracy"] for f in train["fields"]} == dict.fromkeys(FIELD_SCHEMA, 1.0)
        v3 = _v3_model(server.endpoint, model_id)
        assert v3.status_code == 200, v3.text
        assert v3.json()["docTypes"][model_id]["fieldSchema"] == FIELD_SCHEMA
        ops = _get(f"{server.endpoint}/formrecognizer/operations", **{"api-version": "2023-07-31"}).json()["value"]
        builds = [o for o in ops if o["resourceLocation"].split("?")[0].endswith(f"/documentModels/{model_id}")]
        assert [(o["kind"], o["status"]) for o in builds] == [("documentModelBuild", "succeeded")]
        assert builds[0]["operationId"] != params["operation"]  # a new operation, the model points at it
        stored = json.loads(_rows(data, "SELECT params FROM models WHERE id = ?", (model_id,))[0][0])
        assert stored["operation"] == builds[0]["operationId"]
        assert _labeled_values(server.endpoint, model_id) == LABELED_VALUES
        assert _files(data / "models" / model_id) == ["model.json"]  # the training copies are gone
        assert not (data / "models.sqlite3").exists()  # moved into the one database
    finally:
        server.stop()


def test_training_copies_go_and_a_crash_after_the_build_neither_retrains_nor_leaves_files(tmp_path: Path) -> None:
    root = tmp_path / "root"
    forms = _labeled_folder(root / "forms")
    few = root / "few"
    few.mkdir()
    for i in range(2):
        (few / f"Invoice_{i}.pdf").write_bytes(_invoice(i))
    data = tmp_path / "data"
    env = {"PERCEPT_TRAINING_ROOT": str(root)}
    first = start_server(data, **env)
    try:
        model_id = _train(first.endpoint, forms.as_uri(), labels=True)
        assert _model(first.endpoint, model_id)["modelInfo"]["status"] == "ready"
        assert _files(data / "models" / model_id) == ["model.json"]  # no copy of anyone's forms kept
        assert _labeled_values(first.endpoint, model_id) == LABELED_VALUES
        invalid_id = _train(first.endpoint, few.as_uri(), labels=False)
        invalid = _model(first.endpoint, invalid_id)
        assert invalid["modelInfo"]["status"] == "invalid"
        assert invalid["trainResult"]["errors"][0]["code"] == "TrainingContentMissing"
        assert not (data / "models" / invalid_id).exists()
    finally:
        first.kill()

    # A crash after the model was written ready but before its operation said so, and before the training
    # copies were deleted (a copy and a temporary file left). The source is gone now: training again would fail.
    [(op_id,)] = _rows(data, "SELECT id FROM operations WHERE model_id = ? AND kind = 'train'", (model_id,))
    _write(data / "percept.sqlite3", "UPDATE operations SET status = 'running', expires = NULL WHERE id = ?", (op_id,))
    leftover = data / "models" / model_id / "source" / "Invoice_1.pdf"
    leftover.parent.mkdir()
    leftover.write_bytes(_invoice(0))
    (data / "models" / model_id / "model.tmp").write_bytes(b"half")
    for f in forms.iterdir():
        f.unlink()
    forms.rmdir()

    second = start_server(data, **env)
    try:
        url = f"{second.endpoint}/formrecognizer/operations/{op_id}"
        op = _poll(url + "?api-version=2023-07-31", lambda b: b["status"] in ("succeeded", "failed"))
        assert op["status"] == "succeeded" and op["result"]["docTypes"][model_id]["fieldSchema"] == FIELD_SCHEMA
        assert _model(second.endpoint, model_id)["modelInfo"]["status"] == "ready"
        assert _files(data / "models" / model_id) == ["model.json"]
        assert _labeled_values(second.endpoint, model_id) == LABELED_VALUES
    finally:
        second.stop()


def test_kill_9_during_a_training_from_azurite_then_the_model_ends_ready(tmp_path: Path, azurite: str) -> None:
    files = {f"Invoice_{i + 1}.pdf": _invoice(i) for i in range(5)}
    sas = container(azurite, f"crash-{uuid.uuid4().hex[:8]}", files)
    data = tmp_path / "data"
    env = {"PERCEPT_STORAGE_ALLOW": "127.0.0.1", "PERCEPT_URL_ALLOW": "127.0.0.1", "PERCEPT_WORKERS": "1"}
    first = start_server(data, **env)
    try:
        model_id = _train(first.endpoint, sas, labels=False)
        copies = data / "models" / model_id / "source"
        deadline = time.monotonic() + 60
        while not any(copies.glob("*.pdf")) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        first.kill()
    assert any(copies.glob("*.pdf")), "the training never started"
    # The crash hit the training: the model is creating, its operation pending, a partial copy on disk.
    assert _rows(data, "SELECT status FROM models WHERE id = ?", (model_id,)) == [("creating",)]
    statuses = _rows(data, "SELECT status FROM operations WHERE model_id = ? AND kind = 'train'", (model_id,))
    assert statuses in ([("notStarted",)], [("running",)])

    second = start_server(data, **env)
    try:
        model = _model(second.endpoint, model_id)
        assert model["modelInfo"]["status"] == "ready", model
        assert model["keys"]["clusters"] == {"0": list(builders.INVOICE_LABELS)}
        docs = model["trainResult"]["trainingDocuments"]
        assert [(d["documentName"], d["status"], d["pages"]) for d in docs] == [
            (f"Invoice_{i}.pdf", "succeeded", 1) for i in range(1, 6)
        ]
        v3 = _v3_model(second.endpoint, model_id)
        assert v3.status_code == 200 and v3.json()["modelId"] == model_id
        assert _files(data / "models" / model_id) == ["model.json"]
        pairs = {
            kv["key"]["text"]: kv["value"]["text"]
            for page in _analyze(second.endpoint, model_id, _invoice(5))["pageResults"]
            for kv in page["keyValuePairs"]
        }
        number, date, bill_to, total = builders.INVOICES[5]
        assert pairs["Invoice Number:"] == number and pairs["Date:"] == date and pairs["Total:"] == total
        assert pairs["Bill To:"] == " ".join(bill_to)
    finally:
        second.stop()


def test_files_no_operation_or_model_needs_are_removed_at_start_and_pending_work_completes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_server(data)
    try:
        response = requests.post(first.endpoint + DI_ANALYZE, headers=HEADERS, data=builders.text_pdf([["kept"]]))
        assert response.status_code == 202
        done_id = response.headers["Operation-Location"].split("/analyzeResults/")[1].split("?")[0]
        url = first.endpoint + DI_RESULT.format(done_id)
        assert _poll(url, lambda b: b["status"] in ("succeeded", "failed"))["status"] == "succeeded"
    finally:
        first.kill()

    ops = data / "operations"
    # What crashes leave: an input renamed into place whose row never committed, the input of an operation
    # that succeeded (killed before its unlink), a result and a temporary file of unknown operations, an upload
    # cut off before its 202, and the folder of a model whose delete was cut short.
    orphans = [
        ops / f"{uuid.uuid4()}.input",
        ops / f"{done_id}.input",
        ops / f"{uuid.uuid4()}.result.json.gz",
        ops / f"{uuid.uuid4()}.result.json.gz.tmp",
        ops / f"{uuid.uuid4()}.result.pickle",
        ops / "0123abcd.upload",
    ]
    for path in orphans:
        path.write_bytes(builders.text_pdf([["orphan"]]))
    unknown_model = data / "models" / str(uuid.uuid4())
    (unknown_model / "source").mkdir(parents=True)
    (unknown_model / "model.json").write_bytes(b"learned")
    (unknown_model / "source" / "form.pdf").write_bytes(b"%PDF")
    # And an operation accepted just before the crash: its row committed with its input, exactly as
    # accept_document writes them, not yet run.
    pending_id = str(uuid.uuid4())
    (ops / f"{pending_id}.input").write_bytes(builders.text_pdf([["accepted before the crash"]]))
    _write(
        data / "percept.sqlite3",
        "INSERT INTO operations (id, kind, model_id, status, created, updated, expires, params, error)"
        " SELECT ?, kind, model_id, 'notStarted', ?, ?, NULL, params, NULL FROM operations WHERE id = ?",
        (pending_id, time.time(), time.time(), done_id),
    )

    second = start_server(data)
    try:
        body = _poll(second.endpoint + DI_RESULT.format(pending_id), lambda b: b["status"] in ("succeeded", "failed"))
        assert body["status"] == "succeeded", body
        assert body["analyzeResult"]["content"] == "accepted before the crash"
        kept = _get(second.endpoint + DI_RESULT.format(done_id))
        assert kept.status_code == 200 and kept.json()["analyzeResult"]["content"] == "kept"
        assert [p.name for p in orphans if p.exists()] == []
        assert not unknown_model.exists()
        assert _files(ops) == sorted([f"{done_id}.result.json.gz", f"{pending_id}.result.json.gz"])
    finally:
        second.stop()


# Runs the real server with a probe: "trace" wraps os.replace and os.fsync to log, per thread, each rename's target
# and the path of each fsynced descriptor (the order in which the server makes files durable); "kill-in-transaction"
# kills the server (SIGKILL) right after the training operation's INSERT, before the transaction that holds it and
# its model commits; "kill-after-commit" kills it right after that commit, before the operation is queued.
LAUNCHER = """
import json, os, signal, sys, threading

def trace(path):
    out = open(path, "a", buffering=1)
    lock = threading.Lock()
    real_replace, real_fsync = os.replace, os.fsync
    def note(*entry):
        with lock:
            out.write(json.dumps([threading.get_ident(), *entry]) + "\\n")
    def replace(src, dst, *args, **kwargs):
        real_replace(src, dst, *args, **kwargs)
        note("replace", os.path.abspath(os.fspath(dst)))
    def fsync(fd):
        real_fsync(fd)
        note("fsync", os.readlink(f"/proc/self/fd/{fd}"))
    os.replace, os.fsync = replace, fsync

def kill_in_transaction():
    from percept.server.store import OperationStore
    create = OperationStore.create
    def create_then_die(self, op):
        create(self, op)
        if op.kind == "train":
            os.kill(os.getpid(), signal.SIGKILL)
        return op
    OperationStore.create = create_then_die

def kill_after_commit():
    from percept.server.jobs import JobRunner
    JobRunner.submit = lambda self, op_id: os.kill(os.getpid(), signal.SIGKILL)

if __name__ == "__main__":  # worker processes import this file again: only the server is probed
    mode, arg, port = sys.argv[1:4]
    sys.path.insert(0, os.getcwd())  # the checkout under test, as `python -m percept.cli` finds it
    if mode == "trace":
        trace(arg)
    elif mode == "kill-in-transaction":
        kill_in_transaction()
    else:
        kill_after_commit()
    from percept.cli import main
    sys.exit(main(["serve", "--port", port]))
"""


def _start_probed(data: Path, mode: str, arg: str = "", **env: str) -> Server:
    port = free_port()
    log = data.parent / f"server-{port}.log"
    launcher = data.parent / "launcher.py"
    launcher.write_text(LAUNCHER)
    environment = {**os.environ, "PERCEPT_API_KEYS": KEY, "PERCEPT_DATA_DIR": str(data), **env}
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, str(launcher), mode, arg, str(port)],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", data, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if requests.get(server.endpoint + "/health", timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            time.sleep(0.1)
    server.kill()
    raise AssertionError(f"server did not start: {log.read_text()}")


@pytest.mark.parametrize("moment", ["kill-in-transaction", "kill-after-commit"])
def test_kill_9_around_the_model_transaction_leaves_both_rows_or_neither(tmp_path: Path, moment: str) -> None:
    root = tmp_path / "root"
    forms = _labeled_folder(root / "forms")
    data = tmp_path / "data"
    env = {"PERCEPT_TRAINING_ROOT": str(root)}
    first = _start_probed(data, moment, **env)
    try:
        body = {"source": str(forms), "useLabelFile": True, "modelName": "mid-crash"}
        with pytest.raises(requests.ConnectionError):  # killed before it could answer
            requests.post(f"{first.endpoint}/formrecognizer/v2.1/custom/models", json=body, headers=HEADERS)
        assert first.process.wait(10) == -9
    finally:
        first.kill()
    models = _rows(data, "SELECT id, status FROM models")
    ops = _rows(data, "SELECT model_id, kind, status FROM operations")
    if moment == "kill-in-transaction":
        assert models == [] and ops == []  # the model's row was written, but never without its operation
    else:
        assert [status for _, status in models] == ["creating"]
        assert ops == [(models[0][0], "train", "notStarted")]

    second = start_server(data, **env)
    try:
        listed = _get(f"{second.endpoint}/formrecognizer/v2.1/custom/models").json()
        if moment == "kill-in-transaction":
            assert listed["summary"]["count"] == 0 and listed["modelList"] == []
            assert _files(data / "models") == []
        else:
            model_id = models[0][0]
            model = _model(second.endpoint, model_id)
            assert model["modelInfo"]["status"] == "ready" and model["modelInfo"]["modelName"] == "mid-crash"
            assert {f["fieldName"] for f in model["trainResult"]["fields"]} == set(FIELD_SCHEMA)
            assert _v3_model(second.endpoint, model_id).json()["docTypes"][model_id]["fieldSchema"] == FIELD_SCHEMA
            assert _labeled_values(second.endpoint, model_id) == LABELED_VALUES
    finally:
        second.stop()


def test_every_rename_in_the_data_directory_is_followed_by_a_fsync_of_its_directory(tmp_path: Path) -> None:
    root = tmp_path / "root"
    forms = _labeled_folder(root / "forms")
    data = tmp_path / "data"
    trace = tmp_path / "trace.jsonl"
    server = _start_probed(data, "trace", str(trace), PERCEPT_TRAINING_ROOT=str(root))
    try:
        response = requests.post(server.endpoint + DI_ANALYZE, headers=HEADERS, data=builders.text_pdf([["durable"]]))
        assert response.status_code == 202
        body = _poll(response.headers["Operation-Location"], lambda b: b["status"] in ("succeeded", "failed"))
        assert body["status"] == "succeeded", body
        assert body["analyzeResult"]["content"] == "durable"
        model_id = _train(server.endpoint, str(forms), labels=True)
        assert _model(server.endpoint, model_id)["modelInfo"]["status"] == "ready"
    finally:
        server.stop()

    entries = [json.loads(line) for line in trace.read_text().splitlines()]
    renames = [(i, e) for i, e in enumerate(entries) if e[1] == "replace" and e[2].startswith(str(data))]
    targets = {Path(e[2]).name.split(".", 1)[-1] for _, e in renames}
    assert {"input", "result.json.gz", "json"} <= targets  # the upload, the result and the learned model
    for i, (thread, _, target) in renames:
        later = [e for e in entries[i + 1 :] if e[0] == thread]
        upto_next = later[: next((k for k, e in enumerate(later) if e[1] == "replace"), len(later))]
        assert ["fsync", os.path.dirname(target)] in [e[1:] for e in upto_next], f"no directory fsync after {target}"


def test_a_model_and_its_operation_commit_together_or_not_at_all(tmp_path: Path) -> None:
    """The transaction start_model_operation uses: a failure after the model's insert leaves no model."""
    from percept.custom.registry import ModelRecord, ModelRegistry
    from percept.server.store import Operation, OperationStore

    store = OperationStore(tmp_path, 3600)
    models = ModelRegistry(tmp_path, db=store.db)
    try:
        taken = Operation(id="op-1", kind="train", model_id="m0", params={})
        store.create(taken)
        with pytest.raises(sqlite3.IntegrityError), store.db.transaction():
            models.create(ModelRecord(id="m1", params={"operation": "op-1"}))
            store.create(Operation(id="op-1", kind="train", model_id="m1", params={"model_id": "m1"}))
        assert models.get("m1") is None and models.count() == 0
        with store.db.transaction():
            models.create(ModelRecord(id="m2", params={"operation": "op-2"}))
            store.create(Operation(id="op-2", kind="train", model_id="m2", params={"model_id": "m2"}))
        assert models.get("m2") is not None and store.get("op-2") is not None
        # Other threads wait for the transaction: they never see the model without its operation.
        seen: list[tuple[bool, bool]] = []
        with store.db.transaction():
            models.create(ModelRecord(id="m3"))
            reader = threading.Thread(target=lambda: seen.append((bool(models.get("m3")), bool(store.get("op-3")))))
            reader.start()
            time.sleep(0.2)
            store.create(Operation(id="op-3", kind="train", model_id="m3", params={"model_id": "m3"}))
        reader.join(10)
        assert seen == [(True, True)]
    finally:
        models.close()
        store.close()


def test_replace_durably_fsyncs_both_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from percept import storage

    synced: list[str] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), real_fsync(fd)))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "f").write_bytes(b"x")
    storage.replace_durably(tmp_path / "a" / "f", tmp_path / "b" / "f")
    assert (tmp_path / "b" / "f").read_bytes() == b"x" and not (tmp_path / "a" / "f").exists()
    assert synced == [str(tmp_path / "b"), str(tmp_path / "a")]
