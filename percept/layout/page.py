"""Layout of one page, run in a worker next to its reading: tables, selection marks, lines split at cell
borders, paragraphs in reading order with their roles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
import pypdfium2 as pdfium

from ..assemble import group_lines
from ..model import Line, Page, Polygon, Table, TableCell, bounding_polygon, box_polygon
from ..textlayer import PageGeometry, extract_lines, page_geometry
from .marks import glyph_marks, place, shape_marks
from .order import BlockInfo, Unit, reading_order, roles
from .rules import Box, Rule, image_shapes, pdf_form_boxes, pdf_shapes
from .tables import Grid, WordBox, find_tables, median_height


def word_boxes(lines: Sequence[Line]) -> list[WordBox]:
    out = []
    for li, line in enumerate(lines):
        for w in line.words:
            xs, ys = w.polygon[0::2], w.polygon[1::2]
            out.append(WordBox(min(xs), min(ys), max(xs), max(ys), w.content, li))
    return out


def pdf_page_layout_inputs(pdf: pdfium.PdfDocument, index: int) -> tuple[list[WordBox], list[Rule], PageGeometry]:
    """Words and rulings of a digital PDF page (what the table benchmarks feed the recognisers)."""
    page = pdf[index]
    try:
        geo = page_geometry(page)
        lines = extract_lines(page, geo) or []
        return word_boxes(lines), pdf_shapes(page, geo).rules, geo
    finally:
        page.close()


def pdf_shapes_for(pdf: pdfium.PdfDocument, page: pdfium.PdfPage, geo: PageGeometry) -> tuple[list[Rule], list[Box]]:
    shapes = pdf_shapes(page, geo)
    return shapes.rules, shapes.boxes + pdf_form_boxes(pdf, page, geo)


def scan_shapes(gray: np.ndarray) -> tuple[list[Rule], list[Box], np.ndarray]:
    """Rulings and boxes of a scanned page, and the page with its rulings painted out.

    Tesseract reads text inside a ruled grid poorly or not at all (it takes the grid for a picture), so layout
    OCRs the page without its lines; the lines themselves become the table's grid. The rulings' own pixels are
    painted in the paper's tone, grown by a pixel for their blurred edges: a straight band over a skewed ruling
    left its ends beside the cell text (read as "|", "_", merged into words or a whole column dropped) and cut
    the tops of letters near its middle.
    """
    import cv2

    from ..geometry import char_height

    text_h = char_height(gray) or 0.01 * gray.shape[0]
    shapes = image_shapes(gray, max(8.0, text_h))
    if not shapes.rules or shapes.ruling_ink is None:
        return shapes.rules, shapes.boxes, gray
    clean = gray.copy()
    paper = int(np.median(gray[:: max(1, gray.shape[0] // 200), :: max(1, gray.shape[1] // 200)]))
    clean[cv2.dilate(shapes.ruling_ink, np.ones((3, 3), np.uint8)) > 0] = paper
    return shapes.rules, shapes.boxes, clean


def scale_shapes(rules: list[Rule], boxes: list[Box], k: float) -> tuple[list[Rule], list[Box]]:
    """Shapes found in image pixels, in the page's unit (inches for a scanned PDF page)."""
    rules = [Rule(r.x0 * k, r.y0 * k, r.x1 * k, r.y1 * k) for r in rules]
    boxes = [b._replace(x0=b.x0 * k, y0=b.y0 * k, x1=b.x1 * k, y1=b.y1 * k) for b in boxes]
    return rules, boxes


def analyze_page(page: Page, rules: list[Rule], boxes: list[Box]) -> None:
    """Fill ``page`` with tables, marks, blocks in reading order and roles; lines are split at cell borders."""
    scanned = page.source == "ocr"
    words = word_boxes(page.lines)
    unit = median_height(words) if words else 0.15 if page.unit == "inch" else 30.0
    # Glyph marks first, so a vector square drawn around a ☐ glyph is not a second mark.
    box_marks, junk = shape_marks(boxes, words, glyph_marks(page.lines), unit, scanned)
    if junk:
        _drop_words(page, junk)
        words = word_boxes(page.lines)
    grids = find_tables(words, rules, unit)
    lines, cell_lines, outside = _split_lines(page.lines, words, grids)
    # Glyph marks point at (line, word) of the old lines; re-find them in the new ones.
    page.lines = lines
    marks = glyph_marks(lines) + box_marks
    place(marks, lines)
    page.selection_marks = marks

    blocks: list[list[int]] = []
    kinds: list[tuple[int, int] | None] = []  # (table, cell) of a cell block
    if page.blocks and scanned:
        remap = _engine_blocks(page.blocks, outside)
        blocks.extend(remap)
    else:
        in_order = sorted(outside)
        blocks.extend([[in_order[i] for i in g] for g in group_lines([lines[i] for i in in_order])])
    kinds.extend([None] * len(blocks))
    tables: list[Table] = []
    for t, grid in enumerate(grids):
        cells = []
        for c, gc in enumerate(grid.cells):
            members = cell_lines.get((t, c), [])
            block = None
            if members:
                block = len(blocks)
                blocks.append(members)
                kinds.append((t, c))
            cells.append(
                TableCell(
                    gc.row,
                    gc.column,
                    _round(box_polygon(gc.x0, gc.y0, gc.x1, gc.y1), page.unit),
                    gc.row_span,
                    gc.column_span,
                    "columnHeader" if gc.header else "content",
                    block,
                )
            )
        tables.append(
            Table(page.page_number, grid.rows, grid.columns, cells, _round(box_polygon(*grid.bbox), page.unit))
        )
    order = _order_blocks(blocks, kinds, lines, grids)
    new_index = {old: new for new, old in enumerate(order)}
    page.blocks = [blocks[i] for i in order]
    for table in tables:
        for cell in table.cells:
            if cell.block is not None:
                cell.block = new_index[cell.block]
    page.tables = tables
    page.roles = _roles(page, [kinds[i] for i in order], unit)


