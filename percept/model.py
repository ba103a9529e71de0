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

    @property
    def tables(self) -> list[Table]:
        return [t for p in self.pages for t in p.tables]

    def to_dict(self) -> dict[str, Any]:
        """The document as plain JSON types, versioned (``perceptDocumentFormat``): what results are stored as,
        readable by any process or node, unlike a pickle."""
        return _document_to_dict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Document:
        """The inverse of :meth:`to_dict`; a format version this code does not know raises ``ValueError``."""
        return _document_from_dict(d)


def bounding_polygon(polygons: list[Polygon]) -> Polygon:
    """Axis-aligned box around polygons, as a polygon."""
    xs = [p[i] for p in polygons for i in (0, 2, 4, 6)]
    ys = [p[i] for p in polygons for i in (1, 3, 5, 7)]
    x0, y0, x1, y1 = float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys))
    return (x0, y0, x1, y0, x1, y1, x0, y1)


def box_polygon(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return (x0, y0, x1, y0, x1, y1, x0, y1)


# --- portable form -----------------------------------------------------------------------------------------
# Results outlive the process that made them and may be read by another node or another version of the code, so
# they are stored as plain JSON (never pickled: a pickle is tied to this code and runs code when loaded). Spans and
# polygons are arrays; words, the bulk of a document, are ``[content, polygon, confidence, offset, length]``.

FORMAT_VERSION = 1
FORMAT_KEY = "perceptDocumentFormat"


def _span(s: Span | None) -> list[int] | None:
    return None if s is None else [s.offset, s.length]


def _mkspan(v: list[int]) -> Span:
    """``Span(*v)`` without NamedTuple's Python-level ``__new__``: ~10x faster, and there is one per word."""
    return tuple.__new__(Span, v)


def _span_in(v: list[int] | None) -> Span | None:
    return None if v is None else _mkspan(v)


def _poly_in(v: list[float]) -> Polygon:
    return tuple(v)  # type: ignore[return-value]


def _word(w: Word) -> list[Any]:
    return [w.content, list(w.polygon), w.confidence, w.span.offset, w.span.length]


def _word_in(v: list[Any]) -> Word:
    return Word(v[0], tuple(v[1]), v[2], _mkspan(v[3:5]))


def _mark(m: SelectionMark) -> dict[str, Any]:
    return {
        "state": m.state,
        "polygon": list(m.polygon),
        "confidence": m.confidence,
        "line": m.line,
        "word": m.word,
        "isWord": m.is_word,
        "span": _span(m.span),
    }


def _mark_in(d: dict[str, Any]) -> SelectionMark:
    return SelectionMark(
        d["state"], _poly_in(d["polygon"]), d["confidence"], d["line"], d["word"], d["isWord"], _span_in(d["span"])
    )


def _cell(c: TableCell) -> dict[str, Any]:
    return {
        "row": c.row,
        "column": c.column,
        "polygon": list(c.polygon),
        "rowSpan": c.row_span,
        "columnSpan": c.column_span,
        "kind": c.kind,
        "block": c.block,
        "content": c.content,
        "span": _span(c.span),
    }


def _cell_in(d: dict[str, Any]) -> TableCell:
    return TableCell(
        d["row"],
        d["column"],
        _poly_in(d["polygon"]),
        d["rowSpan"],
        d["columnSpan"],
        d["kind"],
        d["block"],
        d["content"],
        _span_in(d["span"]),
    )


def _table(t: Table) -> dict[str, Any]:
    return {
        "pageNumber": t.page_number,
        "rowCount": t.row_count,
        "columnCount": t.column_count,
        "cells": [_cell(c) for c in t.cells],
        "polygon": list(t.polygon),
        "span": _span(t.span),
    }


def _table_in(d: dict[str, Any]) -> Table:
    cells = [_cell_in(c) for c in d["cells"]]
    return Table(d["pageNumber"], d["rowCount"], d["columnCount"], cells, _poly_in(d["polygon"]), _span_in(d["span"]))


def _page(p: Page) -> dict[str, Any]:
    return {
        "pageNumber": p.page_number,
        "width": p.width,
        "height": p.height,
        "unit": p.unit,
        "angle": p.angle,
        "lines": [
            {
                "content": ln.content,
                "polygon": list(ln.polygon),
                "words": [_word(w) for w in ln.words],
                "span": _span(ln.span),
            }
            for ln in p.lines
        ],
        "span": _span(p.span),
        "source": p.source,
        "engine": p.engine,
        "blocks": [list(b) for b in p.blocks],
        "roles": list(p.roles),
        "tables": [_table(t) for t in p.tables],
        "selectionMarks": [_mark(m) for m in p.selection_marks],
        "clusterId": p.cluster_id,
    }


def _page_in(d: dict[str, Any]) -> Page:
    lines = [
        Line(ln["content"], _poly_in(ln["polygon"]), [_word_in(w) for w in ln["words"]], _mkspan(ln["span"]))
        for ln in d["lines"]
    ]
    return Page(
        page_number=d["pageNumber"],
        width=d["width"],
        height=d["height"],
        unit=d["unit"],
        angle=d["angle"],
        lines=lines,
        span=_mkspan(d["span"]),
        source=d["source"],
        engine=d["engine"],
        blocks=[list(b) for b in d["blocks"]],
        roles=list(d["roles"]),
        tables=[_table_in(t) for t in d["tables"]],
        selection_marks=[_mark_in(m) for m in d["selectionMarks"]],
        cluster_id=d["clusterId"],
    )


def _element(e: KeyValueElement | None) -> dict[str, Any] | None:
    if e is None:
        return None
    return {
        "content": e.content,
        "pageNumber": e.page_number,
        "polygon": list(e.polygon),
        "words": [_word(w) for w in e.words],
        "span": _span(e.span),
    }


def _element_in(d: dict[str, Any] | None) -> KeyValueElement | None:
    if d is None:
        return None
    words = [_word_in(w) for w in d["words"]]
    return KeyValueElement(d["content"], d["pageNumber"], _poly_in(d["polygon"]), words, _span_in(d["span"]))


def _field(f: Field) -> dict[str, Any]:
    return {
        "type": f.type,
        "value": f.value,  # str, int, float or None (see percept.custom.values.typed_value)
        "content": f.content,
        "pageNumber": f.page_number,
        "polygon": None if f.polygon is None else list(f.polygon),
        "words": [_word(w) for w in f.words],
        "marks": [_mark(m) for m in f.marks],
        "confidence": f.confidence,
    }


def _field_in(d: dict[str, Any]) -> Field:
    return Field(
        d["type"],
        d["value"],
        d["content"],
        d["pageNumber"],
        None if d["polygon"] is None else _poly_in(d["polygon"]),
        [_word_in(w) for w in d["words"]],
        [_mark_in(m) for m in d["marks"]],
        d["confidence"],
    )


def _document_to_dict(doc: Document) -> dict[str, Any]:
    return {
        FORMAT_KEY: FORMAT_VERSION,
        "pages": [_page(p) for p in doc.pages],
        "content": doc.content,
        "paragraphs": [
            {
                "pageNumber": g.page_number,
                "lineIndices": list(g.line_indices),
                "polygon": list(g.polygon),
                "content": g.content,
                "span": _span(g.span),
                "role": g.role,
            }
            for g in doc.paragraphs
        ],
        "languages": [
            {"locale": lang.locale, "spans": [_span(s) for s in lang.spans], "confidence": lang.confidence}
            for lang in doc.languages
        ],
        "mimeType": doc.mime_type,
        "pageCount": doc.page_count,
        "contentFormat": doc.content_format,
        "keyValuePairs": [
            {"key": _element(kv.key), "value": _element(kv.value), "confidence": kv.confidence, "label": kv.label}
            for kv in doc.key_value_pairs
        ],
        "documents": [
            {
                "docType": a.doc_type,
                "pageRange": list(a.page_range),
                "fields": {name: _field(f) for name, f in a.fields.items()},
                "confidence": a.confidence,
                "modelId": a.model_id,
            }
            for a in doc.documents
        ],
    }


def _document_from_dict(d: dict[str, Any]) -> Document:
    version = d.get(FORMAT_KEY)
    if version != FORMAT_VERSION:
        raise ValueError(f"unsupported document format version {version!r} (this version reads {FORMAT_VERSION})")
    return Document(
        pages=[_page_in(p) for p in d["pages"]],
        content=d["content"],
        paragraphs=[
            Paragraph(
                g["pageNumber"],
                list(g["lineIndices"]),
                _poly_in(g["polygon"]),
                g["content"],
                _mkspan(g["span"]),
                g["role"],
            )
            for g in d["paragraphs"]
        ],
        languages=[Language(x["locale"], [_mkspan(s) for s in x["spans"]], x["confidence"]) for x in d["languages"]],
        mime_type=d["mimeType"],
        page_count=d["pageCount"],
        content_format=d["contentFormat"],
        key_value_pairs=[
            KeyValuePair(_element_in(kv["key"]), _element_in(kv["value"]), kv["confidence"], kv["label"])  # type: ignore[arg-type]
            for kv in d["keyValuePairs"]
        ],
        documents=[
            AnalyzedDocument(
                a["docType"],
                (a["pageRange"][0], a["pageRange"][1]),
                {name: _field_in(f) for name, f in a["fields"].items()},
                a["confidence"],
                a["modelId"],
            )
            for a in d["documents"]
        ],
    )
