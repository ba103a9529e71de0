"""Reading a labelled model's fields off a new document: align the page to the template's anchors, nudge each
field by the residual of the anchors around it (scans do not shift uniformly), and take the words inside it, or
the selection mark found there. A field found empty is looked for again in its slot, the free space on its row
between the printed text and fields either side: a hand fills a cell anywhere, a typewriter where it was set.
Apart from training because analysis runs it alone, and training only calls it to measure accuracy leave-one-out.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import numpy as np

from ..model import AnalyzedDocument, Document, Field, Page, SelectionMark, bounding_polygon
from .alignment import Alignment, PageWords, align, apply_affine, inside, map_box
from .labels import Box
from .values import typed_value

if TYPE_CHECKING:  # the model classes live with training; they are only read here
    from .labeled import FieldModel, LabeledModel, TemplatePage

_RULING = re.compile(r"^[_|]+$")  # a form's ruling read as text
LOCAL_ANCHORS = 8  # anchors around a field that correct its position locally
MARK_RADIUS = 0.03


def extract(model: LabeledModel, doc: Document) -> dict[str, Field]:
    """Read every field of ``model`` from ``doc`` (fields not found have no value)."""
    out: dict[str, Field] = {}
    cache: dict[int, tuple[PageWords, Alignment]] = {}
    for fm in model.fields:
        if fm.page >= len(doc.pages) or fm.page >= len(model.pages):
            out[fm.name] = Field(fm.type, None, "", confidence=0.0)
            continue
        if fm.page not in cache:
            page = PageWords.of(doc.pages[fm.page])
            tp = model.pages[fm.page]
            cache[fm.page] = (page, align(tp.texts, tp.points, page))
        page, al = cache[fm.page]
        region = _region(model.pages[fm.page], al, page, fm.box)
        confidence = round(max(0.05, fm.accuracy * min(1.0, 0.2 + al.ratio)), 3)
        if fm.type == "selectionMark":
            out[fm.name] = _mark_field(fm, doc.pages[fm.page], region, confidence)
        else:
            tp = model.pages[fm.page]
            slot = _region(tp, al, page, _slot(model, fm))
            out[fm.name] = _text_field(fm, page, al, region, confidence, (slot, frozenset(tp.texts)))
    return out


def _region(tp: TemplatePage, al: Alignment, page: PageWords, box: Box) -> Box:
    """The field's box on the page: the page-wide alignment, corrected by the anchors nearest to the field."""
    mapped = map_box(al.transform, box)
    if len(al.pairs) >= 3:
        anchors = np.array(list(al.pairs))
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        d = np.hypot(tp.points[anchors, 0] - cx, tp.points[anchors, 1] - cy)
        near = anchors[np.argsort(d)[:LOCAL_ANCHORS]]
        words = np.array([al.pairs[a] for a in near])
        residual = np.median(page.centers[words] - apply_affine(al.transform, tp.points[near]), axis=0)
        mapped = (mapped[0] + residual[0], mapped[1] + residual[1], mapped[2] + residual[0], mapped[3] + residual[1])
    return mapped


def _slot(model: LabeledModel, fm: FieldModel) -> Box:
    """The field's row widened left and right up to the nearest printed word (anchor centre) or other field
    beside it, in the template's frame."""
    x0, y0, x1, y1 = fm.box
    h = y1 - y0
    points = model.pages[fm.page].points
    beside = points[(points[:, 1] >= y0 - 0.25 * h) & (points[:, 1] <= y1 + 0.25 * h)] if len(points) else points
    lefts = [float(x) for x in beside[:, 0] if x < x0] if len(beside) else []
    rights = [float(x) for x in beside[:, 0] if x > x1] if len(beside) else []
    for other in model.fields:
        b = other.box
        if other is fm or other.page != fm.page or min(b[3], y1) - max(b[1], y0) <= 0.5 * min(b[3] - b[1], h):
            continue
        if b[2] <= x0:
            lefts.append(b[2])
        elif b[0] >= x1:
            rights.append(b[0])
    return max(lefts, default=0.0), y0, min(rights, default=1.0), y1


def words_in(page: PageWords, region: Box) -> list[int]:
    """The page's words whose centre falls in ``region``, with a little slack for the text's height."""
    slack = 0.3 * page.height
    return [i for i in range(len(page.words)) if inside(page.centers[i, 0], page.centers[i, 1], region, slack)]


def _words_within(page: PageWords, slot: Box) -> list[int]:
    """Words wholly across a slot's width (their centre in its rows): a slot's edges are printed words' centres."""
    slack = 0.3 * page.height
    return [
        i
        for i in range(len(page.words))
        if slot[0] < page.boxes[i, 0]
        and page.boxes[i, 2] < slot[2]
        and slot[1] - slack <= page.centers[i, 1] <= slot[3] + slack
    ]


