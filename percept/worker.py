"""Page work that runs in worker processes: text layer, rendering, orientation, OCR, layout.

Tasks are small picklable values (the document's path and page indices); each worker reopens the document, so
pages travel between processes as results only, never as pixels.

A page goes through an ordered list of stages (:func:`page_stages`) run by one loop (:func:`read_page`): text
layer, render, OCR, and with layout the shapes before OCR and the analysis after it. A stage that raises
something other than a :class:`~percept.errors.PerceptError` fails that page only: it comes back as a
:class:`FailedPage`, empty, with the error, and the other pages are still read.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pypdfium2 as pdfium

from . import geometry, lifeline, orientation
from .config import Limits, ReadOptions
from .errors import InvalidContent, PerceptError
from .layout.page import analyze_page, pdf_shapes_for, scale_shapes, scan_shapes
from .model import Line, Page, PageError, Word
from .ocr import OcrResult, engine_languages, get_engine
from .ocr.fixups import fix_units
from .source import PDFIUM_LOCK, DocumentRef, load_image_page, render_dpi
from .textlayer import extract_lines, flattened_lines, has_form_widgets, page_geometry

log = logging.getLogger("percept.worker")

# A first reading this confident is taken without trying other orientations.
CONFIDENT = 0.80
# Below this, the other pair of quarter turns is tried too.
DOUBTFUL = 0.60


@dataclass(frozen=True, slots=True)
class PageTask:
    ref: DocumentRef
    indices: tuple[int, ...]
    options: ReadOptions
    limits: Limits
    text_layer_only: bool = False  # True: return None for pages that need OCR instead of OCR'ing them


@dataclass(frozen=True, slots=True)
class FailedPage:
    """A page a stage failed on: the page left empty, and why."""

    page: Page
    error: PageError


PageResult = Page | FailedPage | None  # None: the page needs OCR (a text-layer-only task)


@dataclass(slots=True)
class PageWork:
    """One page on its way through the stages: the result being filled, and what stages hand each other."""

    task: PageTask
    index: int
    page: Page
    pdf: pdfium.PdfDocument | None = None
    handle: pdfium.PdfPage | None = None
    geo: Any = None  # the PDF page's geometry (textlayer.PageGeometry)
    gray: np.ndarray | None = None  # the page's pixels, for OCR
    dpi: float | None = None  # the resolution a PDF page was rendered at (None: an image, in its own pixels)
    shapes: Any = None  # rulings and boxes for layout, in the frame they were found in
    stop: bool = False  # the page is finished (blank) or deferred (``deferred``): later stages are skipped
    deferred: bool = False
    path: str = ""  # where this process reads the document from (an image's frames are loaded from it)


PageStage = Callable[[PageWork], None]


def init_worker() -> None:
    """Worker set-up: tied to the server's life and deaf to the group's stop signals (see :mod:`.lifeline`), and
    one thread per process (the pool provides the parallelism)."""
    lifeline.bind_worker()
    os.environ["OMP_THREAD_LIMIT"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    import cv2

    cv2.setNumThreads(1)


def run_task(task: PageTask) -> list[PageResult]:
    """Read a task's pages, wherever this runs: the document's source gives it a local path for the task."""
    stages = page_stages(task.options, pdf=task.ref.is_pdf)
    with task.ref.source.open_local() as path:
        if task.ref.is_pdf:
            return _pdf_pages(task, path, stages)
        return [read_page(PageWork(task, i, Page(i + 1, 0, 0, "pixel"), path=path), stages) for i in task.indices]


def _pdf_pages(task: PageTask, path: str, stages: Sequence[PageStage]) -> list[PageResult]:
    with PDFIUM_LOCK:  # uncontended in a worker process; in the caller's own lane it keeps PDFium to one thread
        return _read_pdf_pages(task, path, stages)


def _read_pdf_pages(task: PageTask, path: str, stages: Sequence[PageStage]) -> list[PageResult]:
    pdf = pdfium.PdfDocument(path)
    if task.options.layout:
        pdf.init_forms()  # AcroForm check boxes carry their state in the form, not in the page content
    try:
        out: list[PageResult] = []
        for index in task.indices:
            try:
                handle = pdf[index]
            except pdfium.PdfiumError:  # a broken page is the document's fault, not the server's
                raise InvalidContent(f"Page {index + 1} of the PDF is corrupt and cannot be read.") from None
            try:
                out.append(read_page(PageWork(task, index, Page(index + 1, 0, 0, "inch"), pdf, handle), stages))
            finally:
                handle.close()
        return out
    finally:
        pdf.close()


def read_page(work: PageWork, stages: Sequence[PageStage]) -> PageResult:
    """Run the stages over one page. A :class:`PerceptError` is about the whole document and propagates; any other
    exception fails this page only."""
    try:
        for stage in stages:
            stage(work)
            if work.stop:
                break
    except PerceptError:
        raise
    except Exception as exc:
        p = work.page
        log.exception("page %d failed; the other pages are still read", p.page_number)  # the traceback stays here
        empty = Page(p.page_number, p.width, p.height, p.unit, source="empty")
        return FailedPage(empty, PageError(p.page_number, type(exc).__name__, str(exc)))
    return None if work.deferred else work.page


# --- the stages ----------------------------------------------------------------------------------------------


def text_layer(work: PageWork) -> None:
    """Measure the PDF page and read its text layer; a page with text is finished here but for layout."""
    assert work.handle is not None
    geo = work.geo = page_geometry(work.handle)
    page = work.page
    page.width, page.height = round(geo.width, 4), round(geo.height, 4)
    if work.task.options.text_layer:
        lines = extract_lines(work.handle, geo)
        if lines:
            page.lines, page.source, page.engine = lines, "text-layer", "pdfium"
            page.angle = geometry.normalize_angle(geo.rotation)


def render(work: PageWork) -> None:
    """Render a PDF page without text to gray pixels (a blank page is finished, empty, without rendering)."""
    page, handle, task = work.page, work.handle, work.task
    assert handle is not None
    if page.source == "text-layer":
        return
    if _is_blank(handle):
        page.source, work.stop = "empty", True
        return
    if task.text_layer_only:
        work.deferred = work.stop = True
        return
    # Within the images' pixel budget: large pages at a lower resolution, or refused (validation refuses most
    # such documents before they are accepted; this guards the rest). Polygons are scaled back by the dpi used.
    dpi = render_dpi(
        handle.get_width(), handle.get_height(), task.options.render_dpi, task.limits, page_number=page.page_number
    )
    bitmap = handle.render(scale=dpi / 72.0, grayscale=True)
    # A view, not a copy: the buffer is Python's (pypdfium2's default bitmap maker) and outlives the handle.
    work.gray = bitmap.to_numpy().reshape(bitmap.height, bitmap.width)
    work.dpi = dpi
    bitmap.close()


def load_image(work: PageWork) -> None:
    """An image's page as gray pixels, already upright per EXIF: its shape is the page's."""
    work.gray = load_image_page(work.path, work.index, work.task.limits)
    work.page.width, work.page.height = work.gray.shape[1], work.gray.shape[0]


def find_shapes(work: PageWork) -> None:
    """Layout: rulings and boxes, from the PDF (before its forms are flattened: check box widgets are read from
    the form, with their state) or from the pixels, which OCR then reads with the rulings painted out."""
    if work.gray is None:
        assert work.pdf is not None and work.handle is not None
        work.shapes = pdf_shapes_for(work.pdf, work.handle, work.geo)
    else:
        rules, boxes, work.gray = scan_shapes(work.gray)
        work.shapes = (rules, boxes)


def ocr(work: PageWork) -> None:
    """OCR the pixels in whatever orientation they were scanned; a rendered page's polygons back in inches."""
    page, task = work.page, work.task
    if work.gray is None:
        return
    result, angle = read_image(work.gray, task.options, dpi=work.dpi, max_pixels=task.limits.max_image_pixels)
    lines = fix_units(result.lines)
    page.lines = lines if work.dpi is None else [_scale_line(line, 1.0 / work.dpi) for line in lines]
    page.blocks, page.angle = result.blocks, angle
    page.source, page.engine = "ocr", result.engine or task.options.ocr_engine


