"""One typed Settings object, read from ``PERCEPT_*`` environment variables (and an optional ``.env`` file)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Limits(BaseSettings):
    """What a submitted document may be; each breach is a typed error mapped to Azure's codes."""

    model_config = SettingsConfigDict(env_prefix="PERCEPT_", env_file=".env", extra="ignore")

    max_document_bytes: int = Field(500 * 1024 * 1024, description="Largest accepted document in bytes.")
    max_pages: int = Field(2000, description="Most pages one document may have.")
    min_image_side: int = Field(50, description="Smallest accepted image width or height in pixels.")
    max_image_side: int = Field(10000, description="Largest accepted image width or height in pixels.")
    max_image_pixels: int = Field(
        10000 * 10000, description="Largest decoded image area; more is treated as a decompression bomb."
    )


class ReadOptions(BaseSettings):
    """How the read pipeline works; every field can be overridden per call."""

    model_config = SettingsConfigDict(env_prefix="PERCEPT_", env_file=".env", extra="ignore")

    ocr_engine: str = Field(
        "auto",
        description="OCR engine: auto (Tesseract on clean print, PP-OCRv6 elsewhere; whichever is installed), "
        "tesseract or rapidocr (PP-OCRv6).",
    )
    ocr_languages: str = Field("eng", description="Tesseract language packs, '+'-joined (eng+deu).")
    language: str | None = Field(
        None,
        description="A caller's language hint (en, de-DE); the engine maps it to its own languages (Tesseract: "
        "the installed pack), else ocr_languages applies.",
    )
    handwriting: bool = Field(
        False, description="The text is handwritten (Computer Vision mode=Handwritten): read it with PP-OCRv6."
    )
    render_dpi: int = Field(300, description="Resolution at which PDF pages without a text layer are OCR'd.")
    workers: int = Field(
        0,
        description="Processes reading pages; 0 means one per core. A read that makes its own pool (the CLI, "
        "read_document without an executor) counts the calling process as one of them.",
    )
    detect_orientation: bool = Field(True, description="Correct pages scanned sideways or upside down.")
    deskew: bool = Field(True, description="Correct skew of a few degrees before OCR.")
    text_layer: bool = Field(True, description="Use a PDF's own text layer where it is good.")
    rescale: bool = Field(True, description="Resize pages so characters are ~22 px tall before OCR.")
    layout: bool = Field(False, description="Also find tables, selection marks and paragraph roles (layout).")
    detect_languages: bool = Field(True, description="Detect the content's languages per span (result languages).")

    def worker_count(self) -> int:
        return self.workers if self.workers > 0 else max(1, os.cpu_count() or 1)


@lru_cache(maxsize=1)
def default_limits() -> Limits:
    return Limits()


def _default_data_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "percept")


class ServerSettings(BaseSettings):
    """The server's configuration; every field is a ``PERCEPT_*`` environment variable."""

    model_config = SettingsConfigDict(env_prefix="PERCEPT_", env_file=".env", extra="ignore")

    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(5000, description="Port to listen on.")
    data_dir: str = Field(default_factory=_default_data_dir, description="State (SQLite) and documents.")
    api_keys: str = Field("", description="Comma-separated accepted keys; empty: one is generated and stored.")
    result_ttl_hours: float = Field(24.0, description="How long finished results are kept.")
    retry_after: int = Field(1, description="Seconds a client is told to wait between polls.")
    poll_wait: float = Field(2.0, description="Seconds a poll of a pending operation waits for it to finish.")
    url_allow: str = Field(
        "",
        description="Comma-separated host, host:port, IP, [IPv6]:port or CIDR entries that URL sources may reach "
        "despite the SSRF rules (a host without a port: all its ports).",
    )
    storage_allow: str = Field(
        "",
        description="The same for training sources (blob containers), e.g. an on-premises store or Azurite; "
        "empty: only public addresses.",
    )
    training_root: str = Field(
        "", description="Folder local training sources (file:// URLs or paths) may come from; empty: none may."
    )
    url_timeout: float = Field(30.0, description="Seconds to fetch a URL source.")
    max_redirects: int = Field(5, description="Redirects followed when fetching a URL source.")
    executor: Literal["local", "ray"] = Field(
        "local", description="Where page work runs: local worker processes, or Ray (the ray extra)."
    )
    ray_address: str = Field(
        "",
        description="With executor=ray: empty starts a private loopback-only Ray instance with the server; auto, "
        "host:port or ray://host:port joins that cluster (its nodes need Percept installed).",
    )
    database_url: str = Field(
        "",
        description="Where operations and models are kept: empty for SQLite in the data directory (one server), "
        "or postgresql://user:password@host/db, which several servers sharing one data directory can use.",
    )
    lease_seconds: float = Field(
        30.0, gt=0, description="How long a server's claim on an operation lasts unless renewed (a third of it)."
    )
    claim_interval: float = Field(
        1.0, gt=0, description="Seconds between looks for operations no live server is running."
    )

    def keys(self) -> list[str]:
        return [k.strip() for k in self.api_keys.split(",") if k.strip()]
