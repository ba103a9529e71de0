"""Which quarter turn makes a page upright, judged without reading the page in every turn.

Before reading, the directions in which characters have their nearest neighbours say whether the lines run
across or up and down the page (``geometry.runs_vertically``, ~0.03 s). A page whose lines run vertically is
turned the way a sample says: Tesseract reads its densest window of characters turned 90 and 270 degrees in one
run (~0.25 s on a 300 dpi page, against ~2.4 s for a reading), and the turn with the sure words wins. Measured on
60 pages turned both ways (scans, receipts, forms, photos): 36 right, 24 without a verdict, none wrong.

Where that gives no verdict, and after a reading, two more judges:
- PP-OCR's text-direction classifier (0 or 180 degrees, ~2 ms a crop; in the ``rapidocr`` wheel) on pieces of
  text lines: found by PP-OCR's detector on a reduced copy before reading, or the lines a first reading found.
  Turned a candidate way, it says whether their text then stands upright. A doubtful upright reading is checked
  the same way for being upside down.
- Tesseract's orientation detection (``--psm 0``, a fifth of a reading), the fallback where the classifier is not
  installed or not sure. On our pages it confused 90 and 270 at confidence 3-4, so its answer alone is taken only
  from :data:`OSD_CONFIDENT`.

Each returns the turns to read next (the clockwise quarter turn ``geometry.quarter_turn`` undoes).
"""

from __future__ import annotations

from functools import cache
from typing import Protocol, cast, runtime_checkable

import cv2
import numpy as np

from . import engines, geometry
from .errors import EngineUnavailable
from .model import Line
from .ocr import OCR, OcrEngine
from .ocr.tesseract import osd_rotation

# Tesseract's orientation confidence from which its answer is taken alone (sideways samples: 9-20).
OSD_CONFIDENT = 6.0
# Mean signed classifier confidence (+: upright, -: upside down) that counts as a verdict.
VERDICT = 0.2
SAMPLE_LINES = 12
DETECT_SIDE = 1280  # the line detector's copy: 10 pt print at 300 dpi is still ~10 px tall
PIECE_RATIO = 5  # pieces of a line at most this many heights wide: the classifier sees 48x192 px
# The window of a sideways page Tesseract reads both ways, in character sizes along and across its lines, and
# what makes a winner: summed confidence of sure words of 3+ letters or digits (upside down, "ship"
# reads "drys" at 0.89, yet few such words do), this many times the other turn's and at least this much.
SAMPLE_ALONG, SAMPLE_ACROSS = 30.0, 8.0  # ~4 lines of ~40 characters: larger cost more, smaller said less
SAMPLE_SURE = 0.8
SAMPLE_MARGIN = 2.0
SAMPLE_MIN_SCORE = 3.0


def likely_turn(gray: np.ndarray) -> int:
    """The turn to read first: upright unless the ink's lines clearly run up or down the page; then the turn
    judged from a sample read both ways (:func:`sampled_turn`), else from text lines found on a reduced copy and
    the direction classifier, or OSD where it is sure.

    Where the characters do not say, upright is read first and the reading's own lines decide
    (:func:`sideways_turns`): judging every such page beforehand cost upright scans a quarter more time (the
    detector, and PP-OCR loaded in every worker), and OSD on each page a fifth more."""
    if not geometry.runs_vertically(gray):
        return 0
    judged = sampled_turn(gray)
    if judged is None:
        judged = detected_turn(gray)
    if judged is not None:
        return judged
    found = osd_rotation(gray)
    return found[0] if found is not None and found[1] >= OSD_CONFIDENT else 0


