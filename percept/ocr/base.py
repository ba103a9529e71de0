"""The OCR engine interface and the registry that selects an engine by name.

An engine reads one upright grayscale image and returns lines of words in that image's pixel coordinates, plus
the engine's own grouping of lines into blocks (paragraphs) when it has one. Everything else (orientation, skew,
units, spans) is the pipeline's job, so an engine stays small.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..errors import EngineUnavailable
from ..model import Line


@dataclass(slots=True)
class OcrResult:
    lines: list[Line]
    blocks: list[list[int]] = field(default_factory=list)

    def score(self) -> float:
        """Confidence-weighted count of word characters: compares readings of one image in several turns."""
        return sum(w.confidence * sum(ch.isalnum() for ch in w.content) for ln in self.lines for w in ln.words)

    def mean_confidence(self) -> float:
        words = [w for ln in self.lines for w in ln.words if any(ch.isalnum() for ch in w.content)]
        if not words:
            return 0.0
        return sum(w.confidence for w in words) / len(words)

    def word_count(self) -> int:
        return sum(len(ln.words) for ln in self.lines)


class OcrEngine(Protocol):
    name: str

    def recognize(self, image: np.ndarray, *, languages: str = "eng", dpi: int | None = None) -> OcrResult:
        """Read an upright 8-bit grayscale image."""
        ...


_FACTORIES: dict[str, Callable[[], OcrEngine]] = {}
_INSTANCES: dict[str, OcrEngine] = {}


def register(name: str, factory: Callable[[], OcrEngine]) -> None:
    """Make an engine selectable by ``name`` (configuration, ``--engine``, plugins)."""
    _FACTORIES[name] = factory


def available_engines() -> list[str]:
    return sorted(_FACTORIES)


def get_engine(name: str) -> OcrEngine:
    """The engine called ``name``, built once per process (models load once per worker)."""
    if name not in _INSTANCES:
        if name not in _FACTORIES:
            raise EngineUnavailable(f"Unknown OCR engine '{name}'; available: {', '.join(available_engines())}.")
        _INSTANCES[name] = _FACTORIES[name]()
    return _INSTANCES[name]
