"""Accuracy metrics for OCR output: character error rate and word F1, used by the tests and benchmarks."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter


def normalize(text: str) -> str:
    """Compare text as read, not as typeset: NFKC, typographic quotes and dashes folded, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text)
    fold: dict[str, str | int | None] = {"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "—": "-", "–": "-"}
    text = text.translate(str.maketrans(fold))
    return re.sub(r"\s+", " ", text).strip()


def levenshtein(a: str, b: str) -> int:
    """Edit distance; rapidfuzz's C++ implementation when installed (whole pages), else plain Python."""
    try:
        from rapidfuzz.distance import Levenshtein
    except ImportError:
        return _levenshtein(a, b)
    return int(Levenshtein.distance(a, b))


def _levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def cer(predicted: str, truth: str) -> float:
    """Edits needed to turn the prediction into the truth, per character of truth (after normalization)."""
    p, t = normalize(predicted), normalize(truth)
    if not t:
        return 0.0 if not p else 1.0
    return levenshtein(p, t) / len(t)


def word_f1(predicted: list[str] | str, truth: list[str] | str) -> tuple[float, float, float]:
    """Precision, recall and F1 of words as a multiset (order-free; exact match after normalization)."""
    pw = normalize(" ".join(predicted) if isinstance(predicted, list) else predicted).split()
    tw = normalize(" ".join(truth) if isinstance(truth, list) else truth).split()
    common = sum((Counter(pw) & Counter(tw)).values())
    precision = common / len(pw) if pw else 0.0
    recall = common / len(tw) if tw else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
