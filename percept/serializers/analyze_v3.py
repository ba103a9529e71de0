"""The ``analyzeResult`` of Form Recognizer 2022-08-31 and 2023-07-31 and Document Intelligence 2024-11-30.

The three versions share one shape; what differs is listed in :data:`VERSIONS`, so a new version is one entry.
"""

from __future__ import annotations

from typing import Any

from ..model import Document, Page
from .offsets import OffsetMap, StringIndexType

API_VERSION = "2024-11-30"  # the newest, what the CLI prints
VERSIONS: dict[str, dict[str, bool]] = {
    "2022-08-31": {"content_format": False},
    "2023-07-31": {"content_format": False},
    "2024-11-30": {"content_format": True},
}


def _poly(polygon: tuple[float, ...]) -> list[float]:
    return list(polygon)  # rounded where made (4 decimals in inches, 2 in pixels), not on every response


def _page(page: Page, om: OffsetMap) -> dict[str, Any]:
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
    result: dict[str, Any] = {
        "apiVersion": api_version,
        "modelId": model_id,
        "stringIndexType": string_index_type,
        "content": doc.content,
        "pages": [_page(p, om) for p in doc.pages],
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
    if VERSIONS[api_version]["content_format"]:
        result["contentFormat"] = "text"
    return result
