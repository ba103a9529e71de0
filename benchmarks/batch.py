"""Batch analysis (DI 2024-11-30 ``:analyzeBatch``) end to end, and what a batch costs per document against the
plain analyze API in the same run.

For each N: N distinct one-page digital PDFs are uploaded to a real Azurite container (16 parallel uploads), a
fresh ``percept serve`` gets one ``:analyzeBatch`` (prebuilt-read) and is polled until it is done; the result
container must then hold N results. Reported: documents/s end to end (POST to ``succeeded``), the time until the
batch's documents are listed and their child rows exist (the first poll that shows them), and the peak RSS of the
server with its worker processes (psutil, every 50 ms) against its RSS before the batch, so N=1,000 and N=10,000
show whether memory stays flat. The baseline: the first ``min(N, 400)`` of the same documents through POST
analyze + poll from 8 clients on the same server; overhead per document = 1/batch rate - 1/analyze rate.

    python benchmarks/batch.py [N ...]      (default: 1000)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from common import DENSE_LINE, machine, table

CLIENTS = 8
UPLOADERS = 16
BASELINE_DOCS = 400
LINES = 24
V = "2024-11-30"
ANALYZE = f"/documentintelligence/documentModels/prebuilt-read:analyze?api-version={V}"
BATCH = f"/documentintelligence/documentModels/prebuilt-read:analyzeBatch?api-version={V}"


def document(i: int) -> bytes:
    """One digital page of ``LINES`` lines of print, numbered from ``i * LINES`` (every document differs)."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    c.setFont("Times-Roman", 10)
    y = 10.3 * 72
    for n in range(i * LINES, (i + 1) * LINES):
        c.drawString(54, y, DENSE_LINE.format(n=n, d=n % 28 + 1))
        y -= 14.5
    c.showPage()
    c.save()
    return buf.getvalue()


def _service(endpoint: str) -> Any:
    from azure.storage.blob import BlobServiceClient
    from azurite import ACCOUNT, ACCOUNT_KEY

    return BlobServiceClient(endpoint, credential={"account_name": ACCOUNT, "account_key": ACCOUNT_KEY})


def _container(endpoint: str, name: str, docs: list[bytes] | None) -> str:
    """A container (with ``docs`` as ``d/{i:05d}.pdf``, uploaded in parallel); its SAS URL."""
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas
    from azurite import ACCOUNT, ACCOUNT_KEY

    client = _service(endpoint).create_container(name)
    if docs:
        with ThreadPoolExecutor(UPLOADERS) as pool:
            list(pool.map(lambda i: client.upload_blob(f"d/{i:05d}.pdf", docs[i]), range(len(docs))))
    sas = generate_container_sas(
        ACCOUNT,
        name,
        account_key=ACCOUNT_KEY,
        permission=ContainerSasPermissions.from_string("rwlc"),
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=6),
    )
    return f"{endpoint}/{name}?{sas}"


