"""Computer Vision v1.0–v3.2 image analysis over loopback: the unmodified ``ComputerVisionClient`` (v3.2) for every
image method, raw HTTP for the older versions' shapes, and each version's error codes and envelopes, on real
photos (scikit-image's cat and coffee, the AI-102 samples)."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from server_harness import KEY, FileServer, file_server

from percept.vision.image import TooManyRequests
from percept.vision.service import VisionService
from percept.vision.settings import VisionSettings

SAMPLES = "azure_ai102_vision_samples/image-analysis"
FLAT = ("v1.0", "v2.0", "v2.1")
WRAPPED = ("v3.0", "v3.1", "v3.2")
HEADERS = {"Ocp-Apim-Subscription-Key": KEY}
RAW = {**HEADERS, "Content-Type": "application/octet-stream"}


def jpeg(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=92)
    return out.getvalue()


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> dict[str, Path]:
    import skimage.data

    folder = tmp_path_factory.mktemp("pictures")
    out = {}
    for name, rgb in (("cat", skimage.data.chelsea()), ("coffee", skimage.data.coffee())):
        out[name] = folder / f"{name}.jpg"
        out[name].write_bytes(jpeg(rgb))
    for name in ("street", "person", "building"):
        out[name] = shared_data / SAMPLES / f"{name}.jpg"
    out["text"] = folder / "notes.txt"
    out["text"].write_text("this is not a picture\n" * 20)
    out["tiny"] = folder / "tiny.png"
    Image.new("RGB", (10, 10), "red").save(out["tiny"])
    return out


@pytest.fixture(scope="module")
def files(pictures: dict[str, Path]) -> Iterator[FileServer]:
    """The pictures served on loopback; ``url(name)`` says http://localhost (allowed by the server's url_allow)."""
    with file_server() as fs:
        for name, path in pictures.items():
            fs.files[f"/{name}"] = path.read_bytes()
        yield fs


def url(files: FileServer, name: str, host: str = "localhost") -> str:
    return f"http://{host}:{files.port}/{name}"


@pytest.fixture(scope="module")
def client(server):  # type: ignore[no-untyped-def]
    from azure.cognitiveservices.vision.computervision import ComputerVisionClient
    from msrest.authentication import CognitiveServicesCredentials

    return ComputerVisionClient(server.endpoint, CognitiveServicesCredentials(KEY))


def post(server, path: str, data: bytes | None = None, *, json: dict | None = None, **params: str) -> httpx.Response:  # type: ignore[no-untyped-def]
    headers = HEADERS if json is not None else RAW
    return httpx.post(server.endpoint + path, params=params, content=data, json=json, headers=headers, timeout=300)


# ---- the SDK, v3.2 --------------------------------------------------------------------------------------------


def test_sdk_analyze_in_stream_cat(client, pictures) -> None:  # type: ignore[no-untyped-def]
    from azure.cognitiveservices.vision.computervision.models import VisualFeatureTypes as F

    features = [F.tags, F.description, F.categories, F.color, F.image_type, F.adult, F.faces, F.objects]
    with open(pictures["cat"], "rb") as fh:
        result = client.analyze_image_in_stream(fh, visual_features=features)
    assert "cat" in [t.name for t in result.tags]
    assert (result.metadata.width, result.metadata.height, result.metadata.format) == (451, 300, "Jpeg")
    assert "cat" in result.description.captions[0].text
    assert any(c.name.startswith("animal") for c in result.categories)
    assert result.color.accent_color and len(result.color.accent_color) == 6
    assert result.image_type.clip_art_type == 0 and not result.adult.is_adult_content
    assert result.faces == [] and result.model_version and result.request_id


def test_sdk_analyze_from_url_only_what_was_asked(client, files) -> None:  # type: ignore[no-untyped-def]
    from azure.cognitiveservices.vision.computervision.models import VisualFeatureTypes as F

    result = client.analyze_image(url(files, "cat"), visual_features=[F.tags])
    assert "cat" in [t.name for t in result.tags]
    assert result.description is None and result.faces is None and result.categories is None


