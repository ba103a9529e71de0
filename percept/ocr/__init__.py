"""OCR engines behind one small interface; importing this package registers the built-in ones."""

from .base import OcrEngine, OcrResult, available_engines, get_engine, register


def _tesseract() -> OcrEngine:
    from .tesseract import TesseractEngine

    return TesseractEngine()


def _rapidocr() -> OcrEngine:
    from .rapid import RapidOcrEngine

    return RapidOcrEngine()


register("tesseract", _tesseract)
register("rapidocr", _rapidocr)

__all__ = ["OcrEngine", "OcrResult", "available_engines", "get_engine", "register"]
