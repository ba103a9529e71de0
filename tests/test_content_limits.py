"""What a document may be, answered as Azure answers it (issue 11, items 4, 8 and 9a).

- PDF pages are rendered within the images' pixel budget: a huge page is read at a lower resolution while its
  text stays readable (>= 72 dpi), and refused with ``InvalidContentDimensions`` beyond that, before the 202
  where validation can tell, and by the failed operation where only the render can (a garbage text layer).
- Unreadable bytes are 400 ``InvalidRequest``/``InvalidContent`` in every family, in each family's own codes.
- CV ``/ocr`` with ``detectOrientation=false`` reads the image as submitted and says ``NotDetected``.
"""

from __future__ import annotations

import io
import math
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import builders
import psutil
import pytest
import requests
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from server_harness import KEY, Server, start_server

from percept.config import Limits
from percept.errors import InvalidContent, InvalidContentDimensions
from percept.source import MIN_RENDER_DPI, open_document, render_dpi

HEADERS = {"Ocp-Apim-Subscription-Key": KEY, "Content-Type": "application/octet-stream"}
DI = "/documentintelligence/documentModels/prebuilt-read:analyze?api-version=2024-11-30"
FR3 = "/formrecognizer/documentModels/prebuilt-read:analyze?api-version=2023-07-31"
FR2 = "/formrecognizer/v2.1/layout/analyze"
CV_READ = "/vision/v3.2/read/analyze"
CV_OCR = "/vision/v3.2/ocr"
WORDS = "Large poster text"
MB = 1024 * 1024


def _poster(side_pt: float, width_share: float = 0.25) -> bytes:
    """A square page of ``side_pt`` points whose only content is a picture of WORDS (a scanned poster): no text
    layer, so it must be rendered and OCR'd. The picture spans ``width_share`` of the page, from 10% in and
    halfway down; a few KB of PDF."""
    img = Image.new("L", (1200, 240), 255)
    ImageDraw.Draw(img).text((40, 60), WORDS, fill=0, font=ImageFont.truetype(builders.VERA, 90))
    png = io.BytesIO()
    img.save(png, format="PNG", optimize=True)
    png.seek(0)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(side_pt, side_pt))
    width = side_pt * width_share
    c.drawImage(ImageReader(png), side_pt * 0.1, side_pt * 0.5, width=width, height=width / 5)
    c.showPage()
    c.save()
    return buf.getvalue()


def _giant_pdf(side_pt: float, *, garbage_layer: bool = False) -> bytes:
    """A square page with real text (a digital poster), or with only unmapped glyphs, which the worker
    finds to be garbage only when it reads them, and then renders the page."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(side_pt, side_pt))
    text = c.beginText()
    text.setFont("Vera", 400)
    text.setTextOrigin(side_pt * 0.1, side_pt * 0.5)
    text.textOut("".join(chr(0xE000 + k) for k in range(20)) if garbage_layer else WORDS)
    c.drawText(text)
    c.showPage()
    c.save()
    return buf.getvalue()


def _random_bytes() -> bytes:
    return random.Random(11).randbytes(4096)


def _truncated_pdf() -> bytes:
    pdf = builders.text_pdf([builders.PARAGRAPH])
    return pdf[: len(pdf) // 2]


def _post(server: Server, path: str, body: bytes, **params: str) -> requests.Response:
    return requests.post(server.endpoint + path, headers=HEADERS, params=params or None, data=body, timeout=60)


def _poll(url: str, done: tuple[str, ...] = ("succeeded", "failed")) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(240):
        body = requests.get(url, headers=HEADERS, timeout=30).json()
        if str(body.get("status", "")).lower() in done:
            return body
        time.sleep(0.25)
    raise AssertionError(f"operation did not finish: {body}")


@pytest.fixture(scope="module")
def lean_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own with one worker, so its memory is this module's alone."""
    srv = start_server(tmp_path_factory.mktemp("limits") / "data", PERCEPT_WORKERS="1")
    try:
        warm = _post(srv, DI, _poster(612))  # starts the worker: its first import is not the page's cost
        assert warm.status_code == 202, warm.text
        assert _poll(warm.headers["Operation-Location"])["status"] == "succeeded"
        yield srv
    finally:
        srv.stop()


def _tree_rss(pid: int) -> int:
    proc = psutil.Process(pid)
    try:
        procs = [proc, *proc.children(recursive=True)]  # workers and their Tesseract processes
    except psutil.Error:
        procs = [proc]
    total = 0
    for p in procs:
        with suppress(psutil.Error):
            total += p.memory_info().rss
    return total


