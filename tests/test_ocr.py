"""Scans: OCR with Tesseract (and RapidOCR where installed), orientation, skew, multi-page and mixed documents."""

from __future__ import annotations

import io
from itertools import pairwise
from pathlib import Path

import builders
import needs
import numpy as np
import pytest
from PIL import Image

from percept import ReadOptions, read_document
from percept.evaluation import cer
from percept.ocr import get_engine
from percept.sniff import TIFF


@pytest.mark.parametrize("font", ["Helvetica", "Times-Roman", "Courier", "Vera"])
def test_clean_scans_in_several_fonts(font: str, truth: str, tmp_path: Path) -> None:
    gray = builders.render(builders.text_pdf([builders.PARAGRAPH], font=font), dpi=200)
    doc = read_document(builders.save_image(gray, tmp_path / "page.png"))
    page = doc.pages[0]
    assert (page.unit, page.width, page.height, page.source) == ("pixel", 1700, 2200, "ocr")
    assert cer(doc.content, truth) <= 0.01
    assert all(0.0 <= w.confidence <= 1.0 for w in page.words)
    assert len(page.lines) == 5


@pytest.mark.parametrize(
    ("skew", "turn", "noise"),
    [(3.0, 0, 0.06), (-4.5, 0, 0.08), (0.0, 90, 0.0), (0.0, 180, 0.05), (2.0, 270, 0.05), (-1.5, 90, 0.04)],
)
def test_skewed_turned_noisy_scans(skew: float, turn: int, noise: float, clean_scan, truth, tmp_path) -> None:
    img = builders.scan(clean_scan, skew=skew, turn=turn, noise=noise, blur=True)
    doc = read_document(builders.save_image(img, tmp_path / "scan.png"))
    page = doc.pages[0]
    assert cer(doc.content, truth) <= 0.02
    expected = ((turn + skew + 180) % 360) - 180
    assert abs(((page.angle - expected + 180) % 360) - 180) <= 0.5
    # coordinates stay in the frame of the image as submitted
    assert (page.width, page.height) == (img.shape[1], img.shape[0])
    for w in page.words:
        xs, ys = w.polygon[0::2], w.polygon[1::2]
        assert min(xs) >= -5 and max(xs) <= page.width + 5
        assert min(ys) >= -5 and max(ys) <= page.height + 5


def _word(doc, text: str) -> tuple[float, ...]:
    return next(w.polygon for w in doc.pages[0].words if w.content == text)


def test_polygons_of_a_sideways_page_map_back_to_the_page_as_submitted(clean_scan, tmp_path) -> None:
    upright = read_document(builders.save_image(clean_scan, tmp_path / "up.png"))
    turned_img = builders.scan(clean_scan, turn=90)  # text turned 90 degrees clockwise
    turned = read_document(builders.save_image(turned_img, tmp_path / "turned.png"))
    h = clean_scan.shape[0]
    p = _word(upright, "Invoice")
    # a clockwise quarter turn maps (x, y) to (h - y, x); corners keep their role (top-left of the word first)
    expected = [c for x, y in zip(p[0::2], p[1::2], strict=True) for c in (h - y, x)]
    assert np.allclose(_word(turned, "Invoice"), expected, atol=6)


def test_multi_page_tiff(clean_scan, truth, tmp_path: Path) -> None:
    frames = [clean_scan, builders.scan(clean_scan, turn=180), np.full((400, 600), 255, np.uint8)]
    pil = [Image.fromarray(f) for f in frames]
    path = tmp_path / "pages.tif"
    pil[0].save(path, save_all=True, append_images=pil[1:], compression="raw")
    doc = read_document(path, options=ReadOptions(workers=2))
    assert doc.mime_type == TIFF and doc.page_count == 3
    assert [p.page_number for p in doc.pages] == [1, 2, 3]
    assert doc.pages[1].angle == 180
    assert doc.pages[2].lines == [] and (doc.pages[2].width, doc.pages[2].height) == (600, 400)
    assert cer(doc.content, truth + "\n" + truth) <= 0.01
    only_second = read_document(path, pages="2")
    assert [p.page_number for p in only_second.pages] == [2]


def test_scanned_pdf_is_ocrd_in_inches(clean_scan, truth) -> None:
    pdf = builders.image_pdf([clean_scan, builders.scan(clean_scan, skew=2.0, noise=0.05)], dpi=200)
    doc = read_document(pdf, options=ReadOptions(workers=2))
    assert [p.source for p in doc.pages] == ["ocr", "ocr"]
    assert all(p.unit == "inch" and (p.width, p.height) == (8.5, 11.0) for p in doc.pages)
    assert abs(doc.pages[1].angle - 2.0) <= 0.5
    assert cer(doc.content, truth + "\n" + truth) <= 0.02
    x0 = _word(doc, "Invoice")[0]
    assert 0.9 <= x0 <= 1.1  # the text starts one inch from the left edge