def test_sdk_describe_coffee(client, pictures) -> None:  # type: ignore[no-untyped-def]
    with open(pictures["coffee"], "rb") as fh:
        result = client.describe_image_in_stream(fh, max_candidates=3)
    text = result.captions[0].text
    assert "coffee" in text and ("cup" in text or "mug" in text), text
    assert 1 <= len(result.captions) <= 3 and result.tags


def test_sdk_tag_from_url(client, files) -> None:  # type: ignore[no-untyped-def]
    result = client.tag_image(url(files, "cat"))
    assert "cat" in [t.name for t in result.tags]
    assert all(0 < t.confidence <= 1 for t in result.tags)


def test_sdk_detect_cars_on_the_street(client, pictures) -> None:  # type: ignore[no-untyped-def]
    with open(pictures["street"], "rb") as fh:
        result = client.detect_objects_in_stream(fh)
    cars = [o for o in result.objects if o.object_property == "car"]
    assert cars, [o.object_property for o in result.objects]
    w, h = result.metadata.width, result.metadata.height
    for o in cars:
        r = o.rectangle
        assert r.x >= 0 and r.y >= 0 and r.x + r.w <= w and r.y + r.h <= h
        assert o.parent is not None and o.parent.object_property == "Land vehicle"


def test_sdk_one_face_with_age_and_gender(client, pictures) -> None:  # type: ignore[no-untyped-def]
    from azure.cognitiveservices.vision.computervision.models import VisualFeatureTypes as F

    with open(pictures["person"], "rb") as fh:
        result = client.analyze_image_in_stream(fh, visual_features=[F.faces])
    assert len(result.faces) == 1
    face = result.faces[0]
    assert face.gender in ("Male", "Female") and 1 <= face.age <= 100
    assert face.face_rectangle.width > 20 and face.face_rectangle.height > 20


def test_sdk_models_and_domains(client, files) -> None:  # type: ignore[no-untyped-def]
    models = client.list_models()
    assert [m.name for m in models.models_property] == ["celebrities", "landmarks"]
    landmarks = client.analyze_image_by_domain("landmarks", url(files, "building"))
    assert isinstance(landmarks.result["landmarks"], list)
    celebrities = client.analyze_image_by_domain_in_stream("celebrities", file_path(files, "person"))
    assert isinstance(celebrities.result["celebrities"], list)


def file_path(files: FileServer, name: str) -> io.BytesIO:
    return io.BytesIO(files.files[f"/{name}"])


def _thumbnail(chunks: Iterator[bytes]) -> bytes:
    return b"".join(chunks)


def test_sdk_thumbnails_are_exactly_50x50_jpeg(client, files, pictures) -> None:  # type: ignore[no-untyped-def]
    smart = _thumbnail(client.generate_thumbnail(50, 50, url(files, "person"), smart_cropping=True))
    with open(pictures["coffee"], "rb") as fh:
        plain = _thumbnail(client.generate_thumbnail_in_stream(50, 50, fh))
    for data in (smart, plain):
        img = Image.open(io.BytesIO(data))
        assert (img.format, img.size) == ("JPEG", (50, 50))
        assert len(data) <= 4096  # one SDK chunk: callers that keep the last chunk get the whole picture
    wide = Image.open(io.BytesIO(_thumbnail(client.generate_thumbnail(200, 80, url(files, "cat")))))
    assert wide.size == (200, 80)


def test_sdk_area_of_interest(client, pictures) -> None:  # type: ignore[no-untyped-def]
    with open(pictures["person"], "rb") as fh:
        result = client.get_area_of_interest_in_stream(fh)
    box, meta = result.area_of_interest, result.metadata
    assert box.w > 0 and box.h > 0 and box.x + box.w <= meta.width and box.y + box.h <= meta.height