@contextmanager
def _rss_growth(server: Server) -> Iterator[list[int]]:
    """Peak growth of the server's whole process tree's RSS over its resting size, sampled every 10 ms."""
    pid = server.process.pid
    base = _tree_rss(pid)
    peak = [base]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss(pid))
            time.sleep(0.01)

    growth = [0]
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield growth
    finally:
        stop.set()
        thread.join()
        growth[0] = peak[0] - base


# ---- the resolution a page is rendered at ----------------------------------------------------------------


def test_render_dpi_fits_the_image_budget() -> None:
    limits = Limits()
    assert render_dpi(612, 792, 300, limits) == 300  # letter: untouched
    assert render_dpi(9000, 9000, 300, limits) == pytest.approx(80.0, abs=0.01)  # was 37500 px a side
    a0 = render_dpi(2384, 3370, 300, limits)  # A0 portrait: the long side is held to 10,000 px
    assert a0 == pytest.approx(72 * 10000 / 3370, abs=0.01)
    for w, h in ((9000, 9000), (2384, 3370), (9999.7, 7000.3), (10000, 10000)):
        dpi = render_dpi(w, h, 300, limits)
        px_w, px_h = math.ceil(w * (dpi / 72.0)), math.ceil(h * (dpi / 72.0))  # as pypdfium2 sizes the bitmap
        assert max(px_w, px_h) <= limits.max_image_side and px_w * px_h <= limits.max_image_pixels
    small = Limits(max_image_pixels=10**7)  # the area budget applies too
    assert render_dpi(2000, 2000, 300, small) == pytest.approx(72 * (10**7) ** 0.5 / 2000, abs=0.05)
    with pytest.raises(InvalidContentDimensions) as err:
        render_dpi(14400, 14400, 300, limits, page_number=3)
    assert err.value.code == "InvalidContentDimensions" and err.value.status == 400
    assert "Page 3 is 200.0x200.0 inches" in err.value.message
    assert MIN_RENDER_DPI == 72.0


def test_open_document_refuses_only_pages_it_would_have_to_render(tmp_path: Path) -> None:
    path = tmp_path / "doc.pdf"
    path.write_bytes(_poster(14400))
    with pytest.raises(InvalidContentDimensions):
        open_document(path)
    path.write_bytes(_giant_pdf(14400))  # a text layer: read without rendering, so accepted
    assert open_document(path).page_count == 1
    path.write_bytes(_poster(9000))  # fits at 80 dpi
    assert open_document(path).page_count == 1


def test_random_bytes_are_invalid_content_not_an_unsupported_media_type(tmp_path: Path) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(_random_bytes())
    with pytest.raises(InvalidContent) as err:
        open_document(path)
    assert type(err.value) is InvalidContent
    assert (err.value.status, err.value.code, err.value.outer_code) == (400, "InvalidContent", "InvalidRequest")
    assert err.value.message.startswith("The file is corrupted or format is unsupported.")


# ---- huge PDF pages through the server ---------------------------------------------------------------------


def test_a_page_too_large_to_render_readably_is_refused_before_the_202(lean_server: Server) -> None:
    pdf = _poster(14400)  # 200 x 200 in: 60,000 px a side at 300 dpi, 50 dpi within 10,000 px
    assert len(pdf) < 20_000
    with _rss_growth(lean_server) as growth:
        response = _post(lean_server, DI, pdf)
    assert response.status_code == 400, response.text
    assert "Operation-Location" not in response.headers
    error = response.json()["error"]
    assert error["code"] == "InvalidRequest"
    assert error["innererror"]["code"] == "InvalidContentDimensions"
    assert "200.0x200.0 inches" in error["innererror"]["message"]
    assert growth[0] < 150 * MB, f"grew {growth[0] / MB:.0f} MB"  # nothing was rendered


def test_the_refusal_speaks_each_familys_language(server: Server) -> None:
    pdf = _poster(14400)
    fr2 = _post(server, FR2, pdf)
    assert fr2.status_code == 400
    assert fr2.json()["error"]["code"] == "InvalidImageDimension"
    cv = _post(server, CV_OCR, pdf)
    assert cv.status_code == 400
    assert cv.json()["error"]["code"] == cv.json()["code"] == "InvalidImageSize"
    fr3 = _post(server, FR3, pdf)
    assert fr3.status_code == 400
    assert fr3.json()["error"]["innererror"]["code"] == "InvalidContentDimensions"


