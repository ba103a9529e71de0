"""Text printed up or down the margin of an upright page: read as one line, whichever way it runs.

A page read upright may carry a line turned a quarter: a Bates number down the margin of a scanned letter, a form's
revision note up its side. PP-OCR's detector finds such a line whole or as pieces stacked in a column (each
sideways character a box of its own: FUNSD's "82252956" came out as "8 2 2 5 2 6 5 9"), and its pipeline turns a
tall crop one way only (counter-clockwise), which reads text running downward and garbles text running upward.
Here each column of pieces, and each tall line, is read again from its crop turned both ways, and the surer
reading replaces the pieces where it is sure (:data:`SURE`). A page most of whose lines run vertically is
sideways, not an upright page with a margin note: the pipeline turns it instead (``worker.read_image``).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import numpy as np

from ..model import Line, Word, bounding_polygon, box_polygon
from .line_reader import CtcLineReader

# Pieces of one column: their boxes overlap across by this share of the narrower, and the gap between
# one and the next is at most this many column widths (a sideways character's height).
OVERLAP = 0.6
GAP = 0.6
# A column of pieces is at least this many widths tall; a piece is at least this much wider than tall (a sideways
# character: SHORT at most) or taller than wide (more characters). Two characters are left out: a receipt's column of
# "RM" would stack.
TALL = 2.5
WIDE = 1.2
SHORT = 1
# A reading of a column is taken from this mean character confidence.
SURE = 0.8
# A page with more pieces than this is sideways or noise, not an upright page with a margin note; grouping them
# costs the square of their number.
MAX_PIECES = 300


def _box(line: Line) -> tuple[float, float, float, float]:
    p = line.polygon
    return min(p[0::2]), min(p[1::2]), max(p[0::2]), max(p[1::2])


def _union(lines: Sequence[Line], column: list[int]) -> tuple[float, float, float, float]:
    boxes = [_box(lines[i]) for i in column]
    return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)


def runs_vertically(line: Line) -> bool:
    """A line of three or more characters whose box is over 1.5 times as tall as wide."""
    x0, y0, x1, y1 = _box(line)
    return len(line.content) >= 3 and y1 - y0 > 1.5 * (x1 - x0)


def _piece(line: Line) -> bool:
    """What a column is made of: a sideways character (a box wider than tall), or more characters in a box taller
    than wide (upright print would make it wider)."""
    x0, y0, x1, y1 = _box(line)
    if len(line.content.replace(" ", "")) <= SHORT:
        return x1 - x0 >= WIDE * (y1 - y0)
    return y1 - y0 >= WIDE * (x1 - x0)


def stacked_columns(lines: Sequence[Line]) -> list[list[int]]:
    """Indices of ``lines`` that make up columns of sideways text, each top to bottom: a tall line alone, or
    pieces stacked close under one another that together stand :data:`TALL` widths high."""
    order = sorted((i for i, line in enumerate(lines) if _piece(line)), key=lambda i: _box(lines[i])[1])
    if len(order) > MAX_PIECES:
        return []
    columns: list[list[int]] = []
    for i in order:
        x0, y0, x1, _ = _box(lines[i])
        for column in columns:
            cx0, _, cx1, cy1 = _box(lines[column[-1]])
            width = statistics.median(_box(lines[j])[2] - _box(lines[j])[0] for j in column)
            overlap = min(x1, cx1) - max(x0, cx0)
            if overlap >= OVERLAP * min(x1 - x0, cx1 - cx0) and -0.5 * width <= y0 - cy1 <= GAP * width:
                column.append(i)
                break
        else:
            columns.append([i])
    out = []
    for column in columns:
        x0, y0, x1, y1 = _union(lines, column)
        if (len(column) > 1 and y1 - y0 >= TALL * (x1 - x0)) or (
            len(column) == 1 and runs_vertically(lines[column[0]])
        ):
            out.append(column)
    return out


def read_columns(lines: list[Line], image: np.ndarray, reader: CtcLineReader, languages: str) -> list[Line]:
    """``lines`` with each column of sideways text (:func:`stacked_columns`) read again as one line from its crop
    turned both ways; the pieces stay where neither reading is sure, or, for a tall line, surer than its own."""
    columns = stacked_columns(lines)
    if not columns:
        return lines
    height, width = image.shape[:2]
    crops: list[np.ndarray] = []
    boxes: list[tuple[int, int, int, int]] = []
    for column in columns:
        x0, y0, x1, y1 = _union(lines, column)
        pad = 0.15 * (x1 - x0)
        box = (
            int(max(0, x0 - pad)),
            int(max(0, y0 - pad)),
            int(min(width, x1 + pad + 1)),
            int(min(height, y1 + pad + 1)),
        )
        crop = image[box[1] : box[3], box[0] : box[2]]
        # Turned a quarter counter-clockwise, text running down the page stands upright; clockwise, text running up.
        crops += [np.ascontiguousarray(np.rot90(crop, 1)), np.ascontiguousarray(np.rot90(crop, -1))]
        boxes.append(box)
    readings = reader.read_lines(crops, languages=languages)
    replaced: dict[int, Line | None] = {}
    for n, (column, box) in enumerate(zip(columns, boxes, strict=True)):
        down, up = readings[2 * n], readings[2 * n + 1]
        best, downward = max(((down, True), (up, False)), key=lambda r: _confidence(r[0]))
        if best is None or _confidence(best) < SURE:
            continue
        if len(column) == 1 and _confidence(best) <= _confidence(lines[column[0]]):
            continue
        line = _placed(best, box, downward)
        replaced |= {i: None for i in column}
        replaced[column[0]] = line
    return [kept for i, line in enumerate(lines) if (kept := replaced.get(i, line)) is not None]


def _confidence(line: Line | None) -> float:
    return sum(w.confidence for w in line.words) / len(line.words) if line and line.words else 0.0


def _placed(reading: Line, box: tuple[int, int, int, int], downward: bool) -> Line:
    """A reading of a crop turned a quarter, put back on the page: each word's columns in the turned crop are rows
    of the column (counted from the top for text running down, from the bottom for text running up)."""
    x0, y0, x1, y1 = box
    words = []
    for w in reading.words:
        a, b = min(w.polygon[0::2]), max(w.polygon[0::2])
        top, bottom = (y0 + a, y0 + b) if downward else (y1 - b, y1 - a)
        words.append(Word(w.content, box_polygon(x0, top, x1, bottom), w.confidence))
    return Line(reading.content, bounding_polygon([w.polygon for w in words]), words)
