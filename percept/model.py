"""The internal document model: richer than any API version, shaped like none of them.

Engines and the PDF text layer produce pages of lines of words with polygons and confidences; the assembler
(:mod:`percept.assemble`) lays them out into one ``content`` string and fills every span. Each API family and
version is a serializer over :class:`Document`; a serializer may drop data, never invent it.

Coordinates are in the page's own unit (``inch`` for PDF pages, ``pixel`` for images), with the origin at the
top-left of the page *as submitted* (after EXIF orientation and the PDF's /Rotate), x to the right, y down.
Polygons are 8 numbers, clockwise from the top-left corner of the text as read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

Polygon = tuple[float, float, float, float, float, float, float, float]
Unit = Literal["inch", "pixel"]


class Span(NamedTuple):
    """A range of ``Document.content`` in Unicode code points (a tuple: cheap to make, copy and pickle)."""

    offset: int
    length: int

    @property
    def end(self) -> int:
        return self.offset + self.length


NO_SPAN = Span(0, 0)  # until the assembler lays the document out


@dataclass(slots=True)
class Word:
    content: str
    polygon: Polygon
    confidence: float
    span: Span = NO_SPAN

    def __reduce__(self) -> tuple[Any, ...]:
        # Pages cross process boundaries by the thousand; a plain tuple pickles ~10x faster than slots state.
        return (Word, (self.content, self.polygon, self.confidence, self.span))


@dataclass(slots=True)
class Line:
    content: str
    polygon: Polygon
    words: list[Word]
    span: Span = NO_SPAN

    def __reduce__(self) -> tuple[Any, ...]:
        return (Line, (self.content, self.polygon, self.words, self.span))


@dataclass(slots=True)
class Paragraph:
    """Consecutive lines of one page that belong together; ``role`` is set by layout analysis."""

    page_number: int
    line_indices: list[int]
    polygon: Polygon
    content: str = ""
    span: Span = NO_SPAN
    role: str | None = None


@dataclass(slots=True)
class TableCell:
    """One cell; ``block`` is the index in ``Page.blocks`` of the paragraph holding its lines (None: empty)."""

    row: int
    column: int
    polygon: Polygon
    row_span: int = 1
    column_span: int = 1
    kind: Literal["content", "columnHeader", "rowHeader", "stubHead"] = "content"
    block: int | None = None
    content: str = ""
    span: Span | None = None


@dataclass(slots=True)
class Table:
    """A table on one page (a table that continues on the next page is one table per page, as Azure reports)."""

    page_number: int
    row_count: int
    column_count: int
    cells: list[TableCell]
    polygon: Polygon
    span: Span | None = None


@dataclass(slots=True)
class SelectionMark:
    """A check box or radio button. ``line``/``word`` place its token in the content: ``word`` is the index of
    the word it is (a ☒ glyph) when ``is_word``, else the position it is inserted before."""

    state: Literal["selected", "unselected"]
    polygon: Polygon
    confidence: float
    line: int | None = None
    word: int = 0
    is_word: bool = False
    span: Span | None = None


@dataclass(slots=True)
class Page:
    page_number: int
    width: float
    height: float
    unit: Unit
    angle: float = 0.0
    lines: list[Line] = field(default_factory=list)
    span: Span = NO_SPAN
    source: Literal["text-layer", "ocr", "empty"] = "ocr"
    engine: str | None = None
    # Paragraph grouping as the engine saw it: line indices per block, in reading order.
    blocks: list[list[int]] = field(default_factory=list)
    # Set by layout analysis: a role per block (None: body text), tables and selection marks.
    roles: list[str | None] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    selection_marks: list[SelectionMark] = field(default_factory=list)
    # Set by a custom model trained without labels: which form type (cluster) the page was matched to.
    cluster_id: int | None = None

    @property
    def words(self) -> list[Word]:
        return [w for line in self.lines for w in line.words]


@dataclass(slots=True)
class KeyValueElement:
    content: str
    page_number: int
    polygon: Polygon
    words: list[Word]
    span: Span | None = None


@dataclass(slots=True)
class KeyValuePair:
    key: KeyValueElement
    value: KeyValueElement | None
    confidence: float
    # Custom models without labels name values found under no key ``__Tokens__N`` (the key is then that label).
    label: str | None = None


@dataclass(slots=True)
class Field:
    """A named value a model extracted: its ``type`` (string, number, integer, date, time, selectionMark), the
    typed ``value`` (None when the text does not parse), the text as printed, and where it was found."""

    type: str
    value: Any
    content: str
    page_number: int | None = None
    polygon: Polygon | None = None
    words: list[Word] = field(default_factory=list)
    marks: list[SelectionMark] = field(default_factory=list)
    confidence: float = 0.0


@dataclass(slots=True)
class AnalyzedDocument:
    """A document a model recognised: its type (``custom:<model>``), pages and fields."""

    doc_type: str
    page_range: tuple[int, int]
    fields: dict[str, Field]
    confidence: float
    model_id: str | None = None


@dataclass(slots=True)
class Language:
    locale: str
    spans: list[Span]
    confidence: float


@dataclass(slots=True)
class PageError:
    """A page that could not be read (``code``: what failed); the other pages were, and this one is left empty."""

    page_number: int
    code: str
    message: str


@dataclass(slots=True)
class Document:
    pages: list[Page]
    content: str = ""
    paragraphs: list[Paragraph] = field(default_factory=list)
    languages: list[Language] = field(default_factory=list)
    mime_type: str = "application/octet-stream"
    page_count: int = 0  # pages in the source, also those not selected
    content_format: Literal["text", "markdown"] = "text"
    key_value_pairs: list[KeyValuePair] = field(default_factory=list)
    documents: list[AnalyzedDocument] = field(default_factory=list)
    errors: list[PageError] = field(default_factory=list)  # pages that failed: read in part (partial success)

    @property
    def status(self) -> Literal["succeeded", "partiallySucceeded", "failed"]:
        failed = len({e.page_number for e in self.errors})
        return "succeeded" if not failed else "failed" if failed >= len(self.pages) else "partiallySucceeded"

    @property
    def tables(self) -> list[Table]:
        return [t for p in self.pages for t in p.tables]

    def to_dict(self) -> dict[str, Any]:
        """The document as plain JSON types, versioned (``perceptDocumentFormat``): what results are stored as,
        readable by any process or node, unlike a pickle."""
        from .portable import document_to_dict

        return document_to_dict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Document:
        """The inverse of :meth:`to_dict`; a format version this code does not know raises ``ValueError``."""
        from .portable import document_from_dict

        return document_from_dict(d)


def bounding_polygon(polygons: list[Polygon]) -> Polygon:
    """Axis-aligned box around polygons, as a polygon."""
    xs = [p[i] for p in polygons for i in (0, 2, 4, 6)]
    ys = [p[i] for p in polygons for i in (1, 3, 5, 7)]
    x0, y0, x1, y1 = float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys))
    return (x0, y0, x1, y0, x1, y1, x0, y1)


def box_polygon(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return (x0, y0, x1, y0, x1, y1, x0, y1)
