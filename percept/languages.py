"""Which language each part of a document is in: ``Document.languages``, as Document Intelligence reports them.

Azure detects the language of each line or paragraph and returns, per locale, the spans of ``content`` in it
with a confidence. Here py3langid does the detecting (BSD-3, its model inside the wheel, numpy only: no download,
~40-150 µs a paragraph). It is asked once per paragraph, on at most :data:`MAX_CHARS` characters, so a
100-page document costs milliseconds; a paragraph of a few lines it is not quite sure of is asked again line by
line, which finds the languages of a paragraph that mixes them. A piece with too few letters to judge
("$12.00", "2020-03-02") or one the detector is unsure of takes the language of the piece before it (of the one
after it at the start), so numbers and one-word labels sit in their neighbours' span; consecutive pieces of one
locale become one span.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import lzma
import os
import shutil
import tempfile
import threading
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from .model import Document, Language, Line, Span

# Characters of a paragraph the detector sees: enough for a sure answer, and a cap on the cost of long ones.
MAX_CHARS = 240
# Fewer letters than this is no evidence of a language (numbers, codes, amounts): such a piece inherits.
MIN_LETTERS = 4
# py3langid's probabilities are calibrated by length (scores / sqrt(bytes)); below this a guess is taken only
# where nothing better is known. Measured on 105 document lines in 7 languages: 0.5 keeps 1 wrong of 70 kept.
SURE = 0.5
# A document with no sure piece reports its surest guess, unless even that is below this: "ACME GmbH" alone is
# no language (py3langid: Swahili, 0.02).
GUESS_FLOOR = 0.1
# A paragraph of several lines judged below this may mix languages and is judged line by line. Measured: prose
# paragraphs in one language come out at 0.9999 or more, paragraphs mixing two or three languages at 0.5-0.97.
SPLIT_BELOW = 0.99
# ... unless it has more lines than this: each line costs a call, and long paragraphs rarely mix languages.
MAX_SPLIT_LINES = 12
# Classes of the model a document's text should never be reported as: no language (zxx), historic languages
# (Latin, Ancient Greek, Biblical Hebrew), and regional varieties and dialects that catch short words of the
# major language beside them (measured: "Facture", "Leverdatum" read as Latin; "Página 1 de 3" as Extremaduran).
EXCLUDED = frozenset(
    {"zxx", "la", "grc", "hbo", "ext", "lij", "vec", "ltg", "gcf", "gcr", "an", "wa", "fuv", "gug", "guw"}
    | {"bcl", "ace", "pcm", "kik", "sdh", "uzs", "crh", "ary", "arz"}
)


class Detector(Protocol):
    def __call__(self, text: str, /) -> tuple[str, float]: ...


def cache_dir() -> Path:
    """Where Percept keeps files it derives from installed packages, made once per machine and version."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "percept"


# The model's arrays in the plain copy, each a .npy file that is memory-mapped.
ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")


def _plain_copy() -> Path | None:
    """py3langid's model as plain arrays, memory-mapped: the wheel's is xz-compressed (4.6 MB), and unpacking it
    took 0.5 s of every process's first read, loading a plain .npz copy still 0.25 s. Memory-mapped, a process
    loads it in milliseconds and pages in only the rows its text touches. The copy (~68 MB, in
    ``$XDG_CACHE_HOME/percept``) is made once per py3langid version and set of languages; None where it cannot be
    written (a read-only home): then the packed model is read as py3langid reads it."""
    import py3langid
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    packed = Path(MODEL_DIR, MODEL_FILE)
    tag = hashlib.sha1(" ".join(sorted(EXCLUDED)).encode()).hexdigest()[:8]
    version = getattr(py3langid, "__version__", "0")
    plain = cache_dir() / f"py3langid-{version}-{packed.stat().st_size}-{tag}"
    if plain.is_dir():
        return plain
    part: Path | None = None
    try:
        plain.parent.mkdir(parents=True, exist_ok=True)
        part = Path(tempfile.mkdtemp(dir=plain.parent, prefix=plain.name + ".part"))
        with lzma.open(packed) as src, np.load(io.BytesIO(src.read()), allow_pickle=False) as data:
            keep = [i for i, c in enumerate(data["classes"].tolist()) if c not in EXCLUDED]
            arrays = {name: data[name] for name in ARRAYS}
        arrays["ptc"], arrays["pc"], arrays["classes"] = (arrays[k][..., keep] for k in ("ptc", "pc", "classes"))
        for name, values in arrays.items():
            np.save(part / f"{name}.npy", np.ascontiguousarray(values))
        try:
            os.rename(part, plain)
        except OSError:  # another process made it first
            shutil.rmtree(part, ignore_errors=True)
    except OSError:  # a read-only or full disk
        if part is not None:
            shutil.rmtree(part, ignore_errors=True)
        return None
    for old in plain.parent.glob("py3langid-*.npz"):  # the single-file copies of earlier versions (68 MB each)
        with contextlib.suppress(OSError):
            old.unlink()
    return plain


