"""Portable persistence: results and learned models are stored as versioned JSON that round-trips losslessly, and
files an earlier version pickled are refused with a clear message, never unpickled."""

from __future__ import annotations

import dataclasses
import gzip
import json
import pathlib
import pickle
import sqlite3
import time
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

import builders
import numpy as np
import orjson
import pytest
import requests
from server_harness import KEY, start_server

from percept import read_document
from percept.config import ReadOptions
from percept.custom import codec, composed, labeled, unlabeled
from percept.custom.apply import apply_model
from percept.custom.registry import READY, ModelRecord, ModelRegistry
from percept.errors import NotFound, UnreadableModel
from percept.model import (
    AnalyzedDocument,
    Document,
    Field,
    KeyValueElement,
    KeyValuePair,
    Language,
    Line,
    Page,
    PageError,
    Paragraph,
    SelectionMark,
    Span,
    Table,
    TableCell,
    Word,
)
from percept.serializers.analyze_v3 import analyze_result
from percept.server.store import SUCCEEDED, Operation, OperationStore

LAYOUT = ReadOptions(layout=True, workers=1)
HEADERS = {"Ocp-Apim-Subscription-Key": KEY}
API = "api-version=2024-11-30"
DI_LAYOUT = f"/documentintelligence/documentModels/prebuilt-layout:analyze?{API}"
DI_RESULT = "/documentintelligence/documentModels/prebuilt-layout/analyzeResults/{}?" + API
OFFSETS = [(0, 0), (14, -10), (-8, 12), (20, 6), (-12, -14)]
MODEL_CLASSES = (
    Document,
    Page,
    Line,
    Word,
    Paragraph,
    Table,
    TableCell,
    SelectionMark,
    KeyValuePair,
    KeyValueElement,
    AnalyzedDocument,
    Field,
    Language,
    PageError,
)