def test_sdk_sees_invalid_content_dimensions(server: Server) -> None:
    from azure.ai.documentintelligence import DocumentIntelligenceClient
    from azure.core.credentials import AzureKeyCredential
    from azure.core.exceptions import HttpResponseError

    client = DocumentIntelligenceClient(server.endpoint, AzureKeyCredential(KEY))
    with pytest.raises(HttpResponseError) as err:
        client.begin_analyze_document("prebuilt-read", _poster(14400))
    assert err.value.status_code == 400
    assert err.value.error is not None
    assert err.value.error.code == "InvalidRequest"
    assert err.value.error.innererror["code"] == "InvalidContentDimensions"


def test_a_large_page_is_read_at_a_lower_resolution_in_bounded_memory(lean_server: Server) -> None:
    # 125 x 125 in: 37,500 px a side (1.4 GB of pixels, 2.8 GB RSS) at 300 dpi before; 80 dpi now.
    pdf = _poster(9000)
    assert len(pdf) < 20_000
    with _rss_growth(lean_server) as growth:
        response = _post(lean_server, DI, pdf)
        assert response.status_code == 202, response.text
        body = _poll(response.headers["Operation-Location"])
    assert body["status"] == "succeeded", body
    result = body["analyzeResult"]
    assert result["content"] == WORDS
    page = result["pages"][0]
    assert (page["width"], page["height"], page["unit"]) == (125.0, 125.0, "inch")
    assert [w["content"] for w in page["words"]] == WORDS.split()
    # The picture spans x 12.5-43.75 in and y 56.25-62.5 in from the top: polygons scaled by the dpi used (80),
    # not the configured 300, land inside it.
    for word in page["words"]:
        xs, ys = word["polygon"][0::2], word["polygon"][1::2]
        assert 12.5 <= min(xs) < max(xs) <= 43.75, word
        assert 56.25 <= min(ys) < max(ys) <= 62.5, word
    # One 10,000 x 10,000 px render (100 MB) and its analysis; the old 37,500 px render alone was 1.4 GB.
    assert growth[0] < 600 * MB, f"grew {growth[0] / MB:.0f} MB"


def test_a_huge_digital_page_is_still_read_from_its_text_layer(server: Server) -> None:
    response = _post(server, DI, _giant_pdf(14400))
    assert response.status_code == 202, response.text
    body = _poll(response.headers["Operation-Location"])
    assert body["status"] == "succeeded", body
    assert body["analyzeResult"]["content"] == WORDS
    assert body["analyzeResult"]["pages"][0]["width"] == 200.0


def test_a_page_found_unrenderable_only_at_render_time_fails_the_operation(server: Server) -> None:
    pdf = _giant_pdf(14400, garbage_layer=True)  # accepted: it has a text layer, found to be garbage later
    di = _post(server, DI, pdf)
    assert di.status_code == 202, di.text
    body = _poll(di.headers["Operation-Location"])
    assert body["status"] == "failed"
    assert body["error"]["code"] == "InvalidRequest"
    assert body["error"]["innererror"]["code"] == "InvalidContentDimensions"
    assert "analyzeResult" not in body

    fr2 = _post(server, FR2, pdf)
    assert fr2.status_code == 202, fr2.text
    body = _poll(fr2.headers["Operation-Location"])
    assert body["status"] == "failed"
    assert [e["code"] for e in body["analyzeResult"]["errors"]] == ["InvalidImageDimension"]

    cv = _post(server, CV_READ, pdf)
    assert cv.status_code == 202, cv.text
    body = _poll(cv.headers["Operation-Location"])
    assert body["status"] == "failed"
    assert body["error"]["code"] == "InvalidImageSize"


# ---- unreadable bytes ----------------------------------------------------------------------------------------

BAD = {"random": _random_bytes, "truncated-pdf": _truncated_pdf}


@pytest.mark.parametrize("kind", sorted(BAD))
@pytest.mark.parametrize("path", [DI, FR3])
def test_unreadable_bytes_are_invalid_content_in_v3(server: Server, path: str, kind: str) -> None:
    for content_type in ("application/octet-stream", "application/pdf"):  # the declared type changes nothing
        response = requests.post(
            server.endpoint + path, headers={**HEADERS, "Content-Type": content_type}, data=BAD[kind](), timeout=30
        )
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "InvalidRequest"
        assert error["innererror"]["code"] == "InvalidContent"
        assert "Retry-After" not in response.headers