UNSIGNED: dict[int, Literal["H", "I", "L"]] = {2: "H", 4: "I", 8: "L"}


def _unsigned(values: np.ndarray) -> memoryview[int]:
    """An unsigned integer array as py3langid indexes it (like ``array``), without a copy."""
    return values.data.cast("B").cast(UNSIGNED[values.dtype.itemsize])


def _mapped(plain: Path | None) -> dict[str, np.ndarray] | None:
    """The plain copy's arrays, memory-mapped; None without one, or for a copy cut short (a crash before its files
    reached the disk), which is removed so the next process makes it anew."""
    if plain is None:
        return None
    try:
        return {name: np.load(plain / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in ARRAYS}
    except (OSError, ValueError):
        shutil.rmtree(plain, ignore_errors=True)
        return None


def _identifier() -> Any:
    """The model restricted to the languages reported (not :data:`EXCLUDED`)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    data = _mapped(_plain_copy())
    if data is None:
        ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        ident.set_languages([c for c in ident.labels if c not in EXCLUDED])
        return ident
    return LanguageIdentifier(  # the layout of py3langid.modelio.save_model
        data["ptc"],
        np.asarray(data["pc"]),
        data["classes"].tolist(),
        _unsigned(data["nextmove"]),
        data["out_feat"].tolist(),
        norm_probs=True,
        tk_row=_unsigned(data["nextmove_row"]),
    )


def _load() -> Detector:
    ident = _identifier()

    def classify(text: str) -> tuple[str, float]:  # re-entrant: the server's threads share it
        lang, conf = ident.classify(text)
        return str(lang), float(conf)

    return classify


_lock = threading.Lock()
_detector: Detector | None = None


def detector() -> Detector:
    """py3langid's model, loaded once per process (memory-mapped from the plain copy: milliseconds; the first
    time ~1 s)."""
    global _detector
    with _lock:
        if _detector is None:
            _detector = _load()
        return _detector


def preload() -> None:
    """Start loading the model in the background, so a process's first read does not wait for it: milliseconds
    from the plain copy, but making that copy (once per machine) unpacks xz, which releases the GIL."""
    if _detector is None:
        threading.Thread(target=detector, name="percept-languages", daemon=True).start()


@dataclass(slots=True)
class Piece:
    """A span of content and what the detector made of its text (``locale`` None: too few letters)."""

    span: Span
    locale: str | None = None
    confidence: float = 0.0


def _judge(text: str, detect: Detector) -> tuple[str | None, float]:
    text = text[:MAX_CHARS]
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return None, 0.0
    return detect(text)


def pieces(doc: Document, detect: Detector) -> Iterator[Piece]:
    """The document's paragraphs in content order, each judged once; one of a few lines judged below
    :data:`SPLIT_BELOW` is judged line by line instead, a line too short to judge keeping the paragraph's guess."""
    lines_of = {p.page_number: p.lines for p in doc.pages}
    for para in sorted(doc.paragraphs, key=lambda g: g.span.offset):
        if para.span.length == 0:
            continue
        locale, conf = _judge(para.content, detect)
        lines: list[Line] = []
        if locale is not None and conf < SPLIT_BELOW:
            lines = [lines_of[para.page_number][i] for i in para.line_indices]
        if not 1 < len(lines) <= MAX_SPLIT_LINES:
            yield Piece(para.span, locale, conf)
            continue
        for line in lines:
            own, own_conf = _judge(line.content, detect)
            if (own is None or own_conf < SURE) and conf >= SURE:
                own, own_conf = locale, conf
            yield Piece(line.span, own, own_conf)


