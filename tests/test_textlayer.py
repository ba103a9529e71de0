"""Digital PDFs: words and lines come from the text layer, exactly, in inches, with no OCR."""

from __future__ import annotations

import builders
import pytest

from percept import read_document
from percept.model import Document


def _check_spans(doc: Document) -> None:
    for page in doc.pages:
        for line in page.lines:
            assert doc.content[line.span.offset : line.span.end] == line.content
            for word in line.words:
                assert doc.content[word.span.offset : word.span.end] == word.content


@pytest.mark.parametrize("font", ["Helvetica", "Times-Roman", "Courier", "Vera"])
def test_text_layer_is_exact_in_each_font(font: str, truth: str) -> None:
    doc = read_document(builders.text_pdf([builders.PARAGRAPH], font=font))
    page = doc.pages[0]
    assert page.source == "text-layer"
    assert (page.unit, page.width, page.height, page.angle) == ("inch", 8.5, 11.0, 0.0)
    assert doc.content == truth
    assert [ln.content for ln in page.lines] == builders.PARAGRAPH
    assert all(w.confidence == 1.0 for w in page.words)
    _check_spans(doc)


def test_word_boxes_are_where_the_text_was_drawn(digital_pdf: bytes) -> None:
    doc = read_document(digital_pdf)
    first = doc.pages[0].lines[0]
    # drawn at x = 1 inch, baseline 1 inch below the top margin of 11 - 10 = 1 inch, 14 pt text
    x0, y0, _, _, _, y2, _, _ = first.words[0].polygon
    assert first.words[0].content == "The"
    assert 0.98 <= x0 <= 1.05
    assert 0.75 <= y0 <= 1.0 < y2 <= 1.1
    # words advance left to right on the line, inside the page
    xs = [w.polygon[0] for w in first.words]
    assert xs == sorted(xs)
    assert all(0 <= v <= 11 for w in doc.pages[0].words for v in w.polygon)


def test_multi_page_order_and_page_spans(digital_pdf: bytes) -> None:
    doc = read_document(digital_pdf)
    assert [p.page_number for p in doc.pages] == [1, 2]
    assert doc.page_count == 2
    second = doc.content[doc.pages[1].span.offset : doc.pages[1].span.end]
    assert second == "\n".join(builders.PARAGRAPH[::-1])
    _check_spans(doc)


def test_page_selection(digital_pdf: bytes) -> None:
    doc = read_document(digital_pdf, pages="2")
    assert [p.page_number for p in doc.pages] == [2]
    assert doc.content.startswith(builders.PARAGRAPH[-1])


def test_columns_on_one_baseline_are_separate_lines() -> None:
    pdf = builders.text_pdf([["Name:" + " " * 60 + "Amount due"]], font="Courier")
    lines = [ln.content for ln in read_document(pdf).pages[0].lines]
    assert lines == ["Name:", "Amount due"]


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_pages_keep_reading_order_and_report_angle(rotation: int, truth: str) -> None:
    doc = read_document(builders.text_pdf([builders.PARAGRAPH], rotation=rotation))
    page = doc.pages[0]
    assert doc.content == truth
    expected = (11.0, 8.5) if rotation in (90, 270) else (8.5, 11.0)
    assert (page.width, page.height) == expected
    assert page.angle == (rotation if rotation <= 180 else rotation - 360)
    # the first word's polygon starts at its own top-left corner: on a page turned 90 degrees clockwise
    # the text runs downwards, so the second corner lies below the first.
    p = page.lines[0].words[0].polygon
    if rotation == 90:
        assert p[3] > p[1] and abs(p[2] - p[0]) < 0.05
    if rotation == 180:
        assert p[2] < p[0]
    if rotation == 270:
        assert p[3] < p[1]


def test_garbage_text_layer_is_ocrd_instead(clean_scan, truth: str) -> None:
    from percept.evaluation import cer

    doc = read_document(builders.garbage_layer_pdf(clean_scan))
    assert doc.pages[0].source == "ocr"
    assert "\ue000" not in doc.content
    assert cer(doc.content, truth) < 0.02


def test_blank_page_is_empty_not_an_error() -> None:
    doc = read_document(builders.text_pdf([[], builders.PARAGRAPH]))
    assert doc.pages[0].source == "empty"
    assert doc.pages[0].lines == []
    assert doc.content == "\n".join(builders.PARAGRAPH)
