"""Page work on Ray (``PERCEPT_EXECUTOR=ray``): a private local instance, or a cluster the server joins.

- ``PERCEPT_RAY_ADDRESS`` empty: the server starts its own loopback-only instance with one CPU per worker, through
  :mod:`percept.ray_head`, which ends it (every process, and its files) when the server ends, kill -9 included.
- ``auto`` or ``host:port`` or ``ray://host:port``: the server joins that cluster as a driver. Its nodes share no
  filesystem with the server, so documents travel to them as bytes (``InMemory``), and they need Percept and
  its engines installed in the same version.

A worker or node lost mid-task is Ray's to handle: the task is retried elsewhere (``max_retries``); only when the
retries run out does the driver see :class:`~percept.errors.WorkerCrashed`. An error the page work raised comes
back as itself (Ray's ``RayTaskError`` unwrapped), so a bad document fails with the same code as on the local pool.
At most two tasks per cluster CPU are in flight; ``submit`` waits for a slot beyond that.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
import threading
from concurrent.futures import Future
from dataclasses import replace
from functools import lru_cache
from typing import Any

from .errors import WorkerCrashed
from .ray_head import LOCAL_ENV
from .source import InMemory, LocalFile
from .worker import PageResult, PageTask, run_task

log = logging.getLogger("percept.executors.ray")

# Retries of a task whose worker or node was lost before Ray reports it crashed.
MAX_RETRIES = 3
HEAD_START_TIMEOUT_S = 120.0
_configured = False


def _configure_worker() -> None:
    """Once per Ray worker process: one thread for OpenCV and Tesseract (Ray provides the parallelism)."""
    global _configured
    if not _configured:
        os.environ["OMP_THREAD_LIMIT"] = "1"
        os.environ["OMP_NUM_THREADS"] = "1"
        import cv2

        cv2.setNumThreads(1)
        _configured = True


def run_page_task(task: PageTask) -> list[PageResult]:
    """The remote function: :func:`~percept.worker.run_task` in a configured worker."""
    _configure_worker()
    return run_task(task)


@lru_cache(maxsize=1)
def _remote() -> Any:
    import ray

    return ray.remote(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False)(run_page_task)


class LocalHead:
    """The keeper process of a private instance (:mod:`percept.ray_head`) and the address it serves on."""

    def __init__(self, num_cpus: int) -> None:
        env = {**os.environ, **LOCAL_ENV}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "percept.ray_head", str(num_cpus)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            start_new_session=True,  # out of the server's group: its SIGTERM must not end Ray before the server
        )
        assert self.process.stdout is not None
        line = _read_line(self.process, HEAD_START_TIMEOUT_S)
        reply = json.loads(line) if line.strip() else {"error": "the Ray head exited before it started"}
        if "address" not in reply:
            self.stop()
            raise RuntimeError(f"the local Ray instance could not start: {reply.get('error')}")
        self.address: str = reply["address"]

    def stop(self, timeout: float = 15.0) -> None:
        """Let the keeper go (EOF on its stdin): it ends the instance and exits."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("the Ray head did not stop in %.0f s", timeout)


def _read_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    return out[0].decode() if out else ""


class RayExecutor:
    """Page tasks as Ray tasks (see the module's docstring)."""

    def __init__(self, workers: int, address: str = "") -> None:
        self.workers = workers
        self.address = address
        self.head: LocalHead | None = None
        if not address:
            # Before ray is imported: the driver too stays on loopback, and shares the instance's token.
            os.environ.update({**LOCAL_ENV, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)})
            self.head = LocalHead(workers)
        import ray

        try:
            ray.init(
                address=self.head.address if self.head else address,
                logging_level=logging.ERROR,
                log_to_driver=False,
                ignore_reinit_error=True,
            )
        except Exception:
            if self.head:
                self.head.stop()
            raise
        resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
        cpus = int(resources.get("CPU", workers)) or workers
        self.shares_files = self.head is not None
        self.slots = threading.BoundedSemaphore(2 * cpus)
        self._refs: set[Any] = set()
        self._lock = threading.Lock()
        self._closed = False
        log.info("page work runs on Ray at %s (%d CPUs)", self.head.address if self.head else address, cpus)

    def submit(self, task: PageTask) -> Future[list[PageResult]]:
        if self._closed:
            raise WorkerCrashed("The Ray executor is shut down.")
        if not self.shares_files and isinstance(task.ref.source, LocalFile):
            task = replace(task, ref=replace(task.ref, source=InMemory(_file_bytes(task.ref.source.path))))
        self.slots.acquire()
        try:
            ref = _remote().remote(task)
        except Exception as exc:
            self.slots.release()
            raise WorkerCrashed(f"Ray could not take the task: {exc}") from None
        with self._lock:
            self._refs.add(ref)
        out: Future[list[PageResult]] = Future()
        out.set_running_or_notify_cancel()
        ref.future().add_done_callback(lambda inner: self._settle(ref, inner, out))
        return out

    def _settle(self, ref: Any, inner: Future[list[PageResult]], out: Future[list[PageResult]]) -> None:
        import ray.exceptions

        self.slots.release()
        with self._lock:
            self._refs.discard(ref)
        try:
            out.set_result(inner.result())
        except ray.exceptions.RayTaskError as exc:  # the page work raised: hand on what it raised
            cause = exc.cause
            out.set_exception(cause if isinstance(cause, BaseException) else exc)
        except BaseException as exc:
            out.set_exception(exc)

    def crashed(self, error: BaseException) -> bool:
        import ray.exceptions

        lost = (
            ray.exceptions.WorkerCrashedError,
            ray.exceptions.NodeDiedError,
            ray.exceptions.LocalRayletDiedError,
            ray.exceptions.ObjectLostError,
            ray.exceptions.RaySystemError,
            ray.exceptions.TaskCancelledError,
        )
        return isinstance(error, lost)

    def renew(self) -> None:
        """Nothing to swap: Ray replaces lost workers itself."""

    def shutdown(self, *, wait: bool = True, cancel_futures: bool = False) -> None:
        import ray

        if self._closed:
            return
        self._closed = True
        if cancel_futures:
            with self._lock:
                refs = list(self._refs)
            for ref in refs:
                try:
                    ray.cancel(ref, force=True)
                except Exception:
                    continue
        ray.shutdown()
        if self.head is not None:
            self.head.stop()


@lru_cache(maxsize=2)  # the documents being submitted now; bounded, as documents may be large
def _file_bytes(path: str) -> bytes:
    """A document's bytes for workers on other nodes (read once per document while its pages are submitted)."""
    with open(path, "rb") as fh:
        return fh.read()
