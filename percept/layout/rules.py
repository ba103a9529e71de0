"""Ruling lines and box candidates: from a PDF page's vector paths, or from a scanned image with OpenCV.

Both come out the same way, as axis-aligned segments in page units (display frame, top-left origin), so table
and check-box analysis never know whether the page was digital or scanned.
"""

from __future__ import annotations

from collections.abc import Iterator
from ctypes import byref, c_float, c_int, c_uint
from itertools import pairwise
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
    """Rulings and small square outlines from a PDF page's path and image objects (top level, where tables are drawn).

    Only what shows counts: white or transparent paint on a white page draws nothing (form generators lay out
    cells with invisible white rectangles), and a rectangle filled inside one of the same colour adds no edge.
    Shaded cells are rulings too; in a banded table the unshaded rows between them get their column edges back.
    """
    page_area = (geo.upright_width * geo.upright_height) * POINTS_PER_INCH**2
    paths: list[tuple[Bounds, tuple[int, ...] | None, pdfium_c.FPDF_PAGEOBJECT, Matrix]] = []
    images: list[tuple[Bounds, pdfium_c.FPDF_PAGEOBJECT]] = []
    left, bottom, right, top = c_float(), c_float(), c_float(), c_float()
    for obj, kind, outer in _objects(page.raw):
        if not pdfium_c.FPDFPageObj_GetBounds(obj, byref(left), byref(bottom), byref(right), byref(top)):
            continue
        bounds = _transform_box(outer, (left.value, bottom.value, right.value, top.value))
        if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            images.append((bounds, obj))
            continue
        if (bounds[2] - bounds[0]) * (bounds[3] - bounds[1]) > 0.5 * page_area:
            continue  # page background
        visible, fill = _paint(obj)
        if visible:
            paths.append((bounds, fill, obj, outer))
    fills = [(b, f) for b, f, _, _ in paths if f is not None]
    pts: list[Bounds] = []  # segments in PDF points
    squares: list[Bounds] = []
    small: list[Bounds] = []
    panels: list[Bounds] = []
    for bounds, fill, obj, outer in paths:
        lx, by, rx, ty = bounds
        w, h = rx - lx, ty - by
        if h <= THIN_PT and w >= MIN_RULE_PT:
            y = (by + ty) / 2
            pts.append((lx, y, rx, y))
            continue
        if w <= THIN_PT and h >= MIN_RULE_PT:
            x = (lx + rx) / 2
            pts.append((x, by, x, ty))
            continue
        if w <= 24.0 and h <= 24.0:
            small.append(bounds)
            if w >= 4.0 and h >= 4.0 and 0.8 <= w / h <= 1.25:
                squares.append(bounds)
            continue
        if fill is not None and any(f == fill and o is not bounds and _within(bounds, o) for o, f in fills):
            continue  # same paint over same paint
        pts.extend(_path_edges(obj, outer))
        if fill is not None and pdfium_c.FPDFPath_CountSegments(obj) <= 6:
            panels.append(bounds)
    pts.extend(_band_edges(panels))
    rules = [_to_page(r, geo) for r in pts]
    boxes = []
    for sq in squares:
        # A mark drawn inside the square (a tick, a cross, a filled dot) makes it selected.
        inside = any(o is not sq and _within(o, sq) for o in small)
        boxes.append(_square_box(sq, geo, 1.0 if inside else 0.0))
    boxes.extend(_picture_boxes(images, geo))
    return PdfShapes(rules, boxes)


Bounds = tuple[float, float, float, float]
Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
WHITE = 245  # each channel at least this: paper colour


def _objects(raw: pdfium_c.FPDF_PAGE) -> Iterator[tuple[pdfium_c.FPDF_PAGEOBJECT, int, Matrix]]:
    """Path and image objects, also inside form XObjects (whole pages are sometimes one form), each with the
    matrix from its container's space to the page."""
    wanted = (pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_IMAGE)
    stack = [[pdfium_c.FPDFPage_GetObject(raw, i) for i in range(pdfium_c.FPDFPage_CountObjects(raw))]]
    outers = [IDENTITY]
    m = pdfium_c.FS_MATRIX()
    while stack:
        objs, outer = stack.pop(), outers.pop()
        for obj in objs:
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind in wanted:
                yield obj, kind, outer
            elif (
                kind == pdfium_c.FPDF_PAGEOBJ_FORM and len(stack) < 8 and pdfium_c.FPDFPageObj_GetMatrix(obj, byref(m))
            ):
                stack.append(
                    [pdfium_c.FPDFFormObj_GetObject(obj, i) for i in range(pdfium_c.FPDFFormObj_CountObjects(obj))]
                )
                outers.append(_compose((m.a, m.b, m.c, m.d, m.e, m.f), outer))


