"""One typed Settings object, read from ``PERCEPT_*`` environment variables (and an optional ``.env`` file)."""

from __future__ import annotations

import os
from functools import lru_cache

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

    ocr_engine: str = Field("tesseract", description="OCR engine: tesseract or rapidocr.")
    ocr_languages: str = Field("eng", description="Tesseract language packs, '+'-joined (eng+deu).")
    render_dpi: int = Field(300, description="Resolution at which PDF pages without a text layer are OCR'd.")
    workers: int = Field(0, description="Worker processes for page work; 0 means one per core.")
    detect_orientation: bool = Field(True, description="Correct pages scanned sideways or upside down.")
    deskew: bool = Field(True, description="Correct skew of a few degrees before OCR.")
    text_layer: bool = Field(True, description="Use a PDF's own text layer where it is good.")

    def worker_count(self) -> int:
        return self.workers if self.workers > 0 else max(1, os.cpu_count() or 1)


@lru_cache(maxsize=1)
def default_limits() -> Limits:
    return Limits()
