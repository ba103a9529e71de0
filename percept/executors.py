"""Where page work runs: the executor interface the driver uses, and the local process pool behind it today.

The driver (:func:`percept.pipeline.read_document`) only submits page tasks and waits on their futures; the worker
code (:func:`percept.worker.run_task`) only reads the task it is given. Neither cares what runs the task, so a
scale-out executor is one more class implementing :class:`PageExecutor`.

A Ray executor, say, would:

- ``submit``: run ``run_task`` as a remote task (``ray.remote(run_task).remote(task)``) and hand back a
  ``concurrent.futures.Future`` for it (``ObjectRef.future()``); raise :class:`~percept.errors.WorkerCrashed` if
  the cluster cannot take it. Its workers share no filesystem with the driver, so the task's document must
  come from a source they can reach (``InMemory`` bytes, or a blob URL they download), not a ``LocalFile``.
- ``crashed``: say whether a future's error is Ray's for a lost worker or node (``WorkerCrashedError``,
  ``NodeDiedError``), as opposed to an error the page work itself raised (Ray's ``RayTaskError`` wrapping a
  :class:`~percept.errors.PerceptError` must be unwrapped to it, so a bad document still fails as one).
- ``renew``: nothing, or reconnect, where Ray restarts workers itself.
- ``shutdown``: cancel what it submitted and let go of the cluster.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from . import lifeline
from .config import ServerSettings
from .errors import WorkerCrashed
from .worker import PageResult, PageTask, init_worker, run_task

log = logging.getLogger("percept.executors")


class PageExecutor(Protocol):
    """What runs page tasks for the driver."""

    def submit(self, task: PageTask) -> Future[list[PageResult]]:
        """Start ``run_task(task)`` somewhere; raise :class:`~percept.errors.WorkerCrashed` if it cannot start."""
        ...

    def crashed(self, error: BaseException) -> bool:
        """Whether an error a future raised means the worker died (not that the document or a page is bad)."""
        ...

    def renew(self) -> None:
        """After a crash, make the executor usable again; once, however many drivers saw the same crash."""
        ...

    def shutdown(self, *, wait: bool = True, cancel_futures: bool = False) -> None: ...


def make_executor(workers: int) -> ProcessPoolExecutor:
    """A pool of page workers; forkserver keeps it safe to create from a threaded server. Its forkserver and workers
    end with this process however it ends, and outlive a Ctrl-C or SIGTERM to the group (see :mod:`.lifeline`)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["percept._forkserver", "percept.worker"])
    lifeline.start_forkserver()
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_worker)


class LocalProcessExecutor:
    """Page work in a pool of this machine's worker processes (:func:`make_executor`), which share the driver's
    filesystem. A pool a worker died in is broken; :meth:`renew` swaps it for a fresh one.

    ``pool`` wraps an existing executor (``concurrent.futures``, a process or thread pool) instead of making one.
    """

    def __init__(self, workers: int, pool: Executor | None = None) -> None:
        self.workers = workers
        self._pool: Executor = pool if pool is not None else make_executor(workers)
        self._failed: Executor | None = None  # the pool that could not start a worker, if it is still current
        self._lock = threading.Lock()

    def submit(self, task: PageTask) -> Future[list[PageResult]]:
        pool = self._pool
        try:
            return pool.submit(run_task, task)
        except OSError as exc:  # the pool could not start a worker process
            self._failed = pool
            raise WorkerCrashed(f"A worker process could not be started: {exc}") from None

    def crashed(self, error: BaseException) -> bool:
        return isinstance(error, BrokenProcessPool)

    @property
    def broken(self) -> bool:
        """Whether the current pool lost a worker, or could not start one."""
        pool = self._pool
        return pool is self._failed or bool(getattr(pool, "_broken", False))

    def renew(self) -> None:
        """Swap a broken pool for a fresh one (once, however many drivers saw it break)."""
        with self._lock:
            if self.broken:
                log.warning("a worker process died; starting a new pool")
                broken, self._pool = self._pool, make_executor(self.workers)
                broken.shutdown(wait=False, cancel_futures=True)

    def shutdown(self, *, wait: bool = True, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def page_executor(workers: int, settings: ServerSettings | None = None) -> PageExecutor:
    """The executor ``PERCEPT_EXECUTOR`` names: ``local`` (a :class:`LocalProcessExecutor` of ``workers``) or
    ``ray`` (:class:`~percept.executors_ray.RayExecutor`: a private instance of ``workers`` CPUs, or the cluster at
    ``PERCEPT_RAY_ADDRESS``)."""
    settings = settings or ServerSettings()
    if settings.executor == "ray":
        from .executors_ray import RayExecutor

        return RayExecutor(workers, settings.ray_address)
    return LocalProcessExecutor(workers)
