"""Reading a misread word as the dictionary word the recogniser's own scores support.

PP-OCR's recogniser has no language model: each column of its output is a distribution over characters, and the
line is read by taking the likeliest character per column (greedy CTC decoding). On faxed small print that gives
non-words at full confidence ("emor", "Sealtle", "recípient") where the columns also hold the real word a little
less likely. Here a word whose letters are not in the document language's dictionary is decoded again over its
own columns, keeping the few likeliest readings (a CTC beam search), and the likeliest reading that is a
dictionary word replaces it when the recogniser scored that reading at least :data:`MIN_RATIO` as likely as the
greedy one. A word the recogniser saw clearly ("Kool", a name) keeps its reading: no dictionary word comes close.

The dictionaries are pyspellchecker's word lists (MIT), sorted once per machine into a file each process
memory-maps (:func:`_words`).
"""

from __future__ import annotations

import contextlib
import gzip
import importlib.util
import json
import math
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import cast

import numpy as np

# A dictionary reading replaces the greedy one when its best path is at least this share of the greedy path's
# probability over the word's columns (``RapidOcrOptions.dictionary_ratio``). On the 50 FUNSD test forms 0.05 read
# 148 more words right and one fewer (word F1 0.789 -> 0.807).
MIN_RATIO = 0.05
MIN_LETTERS = 3  # shorter words are too often abbreviations, and too easily another word
MAX_LETTERS = 32  # a longer run of letters is not a word
BEAM = 24  # readings kept per column
MAX_LABELS = 6  # characters tried per column, besides the blank
WORD_GAP = 5  # columns between two characters that split a word (PaddleOCR's rule, also ``line_reader``'s)
# Tesseract's language packs -> pyspellchecker's dictionaries.
DICTIONARIES = {
    "eng": "en",
    "deu": "de",
    "fra": "fr",
    "spa": "es",
    "ita": "it",
    "por": "pt",
    "nld": "nl",
}


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The words of a document's languages: per language, its words in lower case as sorted UTF-8 (a NumPy bytes
    array, memory-mapped from the cache where it could be written there)."""

    lists: tuple[np.ndarray, ...]

    def __contains__(self, word: str) -> bool:
        key = word.lower().encode()
        for words in self.lists:
            if len(key) > words.dtype.itemsize:  # a key longer than every word would be cut to a prefix
                continue
            i = int(np.searchsorted(words, key))
            if i < len(words) and words[i] == key:
                return True
        return False


@cache
def lexicon_for(languages: str) -> Lexicon | None:
    """The dictionary for a language hint such as ``eng`` or ``eng+deu``; None where a language has none (a word
    of that language would be "corrected" into another's) or pyspellchecker is not installed."""
    names = []
    for part in languages.split("+"):
        name = DICTIONARIES.get(part.strip().lower())
        if name is None:
            return None
        names.append(name)
    lists = []
    for name in sorted(set(names)):
        words = _words(name)
        if words is None:
            return None
        lists.append(words)
    return Lexicon(tuple(lists)) if lists else None


@cache
def _words(name: str) -> np.ndarray | None:
    """A language's sorted word array. pyspellchecker's lists are gzipped JSON (English: 160,000 words), 0.1 s of
    CPU to read in every process, which a three-page scan on two cores felt (0.68x -> 0.72x of Tesseract's time):
    the sorted copy (``languages.cache_dir()``, made once per pyspellchecker version) is memory-mapped in ~5 ms,
    and shared by the workers' page cache."""
    spec = importlib.util.find_spec("spellchecker")
    if spec is None or not spec.submodule_search_locations:
        return None
    packed = Path(next(iter(spec.submodule_search_locations))) / "resources" / f"{name}.json.gz"
    if not packed.is_file():
        return None
    plain = _plain_path(name, packed)
    if plain.is_file():
        try:
            return cast(np.ndarray, np.load(plain, mmap_mode="r", allow_pickle=False))
        except (OSError, ValueError):  # a copy cut short: made anew below
            with contextlib.suppress(OSError):
                plain.unlink()
    words = _sorted_words(packed)
    if words is not None:
        _save(words, plain)
    return words


def _sorted_words(packed: Path) -> np.ndarray | None:
    try:
        with gzip.open(packed, "rt", encoding="utf-8") as f:
            words = {str(word).lower() for word in json.load(f)}
    except (OSError, ValueError):  # a damaged install reads without a dictionary, as one without the package
        return None
    encoded = sorted(w.encode() for w in words if 0 < len(w) <= MAX_LETTERS)
    return np.array(encoded, dtype=np.bytes_) if encoded else None


def _plain_path(name: str, packed: Path) -> Path:
    from importlib.metadata import PackageNotFoundError, version

    from ..languages import cache_dir

    try:
        release = version("pyspellchecker")
    except PackageNotFoundError:
        release = "0"
    return cache_dir() / f"pyspellchecker-{release}-{name}-{packed.stat().st_size}.npy"


def _save(words: np.ndarray, plain: Path) -> None:
    """The sorted copy written whole or not at all (another process may be writing it too); nothing where the
    cache cannot be written: each process then reads the packed list."""
    part: str | None = None
    try:
        plain.parent.mkdir(parents=True, exist_ok=True)
        fd, part = tempfile.mkstemp(dir=plain.parent, prefix=plain.name, suffix=".part")
        with os.fdopen(fd, "wb") as f:
            np.save(f, words, allow_pickle=False)
        os.replace(part, plain)
    except OSError:  # a read-only or full disk
        if part is not None:
            with contextlib.suppress(OSError):
                os.unlink(part)


def correct_path(
    scores: np.ndarray, index: np.ndarray, alphabet: list[str], lexicon: Lexicon, ratio: float = MIN_RATIO
) -> np.ndarray:
    """The line's best path (``index``, one label per column of ``scores``; label 0 the blank) with each
    non-word's columns relabelled as the likeliest dictionary reading that has at least ``ratio`` of the greedy
    reading's probability."""
    emitted = _emitted(index)
    if not emitted or ratio <= 0:
        return index
    out = index
    for first, last in _cores(emitted, alphabet, index):
        core = "".join(alphabet[index[emitted[i][0]]] for i in range(first, last + 1))
        if not MIN_LETTERS <= len(core) <= MAX_LETTERS or core in lexicon:
            continue
        start = emitted[first - 1][1] + 1 if first > 0 else max(0, emitted[first][0] - 2)
        end = emitted[last + 1][0] if last + 1 < len(emitted) else min(len(index), emitted[last][1] + 3)
        # A column whose second likeliest character is under ``ratio`` of its likeliest cannot take part in another
        # reading: a word with only such columns is read as it was, without a search (a name read clearly).
        top2 = np.partition(scores[start:end], -2, axis=1)[:, -2:]
        if not (top2[:, 0] >= ratio * top2[:, 1]).any():
            continue
        path = _dictionary_path(scores[start:end], index[start:end], alphabet, lexicon, ratio)
        if path is not None:
            if out is index:
                out = index.copy()
            out[start:end] = path
    return out


def _emitted(index: np.ndarray) -> list[tuple[int, int]]:
    """The greedy path's characters as (first column, last column) runs."""
    runs: list[tuple[int, int]] = []
    labels = index.tolist()
    t = 0
    while t < len(labels):
        u = t
        while u + 1 < len(labels) and labels[u + 1] == labels[t]:
            u += 1
        if labels[t] != 0:
            runs.append((t, u))
        t = u + 1
    return runs


def _cores(emitted: list[tuple[int, int]], alphabet: list[str], index: np.ndarray) -> list[tuple[int, int]]:
    """Runs of letters (an apostrophe inside allowed) between other characters or a word gap: the words' letters
    without the punctuation around them, as (first, last) positions in ``emitted``. A run touching a digit is a
    code, not a word, and is left out."""
    chars = [alphabet[index[a]] for a, _ in emitted]

    def joined(k: int) -> bool:  # characters k and k + 1 are in one word
        return emitted[k + 1][0] - emitted[k][0] <= WORD_GAP

    cores = []
    i = 0
    while i < len(chars):
        if not chars[i].isalpha():
            i += 1
            continue
        j = i
        while j + 1 < len(chars) and joined(j):
            if chars[j + 1].isalpha():
                j += 1
            elif chars[j + 1] == "'" and j + 2 < len(chars) and chars[j + 2].isalpha() and joined(j + 1):
                j += 2
            else:
                break
        touches_digit = (i > 0 and joined(i - 1) and chars[i - 1].isdigit()) or (
            j + 1 < len(chars) and joined(j) and chars[j + 1].isdigit()
        )
        if not touches_digit:
            cores.append((i, j))
        i = j + 1
    return cores


def _dictionary_path(
    scores: np.ndarray, greedy: np.ndarray, alphabet: list[str], lexicon: Lexicon, ratio: float
) -> np.ndarray | None:
    """A path over ``scores`` (a word's columns) that reads a dictionary word, from a beam search of best paths
    (each path's probability the product of its columns'); None where no such reading reaches ``ratio`` of the
    greedy path's probability."""
    logp = np.log(np.maximum(scores, 1e-12))
    floor = float(logp[np.arange(len(greedy)), greedy].sum()) + math.log(ratio)
    # Every column's factor in a path's ratio to the greedy path is at most 1, so a character under ``ratio`` of
    # its column's likeliest is in no reading that qualifies.
    top = np.argsort(-scores, axis=1)[:, :MAX_LABELS]
    # State: (text, last label) -> (log probability of its best path, the path).
    beams: dict[tuple[str, int], tuple[float, list[int]]] = {("", 0): (0.0, [])}
    for t in range(len(scores)):
        row = scores[t]
        labels = {0, *(int(k) for k in top[t] if row[k] >= ratio * row[top[t, 0]])}
        nxt: dict[tuple[str, int], tuple[float, list[int]]] = {}
        for (text, last), (lp, path) in beams.items():
            for label in labels:
                if label == 0 or label == last:
                    key = (text, label)
                else:
                    ch = alphabet[label]
                    if not ch.isalpha() and ch != "'":
                        continue
                    key = (text + ch, label)
                score = lp + float(logp[t, label])
                if score < floor:
                    continue
                held = nxt.get(key)
                if held is None or score > held[0]:
                    nxt[key] = (score, [*path, label])
        if not nxt:
            return None
        beams = dict(sorted(nxt.items(), key=lambda kv: -kv[1][0])[:BEAM])
    best: tuple[float, list[int]] | None = None
    for (text, _), (lp, path) in beams.items():
        if text and text in lexicon and _sane_case(text) and (best is None or lp > best[0]):
            best = (lp, path)
    return None if best is None else np.array(best[1], dtype=greedy.dtype)


def _sane_case(text: str) -> bool:
    """Lower case, upper case or capitalised: a reading in mixed case is not the word."""
    letters = text.replace("'", "")
    if not letters:
        return False
    return letters.islower() or letters.isupper() or (letters[0].isupper() and letters[1:].islower())
