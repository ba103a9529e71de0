"""A real, throwaway PostgreSQL cluster (Debian's ``postgresql`` binaries) for the shared-state tests.

``initdb`` refuses to run as root, so under root the cluster belongs to a system user made for it
(``percept-test``); it lives in a fresh folder under the temporary directory, listens on 127.0.0.1 on a free port
only (no Unix socket), trusts local connections, and is stopped, with every process it started, at the end.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from needs import missing
from server_harness import descendants, free_port, group, wait_gone

USER = "percept-test"


def binaries() -> Path | None:
    """The folder holding initdb and postgres: Debian's newest /usr/lib/postgresql/*/bin, else the PATH's."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _run_as() -> str | None:
    """The user to run PostgreSQL as: None (ourselves) unless root, then ``percept-test``, made if missing."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
            check=True,
            capture_output=True,
        )
    return USER


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a cluster; yields a ``postgresql://`` URL of its ``postgres`` database (user ``percept``)."""
    bindir = binaries()
    if bindir is None:
        missing("PostgreSQL server binaries (initdb, postgres): apt-get install postgresql")
    try:
        import psycopg
    except ImportError:
        missing("the psycopg driver: pip install 'percept[postgres]'")
    user = _run_as()
    root = Path(tempfile.mkdtemp(prefix="percept-pg-"))
    data = root / "data"
    if user is not None:
        os.chown(root, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
    port = free_port()
    proc: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "percept", "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            user=user,
            cwd=root,
        )
        log = open(root / "postgres.log", "wb")  # noqa: SIM115 - closed below, after the server
        proc = subprocess.Popen(
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=",
                "-c",
                "fsync=off",  # a throwaway cluster: durability is the tests' own business, not its disk's
                "-c",
                "max_connections=200",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            user=user,
            cwd=root,
            start_new_session=True,
        )
        url = f"postgresql://percept@127.0.0.1:{port}/postgres"
        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(url, connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not start: {(root / 'postgres.log').read_text()}") from None
                time.sleep(0.2)
        yield url
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(root, ignore_errors=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Fast shutdown (SIGINT: sessions are cut, nothing waits for clients), then every process it had is gone."""
    members = [*descendants(proc.pid), *group(proc.pid)]
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    for left in wait_gone(members, 10):
        left.kill()


def new_database(url: str) -> str:
    """A fresh, empty database on the cluster at ``url``; its URL."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name