def _plain(value: Any, path: str = "$") -> None:
    """Fails unless ``value`` is made of JSON's own types only (no tuples, numpy numbers or sets)."""
    if isinstance(value, dict):
        for k, v in value.items():
            assert type(k) is str, path
            _plain(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _plain(v, f"{path}[{i}]")
    else:
        assert value is None or type(value) in (str, int, float, bool), (path, type(value))


def _assert_round_trip(doc: Document) -> dict[str, Any]:
    d = doc.to_dict()
    _plain(d)
    assert d["perceptDocumentFormat"] == 1
    stored = orjson.loads(orjson.dumps(d))
    assert stored == d
    again = Document.from_dict(stored)
    assert again == doc
    assert again.to_dict() == d
    return d


def _word(text: str, x: float, offset: int) -> Word:
    return Word(text, (x, 1.0, x + 0.5, 1.0, x + 0.5, 1.25, x, 1.25), 0.987, Span(offset, len(text)))


def _mark(state: str, line: int | None) -> SelectionMark:
    box = (3.0, 1.0, 3.2, 1.0, 3.2, 1.2, 3.0, 1.2)
    return SelectionMark(state, box, 0.91, line=line, word=1, is_word=True, span=Span(9, 1))  # type: ignore[arg-type]


def _synthetic() -> Document:
    """A document in which every field of every model class holds something other than its default."""
    words = [_word("Total:", 1.0, 0), _word("$12.50", 1.6, 7)]
    line = Line("Total: $12.50", (1.0, 1.0, 2.1, 1.0, 2.1, 1.25, 1.0, 1.25), words, Span(0, 13))
    cells = [
        TableCell(0, 0, (1.0, 2.0, 2.0, 2.0, 2.0, 2.5, 1.0, 2.5), 2, 3, "columnHeader", 0, "Item", Span(14, 4)),
        TableCell(2, 0, (1.0, 2.5, 2.0, 2.5, 2.0, 3.0, 1.0, 3.0), kind="stubHead", span=None),
    ]
    table = Table(1, 3, 3, cells, (1.0, 2.0, 4.0, 2.0, 4.0, 3.0, 1.0, 3.0), Span(14, 4))
    page = Page(
        page_number=1,
        width=8.5,
        height=11.0,
        unit="inch",
        angle=-1.25,
        lines=[line],
        span=Span(0, 20),
        source="text-layer",
        engine="pdfium",
        blocks=[[0], []],
        roles=["title", None],
        tables=[table],
        selection_marks=[_mark("selected", 0), _mark("unselected", None)],
        cluster_id=3,
    )
    key = KeyValueElement("Total:", 1, line.polygon, [words[0]], Span(0, 6))
    value = KeyValueElement("$12.50", 1, words[1].polygon, [words[1]], None)
    fields = {
        "Total": Field("number", 12.5, "$12.50", 1, words[1].polygon, [words[1]], [], 0.95),
        "Count": Field("integer", 3, "3", None, None, [], [], 0.5),
        "Paid": Field(
            "selectionMark", "selected", "selected", 1, page.selection_marks[0].polygon, [], [_mark("selected", 0)], 1.0
        ),
        "Missing": Field("date", None, "", confidence=0.25),
        "Name": Field("string", "Contoso", "Contoso", 2),
    }
    return Document(
        pages=[page, Page(2, 1700.0, 2200.0, "pixel", source="empty")],
        content="Total: $12.50 ☒\nItem",
        paragraphs=[Paragraph(1, [0], line.polygon, "Total: $12.50", Span(0, 13), "sectionHeading")],
        languages=[Language("en", [Span(0, 13), Span(14, 4)], 0.8)],
        mime_type="application/pdf",
        page_count=5,
        content_format="markdown",
        key_value_pairs=[KeyValuePair(key, value, 0.77, None), KeyValuePair(key, None, 0.5, "__Tokens__1")],
        documents=[AnalyzedDocument("custom:invoices", (1, 2), fields, 0.88, "model-1")],
        errors=[PageError(2, "RuntimeError", "the page could not be rendered")],
    )


def _instances(obj: Any) -> list[Any]:
    """Every model dataclass instance reachable from ``obj``."""
    found = []
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        found.append(obj)
        for f in dataclasses.fields(obj):
            found.extend(_instances(getattr(obj, f.name)))
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            found.extend(_instances(v))
    elif isinstance(obj, dict):
        for v in obj.values():
            found.extend(_instances(v))
    return found


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def test_synthetic_document_with_every_field_round_trips() -> None:
    doc = _synthetic()
    # Every field of every class is set to something other than its default somewhere in the document, so a field
    # the codec forgot (or one added to the model later) fails the equality below.
    unset = {
        f"{cls.__name__}.{f.name}"
        for cls in MODEL_CLASSES
        for f in dataclasses.fields(cls)
        if all(getattr(o, f.name) == _default(f) for o in _instances(doc) if type(o) is cls)
    }
    assert unset == set()
    d = _assert_round_trip(doc)
    again = Document.from_dict(d)
    # Tuples stay tuples and spans stay Spans (dataclass equality alone would not tell a list from a tuple).
    assert type(again.pages[0].lines[0].polygon) is tuple and type(again.pages[0].lines[0].span) is Span
    assert type(again.pages[0].lines[0].words[0].span) is Span
    assert type(again.documents[0].page_range) is tuple
    assert type(again.pages[0].tables[0].cells[0].span) is Span
    fields = again.documents[0].fields
    assert list(fields) == ["Total", "Count", "Paid", "Missing", "Name"]  # order kept
    assert type(fields["Count"].value) is int and type(fields["Total"].value) is float
    assert d["documents"][0]["fields"]["Paid"]["marks"][0]["state"] == "selected"


def test_unknown_format_version_is_refused() -> None:
    d = _synthetic().to_dict()
    d["perceptDocumentFormat"] = 99
    with pytest.raises(ValueError, match="format version 99"):
        Document.from_dict(d)


@pytest.fixture(scope="module")
def layout_doc() -> Document:
    return read_document(builders.layout_pdf(), options=LAYOUT, key_value_pairs=True)


def test_layout_document_round_trips(layout_doc: Document) -> None:
    assert layout_doc.tables and layout_doc.key_value_pairs and layout_doc.paragraphs
    assert any(p.selection_marks for p in layout_doc.pages)
    assert any(c.row_span > 1 or c.column_span > 1 for t in layout_doc.tables for c in t.cells)
    assert any(p.role for p in layout_doc.paragraphs)
    d = _assert_round_trip(layout_doc)
    assert d["pages"][0]["tables"][0]["cells"]
    assert analyze_result(Document.from_dict(d), model_id="prebuilt-layout") == analyze_result(
        layout_doc, model_id="prebuilt-layout"
    )


def test_store_writes_gzip_json_and_reads_it_back(tmp_path: Path, layout_doc: Document) -> None:
    store = OperationStore(tmp_path, ttl_seconds=3600)
    op = store.create(Operation(id=store.new_id(), kind="read", model_id="prebuilt-layout"))
    store.mark_succeeded(op.id, layout_doc)
    path = store.result_path(op.id)
    assert path.name == f"{op.id}.result.json.gz"
    stored = json.loads(gzip.decompress(path.read_bytes()))
    assert stored == layout_doc.to_dict()
    assert store.load_result(op.id) == layout_doc
    assert [p.name for p in (tmp_path / "operations").iterdir()] == [path.name]  # no temporary or pickle file
    store.close()


class _Plant:
    """Pickles to a file whose unpickling creates ``marker``: loading it would run code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (pathlib.Path.touch, (self.marker,))


def test_store_refuses_a_pickled_result_and_its_sweep_keeps_it(tmp_path: Path) -> None:
    store = OperationStore(tmp_path, ttl_seconds=3600)
    op = store.create(Operation(id=store.new_id(), kind="read", model_id="prebuilt-read", status=SUCCEEDED))
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(_Plant(probe)))
    assert probe.exists()  # the plant works: unpickling it would leave the marker
    marker = tmp_path / "unpickled"
    legacy = store.legacy_result_path(op.id)
    legacy.write_bytes(pickle.dumps(_Plant(marker)))
    assert store.sweep() == 0 and legacy.exists()  # kept while the operation is retained, to say why
    with pytest.raises(NotFound, match="stored by an older version of Percept"):
        store.load_result(op.id)
    assert not marker.exists()
    with pytest.raises(NotFound, match="not found or has expired"):
        store.load_result(str(uuid.uuid4()))
    assert store.delete(op.id) and not legacy.exists()
    store.close()


# --- learned models ----------------------------------------------------------------------------------------------


def _invoice(i: int) -> bytes:
    number, date, bill_to, total = builders.INVOICES[i]
    return builders.invoice_form(number, date, bill_to, total, *OFFSETS[i], paid=i % 2 == 0)


def _invoice_forms() -> list[labeled.LabeledForm]:
    forms = []
    for i in range(3):
        number, date, bill_to, total = builders.INVOICES[i]
        name = f"Invoice_{i + 1}.pdf"
        raw = builders.invoice_labels(name, number, date, bill_to, total, *OFFSETS[i], paid=i % 2 == 0)
        forms.append(
            labeled.LabeledForm(name, read_document(_invoice(i), options=LAYOUT), labeled.parse_labels(raw, name))
        )
    return forms


@pytest.fixture(scope="module")
def models() -> dict[str, codec.Learned]:
    forms = _invoice_forms()
    types = labeled.parse_fields(builders.INVOICE_FIELDS)
    with_labels = labeled.train(forms, types)
    without = unlabeled.train([(f.name, f.doc) for f in forms])
    both = composed.ComposedModel(
        [composed.Component("a", "invoices", with_labels), composed.Component("b", None, with_labels)]
    )
    return {"labeled": with_labels, "unlabeled": without, "composed": both}


def test_learned_models_round_trip_through_json(models: dict[str, Any]) -> None:
    assert models["labeled"].pages[0].points.shape[1] == 2 and models["labeled"].fields
    assert models["unlabeled"].clusters[0].keys and models["unlabeled"].clusters[0].static
    for kind in ("labeled", "unlabeled", "composed"):
        d = codec.encode(models[kind])
        _plain(d)
        assert d["perceptModelFormat"] == 1 and d["kind"] == kind
        again = codec.decode(orjson.loads(orjson.dumps(d)))
        assert type(again) is type(models[kind])
        assert codec.encode(again) == d
    # numpy arrays come back as float arrays of the same shape and values; sets and frozensets as themselves
    page = codec.decode(codec.encode(models["labeled"])).pages[0]  # type: ignore[union-attr]
    assert page.points.dtype == np.float64 and np.array_equal(page.points, models["labeled"].pages[0].points)
    assert codec.decode(codec.encode(models["unlabeled"])) == models["unlabeled"]
    with pytest.raises(codec.ModelFormatError):
        codec.decode({"perceptModelFormat": 1, "kind": "neural"})


def test_registry_stores_json_and_the_model_reads_the_same(tmp_path: Path, models: dict[str, Any]) -> None:
    registry = ModelRegistry(tmp_path)
    for kind in ("labeled", "unlabeled", "composed"):
        model_id = str(uuid.uuid4())
        registry.create(ModelRecord(id=model_id, name=kind))
        registry.finish(model_id, READY, {"trainingDocuments": [], "errors": []}, None, models[kind])
        assert sorted(p.name for p in registry.folder(model_id).iterdir()) == ["model.json"]
        assert json.loads((registry.folder(model_id) / "model.json").read_text())["kind"] == kind
        fresh = read_document(_invoice(4), options=LAYOUT)
        expected = read_document(_invoice(4), options=LAYOUT)
        apply_model(registry, model_id, fresh, v3=True)
        if kind == "unlabeled":
            unlabeled.apply(models[kind], expected)
            assert fresh.key_value_pairs and fresh.key_value_pairs == expected.key_value_pairs
        else:
            part = models[kind].components[0] if kind == "composed" else None
            doc_type = f"{model_id}:a" if part else model_id
            labeled.apply(part.model if part else models[kind], expected, doc_type, "a" if part else model_id)
            assert fresh.documents and fresh.documents == expected.documents
            assert fresh.documents[0].fields["Number"].value == builders.INVOICES[4][0]
    registry.close()


def test_registry_refuses_a_pickled_model(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    model_id = str(uuid.uuid4())
    registry.create(ModelRecord(id=model_id, status=READY))
    marker = tmp_path / "unpickled"
    registry.folder(model_id).mkdir()
    (registry.folder(model_id) / "model.pickle").write_bytes(pickle.dumps(_Plant(marker)))
    assert registry.sweep() == 0  # kept, so using the model can say why it must be retrained
    with pytest.raises(UnreadableModel, match="train the model again"):
        registry.learned(model_id)
    with pytest.raises(UnreadableModel, match="train the model again"):
        apply_model(registry, model_id, Document(pages=[]), v3=True)
    (registry.folder(model_id) / "model.json").write_bytes(b"\x80\x04not json")
    with pytest.raises(UnreadableModel, match="cannot be loaded"):
        registry.learned(model_id)
    assert not marker.exists()
    registry.close()


# --- through the server --------------------------------------------------------------------------------------------


def _poll(url: str) -> requests.Response:
    for _ in range(400):
        response = requests.get(url, headers=HEADERS, timeout=30)
        if response.status_code != 200 or response.json()["status"] in ("succeeded", "failed"):
            return response
        time.sleep(0.3)
    raise AssertionError(f"{url} did not finish")


def test_server_results_are_gzip_json_and_pickles_are_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data)
    marker = tmp_path / "unpickled"
    try:
        response = requests.post(server.endpoint + DI_LAYOUT, headers=HEADERS, data=builders.layout_pdf(), timeout=60)
        assert response.status_code == 202, response.text
        body = _poll(response.headers["Operation-Location"]).json()
        assert body["status"] == "succeeded", body
        op_id = response.headers["Operation-Location"].split("/analyzeResults/")[1].split("?")[0]
        ops = data / "operations"
        assert sorted(p.name for p in ops.iterdir()) == [f"{op_id}.result.json.gz"]
        stored = Document.from_dict(json.loads(gzip.decompress((ops / f"{op_id}.result.json.gz").read_bytes())))
        assert stored.tables and any(p.selection_marks for p in stored.pages)
        rendered = analyze_result(stored, api_version="2024-11-30", model_id="prebuilt-layout")
        assert body["analyzeResult"] == rendered  # what the API answers is exactly what was stored

        # An earlier version's pickled result in place of the JSON: a 404 that says why, and nothing unpickled.
        (ops / f"{op_id}.result.json.gz").unlink()
        (ops / f"{op_id}.result.pickle").write_bytes(pickle.dumps(_Plant(marker)))
        refused = requests.get(server.endpoint + DI_RESULT.format(op_id), headers=HEADERS, timeout=30)
        assert refused.status_code == 404, refused.text
        assert "stored by an older version of Percept" in refused.text

        # A ready model whose learned model an earlier version pickled: analysis fails saying to retrain.
        model_id = str(uuid.uuid4())
        with closing(sqlite3.connect(data / "percept.sqlite3", timeout=10)) as conn, conn:
            conn.execute(
                "INSERT INTO models (id, name, status, created, updated, params) VALUES (?, ?, 'ready', ?, ?, '{}')",
                (model_id, "old", time.time(), time.time()),
            )
        (data / "models" / model_id).mkdir(parents=True)
        (data / "models" / model_id / "model.pickle").write_bytes(pickle.dumps(_Plant(marker)))
        url = f"{server.endpoint}/formrecognizer/v2.1/custom/models/{model_id}/analyze"
        pdf = builders.text_pdf([["Invoice number 4711"]])
        headers = {**HEADERS, "Content-Type": "application/pdf"}
        response = requests.post(url, headers=headers, data=pdf, timeout=60)
        assert response.status_code == 202, response.text
        failed = _poll(response.headers["Operation-Location"])
        assert failed.status_code == 200 and failed.json()["status"] == "failed", failed.text
        assert "train the model again" in failed.text
    finally:
        server.stop()
    assert not marker.exists()
