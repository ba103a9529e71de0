"""Convert code-point spans to the caller's ``stringIndexType``.

``unicodeCodePoint`` is Python's own indexing; ``utf16CodeUnit`` counts characters outside the BMP twice (what
.NET and JavaScript callers index with); ``textElements`` counts user-perceived characters, approximated here as a
base character with its combining marks.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from typing import Literal

from ..model import Span

StringIndexType = Literal["textElements", "unicodeCodePoint", "utf16CodeUnit"]
STRING_INDEX_TYPES: tuple[str, ...] = ("textElements", "unicodeCodePoint", "utf16CodeUnit")


class OffsetMap:
    """Maps code-point offsets of one content string to another index type."""

    def __init__(self, content: str, kind: StringIndexType) -> None:
        self.kind = kind
        # Code-point positions where the other index type advances differently (sorted), with the delta there.
        self._points: list[int] = []
        self._shift: list[int] = []
        shift = 0
        for i, ch in enumerate(content):
            if kind == "utf16CodeUnit" and ord(ch) > 0xFFFF:
                shift += 1
            elif kind == "textElements" and i and unicodedata.combining(ch):
                shift -= 1
            else:
                continue
            self._points.append(i + 1)
            self._shift.append(shift)

    def offset(self, cp: int) -> int:
        if not self._points:
            return cp
        k = bisect_right(self._points, cp)
        return cp + (self._shift[k - 1] if k else 0)

    def span(self, span: Span) -> dict[str, int]:
        start = self.offset(span.offset)
        return {"offset": start, "length": self.offset(span.end) - start}
