"""The structure both table recognisers produce and share: words as boxes, a grid of cells holding word
indices, ruling lines merged into whole grid lines, and the header rule. Apart from the recognisers so that
lattice and stream tables (and their callers) depend on one small vocabulary rather than on each other.

Everything is measured in multiples of the page's median word height, so inches and pixels work alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

from .rules import Rule

# Two rulings closer than this many text heights are one grid line.
SNAP = 0.5


class WordBox(NamedTuple):
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    line: int  # index of its line on the page: words of one line stay in one order

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(slots=True)
class GridCell:
    row: int
    column: int
    x0: float
    y0: float
    x1: float
    y1: float
    row_span: int = 1
    column_span: int = 1
    header: bool = False
    words: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Grid:
    rows: int
    columns: int
    cells: list[GridCell]
    bbox: tuple[float, float, float, float]
    method: str

    def text(self, words: Sequence[WordBox], cell: GridCell) -> str:
        return " ".join(words[i].text for i in cell.words)

    def matrix(self, words: Sequence[WordBox]) -> list[list[str]]:
        """Cell texts as rows of strings (a spanning cell's text in its top-left position)."""
        out = [["" for _ in range(self.columns)] for _ in range(self.rows)]
        for c in self.cells:
            out[c.row][c.column] = self.text(words, c)
        return out


def median_height(words: Sequence[WordBox]) -> float:
    hs = sorted(w.y1 - w.y0 for w in words)
    return hs[len(hs) // 2] if hs else 1.0


# --- rulings -------------------------------------------------------------------------------------------------


class HLine(NamedTuple):
    y: float
    x0: float
    x1: float


class VLine(NamedTuple):
    x: float
    y0: float
    y1: float


def merge_rules(rules: Sequence[Rule], tol: float) -> tuple[list[HLine], list[VLine]]:
    """Collinear pieces joined (tables are often drawn as one segment per cell side)."""
    hs = sorted((HLine(r.y0, r.x0, r.x1) for r in rules if r.horizontal), key=lambda h: (h.y, h.x0))
    vs = sorted((VLine(r.x0, r.y0, r.y1) for r in rules if not r.horizontal), key=lambda v: (v.x, v.y0))
    return _merge(hs, tol), _merge(vs, tol)


_Rule = TypeVar("_Rule", HLine, VLine)


def _merge(items: list[_Rule], tol: float) -> list[_Rule]:
    bands: list[list[_Rule]] = []
    for it in items:
        if bands and abs(it[0] - bands[-1][0][0]) <= tol:
            bands[-1].append(it)
        else:
            bands.append([it])
    out: list[_Rule] = []
    for band in bands:
        pos = sum(b[0] for b in band) / len(band)
        band.sort(key=lambda b: b[1])
        start, end = band[0][1], band[0][2]
        for b in band[1:]:
            if b[1] <= end + tol:
                end = max(end, b[2])
            else:
                out.append(type(band[0])(pos, start, end))
                start, end = b[1], b[2]
        out.append(type(band[0])(pos, start, end))
    return out


# --- header --------------------------------------------------------------------------------------------------

_NUMERIC = re.compile(r"^[\s(\-–+$€£%]*[\d.,]+[\s)%*]*$")


def is_numeric(text: str) -> bool:
    return bool(_NUMERIC.match(text))


def mark_header(grid: Grid, words: Sequence[WordBox], hs: Sequence[HLine], unit: float) -> None:
    """First row is a column header when it is all labels over rows with numbers, or a rule sets it apart."""
    if grid.rows < 2:
        return
    first = [c for c in grid.cells if c.row == 0 and c.words]
    if not first or any(is_numeric(grid.text(words, c)) for c in first):
        return
    body_numeric = any(is_numeric(grid.text(words, c)) for c in grid.cells if c.row > 0 and c.words)
    # A rule under the first row (in a lattice every row has one, so any row of labels on top is a header).
    below = max(c.y1 for c in grid.cells if c.row == 0)
    ruled = any(abs(h.y - below) <= 0.8 * unit for h in hs)
    if body_numeric or ruled:
        for c in grid.cells:
            if c.row == 0:
                c.header = True