def test_mixed_pdf_is_decided_page_by_page(clean_scan, truth) -> None:
    digital = builders.text_pdf([builders.PARAGRAPH[::-1]])
    pdf = builders.mixed_pdf(digital, builders.image_pdf([clean_scan]))
    doc = read_document(pdf, options=ReadOptions(workers=2))
    assert [p.source for p in doc.pages] == ["text-layer", "ocr"]
    assert doc.content.startswith("\n".join(builders.PARAGRAPH[::-1]) + "\n")
    second = doc.content[doc.pages[1].span.offset : doc.pages[1].span.end]
    assert cer(second, truth) <= 0.01


def test_exif_orientation_is_honoured(clean_scan, truth, tmp_path: Path) -> None:
    # Stored turned 90 degrees counter-clockwise, with EXIF orientation 6 telling viewers to turn it back.
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(clean_scan, 1)))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "photo.jpg"
    stored.save(path, exif=exif, quality=95)
    doc = read_document(path)
    page = doc.pages[0]
    assert (page.width, page.height) == (1700, 2200)  # as displayed, not as stored
    assert page.angle == 0
    assert cer(doc.content, truth) <= 0.01


@pytest.mark.parametrize("fmt", ["JPEG", "BMP", "PNG"])
def test_image_formats(fmt: str, clean_scan, truth) -> None:
    buf = io.BytesIO()
    Image.fromarray(clean_scan).convert("RGB").save(buf, format=fmt)
    assert cer(read_document(buf.getvalue()).content, truth) <= 0.01


def test_heif_when_installed(clean_scan, truth) -> None:
    pillow_heif = needs.module("pillow_heif", "the heif extra")
    buf = io.BytesIO()
    pillow_heif.from_pillow(Image.fromarray(clean_scan).convert("RGB")).save(buf, quality=90)
    assert cer(read_document(buf.getvalue()).content, truth) <= 0.02


def test_rapidocr_engine_reads_and_keeps_words_apart(clean_scan, truth) -> None:
    needs.module("rapidocr", "the rapidocr extra")
    doc = read_document(clean_scan_bytes(clean_scan), options=ReadOptions(ocr_engine="rapidocr"))
    assert doc.pages[0].engine == "rapidocr"
    assert cer(doc.content, truth) <= 0.03
    words = [w.content for w in doc.pages[0].words]
    assert "Invoice" in words and "Contoso" in words
    # word boxes are separate and ordered along the line
    first = doc.pages[0].lines[0].words
    assert all(a.polygon[2] <= b.polygon[0] + 2 for a, b in pairwise(first))


def test_engines_are_selected_by_name() -> None:
    from percept.errors import EngineUnavailable

    assert get_engine("tesseract").name == "tesseract"
    with pytest.raises(EngineUnavailable):
        get_engine("no-such-engine")


def clean_scan_bytes(gray: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="PNG")
    return buf.getvalue()


def test_tesseract_thresholding_is_configurable(clean_scan, truth) -> None:
    from percept.errors import EngineUnavailable
    from percept.ocr.tesseract import TesseractEngine

    sauvola = TesseractEngine(thresholding="sauvola")
    assert sauvola.thresholding == "2"
    text = "\n".join(line.content for line in sauvola.recognize(clean_scan).lines)
    assert cer(text, truth) <= 0.01
    with pytest.raises(EngineUnavailable):
        TesseractEngine(thresholding="magic")


def test_line_fragments_are_joined_in_reading_order() -> None:
    from percept.lines import join_fragments
    from percept.model import Line, Word, box_polygon

    def frag(text: str, x0: float, y0: float) -> Line:
        words = []
        x = x0
        for token in text.split():
            words.append(Word(token, box_polygon(x, y0, x + 10 * len(token), y0 + 20), 0.9))
            x += 10 * len(token) + 8
        return Line(text, box_polygon(x0, y0, x - 8, y0 + 20), words)

    # one printed line cut in two at slightly different heights, given out of order, and a far column
    lines = [frag("further assumed that", 60, 102), frag("is", 30, 100), frag("Column two", 600, 101)]
    lines.append(frag("next row", 30, 140))
    joined = join_fragments(lines)
    assert [ln.content for ln in joined] == ["is further assumed that", "Column two", "next row"]
    assert [w.content for w in joined[0].words] == ["is", "further", "assumed", "that"]
