"""The read pipeline driver: a document's bytes in, a :class:`~percept.model.Document` out.

One code path for the CLI, the server and batch workers: validate once, then spread page work over a pool of
single-threaded worker processes. PDF pages go first in cheap chunks that only try the text layer; pages that
need OCR come back as None and are resubmitted one by one, so slow OCR pages balance across the cores.
At most a few tasks are in flight at a time, so memory stays bounded on a 2,000-page document.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Literal, NamedTuple

from . import lifeline
from .assemble import assemble
from .config import Limits, ReadOptions, default_limits
from .errors import ContentTooLarge, WorkerCrashed
from .layout.keyvalue import key_value_pairs
from .model import Document, Page
from .pages import parse_pages
from .source import DocumentRef, open_document
from .worker import PageTask, init_worker, run_task

TEXT_LAYER_CHUNK = 8
Progress = Callable[[int, int], None]
ContentFormat = Literal["text", "markdown"]


def make_executor(workers: int) -> ProcessPoolExecutor:
    """A pool of page workers; forkserver keeps it safe to create from a threaded server. Its forkserver and workers
    end with this process however it ends, and outlive a Ctrl-C or SIGTERM to the group (see :mod:`.lifeline`)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["percept._forkserver", "percept.worker"])
    lifeline.start_forkserver()
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_worker)


def read_document(
    source: str | os.PathLike[str] | bytes,
    *,
    pages: str | None = None,
    options: ReadOptions | None = None,
    limits: Limits | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    content_format: ContentFormat = "text",
    key_value_pairs: bool = False,
) -> Document:
    """Read a document from a path or bytes; raises a :class:`~percept.errors.PerceptError` on bad input.

    With ``options.layout`` the result also has tables, selection marks and paragraph roles;
    ``key_value_pairs`` adds general key-value pairs; ``content_format="markdown"`` writes the content as
    Document Intelligence's markdown."""
    out = _Output(content_format, key_value_pairs)
    options = options or ReadOptions()
    limits = limits or default_limits()
    if isinstance(source, bytes | bytearray):
        if len(source) > limits.max_document_bytes:
            raise ContentTooLarge(
                f"The document is {len(source)} bytes; the limit is {limits.max_document_bytes} bytes."
            )
        with tempfile.TemporaryDirectory(prefix="percept-") as tmp:
            path = Path(tmp) / "document"
            path.write_bytes(source)
            return _read(open_document(path, limits), pages, options, limits, executor, progress, out)
    return _read(open_document(source, limits), pages, options, limits, executor, progress, out)


def read_validated(
    ref: DocumentRef,
    *,
    pages: str | None = None,
    options: ReadOptions | None = None,
    limits: Limits | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    content_format: ContentFormat = "text",
    key_value_pairs: bool = False,
) -> Document:
    """Read a document :func:`~percept.source.open_document` already validated (the server validates on POST)."""
    out = _Output(content_format, key_value_pairs)
    return _read(ref, pages, options or ReadOptions(), limits or default_limits(), executor, progress, out)


class _Output(NamedTuple):
    content_format: ContentFormat
    key_value_pairs: bool


def _read(
    ref: DocumentRef,
    pages: str | None,
    options: ReadOptions,
    limits: Limits,
    executor: Executor | None,
    progress: Progress | None,
    out: _Output,
) -> Document:
    indices = parse_pages(pages, ref.page_count)
    workers = min(options.worker_count(), len(indices))
    if executor is None and workers <= 1:
        results = _run_inline(ref, indices, options, limits, progress)
    elif executor is None:
        with make_executor(workers) as pool:
            results = _run_pool(pool, workers, ref, indices, options, limits, progress)
    else:
        results = _run_pool(executor, max(workers, 2), ref, indices, options, limits, progress)
    doc = assemble(
        [results[i] for i in indices],
        mime_type=ref.mime_type,
        page_count=ref.page_count,
        content_format=out.content_format,
    )
    if out.key_value_pairs:
        doc.key_value_pairs = key_value_pairs(doc)
    return doc


def _run_inline(
    ref: DocumentRef, indices: list[int], options: ReadOptions, limits: Limits, progress: Progress | None
) -> dict[int, Page]:
    results: dict[int, Page] = {}
    for i in indices:
        (page,) = run_task(PageTask(ref, (i,), options, limits))
        assert page is not None
        results[i] = page
        if progress:
            progress(len(results), len(indices))
    return results


def _initial_tasks(ref: DocumentRef, indices: list[int], options: ReadOptions, limits: Limits) -> deque[PageTask]:
    if ref.is_pdf and options.text_layer:
        chunks = [indices[i : i + TEXT_LAYER_CHUNK] for i in range(0, len(indices), TEXT_LAYER_CHUNK)]
        return deque(PageTask(ref, tuple(c), options, limits, text_layer_only=True) for c in chunks)
    return deque(PageTask(ref, (i,), options, limits) for i in indices)


def _run_pool(
    pool: Executor,
    workers: int,
    ref: DocumentRef,
    indices: list[int],
    options: ReadOptions,
    limits: Limits,
    progress: Progress | None,
) -> dict[int, Page]:
    queue = _initial_tasks(ref, indices, options, limits)
    in_flight: dict[Future[list[Page | None]], PageTask] = {}
    results: dict[int, Page] = {}
    window = 2 * workers
    try:
        while queue or in_flight:
            while queue and len(in_flight) < window:
                task = queue.popleft()
                try:
                    in_flight[pool.submit(run_task, task)] = task
                except OSError as exc:  # the pool could not start a worker process
                    raise WorkerCrashed(f"A worker process could not be started: {exc}") from None
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                task = in_flight.pop(future)
                for index, page in zip(task.indices, future.result(), strict=True):
                    if page is None:  # needs OCR: its own task, so OCR pages spread over workers
                        queue.appendleft(PageTask(ref, (index,), options, limits))
                        continue
                    results[index] = page
                    if progress:
                        progress(len(results), len(indices))
    except BrokenProcessPool:
        raise WorkerCrashed("A worker process died while reading the document.") from None
    finally:
        for future in in_flight:
            future.cancel()
    return results
