"""PP-OCR's line recogniser run on ONNX Runtime directly: reading line crops without the detector.

``percept.ocr.auto`` re-reads the few lines Tesseract was unsure of on a clean page. Through rapidocr's pipeline
that cost ~0.6 s in every worker before the first line (importing the library parses its model catalogue with
OmegaConf), a quarter of a 300 dpi page's reading; the recogniser alone loads in ~0.07 s. The steps are
PaddleOCR's, as rapidocr runs them: the crop resized to 48 px high and padded to at least 320 wide, scaled to
[-1, 1]; greedy CTC decoding (then non-words read as dictionary words where the scores support them,
``percept.ocr.lexicon``); words split at spaces, at a change between CJK and other characters, or at a gap of
more than 5 columns. The model is the one in the ``rapidocr`` wheel unless ``RapidOcrOptions`` names another.
"""

from __future__ import annotations

import importlib.util
import math
import os
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np

from ..errors import EngineUnavailable
from ..model import Line, Polygon, Word, bounding_polygon
from .lexicon import WORD_GAP, Lexicon, correct_path, lexicon_for

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_MODEL = "PP-OCRv6_rec_small.onnx"
# Language packs whose script the Latin narrowing would destroy: the model reads Chinese and Japanese too.
CJK_PREFIXES = ("chi", "jpn", "kor", "zh", "ja", "ko")
# Besides Latin-1 and Latin Extended-A/B: typographic marks that occur in Latin-script documents.
LATIN_EXTRA = set("€£¥°•–—‘’‚“”„…№™®©§¶×÷±µ‰†‡")
HEIGHT = 48
MIN_WIDTH = 320


