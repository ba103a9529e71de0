"""The OCR engine interface, and typed access to the OCR engines of the engine registry (``percept.engines``).

An engine reads one upright grayscale image and returns lines of words in that image's pixel coordinates, plus
the engine's own grouping of lines into blocks (paragraphs) when it has one. Everything else (orientation, skew,
units, spans) is the pipeline's job, so an engine stays small.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, cast

import numpy as np

from .. import engines
from ..engines import EngineOptions, EngineSpec
from ..model import Line


@dataclass(slots=True)
class OcrResult:
    lines: list[Line]
    blocks: list[list[int]] = field(default_factory=list)
    engine: str = ""  # what read it, where an engine delegates ("tesseract+rapidocr": lines re-read by PP-OCR)

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
    # Whether the pipeline should bring the text to the size Tesseract reads best (``geometry.ocr_scale``)
    # before calling ``recognize``; a detector-based engine sizes lines itself.
    rescales: bool

    def recognize(
        self, image: np.ndarray, *, languages: str = "eng", dpi: int | None = None, handwriting: bool = False
    ) -> OcrResult:
        """Read an upright 8-bit grayscale image; ``handwriting``: the caller says the text is handwritten."""
        ...


OCR = "ocr"  # the engine kind (``percept.engines``)


def register(name: str, factory: Callable[[], OcrEngine]) -> None:
    """Make an engine without options selectable by ``name`` (configuration, ``--engine``, plugins); an engine
    with options registers an ``EngineSpec`` of kind ``OCR`` with ``percept.engines.register``."""
    engines.register(EngineSpec(OCR, name, lambda _options: factory(), EngineOptions))


def available_engines() -> list[str]:
    return engines.available(OCR)


def get_engine(name: str) -> OcrEngine:
    """The engine called ``name`` with its options from the environment, built once per process (models load
    once per worker)."""
    return cast(OcrEngine, engines.get(OCR, name))


def engine_languages(name: str, hint: str | None) -> str | None:
    """Engine ``name``'s language string for a caller's hint (``de-DE``), or None to keep the configured one."""
    return engines.language(OCR, name, hint)