def form_values(work: PageWork) -> None:
    """A text-layer page with form fields is read again with the fields' values flattened into it."""
    assert work.handle is not None and work.pdf is not None
    if work.page.source == "text-layer" and has_form_widgets(work.handle):
        work.page.lines = flattened_lines(work.pdf, work.index, work.geo) or work.page.lines


def analyze_layout(work: PageWork) -> None:
    """Layout: tables, selection marks, reading order and roles, from the lines and the shapes."""
    rules, boxes = work.shapes
    if work.dpi is not None:
        rules, boxes = scale_shapes(rules, boxes, 1.0 / work.dpi)
    analyze_page(work.page, rules, boxes)


PDF_STAGES: tuple[PageStage, ...] = (text_layer, render, find_shapes, ocr, form_values, analyze_layout)
IMAGE_STAGES: tuple[PageStage, ...] = (load_image, find_shapes, ocr, analyze_layout)
LAYOUT_ONLY = (find_shapes, analyze_layout)


def page_stages(options: ReadOptions, *, pdf: bool) -> tuple[PageStage, ...]:
    """The stages a page goes through, in order; layout's only when ``options.layout``."""
    stages = PDF_STAGES if pdf else IMAGE_STAGES
    return stages if options.layout else tuple(s for s in stages if s not in LAYOUT_ONLY)


