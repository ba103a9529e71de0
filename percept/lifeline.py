"""Every process Percept starts ends when the process that started it does, however that one ends (kill -9 too).

The page pool is a chain: server → forkserver → workers → ``tesseract``. The standard library alone leaves the whole
chain running when the server is killed: each worker holds both ends of the pool's task queue, so it never reads
EOF, and every worker holds the forkserver's "alive" pipe, so the forkserver never reads EOF either. Two
mechanisms close the chain, each covering the other's blind spot:

- **The kernel** (Linux ``PR_SET_PDEATHSIG``, SIGKILL): the forkserver arms it against the server, each worker
  against the forkserver, each ``tesseract`` against its worker. It fires at once and needs no cooperation from a
  process busy in C code. It fires when the parent *thread* ends, so the forkserver is always started from
  :func:`start_forkserver`'s keeper thread, which lives as long as the server; and since a parent can die before
  the child arms it, each child re-checks ``getppid()`` afterwards and exits if it was already orphaned.
- **A pipe** (any POSIX system): each worker watches multiprocessing's parent sentinel, a pipe whose write end only
  the server holds; EOF means the server is gone, and the worker kills itself. The forkserver then exits too, by
  the standard library's own rule, once no process holds its alive pipe.

Where ``prctl`` is missing (not Linux) the kernel links are skipped and the pipe still ends the workers. The
forkserver and workers ignore SIGINT and SIGTERM: Ctrl-C and systemd signal the whole process group, and the
server then stops gracefully and ends its pool itself, leaving interrupted documents pending.
"""

from __future__ import annotations

import ctypes
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

# The server's pid, for the forkserver to check that it was not orphaned before it armed its death signal.
PARENT_ENV = "PERCEPT_LIFELINE_PARENT"
STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})
_PR_SET_PDEATHSIG = 1

# Set in the forkserver (and so inherited by every worker it forks): the pid workers arm their death signal against.
FORKSERVER_PID: int | None = None


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


_prctl = _load_prctl()


def die_with_parent(expected_parent: int) -> bool:
    """Have the kernel SIGKILL this process when its parent ends; False where that is not available.

    If the parent is already gone (this process was re-parented before it got here), exit now: the signal would
    never come."""
    if _prctl is None or _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return False
    if os.getppid() != expected_parent:
        os._exit(1)
    return True


def child_dies_with_us() -> Callable[[], None] | None:
    """A ``preexec_fn`` that ties a subprocess to this process (None where it cannot), for engine programs that
    keep their own session so a signal to the server's group does not cut a page short."""
    if _prctl is None:
        return None
    parent = os.getpid()

    def arm() -> None:  # runs between fork and exec: only a prebound C call and getppid
        die_with_parent(parent)

    return arm


class _Keeper:
    """A daemon thread that lives as long as the process and starts the forkserver, so the forkserver's death signal
    (tied to the thread that started it) fires only when the server itself ends."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, fn: Callable[[], Any]) -> Any:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="percept-forkserver-keeper", daemon=True)
                self._thread.start()
        if threading.current_thread() is self._thread:
            return fn()
        done: Future[Any] = Future()
        self._jobs.put((fn, done))
        return done.result()

    def _loop(self) -> None:
        while True:
            fn, done = self._jobs.get()
            try:
                done.set_result(fn())
            except BaseException as exc:
                done.set_exception(exc)


_keeper = _Keeper()


def start_forkserver() -> None:
    """Start (or check) multiprocessing's forkserver from the keeper thread, with SIGINT and SIGTERM blocked while
    it starts (a signal mask survives exec) so a Ctrl-C in that instant cannot kill it before it ignores them."""
    _keeper.run(_start_forkserver)


def _start_forkserver() -> None:
    from multiprocessing import forkserver, resource_tracker

    resource_tracker.ensure_running()  # first: it unblocks the stop signals in the calling thread when it is done
    if os.environ.get(PARENT_ENV) != str(os.getpid()):  # inherited from a parent Percept process, or unset
        os.environ[PARENT_ENV] = str(os.getpid())
    blocking = hasattr(signal, "pthread_sigmask")
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS) if blocking else None
    try:
        forkserver.ensure_running()
    finally:
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def arm_forkserver() -> None:
    """Run in the forkserver as it starts (``percept._forkserver`` is its first preload module)."""
    global FORKSERVER_PID
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # blocked by start_forkserver; now ignored instead
    parent = os.environ.get(PARENT_ENV, "")
    if parent.isdigit():
        die_with_parent(int(parent))
    FORKSERVER_PID = os.getpid()


def bind_worker() -> None:
    """Run in each pool worker as it starts: die with the forkserver (kernel) and with the server (pipe)."""
    import multiprocessing

    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    if FORKSERVER_PID is not None:
        die_with_parent(FORKSERVER_PID)
    parent = multiprocessing.parent_process()
    sentinel = getattr(parent, "sentinel", None)
    if isinstance(sentinel, int):
        threading.Thread(target=_die_when_closed, args=(sentinel,), name="percept-lifeline", daemon=True).start()


def _die_when_closed(sentinel: int) -> None:
    from multiprocessing.connection import wait

    wait([sentinel])  # readable only at EOF: the server, which alone holds the write end, is gone
    os.kill(os.getpid(), signal.SIGKILL)
