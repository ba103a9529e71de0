"""The portable form of a :class:`~percept.model.Document`: plain JSON types, versioned, lossless.

Results outlive the process that made them and may be read by another node or another version of the code, so
they are stored as plain JSON (never pickled: a pickle is tied to this code and runs code when loaded). Spans and
polygons are arrays; words, the bulk of a document, are ``[content, polygon, confidence, offset, length]``.
"""

from __future__ import annotations

from typing import Any

from .model import (
    AnalyzedDocument,
    Document,
    Field,
    KeyValueElement,
    KeyValuePair,
    Language,
    Line,
    Page,
    PageError,
    Paragraph,
    Polygon,
    SelectionMark,
    Span,
    Table,
    TableCell,
    Word,
)

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


def document_to_dict(doc: Document) -> dict[str, Any]:
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
        "errors": [[e.page_number, e.code, e.message] for e in doc.errors],
    }


def document_from_dict(d: dict[str, Any]) -> Document:
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
        errors=[PageError(*e) for e in d.get("errors", ())],  # absent in results stored before it existed
    )
