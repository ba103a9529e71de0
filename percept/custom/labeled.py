"""Custom models trained with labels: where each labelled field sits on the form, learned relative to the form's
own printed text, so that a shifted, scaled, slightly rotated or scanned copy is still read in the right place.

Training picks one form as the reference and aligns every other form to it by the words they share (an affine
fit over words of the same text, robust to the filled-in values that differ). Words printed in the same place
on most forms and outside every labelled value are the template's *anchors*. Each field is the union of its
labelled boxes, carried into the reference frame. Accuracy is measured by leave-one-out over the labelled
forms, never on the forms a model was fitted to.

This module holds the learned model and its training, and is the one callers import: reading the label files
(``labels``), the alignment (``alignment``) and reading fields off a new page (``field_reading``) live beside it.
The model classes stay here so stored models keep their import path.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .alignment import IDENTITY, PageWords, align, inside, invert_affine, map_box, word_key
from .field_reading import apply, extract, match, words_in
from .labels import Box, LabeledForm, LabelError, LabelValue, label_text, parse_fields, parse_labels, same_text

__all__ = [
    "MIN_LABELED_FORMS",
    "Box",
    "FieldModel",
    "LabelError",
    "LabelValue",
    "LabeledForm",
    "LabeledModel",
    "TemplatePage",
    "apply",
    "extract",
    "fit",
    "label_text",
    "match",
    "parse_fields",
    "parse_labels",
    "same_text",
    "train",
]

MIN_LABELED_FORMS = 5
ANCHOR_SHARE = 0.6  # a word printed in place on this share of the other forms is part of the template


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


def _label_boxes(values: list[LabelValue], page_index: int) -> list[Box]:
    return [b for v in values if v.page - 1 == page_index for b in v.boxes]


def _union(boxes: Sequence[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


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
    seen: dict[tuple[int, int], PageWords] = {}
    for p in range(page_count):
        ref_words = PageWords.of(ref.doc.pages[p])
        valued = [b for values in ref.labels.values() for b in _label_boxes(values, p)]
        candidates = [
            i
            for i, t in enumerate(ref_words.texts)
            if t and not any(inside(ref_words.centers[i, 0], ref_words.centers[i, 1], b, 0.002) for b in valued)
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
            page = seen[(fi, p)] = PageWords.of(form.doc.pages[p])
            al = align(texts, points, page)
            to_ref[(fi, p)] = invert_affine(al.transform)
            labelled = [b for values in form.labels.values() for b in _label_boxes(values, p)]
            for a, w in al.pairs.items():
                if not any(inside(page.centers[w, 0], page.centers[w, 1], b, 0.002) for b in labelled):
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
                boxes.append(map_box(to_ref[(fi, p)], _union(own)))
        if boxes:
            fm = FieldModel(name, types.get(name, "string"), p, _union(boxes))
            fm.exclude = _printed_in_field(fm, forms, to_ref, seen)
            fields.append(fm)
    return LabeledModel(fields, pages, trained_on=len(forms))


def _printed_in_field(
    fm: FieldModel,
    forms: Sequence[LabeledForm],
    to_ref: dict[tuple[int, int], np.ndarray],
    seen: dict[tuple[int, int], PageWords],
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
        region = map_box(invert_affine(to_ref[(fi, fm.page)]), fm.box)
        own = _label_boxes(values, fm.page)
        valued.update(word_key(t) for v in values for t in v.text.split())
        counts.update(
            {
                page.texts[i]
                for i in words_in(page, region)
                if not any(inside(page.centers[i, 0], page.centers[i, 1], b, 0.002) for b in own)
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
