"""Custom models on disk: one SQLite row per model (what the management APIs list) and, once trained, the
learned model pickled beside its training files. Models outlive restarts; a model still ``creating`` when the
server stopped is trained again by its pending operation.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CREATING, READY, INVALID = "creating", "ready", "invalid"
MODEL_LIMIT = 5000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    id TEXT PRIMARY KEY,
    name TEXT,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    params TEXT NOT NULL,
    train_result TEXT,
    keys TEXT
);
"""


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


class ModelRegistry:
    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.root = Path(data_dir) / "models"
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(Path(data_dir) / "models.sqlite3", check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

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
        return self.root / model_id

    def create(self, rec: ModelRecord) -> ModelRecord:
        with self._lock:
            self._db.execute(
                "INSERT INTO models (id, name, status, created, updated, params) VALUES (?, ?, ?, ?, ?, ?)",
                (rec.id, rec.name, rec.status, rec.created, rec.updated, json.dumps(rec.params)),
            )
        return rec

    def get(self, model_id: str) -> ModelRecord | None:
        with self._lock:
            r = self._db.execute("SELECT * FROM models WHERE id = ?", (model_id,)).fetchone()
        return _record(r) if r else None

    def list(self) -> list[ModelRecord]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM models ORDER BY created").fetchall()
        return [_record(r) for r in rows]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM models").fetchone()[0])

    def finish(
        self,
        model_id: str,
        status: str,
        train_result: dict[str, Any],
        keys: dict[str, list[str]] | None,
        learned: Any | None,
    ) -> None:
        """Write the learned model (fsynced) before the row says ready, so a ready model always loads."""
        if learned is not None:
            path = self.folder(model_id) / "model.pickle"
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as fh:
                pickle.dump(learned, fh, protocol=pickle.HIGHEST_PROTOCOL)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        with self._lock:
            self._db.execute(
                "UPDATE models SET status = ?, updated = ?, train_result = ?, keys = ? WHERE id = ?",
                (status, time.time(), json.dumps(train_result), json.dumps(keys) if keys else None, model_id),
            )

    def learned(self, model_id: str) -> Any:
        with open(self.folder(model_id) / "model.pickle", "rb") as fh:
            return pickle.load(fh)

    def delete(self, model_id: str) -> bool:
        with self._lock:
            n = self._db.execute("DELETE FROM models WHERE id = ?", (model_id,)).rowcount
        shutil.rmtree(self.folder(model_id), ignore_errors=True)
        return n > 0

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _record(r: sqlite3.Row) -> ModelRecord:
    return ModelRecord(
        id=r["id"],
        name=r["name"],
        status=r["status"],
        created=r["created"],
        updated=r["updated"],
        params=json.loads(r["params"]),
        train_result=json.loads(r["train_result"]) if r["train_result"] else None,
        keys=json.loads(r["keys"]) if r["keys"] else None,
    )
