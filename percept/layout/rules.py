"""Ruling lines and box candidates: from a PDF page's vector paths, or from a scanned image with OpenCV.

Both come out the same way, as axis-aligned segments in page units (display frame, top-left origin), so table
and check-box analysis never know whether the page was digital or scanned.
"""

from __future__ import annotations

from ctypes import byref, c_float
from typing import NamedTuple

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..textlayer import POINTS_PER_INCH, PageGeometry

# Thinner than this (points) a filled or stroked shape is a line.
THIN_PT = 2.5
# Shorter than this (points) a segment is not a ruling.
MIN_RULE_PT = 4.0
# Paths with more segments than this are drawings (charts, logos), not rulings.
MAX_SEGMENTS = 400


class Rule(NamedTuple):
    """An axis-aligned segment; horizontal when ``y0 == y1`` after normalisation."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def horizontal(self) -> bool:
        return (self.x1 - self.x0) >= (self.y1 - self.y0)


class Box(NamedTuple):
    """A small closed shape that may be a check box or radio button; ``fill`` is the ink share inside it."""

    x0: float
    y0: float
    x1: float
    y1: float
    round: bool
    fill: float


def _norm(x0: float, y0: float, x1: float, y1: float) -> Rule:
    x0, x1 = min(x0, x1), max(x0, x1)
    y0, y1 = min(y0, y1), max(y0, y1)
    if x1 - x0 >= y1 - y0:
        y = (y0 + y1) / 2
        return Rule(x0, y, x1, y)
    x = (x0 + x1) / 2
    return Rule(x, y0, x, y1)


class PdfShapes(NamedTuple):
    rules: list[Rule]
    boxes: list[Box]


def pdf_shapes(page: pdfium.PdfPage, geo: PageGeometry) -> PdfShapes:
    """Rulings and small square outlines from a PDF page's path objects (top level, where tables are drawn)."""
    raw = page.raw
    pts: list[tuple[float, float, float, float]] = []  # in PDF points
    squares: list[tuple[float, float, float, float]] = []
    small: list[tuple[float, float, float, float]] = []
    page_area = (geo.upright_width * geo.upright_height) * POINTS_PER_INCH**2
    left, bottom, right, top = c_float(), c_float(), c_float(), c_float()
    for i in range(pdfium_c.FPDFPage_CountObjects(raw)):
        obj = pdfium_c.FPDFPage_GetObject(raw, i)
        if pdfium_c.FPDFPageObj_GetType(obj) != pdfium_c.FPDF_PAGEOBJ_PATH:
            continue
        if not pdfium_c.FPDFPageObj_GetBounds(obj, byref(left), byref(bottom), byref(right), byref(top)):
            continue
        w, h = right.value - left.value, top.value - bottom.value
        if w * h > 0.5 * page_area:
            continue  # page background
        if h <= THIN_PT and w >= MIN_RULE_PT:
            y = (bottom.value + top.value) / 2
            pts.append((left.value, y, right.value, y))
            continue
        if w <= THIN_PT and h >= MIN_RULE_PT:
            x = (left.value + right.value) / 2
            pts.append((x, bottom.value, x, top.value))
            continue
        if w <= 24.0 and h <= 24.0:
            small.append((left.value, bottom.value, right.value, top.value))
            if w >= 4.0 and h >= 4.0 and 0.8 <= w / h <= 1.25:
                squares.append(small[-1])
            continue
        pts.extend(_path_edges(obj))
    rules = [_to_page(r, geo) for r in pts]
    boxes = []
    for sq in squares:
        # A mark drawn inside the square (a tick, a cross, a filled dot) makes it selected.
        inside = any(o is not sq and _within(o, sq) for o in small)
        boxes.append(_square_box(sq, geo, 1.0 if inside else 0.0))
    return PdfShapes(rules, boxes)


def _within(inner: tuple[float, float, float, float], outer: tuple[float, float, float, float]) -> bool:
    return (
        inner[0] >= outer[0] - 0.5
        and inner[1] >= outer[1] - 0.5
        and inner[2] <= outer[2] + 0.5
        and inner[3] <= outer[3] + 0.5
        and (inner[2] - inner[0]) < (outer[2] - outer[0]) - 0.5
    )


def pdf_form_boxes(pdf: pdfium.PdfDocument, page: pdfium.PdfPage, geo: PageGeometry) -> list[Box]:
    """AcroForm check boxes and radio buttons with their checked state (needs ``pdf.init_forms()``)."""
    form = getattr(pdf, "formenv", None)
    if form is None:
        return []
    out = []
    rect = pdfium_c.FS_RECTF()
    for i in range(pdfium_c.FPDFPage_GetAnnotCount(page.raw)):
        annot = pdfium_c.FPDFPage_GetAnnot(page.raw, i)
        try:
            if pdfium_c.FPDFAnnot_GetSubtype(annot) != pdfium_c.FPDF_ANNOT_WIDGET:
                continue
            kind = pdfium_c.FPDFAnnot_GetFormFieldType(form.raw, annot)
            if kind not in (pdfium_c.FPDF_FORMFIELD_CHECKBOX, pdfium_c.FPDF_FORMFIELD_RADIOBUTTON):
                continue
            if not pdfium_c.FPDFAnnot_GetRect(annot, byref(rect)):
                continue
            checked = bool(pdfium_c.FPDFAnnot_IsChecked(form.raw, annot))
            box = _square_box((rect.left, rect.bottom, rect.right, rect.top), geo, 1.0 if checked else 0.0)
            out.append(box._replace(round=kind == pdfium_c.FPDF_FORMFIELD_RADIOBUTTON))
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)
    return out


