"""Layout on generated documents, digital and scanned: table cells and spans, header flags, mark states, roles,
key-value pairs and markdown, each asserted on content."""

from __future__ import annotations

import builders
import pytest

from percept import read_document
from percept.config import ReadOptions
from percept.model import Document, Table

LAYOUT = ReadOptions(layout=True, workers=1)


def _grid(table: Table) -> dict[tuple[int, int], tuple[str, int, int, str]]:
    return {(c.row, c.column): (c.content, c.row_span, c.column_span, c.kind) for c in table.cells}


def _marks(doc: Document) -> list[str]:
    """Mark states top to bottom."""
    marks = sorted(doc.pages[0].selection_marks, key=lambda m: m.polygon[1])
    return [m.state for m in marks]


@pytest.fixture(scope="module")
def layout_pdf() -> bytes:
    return builders.layout_pdf()


@pytest.fixture(scope="module")
def digital(layout_pdf: bytes) -> Document:
    return read_document(layout_pdf, options=LAYOUT, key_value_pairs=True)


@pytest.fixture(scope="module")
def scanned(layout_pdf: bytes) -> Document:
    gray = builders.scan(builders.render(layout_pdf, dpi=200), noise=0.05, skew=0.4, blur=True)
    return read_document(builders.image_pdf([gray]), options=LAYOUT)


def test_ruled_table_with_spanning_cell_and_header(digital: Document) -> None:
    ruled = [t for t in digital.tables if t.row_count == 4 and t.column_count == 4]
    assert len(ruled) == 1
    grid = _grid(ruled[0])
    assert grid[(0, 0)] == ("Item", 1, 1, "columnHeader") and grid[(0, 3)][0] == "Total"
    assert grid[(1, 0)] == ("Widget", 1, 1, "content") and grid[(2, 2)][0] == "22.00"
    assert grid[(3, 0)] == ("Subtotal", 1, 3, "content") and grid[(3, 3)][0] == "42.00"
    assert (3, 1) not in grid  # covered by the span
    cell = next(c for c in ruled[0].cells if c.content == "Widget")
    assert cell.span is not None and digital.content[cell.span.offset : cell.span.end] == "Widget"


def test_borderless_table(digital: Document) -> None:
    tables = [t for t in digital.tables if t.column_count == 3]
    assert len(tables) == 1
    grid = _grid(tables[0])
    assert tables[0].row_count == 4
    assert [grid[(r, 0)][0] for r in range(4)] == ["Region", "North", "South", "West"]
    assert grid[(3, 2)][0] == "5,720" and grid[(0, 2)][3] == "columnHeader"


def test_vector_check_boxes(digital: Document) -> None:
    assert _marks(digital) == ["selected", "unselected", "selected", "selected"]
    for m in digital.pages[0].selection_marks:
        assert digital.content[m.span.offset : m.span.end] in (":selected:", ":unselected:")


def test_roles_and_key_value_pairs(digital: Document) -> None:
    roles = {g.content: g.role for g in digital.paragraphs}
    assert roles["Quarterly Report"] == "title"
    assert roles["3"] == "pageNumber"
    pairs = {kv.key.content: kv.value.content if kv.value else None for kv in digital.key_value_pairs}
    assert pairs["Date:"] == "9/10/2020"
    assert pairs["Invoice For:"] == "Contoso Ltd"


def test_markdown_keeps_spans(layout_pdf: bytes) -> None:
    doc = read_document(layout_pdf, options=LAYOUT, content_format="markdown")
    assert doc.content.startswith("# Quarterly Report")
    assert "<th>Item</th>" in doc.content and '<td colspan="3">Subtotal</td>' in doc.content
    assert "☒ Express delivery" in doc.content and "☐ Gift wrap" in doc.content
    assert '<!-- PageNumber="3" -->' in doc.content
    for word in doc.pages[0].words:
        assert doc.content[word.span.offset : word.span.end] == word.content


def test_scanned_table_and_marks(scanned: Document) -> None:
    assert scanned.pages[0].source == "ocr"
    ruled = [t for t in scanned.tables if t.column_count == 4]
    assert ruled, [(t.row_count, t.column_count) for t in scanned.tables]
    grid = _grid(ruled[0])
    assert grid[(0, 0)][0] == "Item" and grid[(1, 0)][0] == "Widget" and grid[(2, 3)][0] == "22.00"
    assert grid[(3, 0)][0] == "Subtotal" and grid[(3, 0)][2] == 3
    assert _marks(scanned) == ["selected", "unselected", "selected", "selected"]


