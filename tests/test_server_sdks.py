"""The unmodified official SDKs against a real server over loopback, asserting the text that comes back."""

from __future__ import annotations

from pathlib import Path

import builders
import needs
import pytest
from server_harness import KEY, SECOND_KEY, cv_read, file_server

from percept.evaluation import cer


def _lines(truth: str) -> list[str]:
    return truth.split("\n")


def test_computervision_read_in_stream(server, scan_png: Path, truth: str) -> None:
    from azure.cognitiveservices.vision.computervision import ComputerVisionClient
    from azure.cognitiveservices.vision.computervision.models import OperationStatusCodes
    from msrest.authentication import CognitiveServicesCredentials

    client = ComputerVisionClient(server.endpoint, CognitiveServicesCredentials(KEY))
    with open(scan_png, "rb") as fh:
        result = cv_read(client, fh)
    assert result.status == OperationStatusCodes.succeeded
    page = result.analyze_result.read_results[0]
    assert (page.width, page.height, page.unit) == (1700, 2200, "pixel")
    text = "\n".join(line.text for line in page.lines)
    assert cer(text, truth) <= 0.01
    assert len(page.lines[1].bounding_box) == 8 and 0 < page.lines[1].words[0].confidence <= 1


def test_computervision_recognize_printed_text(server, scan_png: Path, truth: str) -> None:
    from azure.cognitiveservices.vision.computervision import ComputerVisionClient
    from msrest.authentication import CognitiveServicesCredentials

    client = ComputerVisionClient(server.endpoint, CognitiveServicesCredentials(SECOND_KEY))
    with open(scan_png, "rb") as fh:
        result = client.recognize_printed_text_in_stream(fh)
    words = [w.text for r in result.regions for ln in r.lines for w in ln.words]
    assert cer(" ".join(words), truth) <= 0.01
    assert result.orientation == "Up"
    x, y, w, h = (int(v) for v in result.regions[0].lines[0].words[0].bounding_box.split(","))
    # "The" starts one inch (200 px) from the left, its baseline one inch from the top
    assert 180 <= x <= 220 and 150 <= y <= 205 and w > 0 and 150 < y + h <= 215


@pytest.mark.parametrize("api_version", ["2023-07-31", "2022-08-31"])
def test_formrecognizer_document_analysis_prebuilt_read(server, scan_png: Path, truth: str, api_version: str) -> None:
    from azure.ai.formrecognizer import DocumentAnalysisClient
    from azure.core.credentials import AzureKeyCredential

    client = DocumentAnalysisClient(server.endpoint, AzureKeyCredential(KEY), api_version=api_version)
    with open(scan_png, "rb") as fh:
        result = client.begin_analyze_document("prebuilt-read", fh).result()
    assert result.api_version == api_version and result.model_id == "prebuilt-read"
    assert cer(result.content, truth) <= 0.01
    page = result.pages[0]
    assert page.unit == "pixel" and page.width == 1700
    word = page.words[0]
    assert result.content[word.span.offset : word.span.offset + word.span.length] == word.content


def test_formrecognizer_digital_pdf_pages(server, digital_pdf: bytes) -> None:
    from azure.ai.formrecognizer import DocumentAnalysisClient
    from azure.core.credentials import AzureKeyCredential

    client = DocumentAnalysisClient(server.endpoint, AzureKeyCredential(KEY))
    result = client.begin_analyze_document("prebuilt-read", digital_pdf, pages="2").result()
    assert [p.page_number for p in result.pages] == [2]
    assert result.pages[0].unit == "inch"
    assert result.content == "\n".join(builders.PARAGRAPH[::-1])


def test_documentintelligence_bytes(server, scan_png: Path, truth: str) -> None:
    from azure.ai.documentintelligence import DocumentIntelligenceClient
    from azure.core.credentials import AzureKeyCredential

    client = DocumentIntelligenceClient(server.endpoint, AzureKeyCredential(KEY))
    poller = client.begin_analyze_document("prebuilt-read", scan_png.read_bytes())
    result = poller.result()
    assert result.model_id == "prebuilt-read" and result.api_version == "2024-11-30"
    assert cer(result.content, truth) <= 0.01
    assert result.paragraphs and result.paragraphs[0].bounding_regions[0].page_number == 1
    assert poller.details["operation_id"]


def test_documentintelligence_url_source_from_an_allow_listed_host(server, scan_png: Path, truth: str) -> None:
    from azure.ai.documentintelligence import DocumentIntelligenceClient
    from azure.ai.documentintelligence.models import AnalyzeDocumentRequest
    from azure.core.credentials import AzureKeyCredential

    client = DocumentIntelligenceClient(server.endpoint, AzureKeyCredential(KEY))
    with file_server() as files:
        files.files["/scan.png"] = scan_png.read_bytes()
        url = f"http://localhost:{files.port}/scan.png"  # 'localhost' is on the test server's allow-list
        result = client.begin_analyze_document("prebuilt-read", AnalyzeDocumentRequest(url_source=url)).result()
        assert files.hits == ["/scan.png"]
    assert cer(result.content, truth) <= 0.01


def test_documentintelligence_models_info_and_delete(server, digital_pdf: bytes) -> None:
    from azure.ai.documentintelligence import DocumentIntelligenceAdministrationClient, DocumentIntelligenceClient
    from azure.core.credentials import AzureKeyCredential
    from azure.core.exceptions import ResourceNotFoundError

    admin = DocumentIntelligenceAdministrationClient(server.endpoint, AzureKeyCredential(KEY))
    assert [m.model_id for m in admin.list_models()] == ["prebuilt-read", "prebuilt-layout"]
    assert admin.get_model("prebuilt-read").model_id == "prebuilt-read"
    assert admin.get_resource_details().custom_document_models.limit > 0
    with pytest.raises(ResourceNotFoundError):
        admin.get_model("no-such-model")
    client = DocumentIntelligenceClient(server.endpoint, AzureKeyCredential(KEY))
    poller = client.begin_analyze_document("prebuilt-read", digital_pdf)
    poller.result()
    result_id = poller.details["operation_id"]
    client.delete_analyze_result("prebuilt-read", result_id)
    with pytest.raises(ResourceNotFoundError):
        client.delete_analyze_result("prebuilt-read", result_id)


GERMAN = ["Über die Brücke fährt ein großer Lastwagen.", "Die Größe der Äpfel überrascht Jürgen."]


def test_locale_selects_the_tesseract_language_pack(server, tmp_path: Path) -> None:
    from azure.ai.formrecognizer import DocumentAnalysisClient
    from azure.core.credentials import AzureKeyCredential

    from percept.ocr.languages import installed_packs

    if "deu" not in installed_packs():
        needs.missing("the German Tesseract pack (tesseract-ocr-deu) is not installed")
    scan = builders.save_image(builders.render(builders.text_pdf([GERMAN], font="Vera"), dpi=200), tmp_path / "de.png")
    client = DocumentAnalysisClient(server.endpoint, AzureKeyCredential(KEY))
    with open(scan, "rb") as fh:
        german = client.begin_analyze_document("prebuilt-read", fh, locale="de-DE").result()
    assert cer(german.content, "\n".join(GERMAN)) <= 0.01
    assert {"Über", "Brücke", "großer", "Äpfel"} <= set(german.content.replace(".", " ").split())
