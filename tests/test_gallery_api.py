"""The gallery routes over loopback: enrol a person and a place with the key, recognise them through the
unmodified ``ComputerVisionClient`` without a restart, remove them, and the errors (no key, unknown gallery,
a photo without a face, an unknown name)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from server_harness import KEY, Server, start_server

FACES = "azure_ai102_vision_samples/face-api"
SCENES = "azure_ai102_vision_samples/image-analysis"
HEADERS = {"Ocp-Apim-Subscription-Key": KEY, "Content-Type": "application/octet-stream"}


@pytest.fixture(scope="module")
def gallery_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own: enrolments must not leak into other modules' answers."""
    srv = start_server(tmp_path_factory.mktemp("gallery") / "data")
    yield srv
    srv.stop()


def _enrol(srv: Server, kind: str, name: str, photo: bytes, key: str = KEY) -> httpx.Response:
    return httpx.post(
        f"{srv.endpoint}/percept/galleries/{kind}/entries",
        params={"name": name},
        content=photo,
        headers={**HEADERS, "Ocp-Apim-Subscription-Key": key},
        timeout=120,
    )


def _client(srv: Server):  # type: ignore[no-untyped-def]
    from azure.cognitiveservices.vision.computervision import ComputerVisionClient
    from msrest.authentication import CognitiveServicesCredentials

    return ComputerVisionClient(srv.endpoint, CognitiveServicesCredentials(KEY))


def _crop(path: Path) -> bytes:
    """Another view of the same place: the middle 80%, at 70% size."""
    img = Image.open(path).convert("RGB")
    w, h = img.size
    view = img.crop((w // 10, h // 10, w - w // 10, h - h // 10)).resize((int(w * 0.56), int(h * 0.56)))
    out = io.BytesIO()
    view.save(out, "JPEG", quality=90)
    return out.getvalue()


def test_enrol_recognise_and_remove_over_rest(gallery_server: Server, shared_data: Path) -> None:
    srv, client = gallery_server, _client(gallery_server)
    aisha = shared_data / FACES / "Aisha"
    for photo in ("face1.jpg", "face3.jpg", "face5.jpg"):
        r = _enrol(srv, "celebrities", "Aisha", (aisha / photo).read_bytes())
        assert r.status_code == 201, r.text
    assert r.json()["name"] == "Aisha"
    r = _enrol(srv, "landmarks", "Old Town Hall", (shared_data / SCENES / "building.jpg").read_bytes())
    assert r.status_code == 201, r.text

    listed = httpx.get(f"{srv.endpoint}/percept/galleries/celebrities", headers=HEADERS, timeout=30)
    assert listed.status_code == 200 and [e["name"] for e in listed.json()["entries"]] == ["Aisha"]

    # Recognised from a photo that was not enrolled, by the running server (no restart).
    with open(aisha / "face8.jpg", "rb") as f:
        found = client.analyze_image_by_domain_in_stream("celebrities", f).result["celebrities"]
    assert [c["name"] for c in found] == ["Aisha"] and found[0]["confidence"] >= 0.5
    assert set(found[0]["faceRectangle"]) == {"left", "top", "width", "height"}
    place = client.analyze_image_by_domain_in_stream(
        "landmarks", io.BytesIO(_crop(shared_data / SCENES / "building.jpg"))
    )
    assert [lm["name"] for lm in place.result["landmarks"]] == ["Old Town Hall"]
    # A stranger and another scene are nobody and nowhere.
    with open(shared_data / SCENES / "person.jpg", "rb") as f:
        assert client.analyze_image_by_domain_in_stream("celebrities", f).result["celebrities"] == []
    with open(shared_data / SCENES / "street.jpg", "rb") as f:
        assert client.analyze_image_by_domain_in_stream("landmarks", f).result["landmarks"] == []

    gone = httpx.delete(f"{srv.endpoint}/percept/galleries/celebrities/entries/aisha", headers=HEADERS, timeout=30)
    assert gone.status_code == 204
    with open(aisha / "face8.jpg", "rb") as f:
        assert client.analyze_image_by_domain_in_stream("celebrities", f).result["celebrities"] == []


def test_gallery_errors(gallery_server: Server, shared_data: Path) -> None:
    srv = gallery_server
    building = (shared_data / SCENES / "building.jpg").read_bytes()
    r = _enrol(srv, "celebrities", "Nobody", building, key="wrong-key")
    assert r.status_code == 401
    r = _enrol(srv, "pets", "Rex", building)
    assert r.status_code == 404 and r.json()["error"]["code"] == "NotFound"
    r = _enrol(srv, "celebrities", "Nobody", building)  # a building: no face to enrol
    assert r.status_code == 400, r.text
    assert "face" in r.json()["error"]["message"].lower()
    r = _enrol(srv, "celebrities", "Bad\nName", (shared_data / FACES / "Sama" / "face2.jpg").read_bytes())
    assert r.status_code == 400
    r = _enrol(srv, "landmarks", "Text", b"not a picture at all")
    assert r.status_code == 400
    r = httpx.delete(f"{srv.endpoint}/percept/galleries/landmarks/entries/Atlantis", headers=HEADERS, timeout=30)
    assert r.status_code == 404
    listed = httpx.get(f"{srv.endpoint}/percept/galleries/celebrities", headers=HEADERS, timeout=30)
    assert "Nobody" not in [e["name"] for e in listed.json()["entries"]]
