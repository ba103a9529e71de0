"""The ``analyzeResult`` of Form Recognizer 2022-08-31 and 2023-07-31 and Document Intelligence 2024-11-30 and
2025-09-01.

The versions share one shape; what differs is listed in :data:`VERSIONS`, so a new version is one entry.
"""

from __future__ import annotations

from typing import Any

from ..custom.values import value_key
from ..model import AnalyzedDocument, Document, Field, KeyValueElement, Page, Span, Table
from .offsets import OffsetMap, StringIndexType

API_VERSION = "2024-11-30"  # the newest, what the CLI prints
VERSIONS: dict[str, dict[str, bool]] = {
    "2022-08-31": {"content_format": False},
    "2023-07-31": {"content_format": False},
    "2024-11-30": {"content_format": True},
    "2025-09-01": {"content_format": True},  # the same AnalyzeResult definition as 2024-11-30
}


def _poly(polygon: tuple[float, ...]) -> list[float]:
    return list(polygon)  # rounded where made (4 decimals in inches, 2 in pixels), not on every response


def _region(page_number: int, polygon: tuple[float, ...]) -> list[dict[str, Any]]:
    return [{"pageNumber": page_number, "polygon": _poly(polygon)}]


def _spans(span: Span | None, om: OffsetMap) -> list[dict[str, int]]:
    return [om.span(span)] if span is not None else []


def _table(t: Table, om: OffsetMap) -> dict[str, Any]:
    return {
        "rowCount": t.row_count,
        "columnCount": t.column_count,
        "cells": [
            {
                **({"kind": c.kind} if c.kind != "content" else {}),
                "rowIndex": c.row,
                "columnIndex": c.column,
                **({"rowSpan": c.row_span} if c.row_span > 1 else {}),
                **({"columnSpan": c.column_span} if c.column_span > 1 else {}),
                "content": c.content,
                "boundingRegions": _region(t.page_number, c.polygon),
                "spans": _spans(c.span, om),
            }
            for c in t.cells
        ],
        "boundingRegions": _region(t.page_number, t.polygon),
        "spans": _spans(t.span, om),
    }


def _kv_element(e: KeyValueElement, om: OffsetMap) -> dict[str, Any]:
    return {"content": e.content, "boundingRegions": _region(e.page_number, e.polygon), "spans": _spans(e.span, om)}


def _page(page: Page, om: OffsetMap, layout: bool) -> dict[str, Any]:
    out = _page_read(page, om)
    if layout:
        out["selectionMarks"] = [
            {
                "state": m.state,
                "polygon": _poly(m.polygon),
                "confidence": m.confidence,
                "span": om.span(m.span) if m.span is not None else {"offset": 0, "length": 0},
            }
            for m in page.selection_marks
        ]
    return out


def _page_read(page: Page, om: OffsetMap) -> dict[str, Any]:
    return {
        "pageNumber": page.page_number,
        "angle": page.angle,
        "width": page.width,
        "height": page.height,
        "unit": page.unit,
        "words": [
            {
                "content": w.content,
                "polygon": _poly(w.polygon),
                "confidence": round(w.confidence, 3),
                "span": om.span(w.span),
            }
            for w in page.words
        ],
        "lines": [
            {"content": ln.content, "polygon": _poly(ln.polygon), "spans": [om.span(ln.span)]} for ln in page.lines
        ],
        "spans": [om.span(page.span)],
    }


def analyze_result(
    doc: Document,
    *,
    api_version: str = API_VERSION,
    model_id: str = "prebuilt-read",
    string_index_type: StringIndexType = "textElements",
) -> dict[str, Any]:
    om = OffsetMap(doc.content, string_index_type)
    layout = model_id != "prebuilt-read"
    result: dict[str, Any] = {
        "apiVersion": api_version,
        "modelId": model_id,
        "stringIndexType": string_index_type,
        "content": doc.content,
        "pages": [_page(p, om, layout) for p in doc.pages],
        "paragraphs": [
            {
                "spans": [om.span(g.span)],
                "boundingRegions": [{"pageNumber": g.page_number, "polygon": _poly(g.polygon)}],
                "content": g.content,
                **({"role": g.role} if g.role else {}),
            }
            for g in doc.paragraphs
        ],
        "styles": [],
        "languages": [
            {"locale": lang.locale, "spans": [om.span(s) for s in lang.spans], "confidence": lang.confidence}
            for lang in doc.languages
        ],
    }
    if layout:
        result["tables"] = [_table(t, om) for t in doc.tables]
    if layout and (doc.key_value_pairs or model_id == "prebuilt-document"):
        result["keyValuePairs"] = [
            {
                "key": _kv_element(kv.key, om),
                **({"value": _kv_element(kv.value, om)} if kv.value else {}),
                "confidence": kv.confidence,
            }
            for kv in doc.key_value_pairs
        ]
    if doc.documents:
        result["documents"] = [_document(d, doc, om) for d in doc.documents]
    if VERSIONS[api_version]["content_format"]:
        result["contentFormat"] = doc.content_format
    return result


def _field(f: Field, om: OffsetMap) -> dict[str, Any]:
    out: dict[str, Any] = {"type": f.type}
    if not f.content:
        out["confidence"] = f.confidence
        return out  # known to the model, not found on this document
    if f.value is not None:
        out[value_key(f.type)] = f.value
    out["content"] = f.content
    if f.polygon is not None and f.page_number is not None:
        out["boundingRegions"] = _region(f.page_number, f.polygon)
    spans = [w.span for w in f.words] + [m.span for m in f.marks if m.span is not None]
    if spans:
        start, end = min(sp.offset for sp in spans), max(sp.end for sp in spans)
        out["spans"] = [om.span(Span(start, end - start))]
    out["confidence"] = f.confidence
    return out


def _document(d: AnalyzedDocument, doc: Document, om: OffsetMap) -> dict[str, Any]:
    first, last = d.page_range
    return {
        "docType": d.doc_type,
        "boundingRegions": [
            {"pageNumber": p.page_number, "polygon": [0, 0, p.width, 0, p.width, p.height, 0, p.height]}
            for p in doc.pages
            if first <= p.page_number <= last
        ],
        "fields": {name: _field(f, om) for name, f in d.fields.items()},
        "confidence": d.confidence,
        "spans": [om.span(Span(0, len(doc.content)))],
    }
