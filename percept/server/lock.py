"""One Percept process writing a data directory at a time.

Two servers on one directory corrupt each other: the second deletes the first's uploads in flight, re-runs its
operations and overwrites their results. So the directory is locked (``flock`` on ``server.lock`` inside it)
before anything in it is touched, and a second server or ``percept train`` is refused with the holder's pid. The
kernel drops the lock when its holder dies however it dies, so a stale lock file never blocks a restart; the file
is never deleted (deleting it would let two processes lock two different files). The descriptor is not inherited
by child processes, which must not keep a dead server's directory locked.

Within one process the lock is counted, so ``percept serve`` can take it before the app starts (to refuse with one
line, not a traceback) and the app's lifespan take it again for whoever runs it without the CLI.

With a database several servers share (``PERCEPT_DATABASE_URL`` naming PostgreSQL), several servers may use one
data directory: leases in the database say who runs what, start-up spares files another instance may be writing,
and the lock is taken shared. Shared holders coexist; a server on the directory's SQLite file (exclusive) is
still refused while they run, and they while it does.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock, as before
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = "server.lock"


class DataDirInUse(RuntimeError):
    """Another process holds the data directory."""

    def __init__(self, data_dir: Path, holder: str) -> None:
        super().__init__(f"the data directory {data_dir} is in use by {holder}; stop it or use another data directory")
        self.data_dir = data_dir
        self.holder = holder


@dataclass
class _Held:
    fd: int
    count: int


_held: dict[Path, _Held] = {}
_guard = threading.Lock()


class DataDirLock:
    """``with DataDirLock(data_dir, "percept serve"):`` holds the directory, creating it if needed. ``shared``
    defaults to whether ``PERCEPT_DATABASE_URL`` names a database several servers can share."""

    def __init__(
        self, data_dir: str | os.PathLike[str], role: str = "percept serve", shared: bool | None = None
    ) -> None:
        self.path = Path(os.path.realpath(data_dir))
        self.role = role
        if shared is None:
            from ..config import ServerSettings
            from ..storage import is_shared

            shared = is_shared(ServerSettings(data_dir=str(data_dir)).database_url)
        self.shared = shared
        self._acquired = False

    def acquire(self) -> DataDirLock:
        with _guard:
            held = _held.get(self.path)
            if held is not None:
                held.count += 1
            else:
                _held[self.path] = _Held(self._lock_file(), 1)
            self._acquired = True
        return self

    def release(self) -> None:
        with _guard:
            if not self._acquired:
                return
            self._acquired = False
            held = _held[self.path]
            held.count -= 1
            if held.count == 0:
                del _held[self.path]
                os.close(held.fd)  # closing the only descriptor drops the lock

    def _lock_file(self) -> int:
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if fcntl is None:  # pragma: no cover
            return fd
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise DataDirInUse(self.path, holder) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)  # shared: the last holder to start is the one a refused server is told of
        os.pwrite(fd, f"{os.getpid()} {self.role}\n".encode(), 0)
        return fd

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def _holder(fd: int) -> str:
    """What the lock file says holds it ("percept serve (pid 123)"); the holder writes it just after locking."""
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    pid, _, role = text.partition(" ")
    if not pid.isdigit():
        return "another Percept process (pid unknown)"
    return f"{role or 'another Percept process'} (pid {pid})"
