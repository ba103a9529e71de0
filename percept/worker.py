"""Page work that runs in worker processes: text layer, rendering, orientation, OCR.

Tasks are small picklable values (the document's path and page indices); each worker reopens the document, so
pages travel between processes as results only, never as pixels.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

import numpy as np
import pypdfium2 as pdfium

from . import geometry, lifeline
from .config import Limits, ReadOptions
from .errors import InvalidContent
from .layout.page import analyze_page, pdf_shapes_for, scale_shapes, scan_shapes
from .model import Line, Page, Word
from .ocr import OcrResult, get_engine
from .source import DocumentRef, load_image_page, render_dpi
from .textlayer import extract_lines, flattened_lines, has_form_widgets, page_geometry

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


def init_worker() -> None:
    """Worker set-up: tied to the server's life and deaf to the group's stop signals (see :mod:`.lifeline`), and
    one thread per process (the pool provides the parallelism)."""
    lifeline.bind_worker()
    os.environ["OMP_THREAD_LIMIT"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    import cv2

    cv2.setNumThreads(1)


def run_task(task: PageTask) -> list[Page | None]:
    if task.ref.is_pdf:
        return _pdf_pages(task)
    return [_image_page(task, i) for i in task.indices]


def _pdf_pages(task: PageTask) -> list[Page | None]:
    pdf = pdfium.PdfDocument(task.ref.path)
    if task.options.layout:
        pdf.init_forms()  # AcroForm check boxes carry their state in the form, not in the page content
    try:
        out: list[Page | None] = []
        for index in task.indices:
            try:
                page = pdf[index]
            except pdfium.PdfiumError:  # a broken page is the document's fault, not the server's
                raise InvalidContent(f"Page {index + 1} of the PDF is corrupt and cannot be read.") from None
            try:
                out.append(_pdf_page(task, index, page, pdf))
            finally:
                page.close()
        return out
    finally:
        pdf.close()


def _pdf_page(task: PageTask, index: int, page: pdfium.PdfPage, pdf: pdfium.PdfDocument) -> Page | None:
    geo = page_geometry(page)
    result = Page(page_number=index + 1, width=round(geo.width, 4), height=round(geo.height, 4), unit="inch")
    if task.options.text_layer:
        lines = extract_lines(page, geo)
        if lines:
            # Shapes before flattening: check box widgets are read from the form, with their state.
            shapes = pdf_shapes_for(pdf, page, geo) if task.options.layout else None
            if has_form_widgets(page):
                lines = flattened_lines(pdf, index, geo) or lines
            result.lines, result.source, result.engine = lines, "text-layer", "pdfium"
            result.angle = geometry.normalize_angle(geo.rotation)
            if shapes is not None:
                analyze_page(result, *shapes)
            return result
    if _is_blank(page):
        result.source = "empty"
        return result
    if task.text_layer_only:
        return None
    # Within the images' pixel budget: large pages at a lower resolution, or refused (validation refuses most
    # such documents before they are accepted; this guards the rest). Polygons are scaled back by the dpi used.
    dpi = render_dpi(page.get_width(), page.get_height(), task.options.render_dpi, task.limits, page_number=index + 1)
    bitmap = page.render(scale=dpi / 72.0, grayscale=True)
    # A view, not a copy: the buffer is Python's (pypdfium2's default bitmap maker) and outlives the handle.
    gray = bitmap.to_numpy().reshape(bitmap.height, bitmap.width)
    bitmap.close()
    if task.options.layout:
        rules, boxes, gray = scan_shapes(gray)
    ocr, angle = read_image(gray, task.options, dpi=dpi, max_pixels=task.limits.max_image_pixels)
    result.lines = [_scale_line(line, 1.0 / dpi) for line in ocr.lines]
    result.blocks, result.angle = ocr.blocks, angle
    result.source, result.engine = "ocr", task.options.ocr_engine
    if task.options.layout:
        analyze_page(result, *scale_shapes(rules, boxes, 1.0 / dpi))
    return result


def _is_blank(page: pdfium.PdfPage) -> bool:
    count: int = pdfium.raw.FPDFPage_CountObjects(page)
    return count == 0


def _image_page(task: PageTask, index: int) -> Page:
    gray = load_image_page(task.ref, index, task.limits)  # already upright per EXIF: its shape is the page's
    if task.options.layout:
        rules, boxes, gray = scan_shapes(gray)
    ocr, angle = read_image(gray, task.options, max_pixels=task.limits.max_image_pixels)
    page = Page(
        page_number=index + 1,
        width=gray.shape[1],
        height=gray.shape[0],
        unit="pixel",
        angle=angle,
        lines=ocr.lines,
        blocks=ocr.blocks,
        source="ocr",
        engine=task.options.ocr_engine,
    )
    if task.options.layout:
        analyze_page(page, rules, boxes)
    return page


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

    Upright is read first and kept when it is confident and horizontal (one pass for ordinary pages). A
    vertical reading means the page is sideways, so 90 and 270 are tried next; a doubtful horizontal one tries
    180 first. The most confident horizontal reading wins. Without ``options.detect_orientation`` only upright is
    read. Enlarging small text stops at ``max_pixels``, the budget the image itself was held to.
    """
    engine = get_engine(options.ocr_engine)
    scale = geometry.ocr_scale(gray) if options.rescale else 1.0
    if max_pixels and scale > 1.0:
        scale = max(1.0, min(scale, math.sqrt(max_pixels / gray.size)))
    skews: dict[int, float] = {}  # per parity: 0/180 share a skew, 90/270 another
    readings: list[tuple[bool, float, OcrResult, float]] = []
    turns = [0]
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
        result = engine.recognize(view.image, languages=options.ocr_languages, dpi=round(dpi * scale) if dpi else None)
        horizontal = _vertical_share(result) <= 0.5
        if not view.is_identity:
            result = OcrResult([_map_line(line, view) for line in result.lines], result.blocks)
        readings.append((horizontal, result.score(), result, geometry.normalize_angle(rotation + skews[parity])))
        confident = result.mean_confidence() >= CONFIDENT
        if not options.detect_orientation or result.word_count() == 0 or (horizontal and confident):
            break
        if not horizontal:
            turns = [rotation + 90, rotation + 270, *turns]
        elif not turns:
            turns = [rotation + 180] if len(tried) == 1 else []
            if len(tried) == 2 and max(r[2].mean_confidence() for r in readings) < DOUBTFUL:
                turns = [rotation + 90, rotation + 270]
        turns = [t % 360 for t in turns]
    _, _, best, angle = max(readings, key=lambda r: (r[0], r[1]))
    return best, round(angle, 2)


def _map_line(line: Line, view: geometry.Straightened) -> Line:
    words = [replace(w, polygon=view.to_original(w.polygon)) for w in line.words]
    return Line(line.content, view.to_original(line.polygon), words)


def _scale(polygon: tuple[float, ...], k: float) -> tuple[float, ...]:
    return tuple(round(v * k, 4) for v in polygon)


def _scale_line(line: Line, k: float) -> Line:
    words = [Word(w.content, _scale(w.polygon, k), w.confidence) for w in line.words]  # type: ignore[arg-type]
    return Line(line.content, _scale(line.polygon, k), words)  # type: ignore[arg-type]
