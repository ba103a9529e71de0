"""Custom models trained without labels: form types by clustering, keys as text that recurs in place, values
by where they sat beside or below their key on the training forms.

Everything is in page-relative coordinates (0-1 of the page's width and height), so forms rendered at other
sizes, in pixels or inches, compare. A key is text found at the same place on most forms of a cluster: a colon
label ("Address:") always, a whole recurring line only when varying text sits next to it (else it is boilerplate).
A value is collected structurally (rest of the key's line, text to its right on the same row, lines stacked
below), never past the next label on its row or below the next label's row (forms with a label and its value per
row put the next row a line height away), and kept to the region the training forms' values occupied, so a
shifted or longer value is still found and the neighbouring block is not swallowed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import cast

from ..model import Document, KeyValueElement, KeyValuePair, Line, Page, Polygon, Word, bounding_polygon

Box = tuple[float, float, float, float]
# The polygon of an element with no place on the page (a token key, an empty value): serialised as no polygon.
# ``Polygon`` is the 8-number type, which has no empty member, hence the cast.
NO_POLYGON = cast(Polygon, ())

# How far (page fraction) a key may sit from where it was on the training forms.
PLACE_TOLERANCE = 0.08
# A key must recur on at least this share of a cluster's forms (and on two of them).
RECUR_SHARE = 0.6
# Two forms are the same type when they share this share of their recurring-text signature.
SAME_TYPE = 0.5


@dataclass(slots=True)
class LearnedKey:
    text: str
    norm: str
    page: int  # 0-based page of the form
    box: Box  # median position on the training forms
    colon: bool
    region: Box | None  # value region relative to the key's top-left corner (page fractions); None: no value seen
    seen_value: float  # share of training forms where the key had a value


@dataclass(slots=True)
class Cluster:
    cluster_id: int
    documents: list[str]
    keys: list[LearnedKey] = field(default_factory=list)
    static: set[str] = field(default_factory=set)  # recurring lines that are not keys: boilerplate

    @property
    def signature(self) -> set[str]:
        return {k.norm for k in self.keys} | self.static


@dataclass(slots=True)
class UnlabeledModel:
    clusters: list[Cluster]

    def keys_by_cluster(self) -> dict[str, list[str]]:
        return {str(c.cluster_id): [k.text for k in c.keys] for c in self.clusters}


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


# --- page tokens ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Tok:
    """A line of a page (or the key part of one) in page fractions."""

    line: int
    words: list[Word]
    box: Box
    start: int = 0  # index of the first word in its line

    @property
    def text(self) -> str:
        return " ".join(w.content for w in self.words)


def _rel(page: Page, polygon: tuple[float, ...]) -> Box:
    xs, ys = polygon[0::2], polygon[1::2]
    w, h = page.width or 1.0, page.height or 1.0
    return min(xs) / w, min(ys) / h, max(xs) / w, max(ys) / h


def _tok(page: Page, li: int, words: list[Word], start: int = 0) -> _Tok:
    return _Tok(li, words, _rel(page, bounding_polygon([w.polygon for w in words])), start)


def _is_label(w: Word) -> bool:
    return w.content.endswith(":") and len(w.content) > 1


def _line_labels(page: Page, li: int, line: Line) -> list[_Tok]:
    """``Label: value`` in a line: the label up to the first word ending in ':' (within six words), and each
    further label that starts after a column-wide gap (OCR may read two fields of a row as one line)."""
    words = line.words
    out: list[_Tok] = []
    first = next((k for k, w in enumerate(words[:6]) if _is_label(w)), None)
    if first is not None:
        out.append(_tok(page, li, words[: first + 1]))
    for s in range((first or 0) + 1, len(words)):
        a, b = words[s - 1].polygon, words[s].polygon
        height = max(b[1::2]) - min(b[1::2])
        if min(b[0::2]) - max(a[0::2]) <= 1.5 * height:
            continue
        k = next((k for k in range(s, min(s + 4, len(words))) if _is_label(words[k])), None)
        if k is not None:
            out.append(_tok(page, li, words[s : k + 1], s))
    return out


def _table_lines(page: Page) -> set[int]:
    """Lines inside table cells: tables are carried over whole, their headers are not keys."""
    out: set[int] = set()
    for t in page.tables:
        for c in t.cells:
            if c.block is not None and c.block < len(page.blocks):
                out.update(page.blocks[c.block])
    return out


def _center(b: Box) -> tuple[float, float]:
    return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2


def _near(a: Box, b: Box, tol: float = PLACE_TOLERANCE) -> bool:
    (ax, ay), (bx, by) = _center(a), _center(b)
    return abs(ax - bx) <= tol and abs(ay - by) <= tol


def _median_box(boxes: list[Box]) -> Box:
    return tuple(sorted(b[i] for b in boxes)[len(boxes) // 2] for i in range(4))  # type: ignore[return-value]


# --- values --------------------------------------------------------------------------------------------------


def _line_text(line: Line) -> str:
    """A line's words: its content without the selection marks layout put into it (``:selected:``)."""
    return " ".join(w.content for w in line.words)


