"""Which quarter turn makes a page upright, judged without reading the page in every turn.

Two judges, both far cheaper than a reading:
- PP-OCR's text-direction classifier (0 or 180 degrees, ~2 ms a crop; in the ``rapidocr`` wheel) on pieces of the
  lines the first reading found. A sideways page's first reading has lines running up or down the page; turned
  a candidate way, the classifier says whether their text then stands upright. A doubtful upright reading is
  checked the same way for being upside down.
- Tesseract's orientation detection (``--psm 0``, a fifth of a reading), where the ink's projection profiles say
  the page is sideways before anything is read, and as the fallback where the classifier is not installed or
  not sure. On our pages it confused 90 and 270 at confidence 3-4, so its answer alone is taken only from
  :data:`OSD_CONFIDENT`.

Each returns the turns to read next (the clockwise quarter turn ``geometry.quarter_turn`` undoes).
"""

from __future__ import annotations

from functools import cache
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from . import engines, geometry
from .errors import EngineUnavailable
from .model import Line
from .ocr import OCR
from .ocr.tesseract import osd_rotation

# Tesseract's orientation confidence from which its answer is taken alone (sideways samples: 9-20).
OSD_CONFIDENT = 6.0
# Mean signed classifier confidence (+: upright, -: upside down) that counts as a verdict.
VERDICT = 0.2
SAMPLE_LINES = 12
DETECT_SIDE = 1280  # the line detector's copy: 10 pt print at 300 dpi is still ~10 px tall
PIECE_RATIO = 5  # pieces of a line at most this many heights wide: the classifier sees 48x192 px


def likely_turn(gray: np.ndarray) -> int:
    """The turn to read first: upright unless the ink's lines clearly run up or down the page; then the turn
    judged from text lines found on a reduced copy and the direction classifier, or OSD where it is sure.

    Where the profiles do not say, upright is read first and the reading's own lines decide
    (:func:`sideways_turns`): judging every such page beforehand cost upright scans a quarter more time (the
    detector, and PP-OCR loaded in every worker), and OSD on each page a fifth more."""
    if not geometry.runs_vertically(gray):
        return 0
    judged = detected_turn(gray)
    if judged is not None:
        return judged
    found = osd_rotation(gray)
    return found[0] if found is not None and found[1] >= OSD_CONFIDENT else 0


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
def _classifier() -> UprightClassifier | None:
    try:
        engine = engines.get(OCR, "rapidocr")
    except EngineUnavailable:
        return None
    return engine if isinstance(engine, UprightClassifier) else None
