"""Non-words read as the dictionary word the recogniser's scores support (``percept.ocr.lexicon``)."""

from __future__ import annotations

from pathlib import Path

import needs
import numpy as np
import pytest

from percept import ReadOptions, read_document
from percept.ocr import lexicon
from percept.ocr.lexicon import Lexicon, correct_path, lexicon_for

ALPHABET = ["blank", "e", "r", "o", "m", "k", "c", "l", "E", "R", "O", "M", "1", "(", ",", " "]
COL = {c: i for i, c in enumerate(ALPHABET)}
WORDS = Lexicon((np.array(sorted([b"cool", b"error"]), dtype=np.bytes_),))


def frames(*columns: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Scores with the given probabilities per column (the rest spread evenly) and their greedy path."""
    scores = np.zeros((len(columns), len(ALPHABET)), np.float32)
    for t, probs in enumerate(columns):
        rest = (1.0 - sum(probs.values())) / (len(ALPHABET) - len(probs))
        scores[t] = rest
        for ch, p in probs.items():
            scores[t, COL[ch]] = p
    return scores, scores.argmax(axis=1)


def text(path: np.ndarray) -> str:
    labels = path.tolist()
    return "".join(ALPHABET[a] for i, a in enumerate(labels) if a != 0 and (i == 0 or labels[i - 1] != a))


B = {"blank": 0.9}


def emor(e: str = "e", m: str = "m", r: str = "r", o: str = "o") -> list[dict[str, float]]:
    """'emor', where the columns of the "m" also hold "rr" a little less likely: "error" is ~0.38 as likely."""
    return [{e: 0.9}, B, {m: 0.55, r: 0.40}, {m: 0.5, "blank": 0.45}, {"blank": 0.6, r: 0.35}, {o: 0.9}, B, {r: 0.9}]


def test_a_non_word_is_read_as_the_dictionary_word_its_columns_support() -> None:
    scores, greedy = frames(*emor())
    assert text(greedy) == "emor"
    assert text(correct_path(scores, greedy, ALPHABET, WORDS, 0.05)) == "error"
    # The dictionary reading is ~0.38 as likely as the greedy one: under a stricter ratio the reading stands.
    assert text(correct_path(scores, greedy, ALPHABET, WORDS, 0.5)) == "emor"
    assert text(correct_path(scores, greedy, ALPHABET, WORDS, 0.0)) == "emor"


def test_punctuation_around_a_word_stays_and_case_follows_the_columns() -> None:
    scores, greedy = frames({"(": 0.9}, B, *emor(), B, {",": 0.9})
    assert text(correct_path(scores, greedy, ALPHABET, WORDS)) == "(error,"
    scores, greedy = frames(*emor("E", "M", "R", "O"))
    assert text(greedy) == "EMOR"
    assert text(correct_path(scores, greedy, ALPHABET, WORDS)) == "ERROR"


def test_a_word_read_clearly_keeps_its_reading() -> None:
    # "kool": "cool" is a word, but the recogniser gave "c" 0.005 against "k" 0.95.
    scores, greedy = frames({"k": 0.95, "c": 0.005}, B, {"o": 0.95}, B, {"o": 0.95}, B, {"l": 0.95})
    assert text(correct_path(scores, greedy, ALPHABET, WORDS)) == "kool"


def test_letters_next_to_digits_are_a_code_and_short_words_are_left() -> None:
    scores, greedy = frames(*emor(), {"1": 0.9})
    assert text(correct_path(scores, greedy, ALPHABET, WORDS)) == "emor1"
    scores, greedy = frames({"o": 0.9}, B, {"m": 0.55, "r": 0.4})  # two letters: not searched
    assert text(correct_path(scores, greedy, ALPHABET, Lexicon((np.array([b"or"]),)))) == "om"


def test_a_word_gap_ends_a_word() -> None:
    # "emor" then, six blank columns on, "o": two words; "emoro" read together would be no word either.
    scores, greedy = frames(*emor(), B, B, B, B, B, B, {"o": 0.9})
    assert text(correct_path(scores, greedy, ALPHABET, WORDS)) == "erroro"


def test_dictionaries_follow_the_language_hint() -> None:
    needs.module("spellchecker", "the rapidocr extra (pyspellchecker)")
    english = lexicon_for("eng")
    assert english is not None and "error" in english and "Seattle" in english and "emor" not in english
    both = lexicon_for("eng+deu")
    assert both is not None and "straße" in both and "error" in both
    assert lexicon_for("pol") is None  # no Polish list: Polish words are not "corrected" into English ones
    assert lexicon_for("eng+pol") is None


def test_a_word_list_is_sorted_once_into_the_cache_and_memory_mapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    needs.module("spellchecker", "the rapidocr extra (pyspellchecker)")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    built = lexicon._words.__wrapped__("en")  # a process without the copy reads the packed list and writes it
    assert built is not None and not isinstance(built, np.memmap)
    (copy,) = (tmp_path / "percept").iterdir()
    assert copy.name.startswith("pyspellchecker-") and copy.suffix == ".npy"
    mapped = lexicon._words.__wrapped__("en")
    assert isinstance(mapped, np.memmap) and np.array_equal(mapped, built)
    assert bool(np.all(mapped[:-1] < mapped[1:]))  # sorted, no word twice
    words = Lexicon((mapped,))
    assert "Recipient" in words and "RECIPIENT" in words and "recípient" not in words and "x" * 60 not in words
    copy.write_bytes(copy.read_bytes()[:1000])  # as a crash before it reached the disk
    again = lexicon._words.__wrapped__("en")
    assert again is not None and not isinstance(again, np.memmap) and "error" in Lexicon((again,))
    assert isinstance(lexicon._words.__wrapped__("en"), np.memmap)  # made anew


def test_a_read_only_cache_reads_the_packed_list(unwritable_cache: None, tmp_path: Path) -> None:
    needs.module("spellchecker", "the rapidocr extra (pyspellchecker)")
    words = lexicon._words.__wrapped__("en")
    assert words is not None and not isinstance(words, np.memmap) and "error" in Lexicon((words,))
    assert not list(tmp_path.glob("**/*.part"))


def test_a_faxed_forms_misread_words_read_right(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    needs.module("rapidocr", "the rapidocr extra")
    form = shared_data / "funsd" / "testing_data" / "images" / "82200067_0069.png"

    def words() -> list[str]:
        options = ReadOptions(workers=1, ocr_engine="rapidocr")  # the engine of its own options, as auto reads it
        return [w.content for w in read_document(form, options=options).pages[0].words]

    read = words()
    assert {"Seattle", "Portland", "Sparrow"} <= set(read)
    monkeypatch.setenv("PERCEPT_OCR_RAPIDOCR_DICTIONARY_RATIO", "0")
    without = words()
    assert {"Sealtle", "Partland", "Sparraw"} <= set(without)  # the greedy reading
    assert len(without) == len(read)
