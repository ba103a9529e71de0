"""Operator-enrolled galleries on disk: who (celebrities) and where (landmarks) the server can name.

Layout, per kind, under ``<gallery_dir>/<kind>/``:

- ``index.json``: ``{"version": 1, "kind", "entries": [{"id", "name", "model", "file", "images", "created",
  "updated"}]}``, rewritten whole and durably (temporary file, fsync, rename, fsync of the directory) on every
  change, so a reader sees the old index or the new one, never half of one;
- ``<id>.<n>.npy``: one entry's embeddings, float32, one L2-normalised row per enrolled image. A file is never
  rewritten: a change writes a new file, then the index naming it, then deletes the old one.

Writers (the ``percept gallery`` command and the server's gallery routes, possibly at once) serialise on an
``flock`` of ``<kind>/.lock``. Readers take no lock: :class:`Gallery` stats the index on every use and reloads
when it changed, so a running server picks up an enrolment without a restart.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import threading
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidRequest, NotFound
from ..storage import fsync_dir, write_durably

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: writers are not serialised
    fcntl = None  # type: ignore[assignment]

KINDS = ("celebrities", "landmarks")
INDEX = "index.json"
MAX_NAME = 100


class InvalidGalleryName(InvalidRequest, code="InvalidParameter"):
    """A gallery kind or entry name the caller can correct."""


class GalleryEntryNotFound(NotFound):
    """No entry has that name or id."""


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidGalleryName(f"Unknown gallery '{kind}'; it is one of: {', '.join(KINDS)}.")
    return kind


def check_name(name: str) -> str:
    """The name as stored: surrounding blanks dropped, 1–100 characters, none of them a control character."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidGalleryName(f"A name has 1 to {MAX_NAME} characters; this one has {len(name)}.")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise InvalidGalleryName("A name cannot contain control characters.")
    return name


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Entry:
    """One name and what it looks like: ``embeddings`` is (images, dimensions), rows L2-normalised."""

    id: str
    name: str
    model: str  # the embedder that produced the rows; entries of another embedder are not compared
    embeddings: np.ndarray
    created: str
    updated: str
    file: str = ""

    def summary(self) -> dict[str, Any]:
        """What the CLI prints and the REST route returns."""
        return {
            "id": self.id,
            "name": self.name,
            "images": int(self.embeddings.shape[0]),
            "model": self.model,
            "createdDateTime": self.created,
            "lastUpdatedDateTime": self.updated,
        }

    def matches(self, name_or_id: str) -> bool:
        key = name_or_id.strip()
        return key == self.id or key.casefold() == self.name.casefold()


def _read_index(folder: Path) -> list[dict[str, Any]]:
    try:
        raw = json.loads((folder / INDEX).read_text("utf-8"))
    except FileNotFoundError:
        return []
    entries: list[dict[str, Any]] = raw.get("entries", [])
    return entries


def _load(folder: Path) -> list[Entry]:
    """Every entry with its embeddings; an entry whose file vanished (a writer replaced it meanwhile) raises
    FileNotFoundError, for the caller to read the newer index."""
    out = []
    for e in _read_index(folder):
        rows = np.load(folder / e["file"], allow_pickle=False).astype(np.float32, copy=False)
        out.append(Entry(e["id"], e["name"], e["model"], rows, e["created"], e["updated"], e["file"]))
    return out


