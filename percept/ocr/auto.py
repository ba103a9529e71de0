"""The automatic reader: Tesseract where it is sure, PP-OCRv6 (``rapidocr``) everywhere else.

Measured on our samples (docs/benchmarks.md): Tesseract reads clean bilevel print at scan resolution as well as
PP-OCR in about half the time, and nothing else as well: on photos it finds nothing (Lincoln.jpg: 0 lines), on
receipts, low-resolution forms and handwriting it trails PP-OCR by a wide margin. So a page goes to Tesseract
only when it looks like clean print (:func:`is_clean_print`);
then the lines Tesseract was unsure of (often table cells with a ruling's remnant beside them) are read again by
PP-OCR's recogniser alone, on their own crops, and the surer reading of each line is kept. A page Tesseract reads
poorly overall is read again by PP-OCR whole. Every other page, and handwriting, goes to PP-OCR directly.
"""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from typing import cast

import numpy as np

from .. import engines, geometry
from ..errors import EngineUnavailable
from ..model import Line, Word, bounding_polygon
from .base import OCR, OcrEngine, OcrResult
from .options import AutoOptions
from .rapid import RapidOcrEngine, crop_reader

# Clean print, as measured on our samples: paper without texture (under this share of light-grey pixels: renders
# and bilevel scans 0-0.02, tax form scans 0.04-0.09, receipts 0.08-0.9, photos 0.1-0.6), ink mostly solid (under
# this share of the ink's pixels in mid-tones: renders 0.29-0.44, deskewed a little more; photos on white 0.86-0.92)
# and characters at least this tall (FUNSD's 100 dpi forms: 8 px).
MAX_LIGHT = 0.03
MAX_MIDTONE_INK = 0.6
MIN_CHAR_HEIGHT = 14.0
SHORT_LINE_EXTRA = 0.1


def tones(gray: np.ndarray) -> tuple[float, float, float]:
    """Shares of light-grey (190-249), mid-tone (61-189) and dark (<= 60) pixels, on a quarter-million sample."""
    step = max(1, int(np.sqrt(gray.size / 250_000)))
    sample = gray[::step, ::step]
    n = max(sample.size, 1)
    dark = np.count_nonzero(sample <= 60) / n
    mid = np.count_nonzero(sample < 190) / n - dark
    light = np.count_nonzero(sample < 250) / n - dark - mid
    return float(light), float(mid), float(dark)


def is_clean_print(gray: np.ndarray) -> bool:
    """Clean paper, sharp ink and text large enough for Tesseract: a good scan or a render, not a photo."""
    light, mid, dark = tones(gray)
    if light >= MAX_LIGHT or mid >= MAX_MIDTONE_INK * max(mid + dark, 1e-9):
        return False
    return geometry.char_height(gray) >= MIN_CHAR_HEIGHT


