"""Partial success: a page a stage fails on is left empty and named in the document's errors; the other pages are
still read. Only when every page fails does the read fail, as one failure failed it all before."""

from __future__ import annotations

import io

import builders
import numpy as np
import pytest
from PIL import Image

from percept import read_document
from percept.config import ReadOptions
from percept.model import Document
from percept.ocr import OcrResult, get_engine, register
from percept.pipeline import PagesFailed
from percept.worker import analyze_layout, find_shapes, page_stages

ENGINE = "test-fails-on-landscape"


class FailsOnLandscape:
    """Tesseract, except that a landscape image makes it raise (a real engine, selected through the registry)."""

    name = ENGINE

    def recognize(self, image: np.ndarray, *, languages: str = "eng", dpi: int | None = None) -> OcrResult:
        if image.shape[1] > image.shape[0]:
            raise RuntimeError("this engine cannot read landscape pages")
        return get_engine("tesseract").recognize(image, languages=languages, dpi=dpi)


register(ENGINE, FailsOnLandscape)
OPTIONS = ReadOptions(ocr_engine=ENGINE, workers=1, render_dpi=200)


def _scan(text: str) -> np.ndarray:
    return builders.render(builders.text_pdf([[text]], size=20), dpi=150)


def _landscape() -> np.ndarray:
    return np.ascontiguousarray(_scan("This page lies on its side.").T)  # wider than tall


def test_a_failed_page_is_left_empty_and_the_others_are_read() -> None:
    pdf = builders.image_pdf([_scan("Page one says hello."), _landscape(), _scan("Page three says goodbye.")], dpi=150)
    doc = read_document(pdf, options=OPTIONS)
    assert [p.page_number for p in doc.pages] == [1, 2, 3]
    assert "Page one says hello." in doc.content
    assert "Page three says goodbye." in doc.content
    assert doc.pages[1].lines == [] and doc.pages[1].source == "empty"
    assert doc.pages[1].width > doc.pages[1].height > 0  # measured before the stage failed
    assert [(e.page_number, e.code) for e in doc.errors] == [(2, "RuntimeError")]
    assert "landscape" in doc.errors[0].message
    assert doc.status == "partiallySucceeded"
    assert Document.from_dict(doc.to_dict()).errors == doc.errors  # the stored result keeps them


def test_a_failed_page_of_a_multipage_tiff_is_left_empty_too() -> None:
    pages = [Image.fromarray(g) for g in (_scan("First frame here."), _landscape(), _scan("Third frame here."))]
    buf = io.BytesIO()
    pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:])
    doc = read_document(buf.getvalue(), options=OPTIONS)
    assert "First frame here." in doc.content and "Third frame here." in doc.content
    assert [e.page_number for e in doc.errors] == [2] and doc.pages[1].lines == []
    assert doc.pages[1].unit == "pixel" and doc.status == "partiallySucceeded"


def test_when_every_page_fails_the_read_fails() -> None:
    pdf = builders.image_pdf([_landscape(), _landscape()], dpi=150)
    with pytest.raises(PagesFailed) as failed:
        read_document(pdf, options=OPTIONS)
    assert [e.page_number for e in failed.value.errors] == [1, 2]
    assert isinstance(failed.value, RuntimeError)  # the server reports it as before: an internal error


def test_layout_stages_run_only_with_layout() -> None:
    for pdf in (True, False):
        assert find_shapes not in page_stages(ReadOptions(), pdf=pdf)
        stages = page_stages(ReadOptions(layout=True), pdf=pdf)
        assert stages.index(find_shapes) < stages.index(analyze_layout) == len(stages) - 1
