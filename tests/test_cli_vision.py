"""``percept analyze-image``, ``percept thumbnail`` and ``percept gallery``, run as a user runs them."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

SAMPLES = Path("/work/shared/data/azure_ai102_vision_samples")
PERSON = SAMPLES / "image-analysis/person.jpg"
SAMA = SAMPLES / "face-api/Sama"


def _percept(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "percept", *args], capture_output=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from skimage import data

    path = tmp_path_factory.mktemp("cli") / "chelsea.png"
    Image.fromarray(data.chelsea()).save(path)
    return path


def test_analyze_image_prints_the_v3_2_analyze_body(cat: Path) -> None:
    proc = _percept("analyze-image", str(cat))
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert body["metadata"] == {"width": 451, "height": 300, "format": "Png"}
    assert body["modelVersion"] == "2021-05-01"
    assert "cat" in [t["name"] for t in body["tags"]]
    caption = body["description"]["captions"][0]["text"]
    assert "cat" in caption.split(), caption
    assert [o["object"] for o in body["objects"]] == ["cat"]
    assert body["faces"] == []
    assert body["categories"][0]["name"] == "animal_cat"
    assert body["adult"]["isAdultContent"] is False
    assert set(body) == {
        "categories", "adult", "color", "imageType", "tags", "description", "faces", "objects",
        "requestId", "metadata", "modelVersion",
    }  # fmt: skip
    assert proc.stdout.count(b"\n") == 1  # one line unless --pretty


def test_analyze_image_prints_the_4_0_result(cat: Path) -> None:
    proc = _percept("analyze-image", str(cat), "--api", "4.0", "--features", "caption,tags", "--pretty")
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert set(body) == {"modelVersion", "metadata", "captionResult", "tagsResult"}
    assert body["metadata"] == {"width": 451, "height": 300}
    assert "cat" in body["captionResult"]["text"].split()
    assert "cat" in [t["name"] for t in body["tagsResult"]["values"]]
    assert proc.stdout.count(b"\n") > 10  # indented


def test_data_dir_galleries_name_a_celebrity(tmp_path: Path) -> None:
    args = ("--features", "Categories", "--details", "Celebrities", "--data-dir", str(tmp_path))
    unknown = _percept("analyze-image", str(SAMA / "face9.jpg"), *args)
    assert unknown.returncode == 0, unknown.stderr
    assert "detail" not in json.loads(unknown.stdout)["categories"][0]
    added = _percept("gallery", "add", "celebrities", "Sama", str(SAMA / "face2.jpg"), "--data-dir", str(tmp_path))
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["name"] == "Sama"
    known = _percept("analyze-image", str(SAMA / "face9.jpg"), *args)
    assert known.returncode == 0, known.stderr
    (portrait,) = json.loads(known.stdout)["categories"]
    assert portrait["name"].startswith("people_")
    assert [c["name"] for c in portrait["detail"]["celebrities"]] == ["Sama"]


def test_thumbnail_writes_an_exact_jpeg(tmp_path: Path) -> None:
    out = tmp_path / "thumb.jpg"
    proc = _percept("thumbnail", str(PERSON), "50x50", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    with Image.open(out) as img:
        assert (img.format, img.size) == ("JPEG", (50, 50))
    piped = _percept("thumbnail", str(PERSON), "120x40", "--no-smart")  # stdout is a pipe here, not a terminal
    assert piped.returncode == 0, piped.stderr
    with Image.open(io.BytesIO(piped.stdout)) as img:
        assert (img.format, img.size) == ("JPEG", (120, 40))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("thumbnail", str(PERSON), "0x50", "-o", "never.jpg"), "The thumbnail width '0' is not valid: it must be "
         "between 1 and 1024."),
        (("thumbnail", str(PERSON), "50x1025", "-o", "never.jpg"), "The thumbnail height '1025' is not valid: it "
         "must be between 1 and 1024."),
        (("thumbnail", str(PERSON), "fifty", "-o", "never.jpg"), "The thumbnail size 'fifty' is not valid: write it "
         "as WIDTHxHEIGHT, e.g. 100x100."),
        (("analyze-image", "{text}"), "Input data is not a valid image."),
        (("analyze-image", str(PERSON), "--features", "Tags,Sparkles"), "Specified feature type is not valid: "
         "'Sparkles'."),
        (("analyze-image", str(PERSON), "--api", "4.0", "--features", "Tags,Sparkles"), "The feature 'Sparkles' is "
         "not supported; use tags, caption, denseCaptions, objects, read, smartCrops, people."),
        (("analyze-image", str(PERSON), "--details", "Cars"), "Specified details are not valid: 'Cars'."),
        (("analyze-image", "{missing}"), "file not found: {missing}"),
    ],
)  # fmt: skip
def test_errors_are_one_line_and_exit_1(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    where = {"text": str(text), "missing": str(tmp_path / "nope.png")}
    proc = subprocess.run(
        [sys.executable, "-m", "percept", *(a.format(**where) for a in args)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == f"percept: {message.format(**where)}\n"
    assert not (tmp_path / "never.jpg").exists()
