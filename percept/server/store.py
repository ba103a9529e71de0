"""Durable operations: SQLite rows plus files under the data directory.

An operation is written (row committed, input file fsynced) before its 202 is sent, so a server killed at any
moment finds it again on restart. Results are the internal document as gzipped, versioned JSON
(:meth:`Document.to_dict`), rendered per API version on GET: any process, node or later version can read them,
and reading one runs no code, as unpickling would. Results an earlier version pickled are refused, never loaded.

Operations and custom models live in one database (:class:`Database`), so a model and the operation that builds
it commit in one transaction: a crash leaves both or neither. The SQL is plain and every write names its
transaction, so the same code can later move to a database that several servers share.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import NotFound, StoredError
from ..ids import storage_uuid
from ..model import Document
from ..portable import document_from_json, document_to_json
from ..storage import Database, DatabaseUser, from_row, replace_durably, write_durably
from .operations import J, job_of

log = logging.getLogger("percept.store")

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
    error TEXT,
    parent_id TEXT
);
CREATE INDEX IF NOT EXISTS operations_status ON operations (status);
CREATE INDEX IF NOT EXISTS operations_expires ON operations (expires);
"""
# Columns added after the first release, with their type: a database an earlier version made gets them on open.
_ADDED_COLUMNS = {"parent_id": "TEXT"}
_INDEXES = "CREATE INDEX IF NOT EXISTS operations_parent ON operations (parent_id);"


@dataclass(slots=True)
class Operation:
    id: str
    kind: str  # what to run: a kind of ``operations.JOB_TYPES``, whose job ``params`` holds
    model_id: str
    status: str = NOT_STARTED
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    expires: float | None = None
    params: dict[str, Any] = field(default_factory=dict)
    error: StoredError | None = None
    parent_id: str | None = None  # the operation that owns this one (a batch owns one child per document)

    def job(self, job_type: type[J]) -> J:
        """The typed job this operation runs; ``job_type`` must be its kind's."""
        return job_of(self.kind, self.params, job_type)