def _walls(key: _Tok, others: list[_Tok], x_end: float) -> tuple[float, float]:
    """Where a key's value must end: the left edge of the next key to its right on its row, and the top of the
    nearest key below it in the value's column (the next row's label), as page fractions."""
    kx0, ky0, kx1, ky1 = key.box
    h = max(ky1 - ky0, 1e-3)
    right = min(
        (t.box[0] for t in others if t.box[0] > kx1 and min(t.box[3], ky1) - max(t.box[1], ky0) > 0.4 * h),
        default=1.0,
    )
    floor = min(
        (
            t.box[1]
            for t in others
            if _center(t.box)[1] > ky1 and t.box[2] > kx0 - h and t.box[0] < min(right - h, max(x_end, kx1) + h)
        ),
        default=1.0,
    )
    return right, floor


def _value_words(page: Page, key: _Tok, rest: list[Word], stop: set[int], others: list[_Tok]) -> list[Word]:
    """The value of a key found on a page: the rest of its line, text right of it on its row, lines below it,
    never past the next key on its row or the next key's row below it (``others``: the page's other keys).

    ``stop`` are lines that cannot be values (keys, boilerplate); the walk below ends at the first.
    """
    labels = {id(w) for t in others for w in t.words}
    kx0, ky0, kx1, ky1 = key.box
    height = max(ky1 - ky0, 1e-3)
    right_wall, _ = _walls(key, others, kx1)

    def free(w: Word) -> bool:
        return id(w) not in labels and _center(_rel(page, w.polygon))[0] < right_wall

    words = [w for w in rest if free(w)]
    right = max([kx1] + [_rel(page, w.polygon)[2] for w in words])
    x_end = right
    for li, line in enumerate(page.lines):
        if li == key.line or li in stop:
            continue
        b = _rel(page, line.polygon)
        overlap = min(b[3], ky1) - max(b[1], ky0)
        if overlap > 0.5 * min(b[3] - b[1], height) and right - 0.002 <= b[0] <= right + 12 * height:
            row = [w for w in line.words if free(w)]
            words.extend(row)
            x_end = max([x_end] + [_rel(page, w.polygon)[2] for w in row])
    _, floor = _walls(key, others, x_end)
    # Lines stacked under the key or under what is right of it, each close below the last, above the next row's key.
    bottom = ky1
    below = sorted(
        (
            li
            for li in range(len(page.lines))
            if li != key.line and _rel(page, page.lines[li].polygon)[1] > ky1 - 0.2 * height
        ),
        key=lambda li: _rel(page, page.lines[li].polygon)[1],
    )
    for li in below:
        b = _rel(page, page.lines[li].polygon)
        if b[1] - bottom > 1.2 * height or _center(b)[1] > floor:
            break
        if b[2] < kx0 - height or b[0] > x_end + height:
            continue  # another column
        if li in stop or any(id(w) in labels for w in page.lines[li].words):
            break
        words.extend(w for w in page.lines[li].words if free(w))
        bottom = max(bottom, b[3])
    return words


