"""Real third-party documents from ../shared/data, read in place; skipped where the folder is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from percept import read_document
from percept.evaluation import cer


@pytest.mark.parametrize(
    ("image", "angle"),
    [
        ("phototest.tif", 0),
        ("phototest-rotated-180.png", 180),
        ("phototest-rotated-L.png", -90),
        ("phototest-rotated-R.png", 90),
    ],
)
def test_tesseract_phototest_in_every_orientation(shared_data: Path, image: str, angle: int) -> None:
    folder = shared_data / "tesseract_ocr_gt"
    doc = read_document(folder / image)
    assert cer(doc.content, (folder / "phototest.txt").read_text()) <= 0.01
    assert doc.pages[0].angle == angle


def test_uw3_line_images_under_50_px_are_refused_then_read_with_a_margin(shared_data: Path) -> None:
    import io

    from PIL import Image, ImageOps

    from percept.errors import InvalidImageSize

    folder = shared_data / "uw3_50lines" / "test"
    image = sorted(folder.glob("*.bin.png"))[0]
    truth = image.with_name(image.name.replace(".bin.png", ".gt.txt")).read_text()
    with pytest.raises(InvalidImageSize):  # Azure's 50 px minimum, and ours
        read_document(image)
    buf = io.BytesIO()
    ImageOps.expand(Image.open(image).convert("L"), border=24, fill=255).save(buf, format="PNG")
    assert cer(read_document(buf.getvalue()).content, truth) <= 0.05
