"""The operation store keeps the last results it read, while their files are unchanged."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from percept.errors import NotFound
from percept.model import Document, Line, Page, Span, Word
from percept.server.store import Operation, OperationStore


def _doc(text: str) -> Document:
    word = Word(text, (0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0), 0.9, Span(0, len(text)))
    line = Line(text, word.polygon, [word], Span(0, len(text)))
    return Document([Page(1, 8.5, 11.0, "inch", lines=[line], span=Span(0, len(text)))], content=text, page_count=1)


def _succeeded(store: OperationStore, text: str) -> str:
    op = store.create(Operation(id=store.new_id(), kind="read", model_id="prebuilt-read"))
    store.mark_succeeded(op.id, _doc(text))
    return op.id


def test_a_result_read_again_is_the_same_document_until_its_file_changes(tmp_path: Path) -> None:
    store = OperationStore(tmp_path, 3600)
    op_id = _succeeded(store, "first")
    doc = store.load_result(op_id)
    assert store.load_result(op_id) is doc and doc.content == "first"
    store.mark_succeeded(op_id, _doc("second"))
    assert store.load_result(op_id).content == "second"
    store.delete(op_id)
    with pytest.raises(NotFound):
        store.load_result(op_id)


def test_another_process_rewriting_the_file_is_noticed(tmp_path: Path) -> None:
    store, other = OperationStore(tmp_path, 3600), OperationStore(tmp_path, 3600)
    op_id = _succeeded(store, "first")
    assert store.load_result(op_id).content == "first"
    other.mark_succeeded(op_id, _doc("rewritten"))
    assert store.load_result(op_id).content == "rewritten"


def test_the_cache_is_bounded(tmp_path: Path) -> None:
    store = OperationStore(tmp_path, 3600, cached_results=2)
    ids = [_succeeded(store, f"doc{i}") for i in range(3)]
    first = [store.load_result(op_id) for op_id in ids]
    assert store.load_result(ids[2]) is first[2] and store.load_result(ids[1]) is first[1]
    again = store.load_result(ids[0])  # evicted by the third: read anew
    assert again is not first[0] and again.to_dict() == first[0].to_dict()
    nothing = OperationStore(tmp_path, 3600, cached_result_bytes=0)
    assert nothing.load_result(ids[0]) is not nothing.load_result(ids[0])


def test_reading_leaves_the_garbage_collector_as_it_was(tmp_path: Path) -> None:
    store = OperationStore(tmp_path, 3600, cached_results=0)
    op_id = _succeeded(store, "text")
    assert gc.isenabled()
    store.load_result(op_id)
    assert gc.isenabled()
    gc.disable()
    try:
        store.load_result(op_id)
        assert not gc.isenabled()
    finally:
        gc.enable()
