"""Composed models: several models trained with labels answering as one. Each document is read with the
component whose template it matches best (the share of its printed anchors found on the page)."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Document
from . import labeled


@dataclass(slots=True)
class Component:
    model_id: str
    name: str | None
    model: labeled.LabeledModel


@dataclass(slots=True)
class ComposedModel:
    components: list[Component]

    def best(self, doc: Document) -> Component:
        return max(self.components, key=lambda c: labeled.match(c.model, doc))