def _nearest_run(page: PageWords, found: list[int], region: Box, printed: frozenset[str]) -> list[int]:
    """Of the words found in a slot, the run nearest the field's own box (a line's words without a gap wider
    than two word heights) and the runs stacked on it: not a neighbouring field's value that ran wide, nor a
    run of the form's printed words that did not align (``printed``: the template's words)."""
    runs: list[list[int]] = []
    for i in sorted(found, key=lambda i: page.order[i]):
        last = runs[-1][-1] if runs else None
        if (
            last is not None
            and page.order[last][0] == page.order[i][0]
            and page.boxes[i, 0] - page.boxes[last, 2] <= 2 * page.height
        ):
            runs[-1].append(i)
        else:
            runs.append([i])
    runs = [run for run in runs if not all(page.texts[i] in printed for i in run)]
    if not runs:
        return []

    def span(run: list[int]) -> tuple[float, float]:
        return float(page.boxes[run, 0].min()), float(page.boxes[run, 2].max())

    def distance(run: list[int]) -> float:
        x0, x1 = span(run)
        return max(0.0, x0 - region[2], region[0] - x1)

    best = min(runs, key=distance)
    b0, b1 = span(best)
    return [i for run in runs if min(span(run)[1], b1) > max(span(run)[0], b0) for i in run]


def _run_on(page: PageWords, picked: list[int], stop: set[int]) -> list[int]:
    """A value longer than any trained one runs past the field's box: take the words that continue a picked
    word's line without a gap (a line height at most), up to printed text."""
    chosen = set(picked)
    index = {pos: i for i, pos in enumerate(page.order)}
    for i in sorted(picked, key=lambda i: page.order[i]):
        line, w = page.order[i]
        while (line, w + 1) in index:
            j = index[(line, w + 1)]
            height = page.boxes[j, 3] - page.boxes[j, 1]
            if j in chosen or j in stop or page.boxes[j, 0] - page.boxes[index[(line, w)], 2] > height:
                break
            chosen.add(j)
            w += 1
    return list(chosen)


def _text_field(
    fm: FieldModel, page: PageWords, al: Alignment, region: Box, confidence: float, slot: tuple[Box, frozenset[str]]
) -> Field:
    """The words in the field's box; when there are none, the nearest run of words in its slot that is not the
    template's own printed text (``slot``: the slot's box on this page and the template's words)."""
    static = set(al.pairs.values())
    picked = [i for i in words_in(page, region) if i not in static and page.texts[i] not in fm.exclude]
    if not picked:
        found = [i for i in _words_within(page, slot[0]) if i not in static and page.texts[i] not in fm.exclude]
        found = [i for i in found if not _RULING.match(page.words[i].content)]
        picked = _nearest_run(page, found, region, slot[1])
    picked = _run_on(page, picked, static | {i for i, t in enumerate(page.texts) if t in fm.exclude})
    picked.sort(key=lambda i: page.order[i])
    if not picked:
        return Field(fm.type, None, "", page_number=page.page.page_number, confidence=confidence)
    words = [page.words[i] for i in picked]
    text = " ".join(w.content for w in words)
    return Field(
        fm.type,
        typed_value(fm.type, text),
        text,
        page_number=page.page.page_number,
        polygon=bounding_polygon([w.polygon for w in words]),
        words=words,
        confidence=confidence,
    )


def _mark_field(fm: FieldModel, page: Page, region: Box, confidence: float) -> Field:
    cx, cy = (region[0] + region[2]) / 2, (region[1] + region[3]) / 2
    radius = max(MARK_RADIUS, (region[2] - region[0]), (region[3] - region[1]))
    best: SelectionMark | None = None
    best_d = radius
    for m in page.selection_marks:
        mx = (m.polygon[0] + m.polygon[4]) / 2 / (page.width or 1.0)
        my = (m.polygon[1] + m.polygon[5]) / 2 / (page.height or 1.0)
        d = math.hypot(mx - cx, my - cy)
        if d < best_d:
            best, best_d = m, d
    if best is None:
        return Field(fm.type, None, "", page_number=page.page_number, confidence=confidence)
    return Field(
        fm.type,
        best.state,
        best.state,
        page_number=page.page_number,
        polygon=best.polygon,
        marks=[best],
        confidence=round(confidence * best.confidence, 3),
    )


def match(model: LabeledModel, doc: Document) -> float:
    """How well ``doc`` matches the template: the share of its first page's anchors found in place."""
    if not model.pages or not doc.pages:
        return 0.0
    tp = model.pages[0]
    return align(tp.texts, tp.points, PageWords.of(doc.pages[0])).ratio


def apply(model: LabeledModel, doc: Document, doc_type: str, model_id: str) -> None:
    """Analysis with a labelled model: one recognised document with every field."""
    fields = extract(model, doc)
    pages = [f.page_number for f in fields.values() if f.page_number] or [1]
    found = [f.confidence for f in fields.values() if f.content]
    doc.documents = [
        AnalyzedDocument(
            doc_type=doc_type,
            page_range=(1, max(len(doc.pages), max(pages))) if doc.pages else (1, 1),
            fields=fields,
            confidence=round(float(np.mean(found)), 3) if found else 0.0,
            model_id=model_id,
        )
    ]
