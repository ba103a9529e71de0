"""Words and lines straight from a PDF page's text layer (pypdfium2), with no OCR.

A page's text layer is used only when it is good: present, non-empty and mostly made of characters with a real
Unicode mapping. Scans (no text), and fonts without a ToUnicode map (private-use or unmapped glyphs) return None
so the page is OCR'd instead.
"""

from __future__ import annotations

import re
from ctypes import byref, c_double
from dataclasses import dataclass
from itertools import pairwise

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from .lines import sort_rows
from .model import Line, Polygon, Word

POINTS_PER_INCH = 72.0
# Share of suspicious characters above which a text layer is considered garbage.
MAX_BAD_CHAR_RATIO = 0.1
# Characters sampled for pdfium's unicode-map check (it costs one call each).
QUALITY_SAMPLE = 256
# A gap wider than this many line heights splits one pdfium line into two (columns, table cells).
COLUMN_GAP = 1.5

_WORD = re.compile(r"\S+")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(slots=True)
class PageGeometry:
    """A PDF page's displayed size in inches, its /Rotate, and the maps between its frames.

    Lines are built in the *upright* frame (the unrotated page, top-left origin, inches), where text runs left
    to right; :meth:`to_display` then turns each polygon into the page as displayed, keeping the corner order,
    so a word on a page with /Rotate 90 starts at its own top-left corner as Azure's polygons do.
    """

    width: float
    height: float
    rotation: int
    left: float
    bottom: float
    upright_width: float
    upright_height: float

    def to_upright(self, x: float, y: float) -> tuple[float, float]:
        k = 1.0 / POINTS_PER_INCH
        return (x - self.left) * k, self.upright_height - (y - self.bottom) * k

    def to_display(self, polygon: Polygon) -> Polygon:
        w, h, r = self.upright_width, self.upright_height, self.rotation
        if r == 0:
            return polygon
        out: list[float] = []
        for x, y in zip(polygon[0::2], polygon[1::2], strict=True):
            if r == 90:
                x, y = h - y, x
            elif r == 180:
                x, y = w - x, h - y
            else:
                x, y = y, w - x
            out += (x, y)
        return tuple(out)  # type: ignore[return-value]


def page_geometry(page: pdfium.PdfPage) -> PageGeometry:
    left, bottom, right, top = page.get_cropbox()
    w, h = (right - left) / POINTS_PER_INCH, (top - bottom) / POINTS_PER_INCH
    rotation = page.get_rotation() % 360
    dw, dh = (h, w) if rotation in (90, 270) else (w, h)
    return PageGeometry(dw, dh, rotation, left, bottom, w, h)


