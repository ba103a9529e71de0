"""Aligning a page to a labelled template by the printed words they share: the one piece both training (every
form into the reference frame) and analysis (the template onto a new page) stand on. An affine fit over words of
the same text, seeded by the words printed once, so the filled-in values that differ from form to form do not
pull it off.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..model import Page, Word
from .labels import Box

ANCHOR_TOLERANCE = 0.012  # page fraction: how far a word may sit from where the template has it
SEARCH_RADIUS = 0.25  # how far a whole page may be shifted and still be aligned

_PUNCT = re.compile(r"^[^\w$%#&@]+|[^\w$%#&@]+$")

IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


@dataclass(slots=True)
class PageWords:
    """A page's words in 0-1 page units, with their text normalised for matching."""

    page: Page
    words: list[Word]
    texts: list[str]
    centers: np.ndarray  # (n, 2)
    boxes: np.ndarray  # (n, 4)
    order: list[tuple[int, int]]  # (line, word) of each word, for reading order
    height: float  # median word height: the slack around a field's box

    @classmethod
    def of(cls, page: Page) -> PageWords:
        words, order, boxes = [], [], []
        w_, h_ = page.width or 1.0, page.height or 1.0
        for li, line in enumerate(page.lines):
            for wi, w in enumerate(line.words):
                xs, ys = w.polygon[0::2], w.polygon[1::2]
                words.append(w)
                order.append((li, wi))
                boxes.append((min(xs) / w_, min(ys) / h_, max(xs) / w_, max(ys) / h_))
        arr = np.array(boxes, dtype=float).reshape(-1, 4)
        centers = np.stack([(arr[:, 0] + arr[:, 2]) / 2, (arr[:, 1] + arr[:, 3]) / 2], axis=1)
        height = float(np.median(arr[:, 3] - arr[:, 1])) if len(arr) else 0.01
        return cls(page, words, [word_key(w.content) for w in words], centers, arr, order, height)


def word_key(text: str) -> str:
    """Words match on their letters; a word of punctuation only (a comb field's printed dash) on itself."""
    return _PUNCT.sub("", text).casefold() or text.strip()


def apply_affine(a: np.ndarray, pts: np.ndarray) -> np.ndarray:
    mapped: np.ndarray = pts @ a[:, :2].T + a[:, 2]
    return mapped


def invert_affine(a: np.ndarray) -> np.ndarray:
    m = np.vstack([a, [0.0, 0.0, 1.0]])
    return np.linalg.inv(m)[:2]


def fit_affine(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares affine map src -> dst (translation only with few points)."""
    if len(src) < 6:
        t = np.median(dst - src, axis=0) if len(src) else np.zeros(2)
        return np.array([[1.0, 0.0, t[0]], [0.0, 1.0, t[1]]])
    design = np.hstack([src, np.ones((len(src), 1))])
    sol: np.ndarray = np.linalg.lstsq(design, dst, rcond=None)[0]
    return sol.T


def map_box(a: np.ndarray, box: Box) -> Box:
    corners = np.array([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]])
    m = apply_affine(a, corners)
    return float(m[:, 0].min()), float(m[:, 1].min()), float(m[:, 0].max()), float(m[:, 1].max())


def inside(cx: float, cy: float, box: Box, margin: float = 0.0) -> bool:
    return box[0] - margin <= cx <= box[2] + margin and box[1] - margin <= cy <= box[3] + margin


@dataclass(slots=True)
class Alignment:
    transform: np.ndarray  # template -> page
    pairs: dict[int, int]  # template anchor index -> page word index
    ratio: float  # share of anchors found


def align(texts: list[str], points: np.ndarray, page: PageWords) -> Alignment:
    """Map template anchors (text, 0-1 position) onto a page's words of the same text."""
    by_text: dict[str, list[int]] = {}
    for i, t in enumerate(page.texts):
        if t:
            by_text.setdefault(t, []).append(i)
    counts = Counter(texts)
    # Words printed once on both sides pair without ambiguity: they give the coarse shift.
    unique = [(a, by_text[t][0]) for a, t in enumerate(texts) if counts[t] == 1 and len(by_text.get(t, ())) == 1]
    unique = [(a, w) for a, w in unique if len(texts[a]) > 1]
    shifts = np.array([page.centers[w] - points[a] for a, w in unique]).reshape(-1, 2)
    shifts = shifts[np.hypot(shifts[:, 0], shifts[:, 1]) < SEARCH_RADIUS]
    transform = IDENTITY.copy()
    if len(shifts):
        transform[:, 2] = np.median(shifts, axis=0)
    pairs: dict[int, int] = {}
    for tol in (4 * ANCHOR_TOLERANCE, 2 * ANCHOR_TOLERANCE, ANCHOR_TOLERANCE):
        predicted = apply_affine(transform, points) if len(points) else points
        pairs = {}
        taken: set[int] = set()
        for a, t in enumerate(texts):
            best, best_d = -1, tol
            for w in by_text.get(t, ()):
                d = math.hypot(*(page.centers[w] - predicted[a]))
                if d < best_d and w not in taken:
                    best, best_d = w, d
            if best >= 0:
                pairs[a] = best
                taken.add(best)
        if len(pairs) >= 3:
            src = points[list(pairs)]
            dst = page.centers[list(pairs.values())]
            transform = fit_affine(src, dst)
    ratio = len(pairs) / len(texts) if texts else 0.0
    return Alignment(transform, pairs, ratio)
