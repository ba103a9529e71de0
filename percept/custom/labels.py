"""The labeling tool's files (``fields.json``, ``<form>.labels.json``) read into labelled forms, and the one rule
for when a read value equals a labelled one. Kept apart from the learning so that a bad upload is refused with a
message naming the file before any training starts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..model import Document
from .values import FIELD_TYPES

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in 0-1 page units

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
