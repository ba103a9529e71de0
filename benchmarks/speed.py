"""Speed and memory of the read pipeline, each against its baseline in the same run.

- digital PDF, 100 dense pages: pages/s against raw pypdfium2 text extraction (open, text page, get_text_range);
- scanned 300 dpi pages of dense print: wall time against the ``tesseract`` CLI run serially with
  OMP_THREAD_LIMIT=1 on the same pages;
- peak memory, including a 2,000-page PDF;
- issue 15's acceptance lines, each against its baseline in the same run: 300 dpi scans with sideways pages
  (generated and real UNLV scans) against serial single-threaded Tesseract; receipts and photos read serially per
  engine against the Tesseract CLI on the same images; a 120-page digital PDF through ``percept read`` (process
  start included) against pypdfium2 extracting every character with its box.

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

from common import DATA, dense_pdf, table

SCAN_PAGES = 6
REPEATS = 3
DIGITAL_CLI_PAGES = 120
TESSERACT_CLI = ["-l", "eng", "--oem", "1", "--psm", "3", "tsv"]

# Documents of 300 dpi pages with some turned sideways: (page image, degrees turned clockwise) per page. The generated
# pages are _make_scans' dense print; the real ones are UNLV scans from Tesseract's own tests (8071 a landscape magazine
# spread, 8087 a portrait page) and its eurotext sample, all 300 dpi.
UNLV = DATA / "tesseract_ocr_gt"
SIDEWAYS_DOCS: dict[str, tuple[str, list[tuple[str, int]]]] = {
    "generated": (
        f"{SCAN_PAGES} generated dense pages, page 2 turned 90° and page 5 270°",
        [(f"page-{i:02d}.png", {1: 90, 4: 270}.get(i, 0)) for i in range(SCAN_PAGES)],
    ),
    "unlv": (
        "3 real scans (UNLV 8087, 8071, eurotext), page 2 turned 90°",
        [(str(UNLV / "8087_054.3B.tif"), 0), (str(UNLV / "8071_093.3B.tif"), 90), (str(UNLV / "eurotext.tif"), 0)],
    ),
}

SROIE_RECEIPTS = 20
PHOTOS = [
    DATA / "azure_ai102_vision_samples/read-text/Lincoln.jpg",
    DATA / "azure_ai102_vision_samples/read-text/Note.jpg",
    DATA / "azure_fr_samples/service_responses/business-card-english.jpg",
    DATA / "azure_fr_samples/service_responses/contoso-allinone.jpg",
    DATA / "azure_fr_samples/sample_inputs/business_card.jpg",
    DATA / "azure_fr_samples/sample_inputs/receipt.png",
]
ENGINES = ["tesseract", "rapidocr", "auto"]


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


def _tesseract_cli_s(image: Path) -> float:
    """The baseline's unit: one plain ``tesseract`` run, single-threaded, words with boxes out (TSV)."""
    t = time.perf_counter()
    subprocess.run(
        ["tesseract", str(image), "stdout", *TESSERACT_CLI],
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - t


def _sideways_doc(folder: Path, name: str) -> tuple[list[Path], list[Path], list[int]]:
    """Write document ``name`` as ``<name>.tif`` and each page as PNG (as given, and upright where it is turned)."""
    from PIL import Image

    turn = {90: Image.Transpose.ROTATE_270, 270: Image.Transpose.ROTATE_90}  # PIL turns counter-clockwise
    given, upright, frames, turns = [], [], [], []
    for i, (src, degrees) in enumerate(SIDEWAYS_DOCS[name][1]):
        path = Path(src) if Path(src).is_absolute() else folder / src
        image = Image.open(path).convert("L")
        up = folder / f"{name}-{i}-upright.png"
        image.save(up, dpi=(300, 300))
        if degrees:
            image = image.transpose(turn[degrees])
            image.save(folder / f"{name}-{i}-given.png", dpi=(300, 300))
        given.append(folder / f"{name}-{i}-{'given' if degrees else 'upright'}.png")
        upright.append(up)
        frames.append(image.copy())  # a fresh image: a PNG save leaves encoder state that breaks TIFF
        turns.append(degrees)
    frames[0].save(folder / f"{name}.tif", save_all=True, append_images=frames[1:], compression="raw", dpi=(300, 300))
    return given, upright, turns


def scenario_sideways(folder: str, name: str) -> dict:
    """One document with sideways pages read with the defaults (a fresh pool, as ``percept read`` does), against
    plain serial Tesseract on the same pages: as given (it reads the sideways page sideways, no orientation
    detection) and with every page upright (what Tesseract costs on pages it can read)."""
    from percept import read_document

    base = Path(folder)
    given, upright, turns = _sideways_doc(base, name)
    per_page = {p: _tesseract_cli_s(p) for p in {*given, *upright}}
    t = time.perf_counter()
    doc = read_document(base / f"{name}.tif")
    ours_s = time.perf_counter() - t
    # Page.angle is the page's turn as we judged it (90: text runs downward); sign-free so 90 and 270 both count.
    right = sum(abs(abs(p.angle) - (90 if d else 0)) < 5 for p, d in zip(doc.pages, turns, strict=True))
    return {
        "pages": len(doc.pages),
        "sideways": sum(bool(d) for d in turns),
        "given_s": sum(per_page[p] for p in given),
        "upright_s": sum(per_page[p] for p in upright),
        "ours_s": ours_s,
        "oriented": right,
        "angles": [p.angle for p in doc.pages],
    }


def _image_set(name: str) -> list[Path]:
    if name == "receipts":
        return sorted((DATA / "sroie2019_subset" / "img").glob("*.jpg"))[:SROIE_RECEIPTS]
    return PHOTOS


def scenario_images(name: str) -> dict:
    """Receipts or photos one after another: the Tesseract CLI, then ``read_document`` with one worker per engine
    (each engine warmed on the first image first, so a model load is not counted against one image)."""
    from percept import ReadOptions, read_document
    from percept.ocr import available_engines

    images = _image_set(name)
    cli = {p.name: _tesseract_cli_s(p) for p in images}
    out: dict = {"images": len(images), "cli_s": sum(cli.values()), "cli_slowest": max(cli.items(), key=_second)}
    out["engines"] = {}
    out["default"] = ReadOptions().ocr_engine
    for engine in ENGINES:
        if engine not in available_engines():
            continue
        options = ReadOptions(workers=1, ocr_engine=engine)
        read_document(images[0], options=options)
        words, secs = 0, {}
        for p in images:
            t = time.perf_counter()
            words += sum(len(page.words) for page in read_document(p, options=options).pages)
            secs[p.name] = time.perf_counter() - t
        out["engines"][engine] = {"secs": sum(secs.values()), "words": words, "slowest": max(secs.items(), key=_second)}
    return out


def _second(item: tuple[str, float]) -> float:
    return item[1]


def _pdfium_charboxes(path: str) -> int:
    """The baseline for the digital PDF: every character's text and box with pypdfium2's public API."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    chars = 0
    for page in pdf:
        tp = page.get_textpage()
        text = tp.get_text_range()
        boxes = [tp.get_charbox(i) for i in range(tp.count_chars())]
        chars += len(text)
        assert len(boxes) >= len(text.rstrip())
        tp.close()
        page.close()
    pdf.close()
    return chars


def scenario_digital_cli(path: str) -> dict:
    """``percept read`` as a user runs it (a new process, JSON to a file), against pypdfium2's char boxes; also
    ``read_document`` in this process (a fresh pool per call, as the CLI has)."""
    from percept import read_document

    cli = Path(sys.executable).with_name("percept")
    command = [str(cli)] if cli.exists() else [sys.executable, "-m", "percept"]
    out_json = Path(path).with_suffix(".json")
    cli_s = float("inf")
    for _ in range(REPEATS):
        with out_json.open("wb") as fh:
            t = time.perf_counter()
            subprocess.run([*command, "read", path], stdout=fh, check=True)
            cli_s = min(cli_s, time.perf_counter() - t)
    result = json.loads(out_json.read_bytes())
    result = result.get("analyzeResult", result)
    doc = read_document(path)
    return {
        "pages": len(doc.pages),
        "raw_s": _best(_pdfium_charboxes, path),
        "raw_chars": _pdfium_charboxes(path),
        "cli_s": cli_s,
        "cli_chars": len(result["content"]),
        "json_mb": out_json.stat().st_size / 2**20,
        "inproc_s": _best(lambda: read_document(path)),
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


def scans_table(folder: Path) -> str:
    """Issue 15: a 300 dpi document with sideways pages read with the defaults in <= 0.7x serial Tesseract."""
    cores = os.cpu_count()
    rows: list[list[object]] = []
    for name, (label, _) in SIDEWAYS_DOCS.items():
        # Best of REPEATS on each side, as for the digital PDF: each run a fresh process (the pool's start counts).
        runs = [_run("sideways", str(folder), name) for _ in range(REPEATS)]
        r = {k: min(run[k] for run in runs) for k in ("given_s", "upright_s", "ours_s", "oriented")}
        r["pages"] = runs[0]["pages"]
        n = r["pages"]
        given, upright, ours, up = r["given_s"], r["upright_s"], r["ours_s"], f"{r['oriented']}/{n}"
        rows += [
            [
                f"{label}: tesseract CLI, pages as given (sideways read sideways) (baseline)",
                n,
                given / n,
                1.0,
                upright / given,
                "",
            ],
            [f"{label}: tesseract CLI, every page upright (baseline)", n, upright / n, given / upright, 1.0, ""],
            [f"{label}: percept read_document, defaults, {cores} cores", n, ours / n, ours / given, ours / upright, up],
        ]
    return table(
        [
            f"300 dpi multi-page TIFF with sideways pages, best of {REPEATS}; tesseract CLI serial, OMP_THREAD_LIMIT=1",
            "pages",
            "s/page (wall)",
            "time vs CLI as given",
            "time vs CLI upright (target <= 0.7)",
            "pages read upright (Page.angle)",
        ],
        rows,
    )


def images_table() -> str:
    """Issue 15: receipts and photos with the default engine in <= 2x Tesseract's time, serial, per engine."""
    rows: list[list[object]] = []
    for name, label in (("receipts", f"{SROIE_RECEIPTS} SROIE receipts"), ("photos", f"{len(PHOTOS)} photos")):
        r = _run("images", name)
        n, base = r["images"], r["cli_s"]
        slowest = "{} {:.3g} s".format(*r["cli_slowest"])
        rows.append([f"{label}: tesseract CLI, OMP_THREAD_LIMIT=1 (baseline)", n, base / n, 1.0, "", slowest])
        for engine in ENGINES:
            tag = " (default)" if engine == r["default"] else ""
            e = r["engines"].get(engine)
            if e is None:
                rows.append([f"{label}: percept, {engine}{tag}", n, "unavailable", "", "", ""])
                continue
            slowest = "{} {:.3g} s".format(*e["slowest"])
            rows.append([f"{label}: percept, {engine}{tag}", n, e["secs"] / n, e["secs"] / base, e["words"], slowest])
    return table(
        [
            "receipts and photos, one after another, ReadOptions(workers=1)",
            "images",
            "s/image",
            "time vs CLI (default: target <= 2)",
            "words",
            "slowest image",
        ],
        rows,
    )


def digital_cli_table(folder: Path) -> str:
    """Issue 15: ``percept read`` (JSON out) on a digital PDF within 3x of pypdfium2 extracting its char boxes."""
    path = folder / f"digital{DIGITAL_CLI_PAGES}.pdf"
    path.write_bytes(dense_pdf(DIGITAL_CLI_PAGES))
    r = _run("digitalcli", str(path))
    return table(
        [
            f"digital PDF, {r['pages']} dense pages, best of {REPEATS}",
            "wall s",
            "characters (pypdfium2: CRLF line ends)",
            "time vs baseline (target <= 3)",
        ],
        [
            ["pypdfium2: get_text_range + get_charbox per char (baseline)", r["raw_s"], r["raw_chars"], 1.0],
            [
                f"percept read (CLI, new process, {r['json_mb']:.1f} MiB JSON to a file)",
                r["cli_s"],
                r["cli_chars"],
                r["cli_s"] / r["raw_s"],
            ],
            ["percept read_document in process (fresh pool)", r["inproc_s"], "", r["inproc_s"] / r["raw_s"]],
        ],
    )


def issue15(folder: Path) -> str:
    """The speed lines of issue 15's acceptance, each against its baseline in this run (needs _make_scans first)."""
    return "\n".join(
        ["### Issue 15 speed targets", "", scans_table(folder), "", images_table(), "", digital_cli_table(folder), ""]
    )


def main() -> str:
    with tempfile.TemporaryDirectory(prefix="percept-bench-") as tmp:
        folder = Path(tmp)
        _make_scans(folder)
        scanned = _run("scanned", str(folder))
        targets = issue15(folder)
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
    return "\n".join(["## Speed", "", digital, "", scan, "", targets, "## Memory", "", memory, ""])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "digital":
        print(json.dumps(scenario_digital(sys.argv[2])))
    elif len(sys.argv) > 1 and sys.argv[1] == "big":
        print(json.dumps(scenario_big(sys.argv[2])))
    elif len(sys.argv) > 1 and sys.argv[1] == "scanned":
        print(json.dumps(scenario_scanned(sys.argv[2])))
    elif len(sys.argv) > 1 and sys.argv[1] == "sideways":
        print(json.dumps(scenario_sideways(sys.argv[2], sys.argv[3])))
    elif len(sys.argv) > 1 and sys.argv[1] == "images":
        print(json.dumps(scenario_images(sys.argv[2])))
    elif len(sys.argv) > 1 and sys.argv[1] == "digitalcli":
        print(json.dumps(scenario_digital_cli(sys.argv[2])))
    elif len(sys.argv) > 1 and sys.argv[1] == "issue15":  # only the issue 15 tables: python benchmarks/speed.py issue15
        with tempfile.TemporaryDirectory(prefix="percept-bench-") as tmp:
            _make_scans(Path(tmp))
            print(issue15(Path(tmp)))
    else:
        print(main())
