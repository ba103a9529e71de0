"""The ``analyzeResult`` of Form Recognizer v2.0 and v2.1 layout: readResults, pageResults with tables, and in
v2.1 selection marks. Every ``elements`` pointer resolves into readResults, as the SDK requires."""

from __future__ import annotations

from typing import Any

from ..custom.values import value_key
from ..languages import PageLanguages, page_languages
from ..model import AnalyzedDocument, Document, KeyValueElement, Page, Word

VERSIONS = {"2.0": "2.0.0", "2.1": "2.1.0"}


def _box(polygon: tuple[float, ...]) -> list[float]:
    return list(polygon)


def _read_result(page: Page, v21: bool, langs: PageLanguages) -> dict[str, Any]:
    """A page's text; v2.0's carries the page's language and each line's where it differs (v2.1 dropped both)."""
    out: dict[str, Any] = {
        "page": page.page_number,
        "angle": page.angle,
        "width": page.width,
        "height": page.height,
        "unit": page.unit,
    }
    if not v21 and langs.locale:
        out["language"] = langs.locale
    out["lines"] = [
        {
            "boundingBox": _box(ln.polygon),
            "text": " ".join(w.content for w in ln.words),
            **({"language": locale} if locale and not v21 else {}),
            "words": [
                {"boundingBox": _box(w.polygon), "text": w.content, "confidence": round(w.confidence, 3)}
                for w in ln.words
            ],
            **({"appearance": {"style": {"name": "other", "confidence": 1.0}}} if v21 else {}),
        }
        for ln, locale in zip(page.lines, langs.lines, strict=True)
    ]
    if v21:
        out["selectionMarks"] = [
            {"boundingBox": _box(m.polygon), "confidence": m.confidence, "state": m.state} for m in page.selection_marks
        ]
    return out


def _page_result(page: Page, p: int, v21: bool) -> dict[str, Any]:
    pointer: dict[int, str] = {
        id(w): f"#/readResults/{p}/lines/{li}/words/{wi}"
        for li, ln in enumerate(page.lines)
        for wi, w in enumerate(ln.words)
    }
    marks_at: dict[int, list[str]] = {}
    if v21:
        for s, m in enumerate(page.selection_marks):
            if m.line is not None and not m.is_word:
                marks_at.setdefault(m.line, []).append(f"#/readResults/{p}/selectionMarks/{s}")
    tables = []
    for t in page.tables:
        cells = []
        for c in t.cells:
            lines = page.blocks[c.block] if c.block is not None else []
            words: list[Word] = [w for li in lines for w in page.lines[li].words]
            elements = [pointer[id(w)] for w in words] + [e for li in lines for e in marks_at.get(li, [])]
            cell: dict[str, Any] = {
                "rowIndex": c.row,
                "columnIndex": c.column,
                "text": " ".join(w.content for w in words),
                "boundingBox": _box(c.polygon),
                "confidence": 1.0,
                "elements": elements,
            }
            if c.row_span > 1:
                cell["rowSpan"] = c.row_span
            if c.column_span > 1:
                cell["columnSpan"] = c.column_span
            if c.kind == "columnHeader":
                cell["isHeader"] = True
            cells.append(cell)
        table: dict[str, Any] = {"rows": t.row_count, "columns": t.column_count, "cells": cells}
        if v21:
            table["boundingBox"] = _box(t.polygon)
        tables.append(table)
    return {"page": page.page_number, "tables": tables}


def layout_result(doc: Document, version: str) -> dict[str, Any]:
    v21 = version == "2.1"
    return {
        "version": VERSIONS[version],
        "readResults": [
            _read_result(page, v21, langs) for page, langs in zip(doc.pages, page_languages(doc), strict=True)
        ],
        "pageResults": [_page_result(page, p, v21) for p, page in enumerate(doc.pages)],
    }


def failed_result(version: str, error: dict[str, str]) -> dict[str, Any]:
    """The ``analyzeResult`` of a failed v2 analysis (``error`` as ``percept.server.errors.fr2_operation_error``
    renders it): the SDK raises ``(code) message`` from its first error."""
    return {"version": VERSIONS[version], "readResults": [], "errors": [error]}


def _pointers(doc: Document) -> dict[int, str]:
    return {
        id(w): f"#/readResults/{p}/lines/{li}/words/{wi}"
        for p, page in enumerate(doc.pages)
        for li, ln in enumerate(page.lines)
        for wi, w in enumerate(ln.words)
    }


def _kv_element(el: KeyValueElement, pointer: dict[int, str], details: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"text": el.content, "boundingBox": _box(el.polygon) if el.polygon else []}
    if details:
        out["elements"] = [pointer[id(w)] for w in el.words if id(w) in pointer]
    return out


def custom_result(doc: Document, version: str, include_text: bool) -> dict[str, Any]:
    """Analysis with a custom model trained without labels: layout plus each page's cluster and key-value pairs
    (unkeyed text as ``__Tokens__N``); ``documentResults`` stays empty as Azure leaves it for such models."""
    body = layout_result(doc, version)
    if not include_text:
        for rr in body["readResults"]:
            rr.pop("lines", None)
        for pr in body["pageResults"]:
            for t in pr["tables"]:
                for c in t["cells"]:
                    c.pop("elements", None)
    pointer = _pointers(doc)
    by_page: dict[int, list[dict[str, Any]]] = {}
    for kv in doc.key_value_pairs:
        item: dict[str, Any] = {
            "key": _kv_element(kv.key, pointer, include_text),
            "value": _kv_element(kv.value, pointer, include_text) if kv.value else {"text": "", "boundingBox": []},
            "confidence": kv.confidence,
        }
        if kv.label:
            item["label"] = kv.label
        by_page.setdefault(kv.key.page_number, []).append(item)
    for pr, page in zip(body["pageResults"], doc.pages, strict=True):
        if not doc.documents:  # labelled models report fields in documentResults instead
            pr["keyValuePairs"] = by_page.get(page.page_number, [])
        if page.cluster_id is not None:
            pr["clusterId"] = page.cluster_id
    body["documentResults"] = [_document_result(d, doc, pointer, include_text) for d in doc.documents]
    body["errors"] = []
    return body


def _document_result(d: AnalyzedDocument, doc: Document, pointer: dict[int, str], details: bool) -> dict[str, Any]:
    marks = {
        id(m): f"#/readResults/{p}/selectionMarks/{s}"
        for p, page in enumerate(doc.pages)
        for s, m in enumerate(page.selection_marks)
    }
    fields: dict[str, Any] = {}
    for name, f in d.fields.items():
        if not f.content:
            fields[name] = None  # a field the model knows but did not find, as Azure reports it
            continue
        out: dict[str, Any] = {"type": f.type}
        if f.value is not None:
            out[value_key(f.type)] = f.value
        out.update(
            {
                "text": f.content,
                "page": f.page_number,
                "boundingBox": _box(f.polygon) if f.polygon else [],
                "confidence": f.confidence,
            }
        )
        if details:
            out["elements"] = [pointer[id(w)] for w in f.words if id(w) in pointer] + [
                marks[id(m)] for m in f.marks if id(m) in marks
            ]
        fields[name] = out
    result: dict[str, Any] = {
        "docType": d.doc_type,
        "pageRange": list(d.page_range),
        "fields": fields,
        "docTypeConfidence": d.confidence,
    }
    if d.model_id:
        result["modelId"] = d.model_id
    return result
