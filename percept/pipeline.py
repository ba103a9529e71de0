"""The read pipeline driver: a document's bytes in, a :class:`~percept.model.Document` out.

One code path for the CLI, the server and batch workers: validate once, then spread page work over a pool of
single-threaded worker processes. PDF pages go first in cheap chunks that only try the text layer; pages that
need OCR come back as None and are resubmitted one by one, so slow OCR pages balance across the cores.
At most a few tasks are in flight at a time, so memory stays bounded on a 2,000-page document.

Each page goes through the worker's page stages (:func:`~percept.worker.page_stages`); the read pages then go
through the document stages (:func:`document_stages`: assemble, languages, key-value pairs, custom model) one after the
other. A page a stage failed on is left empty and named in ``Document.errors`` (partial success); only a document
none of whose pages could be read fails (:class:`PagesFailed`).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from .assemble import assemble
from .config import Limits, ReadOptions, default_limits
from .errors import ContentTooLarge, WorkerCrashed
from .executors import LocalProcessExecutor, PageExecutor
from .executors import make_executor as make_executor  # where callers have always found it
from .languages import detect_languages
from .languages import preload as preload_languages
from .layout import keyvalue
from .model import Document, Page, PageError
from .pages import parse_pages
from .source import DocumentRef, DocumentSource, InMemory, LocalFile, open_document
from .worker import FailedPage, PageResult, PageTask, run_task

if TYPE_CHECKING:
    from .custom.registry import ModelRegistry

TEXT_LAYER_CHUNK = 8
Progress = Callable[[int, int], None]
ContentFormat = Literal["text", "markdown"]


def read_document(
    source: str | os.PathLike[str] | bytes | DocumentSource | DocumentRef,
    *,
    pages: str | None = None,
    options: ReadOptions | None = None,
    limits: Limits | None = None,
    executor: PageExecutor | Executor | None = None,
    progress: Progress | None = None,
    content_format: ContentFormat = "text",
    key_value_pairs: bool = False,
    model_id: str | None = None,
    models: ModelRegistry | None = None,
    v3: bool = True,
) -> Document:
    """Read a document from a path, bytes, a :class:`~percept.source.DocumentSource` (``LocalFile``,
    ``InMemory``) or a :class:`~percept.source.DocumentRef` that :func:`~percept.source.open_document` already
    validated (the server validates on POST); raises a :class:`~percept.errors.PerceptError` on bad input, and
    :class:`PagesFailed` when no page could be read. Page work runs on ``executor`` (a
    :class:`~percept.executors.PageExecutor`, or a ``concurrent.futures`` pool), else on a pool made for it.

    With ``options.layout`` the result also has tables, selection marks and paragraph roles;
    ``key_value_pairs`` adds general key-value pairs; ``content_format="markdown"`` writes the content as
    Document Intelligence's markdown; ``model_id`` applies that custom model from ``models`` (doc types named
    as the v3 APIs do, or as v2.1 does without ``v3``). Pages that failed are left empty and listed in
    ``Document.errors``."""
    options = options or ReadOptions()
    limits = limits or default_limits()
    if isinstance(source, DocumentRef):
        ctx = ReadContext(source, content_format, key_value_pairs, model_id, models, v3)
        return _read(ctx, pages, options, limits, executor, progress)
    if isinstance(source, bytes | bytearray):
        source = InMemory(source)
    elif isinstance(source, str | os.PathLike):
        source = LocalFile(os.fspath(source))
    if isinstance(source, InMemory) and len(source.data) > limits.max_document_bytes:
        raise ContentTooLarge(
            f"The document is {len(source.data)} bytes; the limit is {limits.max_document_bytes} bytes."
        )
    # Validated once, here; the reference the workers get names the local copy (today's executors share it).
    with source.open_local() as path:
        ctx = ReadContext(open_document(path, limits), content_format, key_value_pairs, model_id, models, v3)
        return _read(ctx, pages, options, limits, executor, progress)


# A document validated on POST is read by the same entry: it takes a DocumentRef as its source.
read_validated = read_document


class PagesFailed(RuntimeError):
    """Not one page of the document could be read (some did: the document reports them in ``errors``)."""

    def __init__(self, errors: list[PageError]) -> None:
        first = errors[0]
        super().__init__(f"No page could be read; page {first.page_number}: {first.code}: {first.message}")
        self.errors = errors


# --- document stages -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadContext:
    """What the document stages need besides the pages: the source and the output asked for."""

    ref: DocumentRef
    content_format: ContentFormat = "text"
    key_value_pairs: bool = False
    model_id: str | None = None
    models: ModelRegistry | None = None
    v3: bool = True


class DocumentStage(Protocol):
    def __call__(self, doc: Document, ctx: ReadContext, /) -> Document: ...


def assemble_content(doc: Document, ctx: ReadContext) -> Document:
    """Lay the pages out into one content string (text or markdown) and fill every span."""
    ref = ctx.ref
    out = assemble(doc.pages, mime_type=ref.mime_type, page_count=ref.page_count, content_format=ctx.content_format)
    out.errors = doc.errors
    return out


def find_key_value_pairs(doc: Document, ctx: ReadContext) -> Document:
    doc.key_value_pairs = keyvalue.key_value_pairs(doc)
    return doc


def apply_custom_model(doc: Document, ctx: ReadContext) -> Document:
    """The custom model's keys, values or fields on the document (read with layout)."""
    from .custom.apply import apply_model

    assert ctx.models is not None and ctx.model_id is not None
    return apply_model(ctx.models, ctx.model_id, doc, v3=ctx.v3)


def find_languages(doc: Document, ctx: ReadContext) -> Document:
    """The locale of each stretch of content (``languages``), per paragraph or line (``percept.languages``)."""
    doc.languages = detect_languages(doc)
    return doc


