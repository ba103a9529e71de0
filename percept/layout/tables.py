"""Table structure from words and ruling lines.

Two recognisers share one output (a grid of cells holding word indices):

* **lattice**: ruling lines that cross form a grid; a missing separator between two grid cells makes a span.
* **stream**: for borderless and partly ruled tables, rows come from text lines, columns from the gaps that no
  body row's text crosses; wrapped cell text is joined back into one row, and full-width rules (when present)
  say which text lines form a row.

Everything is measured in multiples of the page's median word height, so inches and pixels work alike.

This module finds the tables on a page (or in a known region) and is the one callers import; the shared
structure lives in ``grid``, the recognisers in ``lattice`` and ``stream``.
"""

from __future__ import annotations

from collections.abc import Sequence

from .grid import SNAP, Grid, GridCell, WordBox, median_height, merge_rules
from .lattice import lattice_tables
from .rules import Rule
from .stream import stream_grid, stream_tables

__all__ = ["Grid", "GridCell", "WordBox", "find_tables", "median_height", "region_table"]


def find_tables(words: Sequence[WordBox], rules: Sequence[Rule], unit: float | None = None) -> list[Grid]:
    """Every table on a page: ruled grids first, then borderless tables among the remaining words."""
    if not words:
        return []
    unit = unit or median_height(words)
    hs, vs = merge_rules(rules, SNAP * unit)
    grids = [g for g in lattice_tables(words, hs, vs, unit) if g.rows * g.columns >= 2]
    grids = _drop_nested(grids)
    taken = {i for g in grids for c in g.cells for i in c.words}
    inside = [g.bbox for g in grids]
    free = [
        i
        for i, w in enumerate(words)
        if i not in taken and not any(b[0] <= w.cx <= b[2] and b[1] <= w.cy <= b[3] for b in inside)
    ]
    grids.extend(stream_tables(words, free, unit, hs))
    grids.sort(key=lambda g: (g.bbox[1], g.bbox[0]))
    return grids


def _drop_nested(grids: list[Grid]) -> list[Grid]:
    out: list[Grid] = []
    for g in sorted(grids, key=lambda g: -(g.bbox[2] - g.bbox[0]) * (g.bbox[3] - g.bbox[1])):
        b = g.bbox
        if any(o.bbox[0] <= b[0] and o.bbox[1] <= b[1] and b[2] <= o.bbox[2] and b[3] <= o.bbox[3] for o in out):
            continue
        out.append(g)
    return out


def region_table(
    words: Sequence[WordBox], rules: Sequence[Rule], bbox: tuple[float, float, float, float], unit: float | None = None
) -> Grid | None:
    """The structure of a table whose region is known (the ICDAR structure task, camelot's table areas)."""
    x0, y0, x1, y1 = bbox
    idx = [i for i, w in enumerate(words) if x0 <= w.cx <= x1 and y0 <= w.cy <= y1]
    if not idx:
        return None
    unit = unit or median_height([words[i] for i in idx])
    pad = unit
    inside = [r for r in rules if r.x0 >= x0 - pad and r.x1 <= x1 + pad and r.y0 >= y0 - pad and r.y1 <= y1 + pad]
    hs, vs = merge_rules(inside, SNAP * unit)
    sub = [words[i] for i in idx]
    lattice = lattice_tables(sub, hs, vs, unit)
    if lattice:
        best = max(lattice, key=lambda g: (g.bbox[2] - g.bbox[0]) * (g.bbox[3] - g.bbox[1]))
        area = (best.bbox[2] - best.bbox[0]) * (best.bbox[3] - best.bbox[1])
        covered = sum(len(c.words) for c in best.cells)
        if area >= 0.6 * (x1 - x0) * (y1 - y0) and covered >= 0.8 * len(sub) and best.columns >= 2:
            for c in best.cells:
                c.words = [idx[i] for i in c.words]
            return best
    full = [h for h in hs if h.x1 - h.x0 >= 0.8 * (x1 - x0)]
    return stream_grid(words, idx, unit, full, bbox)
