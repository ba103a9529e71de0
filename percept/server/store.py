"""Durable operations: SQLite rows plus files under the data directory.

An operation is written (row committed, input file fsynced) before its 202 is sent, so a server killed at any
moment finds it again on restart. Results are the internal document, pickled (only this server writes the data
directory; pickling is ~10x faster than JSON for a model of many small objects), rendered per API version on GET.
"""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import Document

NOT_STARTED, RUNNING, SUCCEEDED, FAILED = "notStarted", "running", "succeeded", "failed"
PENDING = (NOT_STARTED, RUNNING)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS operations (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    model_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    expires REAL,
    params TEXT NOT NULL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS operations_status ON operations (status);
CREATE INDEX IF NOT EXISTS operations_expires ON operations (expires);
"""


@dataclass(slots=True)
class Operation:
    id: str
    kind: str  # what to run: "read"
    model_id: str
    status: str = NOT_STARTED
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    expires: float | None = None
    params: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None


def _row(r: sqlite3.Row) -> Operation:
    return Operation(
        id=r["id"],
        kind=r["kind"],
        model_id=r["model_id"],
        status=r["status"],
        created=r["created"],
        updated=r["updated"],
        expires=r["expires"],
        params=json.loads(r["params"]),
        error=json.loads(r["error"]) if r["error"] else None,
    )


def _write_durably(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class OperationStore:
    """Thread-safe: the event loop and the job threads share one connection behind a lock."""

    def __init__(self, data_dir: str | os.PathLike[str], ttl_seconds: float) -> None:
        self.root = Path(data_dir)
        self.files = self.root / "operations"
        self.files.mkdir(parents=True, exist_ok=True)
        # Uploads cut off by a crash never got their 202, and half-written results are rewritten on resume.
        for leftover in [*self.files.glob("*.upload"), *self.files.glob("*.tmp")]:
            leftover.unlink(missing_ok=True)
        self.ttl = ttl_seconds
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.root / "percept.sqlite3", check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def new_id(self) -> str:
        return str(uuid.uuid4())

    def input_path(self, op_id: str) -> Path:
        return self.files / f"{op_id}.input"

    def result_path(self, op_id: str) -> Path:
        return self.files / f"{op_id}.result.pickle"

    def create(self, op: Operation) -> Operation:
        """Persist an accepted operation; its input file must already be in place."""
        with self._lock:
            self._db.execute(
                "INSERT INTO operations (id, kind, model_id, status, created, updated, expires, params, error)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    op.id,
                    op.kind,
                    op.model_id,
                    op.status,
                    op.created,
                    op.updated,
                    op.expires,
                    json.dumps(op.params),
                    None,
                ),
            )
        return op

    def get(self, op_id: str) -> Operation | None:
        """The operation, or None when unknown or past its retention."""
        with self._lock:
            r = self._db.execute("SELECT * FROM operations WHERE id = ?", (op_id,)).fetchone()
        if r is None:
            return None
        op = _row(r)
        if op.expires is not None and op.expires <= time.time():
            return None
        return op

    def pending(self) -> list[Operation]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM operations WHERE status IN (?, ?) ORDER BY created", PENDING
            ).fetchall()
        return [_row(r) for r in rows]

    def of_kind(self, kind: str) -> list[Operation]:
        """Operations of one kind still retained, oldest first (the model operations the v3 APIs list)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM operations WHERE kind = ? AND (expires IS NULL OR expires > ?) ORDER BY created",
                (kind, time.time()),
            ).fetchall()
        return [_row(r) for r in rows]

    def _set(self, op_id: str, status: str, error: dict[str, Any] | None = None) -> None:
        now = time.time()
        expires = now + self.ttl if status in (SUCCEEDED, FAILED) else None
        with self._lock:
            self._db.execute(
                "UPDATE operations SET status = ?, updated = ?, expires = ?, error = ? WHERE id = ?",
                (status, now, expires, json.dumps(error) if error else None, op_id),
            )

    def mark_running(self, op_id: str) -> None:
        self._set(op_id, RUNNING)

    def mark_succeeded(self, op_id: str, result: Document) -> None:
        _write_durably(self.result_path(op_id), pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        self._set(op_id, SUCCEEDED)
        self.input_path(op_id).unlink(missing_ok=True)

    def mark_failed(self, op_id: str, error: dict[str, Any]) -> None:
        self._set(op_id, FAILED, error)
        self.input_path(op_id).unlink(missing_ok=True)

    def load_result(self, op_id: str) -> Document:
        return pickle.loads(self.result_path(op_id).read_bytes())

    def delete(self, op_id: str) -> bool:
        with self._lock:
            n = self._db.execute("DELETE FROM operations WHERE id = ?", (op_id,)).rowcount
        for path in (self.input_path(op_id), self.result_path(op_id)):
            path.unlink(missing_ok=True)
        return n > 0

    def purge_expired(self) -> int:
        """Delete results past their retention; returns how many."""
        with self._lock:
            ids = [
                r[0]
                for r in self._db.execute(
                    "SELECT id FROM operations WHERE expires IS NOT NULL AND expires <= ?", (time.time(),)
                )
            ]
        for op_id in ids:
            self.delete(op_id)
        return len(ids)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def store_input(store: OperationStore, op_id: str, data_path: Path) -> Path:
    """Move an uploaded temp file into the operation's durable place (fsynced)."""
    dest = store.input_path(op_id)
    with open(data_path, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(data_path, dest)
    return dest
