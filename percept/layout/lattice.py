"""Lattice tables: ruling lines that cross form a grid, and a missing separator between two grid cells makes a
span. Rulings that only frame a borderless table are handed back (the stream recogniser reads those).
"""

from __future__ import annotations

from collections.abc import Sequence

from .grid import SNAP, Grid, GridCell, HLine, VLine, WordBox, mark_header
from .stream import segments, text_rows

# A separator covering this share of a grid cell's side separates it from its neighbour.
SEPARATOR_COVER = 0.6


def _cluster(values: list[float], tol: float) -> list[float]:
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(c) / len(c) for c in out]


def lattice_tables(words: Sequence[WordBox], hs: list[HLine], vs: list[VLine], unit: float) -> list[Grid]:
    """Grids formed by crossing rulings; each connected set of rulings is one candidate table."""
    tol = SNAP * unit
    n = len(hs) + len(vs)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, h in enumerate(hs):
        for j, v in enumerate(vs):
            if h.x0 - tol <= v.x <= h.x1 + tol and v.y0 - tol <= h.y <= v.y1 + tol:
                parent[find(i)] = find(len(hs) + j)
    groups: dict[int, tuple[list[HLine], list[VLine]]] = {}
    for i in range(n):
        g = groups.setdefault(find(i), ([], []))
        if i < len(hs):
            g[0].append(hs[i])
        else:
            g[1].append(vs[i - len(hs)])
    grids = []
    for ghs, gvs in groups.values():
        if len(ghs) < 2 or len(gvs) < 2:
            continue
        grid = _lattice_grid(words, ghs, gvs, unit)
        if grid is not None:
            grids.append(grid)
    return grids


def _lattice_grid(words: Sequence[WordBox], hs: list[HLine], vs: list[VLine], unit: float) -> Grid | None:
    tol = SNAP * unit
    ys = _cluster([h.y for h in hs], tol)
    xs = _cluster([v.x for v in vs], tol)
    if len(ys) < 2 or len(xs) < 2:
        return None
    rows, cols = len(ys) - 1, len(xs) - 1
    if rows < 2 or cols < 2:
        return None  # a stack of boxes or a framed line: the text around them decides whether it is a table

    def v_cover(x: float, y0: float, y1: float) -> bool:
        need = SEPARATOR_COVER * (y1 - y0)
        return sum(max(0.0, min(v.y1, y1) - max(v.y0, y0)) for v in vs if abs(v.x - x) <= tol) >= need

    def h_cover(y: float, x0: float, x1: float) -> bool:
        need = SEPARATOR_COVER * (x1 - x0)
        return sum(max(0.0, min(h.x1, x1) - max(h.x0, x0)) for h in hs if abs(h.y - y) <= tol) >= need

    parent = list(range(rows * cols))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols and not v_cover(xs[c + 1], ys[r], ys[r + 1]):
                parent[find(r * cols + c)] = find(r * cols + c + 1)
            if r + 1 < rows and not h_cover(ys[r + 1], xs[c], xs[c + 1]):
                parent[find(r * cols + c)] = find((r + 1) * cols + c)
    comps: dict[int, list[tuple[int, int]]] = {}
    for r in range(rows):
        for c in range(cols):
            comps.setdefault(find(r * cols + c), []).append((r, c))
    cells = []
    for members in comps.values():
        r0, r1 = min(m[0] for m in members), max(m[0] for m in members)
        c0, c1 = min(m[1] for m in members), max(m[1] for m in members)
        cells.append(GridCell(r0, c0, xs[c0], ys[r0], xs[c1 + 1], ys[r1 + 1], r1 - r0 + 1, c1 - c0 + 1))
    if len(cells) < 2:
        return None  # a box around text, not a table
    cells.sort(key=lambda c: (c.row, c.column))
    bbox = (xs[0], ys[0], xs[-1], ys[-1])
    _fill(cells, words, bbox)
    filled = [c for c in cells if c.words]
    if len(filled) < 2:
        return None
    # Cells holding several columns of text: the rulings are a frame around a borderless table, not its grid.
    split = sum(1 for c in filled if any(len(r) > 1 for r in text_rows(segments(words, c.words, unit))))
    if split > 0.3 * len(filled):
        return None
    grid = Grid(rows, cols, cells, bbox, "lattice")
    mark_header(grid, words, hs, unit)
    return grid


def _fill(cells: list[GridCell], words: Sequence[WordBox], bbox: tuple[float, float, float, float]) -> None:
    for i, w in enumerate(words):
        cx, cy = w.cx, w.cy
        if not (bbox[0] <= cx <= bbox[2] and bbox[1] <= cy <= bbox[3]):
            continue
        for cell in cells:
            if cell.x0 <= cx <= cell.x1 and cell.y0 <= cy <= cell.y1:
                cell.words.append(i)
                break
    for cell in cells:
        cell.words.sort(key=lambda i: (words[i].line, words[i].x0))
