"""OCR engines behind one small interface; importing this package registers the built-in ones as engines of kind
``"ocr"`` in ``percept.engines`` (options: ``percept.ocr.options``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from .. import engines
from ..engines import EngineSpec
from .base import OCR, OcrEngine, OcrResult, available_engines, engine_languages, get_engine, register
from .options import AutoOptions, RapidOcrOptions, TesseractOptions

if TYPE_CHECKING:
    from .auto import AutoEngine
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


def _auto_languages(hint: str, _options: AutoOptions) -> str | None:
    """Tesseract's packs for the hint; PP-OCR reads them as Latin or not (``rapid.is_latin``)."""
    return _tesseract_languages(hint, cast(TesseractOptions, engines.load_options(OCR, "tesseract")))


def _auto(options: AutoOptions) -> AutoEngine:
    from .auto import AutoEngine

    return AutoEngine(options)


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
        description="PP-OCRv6 through RapidOCR 3.x (ONNX Runtime); its models ship inside the wheel.",
    )
)
AUTO = engines.register(
    EngineSpec(
        OCR,
        "auto",
        _auto,
        AutoOptions,
        needs="tesseract-ocr and/or pip install 'percept[rapidocr]'",
        languages=_auto_languages,
        description="Tesseract on clean print (unsure lines re-read by PP-OCRv6), PP-OCRv6 on photos, receipts, "
        "low-resolution scans and handwriting.",
    )
)

__all__ = [
    "AUTO",
    "OCR",
    "RAPIDOCR",
    "TESSERACT",
    "AutoOptions",
    "OcrEngine",
    "OcrResult",
    "RapidOcrOptions",
    "TesseractOptions",
    "available_engines",
    "engine_languages",
    "get_engine",
    "register",
]
