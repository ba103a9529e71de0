"""Selection marks on 300 dpi scans: a letter whose outline looks like a box ("D", "O", "B") stays a letter of its
word, while real check boxes, ruled squares or pictures beside their labels, keep their states."""

from __future__ import annotations

import io

import builders
import numpy as np
import pytest
from PIL import Image

from percept import read_document
from percept.config import ReadOptions
from percept.layout.marks import shape_marks
from percept.layout.rules import Box
from percept.layout.tables import WordBox
from percept.model import Document

LAYOUT = ReadOptions(layout=True, workers=1)


def _read_png(gray: np.ndarray) -> Document:
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="PNG")
    return read_document(buf.getvalue(), options=LAYOUT)


def _lines(doc: Document) -> list[str]:
    return [line.content for line in doc.pages[0].lines]


@pytest.mark.parametrize("seed", [0, 17])
def test_bill_of_lading_has_no_marks_and_keeps_its_words(seed: int) -> None:
    """Seed 17 gave seven marks before (on "B", "O", "D" of the title and the labels' capitals)."""
    gray, values = builders.scanned_bill_of_lading(seed, dpi=300)
    doc = _read_png(gray)
    assert doc.pages[0].selection_marks == []
    lines = _lines(doc)
    assert "STRAIGHT BILL OF LADING" in lines
    assert values["Ship To:"].split("\n")[1] == "Boise ID"
    assert "Boise ID" in lines
    assert f"Description: {values['Description:']}" in lines
    assert not any("selected:" in line for line in lines)


def test_scanned_form_keeps_its_check_boxes() -> None:
    """The layout form's four ruled boxes (crossed, empty, filled, ticked) scanned at 300 dpi."""
    gray = builders.scan(builders.render(builders.layout_pdf(), dpi=300), noise=0.05, skew=0.4, blur=True)
    doc = _read_png(gray)
    marks = sorted(doc.pages[0].selection_marks, key=lambda m: m.polygon[1])
    assert [m.state for m in marks] == ["selected", "unselected", "selected", "selected"]
    lines = _lines(doc)
    marked = [line for line in lines if "selected:" in line]
    assert marked == [
        ":selected: Express delivery",
        ":unselected: Gift wrap",
        ":selected: Insured",
        ":selected: Signature",
    ]


def test_scanned_picture_boxes_after_labels_that_start_with_d() -> None:
    """The banded statement's picture boxes follow "Live Delivery:" and "Online Delivery:"; the "D" of each label
    outlines like a box but is not one."""
    gray = builders.scan(builders.render(builders.banded_pdf(), dpi=300), noise=0.05, skew=0.4, blur=True)
    doc = _read_png(gray)
    marks = sorted(doc.pages[0].selection_marks, key=lambda m: m.polygon[0])
    assert [m.state for m in marks] == ["unselected", "selected"]
    assert [line for line in _lines(doc) if "selected:" in line] == [
        "Live Delivery: :unselected:",
        "Online Delivery: :selected:",
    ]


def test_box_on_a_letter_of_a_short_word_is_text() -> None:
    """OCR's tight box for "ID" lies mostly under the D's outline: the D is a letter, and "ID" is not dropped."""
    words = [WordBox(540, 705, 590, 740, "Boise", 0), WordBox(600, 705, 643, 740, "ID", 0)]
    d = Box(615, 705, 643, 739, False, 0.13)
    marks, junk = shape_marks([d], words, [], unit=35, scanned=True)
    assert marks == [] and junk == set()


def test_box_touching_a_word_is_a_letter_left_out_of_it() -> None:
    """The OCR left the D out of "Description:": its outline touches the rest of the word, as letters do."""
    words = [WordBox(321, 1075, 540, 1110, "escription:", 0)]
    d = Box(289, 1076, 318, 1110, False, 0.19)
    assert shape_marks([d], words, [], unit=35, scanned=True) == ([], set())


def test_box_read_as_junk_beside_its_label_is_a_mark() -> None:
    """A ticked box OCR'd as "KI" (the reading covers only the box) is a selected mark and the reading goes."""
    words = [WordBox(298, 1495, 348, 1547, "KI", 0), WordBox(385, 1495, 560, 1547, "Express", 0)]
    box = Box(298, 1495, 350, 1547, False, 0.36)
    marks, junk = shape_marks([box], words, [], unit=35, scanned=True)
    assert [m.state for m in marks] == ["selected"] and junk == {0}
