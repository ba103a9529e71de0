"""Computer Vision text results: v3.x Read, v2.x/v1.0 Recognize Text and batch Read, and the synchronous OCR.

Read results keep the page's unit (pixel for images, inch for PDF) and 8-number polygons; the legacy OCR API
speaks integer "x,y,w,h" boxes grouped into regions (our paragraphs).
"""

from __future__ import annotations

import math
from typing import Any

from ..languages import page_languages
from ..model import Document, Page, Polygon

READ_VERSION = "3.2.0"
READ_MODEL_VERSION = "2022-04-30"


def _num(v: float, unit: str) -> float | int:
    return round(v) if unit == "pixel" else round(v, 4)


def _poly(p: Polygon, unit: str) -> list[float | int]:
    return [_num(v, unit) for v in p]


def _lines(page: Page, *, appearance: bool, confidence: bool) -> list[dict[str, Any]]:
    out = []
    for line in page.lines:
        item: dict[str, Any] = {"boundingBox": _poly(line.polygon, page.unit), "text": line.content}
        if appearance:
            item["appearance"] = {"style": {"name": "other", "confidence": 1.0}}
        words = []
        for w in line.words:
            word: dict[str, Any] = {"boundingBox": _poly(w.polygon, page.unit), "text": w.content}
            if confidence:
                word["confidence"] = round(w.confidence, 3)
            words.append(word)
        item["words"] = words
        out.append(item)
    return out


def read_results_v3(doc: Document) -> dict[str, Any]:
    """``analyzeResult`` of ``GET /vision/v3.x/read/analyzeResults/{id}``: a page's ``language`` is its main one,
    a line's only where it differs (as in the service's own example)."""
    pages = []
    for p, langs in zip(doc.pages, page_languages(doc), strict=True):
        lines = _lines(p, appearance=True, confidence=True)
        for line, locale in zip(lines, langs.lines, strict=True):
            if locale:
                line["language"] = locale
        page: dict[str, Any] = {"page": p.page_number}
        if langs.locale:
            page["language"] = langs.locale
        page.update({"angle": p.angle, "width": p.width, "height": p.height, "unit": p.unit, "lines": lines})
        pages.append(page)
    return {"version": READ_VERSION, "modelVersion": READ_MODEL_VERSION, "readResults": pages}


def recognition_result(page: Page) -> dict[str, Any]:
    """``recognitionResult`` of v1.0/v2.x ``textOperations`` (one image, integer polygons)."""
    return {"lines": _lines(page, appearance=False, confidence=False)}


def recognition_results_v21(doc: Document) -> list[dict[str, Any]]:
    """``recognitionResults`` of v2.1 ``read/operations/{id}``."""
    return [
        {
            "page": p.page_number,
            "clockwiseOrientation": round(p.angle % 360, 2),
            "width": p.width,
            "height": p.height,
            "unit": p.unit,
            "lines": _lines(p, appearance=False, confidence=True),
        }
        for p in doc.pages
    ]


def _box(p: Polygon) -> str:
    xs, ys = p[0::2], p[1::2]
    x0, y0 = math.floor(min(xs)), math.floor(min(ys))
    return f"{x0},{y0},{math.ceil(max(xs)) - x0},{math.ceil(max(ys)) - y0}"


def _orientation(angle: float) -> str:
    """Where the top of the text faces (text turned clockwise by ``angle`` degrees)."""
    quarter = round(angle / 90.0) % 4
    return ("Up", "Right", "Down", "Left")[quarter]


def ocr_result(doc: Document, *, language: str = "en", detect_orientation: bool = True) -> dict[str, Any]:
    """Synchronous ``POST /vision/v*/ocr``: regions (paragraphs) of lines of words with "x,y,w,h" boxes."""
    page = doc.pages[0]
    regions = []
    for para in (g for g in doc.paragraphs if g.page_number == page.page_number):
        lines = [page.lines[i] for i in para.line_indices]
        regions.append(
            {
                "boundingBox": _box(para.polygon),
                "lines": [
                    {
                        "boundingBox": _box(line.polygon),
                        "words": [{"boundingBox": _box(w.polygon), "text": w.content} for w in line.words],
                    }
                    for line in lines
                ],
            }
        )
    skew = page.angle - 90.0 * round(page.angle / 90.0)
    result: dict[str, Any] = {"language": language, "textAngle": round(-skew, 4), "regions": regions}
    # The spec: "If detection of the orientation was not requested, or no text is detected, ... 'NotDetected'".
    result["orientation"] = _orientation(page.angle) if page.lines and detect_orientation else "NotDetected"
    return result