def document_stages(ctx: ReadContext, options: ReadOptions | None = None) -> list[DocumentStage]:
    """The stages a read document goes through, in order."""
    stages: list[DocumentStage] = [assemble_content]
    if options is None or options.detect_languages:
        stages.append(find_languages)
    if ctx.key_value_pairs:
        stages.append(find_key_value_pairs)
    if ctx.model_id and ctx.models is not None:
        stages.append(apply_custom_model)
    return stages


def _read(
    ctx: ReadContext,
    pages: str | None,
    options: ReadOptions,
    limits: Limits,
    executor: PageExecutor | Executor | None,
    progress: Progress | None,
) -> Document:
    ref = ctx.ref
    if options.detect_languages:
        preload_languages()  # loads while the pages are read
    indices = parse_pages(pages, ref.page_count)
    workers = min(options.worker_count(), len(indices))
    if executor is None and workers <= 1:
        results = _run_inline(ref, indices, options, limits, progress)
    elif executor is None:
        results = _run_own_pool(workers, ref, indices, options, limits, progress)
    else:
        if isinstance(executor, Executor):  # a bare concurrent.futures pool
            executor = LocalProcessExecutor(workers, executor)
        lanes = [_Lane(executor, 2 * max(workers, 2))]  # a task queued behind each running one: no idle gap
        results = _run_pool(lanes, ref, indices, options, limits, progress)
    read = [results[i] for i in indices]
    errors = [r.error for r in read if isinstance(r, FailedPage)]
    doc = Document([r.page if isinstance(r, FailedPage) else r for r in read], errors=errors)
    if doc.status == "failed":
        raise PagesFailed(errors)
    for stage in document_stages(ctx, options):
        doc = stage(doc, ctx)
    return doc


# --- page work -----------------------------------------------------------------------------------------------


def _run_inline(
    ref: DocumentRef, indices: list[int], options: ReadOptions, limits: Limits, progress: Progress | None
) -> dict[int, Page | FailedPage]:
    results: dict[int, Page | FailedPage] = {}
    for i in indices:
        (page,) = run_task(PageTask(ref, (i,), options, limits))
        assert page is not None
        results[i] = page
        if progress:
            progress(len(results), len(indices))
    return results


# One read at a time does page work on the caller's own thread: PDFium work is one thread at a time in a process
# (``source.PDFIUM_LOCK``), so a second read does better with a full pool than waiting on the first.
_caller_lane = threading.Lock()


def _run_own_pool(
    workers: int, ref: DocumentRef, indices: list[int], options: ReadOptions, limits: Limits, progress: Progress | None
) -> dict[int, Page | FailedPage]:
    """A pool made for this read. The caller reads too, a page at a time on a thread of its own, beside a pool one
    process smaller: its first page starts at once instead of after the pool's start (~0.3 s, the forkserver
    importing the worker code). Where another read in this process has the caller lane, a full pool."""
    lanes: list[_Lane] = []
    caller = _caller_lane.acquire(blocking=False)
    try:
        if caller:
            lanes.append(_Lane(LocalProcessExecutor(1, ThreadPoolExecutor(1, thread_name_prefix="percept-caller")), 1))
        # Each process one task at a time: one queued behind a running page could leave the caller idle at the end.
        processes = workers - int(caller)
        lanes.append(_Lane(LocalProcessExecutor(processes), processes))
        return _run_pool(lanes, ref, indices, options, limits, progress)
    finally:
        for lane in reversed(lanes):
            lane.executor.shutdown(wait=True)
        if caller:
            _caller_lane.release()


def _initial_tasks(ref: DocumentRef, indices: list[int], options: ReadOptions, limits: Limits) -> deque[PageTask]:
    if ref.is_pdf and options.text_layer:
        chunks = [indices[i : i + TEXT_LAYER_CHUNK] for i in range(0, len(indices), TEXT_LAYER_CHUNK)]
        return deque(PageTask(ref, tuple(c), options, limits, text_layer_only=True) for c in chunks)
    return deque(PageTask(ref, (i,), options, limits) for i in indices)


@dataclass(slots=True)
class _Lane:
    """An executor and how many tasks it is given at once (``busy`` counts those in flight)."""

    executor: PageExecutor
    capacity: int
    busy: int = 0


def _run_pool(
    lanes: list[_Lane],
    ref: DocumentRef,
    indices: list[int],
    options: ReadOptions,
    limits: Limits,
    progress: Progress | None,
) -> dict[int, Page | FailedPage]:
    """Hand tasks to the lanes, in order, as each has room."""
    queue = _initial_tasks(ref, indices, options, limits)
    in_flight: dict[Future[list[PageResult]], tuple[PageTask, _Lane]] = {}
    results: dict[int, Page | FailedPage] = {}
    try:
        while queue or in_flight:
            for lane in lanes:
                while queue and lane.busy < lane.capacity:
                    task = queue.popleft()
                    in_flight[lane.executor.submit(task)] = (task, lane)
                    lane.busy += 1
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                task, lane = in_flight.pop(future)
                lane.busy -= 1
                for index, page in zip(task.indices, future.result(), strict=True):
                    if page is None:  # needs OCR: its own task, so OCR pages spread over workers
                        queue.appendleft(PageTask(ref, (index,), options, limits))
                        continue
                    results[index] = page
                    if progress:
                        progress(len(results), len(indices))
    except Exception as exc:
        if any(lane.executor.crashed(exc) for lane in lanes):
            raise WorkerCrashed("A worker process died while reading the document.") from None
        raise
    finally:
        for future in in_flight:
            future.cancel()
    return results
