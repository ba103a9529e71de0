"""Corrections of readings that no engine can tell apart by shape, decided by the words around them.

In most sans-serif faces a lower-case ``l`` and a capital ``I`` are one glyph, so "12 lb" comes back "12 Ib" from
Tesseract and PP-OCR alike (PP-OCR at confidence 1.0). After a number, ``Ib``/``Ibs`` is the pound.
"""

from __future__ import annotations

import re

from ..model import Line, Word

_NUMBER = re.compile(r"^[+-]?[\d.,]*\d$")
_UNITS = {"Ib": "lb", "Ibs": "lbs", "Ib.": "lb.", "Ibs.": "lbs.", "IB": "LB", "IBS": "LBS"}


def fix_units(lines: list[Line]) -> list[Line]:
    """Lines with a unit read as its look-alike after a number put right (the boxes and confidences kept)."""
    out = []
    for line in lines:
        words = line.words
        fixed: list[Word] | None = None
        for i, word in enumerate(words):
            unit = _UNITS.get(word.content)
            glued = None if unit else _glued(word.content)
            if unit and i > 0 and _NUMBER.match(words[i - 1].content):
                fixed = fixed or list(words)
                fixed[i] = Word(unit, word.polygon, word.confidence)
            elif glued:
                fixed = fixed or list(words)
                fixed[i] = Word(glued, word.polygon, word.confidence)
        out.append(line if fixed is None else Line(" ".join(w.content for w in fixed), line.polygon, fixed))
    return out


def _glued(content: str) -> str | None:
    """``510Ibs`` -> ``510lbs``: a number with the look-alike unit written onto it."""
    for wrong, right in _UNITS.items():
        if content.endswith(wrong) and _NUMBER.match(content[: -len(wrong)] or "x"):
            return content[: -len(wrong)] + right
    return None
