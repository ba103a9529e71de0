"""Learned custom models as versioned JSON, the form they are stored in (``models/<id>/model.json``).

A pickle would tie a model to this version of the code and run code when loaded, so the registry stores the
plain fields of the model classes instead: sets sorted into lists, numpy arrays as nested lists, each model
tagged with its kind. :func:`decode` rebuilds exactly what :func:`encode` was given.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..portable import AS_LIST, Codec, Record, list_of, same
from . import composed, labeled, unlabeled

FORMAT_VERSION = 1
FORMAT_KEY = "perceptModelFormat"

Learned = unlabeled.UnlabeledModel | labeled.LabeledModel | composed.ComposedModel


class ModelFormatError(ValueError):
    """A stored model this code cannot read (another format version, or not a model at all)."""


def encode(model: Learned) -> dict[str, Any]:
    """``model`` as plain JSON types, with the format version and its kind."""
    if isinstance(model, unlabeled.UnlabeledModel):
        body: dict[str, Any] = {"kind": "unlabeled", "clusters": [_CLUSTER.out(c) for c in model.clusters]}
    elif isinstance(model, labeled.LabeledModel):
        body = {"kind": "labeled", **_LABELED.out(model)}
    elif isinstance(model, composed.ComposedModel):
        body = {"kind": "composed", "components": [_COMPONENT.out(c) for c in model.components]}
    else:
        raise TypeError(f"not a learned model: {type(model).__name__}")
    return {FORMAT_KEY: FORMAT_VERSION, **body}


def decode(d: dict[str, Any]) -> Learned:
    """The model :func:`encode` gave ``d`` for; raises :class:`ModelFormatError` for anything else."""
    version = d.get(FORMAT_KEY) if isinstance(d, dict) else None
    if version != FORMAT_VERSION:
        raise ModelFormatError(f"unsupported model format version {version!r} (this version reads {FORMAT_VERSION})")
    kind = d.get("kind")
    if kind == "unlabeled":
        return unlabeled.UnlabeledModel([_CLUSTER.back(c) for c in d["clusters"]])
    if kind == "labeled":
        return _LABELED.back(d)
    if kind == "composed":
        return composed.ComposedModel([_COMPONENT.back(c) for c in d["components"]])
    raise ModelFormatError(f"unknown model kind {kind!r}")


def _box(b: tuple[float, ...] | None) -> list[float] | None:
    return None if b is None else [float(x) for x in b]


def _box_in(v: list[float] | None) -> Any:
    return None if v is None else tuple(v)


BOX: Codec = (_box, _box_in)
NUMBER: Codec = (float, same)  # numpy floats are stored as plain ones

_KEY = Record(unlabeled.LearnedKey, box=BOX, region=BOX, seen_value=NUMBER)
_CLUSTER = Record(unlabeled.Cluster, documents=AS_LIST, keys=list_of(_KEY.codec), static=(sorted, set))
_FIELD = Record(labeled.FieldModel, box=BOX, accuracy=NUMBER, exclude=(sorted, frozenset))
_PAGE = Record(
    labeled.TemplatePage,
    texts=AS_LIST,
    points=(
        lambda points: np.asarray(points, dtype=float).tolist(),
        lambda rows: np.array(rows, dtype=float).reshape(-1, 2),
    ),
)
_LABELED = Record(labeled.LabeledModel, fields=list_of(_FIELD.codec), pages=list_of(_PAGE.codec))
_COMPONENT = Record(composed.Component, model=_LABELED.codec)
