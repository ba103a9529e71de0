"""Open and validate a submitted document, and load its pages one at a time.

Validation happens once, up front, from headers only (no page is rendered): type from magic bytes, byte size,
page count, encryption, corruption, image dimensions, decompression bombs and PDF pages too large to render
readably. Pages are then loaded lazily by index, in whichever process works on them, so a 2,000-page document
never sits decoded in memory.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from ctypes import byref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

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
    InvalidContentDimensions,
    InvalidImage,
    InvalidImageSize,
    InvalidRequest,
    PageLimitExceeded,
)
from .pillow import pixel_limit

if TYPE_CHECKING:
    from .io.http import UrlPolicy

try:  # HEIF/AVIF support is an optional extra.
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - depends on the install
    pillow_heif = None  # type: ignore[assignment]


UNREADABLE = (
    "The file is corrupted or format is unsupported. Supported formats: PDF, JPEG, PNG, BMP, TIFF, GIF, WebP and HEIF."
)
POINTS_PER_INCH = 72.0
# The least resolution a PDF page is rendered at to fit the pixel budget. At 72 dpi one point is one pixel, so
# 10-12 pt body text is 10-12 px tall: about Azure's documented minimum text height (12 px), and the smallest
# that Tesseract still reads once it is enlarged to its preferred ~22 px. Pages up to 138 inches a side
# (10,000 px at 72 dpi) fit; larger ones would have unreadable text and are refused.
MIN_RENDER_DPI = 72.0


class DocumentSource(Protocol):
    """Where a document's bytes live, apart from where it is read. Whoever reads it (the driver validating it, a
    worker loading its pages) asks for a local path with ``open_local()`` and holds it for the ``with`` block.

    ``LocalFile``, ``InMemory`` and ``BlobUrl`` (downloaded to a temporary file by whoever opens it) are the
    sources.
    """

    def open_local(self) -> AbstractContextManager[str]: ...


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file on a filesystem the reader shares: its path as it is."""

    path: str

    @contextmanager
    def open_local(self) -> Iterator[str]:
        yield self.path


@dataclass(frozen=True, slots=True)
class InMemory:
    """A document's bytes, carried along (pickled to each worker that reads it) and written to a temporary file
    for as long as a reader needs a path."""

    data: bytes | bytearray = field(repr=False)

    @contextmanager
    def open_local(self) -> Iterator[str]:
        with tempfile.TemporaryDirectory(prefix="percept-") as tmp:
            path = os.path.join(tmp, "document")
            with open(path, "wb") as fh:
                fh.write(self.data)
            yield path


class SourceNotAccessible(InvalidRequest, code="ContentSourceNotAccessible"):
    """A blob source could not be read (gone, access denied, host unreachable or refused)."""


BLOB_SECONDS = 300.0  # downloading one document blob


@dataclass(frozen=True, slots=True)
class BlobUrl:
    """A blob by its URL (with the container's SAS), downloaded by whichever process opens it, through the guarded
    client under the storage policy (``PERCEPT_STORAGE_ALLOW``): document bytes go
    from the blob store to the reader, not through whoever queued the work. Plain strings, so it pickles."""

    container_url: str = field(repr=False)  # carries the SAS
    name: str
    policy: UrlPolicy | None = None  # the storage policy (its allow-list); None: public hosts only
    max_bytes: int = 0  # 0: the default limits' document size

    @contextmanager
    def open_local(self) -> Iterator[str]:
        from .io.blob import BlobContainer
        from .io.http import GuardedClient, OutboundError, TooLarge, UrlPolicy

        cap = self.max_bytes or default_limits().max_document_bytes
        policy = self.policy or UrlPolicy(setting="PERCEPT_STORAGE_ALLOW")
        with tempfile.TemporaryDirectory(prefix="percept-") as tmp:
            path = os.path.join(tmp, "document")
            try:
                with GuardedClient(policy) as client, open(path, "wb") as fh:
                    blob = BlobContainer(self.container_url, client, deadline=time.monotonic() + BLOB_SECONDS)
                    blob.download(self.name, fh, max_bytes=cap)
            except TooLarge:
                raise ContentTooLarge(f"The document is larger than the limit of {cap} bytes.") from None
            except OutboundError as exc:
                raise SourceNotAccessible(exc.sentence(f"The blob '{self.name}'")) from None
            yield path


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """A validated document: its source, type and page count, cheap to pickle (a ``LocalFile`` is a path), so
    worker processes reopen it themselves."""

    source: DocumentSource
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
    if mime is None:  # Azure's answer to bytes it cannot read, whatever content type was declared
        raise InvalidContent(UNREADABLE)
    if mime == sniff.HEIF and pillow_heif is None:
        raise InvalidContent("HEIF images need the optional 'heif' extra (pip install percept[heif]).")
    count = _validate_pdf(path, limits) if mime == sniff.PDF else _validate_image(path, limits)
    if count > limits.max_pages:
        raise PageLimitExceeded(f"The document has {count} pages; the limit is {limits.max_pages}.")
    return DocumentRef(LocalFile(path), mime_type=mime, page_count=count)


