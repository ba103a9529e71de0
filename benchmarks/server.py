"""Throughput and latency through the server, against the library call in the same run.

Eight concurrent clients each submit a one-page document (Document Intelligence 2024-11-30 prebuilt-read over
loopback) and poll for the result; the baseline is eight threads calling ``read_document`` on one warm worker
pool in this process, which is what the server does behind HTTP. Overhead = 1 - server rate / library rate.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from common import ROOT, dense_pdf, table

CLIENTS = 8
ANALYZE = "/documentintelligence/documentModels/prebuilt-read:analyze?api-version=2024-11-30"


def _library(data: bytes, n: int) -> tuple[float, list[float]]:
    from percept import read_document
    from percept.pipeline import make_executor

    with make_executor(os.cpu_count() or 1) as pool:
        read_document(data, executor=pool)  # warm the workers, as a running server is

        def one(_: int) -> float:
            t = time.perf_counter()
            read_document(data, executor=pool)
            return time.perf_counter() - t

        start = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as clients:
            latencies = list(clients.map(one, range(n)))
        return n / (time.perf_counter() - start), latencies


def _server(endpoint: str, key: str, data: bytes, n: int) -> tuple[float, list[float]]:
    import httpx

    headers = {"Ocp-Apim-Subscription-Key": key}

    def one(_: int) -> float:
        with httpx.Client(timeout=120) as client:
            t = time.perf_counter()
            location = client.post(endpoint + ANALYZE, headers=headers, content=data).headers["operation-location"]
            while True:
                body = client.get(location, headers=headers).json()
                if body["status"] in ("succeeded", "failed"):
                    assert body["status"] == "succeeded", body
                    return time.perf_counter() - t
                time.sleep(0.1)

    one(0)  # warm
    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as clients:
        latencies = list(clients.map(one, range(n)))
    return n / (time.perf_counter() - start), latencies


def _peak_tree_rss(pid: int, stop: threading.Event, out: list[float]) -> None:
    import psutil

    proc = psutil.Process(pid)
    peak = 0.0
    while not stop.is_set():
        try:
            total = sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])
            peak = max(peak, total / 2**20)
        except psutil.Error:
            pass
        stop.wait(0.05)
    out.append(peak)


def _cpu(pid: int) -> float:
    """CPU seconds used so far by one process itself (not its workers)."""
    import psutil

    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> str:
    from server_harness import KEY, start_server

    image = (ROOT / "examples" / "sample.png").read_bytes()
    pdf = dense_pdf(1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="percept-bench-") as tmp:
        srv = start_server(Path(tmp) / "data")
        try:
            for name, data, n in (("one-page image (OCR)", image, 48), ("one-page digital PDF", pdf, 400)):
                lib_rate, lib_lat = _library(data, n)
                stop, peak = threading.Event(), []
                sampler = threading.Thread(target=_peak_tree_rss, args=(srv.process.pid, stop, peak))
                sampler.start()
                server_cpu0, client_cpu0 = _cpu(srv.process.pid), _cpu(os.getpid())
                srv_rate, srv_lat = _server(srv.endpoint, KEY, data, n)
                server_cpu = (_cpu(srv.process.pid) - server_cpu0) / (n + 1)
                client_cpu = (_cpu(os.getpid()) - client_cpu0) / (n + 1)
                stop.set()
                sampler.join()
                rows.append(
                    [
                        name,
                        n,
                        lib_rate,
                        srv_rate,
                        f"{100 * (1 - srv_rate / lib_rate):.1f}%",
                        _pct(lib_lat, 50),
                        _pct(srv_lat, 50),
                        _pct(srv_lat, 95),
                        _pct(srv_lat, 99),
                        peak[0],
                        1000 * server_cpu,
                        1000 * client_cpu,
                    ]
                )
        finally:
            srv.stop()
    return "\n".join(
        [
            "## Server",
            "",
            f"{CLIENTS} concurrent clients over loopback (DI 2024-11-30 prebuilt-read: POST, then GET every 100 ms "
            "until done) against the library call from 8 threads on one warm worker pool in the same run. "
            "The CPU columns show where the overhead goes on this 2-core machine: the server process itself (HTTP, "
            "persistence, JSON) and the client threads generating the load share the cores with the OCR workers.",
            "",
            table(
                [
                    "document",
                    "requests",
                    "library docs/s",
                    "server docs/s",
                    "overhead",
                    "library p50 s",
                    "server p50 s",
                    "server p95 s",
                    "server p99 s",
                    "server peak RSS MiB (with workers)",
                    "server process CPU ms/doc",
                    "load generator CPU ms/doc",
                ],
                rows,
            ),
            "",
        ]
    )


if __name__ == "__main__":
    print(main())