def _region(page: Page, key: _Tok, words: list[Word]) -> Box | None:
    if not words:
        return None
    b = _rel(page, bounding_polygon([w.polygon for w in words]))
    return b[0] - key.box[0], b[1] - key.box[1], b[2] - key.box[0], b[3] - key.box[1]


def _union(boxes: list[Box]) -> Box | None:
    if not boxes:
        return None
    return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)


# --- training ------------------------------------------------------------------------------------------------


def _candidates(page: Page) -> tuple[dict[str, _Tok], dict[str, _Tok], set[int]]:
    """Colon labels and whole lines of a page by normalised text (first occurrence), and its table lines."""
    colon: dict[str, _Tok] = {}
    whole: dict[str, _Tok] = {}
    tables = _table_lines(page)
    for li, line in enumerate(page.lines):
        if not line.words:
            continue
        for label in _line_labels(page, li, line):
            colon.setdefault(norm(label.text), label)
        if li not in tables:
            whole.setdefault(norm(_line_text(line)), _tok(page, li, line.words))
    return colon, whole, tables


def _signature(doc: Document) -> set[str]:
    """Text that names things rather than fills them in: colon labels, and short lines without digits."""
    labels = {norm(t.text) for p in doc.pages for li, ln in enumerate(p.lines) for t in _line_labels(p, li, ln)}
    names = {
        norm(text)
        for p in doc.pages
        for ln in p.lines
        if ln.words and len(text := _line_text(ln)) <= 40 and not any(ch.isdigit() for ch in text)
    }
    return labels | names


def cluster_documents(docs: list[tuple[str, Document]]) -> list[list[int]]:
    """Forms grouped by type: a form joins the first group whose first form shares enough of its text lines."""
    sigs = [_signature(d) for _, d in docs]
    groups: list[list[int]] = []
    for i, sig in enumerate(sigs):
        for g in groups:
            ref = sigs[g[0]]
            if sig and ref and len(sig & ref) / min(len(sig), len(ref)) >= SAME_TYPE:
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


def train(docs: list[tuple[str, Document]]) -> UnlabeledModel:
    """Learn keys and value regions per form type from analysed training forms (layout already run)."""
    clusters = []
    for cid, members in enumerate(cluster_documents(docs)):
        clusters.append(_train_cluster(cid, [docs[i] for i in members]))
    return UnlabeledModel(clusters)


