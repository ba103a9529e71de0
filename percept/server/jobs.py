"""Run accepted operations: a persisted queue drained by a few drivers over one pool of worker processes.

The event loop never does document work. Each operation's driver runs in a thread, and the page work it
spreads runs in the shared process pool, so a long document shares the cores with everyone else's pages
instead of blocking them. On start every operation still pending in the store is queued again: an operation
accepted before a crash completes after the restart. Before that, start-up recovery gives a model left
``creating`` without an operation a new one, and deletes the files a crash left that nothing needs.

An operation runs only under this instance's lease on it (``OperationStore.claim``), renewed while it runs. One
accepted here is claimed at once; a claim loop also takes pending operations whose lease is free or lapsed, so
with several instances on one database, one that dies has its work finished by another. On SQLite (one server)
start-up frees every lease, as nobody else can hold one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic

from pydantic import ValidationError

from ..batch.driver import handlers as batch_handlers
from ..config import Limits, ReadOptions
from ..custom.registry import CREATING, INVALID, ModelRecord, ModelRegistry
from ..custom.training import compose_model, copy_model, train_model, training_error
from ..errors import PerceptError, StoredError, WorkerCrashed
from ..executors import PageExecutor, page_executor
from ..io.http import UrlPolicy
from ..model import Document
from ..pipeline import PagesFailed, read_document
from ..source import DocumentRef, LocalFile
from .operations import TRAIN, J, ReadJob, TrainJob
from .store import PENDING, Operation, OperationStore

__all__ = ["TRAIN", "Handler", "JobRunner", "stored_error"]

log = logging.getLogger("percept.jobs")
PURGE_INTERVAL_S = 60.0
SHARED_SWEEP_AGE_S = 3600.0  # with other instances on the data directory, younger files may be theirs in flight


def stored_error(exc: PerceptError) -> StoredError:
    """The stored error of a failed operation: outer code, inner code and message, as the APIs report them."""
    return StoredError.from_exception(exc)


def _internal_error(message: str) -> StoredError:
    return StoredError.internal(message)


@dataclass(frozen=True, slots=True)
class Handler(Generic[J]):
    """How one operation kind runs: its job type, and the blocking function (run in a driver thread) that takes
    the operation's id and its typed job."""

    job_type: type[J]
    run: Callable[[str, J], None]