def _compose(inner: Matrix, outer: Matrix) -> Matrix:
    """The matrix applying ``inner`` then ``outer`` (PDF ``[a b c d e f]`` convention)."""
    a, b, c, d, e, f = inner
    oa, ob, oc, od, oe, of = outer
    return (
        oa * a + oc * b,
        ob * a + od * b,
        oa * c + oc * d,
        ob * c + od * d,
        oa * e + oc * f + oe,
        ob * e + od * f + of,
    )


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _transform_box(m: Matrix, box: Bounds) -> Bounds:
    if m == IDENTITY:
        return box
    corners = [_apply(m, x, y) for x in (box[0], box[2]) for y in (box[1], box[3])]
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    return min(xs), min(ys), max(xs), max(ys)


def _paint(obj: pdfium_c.FPDF_PAGEOBJECT) -> tuple[bool, tuple[int, ...] | None]:
    """Whether a path paints anything visible on white paper, and its fill colour when it is filled."""
    fill_mode, stroke = c_int(), c_int()
    if not pdfium_c.FPDFPath_GetDrawMode(obj, byref(fill_mode), byref(stroke)):
        return True, None
    r, g, b, a = c_uint(), c_uint(), c_uint(), c_uint()
    fill = None
    visible = False
    if fill_mode.value and pdfium_c.FPDFPageObj_GetFillColor(obj, byref(r), byref(g), byref(b), byref(a)):
        colour = (r.value, g.value, b.value, a.value)
        if a.value > 0 and min(colour[:3]) < WHITE:
            fill, visible = colour, True
    if stroke.value and pdfium_c.FPDFPageObj_GetStrokeColor(obj, byref(r), byref(g), byref(b), byref(a)):
        visible = visible or (a.value > 0 and min(r.value, g.value, b.value) < WHITE)
    return visible, fill


def _band_edges(panels: list[Bounds]) -> list[Bounds]:
    """Column edges across the unshaded rows of a banded table.

    Shaded cells stacked in one column with a row-high gap between them are rows of the same column; the plain
    row between carries the same column edges, which no path draws.
    """
    out: list[Bounds] = []
    by_column: dict[tuple[int, int], list[Bounds]] = {}
    for p in panels:
        by_column.setdefault((round(p[0] / 2), round(p[2] / 2)), []).append(p)
    for column in by_column.values():
        column.sort(key=lambda p: -p[3])
        for upper, lower in pairwise(column):
            gap = upper[1] - lower[3]
            if 0 < gap <= 2.0 * max(upper[3] - upper[1], lower[3] - lower[1]):
                out.append((upper[0], lower[3], upper[0], upper[1]))
                out.append((upper[2], lower[3], upper[2], upper[1]))
    return out


MAX_MARK_PICTURE_PIXELS = 4_000_000  # a check box picture of 2000x2000 px is already absurdly fine


def _picture_boxes(images: list[tuple[Bounds, pdfium_c.FPDF_PAGEOBJECT]], geo: PageGeometry) -> list[Box]:
    """Check boxes placed as small pictures (some form generators draw ☐/☒ as images, not paths or glyphs)."""
    out: list[Box] = []
    for bounds, obj in images:
        w, h = bounds[2] - bounds[0], bounds[3] - bounds[1]
        if not (6.0 <= w <= 36.0 and 6.0 <= h <= 36.0 and 0.6 <= w / h <= 1.6):
            continue
        # Decoding a picture costs its full pixel count, whatever its size on the page: a mark needs few.
        px_w, px_h = c_uint(), c_uint()
        if not pdfium_c.FPDFImageObj_GetImagePixelSize(obj, byref(px_w), byref(px_h)):
            continue
        if px_w.value * px_h.value > MAX_MARK_PICTURE_PIXELS:
            continue
        raw_bitmap = pdfium_c.FPDFImageObj_GetBitmap(obj)
        if not raw_bitmap:
            continue
        try:
            gray = np.asarray(pdfium.PdfBitmap.from_raw(raw_bitmap).to_pil().convert("L"))
        except (pdfium.PdfiumError, OSError, ValueError):
            continue
        if gray.size == 0:
            continue
        import cv2

        ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
        px, py = w / gray.shape[1], h / gray.shape[0]
        for b in _image_boxes(ink, 0.5 * min(gray.shape)):
            # image rows run top-down; PDF points bottom-up
            sq = (bounds[0] + b.x0 * px, bounds[3] - b.y1 * py, bounds[0] + b.x1 * px, bounds[3] - b.y0 * py)
            out.append(_square_box(sq, geo, b.fill)._replace(round=b.round))
    return out


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


