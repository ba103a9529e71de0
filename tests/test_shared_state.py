"""State several server instances share: the stores on a real PostgreSQL, leases, two real servers on one database
and one data directory (one of them killed mid-document), and SQLite data directories of earlier versions."""

from __future__ import annotations

import gzip
import json
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import builders
import pytest
import requests
from server_harness import KEY, start_server

from percept.custom.registry import READY, ModelRecord, ModelRegistry
from percept.errors import StoredError
from percept.evaluation import cer
from percept.model import Document
from percept.portable import document_to_json
from percept.server.store import FAILED, NOT_STARTED, RUNNING, SUCCEEDED, Operation, OperationStore
from percept.storage import Database, IntegrityError

HEADERS = {"Ocp-Apim-Subscription-Key": KEY}
DI_ANALYZE = "/documentintelligence/documentModels/prebuilt-read:analyze?api-version=2024-11-30"


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    from postgres import running_postgres

    with running_postgres() as url:
        yield url


@pytest.fixture
def pg_url(cluster: str) -> str:
    from postgres import new_database

    return new_database(cluster)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else ""
    database = Database.open(tmp_path, url)
    yield database
    database.close()


def _sql(url: str, sql: str, *args: object) -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql, args).fetchall()


def _op(store: OperationStore, **fields: object) -> Operation:
    op = Operation(id=store.new_id(), kind="read", model_id="prebuilt-read", params={"pages": "1"})
    for name, value in fields.items():
        setattr(op, name, value)
    return store.create(op)


def test_the_store_api_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    db = Database.open(tmp_path, pg_url)
    store = OperationStore(tmp_path, 3600, db=db)
    models = ModelRegistry(tmp_path, db=db)
    try:
        assert db.shared and db.url.startswith("postgresql+psycopg://")
        parent = _op(store, params={"pages": "1-2", "options": {"layout": True}}, created=100.0)
        kids = [_op(store, parent_id=parent.id, created=200.0 + i) for i in range(3)]
        got = store.get(parent.id)
        assert got is not None and got.params == {"pages": "1-2", "options": {"layout": True}}
        assert got.created == 100.0 and got.status == NOT_STARTED and got.attempts == 0
        assert [o.id for o in store.children(parent.id)] == [k.id for k in kids]
        assert store.get(str(uuid.uuid4())) is None

        store.mark_running(kids[0].id)
        store.mark_succeeded(kids[1].id, Document(pages=[], content="hello"))
        store.mark_failed(kids[2].id, StoredError.internal("broken"))
        assert store.child_counts(parent.id) == {RUNNING: 1, SUCCEEDED: 1, FAILED: 1}
        assert store.load_result(kids[1].id).content == "hello"
        failed = store.get(kids[2].id)
        assert failed is not None and failed.error == StoredError.internal("broken") and failed.expires
        assert [o.id for o in store.pending()] == [parent.id, kids[0].id]
        assert [o.id for o in store.of_kind("read")] == [parent.id, *(k.id for k in kids)]

        expired = OperationStore(tmp_path, -1, db=db)  # finished results expire at once
        done = _op(expired)
        expired.mark_succeeded(done.id, Document(pages=[]))
        assert store.get(done.id) is None and expired.result_path(done.id).exists()
        assert store.purge_expired() == 1
        assert not expired.result_path(done.id).exists() and not db.query(store_row(done.id))

        models.create(ModelRecord(id="m1", name="first", params={"source": "x"}))
        with pytest.raises(IntegrityError), db.transaction():  # a taken id: the model and its operation or neither
            models.create(ModelRecord(id="m2"))
            store.create(Operation(id=parent.id, kind="train", model_id="m2"))
        assert models.get("m2") is None and models.count() == 1
        assert issubclass(IntegrityError, sqlite3.IntegrityError)
        models.set_operation("m1", parent.id)
        models.finish("m1", READY, {"trainingDocuments": []}, {"0": ["Total:"]}, None)
        rec = models.get("m1")
        assert rec is not None and rec.status == READY and rec.keys == {"0": ["Total:"]}
        assert rec.params == {"source": "x", "operation": parent.id} and rec.train_result == {"trainingDocuments": []}
        assert [m.id for m in models.list()] == ["m1"]
        assert models.delete("m1") and models.count() == 0
        assert store.delete(parent.id) and store.get(parent.id) is None
        assert _sql(pg_url, "SELECT version_num FROM alembic_version") == [("0002",)]
    finally:
        db.close()


