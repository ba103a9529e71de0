"""General key-value pairs without a learned model: a label ending in a colon, with its value to the right on the
same line, or right of it, or just below it; a label with nothing there is a key with no value.

Runs on the assembled document (spans are final); words inside tables are left to the tables.
"""

from __future__ import annotations

from ..model import Document, KeyValueElement, KeyValuePair, Line, Page, Span, Word, bounding_polygon

# How far (in line heights) a value may sit to the right of, or below, its key.
RIGHT_REACH = 8.0
BELOW_REACH = 1.2
MAX_KEY_WORDS = 8


def _element(words: list[Word], page: Page) -> KeyValueElement:
    start = min(w.span.offset for w in words)
    end = max(w.span.end for w in words)
    return KeyValueElement(
        " ".join(w.content for w in words),
        page.page_number,
        bounding_polygon([w.polygon for w in words]),
        list(words),
        Span(start, end - start),
    )


def _is_key(word: Word) -> bool:
    return (word.content.endswith(":") and len(word.content) > 1) or word.content == ":"


def key_value_pairs(doc: Document) -> list[KeyValuePair]:
    pairs: list[KeyValuePair] = []
    for page in doc.pages:
        in_table = {li for t in page.tables for c in t.cells if c.block is not None for li in page.blocks[c.block]}
        free = [i for i in range(len(page.lines)) if i not in in_table]
        used: set[int] = set()  # lines taken whole as values
        keyed: list[tuple[list[Word], list[Word] | None, float]] = []
        for li in free:
            if li in used:
                continue
            line = page.lines[li]
            cuts = [k for k, w in enumerate(line.words) if _is_key(w)]
            if not cuts:
                continue
            start = 0
            for n, k in enumerate(cuts):
                key = line.words[start : k + 1]
                if start and len(key) > MAX_KEY_WORDS:
                    key = key[-MAX_KEY_WORDS:]
                end = cuts[n + 1] if n + 1 < len(cuts) else len(line.words)
                # The value runs to the next key; when another key follows, its own words are left to it.
                value = line.words[k + 1 : end]
                if n + 1 < len(cuts) and value:
                    nxt = _key_start(line.words, k + 1, cuts[n + 1])
                    value = line.words[k + 1 : nxt]
                    start = nxt
                else:
                    start = end
                if value:
                    keyed.append((key, value, 0.9))
                    continue
                found = _neighbour(page, free, li, key, used)
                if found is None:
                    keyed.append((key, None, 0.6))
                else:
                    used.add(found)
                    keyed.append((key, list(page.lines[found].words), 0.75))
        for key, kept, conf in keyed:
            pairs.append(KeyValuePair(_element(key, page), _element(kept, page) if kept else None, conf))
    return pairs


def _key_start(words: list[Word], lo: int, colon: int) -> int:
    """Where the label ending at ``colon`` starts: after a wide gap, else the last capitalised word."""
    for k in range(colon, lo, -1):
        gap = words[k].polygon[0] - words[k - 1].polygon[2]
        h = words[k].polygon[5] - words[k].polygon[1]
        if gap > 0.8 * h:
            return k
    for k in range(colon, lo - 1, -1):
        if words[k].content[:1].isupper():
            return max(k, lo + 1) if k > lo else colon
    return colon


def _neighbour(page: Page, free: list[int], li: int, key: list[Word], used: set[int]) -> int | None:
    """A whole line right of the key on its row, else the line just below it that starts under it."""
    kx0, ky0 = key[0].polygon[0], min(w.polygon[1] for w in key)
    kx1, ky1 = key[-1].polygon[2], max(w.polygon[5] for w in key)
    h = max(ky1 - ky0, 1e-6)
    best: tuple[float, int] | None = None
    for j in free:
        if j == li or j in used:
            continue
        ln: Line = page.lines[j]
        if not ln.words or _is_key(ln.words[-1]) or any(_is_key(w) for w in ln.words[:1]):
            continue
        x0, y0, y1 = ln.polygon[0], ln.polygon[1], ln.polygon[5]
        cy = (y0 + y1) / 2
        if ky0 <= cy <= ky1 and x0 >= kx1 - 0.1 * h and x0 - kx1 <= RIGHT_REACH * h:
            d = x0 - kx1
        elif 0 <= y0 - ky1 <= BELOW_REACH * h and kx0 - h <= x0 <= kx1:
            d = RIGHT_REACH * h + (y0 - ky1)
        else:
            continue
        if best is None or d < best[0]:
            best = (d, j)
    return best[1] if best else None
