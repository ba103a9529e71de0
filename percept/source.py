"""Open and validate a submitted document, and load its pages one at a time.

Validation happens once, up front, from headers only (no page is rendered): type from magic bytes, byte size,
page count, encryption, corruption, image dimensions and decompression bombs. Pages are then loaded lazily by
index, in whichever process works on them, so a 2,000-page document never sits decoded in memory.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageOps, UnidentifiedImageError

from . import sniff
from .config import Limits, default_limits
from .errors import (
    ContentTooLarge,
    EncryptedDocument,
    InvalidContent,
    InvalidImage,
    InvalidImageSize,
    PageLimitExceeded,
    UnsupportedMediaType,
)

try:  # HEIF/AVIF support is an optional extra.
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - depends on the install
    pillow_heif = None


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """A validated document on disk: cheap to pickle, so worker processes reopen it themselves."""

    path: str
    mime_type: str
    page_count: int

    @property
    def is_pdf(self) -> bool:
        return self.mime_type == sniff.PDF


def open_document(path: str | os.PathLike[str], limits: Limits | None = None) -> DocumentRef:
    """Validate the document at ``path`` and count its pages, raising a typed error on bad input."""
    limits = limits or default_limits()
    path = os.fspath(path)
    size = os.path.getsize(path)
    if size == 0:
        raise InvalidContent("The document is empty (0 bytes).")
    if size > limits.max_document_bytes:
        raise ContentTooLarge(f"The document is {size} bytes; the limit is {limits.max_document_bytes} bytes.")
    with open(path, "rb") as fh:
        head = fh.read(1024)
    mime = sniff.sniff(head)
    if mime is None:
        raise UnsupportedMediaType(
            "The document format is not supported: send a PDF, JPEG, PNG, BMP, TIFF or HEIF file."
        )
    if mime == sniff.HEIF and pillow_heif is None:
        raise UnsupportedMediaType("HEIF images need the optional 'heif' extra (pip install percept[heif]).")
    count = _count_pdf_pages(path) if mime == sniff.PDF else _validate_image(path, limits)
    if count > limits.max_pages:
        raise PageLimitExceeded(f"The document has {count} pages; the limit is {limits.max_pages}.")
    return DocumentRef(path=path, mime_type=mime, page_count=count)


def _count_pdf_pages(path: str) -> int:
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise EncryptedDocument() from None
        raise InvalidContent("The PDF is corrupt or truncated and cannot be opened.") from None
    try:
        count = len(pdf)
    finally:
        pdf.close()
    if count == 0:
        raise InvalidContent("The PDF has no pages.")
    return count


@contextmanager
def _pil_open(path: str, limits: Limits) -> Iterator[Image.Image]:
    """Open an image with Pillow's bomb check set to our limit, mapping its errors to ours."""
    Image.MAX_IMAGE_PIXELS = limits.max_image_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                yield img
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImageSize(
            f"The image has more than {limits.max_image_pixels} pixels (possible decompression bomb)."
        ) from None
    except UnidentifiedImageError:
        raise InvalidImage("The image cannot be decoded.") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidImage(f"The image is corrupt or truncated: {exc}") from None


def _check_dims(width: int, height: int, limits: Limits, frame: int) -> None:
    lo, hi = limits.min_image_side, limits.max_image_side
    if not (lo <= width <= hi and lo <= height <= hi):
        where = f" (page {frame + 1})" if frame else ""
        raise InvalidImageSize(f"The image is {width}x{height} pixels{where}; each side must be between {lo} and {hi}.")
    if width * height > limits.max_image_pixels:
        raise InvalidImageSize(f"The image has more than {limits.max_image_pixels} pixels.")


def _validate_image(path: str, limits: Limits) -> int:
    """Check every frame's dimensions from headers and make sure the first frame decodes."""
    with _pil_open(path, limits) as img:
        frames = getattr(img, "n_frames", 1)
        for i in range(frames):
            if i:
                img.seek(i)
            _check_dims(img.width, img.height, limits, i)
        img.seek(0)
        img.load()  # catches truncated and corrupt data before a worker ever sees it
    return frames


def load_image_page(ref: DocumentRef, index: int, limits: Limits | None = None) -> np.ndarray:
    """Decode frame ``index`` as 8-bit grayscale, upright per its EXIF orientation."""
    limits = limits or default_limits()
    with _pil_open(ref.path, limits) as img:
        if index:
            img.seek(index)
        img.load()
        frame = ImageOps.exif_transpose(img) if index == 0 else img
        return to_gray(frame)


def to_gray(img: Image.Image) -> np.ndarray:
    """Any Pillow mode to 8-bit grayscale; transparency is composited onto white like a printed page."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float32)
        top = float(arr.max()) or 1.0
        return (arr * (255.0 / top)).clip(0, 255).astype(np.uint8)
    if img.mode == "1":
        return np.asarray(img.convert("L"))
    return np.asarray(img.convert("L"))
