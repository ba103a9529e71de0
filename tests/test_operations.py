"""Typed operation jobs, the handler registry, and parent/child operations in the store."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from percept.config import Limits, ReadOptions
from percept.errors import StoredError
from percept.model import Document
from percept.server.jobs import Handler, JobRunner
from percept.server.operations import (
    BATCH,
    BATCH_DOCUMENT,
    JOB_TYPES,
    READ,
    TRAIN,
    BatchDocumentJob,
    BatchJob,
    ReadJob,
    TrainJob,
)
from percept.server.store import FAILED, NOT_STARTED, RUNNING, SUCCEEDED, Operation, OperationStore

# The operations table as the first releases made it (no parent_id), and params rows in the shapes they wrote.
OLD_SCHEMA = """
CREATE TABLE operations (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, model_id TEXT NOT NULL, status TEXT NOT NULL, created REAL NOT NULL,
    updated REAL NOT NULL, expires REAL, params TEXT NOT NULL, error TEXT
);
CREATE INDEX operations_status ON operations (status);
CREATE INDEX operations_expires ON operations (expires);
"""
OLD_ROWS = {
    "00000000-0000-4000-8000-000000000001": (
        "read",
        "prebuilt-layout",
        {
            "pages": "1-2",
            "api_version": "2024-11-30",
            "string_index_type": "utf16CodeUnit",
            "content_format": "markdown",
            "key_value_pairs": True,
            "options": {"layout": True, "ocr_languages": "deu"},
            "mime_type": "application/pdf",
            "page_count": 3,
        },
    ),
    "00000000-0000-4000-8000-000000000002": (
        "read",
        "prebuilt-layout",
        {"pages": None, "version": "2.1", "options": {"layout": True}, "mime_type": "image/png", "page_count": 1},
    ),
    "00000000-0000-4000-8000-000000000003": (
        "read",
        "my-model",
        {
            "pages": None,
            "api_version": "2023-07-31",
            "string_index_type": "textElements",
            "content_format": "text",
            "key_value_pairs": False,
            "options": {"layout": True},
            "custom_model": "my-model",
            "family": "v3",
            "mime_type": "image/jpeg",
            "page_count": 1,
        },
    ),
    "00000000-0000-4000-8000-000000000004": ("read", "cv-recognize-text", {"pages": "1", "mode": "Handwritten"}),
    "00000000-0000-4000-8000-000000000005": ("train", "model-1", {"model_id": "model-1"}),
}


def _old_database(root: Path) -> None:
    conn = sqlite3.connect(root / "percept.sqlite3")
    conn.executescript(OLD_SCHEMA)
    now = time.time()
    for op_id, (kind, model_id, params) in OLD_ROWS.items():
        conn.execute(
            "INSERT INTO operations VALUES (?, ?, ?, 'notStarted', ?, ?, NULL, ?, NULL)",
            (op_id, kind, model_id, now, now, json.dumps(params)),
        )
    conn.commit()
    conn.close()


def test_rows_written_before_typed_jobs_parse_after_the_migration(tmp_path: Path) -> None:
    _old_database(tmp_path)
    store = OperationStore(tmp_path, 3600)
    try:
        columns = {r["name"] for r in store.db.query("PRAGMA table_info(operations)")}
        assert "parent_id" in columns
        indexes = {r["name"] for r in store.db.query("PRAGMA index_list(operations)")}
        assert "operations_parent" in indexes
        assert len(store.pending()) == len(OLD_ROWS)

        v3 = store.get("00000000-0000-4000-8000-000000000001")
        assert v3 is not None and v3.parent_id is None
        job = v3.job(ReadJob)
        assert job.version == "2024-11-30"  # stored as api_version
        assert (job.pages, job.string_index_type, job.content_format) == ("1-2", "utf16CodeUnit", "markdown")
        assert job.key_value_pairs and job.options == {"layout": True, "ocr_languages": "deu"}
        assert (job.mime_type, job.page_count, job.custom_model, job.family) == ("application/pdf", 3, None, None)

        v2 = store.get("00000000-0000-4000-8000-000000000002")
        assert v2 is not None
        job = v2.job(ReadJob)
        assert job.version == "2.1" and job.pages is None and not job.include_text

        custom = store.get("00000000-0000-4000-8000-000000000003")
        assert custom is not None
        job = custom.job(ReadJob)
        assert (job.custom_model, job.family, job.version) == ("my-model", "v3", "2023-07-31")

        text = store.get("00000000-0000-4000-8000-000000000004")
        assert text is not None and text.job(ReadJob).mode == "Handwritten"

        train = store.get("00000000-0000-4000-8000-000000000005")
        assert train is not None and train.job(TrainJob).model_id == "model-1"
        with pytest.raises(ValueError, match="holds no ReadJob"):
            train.job(ReadJob)
    finally:
        store.close()
    # Opening a migrated database again changes nothing.
    store = OperationStore(tmp_path, 3600)
    try:
        assert len(store.pending()) == len(OLD_ROWS)
    finally:
        store.close()


def test_a_job_round_trips_through_its_params() -> None:
    job = ReadJob(pages="2", version="2.1", options={"layout": True}, custom_model="m", include_text=True)
    params = job.to_params()
    assert "api_version" not in params and params["version"] == "2.1"
    assert ReadJob.from_params(json.loads(json.dumps(params))) == job
    assert ReadJob().to_params() == {}
    assert TrainJob.from_params(TrainJob(model_id="m").to_params()).model_id == "m"
    assert {READ: ReadJob, TRAIN: TrainJob, BATCH: BatchJob, BATCH_DOCUMENT: BatchDocumentJob} == JOB_TYPES
    with pytest.raises(ValidationError):
        ReadJob.from_params({"string_index_type": "bytes"})
    with pytest.raises(ValidationError):
        TrainJob.from_params({})


def test_children_of_a_parent_are_listed_and_counted_across_a_restart(tmp_path: Path) -> None:
    store = OperationStore(tmp_path, 3600)
    parent = store.create(Operation(id=store.new_id(), kind=READ, model_id="prebuilt-read"))
    children = []
    for i in range(3):
        op = Operation(id=store.new_id(), kind=READ, model_id="prebuilt-read", created=time.time() + i)
        op.parent_id = parent.id
        children.append(store.create(op))
    store.create(Operation(id=store.new_id(), kind=READ, model_id="prebuilt-read"))  # not a child
    store.mark_running(children[1].id)
    store.mark_failed(children[2].id, StoredError.internal("broken"))
    try:
        assert [c.id for c in store.children(parent.id)] == [c.id for c in children]
        assert all(c.parent_id == parent.id for c in store.children(parent.id))
        assert store.child_counts(parent.id) == {NOT_STARTED: 1, RUNNING: 1, FAILED: 1}
        assert store.children(children[0].id) == [] and store.child_counts(children[0].id) == {}
    finally:
        store.close()

    store = OperationStore(tmp_path, 3600)  # a restart: the same rows, the same counts
    try:
        assert [c.id for c in store.children(parent.id)] == [c.id for c in children]
        store.mark_succeeded(children[0].id, Document(pages=[]))
        assert store.child_counts(parent.id) == {SUCCEEDED: 1, RUNNING: 1, FAILED: 1}
        fetched = store.get(children[0].id)
        assert fetched is not None and fetched.parent_id == parent.id
    finally:
        store.close()


def test_operations_run_through_the_handler_of_their_kind(tmp_path: Path) -> None:
    store = OperationStore(tmp_path, 3600)
    runner = JobRunner(store, ReadOptions(workers=1), Limits())
    try:
        assert set(runner.handlers) == {READ, TRAIN, BATCH, BATCH_DOCUMENT}
        seen: list[tuple[str, ReadJob]] = []
        runner.handlers[READ] = Handler(ReadJob, lambda op_id, job: seen.append((op_id, job)))
        job = ReadJob(pages="1", version="2.1")
        read = store.create(Operation(id=store.new_id(), kind=READ, model_id="m", params=job.to_params()))
        unknown = store.create(Operation(id=store.new_id(), kind="later", model_id="m"))
        bad = store.create(Operation(id=store.new_id(), kind=TRAIN, model_id="m", params={}))

        async def run_all() -> None:
            for op in (read, unknown, bad):
                await runner._run(op.id)

        asyncio.run(run_all())
        assert seen == [(read.id, job)]
        for op in (unknown, bad):
            failed = store.get(op.id)
            assert failed is not None and failed.status == FAILED
    finally:
        runner.drivers.shutdown(wait=True)
        runner.pool.shutdown(wait=True)
        store.close()
