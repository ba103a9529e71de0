"""Document languages (``languages`` of every read, layout and document result): detected per paragraph, spans
grouped per locale, read back through the official Document Intelligence SDK."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas
from server_harness import KEY, Server, cv_read

from percept import languages
from percept.config import ReadOptions
from percept.languages import Piece, group, resolve
from percept.model import Span
from percept.pipeline import read_document

EN = [
    "The annual report describes how the company grew during the last year.",
    "Our customers were satisfied with the quality of our products.",
]
DE = [
    "Der Jahresbericht beschreibt, wie das Unternehmen im letzten Jahr gewachsen ist.",
    "Unsere Kunden waren mit der Qualität unserer Produkte sehr zufrieden.",
]
FR = [
    "Le rapport annuel décrit comment l'entreprise a progressé l'année dernière.",
    "Nos clients étaient très satisfaits de la qualité de nos produits.",
]
AMOUNT = "$1,234.56"


def paragraphs_pdf(paragraphs: list[list[str]]) -> bytes:
    """One page: each paragraph's lines 13 pt apart, paragraphs 33 pt apart (the assembler's paragraph break)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    c.setFont("Helvetica", 11)
    y = 10 * 72
    for lines in paragraphs:
        for line in lines:
            c.drawString(72, y, line)
            y -= 13
        y -= 20
    c.showPage()
    c.save()
    return buf.getvalue()


def texts(content: str, lang: Any) -> list[str]:
    """The text of each of a language's spans (a percept Language or the SDK's DocumentLanguage)."""
    return [content[s.offset : s.offset + s.length] for s in lang.spans]


def test_sdk_reads_each_paragraphs_language(server: Server) -> None:
    from azure.ai.documentintelligence import DocumentIntelligenceClient
    from azure.core.credentials import AzureKeyCredential

    client = DocumentIntelligenceClient(server.endpoint, AzureKeyCredential(KEY))
    pdf = paragraphs_pdf([EN, [AMOUNT], DE, FR])
    result = client.begin_analyze_document("prebuilt-read", io.BytesIO(pdf)).result()
    content = result.content
    assert result.languages is not None
    by_locale = {lang.locale: lang for lang in result.languages}
    assert list(by_locale) == ["en", "de", "fr"]
    # The amount has no letters: it takes the language of the paragraph before it, in one span with it.
    assert texts(content, by_locale["en"]) == ["\n".join([*EN, AMOUNT])]
    assert texts(content, by_locale["de"]) == ["\n".join(DE)]
    assert texts(content, by_locale["fr"]) == ["\n".join(FR)]
    assert all(0.99 <= lang.confidence <= 1 for lang in result.languages)


def test_layout_splits_a_paragraph_that_mixes_languages(server: Server) -> None:
    from azure.ai.documentintelligence import DocumentIntelligenceClient
    from azure.core.credentials import AzureKeyCredential

    client = DocumentIntelligenceClient(server.endpoint, AzureKeyCredential(KEY))
    pdf = paragraphs_pdf([DE, [EN[0], DE[0], FR[0]]])
    result = client.begin_analyze_document("prebuilt-layout", io.BytesIO(pdf)).result()
    assert result.languages is not None
    by_locale = {lang.locale: texts(result.content, lang) for lang in result.languages}
    # The mixed paragraph is judged line by line: one span per line, German twice (its runs are not adjacent).
    assert by_locale == {"de": ["\n".join(DE), DE[0]], "en": [EN[0]], "fr": [FR[0]]}


def test_detection_can_be_turned_off() -> None:
    pdf = paragraphs_pdf([EN, DE])
    assert [g.locale for g in read_document(pdf, options=ReadOptions(workers=1)).languages] == ["en", "de"]
    assert read_document(pdf, options=ReadOptions(workers=1, detect_languages=False)).languages == []


def test_letterless_and_unsure_pieces_inherit_and_runs_merge() -> None:
    found = [
        Piece(Span(0, 5), None),  # "12.00" at the start: takes the first sure piece's language, after it
        Piece(Span(6, 40), "en", 0.9),
        Piece(Span(47, 7), "la", 0.06),  # "Invoice": unsure, takes "en" from before it
        Piece(Span(55, 30), "de", 1.0),
        Piece(Span(86, 20), "de", 0.8),
        Piece(Span(107, 10), "en", 0.6),
    ]
    resolved = resolve(found)
    assert [p.locale for p in resolved] == ["en", "en", "en", "de", "de", "en"]
    languages = group(resolved)
    assert [(g.locale, g.spans) for g in languages] == [
        ("en", [Span(0, 54), Span(107, 10)]),
        ("de", [Span(55, 51)]),
    ]
    # Confidence: the length-weighted mean over the pieces that are evidence (the inherited ones are not).
    assert languages[0].confidence == round((40 * 0.9 + 10 * 0.6) / 50, 3)
    assert languages[1].confidence == round((30 * 1.0 + 20 * 0.8) / 50, 3)


