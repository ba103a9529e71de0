"""What a batch reads and writes: its documents (a container listing under a prefix, or a JSONL file list), the
names of their result blobs, and the request-level errors that fail a whole batch in Azure's codes.

Azure's Swagger names no codes for these; the ones used are the closest of its vocabulary: a SAS the storage
refuses is ``InvalidArgument``/``InvalidSasToken`` (as in the batch documentation's example), a container that
is missing, unreachable or refused by the storage policy ``InvalidRequest``/``ContentSourceNotAccessible``, a
file list that is not JSONL of ``{"file": ...}`` lines ``InvalidRequest``/``InvalidContentSourceFormat``, and
more than 10,000 documents ``InvalidRequest``/``InvalidArgument``.
"""

from __future__ import annotations

import io
import json
import time
from urllib.parse import urlsplit, urlunsplit

from ..errors import InvalidRequest, PerceptError
from ..io.blob import BlobContainer, ListingError
from ..io.http import GuardedClient, OutboundError, TooLarge, UrlPolicy
from ..source import SourceNotAccessible

MAX_DOCUMENTS = 10_000
MAX_FILE_LIST_BYTES = 16 * 1024 * 1024
LIST_SECONDS = 300.0
RESULT_SUFFIX = ".ocr.json"


class InvalidSasToken(PerceptError, code="InvalidSasToken", status=400, outer_code="InvalidArgument"):
    """The storage refused the container URL's shared access signature."""


class InvalidContentSourceFormat(InvalidRequest, code="InvalidContentSourceFormat"):
    """The file list is not JSONL of ``{"file": name}`` lines."""


class TooManyDocuments(InvalidRequest, code="InvalidArgument"):
    """More documents than one batch may hold."""


def storage_error(exc: OutboundError, what: str) -> PerceptError:
    """The batch-level error for a failed storage request about ``what`` (a sentence's subject)."""
    if exc.status in (401, 403):
        return InvalidSasToken(f"The shared access signature (SAS) is invalid: {exc.sentence(what)}")
    if exc.status == 404 and isinstance(exc, ListingError):
        return SourceNotAccessible(f"{what} does not exist.")
    return SourceNotAccessible(exc.sentence(what))


def check_url(url: str, field: str) -> None:
    """A container URL must be absolute http(s) (checked on POST; reachability is the batch's to find out)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidContentSourceFormat(f"{field} must be an absolute http or https container URL.")


def public_url(container_url: str, name: str) -> str:
    """A blob's URL as results show it: the container's, without its SAS, and the blob name."""
    parts = urlsplit(container_url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{name}", query="", fragment=""))


def result_name(name: str, prefix: str, result_prefix: str) -> str:
    """``{resultPrefix}{name relative to the source prefix}.ocr.json``."""
    relative = name[len(prefix) :] if prefix and name.startswith(prefix) else name
    return f"{result_prefix}{relative.lstrip('/')}{RESULT_SUFFIX}"


def list_documents(
    url: str, prefix: str, file_list: str | None, policy: UrlPolicy, limit: int = MAX_DOCUMENTS
) -> list[str]:
    """The blob names the batch analyzes, in listing (or file-list) order; raises a PerceptError that fails the
    batch. Result files (``.ocr.json``) in the source are not documents."""
    subject = "The source container"
    try:
        with GuardedClient(policy) as client:
            container = BlobContainer(url, client, deadline=time.monotonic() + LIST_SECONDS)
            if file_list is not None:
                subject = f"The file list '{file_list}'"
                return _file_list(container, file_list, limit)
            names: list[str] = []
            for blob in container.list_blobs(prefix):
                if blob.name.endswith("/") or blob.name.endswith(RESULT_SUFFIX):
                    continue
                names.append(blob.name)
                if len(names) > limit:
                    raise TooManyDocuments(f"The source holds more than {limit:,} documents, the most one batch takes.")
            return names
    except OutboundError as exc:
        raise storage_error(exc, subject) from None


def _file_list(container: BlobContainer, name: str, limit: int) -> list[str]:
    buffer = io.BytesIO()
    try:
        container.download(name, buffer, max_bytes=MAX_FILE_LIST_BYTES)
    except TooLarge:
        raise InvalidContentSourceFormat(f"The file list is larger than {MAX_FILE_LIST_BYTES} bytes.") from None
    except OutboundError as exc:
        if exc.status == 404:
            raise SourceNotAccessible(f"The file list '{name}' does not exist in the source container.") from None
        raise
    names: list[str] = []
    for number, line in enumerate(buffer.getvalue().decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        file = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(file, str) or not file.strip():
            raise InvalidContentSourceFormat(f'Line {number} of the file list is not {{"file": "<blob name>"}}.')
        names.append(file)
        if len(names) > limit:
            raise TooManyDocuments(f"The file list names more than {limit:,} documents, the most one batch takes.")
    return list(dict.fromkeys(names))  # a file named twice is analyzed once
