"""Durable files and the one SQLite database the operation store and the model registry share.

A file is durable once it is fsynced and the directory holding its name is too; a model and the operation that
builds it are consistent only if both rows commit in one transaction. Both stores need these, and the model
registry sits below the server, so they live here rather than in the server package.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    R = TypeVar("R", bound=DataclassInstance)


DATABASE_FILE = "percept.sqlite3"


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a directory's entries: a rename or a new file is only durable once its directory is fsynced."""
    if os.name == "nt":  # Windows cannot open a directory; NTFS journals its metadata
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """``os.replace`` that survives a power cut: the directories holding both names are fsynced after it."""
    os.replace(src, dest)
    dest_dir = os.path.dirname(os.path.abspath(dest))
    fsync_dir(dest_dir)
    src_dir = os.path.dirname(os.path.abspath(src))
    if src_dir != dest_dir:
        fsync_dir(src_dir)


def write_durably(path: Path, data: bytes) -> None:
    """Write a whole file or nothing: a fsynced temporary file renamed over ``path``."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    replace_durably(tmp, path)


def from_row(cls: type[R], row: sqlite3.Row, decoders: Mapping[str, Callable[[str], Any]]) -> R:
    """The dataclass ``cls`` from a row with a column per field (other columns are ignored). The columns named in
    ``decoders`` hold text that the decoder reads back; NULL (or empty) there is None."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        value = row[f.name]
        decode = decoders.get(f.name)
        values[f.name] = value if decode is None else decode(value) if value else None
    return cls(**values)


class Database:
    """The server's database: one connection that the event loop, the job threads and both stores share.

    Every write runs in :meth:`transaction`, an explicit BEGIN ... COMMIT; a transaction opened inside another on
    the same thread joins it, so callers can make several stores' writes one atomic unit.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0  # transactions open on the thread holding the lock
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA busy_timeout=10000")  # `percept train` may write the same file meanwhile

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Statements inside commit together when the outermost block ends, or roll back if it raises."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    @contextmanager
    def locked(self) -> Iterator[sqlite3.Connection]:
        """The bare connection, for statements that cannot run in a transaction (ATTACH, schema scripts)."""
        with self._lock:
            yield self._conn

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """One write in its own transaction (or the caller's); returns the rows it touched."""
        with self.transaction() as conn:
            return conn.execute(sql, args).rowcount

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class DatabaseUser:
    """A store on the server's database: the ``db`` it is given (shared with the other stores, which keep it
    open), or its own connection to ``percept.sqlite3`` in ``data_dir``, which :meth:`close` closes."""

    def __init__(self, data_dir: str | os.PathLike[str], db: Database | None) -> None:
        self._owns_db = db is None
        self.db = db or Database(Path(data_dir) / DATABASE_FILE)

    def close(self) -> None:
        if self._owns_db:
            self.db.close()
