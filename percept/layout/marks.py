"""Selection marks: check-box glyphs in text (☐ ☑ ☒), vector squares and AcroForm fields in PDFs, and box or
circle outlines in scans, each with its state. A shape becomes a mark only when it is the size of the text around
it, holds no text of its own and is not one letter of a word (a scanned "D", "O" or "B" outlines like a box), so
letters, bullets and table cells are never taken for marks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from ..model import Line, SelectionMark, box_polygon
from .rules import Box
from .tables import WordBox

SELECTED_GLYPHS = frozenset("☑☒■●◉▣✓✔✗✘")
UNSELECTED_GLYPHS = frozenset("☐□○◯❏❑")
# Share of a box's interior that must be ink for a scanned box to count as ticked.
FILL_SELECTED = 0.10
# A word reaching this far (in text heights) past a box on either side holds more than the box: the box is a letter.
LETTER_REACH = 0.15
# A scanned box this close (in text heights) to a word on its row is touching it: a letter, not a box by a label.
LETTER_GAP = 0.2


TICKS = frozenset("✓✔✗✘")


def glyph_marks(lines: list[Line]) -> list[SelectionMark]:
    out = []
    for li, line in enumerate(lines):
        for wi, w in enumerate(line.words):
            if len(w.content) != 1 or w.content not in SELECTED_GLYPHS | UNSELECTED_GLYPHS:
                continue
            if w.content in TICKS:
                continue  # a bare tick is a mark only inside a box (handled with the box)
            state: Literal["selected", "unselected"] = "selected" if w.content in SELECTED_GLYPHS else "unselected"
            out.append(SelectionMark(state, w.polygon, 1.0, line=li, word=wi, is_word=True))
    return out


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return ix * iy


def _is_word(text: str) -> bool:
    """Whether OCR read real text (two or more letters or digits), not its try at a box ("O", "[]", "X")."""
    return sum(ch.isalnum() for ch in text) >= 2


def _letter_of_word(b: Box, words: Sequence[WordBox], unit: float, scanned: bool) -> bool:
    """Whether the shape is a letter of a word: mostly inside a word that reaches well past it, or (in a scan)
    touching a word on its row, as a letter left out of the word's box touches the next one."""
    barea = max((b.x1 - b.x0) * (b.y1 - b.y0), 1e-9)
    bb = (b.x0, b.y0, b.x1, b.y1)
    for w in words:
        if not _is_word(w.text):
            continue
        ov = _overlap(bb, (w.x0, w.y0, w.x1, w.y1))
        if ov >= 0.4 * barea and (w.x0 < b.x0 - LETTER_REACH * unit or w.x1 > b.x1 + LETTER_REACH * unit):
            return True
        if not scanned or ov >= 0.4 * barea:
            continue
        same_row = min(b.y1, w.y1) - max(b.y0, w.y0) >= 0.5 * (b.y1 - b.y0)
        if same_row and max(w.x0 - b.x1, b.x0 - w.x1) < LETTER_GAP * unit:
            return True
    return False


def shape_marks(
    boxes: Sequence[Box], words: Sequence[WordBox], taken: list[SelectionMark], unit: float, scanned: bool
) -> tuple[list[SelectionMark], set[int]]:
    """Marks from box shapes, and the words that are only the OCR's reading of a box (to drop)."""
    marks: list[SelectionMark] = []
    junk: set[int] = set()
    taken_boxes = [(m.polygon[0], m.polygon[1], m.polygon[4], m.polygon[5]) for m in taken]
    for b in boxes:
        bb = (b.x0, b.y0, b.x1, b.y1)
        side = max(b.x1 - b.x0, b.y1 - b.y0)
        if side < 0.5 * unit or side > 3.0 * unit:
            continue
        if any(_overlap(bb, t) > 0.3 * (b.x1 - b.x0) * (b.y1 - b.y0) for t in taken_boxes):
            continue
        if _letter_of_word(b, words, unit, scanned):
            continue
        inner: list[int] = []
        texty = False
        for i, w in enumerate(words):
            wb = (w.x0, w.y0, w.x1, w.y1)
            ov = _overlap(bb, wb)
            if ov <= 0:
                continue
            warea = max((w.x1 - w.x0) * (w.y1 - w.y0), 1e-9)
            if ov >= 0.5 * warea and len(w.text) <= 3:
                inner.append(i)
            elif ov > 0.2 * warea:
                texty = True  # the shape sits on real text: a letter's bowl, a framed word
        if texty:
            continue
        if scanned:
            selected = b.fill >= FILL_SELECTED
            confidence = min(0.99, 0.6 + 3 * abs(b.fill - FILL_SELECTED))
            junk.update(inner)  # the OCR's attempt at reading the box
        else:
            selected = b.fill >= FILL_SELECTED or any(words[i].text.strip() for i in inner)
            confidence = 1.0
            junk.update(i for i in inner if words[i].text in TICKS)  # the tick is the mark's state, not text
        marks.append(SelectionMark("selected" if selected else "unselected", box_polygon(*bb), round(confidence, 3)))
        taken_boxes.append(bb)
    return marks, junk


def place(marks: list[SelectionMark], lines: list[Line]) -> None:
    """Give each shape mark a place in the text: in the line on its row nearest to it, else its nearest line."""
    for m in marks:
        if m.is_word:
            continue
        x0, y0, x1, y1 = m.polygon[0], m.polygon[1], m.polygon[4], m.polygon[5]
        cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
        best = None
        for li, ln in enumerate(lines):
            top, bot = ln.polygon[1], ln.polygon[5]
            same_row = top <= cy <= bot
            dx = max(0.0, ln.polygon[0] - x1, x0 - ln.polygon[2])
            dy = 0.0 if same_row else min(abs(cy - top), abs(cy - bot))
            key = (not same_row, dy, dx)
            if best is None or key < best[0]:
                best = (key, li)
        if best is None:
            continue
        li = best[1]
        m.line = li
        m.word = sum(1 for w in lines[li].words if (w.polygon[0] + w.polygon[2]) / 2 < cx)