def _is_blank(page: pdfium.PdfPage) -> bool:
    count: int = pdfium.raw.FPDFPage_CountObjects(page)
    return count == 0


def _vertical_share(result: OcrResult) -> float:
    """Share of multi-character lines that run vertically in the image the engine saw.

    Tesseract reads sideways text blocks on its own; such a reading is in the wrong frame (its boxes do not turn
    with the text), so it tells us the page is sideways rather than giving the answer.
    """
    lines = [ln for ln in result.lines if len(ln.content) >= 3]
    if not lines:
        return 0.0
    tall = sum(1 for ln in lines if (ln.polygon[5] - ln.polygon[1]) > 1.5 * (ln.polygon[2] - ln.polygon[0]))
    return tall / len(lines)


def read_image(
    gray: np.ndarray, options: ReadOptions, dpi: float | None = None, max_pixels: int | None = None
) -> tuple[OcrResult, float]:
    """OCR an image in whatever orientation it was scanned; polygons come back in the image's own frame.

    The first turn is judged before reading (:func:`.orientation.likely_turn`: upright unless the characters'
    neighbours clearly run up or down the page, else from a sample read both ways), so a sideways page is usually
    read once; the reading is kept when it is confident and horizontal. One whose lines still run vertically is turned
    the way :mod:`.orientation` judges from those lines; a doubtful one is read again only if its lines stand on
    their heads. The most confident horizontal reading wins. Without ``options.detect_orientation`` only upright
    is read. Enlarging small text (engines that want it) stops at ``max_pixels``, the image's own budget.
    """
    engine = get_engine(options.ocr_engine)
    languages = engine_languages(options.ocr_engine, options.language) or options.ocr_languages
    scale = geometry.ocr_scale(gray) if options.rescale and getattr(engine, "rescales", True) else 1.0
    if max_pixels and scale > 1.0:
        scale = max(1.0, min(scale, math.sqrt(max_pixels / gray.size)))
    hints: dict[str, Any] = {"handwriting": True} if options.handwriting else {}
    skews: dict[int, float] = {}  # per parity: 0/180 share a skew, 90/270 another
    readings: list[tuple[bool, float, OcrResult, float]] = []
    turns = [orientation.likely_turn(gray) if options.detect_orientation else 0]
    tried: set[int] = set()
    while turns:
        rotation = turns.pop(0)
        if rotation in tried:
            continue
        tried.add(rotation)
        parity = rotation % 180
        if parity not in skews:
            skews[parity] = (
                geometry.estimate_skew(geometry.quarter_turn(gray, rotation).image) if options.deskew else 0.0
            )
        view = geometry.straighten(gray, rotation, skews[parity], scale)
        result = engine.recognize(view.image, languages=languages, dpi=round(dpi * scale) if dpi else None, **hints)
        horizontal = _vertical_share(result) <= 0.5
        if not view.is_identity:
            result = replace(result, lines=[geometry.line_to_original(line, view) for line in result.lines])
        readings.append((horizontal, result.score(), result, geometry.normalize_angle(rotation + skews[parity])))
        confident = result.mean_confidence() >= CONFIDENT
        if not options.detect_orientation or result.word_count() == 0 or (horizontal and confident):
            break
        if not horizontal:
            turns = [*orientation.sideways_turns(gray, rotation, result.lines), *turns]
        elif not turns:
            turns = [] if len(tried) > 1 else orientation.second_turn(gray, rotation, result.lines)
            doubtful = max(r[2].mean_confidence() for r in readings) < DOUBTFUL
            if len(tried) == 2 and doubtful and not orientation.can_classify():
                turns = [rotation + 90, rotation + 270]
        turns = [t % 360 for t in turns]
    _, _, best, angle = max(readings, key=lambda r: (r[0], r[1]))
    return best, round(angle, 2)


def _scale(polygon: tuple[float, ...], k: float) -> tuple[float, ...]:
    return tuple(round(v * k, 4) for v in polygon)


def _scale_line(line: Line, k: float) -> Line:
    words = [Word(w.content, _scale(w.polygon, k), w.confidence) for w in line.words]  # type: ignore[arg-type]
    return Line(line.content, _scale(line.polygon, k), words)  # type: ignore[arg-type]
