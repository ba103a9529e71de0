"""Custom models trained with labels: where each labelled field sits on the form, learned relative to the form's
own printed text, so that a shifted, scaled, slightly rotated or scanned copy is still read in the right place.

Training picks one form as the reference and aligns every other form to it by the words they share (an affine
fit over words of the same text, robust to the filled-in values that differ). Words printed in the same place
on most forms and outside every labelled value are the template's *anchors*. Each field is the union of its
labelled boxes, carried into the reference frame. Analysis aligns a new page to the anchors the same way, nudges
each field by the residual of the anchors around it (scans do not shift uniformly), and reads the words inside
it; a selection-mark field takes the mark found there. Accuracy is measured by leave-one-out over the labelled
forms, never on the forms a model was fitted to.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..model import AnalyzedDocument, Document, Field, Page, SelectionMark, Word, bounding_polygon
from .values import FIELD_TYPES, typed_value

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in 0-1 page units

MIN_LABELED_FORMS = 5
ANCHOR_SHARE = 0.6  # a word printed in place on this share of the other forms is part of the template
ANCHOR_TOLERANCE = 0.012  # page fraction: how far a word may sit from where the template has it
SEARCH_RADIUS = 0.25  # how far a whole page may be shifted and still be aligned
LOCAL_ANCHORS = 8  # anchors around a field that correct its position locally
MARK_RADIUS = 0.03

_PUNCT = re.compile(r"^[^\w$%#&@]+|[^\w$%#&@]+$")
_SPACE = re.compile(r"\s+")


class LabelError(ValueError):
    """A labels or fields file that cannot be used (the message names the file and what is wrong)."""


@dataclass(slots=True)
class LabelValue:
    page: int  # 1-based
    text: str
    boxes: list[Box]


@dataclass(slots=True)
class LabeledForm:
    name: str
    doc: Document
    labels: dict[str, list[LabelValue]]


@dataclass(slots=True)
class FieldModel:
    name: str
    type: str
    page: int  # 0-based page of the template
    box: Box  # in the reference form's page units
    accuracy: float = 1.0
    # Printed words that sit inside the field on most forms but are never part of a value ("Phone:" printed
    # right after a variable-length address moves with it, so it is no anchor).
    exclude: frozenset[str] = frozenset()


@dataclass(slots=True)
class TemplatePage:
    texts: list[str]
    points: np.ndarray  # (n, 2) anchor centres, 0-1 page units


@dataclass(slots=True)
class LabeledModel:
    fields: list[FieldModel]
    pages: list[TemplatePage]
    trained_on: int = 0

    @property
    def average_accuracy(self) -> float:
        return float(np.mean([f.accuracy for f in self.fields])) if self.fields else 0.0


# ---------------------------------------------------------------------------------------------- parsing inputs


def parse_fields(raw: object, name: str = "fields.json") -> dict[str, str]:
    """``fields.json`` of the labeling tool -> field name: type (types we do not know read as string)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("fields"), list):
        raise LabelError(f"{name}: expected an object with a 'fields' list.")
    out: dict[str, str] = {}
    for item in raw["fields"]:
        if not isinstance(item, dict) or not isinstance(item.get("fieldKey"), str):
            raise LabelError(f"{name}: every field needs a 'fieldKey'.")
        kind = item.get("fieldType", "string")
        out[item["fieldKey"]] = kind if kind in FIELD_TYPES else "string"
    return out


