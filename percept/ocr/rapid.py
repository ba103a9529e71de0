"""RapidOCR (PP-OCRv4 ONNX), whose models ship inside the ``rapidocr-onnxruntime`` wheel.

PP-OCR recognises whole lines and often runs English words together ("description8780.12total"). Its
per-character boxes are used to put the spaces back: a gap between two characters wider than a fraction of the
line height starts a new word, and each word's box is the union of its characters' boxes.
"""

from __future__ import annotations

from typing import cast

import numpy as np

from .. import engines
from ..errors import EngineUnavailable
from ..lines import join_fragments
from ..model import Line, Polygon, Word, bounding_polygon
from .base import OcrResult
from .options import RapidOcrOptions

# A gap wider than this share of the line height separates two words. CTC character boxes are coarse
# (gaps inside a word reach 0.4 line heights here), so only clearly wider gaps split run-together words.
WORD_GAP = 0.6


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, options: RapidOcrOptions | None = None) -> None:
        if options is None:  # the environment's (``percept.engines``)
            options = cast(RapidOcrOptions, engines.load_options("ocr", "rapidocr"))
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError:  # pragma: no cover - depends on the install
            raise EngineUnavailable("RapidOCR is not installed: pip install 'percept[rapidocr]'.") from None
        # One thread per engine by default: the pipeline runs one engine per core.
        self._ocr = RapidOCR(intra_op_num_threads=options.threads, inter_op_num_threads=options.threads)

    def recognize(self, image: np.ndarray, *, languages: str = "eng", dpi: int | None = None) -> OcrResult:
        bgr = np.ascontiguousarray(np.repeat(image[:, :, None], 3, axis=2))
        # The pipeline straightens pages itself; PP-OCR's per-line 0/180 classifier was seen flipping upright
        # lines of clean print into garbage, so it stays off.
        result, _ = self._ocr(bgr, use_cls=False, return_word_box=True)
        lines: list[Line] = []
        for item in result or []:
            box, text, score = item[0], item[1], float(item[2])
            char_boxes = item[3] if len(item) > 3 else None
            words = split_words(text, score, box, char_boxes)
            if words:
                lines.append(
                    Line(
                        " ".join(w.content for w in words),
                        bounding_polygon([w.polygon for w in words]),
                        words,
                    )
                )
        return OcrResult(join_fragments(lines))


def _quad(points: list[list[float]]) -> Polygon:
    return tuple(float(v) for p in points[:4] for v in p)  # type: ignore[return-value]


def split_words(
    text: str, score: float, line_box: list[list[float]], char_boxes: list[list[list[float]]] | None
) -> list[Word]:
    """Words of one recognised line, with spaces repaired from character geometry when it is available."""
    if not char_boxes or len(char_boxes) != len(text):
        return _split_proportionally(text, score, line_box)
    height = max(b[2][1] for b in char_boxes) - min(b[0][1] for b in char_boxes)
    words: list[Word] = []
    current: list[int] = []

    def flush() -> None:
        if current:
            content = "".join(text[i] for i in current)
            words.append(Word(content, bounding_polygon([_quad(char_boxes[i]) for i in current]), score))
            current.clear()

    for i, ch in enumerate(text):
        if ch.isspace():
            flush()
            continue
        if current:
            gap = char_boxes[i][0][0] - char_boxes[current[-1]][1][0]
            if gap > WORD_GAP * height:
                flush()
        current.append(i)
    flush()
    return words


def _split_proportionally(text: str, score: float, line_box: list[list[float]]) -> list[Word]:
    """Fallback: share the line box among its words by character count."""
    quad = _quad(line_box)
    x0, y0, x1, y1 = min(quad[0::2]), min(quad[1::2]), max(quad[0::2]), max(quad[1::2])
    n = max(len(text), 1)
    words = []
    pos = 0
    for token in text.split(" "):
        if token:
            a = x0 + (x1 - x0) * pos / n
            b = x0 + (x1 - x0) * (pos + len(token)) / n
            words.append(Word(token, (a, y0, b, y0, b, y1, a, y1), score))
        pos += len(token) + 1
    return words