def sampled_turn(gray: np.ndarray) -> int | None:
    """For a page whose lines run vertically: 90 or 270, from Tesseract reading its densest window of characters
    turned both ways in one run (the two turns stacked), a few percent of a page's reading; None without
    Tesseract or a clear winner (handwriting, photos, scripts Tesseract's English model does not know)."""
    reader = _sample_reader()
    if reader is None:
        return None
    window = geometry.text_window(gray, SAMPLE_ALONG, SAMPLE_ACROSS, vertical=True)
    views = [geometry.quarter_turn(window, turn).image for turn in (90, 270)]
    width = max(v.shape[1] for v in views)
    gap = np.full((max(8, views[0].shape[0] // 4), width), 255, np.uint8)
    padded = [cv2.copyMakeBorder(v, 0, 0, 0, width - v.shape[1], cv2.BORDER_CONSTANT, value=255) for v in views]
    split = views[0].shape[0] + gap.shape[0] / 2
    reading = reader.recognize(np.vstack([padded[0], gap, padded[1]]), languages="eng")
    scores = [0.0, 0.0]
    for line in reading.lines:
        for word in line.words:
            if word.confidence >= SAMPLE_SURE and sum(ch.isalnum() for ch in word.content) >= 3:
                scores[max(word.polygon[1::2]) > split] += word.confidence
    best = int(scores[1] > scores[0])
    if scores[best] < SAMPLE_MIN_SCORE or scores[best] < SAMPLE_MARGIN * scores[1 - best]:
        return None
    return (90, 270)[best]


def detected_turn(gray: np.ndarray) -> int | None:
    """The turn judged from PP-OCR's line detector on a copy at most :data:`DETECT_SIDE` px (its lines' shape
    says sideways or not) and the classifier on the lines at full size; None without them or a verdict."""
    classifier = _classifier()
    if classifier is None:
        return None
    k = min(1.0, DETECT_SIDE / max(gray.shape[:2]))
    small = cv2.resize(gray, None, fx=k, fy=k, interpolation=cv2.INTER_AREA) if k < 1.0 else gray
    lines = [Line("...", tuple(v / k for v in quad), []) for quad in classifier.detect_lines(small)]
    boxes = [(max(p[0::2]) - min(p[0::2]), max(p[1::2]) - min(p[1::2])) for p in (ln.polygon for ln in lines)]
    tall = sum(h > 2 * w for w, h in boxes)
    wide = sum(w > 2 * h for w, h in boxes)
    if tall + wide < 3:
        return None
    sideways = tall > wide
    turn = 90 if sideways else 0
    verdict = upright_verdict(gray, [ln for ln, (w, h) in zip(lines, boxes, strict=True) if (h > w) == sideways], turn)
    if verdict is None:
        return None
    return turn if verdict else turn + 180


def sideways_turns(gray: np.ndarray, rotation: int, lines: list[Line]) -> list[int]:
    """After a reading at ``rotation`` whose lines (in ``gray``'s frame) ran vertically: the quarter turn that
    stands them upright, else both."""
    verdict = upright_verdict(gray, lines, rotation + 90)
    if verdict is not None:
        return [rotation + 90] if verdict else [rotation + 270]
    found = osd_rotation(geometry.quarter_turn(gray, rotation).image)
    if found is not None and found[1] >= OSD_CONFIDENT and found[0] in (90, 270):
        return [rotation + found[0]]
    return [rotation + 90, rotation + 270]


def second_turn(gray: np.ndarray, rotation: int, lines: list[Line]) -> list[int]:
    """After a doubtful horizontal reading: 180 further round if its lines stand on their heads, nothing if they
    stand upright (a photo or handwriting reads doubtfully upright too); without a verdict, Tesseract's
    orientation detection if sure, and 180 where neither judge is installed."""
    verdict = upright_verdict(gray, lines, rotation)
    if verdict is not None:
        return [] if verdict else [rotation + 180]
    found = osd_rotation(geometry.quarter_turn(gray, rotation).image)
    if found is None:
        return [rotation + 180] if _classifier() is None else []
    return [rotation + found[0]] if found[1] >= OSD_CONFIDENT and found[0] != 0 else []


def upright_verdict(gray: np.ndarray, lines: list[Line], rotation: int) -> bool | None:
    """Whether ``lines`` (polygons in ``gray``'s frame) read upright once turned by ``rotation``: True, False,
    or None without the classifier or a clear majority."""
    classifier = _classifier()
    if classifier is None:
        return None
    crops = _pieces(gray, lines, rotation)
    if not crops:
        return None
    votes = classifier.upright_scores(crops)
    mean = sum(votes) / len(votes)
    return mean > 0 if abs(mean) >= VERDICT else None


def _pieces(gray: np.ndarray, lines: list[Line], rotation: int) -> list[np.ndarray]:
    """Crops of the longest lines, turned by ``rotation`` and cut into pieces the classifier sees undistorted."""

    def extent(line: Line) -> float:
        p = line.polygon
        return max(max(p[0::2]) - min(p[0::2]), max(p[1::2]) - min(p[1::2]))

    height, width = gray.shape[:2]
    crops: list[np.ndarray] = []
    for line in sorted((ln for ln in lines if len(ln.content) >= 3), key=extent, reverse=True)[:SAMPLE_LINES]:
        p = line.polygon
        x0, y0 = max(0, int(min(p[0::2])) - 3), max(0, int(min(p[1::2])) - 3)
        x1, y1 = min(width, int(max(p[0::2])) + 3), min(height, int(max(p[1::2])) + 3)
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        crop = geometry.quarter_turn(gray[y0:y1, x0:x1], rotation).image
        h, w = crop.shape[:2]
        step = PIECE_RATIO * h
        crops += [crop[:, x : x + step] for x in range(0, w, step) if w - x >= h][:3]
    return crops


def can_classify() -> bool:
    """Whether the text-direction classifier is installed (the ``rapidocr`` extra)."""
    return _classifier() is not None


@runtime_checkable
class UprightClassifier(Protocol):
    """What :func:`upright_verdict` needs of an engine (``RapidOcrEngine``)."""

    def upright_scores(self, crops: list[np.ndarray]) -> list[float]:
        """Per crop: +confidence that its text stands upright, -confidence that it stands on its head."""
        ...

    def detect_lines(self, image: np.ndarray) -> list[tuple[float, ...]]:
        """Text-line quadrilaterals in ``image``'s pixels."""
        ...


@cache
def _sample_reader() -> OcrEngine | None:
    try:
        return cast(OcrEngine, engines.get(OCR, "tesseract"))
    except EngineUnavailable:
        return None


@cache
def _classifier() -> UprightClassifier | None:
    try:
        engine = engines.get(OCR, "rapidocr")
    except EngineUnavailable:
        return None
    return engine if isinstance(engine, UprightClassifier) else None