class AutoEngine:
    name = "auto"
    rescales = False  # PP-OCR sizes lines itself; the Tesseract path rescales its own pages (``_tesseract``)

    def __init__(self, options: AutoOptions | None = None) -> None:
        if options is None:
            options = cast(AutoOptions, engines.load_options(OCR, "auto"))
        self.options = options
        self.tesseract: OcrEngine | None = _optional("tesseract")
        # PP-OCR is built on first use: importing RapidOCR and loading its models costs a worker ~1-2 s, which a
        # document of clean, upright, confidently read pages never needs.
        self._rapid: RapidOcrEngine | None = None
        self.has_rapid = importlib.util.find_spec("rapidocr") is not None
        if self.tesseract is None and not self.has_rapid:
            raise EngineUnavailable("No OCR engine is installed: apt-get install tesseract-ocr, or percept[rapidocr].")

    @property
    def rapid(self) -> RapidOcrEngine | None:
        if self._rapid is None and self.has_rapid:
            rapid = _optional("rapidocr")
            self._rapid = rapid if isinstance(rapid, RapidOcrEngine) else None
            self.has_rapid = self._rapid is not None
        return self._rapid

    def choose(self, gray: np.ndarray, *, handwriting: bool = False) -> str:
        """The engine a page goes to first: ``tesseract`` or ``rapidocr``."""
        if not self.has_rapid:
            return "tesseract"
        if self.tesseract is None or handwriting or not is_clean_print(gray):
            return "rapidocr"
        return "tesseract"

    def recognize(
        self, image: np.ndarray, *, languages: str = "eng", dpi: int | None = None, handwriting: bool = False
    ) -> OcrResult:
        if self.choose(image, handwriting=handwriting) == "rapidocr" and (rapid := self.rapid) is not None:
            return replace(rapid.recognize(image, languages=languages, dpi=dpi), engine="rapidocr")
        first = replace(self._tesseract(image, languages, dpi), engine="tesseract")
        if not self.has_rapid:
            return first
        doubtful = first.word_count() == 0 or first.mean_confidence() < self.options.page_confidence
        if doubtful and (rapid := self.rapid) is not None:
            second = replace(rapid.recognize(image, languages=languages, dpi=dpi), engine="rapidocr")
            return second if second.score() > first.score() else first
        return self.reread_unsure(first, image, languages)

    def _tesseract(self, image: np.ndarray, languages: str, dpi: int | None) -> OcrResult:
        """Tesseract on the page with its text brought to the size Tesseract reads best, boxes mapped back."""
        assert self.tesseract is not None
        scale = geometry.ocr_scale(image)
        if scale == 1.0:
            return self.tesseract.recognize(image, languages=languages, dpi=dpi)
        view = geometry.straighten(image, 0, 0.0, scale)
        result = self.tesseract.recognize(view.image, languages=languages, dpi=round(dpi * scale) if dpi else None)
        return replace(result, lines=[geometry.line_to_original(line, view) for line in result.lines])

    def _threshold(self, line: Line) -> float:
        """A short line (a table cell's "75") is re-read from a little higher: Tesseract read such a cell "15"
        at 0.60, a whisker over ``line_confidence``."""
        short = len(line.content.replace(" ", "")) <= 3
        return self.options.line_confidence + (SHORT_LINE_EXTRA if short else 0.0)

    def reread_unsure(self, result: OcrResult, image: np.ndarray, languages: str) -> OcrResult:
        """Lines with a word Tesseract scored under ``line_confidence`` are read again from their crops by
        PP-OCR's recogniser; the reading with the higher mean confidence is kept."""
        unsure = [
            i
            for i, line in enumerate(result.lines)
            if line.words and min(w.confidence for w in line.words) < self._threshold(line)
        ]
        if not unsure:
            return result
        crops: list[np.ndarray] = []
        origins: list[tuple[int, float, float]] = []
        height, width = image.shape[:2]
        for i in unsure:
            poly = result.lines[i].polygon
            x0, y0, x1, y1 = min(poly[0::2]), min(poly[1::2]), max(poly[0::2]), max(poly[1::2])
            pad = max(2.0, 0.25 * (y1 - y0))
            cx0, cy0 = int(max(0, x0 - pad)), int(max(0, y0 - pad))
            cx1, cy1 = int(min(width, x1 + pad)), int(min(height, y1 + pad))
            crops.append(image[cy0:cy1, cx0:cx1])
            origins.append((cx0, y0, y1))
        try:  # the recogniser alone: rapidocr's whole pipeline costs ~0.6 s a worker to load (``line_reader``)
            readings = crop_reader().read_lines(crops, languages=languages)
        except EngineUnavailable:
            return result
        lines = list(result.lines)
        replaced = False
        for i, reading, (ox, top, bottom) in zip(unsure, readings, origins, strict=True):
            if reading is not None and _mean_confidence(reading) > _mean_confidence(lines[i]) + self.options.margin:
                lines[i] = _placed(reading, ox, top, bottom)
                replaced = True
        return replace(result, lines=lines, engine="tesseract+rapidocr" if replaced else result.engine)


def _optional(name: str) -> OcrEngine | None:
    try:
        return cast(OcrEngine, engines.get(OCR, name))
    except EngineUnavailable:
        return None


def _mean_confidence(line: Line) -> float:
    return sum(w.confidence for w in line.words) / len(line.words) if line.words else 0.0


def _placed(line: Line, dx: float, top: float, bottom: float) -> Line:
    """A line read from a crop, put back on the page: x from the recogniser's columns, y the replaced line's."""
    words = []
    for w in line.words:
        x0, x1 = min(w.polygon[0::2]) + dx, max(w.polygon[0::2]) + dx
        words.append(Word(w.content, (x0, top, x1, top, x1, bottom, x0, bottom), w.confidence))
    return Line(line.content, bounding_polygon([w.polygon for w in words]), words)