def test_sdk_errors(client, pictures, files) -> None:  # type: ignore[no-untyped-def]
    from azure.cognitiveservices.vision.computervision.models import ComputerVisionErrorResponseException

    with open(pictures["text"], "rb") as fh, pytest.raises(ComputerVisionErrorResponseException) as caught:
        client.analyze_image_in_stream(fh)
    error = caught.value.error.error
    assert caught.value.response.status_code == 400
    assert (error.code, error.innererror.code) == ("InvalidRequest", "InvalidImageFormat")
    with pytest.raises(ComputerVisionErrorResponseException) as caught:
        client.tag_image(url(files, "cat", host="127.0.0.1"))  # loopback by address: not on the allow-list
    assert caught.value.error.error.innererror.code == "InvalidImageUrl"


# ---- raw HTTP: every version's shapes ------------------------------------------------------------------------


def test_v1_seed_script_shapes(server, files, pictures) -> None:  # type: ignore[no-untyped-def]
    """The v1.0 notebook (seed 001): analyze by URL, by bytes, and as a multipart form; faces with age and gender."""
    body = post(
        server,
        "/vision/v1.0/analyze",
        json={"url": url(files, "coffee")},
        visualFeatures="Categories,Description,Color",
    ).json()
    assert "coffee" in body["description"]["captions"][0]["text"].capitalize().lower()
    assert set(body) == {"categories", "description", "color", "requestId", "metadata"}
    data = pictures["person"].read_bytes()
    faces = post(server, "/vision/v1.0/analyze", data, visualFeatures="Faces").json()["faces"]
    assert len(faces) == 1 and set(faces[0]) == {"age", "gender", "faceRectangle"}
    form = httpx.post(
        server.endpoint + "/vision/v1.0/tag",
        headers=HEADERS,
        files={"image": ("cat.jpg", pictures["cat"].read_bytes())},
    )
    assert form.status_code == 200 and "cat" in [t["name"] for t in form.json()["tags"]]
    assert all("hint" not in t for t in form.json()["tags"])  # v1.0 tags have no hint


@pytest.mark.parametrize("version", [*FLAT, *WRAPPED])
def test_describe_every_version(server, pictures, version: str) -> None:  # type: ignore[no-untyped-def]
    r = post(server, f"/vision/{version}/describe", pictures["cat"].read_bytes(), maxCandidates="2")
    assert r.status_code == 200
    body = r.json()
    assert "cat" in body["description"]["captions"][0]["text"]
    assert body["metadata"] == {"width": 451, "height": 300, "format": "Jpeg"}
    assert ("modelVersion" in body) == (version in WRAPPED)


def test_routes_each_version_has(server, pictures) -> None:  # type: ignore[no-untyped-def]
    cat = pictures["cat"].read_bytes()
    assert post(server, "/vision/v2.0/detect", cat).status_code == 404  # detect came with v2.1
    assert post(server, "/vision/v1.0/areaOfInterest", cat).status_code == 404
    objects = post(server, "/vision/v2.1/detect", cat).json()["objects"]
    assert "cat" in [o["object"] for o in objects]
    assert set(post(server, "/vision/v2.1/areaOfInterest", cat).json()["areaOfInterest"]) == {"x", "y", "w", "h"}


def _error(r: httpx.Response, version: str) -> str:
    """The specific code of ``r``, checking the version's envelope: flat before v3, wrapped from v3."""
    body = r.json()
    if version in FLAT:
        assert set(body) == {"code", "requestId", "message"}, body
        return str(body["code"])
    assert set(body) == {"error", "requestId"}, body
    assert body["error"]["code"] == "InvalidRequest"
    return str(body["error"]["innererror"]["code"])


