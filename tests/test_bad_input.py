"""Bad input gets a typed error with Azure's code, never a crash."""

from __future__ import annotations

import io
from pathlib import Path

import builders
import numpy as np
import pytest
from PIL import Image

from percept import Limits, read_document
from percept.errors import (
    ContentTooLarge,
    EncryptedDocument,
    InvalidContent,
    InvalidImage,
    InvalidImageSize,
    InvalidPages,
    PageLimitExceeded,
    PerceptError,
    UnsupportedMediaType,
)


def _png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((height, width), 255, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def test_empty_document() -> None:
    with pytest.raises(InvalidContent, match="empty"):
        read_document(b"")


def test_unknown_format() -> None:
    # Azure: 400 InvalidContent for bytes it cannot read; 415 is only for a declared type a route refuses.
    with pytest.raises(InvalidContent) as err:
        read_document(b"PK\x03\x04 this is a zip, not a document")
    assert (err.value.status, err.value.code) == (400, "InvalidContent")


def test_garbage_after_a_pdf_header_is_invalid_content() -> None:
    with pytest.raises(InvalidContent):
        read_document(b"%PDF-1.7\n" + bytes(range(256)) * 20)


def test_truncated_pdf_reads_what_survives_or_fails_cleanly(digital_pdf: bytes) -> None:
    half = digital_pdf[: len(digital_pdf) // 2]
    try:
        doc = read_document(half)
    except InvalidContent:
        return
    assert doc.page_count >= 1  # pdfium rebuilt the cross-reference table


def test_truncated_image() -> None:
    whole = _png(800, 600)
    assert read_document(whole).pages[0].width == 800  # the whole image is fine
    with pytest.raises(InvalidImage):
        read_document(whole[: len(whole) // 2])


def test_encrypted_pdf() -> None:
    with pytest.raises(EncryptedDocument) as err:
        read_document(builders.text_pdf([builders.PARAGRAPH], encrypt="secret"))
    assert err.value.code == "InvalidContent"


def test_document_over_the_byte_limit(digital_pdf: bytes, tmp_path: Path) -> None:
    limits = Limits(max_document_bytes=1000)
    with pytest.raises(ContentTooLarge):
        read_document(digital_pdf, limits=limits)
    path = tmp_path / "big.pdf"
    path.write_bytes(digital_pdf)
    with pytest.raises(ContentTooLarge):
        read_document(path, limits=limits)


def test_too_many_pages(digital_pdf: bytes) -> None:
    with pytest.raises(PageLimitExceeded):
        read_document(digital_pdf, limits=Limits(max_pages=1))


@pytest.mark.parametrize(("w", "h"), [(49, 400), (400, 30), (10001, 60)])
def test_image_dimensions_outside_50_to_10000(w: int, h: int) -> None:
    with pytest.raises(InvalidImageSize):
        read_document(_png(w, h))


def test_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = builders.png_header(60000, 60000)  # 3.6 gigapixels claimed by a ~100-byte file
    assert len(bomb) < 200
    with pytest.raises(InvalidImageSize):
        read_document(bomb)


def test_pixel_budget_is_configurable() -> None:
    with pytest.raises(InvalidImageSize):
        read_document(_png(2000, 2000), limits=Limits(max_image_pixels=1_000_000))


def test_pillows_bomb_limit_stays_the_programs_own() -> None:
    """Percept's limits apply to its own decodes only: a program that imports it keeps Pillow's setting."""
    from percept.vision.image import CV_LIMITS, decode

    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(InvalidImageSize):
        read_document(_png(2000, 2000), limits=Limits(max_image_pixels=1_000_000))
    read_document(_png(400, 300), limits=Limits(max_image_pixels=1_000_000))
    assert decode(_png(400, 300), CV_LIMITS)[0].shape == (300, 400, 3)
    assert before == Image.MAX_IMAGE_PIXELS
    Image.open(io.BytesIO(_png(2000, 2000))).load()  # 4 Mpx: within Pillow's default, refused above at 1 Mpx


def test_bad_page_selection(digital_pdf: bytes) -> None:
    with pytest.raises(InvalidPages):
        read_document(digital_pdf, pages="3-")


def test_every_error_has_an_azure_code_and_a_client_status() -> None:
    for cls in (
        InvalidContent,
        InvalidImage,
        InvalidImageSize,
        UnsupportedMediaType,
        ContentTooLarge,
        PageLimitExceeded,
        EncryptedDocument,
    ):
        assert issubclass(cls, PerceptError)
        assert 400 <= cls.status < 500
        assert cls.code and cls.outer_code == "InvalidRequest"
