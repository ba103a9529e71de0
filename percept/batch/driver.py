"""The batch driver: list the documents once, keep one child operation per document, and work through the
children that are not done with a bounded number in flight.

Each child is: result blob checked (``overwriteExisting: false``), source blob downloaded by its reader, read,
result uploaded, child marked done, in that order. The children's rows are the batch's memory: they are
created in one transaction with the listing's outcome, and a child is marked done only after its result is in
the user's container. So a kill at any moment, then a restart (the runner queues the batch again, it is still
pending), redoes at most the documents that were in flight, and never one marked done. A result blob carries
its batch's id in its metadata, so one written just before a crash is this batch's own, rewritten rather than
taken for a user's file (``OutputExists``). Children stay in the status ``waiting`` until done, which no runner
claims: only their batch's driver runs them. A batch deleted
while it runs stops taking children (its rows are gone) and lets the ones in flight finish.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import PerceptError, StoredError
from ..io.blob import BlobContainer
from ..io.http import GuardedClient, OutboundError
from ..model import Document
from ..pipeline import PagesFailed
from ..serializers.batch import result_file
from ..source import BlobUrl
from .sources import list_documents, result_name, storage_error

if TYPE_CHECKING:
    from ..server.jobs import Handler, JobRunner
    from ..server.operations import BatchDocumentJob, BatchJob, ReadJob

log = logging.getLogger("percept.batch")

WAITING = "waiting"  # a child not done (outside the runner's pending statuses on purpose)
BATCH_META = "perceptbatch"  # result blob metadata: the batch that wrote it
OUTPUT_EXISTS = "OutputExists"  # a child skipped: its result blob exists and overwriteExisting is false
RESULT_SECONDS = 120.0  # checking and writing one result blob


def skipped_error(name: str) -> StoredError:
    return StoredError(OUTPUT_EXISTS, OUTPUT_EXISTS, f"The result '{name}' exists and overwriteExisting is false.", 409)


def handlers(runner: JobRunner) -> tuple[Handler[Any], ...]:
    """The runner's handlers for batches and for their documents (which only their batch runs)."""
    from ..server.jobs import Handler
    from ..server.operations import BatchDocumentJob, BatchJob

    driver = BatchDriver(runner)

    def child(op_id: str, job: BatchDocumentJob) -> None:
        """A child queued on its own (a runner that picks up every pending row): its batch's driver runs it."""

    return Handler(BatchJob, driver.run), Handler(BatchDocumentJob, child)


class BatchDriver:
    def __init__(self, runner: JobRunner) -> None:
        self.runner = runner
        self.store = runner.store

    @property
    def in_flight(self) -> int:
        """Documents read at once per batch: two per worker keeps the pool fed while others up/download."""
        return max(2, 2 * self.runner.workers)

    def _stopping(self) -> bool:
        return bool(getattr(self.runner, "_stopping", False))

    def run(self, op_id: str, job: BatchJob) -> None:
        from ..server.operations import BATCH_DOCUMENT, BatchDocumentJob
        from ..server.store import Operation

        if not self.store.children(op_id):
            try:
                names = list_documents(job.source_url, job.prefix, job.file_list, self.runner.policy)
            except PerceptError as exc:
                self.store.mark_failed(op_id, StoredError.from_exception(exc))
                return
            now = time.time()
            kids = [
                Operation(
                    id=self.store.new_id(),
                    kind=BATCH_DOCUMENT,
                    model_id=self._batch_model(op_id),
                    status=WAITING,
                    created=now + i * 1e-6,  # listing order, which children() keeps
                    updated=now,
                    params=BatchDocumentJob(name=name).to_params(),
                    parent_id=op_id,
                )
                for i, name in enumerate(names)
            ]
            with self.store.db.transaction():  # 10,000 rows, one commit
                if self.store.get(op_id) is None:
                    return  # deleted while listing
                self.store.create_many(kids)
                self.store.mark_running(op_id)
            del kids
        else:
            self.store.mark_running(op_id)
        todo = [(c.id, str(c.params.get("name", ""))) for c in self.store.children(op_id) if c.status == WAITING]
        self._drain(op_id, job, todo)
        if self._stopping() or self.store.get(op_id) is None:
            return  # resumes on the next start / was deleted
        if self.store.child_counts(op_id).get(WAITING):
            log.warning("batch %s: documents left waiting; they resume on the next start", op_id)
            return
        self.store.mark_succeeded(op_id, Document(pages=[]))

    def _batch_model(self, op_id: str) -> str:
        op = self.store.get(op_id)
        return op.model_id if op is not None else ""

    def _drain(self, op_id: str, job: BatchJob, todo: list[tuple[str, str]]) -> None:
        """Run the children with at most ``in_flight`` at once: the next starts only when one ends."""
        from ..server.operations import ReadJob

        read_job = ReadJob.from_params(job.read)
        model_id = self._batch_model(op_id)
        pending = iter(todo)
        with ThreadPoolExecutor(self.in_flight, thread_name_prefix="percept-batch") as pool:
            running: set[Future[None]] = set()
            while True:
                while len(running) < self.in_flight and not self._stopping():
                    item = next(pending, None)
                    if item is None:
                        break
                    if self.store.get(op_id) is None:  # deleted: cancel the rest
                        pending = iter(())
                        break
                    running.add(pool.submit(self._document, op_id, *item, job, read_job, model_id))
                if not running:
                    return
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    if future.exception() is not None:
                        log.error("batch %s: a document crashed: %r", op_id, future.exception())

    def _document(self, op_id: str, child_id: str, name: str, job: BatchJob, read_job: ReadJob, model_id: str) -> None:
        created = time.time()
        target = result_name(name, job.prefix if job.file_list is None else "", job.result_prefix)
        try:
            with GuardedClient(self.runner.policy) as client:
                if not job.overwrite:
                    there = self._results(job, client).metadata(target)
                    if there is not None and there.get(BATCH_META) != op_id:  # ours: written before a crash
                        self.store.mark_failed(child_id, skipped_error(target))
                        return
                source = BlobUrl(job.source_url, name, self.runner.policy, self.runner.limits.max_document_bytes)
                with source.open_local() as path:
                    doc = self.runner.read(Path(path), read_job)
                body = result_file(
                    doc,
                    api_version=job.version,
                    model_id=model_id,
                    string_index_type=read_job.string_index_type,
                    created=created,
                    updated=time.time(),
                )
                del doc
                self._results(job, client).upload(target, body, metadata={BATCH_META: op_id})
        except OutboundError as exc:  # the result container
            self.store.mark_failed(child_id, StoredError.from_exception(storage_error(exc, "The result container")))
            return
        except Exception as exc:
            if self._stopping():  # cut short by a shutdown: it stays waiting and is redone on restart
                return
            if isinstance(exc, PerceptError):
                self.store.mark_failed(child_id, StoredError.from_exception(exc))
            else:
                log.exception("batch document %s failed", name)
                code = exc.errors[0].code if isinstance(exc, PagesFailed) else type(exc).__name__
                self.store.mark_failed(child_id, StoredError.internal(f"Processing failed: {code}"))
            return
        self.store.mark_succeeded(child_id, Document(pages=[]))  # only after the result is in the container

    @staticmethod
    def _results(job: BatchJob, client: GuardedClient) -> BlobContainer:
        """The result container, for one request's worth of time."""
        return BlobContainer(job.result_url, client, deadline=time.monotonic() + RESULT_SECONDS)
