"""A real ``percept serve`` process on loopback, and a local file server that records what it was asked."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psutil

KEY = "test-key-1"
SECOND_KEY = "test-key-2"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    endpoint: str
    data_dir: Path
    log: Path

    def kill(self) -> None:
        """kill -9 of the whole group: no shutdown hooks, no flush."""
        self._end(signal.SIGKILL)

    def kill_server_only(self) -> None:
        """kill -9 of the server's pid alone, as the OOM killer does: its children get no signal."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM to the group, as Ctrl-C and systemd do: the server stops gracefully."""
        self._end(signal.SIGTERM)

    def _end(self, sig: signal.Signals) -> None:
        """Signal the group and wait until the server and every process it started are gone (Tesseract runs in its
        own session, so descendants are looked up too); one still alive 10 s later is killed and fails the test."""
        family = descendants(self.process.pid)
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        left = wait_gone([*family, *group(self.process.pid)], 10)
        for proc in left:
            proc.kill()
        assert not left, f"processes outlived the server {self.process.pid}: {describe(left)}"


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def group(pgid: int) -> list[psutil.Process]:
    """The live members of a process group (its leader may be gone)."""
    members = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                members.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


def alive(proc: psutil.Process) -> bool:
    """Running and not a zombie (an orphan's exit status may wait for a reaper that never comes)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """The processes still alive after up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    left = [p for p in procs if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [p for p in left if alive(p)]
    return left


def describe(procs: list[psutil.Process]) -> str:
    out = []
    for proc in procs:
        try:
            out.append(f"{proc.pid} {' '.join(proc.cmdline())[:160]}")
        except psutil.Error:
            out.append(f"{proc.pid} (gone)")
    return "; ".join(out)


def start_server(data_dir: Path, **env: str) -> Server:
    port = free_port()
    log = data_dir.parent / f"server-{port}.log"
    environment = {
        **os.environ,
        "PERCEPT_API_KEYS": f"{KEY},{SECOND_KEY}",
        "PERCEPT_DATA_DIR": str(data_dir),
        "PERCEPT_URL_ALLOW": "localhost",
        "PERCEPT_STORAGE_ALLOW": "127.0.0.1",  # Azurite, on a port chosen at random
        **env,
    }
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "percept.cli", "serve", "--port", str(port)],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            if httpx.get(endpoint + "/health", timeout=1).status_code == 200:
                return Server(process, endpoint, data_dir, log)
        except httpx.HTTPError:
            time.sleep(0.1)
    Server(process, endpoint, data_dir, log).kill()
    raise RuntimeError(f"server did not start: {log.read_text()}")


@dataclass
class FileServer:
    """Serves fixed documents and redirects on 127.0.0.1; ``hits`` lists every path it was asked for."""

    port: int
    files: dict[str, bytes] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)


@contextmanager
def file_server() -> Iterator[FileServer]:
    state = FileServer(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits.append(self.path)
            if self.path in state.redirects:
                self.send_response(302)
                self.send_header("Location", state.redirects[self.path])
                self.end_headers()
            elif self.path in state.files:
                body = state.files[self.path]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_response(404)
                self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = httpd.server_address[1]
    with serving(httpd):
        yield state


@contextmanager
def serving(httpd: ThreadingHTTPServer) -> Iterator[None]:
    """Serve ``httpd`` from a daemon thread for the block, then shut it down and close its socket."""
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        httpd.shutdown()
        httpd.server_close()


def cv_read(client: Any, stream: Any) -> Any:
    """Computer Vision 3.2 Read through the official SDK, as its samples do: ``read_in_stream``, the operation id
    from ``Operation-Location``, then ``get_read_result`` every 0.5 s until it is done; returns the last result."""
    from azure.cognitiveservices.vision.computervision.models import OperationStatusCodes

    response = client.read_in_stream(stream, raw=True)
    operation_id = response.headers["Operation-Location"].split("/")[-1]
    for _ in range(120):
        result = client.get_read_result(operation_id)
        if result.status not in (OperationStatusCodes.not_started, OperationStatusCodes.running):
            return result
        time.sleep(0.5)
    raise AssertionError(f"read {operation_id} did not finish")


def poll_done(url: str, headers: dict[str, str], tries: int = 600) -> dict:
    """GET ``url`` every 0.5 s until the operation (or v2 model) has finished; returns the last body."""
    for _ in range(tries):
        body = httpx.get(url, headers=headers, timeout=30).json()
        status = body.get("status") or body.get("modelInfo", {}).get("status")
        if status in ("succeeded", "failed", "ready", "invalid"):
            return body
        time.sleep(0.5)
    raise AssertionError(f"{url} did not finish")
