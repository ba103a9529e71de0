"""List, download and write an Azure Blob container by its SAS URL, through the guarded client.

The Blob REST API (List Blobs with marker paging, Get Blob) is called directly rather than through
azure-storage-blob: the SDK resolves hosts, follows redirects and retries on its own pipeline, and trusts the sizes
the listing declares. Here every request goes through ``GuardedClient`` with a deadline, and every byte is counted.
"""

from __future__ import annotations

import io
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO
from urllib.parse import quote, unquote, urlencode, urlsplit, urlunsplit

from .http import GuardedClient, OutboundError, TimedOut, TooLarge

API_VERSION = "2021-08-06"  # a Blob service version every current Azure Storage and Azurite answers
MAX_LISTING_PAGE_BYTES = 16 * 1024 * 1024
META = "x-ms-meta-"


class ListingError(OutboundError):
    """The container listing was answered with an error status (404: no such container)."""


@dataclass(frozen=True, slots=True)
class BlobItem:
    name: str
    size: int  # as the listing declares it: a hint, never a cap


class BlobContainer:
    """One container. Each request gets at most ``request_seconds`` and all of them end by ``deadline``
    (a ``time.monotonic()`` value). Errors are OutboundError; ``status`` carries the HTTP status answered."""

    def __init__(self, url: str, client: GuardedClient, *, deadline: float, request_seconds: float = 300.0) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise OutboundError("must be an absolute http or https URL.")
        self._parts = parts._replace(path=parts.path.rstrip("/"), fragment="")
        self._client = client
        self._deadline = deadline
        self._request_seconds = request_seconds

    def _seconds(self) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimedOut("took longer than allowed to read.")
        return min(left, self._request_seconds)

    def _url(self, path: str, extra: dict[str, str]) -> str:
        query = "&".join(q for q in (self._parts.query, urlencode(extra)) if q)
        return urlunsplit(self._parts._replace(path=path, query=query))

    def list_blobs(self, prefix: str = "") -> Iterator[BlobItem]:
        """Every blob under ``prefix``, page by page."""
        marker = ""
        while True:
            params = {"restype": "container", "comp": "list", "maxresults": "5000"}
            if prefix:
                params["prefix"] = prefix
            if marker:
                params["marker"] = marker
            page = self._get_listing(self._url(self._parts.path, params))
            for blob in page.iter("Blob"):
                name_node = blob.find("Name")
                if name_node is None or not name_node.text:
                    continue
                name = unquote(name_node.text) if name_node.get("Encoded") == "true" else name_node.text
                size = (blob.findtext("Properties/Content-Length") or "0").strip()
                yield BlobItem(name, int(size) if size.isdigit() else 0)
            marker = (page.findtext("NextMarker") or "").strip()
            if not marker:
                return

    def _get_listing(self, url: str) -> ET.Element:
        buffer = io.BytesIO()
        with self._client.stream(url, seconds=self._seconds(), headers={"x-ms-version": API_VERSION}) as r:
            if r.status_code != 200:
                raise ListingError(f"answered HTTP {r.status_code} to the listing.", r.status_code)
            try:
                self._client.read_into(r, buffer, max_bytes=MAX_LISTING_PAGE_BYTES)
            except TooLarge:
                raise OutboundError(f"sent a listing page over {MAX_LISTING_PAGE_BYTES} bytes.") from None
        try:
            # Expat (>= 2.4) refuses entity-expansion bombs, and ElementTree never fetches external entities.
            return ET.fromstring(buffer.getvalue())
        except ET.ParseError:
            raise OutboundError("sent a listing that is not Blob service XML.") from None

    def download(self, name: str, sink: IO[bytes], *, max_bytes: int) -> int:
        """Write blob ``name`` into ``sink``; raises TooLarge as soon as more than ``max_bytes`` have arrived."""
        url = self._url(f"{self._parts.path}/{quote(name, safe='/')}", {})
        with self._client.stream(url, seconds=self._seconds(), headers={"x-ms-version": API_VERSION}) as r:
            if r.status_code != 200:
                raise OutboundError(f"answered HTTP {r.status_code} for the blob '{name}'.", r.status_code)
            return self._client.read_into(r, sink, max_bytes=max_bytes)

    def _blob_url(self, name: str) -> str:
        return self._url(f"{self._parts.path}/{quote(name, safe='/')}", {})

    def metadata(self, name: str) -> dict[str, str] | None:
        """Blob ``name``'s metadata (Get Blob Properties, ``x-ms-meta-*``), or None when there is no such blob;
        other answers than 200/404 raise OutboundError."""
        r = self._client.request(
            "HEAD", self._blob_url(name), seconds=self._seconds(), headers={"x-ms-version": API_VERSION}
        )
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise OutboundError(f"answered HTTP {r.status_code} for the blob '{name}'.", r.status_code)
        return {k[len(META) :]: v for k, v in r.headers.items() if k.lower().startswith(META)}

    def exists(self, name: str) -> bool:
        """Whether blob ``name`` exists."""
        return self.metadata(name) is not None

    def upload(
        self, name: str, data: bytes, content_type: str = "application/json", metadata: dict[str, str] | None = None
    ) -> None:
        """Write blob ``name`` whole (Put Blob, a block blob) with ``metadata`` (ASCII names and values), replacing
        any blob of that name."""
        headers = {"x-ms-version": API_VERSION, "x-ms-blob-type": "BlockBlob", "Content-Type": content_type}
        headers.update({f"{META}{k}": v for k, v in (metadata or {}).items()})
        r = self._client.request("PUT", self._blob_url(name), seconds=self._seconds(), headers=headers, content=data)
        if r.status_code != 201:
            raise OutboundError(f"answered HTTP {r.status_code} to writing the blob '{name}'.", r.status_code)