# PDFium must not be called from two threads at once, even on different documents (pypdfium2: "would crash or
# corrupt the process"). Worker processes are single-threaded; a process that validates documents on several threads
# (the server) or reads pages on its own thread (``pipeline``'s caller lane) holds this around all its PDFium work.
PDFIUM_LOCK = threading.RLock()


def _validate_pdf(path: str, limits: Limits) -> int:
    """Count the pages and refuse a page that would have to be OCR'd but cannot be rendered readably."""
    with PDFIUM_LOCK:
        return _count_pdf_pages(path, limits)


def _count_pdf_pages(path: str, limits: Limits) -> int:
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise EncryptedDocument() from None
        raise InvalidContent("The PDF is corrupt or truncated and cannot be opened.") from None
    try:
        count = len(pdf)
        if count == 0:
            raise InvalidContent("The PDF has no pages.")
        size = pdfium_c.FS_SIZEF()
        for index in range(count):
            # Reads the page's box from its dictionary only: cheap enough for 2,000 pages.
            if not pdfium_c.FPDF_GetPageSizeByIndexF(pdf.raw, index, byref(size)):
                continue
            try:
                render_dpi(size.width, size.height, MIN_RENDER_DPI, limits, page_number=index + 1)
            except InvalidContentDimensions:
                if _needs_rendering(pdf, index):
                    raise
    finally:
        pdf.close()
    return count


def _needs_rendering(pdf: pdfium.PdfDocument, index: int) -> bool:
    """Whether a page will be OCR'd: it has content but no text layer (the worker reads a text layer instead).

    Only pages too large to render come here, so loading them costs nothing on ordinary documents. A text layer
    the worker later finds to be garbage is caught when the page is rendered.
    """
    try:
        page = pdf[index]
    except pdfium.PdfiumError:
        return False  # unreadable page: the worker reports it
    try:
        if pdfium_c.FPDFPage_CountObjects(page.raw) == 0:
            return False
        textpage = page.get_textpage()
        try:
            n = textpage.count_chars()
            if n <= 0:
                return True
            text = textpage.get_text_range(0, n)  # empty where pdfium's indices disagree: the worker decides
            return bool(text) and not text.strip()
        finally:
            textpage.close()
    finally:
        page.close()


def render_dpi(width_pt: float, height_pt: float, dpi: float, limits: Limits, *, page_number: int = 1) -> float:
    """The resolution to render a PDF page at: ``dpi``, lowered until the bitmap fits the image pixel budget.

    A page larger than the budget allows at ``MIN_RENDER_DPI`` is refused with ``InvalidContentDimensions``
    rather than rendered into unreadable text (or gigabytes of memory).
    """
    if width_pt <= 0 or height_pt <= 0:
        return dpi
    fit = min(
        float(dpi),
        POINTS_PER_INCH * limits.max_image_side / max(width_pt, height_pt),
        POINTS_PER_INCH * math.sqrt(limits.max_image_pixels / (width_pt * height_pt)),
    )
    # pypdfium2 rounds each side up: step down until the rounded bitmap is within the budget too.
    while fit >= MIN_RENDER_DPI and not _fits(width_pt, height_pt, fit, limits):
        fit *= 0.9999
    if fit < MIN_RENDER_DPI:
        w_in, h_in = width_pt / POINTS_PER_INCH, height_pt / POINTS_PER_INCH
        raise InvalidContentDimensions(
            f"Page {page_number} is {w_in:.1f}x{h_in:.1f} inches: too large to render within "
            f"{limits.max_image_side} pixels a side and {limits.max_image_pixels} pixels at "
            f"{MIN_RENDER_DPI:.0f} dpi, the least resolution at which its text stays readable."
        )
    return fit


def _fits(width_pt: float, height_pt: float, dpi: float, limits: Limits) -> bool:
    scale = dpi / POINTS_PER_INCH  # the bitmap's size as pypdfium2 computes it for ``render(scale=dpi / 72)``
    w, h = math.ceil(width_pt * scale), math.ceil(height_pt * scale)
    return max(w, h) <= limits.max_image_side and w * h <= limits.max_image_pixels


@contextmanager
def _pil_open(path: str, limits: Limits) -> Iterator[Image.Image]:
    """Open an image with Pillow's bomb check set to our limit, mapping its errors to ours."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with pixel_limit(limits.max_image_pixels):
                opened = Image.open(path)
            with opened as img:
                yield img
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImageSize(
            f"The image has more than {limits.max_image_pixels} pixels (possible decompression bomb)."
        ) from None
    except UnidentifiedImageError:
        raise InvalidImage("The image cannot be decoded.") from None
    # Corrupt headers surface as whatever Pillow's (or pillow-heif's) parser tripped on: a missing tag is a
    # KeyError or "Missing dimensions" TypeError, a cut extension block an IndexError, a HEIF limit a RuntimeError;
    # a chunk length read as a buffer size can ask for gigabytes (MemoryError where memory is capped).
    except (OSError, SyntaxError, ValueError, TypeError, KeyError, IndexError, RuntimeError, MemoryError) as exc:
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


def load_image_page(path: str, index: int, limits: Limits | None = None) -> np.ndarray:
    """Decode frame ``index`` of the image at ``path`` as 8-bit grayscale, upright per its EXIF orientation."""
    limits = limits or default_limits()
    with _pil_open(path, limits) as img:
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