class JobRunner:
    def __init__(
        self,
        store: OperationStore,
        options: ReadOptions,
        limits: Limits,
        *,
        models: ModelRegistry | None = None,
        policy: UrlPolicy | None = None,
        training_root: str = "",
        lease_seconds: float = 30.0,
        claim_interval: float = 1.0,
    ) -> None:
        self.store = store
        self.lease_seconds = lease_seconds
        self.claim_interval = claim_interval
        self.models = models
        self.policy = policy or UrlPolicy()
        self.training_root = training_root
        self.options = options
        self.limits = limits
        self.workers = options.worker_count()
        self.executor: PageExecutor = page_executor(self.workers)
        self._stopping = False
        # Two documents per core in flight keeps the pool fed while one driver assembles its result.
        self.drivers = ThreadPoolExecutor(max_workers=2 * self.workers, thread_name_prefix="percept-driver")
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self._queued: set[str] = set()  # in the queue or running here
        self._running: set[str] = set()  # under this instance's lease, in a driver
        self._wake = asyncio.Event()  # a driver came free: look for unclaimed work now
        self._tasks: list[asyncio.Task[None]] = []
        self._finished: dict[str, asyncio.Event] = {}
        # One handler per operation kind; _run dispatches through it.
        self.handlers: dict[str, Handler[Any]] = {
            handler.job_type.kind: handler
            for handler in (*batch_handlers(self), Handler(ReadJob, self._execute), Handler(TrainJob, self._train))
        }

    @property
    def consumers(self) -> int:
        return 2 * self.workers

    async def start(self) -> None:
        await asyncio.to_thread(self.recover)
        resumed = await asyncio.to_thread(self.store.claim_next, self.consumers, self.lease_seconds)
        for op_id in resumed:
            self.submit(op_id)
        if resumed:
            log.info("resuming %d operations accepted before the last stop", len(resumed))
        self._tasks = [asyncio.create_task(self._consume()) for _ in range(self.consumers)]
        self._tasks += [asyncio.create_task(t) for t in (self._purge(), self._claim_loop(), self._renew_loop())]

    def recover(self) -> None:
        """Blocking, start-up only (before any request): repair what a crash can leave half done.

        A model ``creating`` with no pending operation (a data directory from a version that committed the two
        separately, or a ``percept train`` killed midway) gets a new operation in the same transaction that
        points the model at it, so it is built after all. Then files no operation or model needs are deleted.
        On SQLite this server is the only one (the data directory is locked), so every lease a dead server left is
        freed. On a shared database leases lapse by themselves, and only files older than an hour that no row
        needs are deleted (another instance may be writing younger ones).
        """
        shared = self.store.db.shared
        if not shared:
            self.store.release()
        if self.models is not None:
            building = {op.model_id for op in self.store.pending() if op.kind == TRAIN}
            for rec in self.models.list():
                if rec.status != CREATING or rec.id in building:
                    continue
                job = TrainJob(model_id=rec.id)
                op = Operation(id=self.store.new_id(), kind=job.kind, model_id=rec.id, params=job.to_params())
                with self.store.db.transaction():
                    self.store.create(op)
                    self.models.set_operation(rec.id, op.id)
                log.info("model %s was left creating without an operation; building it again", rec.id)
            self.models.sweep(SHARED_SWEEP_AGE_S if shared else 0.0)
        self.store.sweep(SHARED_SWEEP_AGE_S if shared else 0.0)

    async def stop(self) -> None:
        """Stop taking work. Operations cut short stay pending in the store and resume on the next start."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.store.db.shared and self._running:  # another instance takes them over now, not after the lease
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.store.release, set(self._running))
        self.drivers.shutdown(wait=False, cancel_futures=True)
        self.executor.shutdown(wait=False, cancel_futures=True)

    def submit(self, op_id: str) -> None:
        """Queue an operation to run here (once it is claimed); one already queued or running is left be."""
        self._finished.setdefault(op_id, asyncio.Event())
        if op_id not in self._queued:
            self._queued.add(op_id)
            self.queue.put_nowait(op_id)

    async def wait(self, op_id: str, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for a queued operation to finish (long-poll for GETs)."""
        event = self._finished.get(op_id)
        if event is not None and timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)

    def _done(self, op_id: str) -> None:
        event = self._finished.pop(op_id, None)
        if event is not None:
            event.set()

    def _options(self, job: ReadJob) -> ReadOptions:
        overrides = job.options
        return self.options.model_copy(update=overrides) if overrides else self.options

    @property
    def pool(self) -> PageExecutor:
        """The executor page work runs on (its old name)."""
        return self.executor

    def read(self, path: Path, job: ReadJob) -> Document:
        """Blocking: read with the shared executor; a crashed worker renews it (a new pool) and gives the document
        one more try.

        A document that crashes a worker twice fails on its own instead of taking the server's pool down. Pages
        that failed (left empty, in ``Document.errors``) are logged; if every page failed, this raises.
        """
        for attempt in (1, 2):
            try:
                doc = self._read_with(path, job)
            except WorkerCrashed:
                if self._stopping or attempt == 2:
                    raise
                self.executor.renew()
                continue
            for error in doc.errors:  # read in part: it succeeds with these pages left empty
                log.warning("%s: page %d failed: %s: %s", path.name, error.page_number, error.code, error.message)
            return doc
        raise AssertionError("unreachable")

    def _read_with(self, path: Path, job: ReadJob) -> Document:
        """Blocking: read a document with the shared executor (call from a driver thread), through every document
        stage asked for, the custom model's included.

        Documents validated on POST carry their type and page count, so they are not opened twice.
        """
        source: Path | DocumentRef = path
        if job.mime_type is not None and job.page_count is not None:
            source = DocumentRef(LocalFile(str(path)), job.mime_type, job.page_count)
        return read_document(
            source,
            pages=job.pages,
            options=self._options(job),
            limits=self.limits,
            executor=self.executor,
            content_format=job.content_format,
            key_value_pairs=job.key_value_pairs,
            model_id=job.custom_model,
            models=self.models,
            v3=job.family == "v3",
        )

    async def read_now(self, path: Path, job: ReadJob) -> Document:
        """For synchronous APIs (``/ocr``): the same work, awaited without blocking the loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.drivers, self.read, path, job)

    async def _consume(self) -> None:
        while True:
            op_id = await self.queue.get()
            self._running.add(op_id)
            try:
                await self._run(op_id)
            except Exception:  # a bug must not kill the consumer
                log.exception("operation %s crashed", op_id)
            finally:
                self._running.discard(op_id)
                self._queued.discard(op_id)
                self._done(op_id)
                self._wake.set()

    async def _run(self, op_id: str) -> None:
        # The claim and the store writes commit and fsync: they run in the driver thread with the work, never on
        # the event loop.
        await asyncio.get_running_loop().run_in_executor(self.drivers, self._drive, op_id)

    def _drive(self, op_id: str) -> None:
        """Blocking: claim the operation (skipped when it is finished or another live instance runs it), then
        run it through its kind's handler."""
        op = self.store.claim(op_id, self.lease_seconds)
        if op is None or op.status not in PENDING:
            return
        handler = self.handlers.get(op.kind)
        if handler is None:  # written by a later version, or a kind since retired
            self.store.mark_failed(op_id, _internal_error(f"Unknown operation kind: {op.kind}"))
            return
        try:
            job = handler.job_type.from_params(op.params)
        except ValidationError as exc:  # a row no job of its kind can be read from
            log.error("operation %s has unreadable parameters: %s", op_id, exc)
            self.store.mark_failed(op_id, _internal_error("The operation's parameters are invalid."))
            return
        handler.run(op_id, job)

    async def _claim_loop(self) -> None:
        """Take pending operations no live instance holds (another's lease lapsed, or accepted elsewhere and not
        yet claimed) while drivers are free: every ``claim_interval``, and at once when a driver comes free."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.claim_interval)
            self._wake.clear()
            free = self.consumers - self.queue.qsize() - len(self._running)
            if free <= 0:
                continue
            try:
                ids = await asyncio.to_thread(self.store.claim_next, free, self.lease_seconds, set(self._queued))
            except Exception:
                log.exception("looking for unclaimed operations failed")
                continue
            for op_id in ids:
                self.submit(op_id)

    async def _renew_loop(self) -> None:
        """Renew this instance's leases, three times per lease, while their operations run."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            running = set(self._running)
            try:
                held = await asyncio.to_thread(self.store.renew, running, self.lease_seconds)
            except Exception:
                log.exception("renewing leases failed")
                continue
            for op_id in running - held:
                if op_id in self._running:  # not finished meanwhile: it lapsed and another instance took it
                    log.warning("lost the lease on operation %s; its result is left to the new holder", op_id)

    def _train(self, op_id: str, job: TrainJob) -> None:
        """A model operation (build, compose or copy): its model ends ready or invalid, and the operation
        succeeded or failed with the model's first error (what the v3 operations API shows)."""
        assert self.models is not None
        rec = self.models.get(job.model_id)
        if rec is None:  # deleted while queued
            self.store.mark_failed(op_id, _internal_error("The model was deleted before training."))
            return
        self.store.mark_running(op_id)
        # A model already built had its operation cut short by a crash after the build: only the ending is redone.
        if rec.status == CREATING:
            try:
                self._build(rec)
            except Exception as exc:
                if self._stopping:
                    log.info("training %s interrupted by shutdown; it resumes on the next start", rec.id)
                    return
                log.exception("training %s failed", rec.id)
                error = {"code": "InternalServerError", "message": f"Training failed: {type(exc).__name__}"}
                self.models.finish(rec.id, INVALID, {"trainingDocuments": [], "errors": [error]}, None, None)
        done = self.models.get(rec.id)
        if done is None:
            self.store.mark_failed(op_id, _internal_error("The model was deleted during training."))
            return
        if done.status == INVALID:
            self.store.mark_failed(op_id, training_error(done.train_result))
            if rec.params.get("family") == "v3":  # a failed v3 build leaves no model behind, as in Azure
                self.models.delete(rec.id)
            return
        self.store.mark_succeeded(op_id, Document(pages=[]))

    def _build(self, rec: ModelRecord) -> None:
        assert self.models is not None
        action = rec.params.get("action", "train")
        if action == "compose":
            compose_model(rec, self.models)
        elif action == "copy":
            copy_model(rec, self.models)
        else:
            layout = ReadJob(options={"layout": True})
            train_model(
                rec,
                self.models,
                read=lambda path: self.read(path, layout),
                policy=self.policy,
                local_root=self.training_root,
            )

    def _execute(self, op_id: str, job: ReadJob) -> None:
        path = self.store.input_path(op_id)
        if not path.exists():
            self.store.mark_failed(op_id, _internal_error("The submitted document was lost."))
            return
        self.store.mark_running(op_id)
        try:
            self.store.mark_succeeded(op_id, self.read(path, job))
        except Exception as exc:
            if self._stopping:  # cut short by a shutdown, not failed: it stays pending and resumes on restart
                log.info("operation %s interrupted by shutdown; it resumes on the next start", op_id)
                return
            if isinstance(exc, PerceptError):
                self.store.mark_failed(op_id, stored_error(exc))
            else:
                log.exception("operation %s failed", op_id)
                # Every page failed: reported as the first page's failure, as when one exception failed it all.
                name = exc.errors[0].code if isinstance(exc, PagesFailed) else type(exc).__name__
                self.store.mark_failed(op_id, _internal_error(f"Processing failed: {name}"))

    async def _purge(self) -> None:
        while True:
            try:
                n = await asyncio.to_thread(self.store.purge_expired)  # file deletes stay off the loop
                if n:
                    log.info("deleted %d expired results", n)
            except Exception:
                log.exception("purge failed")
            await asyncio.sleep(PURGE_INTERVAL_S)