def wheel_model(name: str) -> Path:
    """A model inside the installed ``rapidocr`` wheel, found without importing the library."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable("RapidOCR is not installed: pip install 'percept[rapidocr]'.")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / name
    if not path.is_file():
        raise EngineUnavailable(f"The rapidocr wheel has no {name}.")
    return path


def is_latin_char(ch: str) -> bool:
    return len(ch) == 1 and ((ch.isprintable() and ord(ch) < 0x250) or ch in LATIN_EXTRA)


def is_latin(languages: str) -> bool:
    return not any(part.strip().lower().startswith(CJK_PREFIXES) for part in languages.split("+"))


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"


@dataclass(slots=True)
class WordColumns:
    """The decoded line's words with the CTC columns each character came from (rapidocr's ``WordInfo``)."""

    words: list[list[str]] = field(default_factory=list)
    word_cols: list[list[int]] = field(default_factory=list)
    confs: list[float] = field(default_factory=list)
    line_txt_len: float = 0.0  # the columns the crop's own width spans


@dataclass(frozen=True, slots=True)
class Narrowing:
    """A subset of the alphabet to decode over (blank and space kept), with characters folded into others."""

    columns: np.ndarray
    fold_from: np.ndarray
    fold_to: np.ndarray


def latin_narrowing(alphabet: list[str]) -> Narrowing:
    """The recogniser's alphabet (blank first, space last) narrowed to Latin characters, full-width forms folded
    into their ASCII twins: a smudged "B" can no longer come out as "日", and decoding works on ~600 columns
    instead of 18,700."""
    index = {c: i for i, c in enumerate(alphabet)}
    keep = [i for i, c in enumerate(alphabet[1:-1], start=1) if is_latin_char(c)]
    columns = np.array([0, *keep, len(alphabet) - 1])
    position = {col: i for i, col in enumerate(columns.tolist())}
    fold = []
    for i, c in enumerate(alphabet):
        if len(c) == 1 and 0xFF01 <= ord(c) <= 0xFF5E:  # full-width ASCII
            twin = unicodedata.normalize("NFKC", c)
            if twin in index and is_latin_char(twin):
                fold.append((i, position[index[twin]]))
    return Narrowing(
        columns, np.array([f for f, _ in fold], dtype=np.int64), np.array([t for _, t in fold], dtype=np.int64)
    )


def engine_threads(requested: int) -> int:
    """ONNX Runtime threads per detector, and lines read at once (:class:`CtcLineReader`): ``requested``, or for
    0, two where this process may use two cores.

    A page read alone (one image, the usual API call) then has the machine's second core: on 2 cores PP-OCRv6
    small's detector ran 1.9x as fast on two threads, and its recogniser 1.4x (two lines at once: 2x), 20 receipts
    read one after another took 0.63x the time. Where every core is busy (a batch, a multi-page document) the
    workers share the cores at the cost measured in :func:`onnx_session`: 40 receipts read two at a time took 4%
    longer (32.5 s against 31.4 s on one thread each; 10% before lines were read one thread each)."""
    if requested:
        return requested
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return min(2, cores)


def onnx_session(path: str, threads: int, what: str) -> Any:
    """An ONNX Runtime CPU session, as every PP-OCR model here runs: the memory arena on (every crop has another
    shape: it saves ~20%, ``rapid.py``), and ``threads`` intra-op threads (:func:`engine_threads`) that sleep
    between runs instead of spinning. Measured on 2 cores with two processes running at once, two threads each
    against one: spinning, the detector took 12% and the recogniser 55-75% longer; sleeping, 3-5% and 5-10%."""
    try:
        import onnxruntime as ort
    except ImportError:  # pragma: no cover - depends on the install
        raise EngineUnavailable("ONNX Runtime is not installed: pip install 'percept[rapidocr]'.") from None
    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.enable_cpu_mem_arena = True
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ONNX Runtime raises its own types for a missing or broken file
        raise EngineUnavailable(f"The {what} {path} could not be loaded: {exc}") from None


@cache
def shared_reader(model: str | None, keys: str | None, threads: int, dictionary_ratio: float = 0.0) -> CtcLineReader:
    """One reader per process and model."""
    return CtcLineReader(model, keys, threads, dictionary_ratio)


class CtcLineReader:
    """One ONNX session of a PP-OCR CTC recogniser and its alphabet (``blank``, the model's characters, space).

    A line is too small a run for two intra-op threads to share (the recogniser ran 1.4x as fast on two), so the
    session runs each line on one thread and ``threads`` lines are read side by side (:meth:`map`): 259 receipt
    lines took 2.8 s so, 3.8 s one after another on two intra-op threads, 5.6 s on one."""

    def __init__(
        self,
        model: str | Path | None = None,
        keys: str | Path | None = None,
        threads: int = 1,
        dictionary_ratio: float = 0.0,
    ) -> None:
        path = str(model) if model else str(wheel_model(DEFAULT_MODEL))
        self.session = onnx_session(path, 1, "recogniser")
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        meta = self.session.get_modelmeta().custom_metadata_map
        if "character" in meta:
            chars = meta["character"].splitlines()
        elif keys:
            chars = Path(keys).read_text("utf-8").splitlines()
        else:
            raise EngineUnavailable(f"{path} holds no alphabet: give its keys file (rec_keys).")
        self.alphabet: list[str] = ["blank", *chars, " "]
        self.input = self.session.get_inputs()[0].name
        self.latin = latin_narrowing(self.alphabet)
        self.latin_alphabet = [self.alphabet[i] for i in self.latin.columns.tolist()]
        # Non-words read as the likeliest dictionary word the scores support (``percept.ocr.lexicon``); 0: off.
        self.dictionary_ratio = dictionary_ratio

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``fn`` over ``items`` in order, on up to ``threads`` threads (ONNX Runtime lets go of the GIL)."""
        if self.threads < 2 or len(items) < 2:
            return [fn(item) for item in items]
        if self._pool is None or self._pool_pid != os.getpid():  # a forked child has the pool but not its threads
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="percept-lines")
            self._pool_pid = os.getpid()
        return list(self._pool.map(fn, items))

    def read_lines(self, crops: Sequence[np.ndarray], *, languages: str = "eng") -> list[Line | None]:
        """Read crops that each hold one line of text: lines in the crops' own pixels, None where nothing was read."""
        narrowing = self.latin if is_latin(languages) else None
        lexicon = lexicon_for(languages) if narrowing is not None and self.dictionary_ratio > 0 else None
        return [
            _crop_line(text, score, info, crop.shape[1], crop.shape[0])
            for crop, (text, score, info) in zip(crops, self.read(crops, narrowing, lexicon), strict=True)
        ]

    def read(
        self, crops: Sequence[np.ndarray], narrowing: Narrowing | None = None, lexicon: Lexicon | None = None
    ) -> list[tuple[str, float, WordColumns]]:
        """Per crop (grey or BGR): its text, mean character confidence and word columns; one crop per run. With
        ``lexicon`` (and ``narrowing``: the dictionaries are Latin-script), non-words are read as dictionary
        words where the scores support it."""
        return self.map(lambda crop: self._read_one(crop, narrowing, lexicon), crops)

    def _read_one(
        self, crop: np.ndarray, narrowing: Narrowing | None, lexicon: Lexicon | None
    ) -> tuple[str, float, WordColumns]:
        bgr = np.repeat(crop[:, :, None], 3, axis=2) if crop.ndim == 2 else crop
        h, w = bgr.shape[:2]
        ratio = w / float(h)
        width = max(MIN_WIDTH, int(HEIGHT * ratio))
        resized_w = min(width, math.ceil(HEIGHT * ratio))
        resized = cv2.resize(bgr, (resized_w, HEIGHT)).astype(np.float32).transpose((2, 0, 1)) / 255
        batch = np.zeros((1, 3, HEIGHT, width), np.float32)
        batch[0, :, :, :resized_w] = (resized - 0.5) / 0.5
        scores = self.session.run(None, {self.input: batch})[0][0]
        alphabet = self.alphabet
        if narrowing is not None:
            narrowed = scores[:, narrowing.columns]
            if narrowing.fold_from.size:
                narrowed[:, narrowing.fold_to] += scores[:, narrowing.fold_from]
            scores = narrowed
            alphabet = self.latin_alphabet if narrowing is self.latin else [self.alphabet[i] for i in narrowing.columns]
        index = scores.argmax(axis=1)
        if lexicon is not None and narrowing is not None:
            index = correct_path(scores, index, alphabet, lexicon, self.dictionary_ratio)
        prob = scores[np.arange(len(index)), index]
        keep = np.ones(len(index), bool)
        keep[1:] = index[1:] != index[:-1]
        keep &= index != 0
        cols = np.flatnonzero(keep)
        text = "".join(alphabet[i] for i in index[keep].tolist())
        confs = [round(float(c), 5) for c in prob[keep]] or [0.0]
        info = _word_columns(text, cols)
        info.confs = confs
        info.line_txt_len = len(index) * min(1.0, ratio / (MIN_WIDTH / HEIGHT))
        return text, round(float(np.mean(confs)), 5), info