def parse_labels(raw: object, name: str) -> dict[str, list[LabelValue]]:
    """``<form>.labels.json`` -> label name: its values (page, text, boxes in 0-1 page units)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("labels"), list):
        raise LabelError(f"{name}: expected an object with a 'labels' list.")
    out: dict[str, list[LabelValue]] = {}
    for label in raw["labels"]:
        if not isinstance(label, dict) or not isinstance(label.get("label"), str):
            raise LabelError(f"{name}: every label needs a 'label' name.")
        values = []
        for v in label.get("value") or []:
            try:
                boxes = [_box_of(b) for b in v.get("boundingBoxes") or []]
                values.append(LabelValue(int(v["page"]), str(v.get("text", "")), boxes))
            except (KeyError, TypeError, ValueError, AttributeError):
                raise LabelError(f"{name}: label '{label['label']}' has a malformed value.") from None
        if values:
            out[label["label"]] = values
    return out


def _box_of(b: Sequence[float]) -> Box:
    if len(b) != 8:
        raise ValueError("a bounding box has 8 numbers")
    xs, ys = [float(x) for x in b[0::2]], [float(y) for y in b[1::2]]
    if min(xs + ys) < -0.05 or max(xs + ys) > 1.05:
        raise ValueError("label boxes are in 0-1 page units")
    return min(xs), min(ys), max(xs), max(ys)


def label_text(values: list[LabelValue]) -> str:
    return " ".join(v.text for v in values).strip()


_QUOTES = str.maketrans("‘’‚‛“”„", "''''\"\"\"")


def same_text(a: str, b: str) -> bool:
    """Equal up to spacing, case and typographic quotes (what a reader would not call a different value)."""

    def norm(t: str) -> str:
        return _SPACE.sub(" ", t.translate(_QUOTES)).strip().casefold()

    return norm(a) == norm(b)


# ------------------------------------------------------------------------------------------------ page geometry


@dataclass(slots=True)
class _PageWords:
    """A page's words in 0-1 page units, with their text normalised for matching."""

    page: Page
    words: list[Word]
    texts: list[str]
    centers: np.ndarray  # (n, 2)
    boxes: np.ndarray  # (n, 4)
    order: list[tuple[int, int]]  # (line, word) of each word, for reading order
    height: float  # median word height: the slack around a field's box

    @classmethod
    def of(cls, page: Page) -> _PageWords:
        words, order, boxes = [], [], []
        w_, h_ = page.width or 1.0, page.height or 1.0
        for li, line in enumerate(page.lines):
            for wi, w in enumerate(line.words):
                xs, ys = w.polygon[0::2], w.polygon[1::2]
                words.append(w)
                order.append((li, wi))
                boxes.append((min(xs) / w_, min(ys) / h_, max(xs) / w_, max(ys) / h_))
        arr = np.array(boxes, dtype=float).reshape(-1, 4)
        centers = np.stack([(arr[:, 0] + arr[:, 2]) / 2, (arr[:, 1] + arr[:, 3]) / 2], axis=1)
        height = float(np.median(arr[:, 3] - arr[:, 1])) if len(arr) else 0.01
        return cls(page, words, [_key(w.content) for w in words], centers, arr, order, height)


def _key(text: str) -> str:
    """Words match on their letters; a word of punctuation only (a comb field's printed dash) on itself."""
    return _PUNCT.sub("", text).casefold() or text.strip()


