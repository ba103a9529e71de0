"""A private, loopback-only Ray instance for one server, which ends with that server however it ends.

``ray.init()`` in the server itself would leave processes behind on a kill -9: the GCS and raylet die with their
parent (Ray arms their death signals), but the raylet's dashboard and runtime-env agents are re-parented and keep
retrying a GCS that is gone. So the instance is started by this keeper instead (``python -m percept.ray_head``),
in a session of its own, and the server connects to it by address:

- the keeper's stdin is a pipe only the server writes to: EOF (a graceful stop closes it, a kill -9 of the server
  or of its whole group closes it too) makes the keeper kill every process of its instance (its session: the
  keeper starts in a new one, and Ray's daemons and workers stay in it) and delete its files; the pages'
  Tesseract runs die with their workers (:func:`percept.lifeline.child_dies_with_us`);
- the keeper and its instance ignore the group's SIGINT and SIGTERM (their own session): the server stops first,
  cancelling its tasks, and then lets the keeper go.

Nothing listens beyond 127.0.0.1 (Ray takes its single-machine mode, ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``),
there is no dashboard, usage statistics are off, and every connection needs the instance's own token (Ray's
token authentication, ``RAY_AUTH_TOKEN``, which the server makes up and passes on; nothing is written to
``~/.ray``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

import psutil  # type: ignore[import-untyped]

# Environment for every Ray process of a local instance and for the driver that connects to it (read by Ray at
# import, so set before ``import ray``): no usage statistics, and every address on loopback.
LOCAL_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_usage_stats_enabled": "0",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_DISABLE_IMPORT_WARNING": "1",
}
START_TIMEOUT_S = 90.0


def instance_processes() -> list[psutil.Process]:
    """The live processes of this keeper's instance: its session (Ray's processes keep the session they were
    started in; their environments cannot tell them apart, as their process titles overwrite them) and its
    descendants, this process left out."""
    me = psutil.Process()
    found = {p.pid: p for p in me.children(recursive=True)}
    session = os.getsid(0)
    for proc in psutil.process_iter():
        try:
            if os.getsid(proc.pid) == session:
                found.setdefault(proc.pid, proc)
        except (OSError, psutil.Error):  # gone meanwhile
            continue
    found.pop(me.pid, None)
    return [p for p in found.values() if _alive(p)]


def _alive(proc: psutil.Process) -> bool:
    try:
        return bool(proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def reap(grace: float = 1.0) -> None:
    """SIGTERM every process of the instance, then SIGKILL what is left after ``grace`` seconds."""
    procs = instance_processes()
    for proc in procs:
        try:
            proc.terminate()
        except psutil.Error:
            continue
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for proc in alive + instance_processes():  # and any started meanwhile
        try:
            proc.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(alive, timeout=2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_head(num_cpus: int, temp_dir: str) -> str:
    """``ray start --head`` on loopback; its processes daemonize (ours to end). Returns the GCS address."""
    port = free_port()
    ray = os.path.join(os.path.dirname(sys.executable), "ray")
    command = [ray] if os.path.exists(ray) else [sys.executable, "-m", "ray.scripts.scripts"]
    started = subprocess.run(
        [
            *command,
            "start",
            "--head",
            f"--port={port}",
            f"--num-cpus={num_cpus}",
            "--node-ip-address=127.0.0.1",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={temp_dir}",
            "--log-style=record",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )
    if started.returncode != 0:
        raise RuntimeError(f"ray start failed ({started.returncode}): {started.stderr[-2000:]}")
    return f"127.0.0.1:{port}"


def main() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    num_cpus = int(sys.argv[1])
    os.environ.update(LOCAL_ENV)
    temp_dir = tempfile.mkdtemp(prefix="percept-ray-")
    try:
        print(json.dumps({"address": start_head(num_cpus, temp_dir)}), flush=True)
        while sys.stdin.buffer.read(65536):  # until EOF: the server let go of us, or is gone
            pass
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
    finally:
        reap()
        shutil.rmtree(temp_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
