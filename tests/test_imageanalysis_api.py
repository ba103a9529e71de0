"""Image Analysis 4.0 (2023-10-01) over loopback with the unmodified ``ImageAnalysisClient``: each feature on a
real photo, from bytes and from a URL, and the azure-core error bodies."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from server_harness import KEY, FileServer, file_server

SAMPLES = "azure_ai102_vision_samples/image-analysis"
ROUTE = "/computervision/imageanalysis:analyze"


def jpeg(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=92)
    return out.getvalue()


@pytest.fixture(scope="module")
def pictures(shared_data: Path, scan_png: Path) -> dict[str, bytes]:
    import skimage.data

    out = {"cat": jpeg(skimage.data.chelsea()), "coffee": jpeg(skimage.data.coffee()), "scan": scan_png.read_bytes()}
    for name in ("street", "person"):
        out[name] = (shared_data / SAMPLES / f"{name}.jpg").read_bytes()
    tiny = io.BytesIO()
    Image.new("RGB", (10, 10), "red").save(tiny, "PNG")
    out["tiny"] = tiny.getvalue()
    webp = io.BytesIO()
    Image.fromarray(skimage.data.chelsea()).save(webp, "WEBP")
    out["webp"] = webp.getvalue()
    return out


@pytest.fixture(scope="module")
def files(pictures: dict[str, bytes]) -> Iterator[FileServer]:
    with file_server() as fs:
        for name, data in pictures.items():
            fs.files[f"/{name}"] = data
        yield fs


@pytest.fixture(scope="module")
def client(server):  # type: ignore[no-untyped-def]
    from azure.ai.vision.imageanalysis import ImageAnalysisClient
    from azure.core.credentials import AzureKeyCredential

    return ImageAnalysisClient(server.endpoint, AzureKeyCredential(KEY))


def test_tags_and_caption_from_bytes(client, pictures) -> None:  # type: ignore[no-untyped-def]
    from azure.ai.vision.imageanalysis.models import VisualFeatures as F

    result = client.analyze(pictures["cat"], visual_features=[F.TAGS, F.CAPTION])
    assert "cat" in [t.name for t in result.tags.list]
    assert "cat" in result.caption.text and 0 < result.caption.confidence <= 1
    assert (result.metadata.width, result.metadata.height, result.model_version) == (451, 300, "2023-10-01")
    assert result.objects is None and result.read is None


def test_caption_from_url(client, files) -> None:  # type: ignore[no-untyped-def]
    from azure.ai.vision.imageanalysis.models import VisualFeatures as F

    result = client.analyze_from_url(f"http://localhost:{files.port}/coffee", visual_features=[F.CAPTION])
    assert "coffee" in result.caption.text and ("cup" in result.caption.text or "mug" in result.caption.text)


def test_objects_and_people(client, pictures) -> None:  # type: ignore[no-untyped-def]
    from azure.ai.vision.imageanalysis.models import VisualFeatures as F

    street = client.analyze(pictures["street"], visual_features=[F.OBJECTS])
    assert "car" in [o.tags[0].name for o in street.objects.list]
    person = client.analyze(pictures["person"], visual_features=[F.PEOPLE])
    best = max(person.people.list, key=lambda p: p.confidence)
    assert best.confidence > 0.5 and best.bounding_box.height > person.metadata.height / 3


def test_smart_crops_and_dense_captions(client, pictures) -> None:  # type: ignore[no-untyped-def]
    from azure.ai.vision.imageanalysis.models import VisualFeatures as F

    result = client.analyze(
        pictures["person"], visual_features=[F.SMART_CROPS, F.DENSE_CAPTIONS], smart_crops_aspect_ratios=[0.9, 1.33]
    )
    crops = result.smart_crops.list
    assert [c.aspect_ratio for c in crops] == [0.9, 1.33]
    for c in crops:
        b = c.bounding_box
        assert b.x >= 0 and b.y >= 0 and b.x + b.width <= result.metadata.width
        assert abs(b.width / b.height - c.aspect_ratio) < 0.05
    assert result.dense_captions.list and result.dense_captions.list[0].text


def test_read(client, pictures, truth: str) -> None:  # type: ignore[no-untyped-def]
    from azure.ai.vision.imageanalysis.models import VisualFeatures as F

    result = client.analyze(pictures["scan"], visual_features=[F.READ])
    text = " ".join(line.text for block in result.read.blocks for line in block.lines)
    first_words = truth.split()[:5]
    assert all(w in text for w in first_words), text[:200]
    word = result.read.blocks[0].lines[0].words[0]
    assert len(word.bounding_polygon) == 4 and 0 < word.confidence <= 1


def test_webp_is_taken(client, pictures) -> None:  # type: ignore[no-untyped-def]
    from azure.ai.vision.imageanalysis.models import VisualFeatures as F

    assert "cat" in [t.name for t in client.analyze(pictures["webp"], visual_features=[F.TAGS]).tags.list]


def test_sdk_errors(client, pictures) -> None:  # type: ignore[no-untyped-def]
    from azure.ai.vision.imageanalysis.models import VisualFeatures as F
    from azure.core.exceptions import HttpResponseError

    with pytest.raises(HttpResponseError) as caught:
        client.analyze(b"not a picture at all" * 10, visual_features=[F.TAGS])
    assert caught.value.status_code == 400 and caught.value.error.code == "InvalidRequest"
    assert caught.value.error.innererror["code"] == "InvalidImageFormat"
    with pytest.raises(HttpResponseError) as caught:
        client.analyze(pictures["tiny"], visual_features=[F.TAGS])
    assert caught.value.error.innererror["code"] == "InvalidImageDimension"


def test_raw_errors(server, pictures) -> None:  # type: ignore[no-untyped-def]
    headers = {"Ocp-Apim-Subscription-Key": KEY, "Content-Type": "application/octet-stream"}
    cat = pictures["cat"]

    def inner(**params: str) -> tuple[int, str]:
        r = httpx.post(server.endpoint + ROUTE, params=params, content=cat, headers=headers, timeout=120)
        body = r.json()
        assert set(body) == {"error"} and body["error"]["code"] == "InvalidRequest", body
        return r.status_code, body["error"]["innererror"]["code"]

    assert inner(features="tags") == (400, "UnsupportedApiVersion")
    assert inner(**{"api-version": "2022-01-01", "features": "tags"}) == (400, "UnsupportedApiVersion")
    assert inner(**{"api-version": "2023-10-01"}) == (400, "NotSupportedVisualFeature")
    assert inner(**{"api-version": "2023-10-01", "features": "tags,sunsets"}) == (400, "NotSupportedVisualFeature")
    ratios = {"api-version": "2023-10-01", "features": "smartCrops", "smartcrops-aspect-ratios": "0.9,2.5"}
    assert inner(**ratios) == (400, "BadArgument")
    refused = httpx.post(
        server.endpoint + ROUTE,
        params={"api-version": "2023-10-01", "features": "tags"},
        json={"url": "http://127.0.0.1:9/cat"},
        headers={"Ocp-Apim-Subscription-Key": KEY},
    )
    assert refused.status_code == 400 and refused.json()["error"]["innererror"]["code"] == "InvalidImageUrl"


@pytest.mark.parametrize(
    ("feature", "picture"),
    [
        ("TAGS", "cat"),
        ("CAPTION", "coffee"),
        ("DENSE_CAPTIONS", "street"),
        ("OBJECTS", "street"),
        ("PEOPLE", "person"),
        ("SMART_CROPS", "person"),
        ("READ", "scan"),
    ],
)
def test_each_feature_from_url(client, files, truth: str, feature: str, picture: str) -> None:  # type: ignore[no-untyped-def]
    """``analyze_from_url`` for every feature alone: only that result comes back, with the right content."""
    from azure.ai.vision.imageanalysis.models import VisualFeatures as F

    result = client.analyze_from_url(f"http://localhost:{files.port}/{picture}", visual_features=[getattr(F, feature)])
    present = {
        name
        for name in ("tags", "caption", "dense_captions", "objects", "people", "smart_crops", "read")
        if getattr(result, name) is not None
    }
    assert present == {feature.lower()}
    if feature == "TAGS":
        assert "cat" in [t.name for t in result.tags.list]
    elif feature == "CAPTION":
        assert "coffee" in result.caption.text
    elif feature == "DENSE_CAPTIONS":
        regions = result.dense_captions.list
        assert regions[0].bounding_box.x == 0 and regions[0].bounding_box.width == result.metadata.width
        assert any("car" in r.text for r in regions), [r.text for r in regions]
    elif feature == "OBJECTS":
        assert sum(o.tags[0].name == "car" for o in result.objects.list) >= 2
    elif feature == "PEOPLE":
        assert len([p for p in result.people.list if p.confidence >= 0.5]) == 1
    elif feature == "SMART_CROPS":
        crop = result.smart_crops.list[0].bounding_box
        assert 0 < crop.width <= result.metadata.width and 0 < crop.height <= result.metadata.height
    else:
        words = " ".join(line.text for block in result.read.blocks for line in block.lines).split()
        assert words[:5] == truth.split()[:5]