def _apply(a: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ a[:, :2].T + a[:, 2]


def _invert(a: np.ndarray) -> np.ndarray:
    m = np.vstack([a, [0.0, 0.0, 1.0]])
    return np.linalg.inv(m)[:2]


IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def _fit(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares affine map src -> dst (translation only with few points)."""
    if len(src) < 6:
        t = np.median(dst - src, axis=0) if len(src) else np.zeros(2)
        return np.array([[1.0, 0.0, t[0]], [0.0, 1.0, t[1]]])
    design = np.hstack([src, np.ones((len(src), 1))])
    sol, *_ = np.linalg.lstsq(design, dst, rcond=None)
    return sol.T


@dataclass(slots=True)
class Alignment:
    transform: np.ndarray  # template -> page
    pairs: dict[int, int]  # template anchor index -> page word index
    ratio: float  # share of anchors found


def align(texts: list[str], points: np.ndarray, page: _PageWords) -> Alignment:
    """Map template anchors (text, 0-1 position) onto a page's words of the same text."""
    by_text: dict[str, list[int]] = {}
    for i, t in enumerate(page.texts):
        if t:
            by_text.setdefault(t, []).append(i)
    counts = Counter(texts)
    # Words printed once on both sides pair without ambiguity: they give the coarse shift.
    unique = [(a, by_text[t][0]) for a, t in enumerate(texts) if counts[t] == 1 and len(by_text.get(t, ())) == 1]
    unique = [(a, w) for a, w in unique if len(texts[a]) > 1]
    shifts = np.array([page.centers[w] - points[a] for a, w in unique]).reshape(-1, 2)
    shifts = shifts[np.hypot(shifts[:, 0], shifts[:, 1]) < SEARCH_RADIUS]
    transform = IDENTITY.copy()
    if len(shifts):
        transform[:, 2] = np.median(shifts, axis=0)
    pairs: dict[int, int] = {}
    for tol in (4 * ANCHOR_TOLERANCE, 2 * ANCHOR_TOLERANCE, ANCHOR_TOLERANCE):
        predicted = _apply(transform, points) if len(points) else points
        pairs = {}
        taken: set[int] = set()
        for a, t in enumerate(texts):
            best, best_d = -1, tol
            for w in by_text.get(t, ()):
                d = math.hypot(*(page.centers[w] - predicted[a]))
                if d < best_d and w not in taken:
                    best, best_d = w, d
            if best >= 0:
                pairs[a] = best
                taken.add(best)
        if len(pairs) >= 3:
            src = points[list(pairs)]
            dst = page.centers[list(pairs.values())]
            transform = _fit(src, dst)
    ratio = len(pairs) / len(texts) if texts else 0.0
    return Alignment(transform, pairs, ratio)


# ------------------------------------------------------------------------------------------------------ training


def _label_boxes(values: list[LabelValue], page_index: int) -> list[Box]:
    return [b for v in values if v.page - 1 == page_index for b in v.boxes]


def _union(boxes: Sequence[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _map_box(a: np.ndarray, box: Box) -> Box:
    corners = np.array([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]])
    m = _apply(a, corners)
    return float(m[:, 0].min()), float(m[:, 1].min()), float(m[:, 0].max()), float(m[:, 1].max())


def _inside(cx: float, cy: float, box: Box, margin: float = 0.0) -> bool:
    return box[0] - margin <= cx <= box[2] + margin and box[1] - margin <= cy <= box[3] + margin


def fit(forms: Sequence[LabeledForm], types: dict[str, str]) -> LabeledModel:
    """Learn the template (anchors per page) and each field's place from labelled forms (no accuracy yet)."""
    ref = max(forms, key=lambda f: (f.doc.pages[0].source == "text-layer", sum(len(p.lines) for p in f.doc.pages)))
    others = [f for f in forms if f is not ref]
    page_count = max(
        (v.page for f in forms for values in f.labels.values() for v in values), default=len(ref.doc.pages)
    )
    page_count = min(page_count, len(ref.doc.pages))
    pages: list[TemplatePage] = []
    to_ref: dict[tuple[int, int], np.ndarray] = {}  # (form, page) -> map into the reference frame
    seen: dict[tuple[int, int], _PageWords] = {}
    for p in range(page_count):
        ref_words = _PageWords.of(ref.doc.pages[p])
        valued = [b for values in ref.labels.values() for b in _label_boxes(values, p)]
        candidates = [
            i
            for i, t in enumerate(ref_words.texts)
            if t and not any(_inside(*ref_words.centers[i], b, 0.002) for b in valued)
        ]
        texts = [ref_words.texts[i] for i in candidates]
        points = ref_words.centers[candidates]
        hits = np.zeros(len(candidates), dtype=int)
        for fi, form in enumerate(forms):
            if form is ref:
                to_ref[(fi, p)], seen[(fi, p)] = IDENTITY, ref_words
                continue
            if p >= len(form.doc.pages):
                continue
            page = seen[(fi, p)] = _PageWords.of(form.doc.pages[p])
            al = align(texts, points, page)
            to_ref[(fi, p)] = _invert(al.transform)
            labelled = [b for values in form.labels.values() for b in _label_boxes(values, p)]
            for a, w in al.pairs.items():
                if not any(_inside(*page.centers[w], b, 0.002) for b in labelled):
                    hits[a] += 1
        need = max(1, math.ceil(ANCHOR_SHARE * len(others))) if others else 0
        keep = hits >= need
        pages.append(TemplatePage([t for t, k in zip(texts, keep, strict=True) if k], points[keep]))
    fields: list[FieldModel] = []
    names = list(types) + sorted({n for f in forms for n in f.labels} - set(types))
    for name in names:
        per_page: Counter[int] = Counter()
        for form in forms:
            for v in form.labels.get(name, []):
                per_page[v.page - 1] += 1
        if not per_page:
            continue
        p = per_page.most_common(1)[0][0]
        if p >= page_count:
            continue
        boxes = []
        for fi, form in enumerate(forms):
            own = _label_boxes(form.labels.get(name, []), p)
            if own and (fi, p) in to_ref:
                boxes.append(_map_box(to_ref[(fi, p)], _union(own)))
        if boxes:
            fm = FieldModel(name, types.get(name, "string"), p, _union(boxes))
            fm.exclude = _printed_in_field(fm, forms, to_ref, seen)
            fields.append(fm)
    return LabeledModel(fields, pages, trained_on=len(forms))


def _printed_in_field(
    fm: FieldModel,
    forms: Sequence[LabeledForm],
    to_ref: dict[tuple[int, int], np.ndarray],
    seen: dict[tuple[int, int], _PageWords],
) -> frozenset[str]:
    counts: Counter[str] = Counter()
    valued: set[str] = set()
    n = 0
    for fi, form in enumerate(forms):
        values = form.labels.get(fm.name)
        if not values or (fi, fm.page) not in seen:
            continue
        n += 1
        page = seen[(fi, fm.page)]
        region = _map_box(_invert(to_ref[(fi, fm.page)]), fm.box)
        own = _label_boxes(values, fm.page)
        valued.update(_key(t) for v in values for t in v.text.split())
        counts.update(
            {
                page.texts[i]
                for i in _words_in(page, region)
                if not any(_inside(*page.centers[i], b, 0.002) for b in own)
            }
        )
    return frozenset(k for k, c in counts.items() if c >= max(2, math.ceil(0.5 * n)) and k not in valued)


def train(forms: Sequence[LabeledForm], types: dict[str, str]) -> LabeledModel:
    """Fit on all forms; each field's accuracy is measured leave-one-out (fit on the others, read the one left)."""
    model = fit(forms, types)
    if len(forms) < 3:
        return model
    right: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for i, held in enumerate(forms):
        sub = fit([f for j, f in enumerate(forms) if j != i], types)
        found = extract(sub, held.doc)
        for fm in model.fields:
            if fm.name not in held.labels:
                continue
            seen[fm.name] += 1
            got = found.get(fm.name)
            if got is not None and same_text(got.content, label_text(held.labels[fm.name])):
                right[fm.name] += 1
    for fm in model.fields:
        fm.accuracy = round(right[fm.name] / seen[fm.name], 3) if seen[fm.name] else 0.0
    return model


# ------------------------------------------------------------------------------------------------------ analysis


def extract(model: LabeledModel, doc: Document) -> dict[str, Field]:
    """Read every field of ``model`` from ``doc`` (fields not found have no value)."""
    out: dict[str, Field] = {}
    cache: dict[int, tuple[_PageWords, Alignment]] = {}
    for fm in model.fields:
        if fm.page >= len(doc.pages) or fm.page >= len(model.pages):
            out[fm.name] = Field(fm.type, None, "", confidence=0.0)
            continue
        if fm.page not in cache:
            page = _PageWords.of(doc.pages[fm.page])
            tp = model.pages[fm.page]
            cache[fm.page] = (page, align(tp.texts, tp.points, page))
        page, al = cache[fm.page]
        region = _region(model.pages[fm.page], al, page, fm.box)
        confidence = round(max(0.05, fm.accuracy * min(1.0, 0.2 + al.ratio)), 3)
        if fm.type == "selectionMark":
            out[fm.name] = _mark_field(fm, doc.pages[fm.page], region, confidence)
        else:
            out[fm.name] = _text_field(fm, page, al, region, confidence)
    return out


def _region(tp: TemplatePage, al: Alignment, page: _PageWords, box: Box) -> Box:
    """The field's box on the page: the page-wide alignment, corrected by the anchors nearest to the field."""
    mapped = _map_box(al.transform, box)
    if len(al.pairs) >= 3:
        anchors = np.array(list(al.pairs))
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        d = np.hypot(tp.points[anchors, 0] - cx, tp.points[anchors, 1] - cy)
        near = anchors[np.argsort(d)[:LOCAL_ANCHORS]]
        words = np.array([al.pairs[a] for a in near])
        residual = np.median(page.centers[words] - _apply(al.transform, tp.points[near]), axis=0)
        mapped = (mapped[0] + residual[0], mapped[1] + residual[1], mapped[2] + residual[0], mapped[3] + residual[1])
    return mapped


def _words_in(page: _PageWords, region: Box) -> list[int]:
    slack = 0.3 * page.height
    return [i for i in range(len(page.words)) if _inside(page.centers[i, 0], page.centers[i, 1], region, slack)]


def _run_on(page: _PageWords, picked: list[int], stop: set[int]) -> list[int]:
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


def _text_field(fm: FieldModel, page: _PageWords, al: Alignment, region: Box, confidence: float) -> Field:
    static = set(al.pairs.values())
    picked = [i for i in _words_in(page, region) if i not in static and page.texts[i] not in fm.exclude]
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
    return align(tp.texts, tp.points, _PageWords.of(doc.pages[0])).ratio


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
