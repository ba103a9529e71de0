"""Text in a picture (Image Analysis 4.0 ``read``) and the brands named by it.

``read`` runs the document read pipeline's OCR (:func:`percept.worker.read_image`: the configured engine, upright
or turned) on the picture in this process, which is already a worker.

Brands are found from text only: a brand is reported where the words read in the picture spell one of the
well-known names in :mod:`.brand_names` or the operator's ``PERCEPT_VISION_BRANDS``, with the words' box and OCR
confidence. Azure recognises logos as drawn; a logo without legible lettering is not found here.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable

import numpy as np

from ..config import ReadOptions, default_limits
from .analyze import VisionContext
from .brand_names import BRANDS
from .model import Box, Brand, TextLine, TextWord

# A brand spelled over more words than this is not looked for ("Abercrombie & Fitch" is three).
MAX_WORDS = 4
# Short names ("HP", "LG", "3M") are words in many languages: they must be spelled as the brand spells them.
SHORT = 3
# Words read with less confidence than this (on average) name no brand.
MIN_CONFIDENCE = 0.5


@functools.lru_cache(maxsize=1)
def _read_options() -> ReadOptions:
    return ReadOptions()  # PERCEPT_OCR_ENGINE and the rest, read once per process


def read_lines(rgb: np.ndarray, language: str | None = None) -> list[TextLine]:
    """OCR one picture: lines and words with 4-point polygons in the picture's pixels."""
    import cv2

    from ..worker import read_image

    options = _read_options()
    if language:
        options = options.model_copy(update={"language": language})
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    result, _ = read_image(gray, options, max_pixels=default_limits().max_image_pixels)
    return [
        TextLine(
            line.content,
            _points(line.polygon),
            [TextWord(w.content, _points(w.polygon), round(float(w.confidence), 3)) for w in line.words],
        )
        for line in result.lines
    ]


def _points(flat: Iterable[float]) -> tuple[tuple[float, float], ...]:
    v = [round(float(x), 1) for x in flat]
    return tuple((v[i], v[i + 1]) for i in range(0, len(v) - 1, 2))


def run_read(ctx: VisionContext) -> None:
    ctx.result.read = read_lines(ctx.rgb, ctx.request.language or None)


def _alnum(text: str) -> str:
    """Letters and digits only, accents dropped: ``Nestlé®`` → ``Nestle``."""
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain if c.isalnum() and not unicodedata.combining(c))


@functools.lru_cache(maxsize=8)
def brand_keys(extra: str = "") -> dict[str, str]:
    """Each brand under its matching key (lower-case letters and digits): ``{"cocacola": "Coca-Cola"}``."""
    names = [*BRANDS, *(n.strip() for n in extra.split(",") if n.strip())]
    return {_alnum(n).casefold(): n for n in names if _alnum(n)}


def _spells(raw: str, name: str) -> bool:
    """Whether words reading ``raw`` (letters and digits) name brand ``name``, whose key they already match."""
    exact = _alnum(name)
    return len(exact) > SHORT or raw in (exact, exact.upper())


def find_brands(lines: Iterable[TextLine], extra: str = "") -> list[Brand]:
    """Every run of up to :data:`MAX_WORDS` words of a line that spells a brand, shortest run first."""
    keys = brand_keys(extra)
    found: list[Brand] = []
    for line in lines:
        words = line.words
        used: set[int] = set()
        for size in range(1, MAX_WORDS + 1):
            for i in range(len(words) - size + 1):
                span = range(i, i + size)
                if used.intersection(span):
                    continue
                raw = "".join(_alnum(words[j].text) for j in span)
                name = keys.get(raw.casefold())
                if name is None or not _spells(raw, name):
                    continue
                confidence = sum(words[j].confidence for j in span) / size
                if confidence < MIN_CONFIDENCE:
                    continue
                used.update(span)
                found.append(Brand(name, round(confidence, 3), _box(words[j].polygon for j in span)))
    return found


def _box(polygons: Iterable[tuple[tuple[float, float], ...]]) -> Box:
    pts = [p for poly in polygons for p in poly]
    x0, y0 = min(p[0] for p in pts), min(p[1] for p in pts)
    x1, y1 = max(p[0] for p in pts), max(p[1] for p in pts)
    return Box(round(x0), round(y0), round(x1 - x0), round(y1 - y0))


def run_brands(ctx: VisionContext) -> None:
    lines = ctx.result.read
    if lines is None:  # the read stage runs first whenever brands are asked for; this is for a direct call
        lines = read_lines(ctx.rgb, ctx.request.language or None)
    ctx.result.brands = find_brands(lines, ctx.settings.brands)
