"""Durable files and the one database the operation store and the model registry share.

A file is durable once it is fsynced and the directory holding its name is too; a model and the operation that
builds it are consistent only if both rows commit in one transaction. Both stores need these, and the model
registry sits below the server, so they live here rather than in the server package.

The database is SQLAlchemy Core over SQLite (the embedded default, ``percept.sqlite3`` in the data directory) or
PostgreSQL (``PERCEPT_DATABASE_URL``), which several server instances can share. The tables are declared once,
here; Alembic (``percept/migrations``) brings any database to them on open. Timestamps are epoch seconds (floats)
and JSON is text, so both databases hold the same values and older SQLite files stay readable.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import socket
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.pool import StaticPool

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    R = TypeVar("R", bound=DataclassInstance)


DATABASE_FILE = "percept.sqlite3"
MIGRATIONS = Path(__file__).with_name("migrations")

metadata = sa.MetaData()
# What the last migration leaves; the migrations themselves spell their columns out, frozen as they were.
operations = sa.Table(
    "operations",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("model_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
    sa.Column("expires", sa.Float),
    sa.Column("params", sa.Text, nullable=False),  # the job, as JSON
    sa.Column("error", sa.Text),  # a StoredError, as JSON
    sa.Column("parent_id", sa.Text),
    sa.Column("lease_owner", sa.Text),  # the instance running it (or that last did)
    sa.Column("lease_expires", sa.Float),  # until when; another instance may take it over after
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),  # claims so far
    sa.Index("operations_status", "status"),
    sa.Index("operations_expires", "expires"),
    sa.Index("operations_parent", "parent_id"),
)
models = sa.Table(
    "models",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("train_result", sa.Text),
    sa.Column("keys", sa.Text),
)


class IntegrityError(sqlite3.IntegrityError):
    """A write broke a constraint (an id already taken), whatever the database. A ``sqlite3.IntegrityError``, so
    callers written when SQLite was the only database still catch it."""


def instance_id() -> str:
    """Who holds a lease: host, pid and a random part (a pid is reused after a restart)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def database_url(data_dir: str | os.PathLike[str], url: str = "") -> str:
    """The SQLAlchemy URL: ``url`` with PostgreSQL's driver named (psycopg 3), or the data directory's SQLite file."""
    url = url.strip()
    if not url:
        return f"sqlite:///{Path(data_dir) / DATABASE_FILE}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_shared(url: str) -> bool:
    """Whether ``url`` names a database server that several Percept instances can share (not SQLite)."""
    return bool(url.strip()) and not url.strip().startswith("sqlite")


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


