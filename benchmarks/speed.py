"""Speed and memory of the read pipeline, each against its baseline in the same run.

- digital PDF, 100 dense pages: pages/s against raw pypdfium2 text extraction (open, text page, get_text_range);
- scanned 300 dpi pages of dense print: wall time against the ``tesseract`` CLI run serially with
  OMP_THREAD_LIMIT=1 on the same pages;
- peak memory, including a 2,000-page PDF.

Each scenario runs in a fresh process so its peak RSS is its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import dense_pdf, table

SCAN_PAGES = 6
REPEATS = 3


def _raw_pypdfium2(path: str) -> int:
    """The baseline: plain text of every page, no positions."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    chars = 0
    for page in pdf:
        tp = page.get_textpage()
        chars += len(tp.get_text_range())
        tp.close()
        page.close()
    pdf.close()
    return chars


def _raw_pypdfium2_words(path: str) -> int:
    """A second baseline: word boxes the straightforward way with pypdfium2's public API."""
    import re

    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    words = 0
    for page in pdf:
        tp = page.get_textpage()
        text = tp.get_text_range()
        for m in re.finditer(r"\S+", text):
            boxes = [tp.get_rect(i) for i in range(tp.count_rects(m.start(), m.end() - m.start()))]
            words += bool(boxes)
        tp.close()
        page.close()
    pdf.close()
    return words


def _best(fn, *args) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t)
    return best


def scenario_digital(path: str) -> dict:
    from common import MemorySampler

    from percept import ReadOptions, read_document
    from percept.pipeline import make_executor

    with MemorySampler() as mem:
        raw = _best(_raw_pypdfium2, path)
        raw_words = _best(_raw_pypdfium2_words, path)
        inline = _best(lambda: read_document(path, options=ReadOptions(workers=1)))
        cold = _best(lambda: read_document(path))  # what the CLI does: a fresh pool per document
        workers = os.cpu_count() or 1
        with make_executor(workers) as pool:  # what the server does: one pool for its lifetime
            read_document(path, executor=pool)
            warm = _best(lambda: read_document(path, executor=pool))
            doc = read_document(path, executor=pool)
    assert all(p.source == "text-layer" for p in doc.pages)
    return {
        "pages": len(doc.pages),
        "raw": raw,
        "raw_words": raw_words,
        "inline": inline,
        "cold": cold,
        "warm": warm,
        "rss": mem.peak_self,
        "tree": mem.peak_tree,
    }


def scenario_big(path: str) -> dict:
    from common import MemorySampler

    from percept import read_document

    with MemorySampler() as mem:
        t = time.perf_counter()
        doc = read_document(path)
        secs = time.perf_counter() - t
    return {
        "pages": len(doc.pages),
        "secs": secs,
        "words": sum(len(p.words) for p in doc.pages),
        "rss": mem.peak_self,
        "tree": mem.peak_tree,
    }


def scenario_scanned(folder: str) -> dict:
    from common import MemorySampler

    from percept import read_document

    pngs = sorted(Path(folder).glob("page-*.png"))
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    t = time.perf_counter()
    for png in pngs:
        subprocess.run(
            ["tesseract", str(png), "stdout", "-l", "eng", "--oem", "1", "--psm", "3", "tsv"],
            env=env,
            capture_output=True,
            check=True,
        )
    cli_s = time.perf_counter() - t
    with MemorySampler() as mem:
        t = time.perf_counter()
        doc = read_document(Path(folder) / "scan.tif")
        ours_s = time.perf_counter() - t
    return {
        "pages": len(pngs),
        "cli_s": cli_s,
        "ours_s": ours_s,
        "words": len(doc.pages[0].words),
        "rss": mem.peak_self,
        "tree": mem.peak_tree,
    }


def _run(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _make_scans(folder: Path) -> None:
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    pdf = pdfium.PdfDocument(dense_pdf(SCAN_PAGES))
    frames = []
    for i, page in enumerate(pdf):
        bitmap = page.render(scale=300 / 72, grayscale=True)
        gray = np.array(bitmap.to_numpy()).reshape(bitmap.height, bitmap.width)
        Image.fromarray(gray).save(folder / f"page-{i:02d}.png")
        frames.append(Image.fromarray(gray))  # a fresh image: a PNG save leaves encoder state that breaks TIFF
    frames[0].save(folder / "scan.tif", save_all=True, append_images=frames[1:], compression="raw")


def main() -> str:
    with tempfile.TemporaryDirectory(prefix="percept-bench-") as tmp:
        folder = Path(tmp)
        _make_scans(folder)
        scanned = _run("scanned", str(folder))
        (folder / "digital100.pdf").write_bytes(dense_pdf(100))
        d = _run("digital", str(folder / "digital100.pdf"))
        (folder / "digital2000.pdf").write_bytes(dense_pdf(2000))
        big = _run("big", str(folder / "digital2000.pdf"))
    n = d["pages"]
    cores = os.cpu_count()
    digital = table(
        ["digital PDF, 100 dense pages (~720 words each)", "pages/s", "vs raw text", "vs raw word boxes"],
        [
            ["raw pypdfium2: get_text_range per page (baseline)", n / d["raw"], 1.0, ""],
            [
                "raw pypdfium2: + count_rects/get_rect per word (baseline)",
                n / d["raw_words"],
                d["raw"] / d["raw_words"],
                1.0,
            ],
            ["percept, 1 process", n / d["inline"], d["raw"] / d["inline"], d["raw_words"] / d["inline"]],
            [
                f"percept, CLI: fresh pool of {cores} workers",
                n / d["cold"],
                d["raw"] / d["cold"],
                d["raw_words"] / d["cold"],
            ],
            [
                f"percept, server: warm pool of {cores} workers",
                n / d["warm"],
                d["raw"] / d["warm"],
                d["raw_words"] / d["warm"],
            ],
        ],
    )
    scan = table(
        ["scanned 300 dpi dense pages", "pages", "s/page (wall)", "time vs serial CLI"],
        [
            [
                "tesseract CLI, serial, OMP_THREAD_LIMIT=1 (baseline)",
                scanned["pages"],
                scanned["cli_s"] / scanned["pages"],
                1.0,
            ],
            [
                f"percept, multi-page TIFF, {cores} cores",
                scanned["pages"],
                scanned["ours_s"] / scanned["pages"],
                scanned["ours_s"] / scanned["cli_s"],
            ],
        ],
    )
    memory = table(
        ["run", "driver peak RSS MiB", "driver + workers peak RSS MiB"],
        [
            ["100-page digital PDF (all modes above)", d["rss"], d["tree"]],
            [f"2,000-page digital PDF ({big['words']} words, {big['secs']:.1f} s)", big["rss"], big["tree"]],
            [f"{scanned['pages']} scanned pages, OCR", scanned["rss"], scanned["tree"]],
        ],
    )
    return "\n".join(["## Speed", "", digital, "", scan, "", "## Memory", "", memory, ""])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "digital":
        print(json.dumps(scenario_digital(sys.argv[2])))
    elif len(sys.argv) > 1 and sys.argv[1] == "big":
        print(json.dumps(scenario_big(sys.argv[2])))
    elif len(sys.argv) > 1 and sys.argv[1] == "scanned":
        print(json.dumps(scenario_scanned(sys.argv[2])))
    else:
        print(main())
