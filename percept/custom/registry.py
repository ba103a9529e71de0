"""Custom models on disk: one row per model (what the management APIs list) in the server's database, beside
the operations, and, once trained, the learned model as versioned JSON in the model's folder (``model.json``, see
:mod:`.codec`): any process, node or later version can load it, and loading runs no code. Models outlive restarts;
a model still ``creating`` when the server stopped is trained again by its pending operation. A model an earlier
version pickled (``model.pickle``) is refused, never unpickled: it must be trained again.

Data directories of earlier versions kept the rows in ``models.sqlite3``; they are moved over on first open.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from ..errors import UnreadableModel
from ..ids import is_model_id, storage_model_id
from ..storage import Database, DatabaseUser, from_row, fsync_dir, models, write_durably
from . import codec

log = logging.getLogger("percept.models")

# Cluster id -> key texts of an unlabeled model (an alias: the class's ``list`` method shadows the builtin).
ClusterKeys = dict[str, list[str]]

CREATING, READY, INVALID = "creating", "ready", "invalid"
MODEL_LIMIT = 5000

T = models.c
_COLUMNS = ("id", "name", "status", "created", "updated", "params", "train_result", "keys")
LEGACY_DB = "models.sqlite3"
MODEL_FILE = "model.json"
LEGACY_MODEL_FILE = "model.pickle"  # an earlier version's learned model: kept only to say why it cannot be used


@dataclass(slots=True)
class ModelRecord:
    id: str
    status: str = CREATING
    name: str | None = None
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    params: dict[str, Any] = field(default_factory=dict)  # source, prefix, useLabelFile, version...
    train_result: dict[str, Any] | None = None  # trainingDocuments, fields, errors (v2 shape)
    keys: dict[str, list[str]] | None = None  # cluster id -> key texts (unlabeled)


class ModelRegistry(DatabaseUser):
    """Pass the operation store's ``db`` so a model and its operation can commit in one transaction; without it
    (the CLI) the registry opens the same database file itself."""

    def __init__(self, data_dir: str | os.PathLike[str], db: Database | None = None) -> None:
        self.root = Path(data_dir) / "models"
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        super().__init__(data_dir, db)
        self._migrate(Path(data_dir) / LEGACY_DB)

    def _migrate(self, legacy: Path) -> None:
        """Move the rows of an earlier version's ``models.sqlite3`` in, then delete it. Rows already here win,
        so a crash between the commit and the delete only repeats a harmless copy."""
        if not legacy.exists():
            return
        with closing(sqlite3.connect(legacy)) as old:
            rows = old.execute(f"SELECT {', '.join(_COLUMNS)} FROM models").fetchall()
        with self.db.transaction() as conn:
            have = set(conn.execute(sa.select(T.id)).scalars())
            new = [dict(zip(_COLUMNS, r, strict=True)) for r in rows if r[0] not in have]
            if new:
                conn.execute(models.insert(), new)
        n = len(new)
        for suffix in ("", "-wal", "-shm", "-journal"):
            legacy.with_name(legacy.name + suffix).unlink(missing_ok=True)
        fsync_dir(legacy.parent)
        log.info("moved %d models from %s into the server database", n, legacy.name)

    def secret(self) -> bytes:
        """This server's key for signing copy authorizations (made once, kept with the models)."""
        path = self.root.parent / "copy-authorization.key"
        with self._lock:
            if not path.exists():
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(os.urandom(32))
            return path.read_bytes()

    def folder(self, model_id: str) -> Path:
        """Only a valid model id names a folder (never ``..``, ``.`` or a path): anything else raises ``InvalidId``."""
        return self.root / storage_model_id(model_id)

    def create(self, rec: ModelRecord) -> ModelRecord:
        """Insert the row; inside a caller's ``db.transaction()`` it commits with the caller's other writes
        (the operation that builds the model). A taken id raises ``storage.IntegrityError``."""
        values = {"id": rec.id, "name": rec.name, "status": rec.status, "created": rec.created}
        self.db.execute(models.insert().values(**values, updated=rec.updated, params=json.dumps(rec.params)))
        return rec

    def set_operation(self, model_id: str, op_id: str) -> None:
        """Point a model at the operation that now builds it (a new one queued after a crash)."""
        with self.db.transaction() as conn:
            stored = conn.execute(sa.select(T.params).where(T.id == model_id)).scalar()
            if stored is None:
                return
            params = {**json.loads(stored), "operation": op_id}
            conn.execute(models.update().where(T.id == model_id).values(params=json.dumps(params)))

    def get(self, model_id: str) -> ModelRecord | None:
        rows = self.db.query(sa.select(models).where(T.id == model_id))
        return _record(rows[0]) if rows else None

    def list(self) -> list[ModelRecord]:
        return [_record(r) for r in self.db.query(sa.select(models).order_by(T.created, T.id))]

    def count(self) -> int:
        return int(self.db.query(sa.select(sa.func.count().label("n")).select_from(models))[0]["n"])

    def finish(
        self,
        model_id: str,
        status: str,
        train_result: dict[str, Any],
        keys: ClusterKeys | None,
        learned: codec.Learned | None,
    ) -> None:
        """Write the learned model (fsynced, with its folder's entries) before the row says ready, so a ready
        model always loads."""
        if learned is not None:
            path = self.folder(model_id) / MODEL_FILE
            path.parent.mkdir(parents=True, exist_ok=True)
            fsync_dir(self.root)  # the model's folder itself is a new entry
            write_durably(path, orjson.dumps(codec.encode(learned)))
        values = {"train_result": json.dumps(train_result), "keys": json.dumps(keys) if keys else None}
        self.db.execute(models.update().where(T.id == model_id).values(status=status, updated=time.time(), **values))

    def learned(self, model_id: str) -> codec.Learned:
        """The learned model; ``FileNotFoundError`` when there is none, ``UnreadableModel`` when it was stored
        in a form this version does not load (it is never unpickled: that would run whatever code it names)."""
        folder = self.folder(model_id)
        try:
            data = (folder / MODEL_FILE).read_bytes()
        except FileNotFoundError:
            if (folder / LEGACY_MODEL_FILE).exists():
                raise UnreadableModel(
                    f"Model '{model_id}' was stored by an older version of Percept in a format this version does"
                    " not load; train the model again."
                ) from None
            raise
        try:
            return codec.decode(orjson.loads(data))
        except (orjson.JSONDecodeError, codec.ModelFormatError) as exc:
            raise UnreadableModel(f"Model '{model_id}' cannot be loaded ({exc}); train the model again.") from None

    def delete(self, model_id: str) -> bool:
        n = self.db.execute(models.delete().where(T.id == model_id))
        if n > 0 and is_model_id(model_id):  # an unknown or malformed id touches nothing on disk
            folder = self.folder(model_id)
            if folder.parent.resolve() == self.root.resolve() and not folder.is_symlink():
                shutil.rmtree(folder, ignore_errors=True)
        return n > 0

    def sweep(self, min_age: float = 0.0) -> int:
        """Start-up only: delete what a crash left in the models folder. Folders of unknown models go (a delete
        cut short, a failed v3 build), and a built model keeps only its learned model: training copies and
        temporary files go. A model still creating keeps its folder (its training starts over). Returns how many
        folders were deleted or trimmed. An earlier version's ``model.pickle`` stays, so using the model can say
        why it must be trained again. With other instances on the folder, ``min_age`` spares folders changed in
        the last that many seconds."""
        status = {r["id"]: r["status"] for r in self.db.query(sa.select(T.id, T.status))}
        swept = 0
        cutoff = time.time() - min_age
        for entry in self.root.iterdir():
            if entry.is_symlink() or not entry.is_dir():
                continue
            if min_age and entry.stat().st_mtime > cutoff:
                continue
            if entry.name not in status:
                shutil.rmtree(entry, ignore_errors=True)
                swept += 1
            elif status[entry.name] != CREATING:
                leftovers = [p for p in entry.iterdir() if p.name not in (MODEL_FILE, LEGACY_MODEL_FILE)]
                for p in leftovers:
                    if p.is_dir() and not p.is_symlink():
                        shutil.rmtree(p, ignore_errors=True)
                    else:
                        p.unlink(missing_ok=True)
                swept += bool(leftovers)
        if swept:
            log.info("cleaned %d model folders left by a crash", swept)
        return swept


def _record(r: Mapping[Any, Any]) -> ModelRecord:
    return from_row(ModelRecord, r, {"params": json.loads, "train_result": json.loads, "keys": json.loads})
