"""Where training forms come from: an Azure Blob container by its SAS URL, or a local folder under a configured
root. Files are copied into the model's folder first, so training reads local files in the worker processes and
a restarted training does not depend on the source still being there.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import InvalidRequest, InvalidUrlSource
from ..server.fetch import UrlPolicy

FORM_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")
LABEL_SUFFIXES = (".labels.json", ".ocr.json")
MAX_FILES = 500
MAX_TOTAL_BYTES = 500 * 1024 * 1024


class InvalidTrainingSource(InvalidRequest):
    """The training source cannot be read: bad URL, refused host, no access, nothing in it."""

    code = "InvalidTrainingSource"


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
) -> list[SourceFile]:
    """Copy the forms (and label files) under ``prefix`` into ``dest``; names keep their folders."""
    dest.mkdir(parents=True, exist_ok=True)
    parts = urlsplit(source)
    if parts.scheme in ("http", "https"):
        return _from_blob(source, prefix, include_subfolders, dest, policy)
    if parts.scheme == "file" or (not parts.scheme and source.startswith("/")):
        path = unquote(parts.path) if parts.scheme == "file" else source
        return _from_folder(Path(path), prefix, include_subfolders, dest, local_root)
    raise InvalidTrainingSource("The source must be an Azure Blob container SAS URL or, when enabled, a local folder.")


def _from_folder(folder: Path, prefix: str, include_subfolders: bool, dest: Path, local_root: str) -> list[SourceFile]:
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
        _check_limits(len(out) + 1, total)
        local = dest / name
        local.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(real, local)
        out.append(SourceFile(name, local))
    return out


def _from_blob(url: str, prefix: str, include_subfolders: bool, dest: Path, policy: UrlPolicy) -> list[SourceFile]:
    from azure.core.exceptions import AzureError, ClientAuthenticationError, ResourceNotFoundError
    from azure.storage.blob import ContainerClient

    parts = urlsplit(url)
    try:
        policy.resolve(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    except InvalidUrlSource as exc:
        raise InvalidTrainingSource(exc.message) from None
    out: list[SourceFile] = []
    total = 0
    try:
        container = ContainerClient.from_container_url(url)
        for blob in container.list_blobs(name_starts_with=prefix or None):
            if not _wanted(blob.name, prefix, include_subfolders):
                continue
            total += blob.size or 0
            _check_limits(len(out) + 1, total)
            local = dest / blob.name
            if os.path.commonpath([local.resolve(), dest.resolve()]) != str(dest.resolve()):
                continue  # a blob name with '..' does not leave the model's folder
            local.parent.mkdir(parents=True, exist_ok=True)
            with open(local, "wb") as fh:
                container.download_blob(blob.name).readinto(fh)
            out.append(SourceFile(blob.name, local))
    except ClientAuthenticationError:
        raise InvalidTrainingSource("Access to the container was denied: the SAS needs read and list rights.") from None
    except ResourceNotFoundError:
        raise InvalidTrainingSource("The container in the source URL does not exist.") from None
    except AzureError as exc:
        raise InvalidTrainingSource(f"The container could not be read: {type(exc).__name__}.") from None
    return out


def _check_limits(count: int, total: int) -> None:
    if count > MAX_FILES:
        raise InvalidTrainingSource(f"The source holds more than {MAX_FILES} training files.")
    if total > MAX_TOTAL_BYTES:
        raise InvalidTrainingSource(f"The training files exceed {MAX_TOTAL_BYTES // (1024 * 1024)} MB.")
