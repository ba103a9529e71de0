"""Where work runs and where a document lives: the executor interface and document sources.

The driver reads through any :class:`~percept.executors.PageExecutor`; the local process pool is one, and a
single-thread executor in this process is a second, real one. Documents reach workers through their source:
a path on a shared filesystem, or bytes that travel with the task.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import builders
import numpy as np
import pytest
from PIL import Image

from percept import pipeline, read_document, source
from percept.config import ReadOptions, default_limits
from percept.executors import LocalProcessExecutor, PageExecutor, make_executor
from percept.source import DocumentRef, InMemory, LocalFile, open_document
from percept.worker import PageResult, PageTask, run_task


class InProcessExecutor:
    """Page tasks run on one thread of this process (pdfium is not thread-safe, so one): no worker to lose."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="percept-inprocess")

    def submit(self, task: PageTask) -> Future[list[PageResult]]:
        return self._pool.submit(run_task, task)

    def crashed(self, error: BaseException) -> bool:
        return False

    def renew(self) -> None:
        pass

    def shutdown(self, *, wait: bool = True, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


@pytest.fixture(scope="module")
def local() -> Iterator[LocalProcessExecutor]:
    executor = LocalProcessExecutor(2)
    yield executor
    executor.shutdown(wait=True)


def test_the_local_process_pool_reads_through_the_interface(local: LocalProcessExecutor, digital_pdf: bytes) -> None:
    doc = read_document(digital_pdf, executor=local)
    assert [page.source for page in doc.pages] == ["text-layer", "text-layer"]
    assert [ln.content for ln in doc.pages[0].lines] == builders.PARAGRAPH
    assert [ln.content for ln in doc.pages[1].lines] == builders.PARAGRAPH[::-1]


def test_an_in_process_executor_reads_the_identical_document(
    local: LocalProcessExecutor, digital_pdf: bytes, scan_png: Path
) -> None:
    executor: PageExecutor = InProcessExecutor()
    try:
        for source in (digital_pdf, scan_png):
            assert read_document(source, executor=executor) == read_document(source, executor=local)
        assert read_document(scan_png, executor=executor).pages[0].lines[0].content == builders.PARAGRAPH[0]
    finally:
        executor.shutdown(wait=True)


def test_bytes_travel_to_a_worker_process_in_the_task(local: LocalProcessExecutor, scan_png: Path) -> None:
    data = scan_png.read_bytes()
    on_disk = open_document(scan_png)
    assert on_disk.source == LocalFile(str(scan_png))
    in_memory = DocumentRef(InMemory(data), on_disk.mime_type, on_disk.page_count)
    # Validated already (as on POST): the task carries the bytes, and the worker writes its own local copy.
    (page,) = local.submit(PageTask(in_memory, (0,), ReadOptions(), default_limits())).result()
    (same,) = local.submit(PageTask(on_disk, (0,), ReadOptions(), default_limits())).result()
    assert page == same
    doc = read_document(in_memory, executor=local)
    assert doc == read_document(scan_png, executor=local)
    assert doc.pages[0].lines[0].content == builders.PARAGRAPH[0]
    assert read_document(InMemory(data), executor=local) == doc  # a source not yet validated


def test_an_in_memory_source_is_a_temporary_file_only_while_held() -> None:
    with InMemory(b"%PDF-1.7 not really").open_local() as path:
        assert Path(path).read_bytes() == b"%PDF-1.7 not really"
    assert not os.path.exists(path)
    with LocalFile("/some/where.pdf").open_local() as where:
        assert where == "/some/where.pdf"


def test_a_pool_a_worker_died_in_is_replaced_once(digital_pdf: bytes) -> None:
    raw = make_executor(1)
    executor = LocalProcessExecutor(1, raw)
    try:
        with pytest.raises(Exception) as died:
            raw.submit(os._exit, 3).result()
        assert executor.crashed(died.value) and executor.broken
        executor.renew()
        assert not executor.broken
        renewed = executor._pool
        executor.renew()  # a second driver that saw the same crash changes nothing
        assert executor._pool is renewed
        assert read_document(digital_pdf, executor=executor).pages[0].source == "text-layer"
    finally:
        executor.shutdown(wait=True)


class _RecordingThreads(ThreadPoolExecutor):
    """The caller lane's thread pool, noting the pages each task it runs holds."""

    seen: ClassVar[list[tuple[int, ...]]] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.seen.append(args[0].indices)
        return super().submit(fn, *args, **kwargs)


def test_a_read_with_its_own_pool_reads_in_the_caller_too(
    clean_scan: np.ndarray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pages.tif"
    frames = [Image.fromarray(clean_scan) for _ in range(4)]
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="raw")
    monkeypatch.setattr(pipeline, "ThreadPoolExecutor", _RecordingThreads)
    _RecordingThreads.seen = []
    doc = read_document(path, options=ReadOptions(workers=2))
    assert [p.page_number for p in doc.pages] == [1, 2, 3, 4]
    assert all(p.lines[0].content == builders.PARAGRAPH[0] for p in doc.pages)
    here = _RecordingThreads.seen
    assert here[0] == (0,)  # the first page starts in the caller, without waiting for the pool
    assert 1 <= len(here) < 4  # and the pool's one process read the others

    _RecordingThreads.seen = []
    with pipeline._caller_lane:  # another read in this process has the caller lane: a full pool instead
        two = read_document(path, pages="1-2", options=ReadOptions(workers=2))
    assert [p.lines for p in two.pages] == [p.lines for p in doc.pages[:2]]
    assert _RecordingThreads.seen == []


def test_pdfium_work_waits_while_another_thread_has_pdfium(digital_pdf: bytes, tmp_path: Path) -> None:
    """PDFium crashes when two threads call it at once: validating a PDF and reading its pages in-process (the
    server's validation threads, the caller's lane) wait for the thread that has it."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(digital_pdf)
    ref = open_document(path)
    task = PageTask(ref, (0,), ReadOptions(), default_limits())

    def validate() -> None:
        open_document(path)

    def read() -> None:
        run_task(task)

    for work in (validate, read):
        thread = threading.Thread(target=work)
        with source.PDFIUM_LOCK:  # this thread's PDFium work
            thread.start()
            thread.join(0.3)
            assert thread.is_alive()  # waiting
        thread.join(30)
        assert not thread.is_alive()
