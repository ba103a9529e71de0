"""Durable operations: database rows plus files under the data directory.

An operation is written (row committed, input file fsynced) before its 202 is sent, so a server killed at any
moment finds it again on restart. Results are the internal document as gzipped, versioned JSON
(:meth:`Document.to_dict`), rendered per API version on GET: any process, node or later version can read them,
and reading one runs no code, as unpickling would. Results an earlier version pickled are refused, never loaded.

Operations and custom models live in one database (:class:`Database`), so a model and the operation that builds
it commit in one transaction: a crash leaves both or neither. With a database several servers share
(PostgreSQL), each operation is run by the instance holding its lease (:meth:`OperationStore.claim`), renewed
while it runs; an instance that dies stops renewing and another takes the operation over once the lease expires.
Only the holder (or nobody, when no lease was taken) may finish an operation, so its result is written once.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..errors import NotFound, StoredError
from ..ids import storage_uuid
from ..model import Document
from ..portable import document_from_json, document_to_json
from ..storage import Database, DatabaseUser, from_row, instance_id, operations, replace_durably, write_durably
from .operations import J, job_of

log = logging.getLogger("percept.store")

NOT_STARTED, RUNNING, SUCCEEDED, FAILED = "notStarted", "running", "succeeded", "failed"
PENDING = (NOT_STARTED, RUNNING)

T = operations.c
# The reads every poll makes, built once: building and keying a statement costs more than running it on SQLite.
_GET = sa.select(operations).where(T.id == sa.bindparam("op_id"))
_OWNER = sa.select(T.lease_owner).where(T.id == sa.bindparam("op_id"))


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
    lease_owner: str | None = None  # the instance running it, or that last did
    lease_expires: float | None = None
    attempts: int = 0  # how often an instance claimed it

    def job(self, job_type: type[J]) -> J:
        """The typed job this operation runs; ``job_type`` must be its kind's."""
        return job_of(self.kind, self.params, job_type)


def _row(r: Mapping[Any, Any]) -> Operation:
    return from_row(Operation, r, {"params": json.loads, "error": StoredError.from_json})