def store_row(op_id: str):
    import sqlalchemy as sa

    from percept.storage import operations

    return sa.select(operations).where(operations.c.id == op_id)


def test_leases_give_each_operation_to_one_instance_until_it_lapses(db: Database, tmp_path: Path) -> None:
    a = OperationStore(tmp_path, 3600, db=db)
    b = OperationStore(tmp_path, 3600, db=db)  # another instance (its own id) on the same database
    assert a.instance != b.instance and a.instance.startswith(f"{socket.gethostname()}-")
    ops = [_op(a, created=float(i)) for i in range(30)]
    claimed: dict[str, list[str]] = {a.instance: [], b.instance: []}

    def drain(store: OperationStore) -> None:
        while ids := store.claim_next(4, 60):
            claimed[store.instance] += ids

    threads = [threading.Thread(target=drain, args=(s,)) for s in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    everything = claimed[a.instance] + claimed[b.instance]
    assert sorted(everything) == sorted(o.id for o in ops)  # each exactly once
    assert {o.attempts for o in a.pending()} == {1}

    mine = claimed[a.instance][0]
    assert b.claim(mine, 60) is None and not b.holds(mine)  # held by a, not lapsed
    assert a.claim(mine, 0.2) is not None and a.holds(mine)  # a keeps its own (no new attempt)
    assert a.renew([mine], 0.2) == {mine}
    time.sleep(0.3)  # a stops renewing, as a dead instance does
    taken = b.claim(mine, 60)
    assert taken is not None and taken.lease_owner == b.instance and taken.attempts == 2
    assert a.renew([mine], 60) == set()  # a hears it lost the lease
    a.mark_succeeded(mine, Document(pages=[], content="from a"))  # too late: dropped, nothing written
    assert not a.result_path(mine).exists()
    after = a.get(mine)
    assert after is not None and after.status == NOT_STARTED
    b.mark_succeeded(mine, Document(pages=[], content="from b"))
    assert a.load_result(mine).content == "from b"
    assert a.claim(mine, 60) is None  # finished: nobody claims it again

    assert a.release(set(claimed[a.instance])) == len(claimed[a.instance]) - 1
    assert len(b.claim_next(100, 60)) == len(claimed[a.instance]) - 1  # released ones are free at once


def _wait_for(what, timeout: float = 180, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"gave up waiting after {timeout} s")


def _finished(url: str) -> dict | None:
    body = requests.get(url, headers=HEADERS, timeout=30).json()
    return body if body.get("status") in ("succeeded", "failed") else None


def _shared_env(url: str) -> dict[str, str]:
    return {
        "PERCEPT_DATABASE_URL": url,
        "PERCEPT_WORKERS": "1",
        "PERCEPT_LEASE_SECONDS": "3",
        "PERCEPT_CLAIM_INTERVAL": "0.5",
    }


def test_two_instances_on_one_database_serve_the_same_operations_and_models(tmp_path: Path, pg_url: str) -> None:
    data, root = tmp_path / "data", tmp_path / "root"
    forms = root / "forms"
    forms.mkdir(parents=True)
    for i in range(5):
        number, date, bill_to, total = builders.INVOICES[i]
        (forms / f"Invoice_{i}.pdf").write_bytes(builders.invoice_form(number, date, bill_to, total))
    env = {**_shared_env(pg_url), "PERCEPT_TRAINING_ROOT": str(root)}
    a = start_server(data, **env)
    try:
        b = start_server(data, **env)  # the same data directory: not refused, the lock is shared
        try:
            pdf = builders.text_pdf([["Posted to one server", "polled on the other"]])
            response = requests.post(a.endpoint + DI_ANALYZE, headers=HEADERS, data=pdf, timeout=30)
            assert response.status_code == 202, response.text
            location = response.headers["Operation-Location"]
            on_b = location.replace(a.endpoint, b.endpoint)
            body = _wait_for(lambda: _finished(on_b))
            assert body["status"] == "succeeded", body
            assert body["analyzeResult"]["content"] == "Posted to one server\npolled on the other"

            train = {"source": forms.as_uri(), "sourceFilter": {"prefix": ""}, "useLabelFile": False}
            response = requests.post(
                a.endpoint + "/formrecognizer/v2.1/custom/models", json=train, headers=HEADERS, timeout=30
            )
            assert response.status_code == 201, response.text
            model_id = response.headers["Location"].rsplit("/", 1)[1]
            model_on_b = f"{b.endpoint}/formrecognizer/v2.1/custom/models/{model_id}"
            model = _wait_for(
                lambda: (
                    (m := requests.get(model_on_b, headers=HEADERS, timeout=30).json())["modelInfo"]["status"]
                    in ("ready", "invalid")
                    and m
                )
            )
            assert model["modelInfo"]["status"] == "ready", model
            listed = requests.get(
                f"{b.endpoint}/formrecognizer/v2.1/custom/models", params={"op": "full"}, headers=HEADERS, timeout=30
            ).json()
            assert [m["modelId"] for m in listed["modelList"]] == [model_id]
        finally:
            b.stop()
    finally:
        a.stop()


def test_an_instance_killed_mid_document_has_it_finished_by_another(
    tmp_path: Path, pg_url: str, clean_scan, truth: str
) -> None:
    data = tmp_path / "data"
    a = start_server(data, **_shared_env(pg_url))
    b = None
    try:
        pdf = builders.image_pdf([clean_scan] * 24)  # long enough to outlast starting b and a lease
        response = requests.post(a.endpoint + DI_ANALYZE, headers=HEADERS, data=pdf, timeout=60)
        assert response.status_code == 202, response.text
        location = response.headers["Operation-Location"]
        op_id = location.split("/analyzeResults/")[1].split("?")[0]
        lease = "SELECT lease_owner, attempts, status FROM operations WHERE id = %s"
        owner_a = f"{socket.gethostname()}-{a.process.pid}-"
        _wait_for(lambda: _sql(pg_url, lease, op_id)[0][2] == "running")
        b = start_server(data, **_shared_env(pg_url))
        time.sleep(4)  # more than a lease: a renews it, so b leaves the operation alone
        [(owner, attempts, status)] = _sql(pg_url, lease, op_id)
        assert owner.startswith(owner_a) and attempts == 1 and status == "running"

        a.kill()  # kill -9: no shutdown, no lease released
        killed = time.monotonic()
        body = _wait_for(lambda: _finished(location.replace(a.endpoint, b.endpoint)), timeout=300)
        assert body["status"] == "succeeded", body
        pages = body["analyzeResult"]["content"].split("\n")
        assert len(body["analyzeResult"]["pages"]) == 24
        assert cer("\n".join(pages), "\n".join([truth] * 24)) <= 0.01
        [(owner, attempts, status)] = _sql(pg_url, lease, op_id)
        assert owner.startswith(f"{socket.gethostname()}-{b.process.pid}-") and attempts == 2 and status == "succeeded"
        assert time.monotonic() - killed >= 1  # taken over only once the lease had lapsed
        assert _sql(pg_url, "SELECT count(*) FROM operations") == [(1,)]
        files = sorted(p.name for p in (data / "operations").iterdir())
        assert files == [f"{op_id}.result.json.gz"]
    finally:
        if b is not None:
            b.stop()
        a.kill()


# The schema the versions before Alembic made (the operations table after parent_id was added, and the models
# table): frozen here as they wrote it.
PRE_ALEMBIC = """
CREATE TABLE operations (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, model_id TEXT NOT NULL, status TEXT NOT NULL, created REAL NOT NULL,
    updated REAL NOT NULL, expires REAL, params TEXT NOT NULL, error TEXT, parent_id TEXT
);
CREATE INDEX operations_status ON operations (status);
CREATE INDEX operations_expires ON operations (expires);
CREATE INDEX operations_parent ON operations (parent_id);
CREATE TABLE models (
    id TEXT PRIMARY KEY, name TEXT, status TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL,
    params TEXT NOT NULL, train_result TEXT, keys TEXT
);
"""


def test_a_sqlite_data_directory_of_an_earlier_version_opens_and_reads(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "operations").mkdir(parents=True)
    done, pending, model_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    now = time.time()
    params = json.dumps({"version": "2024-11-30", "family": "v3"})
    with closing(sqlite3.connect(data / "percept.sqlite3")) as conn, conn:
        conn.executescript(PRE_ALEMBIC)
        conn.execute(
            "INSERT INTO operations VALUES (?, 'read', 'prebuilt-read', 'succeeded', ?, ?, ?, ?, NULL, NULL)",
            (done, now, now, now + 3600, params),
        )
        conn.execute(
            "INSERT INTO operations VALUES (?, 'read', 'prebuilt-read', 'notStarted', ?, ?, NULL, ?, NULL, NULL)",
            (pending, now, now, params),
        )
        conn.execute(
            "INSERT INTO models VALUES (?, 'kept', 'ready', ?, ?, '{}', ?, NULL)",
            (model_id, now, now, json.dumps({"trainingDocuments": []})),
        )
    result = gzip.compress(document_to_json(Document(pages=[], content="stored before the upgrade")))
    (data / "operations" / f"{done}.result.json.gz").write_bytes(result)
    (data / "operations" / f"{pending}.input").write_bytes(builders.text_pdf([["accepted before the upgrade"]]))

    server = start_server(data)
    try:
        url = (
            server.endpoint
            + "/documentintelligence/documentModels/prebuilt-read/analyzeResults/{}?api-version=2024-11-30"
        )
        kept = requests.get(url.format(done), headers=HEADERS, timeout=30).json()
        assert kept["status"] == "succeeded" and kept["analyzeResult"]["content"] == "stored before the upgrade"
        resumed = _wait_for(lambda: _finished(url.format(pending)))
        assert resumed["status"] == "succeeded" and resumed["analyzeResult"]["content"] == "accepted before the upgrade"
        model = requests.get(
            f"{server.endpoint}/formrecognizer/v2.1/custom/models/{model_id}", headers=HEADERS, timeout=30
        ).json()
        assert model["modelInfo"]["status"] == "ready", model
    finally:
        server.stop()
    with closing(sqlite3.connect(data / "percept.sqlite3")) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0002",)]
        columns = {r[1] for r in conn.execute("PRAGMA table_info(operations)")}
        assert {"lease_owner", "lease_expires", "attempts"} <= columns
        assert conn.execute("SELECT attempts FROM operations WHERE id = ?", (done,)).fetchall() == [(0,)]


def test_two_instances_one_killed_mid_batch(tmp_path: Path, pg_url: str, azurite: str) -> None:
    """A batch posted to a, which is killed (-9) after some documents are done; b, on the same database and data
    directory, takes the batch over once a's lease lapses and finishes it: every document exactly once, the
    documents a had finished not redone."""
    from test_batch import _blobs, _etags, _post, _slow_batch, _wait

    n = 10
    source, results = _slow_batch(azurite, "two", n)
    data = tmp_path / "data"
    a = start_server(data, **_shared_env(pg_url))
    b = None
    try:
        r = _post(a, {"azureBlobSource": {"containerUrl": source}, "resultContainerUrl": results, "resultPrefix": "o/"})
        assert r.status_code == 202, r.text
        location = r.headers["Operation-Location"]
        b = start_server(data, **_shared_env(pg_url))
        on_b = location.replace(a.endpoint, b.endpoint)
        deadline = time.monotonic() + 90
        done_before: list[dict] = []
        while time.monotonic() < deadline and len(done_before) < 2:
            body = requests.get(on_b, headers=HEADERS, timeout=30).json()  # polled on b while a runs it
            done_before = [d for d in body.get("result", {}).get("details", []) if d["status"] == "succeeded"]
            time.sleep(0.1)
        assert body["status"] == "running" and 2 <= len(done_before) < n, body
        marked = {d["resultUrl"].split("/two-out/", 1)[1] for d in done_before}
        tags = _etags(azurite, "two-out")
        a.kill()
        done = _wait(on_b, 240)
    finally:
        if b is not None:
            b.stop()
        a.stop()
    assert done["status"] == "succeeded", done
    result = done["result"]
    assert (result["succeededCount"], result["failedCount"], result["skippedCount"]) == (n, 0, 0), result
    written = _blobs(azurite, "two-out")
    assert len(written) == n
    for i in range(n):
        content = json.loads(written[f"o/s/{i:03d}.pdf.ocr.json"])["analyzeResult"]["content"]
        assert f"number {i}" in content, content
    after = _etags(azurite, "two-out")
    assert {k: after[k] for k in marked} == {k: tags[k] for k in marked}  # none a had finished was redone