def _word_columns(text: str, cols: np.ndarray) -> WordColumns:
    """Group decoded characters into words: PaddleOCR's ``get_word_info``."""
    info = WordColumns()
    if not len(cols):
        return info
    gaps = np.zeros(len(cols))
    gaps[1:] = cols[1:] - cols[:-1]
    gaps[0] = min(3 if is_cjk(text[0]) else 2, int(cols[0]))
    word: list[str] = []
    word_cols: list[int] = []
    state: bool | None = None
    for i, ch in enumerate(text):
        if ch.isspace():
            if word:
                info.words.append(word)
                info.word_cols.append(word_cols)
                word, word_cols = [], []
            continue
        cjk = is_cjk(ch)
        if state is None:
            state = cjk
        if state != cjk or gaps[i] > WORD_GAP:
            if word:
                info.words.append(word)
                info.word_cols.append(word_cols)
                word, word_cols = [], []
            state = cjk
        word.append(ch)
        word_cols.append(int(cols[i]))
    if word:
        info.words.append(word)
        info.word_cols.append(word_cols)
    return info


def _crop_line(text: str, score: float, info: WordColumns, width: int, height: int) -> Line | None:
    """A line read from a crop: words placed by their CTC columns (``info.word_cols`` over ``line_txt_len``)."""
    text = text.strip()
    if not text:
        return None
    words: list[Word] = []
    cols, chars, confs, frames = info.word_cols, info.words, info.confs, info.line_txt_len
    if cols and frames > 0 and len(cols) == len(chars):
        step = width / frames
        used = 0
        for word_chars, word_cols in zip(chars, cols, strict=True):
            content = "".join(word_chars).strip()
            n = len(word_chars)
            word_confs = confs[used : used + n] or [score]
            used += n
            if not content or not word_cols:
                continue
            x0 = max(0.0, (min(word_cols) - 0.5) * step)
            x1 = min(float(width), (max(word_cols) + 1.5) * step)
            conf = round(float(sum(word_confs) / len(word_confs)), 3)
            words.append(Word(content, (x0, 0.0, x1, 0.0, x1, float(height), x0, float(height)), conf))
    if not words:
        words = split_proportionally(text, score, (0.0, 0.0, float(width), 0.0, float(width), height, 0.0, height))
    return Line(" ".join(w.content for w in words), bounding_polygon([w.polygon for w in words]), words)


def split_proportionally(text: str, score: float, quad: Polygon) -> list[Word]:
    """Fallback: share the line box among its words by character count."""
    x0, y0, x1, y1 = min(quad[0::2]), min(quad[1::2]), max(quad[0::2]), max(quad[1::2])
    n = max(len(text), 1)
    words = []
    pos = 0
    for token in text.split(" "):
        if token:
            a = x0 + (x1 - x0) * pos / n
            b = x0 + (x1 - x0) * (pos + len(token)) / n
            words.append(Word(token, (a, y0, b, y0, b, y1, a, y1), round(score, 3)))
        pos += len(token) + 1
    return words