class GalleryStore:
    """The writing side of one gallery (``kind``) under ``root``."""

    def __init__(self, root: str | os.PathLike[str], kind: str) -> None:
        self.kind = check_kind(kind)
        self.folder = Path(root) / kind

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing drops the lock

    def entries(self) -> list[Entry]:
        for _ in range(5):
            try:
                return _load(self.folder)
            except FileNotFoundError:  # replaced by a writer between reading the index and the file
                continue
        with self._locked():
            return _load(self.folder)

    def find(self, name_or_id: str) -> Entry:
        for e in self.entries():
            if e.matches(name_or_id):
                return e
        raise GalleryEntryNotFound(f"No {self._singular} named '{name_or_id.strip()}' (or with that id).")

    @property
    def _singular(self) -> str:
        return "person" if self.kind == "celebrities" else "landmark"

    def add(self, name: str, embeddings: np.ndarray, model: str) -> Entry:
        """Enrol ``embeddings`` (one row per image) under ``name``: a new entry, or more images of an existing one
        (names compare case-insensitively)."""
        name = check_name(name)
        rows = np.atleast_2d(np.asarray(embeddings, dtype=np.float32))
        if rows.shape[0] == 0:
            raise InvalidRequest("Nothing to enrol: no image gave an embedding.")
        with self._locked():
            entries = _load(self.folder)
            old = next((e for e in entries if e.name.casefold() == name.casefold()), None)
            now = _now()
            if old is None:
                entry = Entry(str(uuid.uuid4()), name, model, rows, now, now)
            else:
                if old.model != model or old.embeddings.shape[1] != rows.shape[1]:
                    raise InvalidRequest(
                        f"'{old.name}' was enrolled with the embedder {old.model}, not {model}; remove it and "
                        "enrol it again."
                    )
                entry = Entry(old.id, old.name, model, np.vstack([old.embeddings, rows]), old.created, now)
            entry = self._write_rows(entry)
            self._write_index([*entries, entry] if old is None else [entry if e.id == entry.id else e for e in entries])
            if old is not None:
                (self.folder / old.file).unlink(missing_ok=True)
        return entry

    def remove(self, name_or_id: str) -> Entry:
        with self._locked():
            entries = _load(self.folder)
            gone = next((e for e in entries if e.matches(name_or_id)), None)
            if gone is None:
                raise GalleryEntryNotFound(f"No {self._singular} named '{name_or_id.strip()}' (or with that id).")
            self._write_index([e for e in entries if e.id != gone.id])
            (self.folder / gone.file).unlink(missing_ok=True)
            fsync_dir(self.folder)
        return gone

    def _write_rows(self, entry: Entry) -> Entry:
        file = f"{entry.id}.{uuid.uuid4().hex[:8]}.npy"
        path = self.folder / file
        with open(path, "wb") as fh:
            np.save(fh, entry.embeddings, allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        fsync_dir(self.folder)
        return Entry(entry.id, entry.name, entry.model, entry.embeddings, entry.created, entry.updated, file)

    def _write_index(self, entries: list[Entry]) -> None:
        body = {
            "version": 1,
            "kind": self.kind,
            "entries": [
                {
                    "id": e.id,
                    "name": e.name,
                    "model": e.model,
                    "file": e.file,
                    "images": int(e.embeddings.shape[0]),
                    "created": e.created,
                    "updated": e.updated,
                }
                for e in entries
            ],
        }
        write_durably(self.folder / INDEX, json.dumps(body, ensure_ascii=False, indent=1).encode())


@dataclass(frozen=True, slots=True)
class Match:
    name: str
    cosine: float


class Gallery:
    """The reading side: the entries of one gallery, reloaded when its index changes (one ``stat`` per use)."""

    def __init__(self, root: str | os.PathLike[str], kind: str) -> None:
        self.store = GalleryStore(root, kind)
        self._stamp: tuple[int, int, int] | None = None
        self._entries: list[Entry] = []
        self._guard = threading.Lock()

    def _current_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.store.folder / INDEX)
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def entries(self) -> list[Entry]:
        with self._guard:
            stamp = self._current_stamp()
            if stamp != self._stamp:
                self._entries = self.store.entries() if stamp is not None else []
                self._stamp = stamp
            return self._entries

    def best(self, embedding: np.ndarray, model: str) -> Match | None:
        """The entry most like ``embedding`` (an L2-normalised row): each entry scores the highest cosine of its
        images. None when the gallery holds nothing made by ``model``."""
        best: Match | None = None
        for e in self.entries():
            if e.model != model or e.embeddings.shape[1] != embedding.shape[0]:
                continue
            cos = float(np.max(e.embeddings @ embedding))
            if best is None or cos > best.cosine:
                best = Match(e.name, cos)
        return best
