"""The Document Intelligence 2024-11-30 analyzeResult, spans in each string index type, the model round trip."""

from __future__ import annotations

import builders

from percept import Document, read_document
from percept.assemble import assemble
from percept.model import Line, Page, Word
from percept.serializers.analyze_v3 import analyze_result
from percept.serializers.offsets import OffsetMap


def test_analyze_result_shape(digital_pdf: bytes) -> None:
    result = analyze_result(read_document(digital_pdf))
    assert result["apiVersion"] == "2024-11-30"
    assert result["modelId"] == "prebuilt-read"
    assert result["stringIndexType"] == "textElements"
    content = result["content"]
    page = result["pages"][0]
    assert {"pageNumber", "angle", "width", "height", "unit", "words", "lines", "spans"} <= page.keys()
    word = page["words"][0]
    assert word["content"] == "The" and len(word["polygon"]) == 8 and 0 <= word["confidence"] <= 1
    for line in page["lines"]:
        (span,) = line["spans"]
        assert content[span["offset"] : span["offset"] + span["length"]] == line["content"]
    para = result["paragraphs"][0]
    assert para["boundingRegions"][0]["pageNumber"] == 1
    s = para["spans"][0]
    assert content[s["offset"] : s["offset"] + s["length"]].replace("\n", " ") == para["content"]


def _doc(words: list[str]) -> Document:
    poly = (0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0)
    line = Line(" ".join(words), poly, [Word(w, poly, 1.0) for w in words])
    return assemble([Page(1, 10, 10, "pixel", lines=[line])], mime_type="image/png", page_count=1)


def test_utf16_offsets_count_astral_characters_twice() -> None:
    doc = _doc(["😀ok", "next"])
    cp = analyze_result(doc, string_index_type="unicodeCodePoint")["pages"][0]["words"]
    u16 = analyze_result(doc, string_index_type="utf16CodeUnit")["pages"][0]["words"]
    assert cp[0]["span"] == {"offset": 0, "length": 3} and cp[1]["span"] == {"offset": 4, "length": 4}
    assert u16[0]["span"] == {"offset": 0, "length": 4} and u16[1]["span"] == {"offset": 5, "length": 4}


def test_text_elements_merge_combining_marks() -> None:
    om = OffsetMap("e\u0301te next", "textElements")  # é written as e + combining acute
    assert om.offset(0) == 0 and om.offset(2) == 1 and om.offset(9) == 8


def test_document_round_trips_through_pickle(digital_pdf: bytes) -> None:
    """Documents cross worker processes pickled; words shared by lines and table cells must stay shared."""
    import pickle

    doc = read_document(digital_pdf)
    again = pickle.loads(pickle.dumps(doc))
    assert again == doc
    assert analyze_result(again) == analyze_result(doc)


def test_paragraphs_group_lines_and_keep_headings_apart() -> None:
    import io

    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(612, 792))
    c.setFont("Helvetica-Bold", 22)
    c.drawString(72, 700, "Quarterly Report")
    c.setFont("Helvetica", 11)
    for i, line in enumerate(builders.PARAGRAPH[:3]):  # body text at 1.2x leading
        c.drawString(72, 670 - 13.2 * i, line)
    for i, line in enumerate(builders.PARAGRAPH[3:]):  # a second paragraph after a blank line
        c.drawString(72, 610 - 13.2 * i, line)
    c.save()
    doc = read_document(buf.getvalue())
    assert [p.content for p in doc.paragraphs] == [
        "Quarterly Report",
        " ".join(builders.PARAGRAPH[:3]),
        " ".join(builders.PARAGRAPH[3:]),
    ]


def test_metrics() -> None:
    from percept.evaluation import _levenshtein, cer, levenshtein, word_f1

    assert levenshtein("kitten", "sitting") == _levenshtein("kitten", "sitting") == 3
    assert cer("The  “quick”\nfox", 'The "quick" fox') == 0.0
    assert cer("abcd", "abce") == 0.25
    assert word_f1("a b c", "a b d") == (2 / 3, 2 / 3, 2 / 3)