def _row(r: sqlite3.Row) -> Operation:
    return from_row(Operation, r, {"params": json.loads, "error": StoredError.from_json})


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a database an earlier version made up to this schema (idempotent; rows keep their data)."""
    conn.executescript(_SCHEMA)
    have = {r[1] for r in conn.execute("PRAGMA table_info(operations)")}
    for column, kind in _ADDED_COLUMNS.items():
        if column not in have:
            conn.execute(f"ALTER TABLE operations ADD COLUMN {column} {kind}")
    conn.executescript(_INDEXES)


class _ResultCache:
    """The documents of the last results read, by operation id, each with the stamp (inode, mtime, size) of the
    file it was read from: SDK pollers read the same result again and again. Bounded by count and by the total
    size of the files (a document takes about ten times its gzipped file in memory); a larger file is not kept.
    The documents are shared between readers, who only render them and never change them."""

    def __init__(self, max_items: int, max_bytes: int) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._items: OrderedDict[str, tuple[tuple[int, int, int], int, Document]] = OrderedDict()
        self._bytes = 0

    def get(self, key: str, stamp: tuple[int, int, int]) -> Document | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] != stamp:
                return None
            self._items.move_to_end(key)
            return item[2]

    def put(self, key: str, stamp: tuple[int, int, int], size: int, doc: Document) -> None:
        with self._lock:
            self._drop(key)
            if size > self.max_bytes or self.max_items <= 0:
                return
            self._items[key] = (stamp, size, doc)
            self._bytes += size
            while len(self._items) > self.max_items or self._bytes > self.max_bytes:
                self._drop(next(iter(self._items)))

    def discard(self, key: str) -> None:
        with self._lock:
            self._drop(key)

    def _drop(self, key: str) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self._bytes -= item[1]


class OperationStore(DatabaseUser):
    """Thread-safe: the event loop and the job threads share one :class:`Database` (which the model registry
    may share too, see ``db``)."""

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        ttl_seconds: float,
        db: Database | None = None,
        *,
        cached_results: int = 8,
        cached_result_bytes: int = 8 << 20,
    ) -> None:
        self.root = Path(data_dir)
        self._results = _ResultCache(cached_results, cached_result_bytes)
        self.files = self.root / "operations"
        self.files.mkdir(parents=True, exist_ok=True)
        self.ttl = ttl_seconds
        super().__init__(self.root, db)
        with self.db.locked() as conn:
            _migrate(conn)

    def new_id(self) -> str:
        return str(uuid.uuid4())

    def input_path(self, op_id: str) -> Path:
        """Only an id this server issues (a UUID) names a file: anything else raises ``InvalidId``."""
        return self.files / f"{storage_uuid(op_id)}.input"

    def result_path(self, op_id: str) -> Path:
        return self.files / f"{storage_uuid(op_id)}.result.json.gz"

    def legacy_result_path(self, op_id: str) -> Path:
        """Where an earlier version pickled the result: kept only to say why it cannot be read."""
        return self.files / f"{storage_uuid(op_id)}.result.pickle"

    def create(self, op: Operation) -> Operation:
        """Persist an accepted operation; its input file must already be in place. Inside a caller's
        ``db.transaction()`` it commits with the caller's other writes."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO operations"
                " (id, kind, model_id, status, created, updated, expires, params, error, parent_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    op.parent_id,
                ),
            )
        return op

    def get(self, op_id: str) -> Operation | None:
        """The operation, or None when unknown or past its retention."""
        rows = self.db.query("SELECT * FROM operations WHERE id = ?", (op_id,))
        if not rows:
            return None
        op = _row(rows[0])
        if op.expires is not None and op.expires <= time.time():
            return None
        return op

    def pending(self) -> list[Operation]:
        rows = self.db.query("SELECT * FROM operations WHERE status IN (?, ?) ORDER BY created", PENDING)
        return [_row(r) for r in rows]

    def of_kind(self, kind: str) -> list[Operation]:
        """Operations of one kind still retained, oldest first (the model operations the v3 APIs list)."""
        rows = self.db.query(
            "SELECT * FROM operations WHERE kind = ? AND (expires IS NULL OR expires > ?) ORDER BY created",
            (kind, time.time()),
        )
        return [_row(r) for r in rows]

    def children(self, parent_id: str) -> list[Operation]:
        """The operations ``parent_id`` owns, oldest first."""
        rows = self.db.query("SELECT * FROM operations WHERE parent_id = ? ORDER BY created, id", (parent_id,))
        return [_row(r) for r in rows]

    def child_counts(self, parent_id: str) -> dict[str, int]:
        """How many of the operations ``parent_id`` owns are in each status (statuses with none left out)."""
        rows = self.db.query(
            "SELECT status, COUNT(*) AS n FROM operations WHERE parent_id = ? GROUP BY status", (parent_id,)
        )
        return {r["status"]: r["n"] for r in rows}

    def _set(self, op_id: str, status: str, error: StoredError | None = None) -> None:
        now = time.time()
        expires = now + self.ttl if status in (SUCCEEDED, FAILED) else None
        self.db.execute(
            "UPDATE operations SET status = ?, updated = ?, expires = ?, error = ? WHERE id = ?",
            (status, now, expires, error.to_json() if error else None, op_id),
        )

    def mark_running(self, op_id: str) -> None:
        self._set(op_id, RUNNING)

    def mark_succeeded(self, op_id: str, result: Document) -> None:
        # Level 1: most of the size saving of higher levels at a fraction of their time on large results.
        data = gzip.compress(document_to_json(result), compresslevel=1, mtime=0)
        self._results.discard(op_id)
        write_durably(self.result_path(op_id), data)
        self._set(op_id, SUCCEEDED)
        self.input_path(op_id).unlink(missing_ok=True)

    def mark_failed(self, op_id: str, error: StoredError) -> None:
        self._set(op_id, FAILED, error)
        self.input_path(op_id).unlink(missing_ok=True)

    def load_result(self, op_id: str) -> Document:
        """The stored result; one an earlier version pickled raises ``NotFound`` saying so (it is never
        unpickled: that would run whatever code the file names). The document may be one an earlier call
        returned (the file unchanged since): render it, never change it."""
        try:
            fh = self.result_path(op_id).open("rb")
        except FileNotFoundError:
            if self.legacy_result_path(op_id).exists():
                raise NotFound(
                    f"The result of operation '{op_id}' was stored by an older version of Percept in a format this"
                    " version does not read; submit the document again."
                ) from None
            raise NotFound(f"The result of operation '{op_id}' was not found or has expired.") from None
        with fh:
            st = os.fstat(fh.fileno())
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
            doc = self._results.get(op_id, stamp)
            if doc is not None:
                return doc
            data = fh.read()
        doc = document_from_json(gzip.decompress(data))
        self._results.put(op_id, stamp, len(data), doc)
        return doc

    def delete(self, op_id: str) -> bool:
        n = self.db.execute("DELETE FROM operations WHERE id = ?", (op_id,))
        self._results.discard(op_id)
        for path in (self.input_path(op_id), self.result_path(op_id), self.legacy_result_path(op_id)):
            path.unlink(missing_ok=True)
        return n > 0

    def purge_expired(self) -> int:
        """Delete results past their retention; returns how many."""
        rows = self.db.query("SELECT id FROM operations WHERE expires IS NOT NULL AND expires <= ?", (time.time(),))
        ids = [r["id"] for r in rows]
        for op_id in ids:
            self.delete(op_id)
        return len(ids)

    def sweep(self) -> int:
        """Start-up only (no request is in flight): delete every file under the operations folder that no
        operation needs, the leftovers of a crash. Pending operations keep their inputs, succeeded ones their
        results (an earlier version's pickled one too, so a poll can say why it is unreadable, until it expires);
        uploads cut off before their 202, temporary files, inputs of finished operations and files of unknown
        operations go. Returns how many files were deleted."""
        keep: set[str] = set()
        for r in self.db.query("SELECT id, status FROM operations"):
            try:
                if r["status"] in PENDING:
                    keep.add(self.input_path(r["id"]).name)
                elif r["status"] == SUCCEEDED:
                    keep.add(self.result_path(r["id"]).name)
                    keep.add(self.legacy_result_path(r["id"]).name)
            except ValueError:  # an id no file can be named after has no files
                continue
        removed = 0
        for entry in self.files.iterdir():
            if entry.name not in keep and (entry.is_file() or entry.is_symlink()):
                entry.unlink(missing_ok=True)
                removed += 1
        if removed:
            log.info("deleted %d files that no operation needs (left by a crash)", removed)
        return removed


def store_input(store: OperationStore, op_id: str, data_path: Path) -> Path:
    """Move an uploaded temp file into the operation's durable place (fsynced, directory too)."""
    dest = store.input_path(op_id)
    with open(data_path, "rb") as fh:
        os.fsync(fh.fileno())
    replace_durably(data_path, dest)
    return dest