def _path_edges(obj: pdfium_c.FPDF_PAGEOBJECT, outer: Matrix = IDENTITY) -> list[tuple[float, float, float, float]]:
    """Axis-aligned edges of a path's subpaths; a thin subpath is one ruling.

    Some generators draw a whole table's rulings as one filled path of many thin rectangles, so thin subpaths
    count whatever the path's size; edges of other subpaths only in paths small enough not to be drawings.
    """
    n = pdfium_c.FPDFPath_CountSegments(obj)
    if n <= 1:
        return []
    own = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, byref(own)):
        return []
    m = _compose((own.a, own.b, own.c, own.d, own.e, own.f), outer)
    x, y = c_float(), c_float()
    subpaths: list[tuple[list[tuple[float, float]], list[tuple[float, float, float, float]]]] = []
    start = prev = None
    for i in range(n):
        seg = pdfium_c.FPDFPath_GetPathSegment(obj, i)
        pdfium_c.FPDFPathSegment_GetPoint(seg, byref(x), byref(y))
        point = _apply(m, x.value, y.value)
        kind = pdfium_c.FPDFPathSegment_GetType(seg)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO or not subpaths:
            subpaths.append(([point], []))
            start = prev = point
            if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
                continue
        points, edges = subpaths[-1]
        points.append(point)
        if prev is not None and kind == pdfium_c.FPDF_SEGMENT_LINETO:
            edges.append((*prev, *point))
        prev = point
        if pdfium_c.FPDFPathSegment_GetClose(seg) and start is not None:
            edges.append((*point, *start))
            prev = start
    out = []
    for points, edges in subpaths:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        w, h = max(xs) - min(xs), max(ys) - min(ys)
        if h <= THIN_PT and w >= MIN_RULE_PT:
            out.append((min(xs), (min(ys) + max(ys)) / 2, max(xs), (min(ys) + max(ys)) / 2))
        elif w <= THIN_PT and h >= MIN_RULE_PT:
            out.append(((min(xs) + max(xs)) / 2, min(ys), (min(xs) + max(xs)) / 2, max(ys)))
        elif n <= MAX_SEGMENTS:
            out.extend(e for e in edges if _axis_aligned(e))
    return out


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
    # The rulings' own pixels (non-zero), as found: on a skewed scan a ruling runs across rows, which its
    # straight-line summary in ``rules`` does not follow, so painting a ruling out paints these.
    ruling_ink: np.ndarray | None = None


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
    ruling_ink = np.zeros_like(ink)
    for kernel, horizontal in (((length, 1), True), ((1, length), False)):
        mask = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, kernel))
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 1) if horizontal else (1, 3)))
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        kept = np.zeros(n, dtype=bool)
        for label, (x, y, bw, bh, _area) in enumerate(stats[1:n], 1):
            long_side, short_side = (bw, bh) if horizontal else (bh, bw)
            if long_side < length or short_side > max(thick, 0.06 * long_side):
                continue
            kept[label] = True
            # Plain floats: numpy scalars would leak into the JSON responses.
            if horizontal:
                rules.append(Rule(float(x), float(y + bh / 2), float(x + bw), float(y + bh / 2)))
            else:
                rules.append(Rule(float(x + bw / 2), float(y), float(x + bw / 2), float(y + bh)))
        ruling_ink[kept[labels] & (mask > 0)] = 255
    return ImageShapes(rules, _image_boxes(ink, text_height), ruling_ink)


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
