"""OCR engines behind one small interface; importing this package registers the built-in ones as engines of kind
``"ocr"`` in ``percept.engines`` (options: ``percept.ocr.options``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import engines
from ..engines import EngineSpec
from .base import OCR, OcrEngine, OcrResult, available_engines, engine_languages, get_engine, register
from .options import RapidOcrOptions, TesseractOptions

if TYPE_CHECKING:
    from .rapid import RapidOcrEngine
    from .tesseract import TesseractEngine


def _tesseract(options: TesseractOptions) -> TesseractEngine:
    from .tesseract import TesseractEngine

    return TesseractEngine(options)


def _tesseract_languages(hint: str, options: TesseractOptions) -> str | None:
    from .languages import tesseract_languages

    return tesseract_languages(hint, options.command)


def _rapidocr(options: RapidOcrOptions) -> RapidOcrEngine:
    from .rapid import RapidOcrEngine

    return RapidOcrEngine(options)


TESSERACT = engines.register(
    EngineSpec(
        OCR,
        "tesseract",
        _tesseract,
        TesseractOptions,
        needs="apt-get install tesseract-ocr (or set PERCEPT_TESSERACT_CMD)",
        languages=_tesseract_languages,
        description="Tesseract 5 (LSTM), one single-threaded run per page.",
    )
)
RAPIDOCR = engines.register(
    EngineSpec(
        OCR,
        "rapidocr",
        _rapidocr,
        RapidOcrOptions,
        needs="pip install 'percept[rapidocr]'",
        description="RapidOCR (PP-OCRv4 ONNX); its models ship inside the wheel.",
    )
)

__all__ = [
    "OCR",
    "RAPIDOCR",
    "TESSERACT",
    "OcrEngine",
    "OcrResult",
    "RapidOcrOptions",
    "TesseractOptions",
    "available_engines",
    "engine_languages",
    "get_engine",
    "register",
]
