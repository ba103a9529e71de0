"""The internal document model: richer than any API version, shaped like none of them.

Engines and the PDF text layer produce pages of lines of words with polygons and confidences; the assembler
(:mod:`percept.assemble`) lays them out into one ``content`` string and fills every span. Each API family and
version is a serializer over :class:`Document`; a serializer may drop data, never invent it.

Coordinates are in the page's own unit (``inch`` for PDF pages, ``pixel`` for images), with the origin at the
top-left of the page *as submitted* (after EXIF orientation and the PDF's /Rotate), x to the right, y down.
Polygons are 8 numbers, clockwise from the top-left corner of the text as read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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

    @property
    def words(self) -> list[Word]:
        return [w for line in self.lines for w in line.words]


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        def span(d: dict[str, Any] | list[int]) -> Span:
            return Span(**d) if isinstance(d, dict) else Span(*d)

        pages = []
        for p in data["pages"]:
            lines = [
                Line(
                    content=ln["content"],
                    polygon=tuple(ln["polygon"]),  # type: ignore[arg-type]
                    words=[
                        Word(w["content"], tuple(w["polygon"]), w["confidence"], span(w["span"]))  # type: ignore[arg-type]
                        for w in ln["words"]
                    ],
                    span=span(ln["span"]),
                )
                for ln in p["lines"]
            ]
            pages.append(
                Page(
                    page_number=p["page_number"],
                    width=p["width"],
                    height=p["height"],
                    unit=p["unit"],
                    angle=p["angle"],
                    lines=lines,
                    span=span(p["span"]),
                    source=p["source"],
                    engine=p["engine"],
                    blocks=[list(b) for b in p["blocks"]],
                )
            )
        paragraphs = [
            Paragraph(
                page_number=g["page_number"],
                line_indices=list(g["line_indices"]),
                polygon=tuple(g["polygon"]),  # type: ignore[arg-type]
                content=g["content"],
                span=span(g["span"]),
                role=g["role"],
            )
            for g in data["paragraphs"]
        ]
        languages = [Language(x["locale"], [span(s) for s in x["spans"]], x["confidence"]) for x in data["languages"]]
        return cls(
            pages=pages,
            content=data["content"],
            paragraphs=paragraphs,
            languages=languages,
            mime_type=data["mime_type"],
            page_count=data["page_count"],
        )


def bounding_polygon(polygons: list[Polygon]) -> Polygon:
    """Axis-aligned box around polygons, as a polygon."""
    xs = [p[i] for p in polygons for i in (0, 2, 4, 6)]
    ys = [p[i] for p in polygons for i in (1, 3, 5, 7)]
    x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
    return (x0, y0, x1, y0, x1, y1, x0, y1)


def box_polygon(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return (x0, y0, x1, y0, x1, y1, x0, y1)
