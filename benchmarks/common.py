"""Helpers shared by the benchmarks: where the data is, the machine, markdown tables, generated documents."""

from __future__ import annotations

import contextlib
import io
import os
import platform
import resource
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / ".cache"

DENSE_LINE = "Invoice {n:05d}: 12 units of part A-{n:04d} at $8,780.12 each; shipped 2020-03-{d:02d} to Contoso Ltd."


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    tess = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, check=False).stdout
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{tess.splitlines()[0] if tess else 'no tesseract'}"
    )


def table(header: list[str], rows: list[list[object]]) -> str:
    def fmt(v: object) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


class MemorySampler:
    """Peak RSS of this process and the sum over all its descendants (worker pools included), sampled."""

    def __init__(self, interval: float = 0.02) -> None:
        import threading

        self.interval = interval
        self.peak_tree = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            self.peak_tree = max(self.peak_tree, total / 2**20)
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_self(self) -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dense_pdf(pages: int, lines_per_page: int = 48, size: float = 10.0) -> bytes:
    """A digital PDF of dense print (letter, 10 pt), the kind of page the speed targets are stated for."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    n = 0
    for _ in range(pages):
        c.setFont("Times-Roman", size)
        y = 10.3 * 72
        for _ in range(lines_per_page):
            c.drawString(54, y, DENSE_LINE.format(n=n, d=n % 28 + 1))
            y -= size * 1.45
            n += 1
        c.showPage()
    c.save()
    return buf.getvalue()
