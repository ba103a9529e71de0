"""Analysis with a custom model of any kind (without labels, with labels, composed), shared by the server's
jobs and the CLI."""

from __future__ import annotations

from ..errors import NotFound
from ..model import Document
from . import composed, labeled, unlabeled
from .registry import ModelRegistry


def apply_model(models: ModelRegistry, model_id: str, doc: Document, *, v3: bool) -> Document:
    """Put the model's findings on ``doc`` (read with layout): key-value pairs, or a document with fields.

    Doc types follow the caller's API: v2.1 says ``custom:<name or id>``, the v3 APIs the model id (a composed
    model: ``<composed id>:<component id>``)."""
    rec = models.get(model_id)
    try:
        learned = models.learned(model_id)
    except FileNotFoundError:
        rec = None
    if rec is None:
        raise NotFound(f"Model '{model_id}' was not found (deleted before the analysis ran?).")
    if isinstance(learned, composed.ComposedModel):
        part = learned.best(doc)
        doc_type = f"{model_id}:{part.model_id}" if v3 else f"custom:{part.name or part.model_id}"
        labeled.apply(part.model, doc, doc_type, part.model_id)
    elif isinstance(learned, labeled.LabeledModel):
        labeled.apply(learned, doc, model_id if v3 else f"custom:{rec.name or model_id}", model_id)
    else:
        unlabeled.apply(learned, doc)
    return doc
