"""Ray against the local pool on this machine, and Ray with 1 against 2 workers, for OCR-bound scanned pages.

    .venv/bin/python benchmarks/ray_scaling.py [--pages 12] [--rounds 2]

Every run reads the same scanned PDF (pages from tests/builders.py, skewed and noisy, so every page is OCR'd);
the executors are started before the clock starts and warmed with one read. Targets: Ray's overhead over the
local pool (1 - Ray rate / local rate) at most 20 %, and 2 Ray workers at least 1.8x one on two cores.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import builders
from common import machine, table

from percept.config import ReadOptions
from percept.executors import LocalProcessExecutor, PageExecutor
from percept.pipeline import read_document


def scanned_pdf(pages: int) -> bytes:
    text = builders.text_pdf([builders.PARAGRAPH], font="Times-Roman")
    gray = builders.render(text, dpi=200)
    return builders.image_pdf([builders.scan(gray, skew=0.5 * (i % 3)) for i in range(pages)])


def rate(executor: PageExecutor, workers: int, pdf: bytes, pages: int, rounds: int) -> float:
    """Pages per second, the best of ``rounds`` reads after a warm-up read."""
    options = ReadOptions(workers=workers)
    read_document(pdf, options=options, executor=executor)
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        doc = read_document(pdf, options=options, executor=executor)
        elapsed = time.perf_counter() - started
        assert len(doc.pages) == pages and not doc.errors
        best = max(best, pages / elapsed)
    return best


def ray_rate(workers: int, pdf: bytes, pages: int, rounds: int, *, share_files: bool = True) -> tuple[float, float]:
    """(pages per second, seconds to start the private instance), measured in a fresh process: Ray keeps the
    first instance's auth token for the life of a process, so a second private instance cannot be joined."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        args = [sys.executable, __file__, "--one", f.name, str(workers), str(pages), str(rounds), str(int(share_files))]
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    measured = json.loads(out.strip().splitlines()[-1])
    return float(measured[0]), float(measured[1])


def _one(path: str, workers: int, pages: int, rounds: int, share_files: bool) -> None:
    """The child of :func:`ray_rate`: one private instance, one measurement, printed as JSON."""
    from percept.executors_ray import RayExecutor

    pdf = Path(path).read_bytes()
    started = time.perf_counter()
    executor = RayExecutor(workers)
    startup = time.perf_counter() - started
    executor.shares_files = share_files  # False: documents travel as bytes, as to a remote cluster
    try:
        print(json.dumps([rate(executor, workers, pdf, pages, rounds), startup]), flush=True)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        path, workers, pages, rounds, share = sys.argv[2:7]
        _one(path, int(workers), int(pages), int(rounds), share == "1")
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    pdf = scanned_pdf(args.pages)

    local = LocalProcessExecutor(2)
    try:
        local_2 = rate(local, 2, pdf, args.pages, args.rounds)
    finally:
        local.shutdown()
    ray_2, startup = ray_rate(2, pdf, args.pages, args.rounds)
    ray_2_bytes, _ = ray_rate(2, pdf, args.pages, args.rounds, share_files=False)
    ray_1, _ = ray_rate(1, pdf, args.pages, args.rounds)

    print(f"Machine: {machine()}; {args.pages} scanned pages ({len(pdf) / 1e6:.1f} MB), best of {args.rounds}.\n")
    print(
        table(
            ["executor (2 workers)", "pages/s", "overhead vs local"],
            [
                ["local pool", local_2, "-"],
                ["Ray, private instance (file paths)", ray_2, f"{1 - ray_2 / local_2:.1%}"],
                ["Ray, documents as bytes (remote mode)", ray_2_bytes, f"{1 - ray_2_bytes / local_2:.1%}"],
            ],
        )
    )
    print()
    print(table(["Ray workers", "pages/s", "speed-up"], [[1, ray_1, 1.0], [2, ray_2, ray_2 / ray_1]]))
    print(f"\nStarting the private Ray instance (keeper, `ray start`, driver connect): {startup:.1f} s")


if __name__ == "__main__":
    main()
