"""Lay pages out into one document: paragraphs, the ``content`` string, and every span into it.

Content is written as Azure writes it for prebuilt-read: one line of text per recognised line, paragraphs in
reading order, pages one after another, joined by newlines. Spans are code-point offsets; serializers convert
them to the caller's ``stringIndexType``.
"""

from __future__ import annotations

from .model import Document, Line, Page, Paragraph, Span, bounding_polygon

# Lines further apart than this many line heights start a new paragraph.
PARAGRAPH_GAP = 0.75
# A line whose height differs from the paragraph's by more than this ratio starts a new one (headings).
HEIGHT_CHANGE = 1.35


def _height(line: Line) -> float:
    return max(line.polygon[5] - line.polygon[1], 1e-6)


def group_lines(lines: list[Line]) -> list[list[int]]:
    """Paragraphs by geometry, for pages whose source gave no grouping (the PDF text layer)."""
    groups: list[list[int]] = []
    for i, line in enumerate(lines):
        if groups:
            prev = lines[groups[-1][-1]]
            h = min(_height(prev), _height(line))
            gap = line.polygon[1] - prev.polygon[5]
            overlaps = line.polygon[0] < prev.polygon[2] and prev.polygon[0] < line.polygon[2]
            ratio = max(_height(prev), _height(line)) / h
            if -0.5 * h <= gap <= PARAGRAPH_GAP * h and overlaps and ratio <= HEIGHT_CHANGE:
                groups[-1].append(i)
                continue
        groups.append([i])
    return groups


def _page_groups(page: Page) -> list[list[int]]:
    """The page's paragraphs as line indices; every line exactly once, engine grouping preferred."""
    if not page.blocks:
        return group_lines(page.lines)
    seen: set[int] = set()
    groups = []
    for block in page.blocks:
        g = [i for i in block if 0 <= i < len(page.lines) and i not in seen]
        seen.update(g)
        if g:
            groups.append(g)
    groups.extend([i] for i in range(len(page.lines)) if i not in seen)
    return groups


def assemble(pages: list[Page], *, mime_type: str, page_count: int) -> Document:
    parts: list[str] = []
    offset = 0
    paragraphs: list[Paragraph] = []
    for page in pages:
        page_start = offset
        ordered: list[Line] = []
        page_blocks: list[list[int]] = []
        for group in _page_groups(page):
            para_start = offset
            indices = []
            for li in group:
                line = page.lines[li]
                line_start = offset
                for wi, word in enumerate(line.words):
                    if wi:
                        parts.append(" ")
                        offset += 1
                    n = len(word.content)
                    word.span = Span(offset, n)
                    parts.append(word.content)
                    offset += n
                line.content = " ".join(w.content for w in line.words)
                line.span = Span(line_start, offset - line_start)
                indices.append(len(ordered))
                ordered.append(line)
                parts.append("\n")
                offset += 1
            page_blocks.append(indices)
            para_lines = [ordered[i] for i in indices]
            paragraphs.append(
                Paragraph(
                    page_number=page.page_number,
                    line_indices=indices,
                    polygon=bounding_polygon([ln.polygon for ln in para_lines]),
                    content=" ".join(ln.content for ln in para_lines),
                    span=Span(para_start, offset - 1 - para_start),
                )
            )
        page.lines = ordered
        page.blocks = page_blocks
        page.span = Span(page_start, max(0, offset - 1 - page_start))
    content = "".join(parts)
    if content.endswith("\n"):
        content = content[:-1]
    return Document(pages=pages, content=content, paragraphs=paragraphs, mime_type=mime_type, page_count=page_count)