# Code points a real text layer does not produce: replacement chars, private use (glyph ids leaking through
# fonts without a ToUnicode map), controls other than line breaks and tabs, non-characters.
_SUSPICIOUS = re.compile("[\ufffd\ue000-\uf8ff\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_VISIBLE = re.compile(r"\S")


def _text_is_good(textpage: pdfium.PdfTextPage, text: str) -> bool:
    visible = len(_VISIBLE.findall(text))
    if not visible:
        return False
    if len(_SUSPICIOUS.findall(text)) > MAX_BAD_CHAR_RATIO * visible:
        return False
    # pdfium knows which glyphs had no Unicode mapping; ask for an evenly spread sample (one call each).
    handle = textpage.raw
    step = max(1, len(text) // QUALITY_SAMPLE)
    sample = [i for i in range(0, len(text), step) if not text[i].isspace()]
    if not sample:
        return True
    bad_map = sum(1 for i in sample if pdfium_c.FPDFText_HasUnicodeMapError(handle, i) == 1)
    return bad_map <= MAX_BAD_CHAR_RATIO * len(sample)


def _page_text(textpage: pdfium.PdfTextPage, n_chars: int) -> str:
    """The page text with one string character per pdfium char index, so indices are shared."""
    text: str = textpage.get_text_range(0, n_chars)
    if len(text) == n_chars:
        return text
    # Rare: pdfium inserted or dropped characters; rebuild char by char (surrogates become U+FFFD).
    chars = []
    for i in range(n_chars):
        cp = pdfium_c.FPDFText_GetUnicode(textpage, i)
        chars.append(chr(cp) if 0 < cp < 0xD800 or 0xDFFF < cp < 0x110000 else "\ufffd")
    return "".join(chars)


class _Rects:
    """Word boxes through pdfium's raw API with reused out-parameters: this is the hot loop of digital PDFs."""

    def __init__(self, textpage: pdfium.PdfTextPage) -> None:
        self.handle = textpage.raw
        self.l, self.t, self.r, self.b = c_double(), c_double(), c_double(), c_double()
        self.refs = (byref(self.l), byref(self.t), byref(self.r), byref(self.b))

    def box(self, start: int, length: int) -> tuple[float, float, float, float] | None:
        """Union of the rectangles of a character range, as (left, bottom, right, top) in PDF points."""
        n = pdfium_c.FPDFText_CountRects(self.handle, start, length)
        if n <= 0:
            return None
        get = pdfium_c.FPDFText_GetRect
        get(self.handle, 0, *self.refs)
        x0, y0, x1, y1 = self.l.value, self.b.value, self.r.value, self.t.value
        for i in range(1, n):
            get(self.handle, i, *self.refs)
            x0, y0 = min(x0, self.l.value), min(y0, self.b.value)
            x1, y1 = max(x1, self.r.value), max(y1, self.t.value)
        return x0, y0, x1, y1


def extract_lines(page: pdfium.PdfPage, geometry: PageGeometry | None = None) -> list[Line] | None:
    """The page's lines of words from its text layer, or None when the layer is absent or garbage."""
    geometry = geometry or page_geometry(page)
    textpage = page.get_textpage()
    try:
        n_chars = textpage.count_chars()
        if n_chars <= 0:
            return None
        text = _page_text(textpage, n_chars)
        if not _text_is_good(textpage, text):
            return None
        rects = _Rects(textpage)
        lines: list[Line] = []
        pos = 0
        for segment in _LINE_BREAK.split(text):
            words = []
            for m in _WORD.finditer(segment):
                box = rects.box(pos + m.start(), m.end() - m.start())
                if box is None:
                    continue
                words.append(_make_word(m.group(), box, geometry))
            if words:
                lines.extend(_split_at_gaps(words))
            pos += len(segment) + _break_len(text, pos + len(segment))
        if geometry.rotation:
            # pdfium orders the text of a rotated page as displayed; restore upright reading order first.
            lines = [_to_display(line, geometry) for line in sort_rows(lines)]
        return lines
    finally:
        textpage.close()


def _break_len(text: str, at: int) -> int:
    if text.startswith("\r\n", at):
        return 2
    return 1 if at < len(text) else 0


def _make_word(content: str, box: tuple[float, float, float, float], geometry: PageGeometry) -> Word:
    """A word in the upright frame (inline arithmetic of :meth:`PageGeometry.to_upright`: this runs per word)."""
    k = 1.0 / POINTS_PER_INCH
    left, right = (box[0] - geometry.left) * k, (box[2] - geometry.left) * k
    top = geometry.upright_height - (box[3] - geometry.bottom) * k
    bot = geometry.upright_height - (box[1] - geometry.bottom) * k
    return Word(content, (left, top, right, top, right, bot, left, bot), 1.0)


def _to_display(line: Line, geometry: PageGeometry) -> Line:
    words = [Word(w.content, geometry.to_display(w.polygon), w.confidence) for w in line.words]
    return Line(line.content, geometry.to_display(line.polygon), words)


def _split_at_gaps(words: list[Word]) -> list[Line]:
    """Split a pdfium line where the horizontal gap between words is wider than a column gap."""
    heights = sorted(w.polygon[5] - w.polygon[1] for w in words)
    limit = COLUMN_GAP * max(heights[len(heights) // 2], 1e-6)
    groups: list[list[Word]] = [[words[0]]]
    for prev, word in pairwise(words):
        gap = word.polygon[0] - prev.polygon[2]
        vertical_jump = abs(word.polygon[1] - prev.polygon[1]) > limit
        if gap > limit or gap < -limit or vertical_jump:
            groups.append([word])
        else:
            groups[-1].append(word)
    return [Line(" ".join(w.content for w in g), _row_box(g), g) for g in groups]


def _row_box(words: list[Word]) -> Polygon:
    """Axis-aligned box of words in the upright frame (cheaper than bounding_polygon: this runs per line)."""
    top = min(w.polygon[1] for w in words)
    bot = max(w.polygon[5] for w in words)
    left, right = min(w.polygon[0] for w in words), max(w.polygon[2] for w in words)
    return (left, top, right, top, right, bot, left, bot)


def has_form_widgets(page: pdfium.PdfPage) -> bool:
    """Whether the page has form widgets with an appearance: filled-in fields are drawn by these, not by the
    page content, so their values are missing from the plain text layer."""
    for i in range(pdfium_c.FPDFPage_GetAnnotCount(page.raw)):
        annot = pdfium_c.FPDFPage_GetAnnot(page.raw, i)
        try:
            if pdfium_c.FPDFAnnot_GetSubtype(annot) == pdfium_c.FPDF_ANNOT_WIDGET and pdfium_c.FPDFAnnot_HasKey(
                annot, b"AP"
            ):
                return True
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)
    return False


def flattened_lines(pdf: pdfium.PdfDocument, index: int, geometry: PageGeometry) -> list[Line] | None:
    """The page's lines with its form fields' values, as printed: the widgets are flattened into the page
    content of this in-memory copy (never saved), then the page is reloaded and read."""
    page = pdf[index]
    try:
        pdfium_c.FPDFPage_Flatten(page.raw, pdfium_c.FLAT_PRINT)
    finally:
        page.close()
    page = pdf[index]  # pdfium requires a reload after flattening
    try:
        return extract_lines(page, geometry)
    finally:
        page.close()