def _free(now: float) -> sa.ColumnElement[bool]:
    """Pending, and no live lease on it."""
    return sa.and_(T.status.in_(PENDING), sa.or_(T.lease_expires.is_(None), T.lease_expires < now))


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
    may share too, see ``db``). ``instance`` names this store's process in the leases it takes."""

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
        self.instance = instance_id()
        super().__init__(self.root, db)

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
        values = asdict(op)
        values.update(params=json.dumps(op.params), error=op.error.to_json() if op.error else None)
        self.db.execute(operations.insert().values(**values))
        return op

    def create_many(self, ops: list[Operation]) -> None:
        """Persist many operations in one statement (a batch's thousands of children); commits with the caller's
        transaction like :meth:`create`."""
        if not ops:
            return
        rows = []
        for op in ops:
            values = asdict(op)
            values.update(params=json.dumps(op.params), error=op.error.to_json() if op.error else None)
            rows.append(values)
        with self.db.transaction() as conn:
            conn.execute(operations.insert(), rows)

    def get(self, op_id: str) -> Operation | None:
        """The operation, or None when unknown or past its retention."""
        rows = self.db.query(_GET, {"op_id": op_id})
        if not rows:
            return None
        op = _row(rows[0])
        if op.expires is not None and op.expires <= time.time():
            return None
        return op

    def pending(self) -> list[Operation]:
        return self._select(T.status.in_(PENDING))

    def of_kind(self, kind: str) -> list[Operation]:
        """Operations of one kind still retained, oldest first (the model operations the v3 APIs list)."""
        return self._select(T.kind == kind, sa.or_(T.expires.is_(None), T.expires > time.time()))

    def children(self, parent_id: str) -> list[Operation]:
        """The operations ``parent_id`` owns, oldest first."""
        return self._select(T.parent_id == parent_id)

    def _select(self, *where: sa.ColumnElement[bool]) -> list[Operation]:
        return [_row(r) for r in self.db.query(sa.select(operations).where(*where).order_by(T.created, T.id))]

    def child_counts(self, parent_id: str) -> dict[str, int]:
        """How many of the operations ``parent_id`` owns are in each status (statuses with none left out)."""
        stmt = sa.select(T.status, sa.func.count().label("n")).where(T.parent_id == parent_id).group_by(T.status)
        return {r["status"]: int(r["n"]) for r in self.db.query(stmt)}

    # Leases: who runs what, when several instances share the database.

    def claim(self, op_id: str, lease_seconds: float) -> Operation | None:
        """Take (or keep) the lease on one pending operation; None when it is finished, gone, or another live
        instance holds it. One conditional UPDATE, atomic on either database."""
        now = time.time()
        mine = sa.and_(T.status.in_(PENDING), T.lease_owner == self.instance)
        with self.db.transaction() as conn:
            n = conn.execute(
                operations.update()
                .where(T.id == op_id, sa.or_(_free(now), mine))
                .values(
                    lease_owner=self.instance,
                    lease_expires=now + lease_seconds,
                    attempts=sa.case((T.lease_owner == self.instance, T.attempts), else_=T.attempts + 1),
                )
            ).rowcount
            if not n:
                return None
            row = conn.execute(sa.select(operations).where(T.id == op_id)).mappings().one()
        return _row(row)

    def claim_next(self, limit: int, lease_seconds: float, skip: Collection[str] = ()) -> list[str]:
        """Claim up to ``limit`` pending operations no live instance holds, oldest first; their ids. PostgreSQL
        skips rows another instance is claiming at this moment (``FOR UPDATE SKIP LOCKED``); SQLite's write lock,
        taken at BEGIN, makes the select and the update one step."""
        if limit <= 0:
            return []
        now = time.time()
        with self.db.transaction() as conn:
            stmt = sa.select(T.id).where(_free(now)).order_by(T.created).limit(limit + len(skip))
            ids = [i for i in conn.execute(stmt.with_for_update(skip_locked=True)).scalars() if i not in skip]
            ids = ids[:limit]
            if ids:
                conn.execute(
                    operations.update()
                    .where(T.id.in_(ids))
                    .values(lease_owner=self.instance, lease_expires=now + lease_seconds, attempts=T.attempts + 1)
                )
        return ids

    def renew(self, op_ids: Collection[str], lease_seconds: float) -> set[str]:
        """Extend this instance's leases on ``op_ids``; returns those it still holds (a lease that lapsed may
        have gone to another instance)."""
        if not op_ids:
            return set()
        with self.db.transaction() as conn:
            held = sa.and_(T.id.in_(list(op_ids)), T.lease_owner == self.instance, T.status.in_(PENDING))
            conn.execute(operations.update().where(held).values(lease_expires=time.time() + lease_seconds))
            return set(conn.execute(sa.select(T.id).where(held)).scalars())

    def release(self, op_ids: Collection[str] | None = None) -> int:
        """Give up leases so another instance (or the next start) takes the operations at once: this instance's
        on ``op_ids``, or, with None, every lease (start-up of the only server on a SQLite file)."""
        where: list[sa.ColumnElement[bool]] = [T.status.in_(PENDING), T.lease_owner.is_not(None)]
        if op_ids is not None:
            if not op_ids:
                return 0
            where += [T.id.in_(list(op_ids)), T.lease_owner == self.instance]
        return self.db.execute(operations.update().where(*where).values(lease_owner=None, lease_expires=None))

    def holds(self, op_id: str) -> bool:
        """Whether this instance may finish ``op_id``: it holds the lease, or nobody took one."""
        rows = self.db.query(_OWNER, {"op_id": op_id})
        return bool(rows) and rows[0]["lease_owner"] in (None, self.instance)

    def _set(self, op_id: str, status: str, error: StoredError | None = None) -> bool:
        now = time.time()
        finished = status in (SUCCEEDED, FAILED)
        values: dict[str, Any] = {
            "status": status,
            "updated": now,
            "expires": now + self.ttl if finished else None,
            "error": error.to_json() if error else None,
        }
        if finished:
            values["lease_expires"] = None  # lease_owner stays: who ran it
        mine = sa.or_(T.lease_owner.is_(None), T.lease_owner == self.instance)
        return self.db.execute(operations.update().where(T.id == op_id, mine).values(**values)) > 0

    def mark_running(self, op_id: str) -> None:
        self._set(op_id, RUNNING)

    def mark_succeeded(self, op_id: str, result: Document) -> None:
        if not self.holds(op_id):  # taken over by another instance after this one's lease lapsed: it writes it
            log.warning("operation %s is leased to another instance; this instance's result is dropped", op_id)
            return
        # Level 1: most of the size saving of higher levels at a fraction of their time on large results.
        data = gzip.compress(document_to_json(result), compresslevel=1, mtime=0)
        self._results.discard(op_id)
        write_durably(self.result_path(op_id), data)
        if self._set(op_id, SUCCEEDED):
            self.input_path(op_id).unlink(missing_ok=True)

    def mark_failed(self, op_id: str, error: StoredError) -> None:
        if self._set(op_id, FAILED, error):
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
        n = self.db.execute(operations.delete().where(T.id == op_id))
        self._results.discard(op_id)
        for path in (self.input_path(op_id), self.result_path(op_id), self.legacy_result_path(op_id)):
            path.unlink(missing_ok=True)
        return n > 0

    def purge_expired(self) -> int:
        """Delete results past their retention; returns how many."""
        rows = self.db.query(sa.select(T.id).where(T.expires.is_not(None), T.expires <= time.time()))
        ids = [r["id"] for r in rows]
        for op_id in ids:
            self.delete(op_id)
        return len(ids)

    def sweep(self, min_age: float = 0.0) -> int:
        """Start-up only (no request of this server is in flight): delete every file under the operations folder
        that no operation needs, the leftovers of a crash. Pending operations keep their inputs, succeeded ones
        their results (an earlier version's pickled one too, so a poll can say why it is unreadable, until it
        expires); uploads cut off before their 202, temporary files, inputs of finished operations and files of
        unknown operations go. With other instances on the folder, ``min_age`` spares files younger than that
        many seconds (an upload another instance is accepting has no row yet). Returns how many were deleted."""
        keep: set[str] = set()
        for r in self.db.query(sa.select(T.id, T.status)):
            try:
                if r["status"] in PENDING:
                    keep.add(self.input_path(r["id"]).name)
                elif r["status"] == SUCCEEDED:
                    keep.add(self.result_path(r["id"]).name)
                    keep.add(self.legacy_result_path(r["id"]).name)
            except ValueError:  # an id no file can be named after has no files
                continue
        removed = 0
        cutoff = time.time() - min_age
        for entry in self.files.iterdir():
            if entry.name not in keep and (entry.is_file() or entry.is_symlink()):
                if min_age and _mtime(entry) > cutoff:
                    continue
                entry.unlink(missing_ok=True)
                removed += 1
        if removed:
            log.info("deleted %d files that no operation needs (left by a crash)", removed)
        return removed


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except FileNotFoundError:
        return 0.0


def store_input(store: OperationStore, op_id: str, data_path: Path) -> Path:
    """Move an uploaded temp file into the operation's durable place (fsynced, directory too)."""
    dest = store.input_path(op_id)
    with open(data_path, "rb") as fh:
        os.fsync(fh.fileno())
    replace_durably(data_path, dest)
    return dest
