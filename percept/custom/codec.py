"""Learned custom models as versioned JSON, the form they are stored in (``models/<id>/model.json``).

A pickle would tie a model to this version of the code and run code when loaded, so the registry stores the
plain fields of the model classes instead: sets sorted into lists, numpy arrays as nested lists, each model
tagged with its kind. :func:`decode` rebuilds exactly what :func:`encode` was given.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import composed, labeled, unlabeled

FORMAT_VERSION = 1
FORMAT_KEY = "perceptModelFormat"

Learned = unlabeled.UnlabeledModel | labeled.LabeledModel | composed.ComposedModel


class ModelFormatError(ValueError):
    """A stored model this code cannot read (another format version, or not a model at all)."""


def encode(model: Learned) -> dict[str, Any]:
    """``model`` as plain JSON types, with the format version and its kind."""
    if isinstance(model, unlabeled.UnlabeledModel):
        body: dict[str, Any] = {"kind": "unlabeled", "clusters": [_cluster(c) for c in model.clusters]}
    elif isinstance(model, labeled.LabeledModel):
        body = {"kind": "labeled", **_labeled(model)}
    elif isinstance(model, composed.ComposedModel):
        body = {
            "kind": "composed",
            "components": [
                {"modelId": c.model_id, "name": c.name, "model": _labeled(c.model)} for c in model.components
            ],
        }
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
        return unlabeled.UnlabeledModel([_cluster_in(c) for c in d["clusters"]])
    if kind == "labeled":
        return _labeled_in(d)
    if kind == "composed":
        return composed.ComposedModel(
            [composed.Component(c["modelId"], c["name"], _labeled_in(c["model"])) for c in d["components"]]
        )
    raise ModelFormatError(f"unknown model kind {kind!r}")


def _box(b: tuple[float, ...] | None) -> list[float] | None:
    return None if b is None else [float(x) for x in b]


def _box_in(v: list[float] | None) -> Any:
    return None if v is None else tuple(v)


def _cluster(c: unlabeled.Cluster) -> dict[str, Any]:
    keys = [
        {
            "text": k.text,
            "norm": k.norm,
            "page": k.page,
            "box": _box(k.box),
            "colon": k.colon,
            "region": _box(k.region),
            "seenValue": float(k.seen_value),
        }
        for k in c.keys
    ]
    return {"clusterId": c.cluster_id, "documents": list(c.documents), "keys": keys, "static": sorted(c.static)}


def _cluster_in(d: dict[str, Any]) -> unlabeled.Cluster:
    keys = [
        unlabeled.LearnedKey(
            k["text"], k["norm"], k["page"], _box_in(k["box"]), k["colon"], _box_in(k["region"]), k["seenValue"]
        )
        for k in d["keys"]
    ]
    return unlabeled.Cluster(d["clusterId"], list(d["documents"]), keys, set(d["static"]))


def _labeled(m: labeled.LabeledModel) -> dict[str, Any]:
    fields = [
        {
            "name": f.name,
            "type": f.type,
            "page": f.page,
            "box": _box(f.box),
            "accuracy": float(f.accuracy),
            "exclude": sorted(f.exclude),
        }
        for f in m.fields
    ]
    pages = [{"texts": list(p.texts), "points": np.asarray(p.points, dtype=float).tolist()} for p in m.pages]
    return {"fields": fields, "pages": pages, "trainedOn": m.trained_on}


def _labeled_in(d: dict[str, Any]) -> labeled.LabeledModel:
    fields = [
        labeled.FieldModel(f["name"], f["type"], f["page"], _box_in(f["box"]), f["accuracy"], frozenset(f["exclude"]))
        for f in d["fields"]
    ]
    pages = [
        labeled.TemplatePage(list(p["texts"]), np.array(p["points"], dtype=float).reshape(-1, 2)) for p in d["pages"]
    ]
    return labeled.LabeledModel(fields, pages, d["trainedOn"])
