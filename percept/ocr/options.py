"""The OCR engines' typed options; light to import, so registering the engines loads neither OpenCV nor a model.

Each option is the variable ``PERCEPT_OCR_<ENGINE>_<OPTION>`` (``percept.engines``); Tesseract's command and
thresholding also keep their first names, ``PERCEPT_TESSERACT_CMD`` and ``PERCEPT_TESSERACT_THRESHOLDING``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from ..engines import EngineOptions


class TesseractOptions(EngineOptions):
    """Tesseract 5 through its command-line program."""

    legacy_env: ClassVar[Mapping[str, str]] = {
        "command": "PERCEPT_TESSERACT_CMD",
        "thresholding": "PERCEPT_TESSERACT_THRESHOLDING",
    }

    command: str | None = Field(None, description="The Tesseract program; unset: `tesseract` on PATH.")
    psm: int = Field(3, ge=0, le=13, description="Tesseract page segmentation mode (3: automatic).")
    thresholding: Literal["otsu", "sauvola"] = Field(
        "otsu",
        description="Binarisation: otsu (Tesseract's default) or sauvola, which reads faint or unevenly lit "
        "photos better (SROIE receipts 9.4% -> 8.4% line CER) at ~4% more time per page.",
    )

    @field_validator("command", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return value or None

    @field_validator("thresholding", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return (value.strip().lower() or "otsu") if isinstance(value, str) else value


class RapidOcrOptions(EngineOptions):
    """RapidOCR (PP-OCRv4 ONNX)."""

    threads: int = Field(
        1, ge=1, description="ONNX Runtime threads per engine; the pipeline already runs one engine per core."
    )
