"""Stream tables, for borderless and partly ruled tables: rows come from text lines, columns from the gaps that
no body row's text crosses; wrapped cell text is joined back into one row, and full-width rules (when present)
say which text lines form a row. Also the judgement of which runs of text lines on a page are a table at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise
from math import ceil
from typing import NamedTuple

from .grid import Grid, GridCell, HLine, WordBox, is_numeric, mark_header

# A gap wider than this many text heights separates two cells on one text line.
SEGMENT_GAP = 1.0


class Segment(NamedTuple):
    x0: float
    y0: float
    x1: float
    y1: float
    words: tuple[int, ...]


def segments(words: Sequence[WordBox], indices: Sequence[int], unit: float) -> list[Segment]:
    """Runs of words on one visual row with no gap wider than :data:`SEGMENT_GAP` text heights.

    Rows are rebuilt from word boxes, not taken from the source's lines: PDF producers often write each cell,
    or each word, as a line of its own.
    """
    singles = [Segment(words[i].x0, words[i].y0, words[i].x1, words[i].y1, (i,)) for i in indices]
    out = []
    for row in text_rows(singles):
        run = [row[0].words[0]]
        for seg in row[1:]:
            i = seg.words[0]
            prev = words[run[-1]]
            gap_limit = SEGMENT_GAP * max(unit, 0.5 * (prev.y1 - prev.y0 + words[i].y1 - words[i].y0))
            if words[i].x0 - prev.x1 > gap_limit:
                out.append(_segment(words, run))
                run = [i]
            else:
                run.append(i)
        out.append(_segment(words, run))
    return out


def _segment(words: Sequence[WordBox], run: list[int]) -> Segment:
    return Segment(
        min(words[i].x0 for i in run),
        min(words[i].y0 for i in run),
        max(words[i].x1 for i in run),
        max(words[i].y1 for i in run),
        tuple(run),
    )


def text_rows(segs: list[Segment]) -> list[list[Segment]]:
    """Segments grouped into rows by vertical overlap, top to bottom, each row left to right."""
    rows: list[list[Segment]] = []
    bands: list[tuple[float, float]] = []
    for s in sorted(segs, key=lambda s: (s.y0 + s.y1) / 2):
        if rows:
            top, bot = bands[-1]
            overlap = min(bot, s.y1) - max(top, s.y0)
            if overlap > 0.5 * min(bot - top, s.y1 - s.y0):
                rows[-1].append(s)
                bands[-1] = (min(top, s.y0), max(bot, s.y1))
                continue
        rows.append([s])
        bands.append((s.y0, s.y1))
    return [sorted(r, key=lambda s: s.x0) for r in rows]


def _columns(rows: list[list[Segment]], unit: float) -> list[tuple[float, float]]:
    """Column intervals: the x-extents of the segments of the fullest rows, merged where they overlap; then
    segments of other rows that fall in one column widen it, or start a column of their own where none is."""
    most = max(len(r) for r in rows)
    body = [r for r in rows if len(r) >= max(2, ceil(0.8 * most))] or rows
    tol = 0.2 * unit
    spans = sorted((s.x0, s.x1) for r in body for s in r)
    cols: list[list[float]] = []
    for x0, x1 in spans:
        if cols and x0 <= cols[-1][1] + tol:
            cols[-1][1] = max(cols[-1][1], x1)
        else:
            cols.append([x0, x1])
    for r in rows:
        if len(r) < 2 or any(r is b for b in body):
            continue
        for s in r:
            hit = [c for c in cols if s.x0 < c[1] + tol and s.x1 > c[0] - tol]
            if len(hit) == 1:
                hit[0][0], hit[0][1] = min(hit[0][0], s.x0), max(hit[0][1], s.x1)
            elif not hit:
                cols.append([s.x0, s.x1])
        cols.sort()
        merged: list[list[float]] = []
        for c in cols:
            if merged and c[0] <= merged[-1][1] + tol:
                merged[-1][1] = max(merged[-1][1], c[1])
            else:
                merged.append(c)
        cols = merged
    return [(c[0], c[1]) for c in cols]


_CONTINUES_AFTER = re.compile(r"(,|-|–|&|/|\b(and|or|of|the|for|to|in|on|by|with|a|an))$", re.I)


def _continues(prev: str, nxt: str) -> bool:
    """Whether ``nxt`` reads as the wrapped continuation of ``prev`` within one cell."""
    if not prev or not nxt:
        return False
    return nxt[0].islower() or bool(_CONTINUES_AFTER.search(prev.rstrip()))


def stream_grid(
    words: Sequence[WordBox],
    indices: Sequence[int],
    unit: float,
    hs: Sequence[HLine] = (),
    bbox: tuple[float, float, float, float] | None = None,
) -> Grid | None:
    """A table from the words of a region known (or judged) to be one table."""
    segs = segments(words, indices, unit)
    if not segs:
        return None
    rows = text_rows(segs)
    cols = _columns(rows, unit)
    if not cols:
        return None
    # Row cells: column index -> word indices, with the column span of each segment.
    table: list[dict[int, tuple[int, list[int]]]] = []
    row_boxes: list[list[float]] = []
    for row in rows:
        cells: dict[int, tuple[int, list[int]]] = {}
        for s in row:
            hit = [k for k, (c0, c1) in enumerate(cols) if s.x0 < c1 + 0.1 * unit and s.x1 > c0 - 0.1 * unit]
            if not hit:
                hit = [min(range(len(cols)), key=lambda k: abs((cols[k][0] + cols[k][1]) / 2 - (s.x0 + s.x1) / 2))]
            start, span = hit[0], hit[-1] - hit[0] + 1
            if start in cells:
                old_span, old_words = cells[start]
                cells[start] = (max(old_span, span), old_words + list(s.words))
            else:
                cells[start] = (span, list(s.words))
        table.append(cells)
        row_boxes.append([min(s.y0 for s in row), max(s.y1 for s in row)])
    table, row_boxes = _join_rows(table, row_boxes, words, unit, hs, len(cols))
    if bbox is None:
        bbox = (
            min(s.x0 for s in segs),
            min(s.y0 for s in segs),
            max(s.x1 for s in segs),
            max(s.y1 for s in segs),
        )
    xs = [bbox[0]] + [(cols[k][1] + cols[k + 1][0]) / 2 for k in range(len(cols) - 1)] + [bbox[2]]
    ys = [bbox[1]] + [(row_boxes[r][1] + row_boxes[r + 1][0]) / 2 for r in range(len(row_boxes) - 1)] + [bbox[3]]
    cells_out: list[GridCell] = []
    for r, row_cells in enumerate(table):
        covered: set[int] = set()
        for c, (span, ws) in sorted(row_cells.items()):
            span = min(span, len(cols) - c)
            if c in covered:
                continue
            covered.update(range(c, c + span))
            ws.sort(key=lambda i: (words[i].line, words[i].x0))
            cells_out.append(GridCell(r, c, xs[c], ys[r], xs[c + span], ys[r + 1], 1, span, words=ws))
        for c in range(len(cols)):
            if c not in covered:
                cells_out.append(GridCell(r, c, xs[c], ys[r], xs[c + 1], ys[r + 1]))
    cells_out.sort(key=lambda c: (c.row, c.column))
    grid = Grid(len(table), len(cols), cells_out, bbox, "stream")
    mark_header(grid, words, list(hs), unit)
    return grid


def _join_rows(
    table: list[dict[int, tuple[int, list[int]]]],
    boxes: list[list[float]],
    words: Sequence[WordBox],
    unit: float,
    hs: Sequence[HLine],
    ncols: int,
) -> tuple[list[dict[int, tuple[int, list[int]]]], list[list[float]]]:
    """Join text lines that are one table row: by full-width rules when the table has them, else by wrapping."""

    def text(ws: list[int]) -> str:
        return " ".join(words[i].text for i in ws)

    def merge(a: dict[int, tuple[int, list[int]]], b: dict[int, tuple[int, list[int]]]) -> None:
        for c, (span, ws) in b.items():
            if c in a:
                a[c] = (max(a[c][0], span), a[c][1] + ws)
            else:
                a[c] = (span, ws)

    def ruled(a: list[float], b: list[float]) -> bool:
        return any(a[1] - 0.2 * unit <= h.y <= b[0] + 0.2 * unit for h in hs)

    gaps = len(boxes) - 1
    # Rules between most pairs of text lines: a ruled table, where only rules end a row.
    ruled_rows = gaps > 0 and sum(ruled(a, b) for a, b in pairwise(boxes)) >= 0.5 * gaps
    out_t: list[dict[int, tuple[int, list[int]]]] = [table[0]]
    out_b: list[list[float]] = [boxes[0]]
    for cells, box in zip(table[1:], boxes[1:], strict=True):
        prev, pbox = out_t[-1], out_b[-1]
        ruled_between = ruled(pbox, box)
        if ruled_rows and not ruled_between:
            join = True  # a ruled table: lines between the same two rules are one row
        else:
            gap = box[0] - pbox[1]
            join = False
            if not ruled_between and gap <= 0.8 * unit and len(cells) < ncols:
                first = min(cells)
                if set(cells) <= set(prev) and _continues(text(prev[first][1]), text(cells[first][1])):
                    join = True  # wrapped text in the cells of the row above
                elif set(prev) == {min(prev)} and min(prev) in cells and len(cells) > 1:
                    join = _continues(text(prev[min(prev)][1]), text(cells[min(prev)][1]))  # wrapped row label
            if not join and len(out_t) == 1 and gap <= 0.5 * unit and set(cells) <= set(prev):
                # A header written on two lines: labels over labels, tightly spaced.
                labels = [text(ws) for _, ws in list(prev.values()) + list(cells.values())]
                join = not any(is_numeric(t) for t in labels)
        if join:
            merge(prev, cells)
            pbox[1] = max(pbox[1], box[1])
        else:
            out_t.append(cells)
            out_b.append(box)
    return out_t, out_b


def stream_tables(words: Sequence[WordBox], free: list[int], unit: float, hs: list[HLine]) -> list[Grid]:
    """Borderless tables among the ``free`` words: runs of text rows of several cells that are judged a table."""
    segs = segments(words, free, unit)
    rows = text_rows(segs)
    grids: list[Grid] = []
    run: list[list[Segment]] = []

    def flush() -> None:
        grid = _judge_run(run, words, unit, hs)
        if grid is not None:
            grids.append(grid)

    for row in rows:
        tabular = len(row) >= 2
        if run:
            gap = min(s.y0 for s in row) - max(s.y1 for s in run[-1])
            if gap > 2.0 * unit:
                flush()
                run = []
        if tabular:
            run.append(row)
        elif run and len(row) == 1 and _inside_columns(row[0], run):
            run.append(row)  # a wrapped cell or a label row inside the table
        else:
            flush()
            run = []
    flush()
    return grids


def _inside_columns(seg: Segment, run: list[list[Segment]]) -> bool:
    x0 = min(s.x0 for r in run for s in r)
    x1 = max(s.x1 for r in run for s in r)
    return seg.x0 >= x0 - 1e-6 and seg.x1 <= x1 + 1e-6 and (seg.x1 - seg.x0) < 0.5 * (x1 - x0)


def _judge_run(run: list[list[Segment]], words: Sequence[WordBox], unit: float, hs: list[HLine]) -> Grid | None:
    """A run of multi-cell rows is a table when it has enough rows and columns and is not columns of prose."""
    while run and len(run[-1]) < 2:
        run = run[:-1]
    multi = [r for r in run if len(r) >= 2]
    if len(multi) < 3:
        return None
    cols = _columns(run, unit)
    if len(cols) < 2:
        return None
    width = max(c[1] for c in cols) - min(c[0] for c in cols)
    seg_words = [len(s.words) for r in multi for s in r]
    wide = all(c[1] - c[0] > 0.3 * width for c in cols)
    if wide and sum(seg_words) / len(seg_words) > 4:
        return None  # columns of running text
    indices = [i for r in run for s in r for i in s.words]
    x0 = min(s.x0 for r in run for s in r)
    x1 = max(s.x1 for r in run for s in r)
    y0 = min(s.y0 for s in run[0])
    y1 = max(s.y1 for s in run[-1])
    inner = [h for h in hs if y0 - unit <= h.y <= y1 + unit and h.x0 <= x0 + unit and h.x1 >= x1 - unit]
    grid = stream_grid(words, indices, unit, inner, (x0, y0, x1, y1))
    if grid is None or grid.rows < 2 or grid.columns < 2:
        return None
    filled = sum(1 for c in grid.cells if c.words)
    if filled < 0.4 * grid.rows * grid.columns:
        return None
    return grid
