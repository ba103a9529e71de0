"""Lay pages out into one document: paragraphs, the ``content`` string, and every span into it.

Content is written as Azure writes it: for ``text``, one line of text per recognised line, paragraphs in reading
order, pages one after another, joined by newlines; for ``markdown``, what 2024-11-30 writes. Spans are code-point
offsets; serializers convert them to the caller's ``stringIndexType``.
"""

from __future__ import annotations

from typing import Literal

from .model import Document, Line, Page, Paragraph, SelectionMark, Span, Table, bounding_polygon

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


class _Writer:
    """Appends text and hands out code-point spans into it."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.offset = 0

    def write(self, text: str) -> Span:
        span = Span(self.offset, len(text))
        self.parts.append(text)
        self.offset += len(text)
        return span

    def text(self) -> str:
        return "".join(self.parts)


_MARK_TOKENS = {
    "text": {"selected": ":selected:", "unselected": ":unselected:"},
    "markdown": {"selected": "\u2612", "unselected": "\u2610"},
}
_HEADINGS = {"title": "# ", "sectionHeading": "## "}
_COMMENTS = {"pageHeader": "PageHeader", "pageFooter": "PageFooter", "pageNumber": "PageNumber"}


def _write_line(out: _Writer, line: Line, marks: dict[int, list[SelectionMark]], fmt: str) -> None:
    """A line's words separated by spaces, with the tokens of the selection marks placed in it."""
    start = out.offset
    pieces: list[str] = []
    first = True
    for wi in range(len(line.words) + 1):
        for m in marks.get(wi, []):
            if not first:
                out.write(" ")
            token = _MARK_TOKENS[fmt][m.state]
            m.span = out.write(token)
            pieces.append(token)
            first = False
        if wi == len(line.words):
            break
        word = line.words[wi]
        if not first:
            out.write(" ")
        word.span = out.write(word.content)
        pieces.append(word.content)
        first = False
    line.content = " ".join(pieces)
    line.span = Span(start, out.offset - start)


class _PageWriter:
    """Writes one page's blocks into the document, recording paragraphs and the new line order."""

    def __init__(self, out: _Writer, page: Page, fmt: str, paragraphs: list[Paragraph]) -> None:
        self.out, self.page, self.fmt, self.paragraphs = out, page, fmt, paragraphs
        self.groups = _page_groups(page)
        self.roles = page.roles if len(page.roles) == len(self.groups) else [None] * len(self.groups)
        self.inserted: dict[int, dict[int, list[SelectionMark]]] = {}
        for m in page.selection_marks:
            if not m.is_word and m.line is not None:
                self.inserted.setdefault(m.line, {}).setdefault(m.word, []).append(m)
        self.ordered: list[Line] = []
        self.new_line: dict[int, int] = {}
        self.blocks: list[list[int]] = []
        self.written: dict[int, Span] = {}

    def block(self, b: int, prefix: str = "", suffix: str = "", joiner: str = "\n") -> None:
        out, group = self.out, self.groups[b]
        start = out.offset
        if prefix:
            out.write(prefix)
        indices = []
        for k, li in enumerate(group):
            if k:
                out.write(joiner)
            line = self.page.lines[li]
            self.new_line[li] = len(self.ordered)
            _write_line(out, line, self.inserted.get(li, {}), self.fmt)
            indices.append(len(self.ordered))
            self.ordered.append(line)
        if suffix:
            out.write(suffix)
        self.blocks.append(indices)
        span = Span(start, out.offset - start)
        self.written[b] = span
        lines = [self.ordered[i] for i in indices]
        self.paragraphs.append(
            Paragraph(
                page_number=self.page.page_number,
                line_indices=indices,
                polygon=bounding_polygon([ln.polygon for ln in lines]),
                content=" ".join(ln.content for ln in lines),
                span=span,
                role=self.roles[b],
            )
        )

    def table(self, table: Table) -> None:
        """An HTML table as Azure's markdown has it: header cells as <th>, spans as rowspan/colspan."""
        out = self.out
        out.write("<table>\n")
        for r in range(table.row_count):
            out.write("<tr>")
            for cell in (c for c in table.cells if c.row == r):
                tag = "th" if cell.kind != "content" else "td"
                attrs = (f' rowspan="{cell.row_span}"' if cell.row_span > 1 else "") + (
                    f' colspan="{cell.column_span}"' if cell.column_span > 1 else ""
                )
                out.write(f"<{tag}{attrs}>")
                if cell.block is not None:
                    self.block(cell.block, joiner=" ")
                out.write(f"</{tag}>")
            out.write("</tr>\n")
        out.write("</table>")

    def write(self) -> None:
        md = self.fmt == "markdown"
        cell_of = {c.block: t for t in self.page.tables for c in t.cells if c.block is not None}
        tables_done: set[int] = set()
        for b in range(len(self.groups)):
            if b in self.written:
                continue
            role = self.roles[b]
            if md and b in cell_of:
                if id(cell_of[b]) not in tables_done:
                    tables_done.add(id(cell_of[b]))
                    self.table(cell_of[b])
                    self.out.write("\n\n")
                continue
            if md and role in _COMMENTS:
                self.block(b, f'<!-- {_COMMENTS[role]}="', '" -->', joiner=" ")
            elif md:
                self.block(b, _HEADINGS.get(role or "", ""))
            else:
                self.block(b)
            self.out.write("\n\n" if md else "\n")
        self._finish()

    def _finish(self) -> None:
        page = self.page
        for table in page.tables:
            for cell in table.cells:
                if cell.block is not None and cell.block in self.written:
                    cell.span = self.written[cell.block]
                    cell.content = " ".join(page.lines[li].content for li in self.groups[cell.block])
            spans = [c.span for c in table.cells if c.span is not None]
            if spans:
                start = min(sp.offset for sp in spans)
                table.span = Span(start, max(sp.end for sp in spans) - start)
        for m in page.selection_marks:
            if m.line is None or m.line not in self.new_line:
                m.line = None
                continue
            m.line = self.new_line[m.line]
            if m.is_word:
                m.span = self.ordered[m.line].words[m.word].span
        page.lines = self.ordered
        page.blocks = self.blocks


def assemble(
    pages: list[Page], *, mime_type: str, page_count: int, content_format: Literal["text", "markdown"] = "text"
) -> Document:
    """Lay pages out as ``text`` (one line per line, as Azure's read and layout write it) or ``markdown``
    (headings, HTML tables, selection marks as ☒/☐, page breaks); every span points into that content."""
    out = _Writer()
    paragraphs: list[Paragraph] = []
    md = content_format == "markdown"
    for index, page in enumerate(pages):
        if md and index:
            out.write("<!-- PageBreak -->\n\n")
        start = out.offset
        _PageWriter(out, page, content_format, paragraphs).write()
        page.span = Span(start, max(0, out.offset - start - (2 if md else 1)))
    content = out.text().rstrip("\n")
    return Document(
        pages=pages,
        content=content,
        paragraphs=paragraphs,
        mime_type=mime_type,
        page_count=page_count,
        content_format=content_format,
    )