def test_no_marks_or_tables_invented_on_plain_text(digital_pdf: bytes) -> None:
    doc = read_document(digital_pdf, options=LAYOUT)
    assert doc.tables == [] and doc.pages[0].selection_marks == []


def test_azure_sample_layout_reproduced(shared_data) -> None:
    """Azure's own Layout output on its sample: the 5x3 table cell for cell, and all 14 marks."""
    import json

    folder = shared_data / "azure_fr_samples" / "service_responses"
    expected = json.loads((folder / "sample-layout-output.json").read_text())["analyzeResult"]
    doc = read_document(folder / "sample-layout.pdf", options=LAYOUT)
    want = expected["pageResults"][0]["tables"][0]
    got = [t for t in doc.tables if (t.row_count, t.column_count) == (want["rows"], want["columns"])]
    assert len(got) == 1
    cells = {(c.row, c.column): c.content for c in got[0].cells}
    assert cells == {(c["rowIndex"], c["columnIndex"]): c["text"] for c in want["cells"]}
    marks = expected["readResults"][0]["selectionMarks"]
    ours = doc.pages[0].selection_marks
    assert len(ours) == len(marks)
    for m in marks:
        x, y = m["boundingBox"][0], m["boundingBox"][1]
        match = min(ours, key=lambda o: abs(o.polygon[0] - x) + abs(o.polygon[1] - y))
        assert abs(match.polygon[0] - x) < 0.05 and match.state == m["state"]


def test_banded_table_invisible_boxes_and_picture_marks() -> None:
    """Shaded cells with gutters make one grid (plain rows included); white layout boxes make none; a stack of
    value boxes with labels beside it is a two-column table; check boxes drawn as pictures have their states."""
    doc = read_document(builders.banded_pdf(), options=LAYOUT)
    banded = [t for t in doc.tables if t.column_count == 4]
    assert len(banded) == 1 and banded[0].row_count == 5
    grid = _grid(banded[0])
    assert [grid[(0, k)][0] for k in range(4)] == builders.BANDED[0]
    assert grid[(0, 0)][3] == "columnHeader"
    assert [grid[(1, k)][0] for k in range(4)] == builders.BANDED[1]  # an unshaded row keeps its columns
    assert [grid[(2, k)][0] for k in range(4)] == builders.BANDED[2]
    assert grid[(3, 3)][0] == grid[(4, 0)][0] == ""  # empty rows stay rows
    totals = [t for t in doc.tables if t.column_count == 2]
    assert len(totals) == 1 and len(doc.tables) == 2
    assert {(c.row, c.column): c.content for c in totals[0].cells} == {
        (r, k): text for r, pair in enumerate(builders.TOTALS) for k, text in enumerate(pair)
    }
    marks = sorted(doc.pages[0].selection_marks, key=lambda m: m.polygon[0])
    assert [m.state for m in marks] == ["unselected", "selected"]


@pytest.mark.parametrize("n", range(1, 6))
def test_azure_2020_invoices_reproduced(shared_data, n: int) -> None:
    """Azure's Layout output on the 2020 sample invoices: both tables cell for cell and the three check boxes
    (Azure's page-edge blobs below 0.9 confidence are not check boxes and are not counted)."""
    import json

    folder = shared_data / "azure_fr_samples" / "sample_data_2020"
    expected = json.loads((folder / f"labels_v2_1_preview/Invoice_{n}.pdf.ocr.json").read_text())["analyzeResult"]
    doc = read_document(folder / f"Train/Invoice_{n}.pdf", options=LAYOUT)
    for want in expected["pageResults"][0]["tables"]:
        got = [t for t in doc.tables if (t.row_count, t.column_count) == (want["rows"], want["columns"])]
        assert len(got) == 1
        cells = {(c.row, c.column): c.content for c in got[0].cells if c.content}
        assert cells == {(c["rowIndex"], c["columnIndex"]): c["text"] for c in want["cells"]}
    marks = [m for m in expected["readResults"][0]["selectionMarks"] if m["confidence"] >= 0.9]
    ours = doc.pages[0].selection_marks
    assert len(ours) == len(marks) == 3
    for m in marks:
        x, y = m["boundingBox"][0], m["boundingBox"][1]
        match = min(ours, key=lambda o: abs(o.polygon[0] - x) + abs(o.polygon[1] - y))
        assert abs(match.polygon[0] - x) < 0.05 and match.state == m["state"]