def test_without_a_sure_piece_the_surest_guess_stands_unless_it_is_noise() -> None:
    found = [Piece(Span(0, 10), "fr", 0.4), Piece(Span(11, 6), "es", 0.2), Piece(Span(18, 3), None)]
    assert [(g.locale, g.spans, g.confidence) for g in group(resolve(found))] == [("fr", [Span(0, 21)], 0.4)]
    assert resolve([Piece(Span(0, 9), "sw", 0.02)]) == []
    assert resolve([Piece(Span(0, 6), None)]) == []


def test_computervision_read_gives_the_pages_language_and_each_line_that_differs(server: Server) -> None:
    """CV 3.2 Read through its SDK: ``readResults[].language`` is the page's main language; a line carries its own
    only where it differs from the page's, as in the service's example ("Viva la vida": "es" on an "en" page)."""
    from azure.cognitiveservices.vision.computervision import ComputerVisionClient
    from azure.cognitiveservices.vision.computervision.models import OperationStatusCodes
    from msrest.authentication import CognitiveServicesCredentials

    client = ComputerVisionClient(server.endpoint, CognitiveServicesCredentials(KEY))
    result = cv_read(client, io.BytesIO(paragraphs_pdf([EN, DE, [EN[1]]])))
    assert result.status == OperationStatusCodes.succeeded
    page = result.analyze_result.read_results[0]
    assert page.language == "en"
    assert [(line.text, line.language) for line in page.lines] == [
        (EN[0], None),
        (EN[1], None),
        (DE[0], "de"),
        (DE[1], "de"),
        (EN[1], None),
    ]


def test_form_recognizer_2_0_layout_gives_languages_and_2_1_does_not(server: Server) -> None:
    """FR v2.0's ``ReadResult.language`` ("the detected language on the page overall") and ``TextLine.language``
    ("if different from the overall page language"); v2.1's contract has neither, so neither is sent."""
    import httpx
    from server_harness import poll_done

    headers = {"Ocp-Apim-Subscription-Key": KEY}
    pdf = paragraphs_pdf([DE, FR, [DE[0]]])
    pages = {}
    for version in ("v2.0", "v2.1"):
        post = httpx.post(
            f"{server.endpoint}/formrecognizer/{version}/layout/analyze",
            content=pdf,
            headers={**headers, "Content-Type": "application/pdf"},
        )
        assert post.status_code == 202
        body = poll_done(post.headers["Operation-Location"], headers)
        assert body["status"] == "succeeded"
        pages[version] = body["analyzeResult"]["readResults"][0]
    v20 = pages["v2.0"]
    assert v20["language"] == "de"
    assert [(line["text"], line.get("language")) for line in v20["lines"]] == [
        (DE[0], None),
        (DE[1], None),
        (FR[0], "fr"),
        (FR[1], "fr"),
        (DE[0], None),
    ]
    assert "language" not in pages["v2.1"]
    assert all("language" not in line for line in pages["v2.1"]["lines"])


def test_the_model_is_memory_mapped_from_a_plain_copy_and_answers_as_py3langid_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    reference = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    reference.set_languages([c for c in reference.labels if c not in languages.EXCLUDED])
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    (tmp_path / "percept").mkdir()
    (tmp_path / "percept" / "py3langid-4586720-1796616157.npz").write_bytes(b"an earlier version's copy")
    ident = languages._identifier()
    (copy,) = (tmp_path / "percept").iterdir()  # the earlier copy is gone
    assert sorted(p.name for p in copy.iterdir()) == sorted(f"{name}.npy" for name in languages.ARRAYS)
    assert isinstance(ident.nb_ptc, np.memmap)  # not read into memory
    assert not languages.EXCLUDED & set(ident.nb_classes)
    assert languages._identifier().nb_classes == ident.nb_classes  # the second process finds the copy
    assert len(list((tmp_path / "percept").iterdir())) == 1
    for text in [*EN, *DE, *FR, "Página 1 de 3", "Facture", "ACME GmbH", "Это русский текст"]:
        expected, got = reference.classify(text), ident.classify(text)
        assert got[0] == expected[0] and got[1] == pytest.approx(expected[1], abs=1e-6), text


def test_a_read_only_cache_falls_back_to_the_packed_model(unwritable_cache: None) -> None:
    ident = languages._identifier()
    assert not isinstance(ident.nb_ptc, np.memmap)
    assert ident.classify(" ".join(DE))[0] == "de"
    assert not languages.EXCLUDED & set(ident.nb_classes)


def test_a_copy_cut_short_is_read_past_and_made_anew(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    languages._identifier()
    (copy,) = (tmp_path / "percept").iterdir()
    (copy / "ptc.npy").write_bytes((copy / "ptc.npy").read_bytes()[:1000])  # as a crash before it reached the disk
    broken = languages._identifier()
    assert not isinstance(broken.nb_ptc, np.memmap) and broken.classify(" ".join(FR))[0] == "fr"
    assert not copy.exists()
    assert isinstance(languages._identifier().nb_ptc, np.memmap)  # the next process makes it anew