def _train_cluster(cid: int, docs: list[tuple[str, Document]]) -> Cluster:
    n = len(docs)
    need = max(2, math.ceil(RECUR_SHARE * n)) if n > 1 else 1
    n_pages = max(len(d.pages) for _, d in docs)
    cluster = Cluster(cid, [name for name, _ in docs])
    for p in range(n_pages):
        per_doc = [_candidates(d.pages[p]) if p < len(d.pages) else ({}, {}, set()) for _, d in docs]
        recurring: dict[tuple[str, bool], list[tuple[int, _Tok]]] = {}
        for di, (colon_keys, whole, _) in enumerate(per_doc):
            for key, tok in colon_keys.items():
                recurring.setdefault((key, True), []).append((di, tok))
            for key, tok in whole.items():
                recurring.setdefault((key, False), []).append((di, tok))
        found: dict[tuple[str, bool], list[tuple[int, _Tok]]] = {}
        for found_key, occ in recurring.items():
            med = _median_box([t.box for _, t in occ])
            placed = [(di, t) for di, t in occ if _near(t.box, med)]
            if len(placed) >= need:
                found[found_key] = placed
        static_lines = {k for k, is_colon in found if not is_colon}
        # Lines that cannot be values on each form: every recurring line and label. (Table text can: a label
        # block laid out in columns reads as a borderless table.)
        stops: list[set[int]] = []
        for di in range(n):
            lines: set[int] = set()
            for occ in found.values():
                lines.update(t.line for d2, t in occ if d2 == di and not _is_colon_prefix(docs[di][1].pages[p], t))
            stops.append(lines)
        # Every label on each form bounds the values of the others: learned keys and any colon label.
        labels = [
            [t for occ in found.values() for d2, t in occ if d2 == di] + list(per_doc[di][0].values())
            for di in range(n)
        ]
        keys: list[LearnedKey] = []
        for (text, colon), occ in found.items():
            if not colon and any(norm(text).startswith(k) for k, c in found if c):
                continue  # "Invoice For: Contoso" recurring whole: its label is the key
            regions, values = [], []
            for di, tok in occ:
                page = docs[di][1].pages[p]
                others = _other_labels(tok, labels[di])
                rest = _rest_of_line(page, tok, {id(w) for t in others for w in t.words}) if colon else []
                words = _value_words(page, tok, rest, stops[di], others)
                if words:
                    regions.append(_region(page, tok, words))
                    values.append(norm(" ".join(w.content for w in words)))
            varying = len(set(values)) > 1 or (n == 1 and values)
            if not colon and not varying:
                continue
            keys.append(
                LearnedKey(
                    text=occ[0][1].text,
                    norm=text,
                    page=p,
                    box=_median_box([t.box for _, t in occ]),
                    colon=colon,
                    region=_union([r for r in regions if r is not None]),
                    seen_value=round(len(regions) / len(occ), 3),
                )
            )
            static_lines.discard(text)
        keys.sort(key=lambda k: (k.page, round(k.box[1], 2), k.box[0]))
        cluster.keys.extend(keys)
        cluster.static |= static_lines
    return cluster


def _other_labels(key: _Tok, labels: list[_Tok]) -> list[_Tok]:
    """The labels of a page other than ``key`` (and other than a whole line that holds it)."""
    own = {id(w) for w in key.words}
    return [t for t in labels if not any(id(w) in own for w in t.words)]


def _is_colon_prefix(page: Page, tok: _Tok) -> bool:
    """A colon label that is only part of its line (the rest may be a value)."""
    return len(tok.words) < len(page.lines[tok.line].words)


def _rest_of_line(page: Page, tok: _Tok, keys: set[int] | None = None) -> list[Word]:
    """The words after a label on its line, up to the next label there (OCR may read two fields as one line)."""
    out = []
    for w in page.lines[tok.line].words[tok.start + len(tok.words) :]:
        if keys and id(w) in keys:
            break
        out.append(w)
    return out


# --- analysis ------------------------------------------------------------------------------------------------


def choose_cluster(model: UnlabeledModel, doc: Document) -> Cluster:
    sig = _signature(doc)
    return max(model.clusters, key=lambda c: len(sig & c.signature) / max(1, len(c.signature)))