def _path_edges(obj: pdfium_c.FPDF_PAGEOBJECT) -> list[tuple[float, float, float, float]]:
    n = pdfium_c.FPDFPath_CountSegments(obj)
    if n <= 1 or n > MAX_SEGMENTS:
        return []
    m = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, byref(m)):
        return []
    x, y = c_float(), c_float()
    out = []
    start = prev = None
    for i in range(n):
        seg = pdfium_c.FPDFPath_GetPathSegment(obj, i)
        pdfium_c.FPDFPathSegment_GetPoint(seg, byref(x), byref(y))
        point = (m.a * x.value + m.c * y.value + m.e, m.b * x.value + m.d * y.value + m.f)
        kind = pdfium_c.FPDFPathSegment_GetType(seg)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
            start = prev = point
            continue
        if prev is not None and kind == pdfium_c.FPDF_SEGMENT_LINETO:
            out.append((*prev, *point))
        prev = point
        if pdfium_c.FPDFPathSegment_GetClose(seg) and start is not None:
            out.append((*point, *start))
            prev = start
    return [e for e in out if _axis_aligned(e)]


def _axis_aligned(e: tuple[float, float, float, float]) -> bool:
    dx, dy = abs(e[2] - e[0]), abs(e[3] - e[1])
    return (dy <= 1.0 and dx >= MIN_RULE_PT) or (dx <= 1.0 and dy >= MIN_RULE_PT)


def _to_page(r: tuple[float, float, float, float], geo: PageGeometry) -> Rule:
    x0, y0 = geo.to_upright(r[0], r[1])
    x1, y1 = geo.to_upright(r[2], r[3])
    poly = geo.to_display((x0, y0, x1, y1, x1, y1, x0, y0))
    return _norm(round(poly[0], 4), round(poly[1], 4), round(poly[2], 4), round(poly[3], 4))


def _square_box(s: tuple[float, float, float, float], geo: PageGeometry, fill: float) -> Box:
    x0, y0 = geo.to_upright(s[0], s[3])
    x1, y1 = geo.to_upright(s[2], s[1])
    poly = geo.to_display((x0, y0, x1, y0, x1, y1, x0, y1))
    xs, ys = poly[0::2], poly[1::2]
    return Box(round(min(xs), 4), round(min(ys), 4), round(max(xs), 4), round(max(ys), 4), False, fill)


class ImageShapes(NamedTuple):
    rules: list[Rule]
    boxes: list[Box]


def image_shapes(gray: np.ndarray, text_height: float) -> ImageShapes:
    """Rulings (morphological opening with long thin kernels) and box-shaped contours from a page image.

    ``text_height`` (pixels) scales what counts as a ruling (far longer than a character) and a check box
    (about a character's size).
    """
    import cv2

    ink = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)
    length = int(max(25, 3.0 * text_height))
    thick = max(4.0, 0.5 * text_height)
    rules: list[Rule] = []
    for kernel, horizontal in (((length, 1), True), ((1, length), False)):
        mask = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, kernel))
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 1) if horizontal else (1, 3)))
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        for x, y, bw, bh, _area in stats[1:n]:
            long_side, short_side = (bw, bh) if horizontal else (bh, bw)
            if long_side < length or short_side > max(thick, 0.06 * long_side):
                continue
            # Plain floats: numpy scalars would leak into the JSON responses.
            if horizontal:
                rules.append(Rule(float(x), float(y + bh / 2), float(x + bw), float(y + bh / 2)))
            else:
                rules.append(Rule(float(x + bw / 2), float(y), float(x + bw / 2), float(y + bh)))
    return ImageShapes(rules, _image_boxes(ink, text_height))


def _image_boxes(ink: np.ndarray, text_height: float) -> list[Box]:
    import cv2

    lo, hi = 0.6 * text_height, 2.6 * text_height
    contours, _ = cv2.findContours(ink, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    found: list[Box] = []
    for c in contours:
        x, y, bw, bh = cv2.boundingRect(c)
        if not (lo <= bw <= hi and lo <= bh <= hi and 0.75 <= bw / bh <= 1.33):
            continue
        area = cv2.contourArea(c)
        if area < 0.5 * bw * bh:
            continue
        peri = cv2.arcLength(c, True)
        approx = cv2.approxPolyDP(c, 0.08 * peri, True)
        circularity = 4 * np.pi * area / (peri * peri) if peri else 0.0
        square = len(approx) == 4 and cv2.isContourConvex(approx) and area > 0.8 * bw * bh
        circle = not square and circularity > 0.8 and len(approx) > 4
        if not (square or circle):
            continue
        found.append(Box(float(x), float(y), float(x + bw), float(y + bh), circle, 0.0))
    boxes = _outermost(found)
    out = []
    for b in boxes:
        x0, y0, x1, y1 = int(b.x0), int(b.y0), int(b.x1), int(b.y1)
        m = max(2, int(0.2 * (x1 - x0)))  # skip the outline itself
        inner = ink[y0 + m : y1 - m, x0 + m : x1 - m]
        fill = float(inner.mean() / 255.0) if inner.size else 0.0
        out.append(b._replace(fill=round(fill, 3)))
    return out


def _outermost(boxes: list[Box]) -> list[Box]:
    """The outer outline of each box (a stroked square gives an outer and an inner contour)."""
    boxes = sorted(boxes, key=lambda b: -(b.x1 - b.x0) * (b.y1 - b.y0))
    kept: list[Box] = []
    for b in boxes:
        if any(k.x0 - 2 <= b.x0 and k.y0 - 2 <= b.y0 and b.x1 <= k.x1 + 2 and b.y1 <= k.y1 + 2 for k in kept):
            continue
        kept.append(b)
    return kept