def resolve(found: list[Piece]) -> list[Piece]:
    """Every piece with a locale: an unsure or letterless one takes that of the nearest sure piece before it
    (after it, at the start); with no sure piece at all, the surest guess is the document's language."""
    sure = [p.locale if p.locale is not None and p.confidence >= SURE else None for p in found]
    if not any(sure):
        guesses = [p for p in found if p.locale is not None]
        if not guesses:
            return []
        best = max(guesses, key=lambda p: p.confidence)  # one language for all: the surest guess, if any
        if best.confidence < GUESS_FLOOR:
            return []
        return [Piece(p.span, best.locale, p.confidence if p.locale == best.locale else 0.0) for p in found]
    out: list[Piece] = []
    last: Piece | None = None
    for i, p in enumerate(found):
        if sure[i]:
            last = p
            out.append(p)
            continue
        source = last or next(found[j] for j in range(i + 1, len(found)) if sure[j])
        # An inherited piece is no evidence for its locale (confidence 0) unless it guessed the same.
        conf = p.confidence if p.locale == source.locale else 0.0
        out.append(Piece(p.span, source.locale, conf))
    return out


def group(resolved: list[Piece]) -> list[Language]:
    """Consecutive pieces of one locale merged into one span (what lies between them is only layout: newlines,
    markup); one entry per locale, in order of first appearance, its confidence the length-weighted mean over
    the pieces that are evidence for it (confidence above 0)."""
    spans: dict[str, list[Span]] = {}
    weight: dict[str, float] = {}
    score: dict[str, float] = {}
    prev: str | None = None
    for p in resolved:
        assert p.locale is not None
        runs = spans.setdefault(p.locale, [])
        if prev == p.locale:
            start = runs[-1].offset
            runs[-1] = Span(start, p.span.end - start)
        else:
            runs.append(p.span)
        size = p.span.length if p.confidence > 0 else 0
        weight[p.locale] = weight.get(p.locale, 0.0) + size
        score[p.locale] = score.get(p.locale, 0.0) + size * p.confidence
        prev = p.locale
    return [
        Language(loc, runs, round(score[loc] / weight[loc], 3) if weight[loc] else 0.0) for loc, runs in spans.items()
    ]


def detect_languages(doc: Document, detect: Detector | None = None) -> list[Language]:
    """The languages of an assembled document's content, with spans into ``doc.content``."""
    if not doc.paragraphs:
        return []
    return group(resolve(list(pieces(doc, detect or detector()))))


@dataclass(frozen=True, slots=True)
class PageLanguages:
    """A page's language and its lines' (None where a line's is the page's, or unknown)."""

    locale: str | None
    lines: list[str | None]


def page_languages(doc: Document) -> list[PageLanguages]:
    """Per page, the locale most of its lines' characters are in, and each line's locale where it differs: the
    ``language`` fields of Computer Vision 3.x's and Form Recognizer 2.0's read results ("the detected language of
    this line, if different from the overall page language"), taken from ``doc.languages``' spans."""
    runs = sorted((span.offset, span.end, lang.locale) for lang in doc.languages for span in lang.spans)
    starts = [r[0] for r in runs]

    def locale_of(span: Span) -> str | None:
        i = bisect_right(starts, span.offset) - 1
        if span.length and i >= 0 and runs[i][0] <= span.offset < runs[i][1]:
            return runs[i][2]
        return None

    out = []
    for page in doc.pages:
        found = [locale_of(line.span) for line in page.lines]
        weight: Counter[str] = Counter()
        for line, locale in zip(page.lines, found, strict=True):
            if locale is not None:
                weight[locale] += line.span.length
        main = weight.most_common(1)[0][0] if weight else None
        out.append(PageLanguages(main, [loc if loc != main else None for loc in found]))
    return out