def _round(poly: Polygon, unit: str) -> Polygon:
    d = 4 if unit == "inch" else 2
    return cast(Polygon, tuple(round(float(v), d) for v in poly))  # the same 8 numbers, rounded


def _drop_words(page: Page, junk: set[int]) -> None:
    k = 0
    lines = []
    for line in page.lines:
        keep = []
        for w in line.words:
            if k not in junk:
                keep.append(w)
            k += 1
        if keep:
            lines.append(Line(" ".join(w.content for w in keep), bounding_polygon([w.polygon for w in keep]), keep))
    # Engine blocks index the old lines; they no longer apply once lines go.
    if len(lines) != len(page.lines):
        page.blocks = []
    page.lines = lines


def _split_lines(
    lines: list[Line], words: list[WordBox], grids: list[Grid]
) -> tuple[list[Line], dict[tuple[int, int], list[int]], list[int]]:
    """Lines cut where they cross table cells: each piece in one cell. Returns the new lines, the line indices of
    each (table, cell), and the indices of lines outside tables."""
    owner: dict[int, tuple[int, int]] = {}
    for t, grid in enumerate(grids):
        for c, cell in enumerate(grid.cells):
            for i in cell.words:
                owner[i] = (t, c)
    out: list[Line] = []
    cells: dict[tuple[int, int], list[int]] = {}
    outside: list[int] = []
    k = 0
    for line in lines:
        groups: list[tuple[tuple[int, int] | None, list[int]]] = []
        for wi in range(len(line.words)):
            key = owner.get(k)
            if groups and groups[-1][0] == key:
                groups[-1][1].append(wi)
            else:
                groups.append((key, [wi]))
            k += 1
        for key, members in groups:
            if len(groups) == 1:
                piece = line
            else:
                ws = [line.words[i] for i in members]
                piece = Line(" ".join(w.content for w in ws), bounding_polygon([w.polygon for w in ws]), ws)
            if key is None:
                outside.append(len(out))
            else:
                cells.setdefault(key, []).append(len(out))
            out.append(piece)
    return out, cells, outside


def _engine_blocks(engine_blocks: list[list[int]], outside: list[int]) -> list[list[int]]:
    """The engine's paragraphs, restricted to lines outside tables (indices still valid: no line was split)."""
    allowed = set(outside)
    seen: set[int] = set()
    out = []
    for b in engine_blocks:
        g = [i for i in b if i in allowed and i not in seen]
        seen.update(g)
        if g:
            out.append(g)
    out.extend([i] for i in outside if i not in seen)
    return out


def _order_blocks(
    blocks: list[list[int]], kinds: list[tuple[int, int] | None], lines: list[Line], grids: list[Grid]
) -> list[int]:
    """Paragraphs and whole tables in reading order; a table's cells row by row."""
    units: list[Unit] = []
    members: list[list[int]] = []
    table_unit: dict[int, int] = {}
    for b, kind in enumerate(kinds):
        if kind is None:
            ls = [lines[i] for i in blocks[b]]
            box = bounding_polygon([ln.polygon for ln in ls])
            wpl = sum(len(ln.words) for ln in ls) / len(ls)
            units.append(Unit(box[0], box[1], box[4], box[5], wpl))
            members.append([b])
            continue
        t = kind[0]
        if t not in table_unit:
            g = grids[t].bbox
            table_unit[t] = len(units)
            units.append(Unit(g[0], g[1], g[2], g[3], 0.0))
            members.append([])
        members[table_unit[t]].append(b)
    out = []
    for u in reading_order(units):
        if len(members[u]) > 1 or (members[u] and kinds[members[u][0]] is not None):
            cells = members[u]
            cells.sort(key=lambda b: _cell_key(kinds[b], grids))
            out.extend(cells)
        else:
            out.extend(members[u])
    return out


def _cell_key(kind: tuple[int, int] | None, grids: list[Grid]) -> tuple[int, int]:
    assert kind is not None
    cell = grids[kind[0]].cells[kind[1]]
    return cell.row, cell.column


def _roles(page: Page, kinds: list[tuple[int, int] | None], unit: float) -> list[str | None]:
    infos = []
    for block in page.blocks:
        ls = [page.lines[i] for i in block]
        box = bounding_polygon([ln.polygon for ln in ls])
        hs = sorted(ln.polygon[5] - ln.polygon[1] for ln in ls)
        infos.append(
            BlockInfo((box[0], box[1], box[4], box[5]), hs[len(hs) // 2], len(ls), " ".join(ln.content for ln in ls))
        )
    body_lines = sorted(ln.polygon[5] - ln.polygon[1] for ln in page.lines)
    body = body_lines[len(body_lines) // 2] if body_lines else unit
    out = roles(infos, page.height, page.page_number == 1, body)
    return [None if kinds[i] is not None else r for i, r in enumerate(out)]
