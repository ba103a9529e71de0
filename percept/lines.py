"""Arranging lines on a page: rows in reading order, and fragments of one visual line joined."""

from __future__ import annotations

from .model import Line, bounding_polygon

# Fragments of one row closer than this many line heights are one line.
JOIN_GAP = 1.5


def _rows(lines: list[Line]) -> list[list[Line]]:
    """Lines grouped into rows (vertical overlap of half the smaller height), top to bottom, left to right."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda ln: ln.polygon[1]):
        top, bot = line.polygon[1], line.polygon[5]
        if rows:
            last = rows[-1][0].polygon
            overlap = min(bot, last[5]) - max(top, last[1])
            if overlap > 0.5 * min(bot - top, last[5] - last[1]):
                rows[-1].append(line)
                continue
        rows.append([line])
    return [sorted(row, key=lambda ln: ln.polygon[0]) for row in rows]


def sort_rows(lines: list[Line]) -> list[Line]:
    """Top-to-bottom rows, left-to-right within a row."""
    return [ln for row in _rows(lines) for ln in row]


def join_fragments(lines: list[Line]) -> list[Line]:
    """Rows in reading order, with fragments of a row that sit close together joined into one line.

    Detectors such as PP-OCR cut one printed line into pieces at wide spaces; Azure reports it as one line.
    Fragments further apart than :data:`JOIN_GAP` line heights stay separate (columns, table cells).
    """
    out: list[Line] = []
    for row in _rows(lines):
        current = row[0]
        for line in row[1:]:
            height = max(current.polygon[5] - current.polygon[1], line.polygon[5] - line.polygon[1])
            if line.polygon[0] - current.polygon[2] <= JOIN_GAP * height:
                words = current.words + line.words
                current = Line(
                    " ".join(w.content for w in words), bounding_polygon([current.polygon, line.polygon]), words
                )
            else:
                out.append(current)
                current = line
        out.append(current)
    return out