@pytest.mark.parametrize("version", [*FLAT, *WRAPPED])
def test_errors_every_version(server, files, pictures, version: str) -> None:  # type: ignore[no-untyped-def]
    base = f"/vision/{version}"
    cat = pictures["cat"].read_bytes()
    cases = [
        (post(server, base + "/analyze", pictures["text"].read_bytes()), "InvalidImageFormat"),
        (post(server, base + "/analyze", pictures["tiny"].read_bytes()), "InvalidImageSize"),
        (post(server, base + "/analyze", cat, visualFeatures="Tags,Sunsets"), "NotSupportedVisualFeature"),
        (post(server, base + "/analyze", cat, language="xx"), "NotSupportedLanguage"),
        (post(server, base + "/analyze", cat, details="Dogs"), "InvalidDetails"),
        (post(server, base + "/describe", cat, maxCandidates="zero"), "BadArgument"),
        (post(server, base + "/tag", json={"url": url(files, "cat", host="127.0.0.1")}), "InvalidImageUrl"),
        (post(server, base + "/tag", b"\xff\xd8\xff" + b"\0" * (4 * 1024 * 1024)), "InvalidImageSize"),
    ]
    for r, code in cases:
        assert r.status_code == 400, (code, r.text)
        assert _error(r, version) == code
    thumb = post(server, base + "/generateThumbnail", cat, width="0", height="50")
    assert thumb.status_code == 400
    assert _error(thumb, version) == ("BadArgument" if version in ("v1.0", "v2.0") else "InvalidThumbnailSize")
    unknown = post(server, base + "/models/dogs/analyze", cat)
    assert unknown.status_code == 404
    if version in ("v1.0", "v2.0"):  # objects came with v2.1
        assert (
            _error(post(server, base + "/analyze", cat, visualFeatures="Objects"), version)
            == "NotSupportedVisualFeature"
        )
    unauthorized = httpx.post(server.endpoint + base + "/analyze", content=cat)
    assert unauthorized.status_code == 401


def test_model_version(server, pictures) -> None:  # type: ignore[no-untyped-def]
    cat = pictures["cat"].read_bytes()
    assert post(server, "/vision/v3.2/tag", cat, **{"model-version": "2021-04-01"}).status_code == 200
    r = post(server, "/vision/v3.2/tag", cat, **{"model-version": "1999-01-01"})
    assert r.status_code == 400 and _error(r, "v3.2") == "BadArgument"


# ---- the pool: bounded, 429 past its queue --------------------------------------------------------------------


def test_pool_refuses_past_its_queue_with_retry_after() -> None:
    service = VisionService(VisionSettings(workers=1, queue=1), retry_after=2)

    async def scenario() -> tuple[object, ...]:
        first = asyncio.ensure_future(service._run(time.sleep, 1.0))
        await asyncio.sleep(0.05)
        with pytest.raises(TooManyRequests) as refused:
            await service._run(time.sleep, 0)
        await first
        return refused.value.status, refused.value.retry_after, service.in_flight

    try:
        assert asyncio.run(scenario()) == (429, 2, 0)
    finally:
        service.stop()


def test_sdk_url_variants_of_tag_detect_area_and_ocr(client, files, pictures, scan_png, truth) -> None:  # type: ignore[no-untyped-def]
    """The methods the other tests drive only one way: tag from a stream, detect, area of interest and printed
    text from a URL."""
    with open(pictures["cat"], "rb") as fh:
        assert "cat" in [t.name for t in client.tag_image_in_stream(fh).tags]
    found = client.detect_objects(url(files, "street"))
    assert "car" in [o.object_property for o in found.objects]
    area = client.get_area_of_interest(url(files, "person"))
    box, meta = area.area_of_interest, area.metadata
    assert 0 < box.w <= meta.width and 0 < box.h <= meta.height
    files.files["/scan"] = scan_png.read_bytes()
    ocr = client.recognize_printed_text(url(files, "scan"), detect_orientation=True)
    words = [w.text for region in ocr.regions for line in region.lines for w in line.words]
    assert truth.split()[:5] == words[:5], words[:10]