@pytest.mark.parametrize("kind", sorted(BAD))
def test_unreadable_bytes_in_form_recognizer_v2(server: Server, kind: str) -> None:
    response = _post(server, FR2, BAD[kind]())
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "InvalidImage"


@pytest.mark.parametrize("kind", sorted(BAD))
@pytest.mark.parametrize("path", [CV_READ, CV_OCR])
def test_unreadable_bytes_in_computer_vision(server: Server, path: str, kind: str) -> None:
    response = _post(server, path, BAD[kind]())
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"]["code"] == body["code"] == "InvalidImageFormat"


def test_unreadable_bytes_through_the_sdks(server: Server) -> None:
    from azure.ai.documentintelligence import DocumentIntelligenceClient
    from azure.ai.formrecognizer import FormRecognizerClient
    from azure.cognitiveservices.vision.computervision import ComputerVisionClient
    from azure.cognitiveservices.vision.computervision.models import ComputerVisionErrorResponseException
    from azure.core.credentials import AzureKeyCredential
    from azure.core.exceptions import HttpResponseError
    from msrest.authentication import CognitiveServicesCredentials

    junk = _random_bytes()
    di = DocumentIntelligenceClient(server.endpoint, AzureKeyCredential(KEY))
    with pytest.raises(HttpResponseError) as err:
        di.begin_analyze_document("prebuilt-read", junk)
    assert err.value.status_code == 400 and err.value.error is not None
    assert (err.value.error.code, err.value.error.innererror["code"]) == ("InvalidRequest", "InvalidContent")

    fr2 = FormRecognizerClient(server.endpoint, AzureKeyCredential(KEY), api_version="2.1")
    with pytest.raises(HttpResponseError) as err:
        fr2.begin_recognize_content(junk, content_type="application/pdf")
    assert err.value.status_code == 400 and err.value.error is not None
    assert err.value.error.code == "InvalidImage"

    cv = ComputerVisionClient(server.endpoint, CognitiveServicesCredentials(KEY))
    with pytest.raises(ComputerVisionErrorResponseException) as cv_err:
        cv.recognize_printed_text_in_stream(io.BytesIO(junk))
    assert cv_err.value.response.status_code == 400
    assert cv_err.value.error.error.code == "InvalidImageFormat"


# ---- CV /ocr detectOrientation --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sideways_png() -> bytes:
    """The paragraph scanned with its text turned 270 degrees clockwise (its top faces left)."""
    page = builders.render(builders.text_pdf([builders.PARAGRAPH], font="Times-Roman"), dpi=200)
    buf = io.BytesIO()
    Image.fromarray(builders.scan(page, turn=270)).save(buf, format="PNG")
    return buf.getvalue()


def _ocr_words(body: dict[str, Any]) -> list[str]:
    return [w["text"] for region in body["regions"] for line in region["lines"] for w in line["words"]]


def test_ocr_detect_orientation_false_reads_the_image_as_submitted(server: Server, sideways_png: bytes) -> None:
    truth = " ".join(builders.PARAGRAPH).split()
    detected = _post(server, CV_OCR, sideways_png, detectOrientation="true", language="unk")
    assert detected.status_code == 200, detected.text
    body = detected.json()
    assert body["orientation"] == "Left"  # turned upright before reading
    found = _ocr_words(body)
    assert sum(w in truth for w in found) >= 0.9 * len(truth)

    as_submitted = _post(server, CV_OCR, sideways_png, detectOrientation="false", language="unk")
    assert as_submitted.status_code == 200, as_submitted.text
    body = as_submitted.json()
    assert body["orientation"] == "NotDetected"  # the spec's word when detection was not requested
    # Read upright as sent, the sideways lines are not text: hardly a word of the paragraph comes out.
    found = _ocr_words(body)
    assert sum(w in truth for w in found) <= 0.1 * len(truth), found


def test_ocr_orientation_without_text_is_not_detected(server: Server) -> None:
    blank = io.BytesIO()
    Image.new("L", (400, 300), 255).save(blank, format="PNG")
    for flag in ("true", "false"):
        response = _post(server, CV_OCR, blank.getvalue(), detectOrientation=flag)
        assert response.status_code == 200
        assert (response.json()["orientation"], response.json()["regions"]) == ("NotDetected", [])


def test_seeded_random_bytes_are_stable() -> None:
    assert _random_bytes() == _random_bytes() and len(_random_bytes()) == 4096
    assert not _random_bytes().startswith((b"%PDF", b"\x89PNG", b"\xff\xd8", b"II*\x00", b"MM\x00*", b"BM"))
