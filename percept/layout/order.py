"""Reading order of a page's blocks (recursive XY-cut) and paragraph roles from position and size."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

# Blocks in the top/bottom share of the page may be page headers/footers.
MARGIN = 0.08
# Line height over the page's body text height that makes a heading, and a title.
HEADING = 1.2
TITLE = 1.5
# Words per line a column of running text has on average; below it a vertical cut is label/value pairs.
PROSE_WORDS = 3.0

_PAGE_NUMBER = re.compile(r"^(page\s+)?([0-9]+|[ivxlcdm]+)(\s*(of|/)\s*[0-9]+)?$|^-\s*[0-9]+\s*-$", re.I)


class Unit(NamedTuple):
    """A block (or a whole table) to order: its box and how many words per line it has."""

    x0: float
    y0: float
    x1: float
    y1: float
    words_per_line: float


def reading_order(units: Sequence[Unit]) -> list[int]:
    return _cut(list(range(len(units))), units)


def _groups(idx: list[int], units: Sequence[Unit], axis: int) -> list[list[int]]:
    lo, hi = (0, 2) if axis == 0 else (1, 3)
    order = sorted(idx, key=lambda i: units[i][lo])
    groups: list[list[int]] = []
    end = None
    for i in order:
        if end is not None and units[i][lo] > end:
            groups.append([i])
        elif groups:
            groups[-1].append(i)
        else:
            groups.append([i])
        end = units[i][hi] if end is None or units[i][lo] > end else max(end, units[i][hi])
    return groups


def _cut(idx: list[int], units: Sequence[Unit]) -> list[int]:
    if len(idx) <= 1:
        return idx
    cols = _groups(idx, units, 0)
    if len(cols) > 1 and all(_prose(g, units) for g in cols):
        return [i for g in cols for i in _cut(g, units)]
    rows = _groups(idx, units, 1)
    if len(rows) > 1:
        return [i for g in rows for i in _cut(g, units)]
    return _rows_then_x(idx, units)


def _rows_then_x(idx: list[int], units: Sequence[Unit]) -> list[int]:
    """Blocks side by side (labels and values, a row of check boxes): read across, row by row."""
    rows: list[list[int]] = []
    for i in sorted(idx, key=lambda i: units[i].y0):
        u = units[i]
        if rows:
            first = units[rows[-1][0]]
            overlap = min(u.y1, first.y1) - max(u.y0, first.y0)
            if overlap > 0.5 * min(u.y1 - u.y0, first.y1 - first.y0):
                rows[-1].append(i)
                continue
        rows.append([i])
    return [i for row in rows for i in sorted(row, key=lambda i: units[i].x0)]


def _prose(group: list[int], units: Sequence[Unit]) -> bool:
    return sum(units[i].words_per_line for i in group) / len(group) >= PROSE_WORDS


class BlockInfo(NamedTuple):
    box: tuple[float, float, float, float]
    line_height: float
    lines: int
    text: str


def roles(blocks: Sequence[BlockInfo], page_height: float, first_page: bool, body: float) -> list[str | None]:
    """pageHeader/pageFooter/pageNumber by position, title/sectionHeading by size relative to body text."""
    out: list[str | None] = []
    for b in blocks:
        role = None
        top, bottom = b.box[1], b.box[3]
        if b.lines <= 2 and len(b.text) <= 120:
            if bottom <= MARGIN * page_height or top >= (1 - MARGIN) * page_height:
                if _PAGE_NUMBER.match(b.text.strip()):
                    role = "pageNumber"
                else:
                    role = "pageHeader" if bottom <= MARGIN * page_height else "pageFooter"
            elif b.line_height >= HEADING * body and len(b.text.split()) <= 15 and not b.text.rstrip().endswith("."):
                role = "sectionHeading"
        out.append(role)
    if first_page:
        candidates = [
            i
            for i, b in enumerate(blocks)
            if out[i] in (None, "sectionHeading") and b.line_height >= TITLE * body and b.box[1] < 0.4 * page_height
        ]
        if candidates:
            best = max(candidates, key=lambda i: (blocks[i].line_height, -blocks[i].box[1]))
            out[best] = "title"
    return out
