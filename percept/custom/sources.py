"""Where training forms come from: an Azure Blob container by its SAS URL, or a local folder under a configured
root. Files are copied into the model's folder first, so training reads local files in the worker processes and
a restarted training does not depend on the source still being there.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import InvalidRequest
from ..io.blob import BlobContainer, ListingError
from ..io.http import GuardedClient, OutboundError, TooLarge, UrlPolicy

FORM_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")
LABEL_SUFFIXES = (".labels.json", ".ocr.json")
MAX_FILES = 500
MAX_TOTAL_BYTES = 500 * 1024 * 1024
MAX_SECONDS = 30 * 60.0  # reading a whole blob source
REQUEST_SECONDS = 5 * 60.0  # one listing page or blob
MAX_REDIRECTS = 5


class InvalidTrainingSource(InvalidRequest):
    """The training source cannot be read: bad URL, refused host, no access, nothing in it."""

    code = "InvalidTrainingSource"


@dataclass(frozen=True, slots=True)
class SourceLimits:
    """Caps on one whole source, counted on what is actually copied (bytes received, not sizes declared)."""

    files: int = MAX_FILES
    total_bytes: int = MAX_TOTAL_BYTES
    seconds: float = MAX_SECONDS


@dataclass(frozen=True, slots=True)
class SourceFile:
    name: str  # path inside the container or folder, '/'-separated
    path: Path  # the local copy


def is_form(name: str) -> bool:
    return name.lower().endswith(FORM_SUFFIXES)


def _wanted(name: str, prefix: str, include_subfolders: bool) -> bool:
    if not name.startswith(prefix):
        return False
    if not include_subfolders and "/" in name[len(prefix) :].lstrip("/"):
        return False
    low = name.lower()
    return is_form(low) or low.endswith(LABEL_SUFFIXES) or low.rsplit("/", 1)[-1] == "fields.json"


def collect(
    source: str,
    prefix: str,
    include_subfolders: bool,
    dest: Path,
    *,
    policy: UrlPolicy,
    local_root: str,
    limits: SourceLimits = SourceLimits(),
) -> list[SourceFile]:
    """Copy the forms (and label files) under ``prefix`` into ``dest``; names keep their folders."""
    dest.mkdir(parents=True, exist_ok=True)
    parts = urlsplit(source)
    if parts.scheme in ("http", "https"):
        return _from_blob(source, prefix, include_subfolders, dest, policy, limits)
    if parts.scheme == "file" or (not parts.scheme and source.startswith("/")):
        path = unquote(parts.path) if parts.scheme == "file" else source
        return _from_folder(Path(path), prefix, include_subfolders, dest, local_root, limits)
    raise InvalidTrainingSource("The source must be an Azure Blob container SAS URL or, when enabled, a local folder.")


def _from_folder(
    folder: Path, prefix: str, include_subfolders: bool, dest: Path, local_root: str, limits: SourceLimits
) -> list[SourceFile]:
    if not local_root:
        raise InvalidTrainingSource(
            "Local training folders are disabled. Set PERCEPT_TRAINING_ROOT to the folder they may come from."
        )
    root = Path(local_root).resolve()
    folder = folder.resolve()
    if folder != root and root not in folder.parents:
        raise InvalidTrainingSource(f"The folder '{folder}' is outside the allowed training root.")
    if not folder.is_dir():
        raise InvalidTrainingSource(f"The training folder '{folder}' does not exist.")
    out: list[SourceFile] = []
    total = 0
    for path in sorted(folder.rglob("*")):
        real = path.resolve()
        if not path.is_file() or (real != root and root not in real.parents):
            continue  # a link out of the root is not followed
        name = path.relative_to(folder).as_posix()
        if not _wanted(name, prefix, include_subfolders):
            continue
        total += path.stat().st_size
        _check_limits(len(out) + 1, total, limits)
        local = dest / name
        local.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(real, local)
        out.append(SourceFile(name, local))
    return out


def _from_blob(
    url: str, prefix: str, include_subfolders: bool, dest: Path, policy: UrlPolicy, limits: SourceLimits
) -> list[SourceFile]:
    """Every request (listing pages, downloads, redirects) goes through the guarded client; the caps count the
    bytes received, the listing's sizes only refuse early."""
    out: list[SourceFile] = []
    total = 0
    deadline = time.monotonic() + limits.seconds
    try:
        with GuardedClient(policy, max_redirects=MAX_REDIRECTS) as client:
            container = BlobContainer(url, client, deadline=deadline, request_seconds=REQUEST_SECONDS)
            for blob in container.list_blobs(prefix):
                if not _wanted(blob.name, prefix, include_subfolders):
                    continue
                _check_limits(len(out) + 1, total + blob.size, limits)
                local = dest / blob.name
                if os.path.commonpath([local.resolve(), dest.resolve()]) != str(dest.resolve()):
                    continue  # a blob name with '..' does not leave the model's folder
                local.parent.mkdir(parents=True, exist_ok=True)
                with open(local, "wb") as fh:
                    try:
                        total += container.download(blob.name, fh, max_bytes=limits.total_bytes - total)
                    except TooLarge:
                        raise _too_large(limits) from None
                out.append(SourceFile(blob.name, local))
    except OutboundError as exc:
        if exc.status in (401, 403):
            raise InvalidTrainingSource(
                "Access to the container was denied: the SAS needs read and list rights."
            ) from None
        if exc.status == 404 and isinstance(exc, ListingError):
            raise InvalidTrainingSource("The container in the source URL does not exist.") from None
        raise InvalidTrainingSource(exc.sentence("The training source")) from None
    return out


def _check_limits(count: int, total: int, limits: SourceLimits) -> None:
    if count > limits.files:
        raise InvalidTrainingSource(f"The source holds more than {limits.files} training files.")
    if total > limits.total_bytes:
        raise _too_large(limits)


def _too_large(limits: SourceLimits) -> InvalidTrainingSource:
    cap = limits.total_bytes
    return InvalidTrainingSource(
        f"The training files exceed {cap // (1 << 20)} MB."
        if cap >= 1 << 20
        else f"The training files exceed {cap} bytes."
    )