def from_row(cls: type[R], row: Mapping[Any, Any], decoders: Mapping[str, Callable[[str], Any]]) -> R:
    """The dataclass ``cls`` from a row with a column per field (other columns are ignored). The columns named in
    ``decoders`` hold text that the decoder reads back; NULL (or empty) there is None."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        value = row[f.name]
        decode = decoders.get(f.name)
        values[f.name] = value if decode is None else decode(value) if value else None
    return cls(**values)


@functools.cache
def _head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


class Database:
    """The server's database, shared by the event loop, the job threads and both stores.

    Every write runs in :meth:`transaction`; a transaction opened inside another on the same thread joins it, so
    callers can make several stores' writes one atomic unit. SQLite has one connection, used by one thread at a
    time, and writes take the file's write lock at BEGIN (``BEGIN IMMEDIATE``), so a read-then-write transaction
    is atomic. PostgreSQL has a pool: each thread's transaction its own connection, isolated by the server.
    Opening migrates the schema to the newest revision.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.shared = not url.startswith("sqlite")
        self._local = threading.local()  # the transaction open on this thread, if any
        self._lock = threading.RLock()  # SQLite: one thread at a time on the one connection
        self._begin = ""  # SQLite: what a transaction begins with; reads need none (each SELECT is atomic)
        if self.shared:
            try:
                self.engine = sa.create_engine(url, pool_size=8, max_overflow=32, pool_recycle=1800)
            except ModuleNotFoundError as exc:
                raise RuntimeError(
                    f"PERCEPT_DATABASE_URL names a database whose driver is not installed ({exc.name});"
                    " for PostgreSQL install percept[postgres]"
                ) from None
            self._conn: Connection | None = None
        else:
            self.engine = sa.create_engine(
                url, poolclass=StaticPool, connect_args={"check_same_thread": False, "timeout": 10}
            )
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", self._on_begin)
            self._conn = self.engine.connect()
        self.migrate()

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str], url: str = "") -> Database:
        """``url`` (``PERCEPT_DATABASE_URL``), or the SQLite file in ``data_dir`` when it is empty."""
        return cls(database_url(data_dir, url))

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision. Several instances starting at once on PostgreSQL take
        turns (an advisory lock); a SQLite file an earlier version made without Alembic is upgraded in place."""
        from alembic.runtime.migration import MigrationContext

        with self.transaction() as conn:
            if self.shared:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7309480117)"))
            if MigrationContext.configure(conn).get_current_revision() == _head():
                return
            from alembic import command
            from alembic.config import Config

            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Statements inside commit together when the outermost block ends, or roll back if it raises. A broken
        constraint raises :class:`IntegrityError`."""
        current: Connection | None = getattr(self._local, "conn", None)
        if current is not None:
            with _integrity():
                yield current
            return
        with self._exclusive(), _integrity():
            conn = self._conn if self._conn is not None else self.engine.connect()
            self._begin = "BEGIN IMMEDIATE"
            try:
                with conn.begin():
                    self._begin = ""
                    self._local.conn = conn
                    try:
                        yield conn
                    finally:
                        self._local.conn = None
            finally:
                self._begin = ""
                if conn is not self._conn:
                    conn.close()

    def _on_begin(self, conn: Connection) -> None:
        if self._begin:
            conn.exec_driver_sql(self._begin)

    def _exclusive(self) -> threading.RLock | _NoLock:
        return _NoLock() if self.shared else self._lock

    def query(self, stmt: sa.Executable | str, args: Sequence[Any] | Mapping[str, Any] = ()) -> list[RowMapping]:
        """Rows as mappings by column name: a Core statement (``args``: its bound parameters by name), or plain SQL
        with ``?``-style ``args`` (SQLite)."""
        current: Connection | None = getattr(self._local, "conn", None)
        if current is not None:
            return _rows(current, stmt, args)
        if self._conn is None:
            with self.engine.connect() as conn:
                return _rows(conn, stmt, args)
        with self._lock:
            try:
                return _rows(self._conn, stmt, args)
            finally:
                self._conn.commit()  # ends SQLAlchemy's record of a transaction (SQLite began none)

    def execute(self, stmt: sa.Executable) -> int:
        """One write in its own transaction (or the caller's); returns the rows it touched."""
        with self.transaction() as conn:
            return int(conn.execute(stmt).rowcount)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
            self.engine.dispose()


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@contextmanager
def _integrity() -> Iterator[None]:
    try:
        yield
    except sa.exc.IntegrityError as exc:
        raise IntegrityError(str(exc.orig)) from exc


def _rows(conn: Connection, stmt: sa.Executable | str, args: Sequence[Any] | Mapping[str, Any]) -> list[RowMapping]:
    if isinstance(stmt, str):
        result = conn.exec_driver_sql(stmt, tuple(args.values() if isinstance(args, Mapping) else args))
    else:
        result = conn.execute(stmt, dict(args) if isinstance(args, Mapping) else None)
    return list(result.mappings().all())


def _sqlite_connect(dbapi_conn: sqlite3.Connection, record: object) -> None:
    dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" hook says BEGIN, not the driver
    dbapi_conn.execute("PRAGMA journal_mode=WAL")
    dbapi_conn.execute("PRAGMA synchronous=FULL")
    dbapi_conn.execute("PRAGMA busy_timeout=10000")  # `percept train` may write the same file meanwhile


class DatabaseUser:
    """A store on the server's database: the ``db`` it is given (shared with the other stores, which keep it
    open), or its own connection to ``PERCEPT_DATABASE_URL`` (``percept.sqlite3`` in ``data_dir`` when unset),
    which :meth:`close` closes."""

    def __init__(self, data_dir: str | os.PathLike[str], db: Database | None) -> None:
        self._owns_db = db is None
        if db is None:
            from .config import ServerSettings

            db = Database.open(data_dir, ServerSettings(data_dir=str(data_dir)).database_url)
        self.db = db

    def close(self) -> None:
        if self._owns_db:
            self.db.close()