def apply(model: UnlabeledModel, doc: Document) -> None:
    """Key-value pairs of an analysed form by the model: learned keys with their values, then every other text
    outside tables and boilerplate as ``__Tokens__N`` values, as Azure reports them."""
    cluster = choose_cluster(model, doc)
    pairs: list[KeyValuePair] = []
    tokens = 0
    last_page = max((k.page for k in cluster.keys), default=0)  # later pages repeat the form's last page
    for p, page in enumerate(doc.pages):
        page.cluster_id = cluster.cluster_id
        colon, whole, tables = _candidates(page)
        keys = [k for k in cluster.keys if k.page == min(p, last_page)]
        located: list[tuple[LearnedKey, _Tok]] = []
        for k in keys:
            tok = (colon if k.colon else whole).get(k.norm)
            if tok is None:
                tok = _find_anywhere(page, k)
            if tok is not None and _near(tok.box, k.box, 3 * PLACE_TOLERANCE):
                located.append((k, tok))
        static = {li for li, ln in enumerate(page.lines) if norm(_line_text(ln)) in cluster.static}
        key_lines = {t.line for _, t in located if not _is_colon_prefix(page, t)}
        stop = static | key_lines
        key_words = {id(w) for _, t in located for w in t.words}
        claimed = set(key_words)
        labels = [t for _, t in located] + list(colon.values())
        for k, tok in located:
            words: list[Word] = []
            if k.region is not None:
                others = _other_labels(tok, labels)
                rest = _rest_of_line(page, tok, {id(w) for t in others for w in t.words}) if k.colon else []
                words = [w for w in _value_words(page, tok, rest, stop, others) if id(w) not in claimed]
                running = _running(page, tok, words)
                words = [w for w in words if id(w) in running or _inside(page, tok, k.region, w)]
            claimed.update(id(w) for w in words)
            pairs.append(
                KeyValuePair(
                    key=_element(page, tok.words),
                    value=_element(page, words) if words else _empty(page),
                    confidence=round(0.5 + 0.5 * k.seen_value, 3) if words else 0.5,
                )
            )
        for li, line in enumerate(page.lines):
            if li in tables or li in static:
                continue
            rest = [w for w in line.words if id(w) not in claimed]
            if not rest:
                continue
            tokens += 1
            label = f"__Tokens__{tokens}"
            pairs.append(
                KeyValuePair(
                    key=KeyValueElement(label, page.page_number, NO_POLYGON, []),
                    value=_element(page, rest),
                    confidence=1.0,
                    label=label,
                )
            )
    doc.key_value_pairs = pairs


def _running(page: Page, key: _Tok, words: list[Word]) -> set[int]:
    """The value's words that run on along the key's own line, each within two line heights of the last: a
    value longer than any trained one, already bounded by the next label, is kept whole."""
    h = max(key.box[3] - key.box[1], 1e-3)
    line = {id(w) for w in page.lines[key.line].words}
    out: set[int] = set()
    last: float | None = None
    for w in words:
        if id(w) not in line:
            break
        b = _rel(page, w.polygon)
        if last is not None and b[0] - last > 2 * h:
            break
        out.add(id(w))
        last = b[2]
    return out


def _find_anywhere(page: Page, key: LearnedKey) -> _Tok | None:
    """A key whose line reads differently here (OCR joined it to the field before it): its words in any line,
    the occurrence nearest to where the key was learned."""
    n_words = len(key.text.split())
    found = []
    for li, line in enumerate(page.lines):
        for s in range(len(line.words) - n_words + 1):
            if norm(" ".join(w.content for w in line.words[s : s + n_words])) == key.norm:
                found.append(_tok(page, li, line.words[s : s + n_words], s))
    cx, cy = _center(key.box)
    return min(found, key=lambda t: abs(_center(t.box)[0] - cx) + abs(_center(t.box)[1] - cy), default=None)


def _inside(page: Page, key: _Tok, region: Box, w: Word) -> bool:
    """Within the learned value region, widened by a line height all round and half its width to the right."""
    b = _rel(page, w.polygon)
    cx, cy = _center(b)
    h = max(key.box[3] - key.box[1], 1e-3)
    x0, y0 = key.box[0] + region[0] - h, key.box[1] + region[1] - h
    x1 = key.box[0] + region[2] + 0.5 * (region[2] - region[0]) + h
    y1 = key.box[1] + region[3] + 1.5 * h
    return x0 <= cx <= x1 and y0 <= cy <= y1


def _element(page: Page, words: list[Word]) -> KeyValueElement:
    return KeyValueElement(
        " ".join(w.content for w in words), page.page_number, bounding_polygon([w.polygon for w in words]), words
    )


def _empty(page: Page) -> KeyValueElement:
    return KeyValueElement("", page.page_number, NO_POLYGON, [])
