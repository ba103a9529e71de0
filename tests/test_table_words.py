"""Issue 15: words inside the cells of a scanned ruled table read as well as the same words outside it.

On a skewed scan a ruling runs across pixel rows; painted out as a straight band it left its ends beside the cell
text (read as "|", "_" or merged into the words, "Copper oe spool") and cut the tops of letters near its middle.
"""

from __future__ import annotations

import io

import builders
import numpy as np
from PIL import Image
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from percept import ReadOptions, read_document
from percept.layout.page import scan_shapes

HEADER = ["Item", "Qty", "Unit", "Weight"]
ROWS = [
    ["Copper wire spool", "12", "kg", "7231"],
    ["Ceramic floor tiles", "40", "box", "1,920"],
    ["Glass panels", "8", "crate", "655"],
    ["Paper rolls", "25", "roll", "310"],
    ["Stone slabs", "6", "pallet", "4,480"],
    ["Steel brackets", "150", "bag", "96"],
    ["Cedar planks", "32", "bundle", "1,105"],
    ["Marble tiles", "18", "box", "864"],
    ["Aluminium sheets", "64", "pallet", "2,350"],
    ["Rubber gaskets", "500", "carton", "75"],
]
COLUMNS = [72, 282, 352, 442, 540]  # x of each ruling, points: the table spans the page's text width
PITCH = 20  # row height, points


def ruled_table_pdf() -> bytes:
    """The rows printed as plain lines, then again in a ruled table with tight cells."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    c.setFont("Helvetica", 11)
    y = 720.0
    for row in ROWS:
        c.drawString(72, y, " ".join(row))
        y -= PITCH
    top = y - 20
    rows = [HEADER, *ROWS]
    for r, row in enumerate(rows):
        base = top - PITCH * (r + 1) + 6
        for text, x in zip(row, COLUMNS, strict=False):
            c.drawString(x + 4, base, text)
    c.setLineWidth(1)
    bottom = top - PITCH * len(rows)
    for r in range(len(rows) + 1):
        c.line(COLUMNS[0], top - PITCH * r, COLUMNS[-1], top - PITCH * r)
    for x in COLUMNS:
        c.line(x, top, x, bottom)
    c.save()
    return buf.getvalue()


def scanned(skew: float, noise: float = 0.0, blur: bool = False) -> np.ndarray:
    return builders.scan(builders.render(ruled_table_pdf(), dpi=300), skew=skew, noise=noise, blur=blur)


def _png(gray: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="PNG")
    return buf.getvalue()


def test_cell_words_read_as_the_same_words_outside_the_table() -> None:
    """A clean scan a quarter of a degree off: clean print, so the default reader gives it to Tesseract, which
    read none of the last column (its ruling's remnant beside it) and a stray "7" and "_" in others."""
    gray = scanned(skew=0.25)
    page = read_document(_png(gray), options=ReadOptions(layout=True, workers=1)).pages[0]
    assert page.engine in ("tesseract", "tesseract+rapidocr")
    assert len(page.tables) == 1
    table = page.tables[0]
    assert (table.row_count, table.column_count) == (len(ROWS) + 1, len(HEADER))
    cells: dict[tuple[int, int], str] = {}
    for cell in table.cells:
        assert cell.block is not None, f"cell {cell.row},{cell.column} read empty"
        lines = [page.lines[i] for i in page.blocks[cell.block]]
        cells[cell.row, cell.column] = " ".join(ln.content for ln in lines)
    in_table = [[cells[r, c] for c in range(len(HEADER))] for r in range(table.row_count)]
    assert in_table == [HEADER, *ROWS]
    in_cells = {i for c in table.cells if c.block is not None for i in page.blocks[c.block]}
    outside = [ln.content for i, ln in enumerate(page.lines) if i not in in_cells]
    assert outside == [" ".join(row) for row in ROWS]


def test_a_skewed_ruling_is_painted_out_end_to_end() -> None:
    """No ink is left along the rulings once painted out: not at their ends, where a skewed ruling has drifted
    away from the straight line that summarises it."""
    rules, _, clean = scan_shapes(scanned(skew=0.7, noise=0.03, blur=True))
    assert len(rules) == len(ROWS) + 2 + len(COLUMNS)
    for r in rules:
        x0, y0, x1, y1 = (round(v) for v in r)
        pad = 12
        if r.horizontal:
            band = clean[max(0, y0 - pad) : y1 + pad, x0 + 4 : x1 - 4]
            runs = (band < 128).sum(axis=1)  # ink per pixel row along the ruling
            assert runs.max() < 0.2 * (x1 - x0), r
        else:
            band = clean[y0 + 4 : y1 - 4, max(0, x0 - pad) : x1 + pad]
            runs = (band < 128).sum(axis=0)
            assert runs.max() < 0.2 * (y1 - y0), r