class TreeRss:
    """Peak RSS (MiB) of a process and all its descendants, sampled every 50 ms while running."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def now(self) -> float:
        import psutil

        total = 0
        try:
            proc = psutil.Process(self.pid)
            for p in [proc, *proc.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
        except psutil.Error:
            pass
        return total / 2**20

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            self._stop.wait(0.05)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _cpu(procs: list[Any]) -> float:
    """CPU seconds used so far by these processes (those gone count 0)."""
    import psutil

    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def _processes(srv_pid: int) -> dict[str, list[Any]]:
    """The server itself, its workers (every descendant), and Azurite (a node child of this process)."""
    import psutil

    server = psutil.Process(srv_pid)
    azurite = [p for p in psutil.Process().children(recursive=True) if "azurite" in " ".join(p.cmdline())]
    return {"server": [server], "workers": server.children(recursive=True), "azurite": azurite}


def _analyze_rate(endpoint: str, key: str, docs: list[bytes]) -> float:
    """Documents/s through POST analyze + poll every 100 ms from ``CLIENTS`` clients."""
    import httpx

    headers = {"Ocp-Apim-Subscription-Key": key, "Content-Type": "application/pdf"}
    local = threading.local()  # one client per thread: a new httpx client costs ~60 ms of CPU (its SSL context)

    def one(data: bytes) -> None:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=120)
        client = local.client
        location = client.post(endpoint + ANALYZE, headers=headers, content=data).headers["operation-location"]
        while True:
            body = client.get(location, headers=headers).json()
            if body["status"] in ("succeeded", "failed"):
                assert body["status"] == "succeeded", body
                return
            time.sleep(0.1)

    one(docs[0])  # warm the workers
    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as clients:
        list(clients.map(one, docs))
    return len(docs) / (time.perf_counter() - start)


def _batch(endpoint: str, key: str, source: str, results: str, n: int) -> tuple[float, float, dict[str, Any]]:
    """(seconds POST to done, seconds until the children exist, the final body)."""
    import httpx

    headers = {"Ocp-Apim-Subscription-Key": key}
    body = {"azureBlobSource": {"containerUrl": source}, "resultContainerUrl": results}
    with httpx.Client(timeout=120) as client:
        start = time.perf_counter()
        r = client.post(endpoint + BATCH, headers=headers, json=body)
        assert r.status_code == 202, r.text
        location = r.headers["operation-location"]
        listed = 0.0
        while True:
            got = client.get(location, headers=headers).json()
            if not listed and len(got.get("result", {}).get("details", [])) == n:
                listed = time.perf_counter() - start
            if got["status"] in ("succeeded", "failed"):
                return time.perf_counter() - start, listed, got
            time.sleep(0.25 if not listed else 2.0)  # a poll of 10,000 details is ~2 MB: not too often


def run(n: int, azurite: str, tmp: Path) -> list[object]:
    from server_harness import KEY, start_server

    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        docs = list(pool.map(document, range(n)))
    source = _container(azurite, f"src{n}", docs)
    results = _container(azurite, f"out{n}", None)
    prepared = time.perf_counter() - t0
    srv = start_server(tmp / f"data{n}", PERCEPT_POLL_WAIT="0")  # a poll answers at once: listing is timed
    try:
        analyze_rate = _analyze_rate(srv.endpoint, KEY, docs[: min(n, BASELINE_DOCS)])
        del docs
        rss = TreeRss(srv.process.pid)
        before = rss.now()
        procs = _processes(srv.process.pid)
        cpu0 = {k: _cpu(v) for k, v in procs.items()}
        with rss:
            seconds, listed, final = _batch(srv.endpoint, KEY, source, results, n)
        cpu = {k: 1000 * (_cpu(v) - cpu0[k]) / n for k, v in procs.items()}
    finally:
        srv.stop()
    result = final.get("result", {})
    assert final["status"] == "succeeded" and result.get("succeededCount") == n, {
        k: v for k, v in final.items() if k != "result"
    } | {k: v for k, v in result.items() if k != "details"}
    written = sum(1 for _ in _service(azurite).get_container_client(f"out{n}").list_blobs())
    assert written == n, f"{written} results for {n} documents"
    rate = n / seconds
    return [
        n,
        f"{prepared:.0f}",
        f"{seconds:.1f}",
        rate,
        f"{listed:.1f}",
        analyze_rate,
        f"{1000 * (1 / rate - 1 / analyze_rate):+.1f}",
        f"{before:.0f}",
        f"{rss.peak:.0f}",
        f"{cpu['server']:.0f} / {cpu['workers']:.0f} / {cpu['azurite']:.0f}",
    ]


def main(sizes: list[int]) -> str:
    from azurite import azurite_binary, running_azurite

    binary = azurite_binary()
    if binary is None:
        raise SystemExit("Azurite is not installed (scripts/install.sh)")
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="percept-bench-batch-") as tmp,
        running_azurite(binary, Path(tmp) / "azurite") as azurite,
    ):
        for n in sizes:
            t = time.perf_counter()
            rows.append(run(n, azurite, Path(tmp)))
            print(f"N={n}: {time.perf_counter() - t:.0f} s in all", file=sys.stderr, flush=True)
    return "\n".join(
        [
            "## Batch analysis",
            "",
            f"{machine()}. One `:analyzeBatch` (prebuilt-read) of N distinct one-page digital PDFs ({LINES} lines of "
            "print) from Azurite to Azurite through a fresh server; baseline: the first "
            f"min(N, {BASELINE_DOCS}) of them through POST analyze + poll from {CLIENTS} clients on the same server.",
            "",
            table(
                [
                    "N",
                    "generate + upload s",
                    "batch s (POST to done)",
                    "batch docs/s",
                    "listed + child rows s",
                    "analyze API docs/s",
                    "batch overhead ms/doc",
                    "server RSS before MiB",
                    "server peak RSS MiB (with workers)",
                    "CPU ms/doc: server / workers / Azurite",
                ],
                rows,
            ),
            "",
        ]
    )


if __name__ == "__main__":
    print(main([int(a) for a in sys.argv[1:]] or [1000]))
