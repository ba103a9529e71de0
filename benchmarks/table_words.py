"""Words inside scanned table cells against words outside tables, per OCR engine (issue 15).

Digital PDFs with ruled tables are their own ground truth: the text layer gives every word, and our layout on the
digital page gives the table cells. Each page is rendered at 300 dpi and scanned: every other page as an office
scanner's black-and-white mode does (slightly skewed, then thresholded: clean print, which the automatic reader
gives Tesseract), the rest in grey, skewed more, blurred and speckled (which it gives PP-OCR). It is read back with
layout, and each word read is put inside or outside the digital page's cells (its centre, turned back by the
skew). The score is order-free word F1 against the text layer's words on the same side, words taken as runs of
letters and digits: the text layers of these PDFs often split a number at its decimal point ("121 . 0"), which
says nothing about the reading.
"""

from __future__ import annotations

import io
import random
import re
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA, table

from percept import ReadOptions, read_document
from percept.evaluation import normalize

DPI = 300
TOKEN = re.compile(r"[^\W_]+")
ENGINES = ["tesseract", "rapidocr", "auto"]
# Pages with ruled tables and words both inside and outside them: (file under DATA, page number).
PAGES = [
    ("icdar2013_table_competition/competition-dataset-us/us-025.pdf", 2),
    ("icdar2013_table_competition/competition-dataset-us/us-027.pdf", 3),
    ("icdar2013_table_competition/competition-dataset-us/us-030.pdf", 2),
    ("icdar2013_table_competition/competition-dataset-us/us-032.pdf", 1),
    ("camelot_tables/pdfs/background_lines_1.pdf", 1),
    ("camelot_tables/pdfs/column_span_2.pdf", 1),
    ("camelot_tables/pdfs/birdisland.pdf", 1),
    ("camelot_tables/pdfs/good_energy.pdf", 1),
    ("pdfplumber_samples/pdfs/issue-33-lorem-ipsum.pdf", 2),
    ("pdfplumber_samples/pdfs/issue-336-example.pdf", 1),
    ("pdfplumber_samples/pdfs/issue-466-example.pdf", 1),
    ("pdfplumber_samples/pdfs/table-curves-example.pdf", 1),
]

Cell = tuple[float, float, float, float]  # inches: x0, y0, x1, y1


class Case:
    """One page: its scanned pixels, the skew applied, its table cells and its words on each side."""

    kind: str

    def __init__(self, path: Path, page: int, seed: int) -> None:
        self.name = f"{path.name} p{page}"
        digital = read_document(path, pages=str(page), options=ReadOptions(layout=True, workers=1)).pages[0]
        self.cells: list[Cell] = [_box(c.polygon) for t in digital.tables for c in t.cells]
        self.truth: dict[bool, list[str]] = {True: [], False: []}
        for line in digital.lines:
            for w in line.words:
                self.truth[self.inside(*_centre(w.polygon))].append(w.content)
        rng = random.Random(seed)
        gray = render(path, page - 1)
        if seed % 2 == 0:
            self.kind, self.skew = "bilevel", rng.choice([-1, 1]) * rng.uniform(0.15, 0.5)
            self.png = _png(np.where(scan(gray, self.skew, 0.0, seed, blur=False) < 160, 0, 255).astype(np.uint8))
        else:
            self.kind, self.skew = "noisy", rng.choice([-1, 1]) * rng.uniform(0.3, 0.8)
            self.png = _png(scan(gray, self.skew, rng.uniform(0.02, 0.04), seed))

    def inside(self, x: float, y: float) -> bool:
        return any(c[0] <= x <= c[2] and c[1] <= y <= c[3] for c in self.cells)

    def split(self, words: list[tuple[str, float, float]], shape: tuple[int, int]) -> dict[bool, list[str]]:
        """Words read (content, centre in pixels) by side, their centres turned back into the digital page."""
        h, w = shape
        back = cv2.getRotationMatrix2D((w / 2, h / 2), self.skew, 1.0)
        out: dict[bool, list[str]] = {True: [], False: []}
        for content, x, y in words:
            ox, oy = back @ np.array([x, y, 1.0])
            out[self.inside(ox / DPI, oy / DPI)].append(content)
        return out


def render(path: Path, index: int) -> np.ndarray:
    pdf = pdfium.PdfDocument(path)
    try:
        bitmap = pdf[index].render(scale=DPI / 72.0, grayscale=True)
        return np.array(bitmap.to_numpy()).reshape(bitmap.height, bitmap.width).copy()
    finally:
        pdf.close()


def scan(gray: np.ndarray, skew: float, noise: float, seed: int, blur: bool = True) -> np.ndarray:
    """A printed and scanned page: turned ``skew`` degrees clockwise, blurred, speckled."""
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -skew, 1.0)
    img = cv2.warpAffine(gray, m, (w, h), borderValue=255, flags=cv2.INTER_LINEAR)
    if blur:
        img = cv2.GaussianBlur(img, (3, 3), 0)
    if not noise:
        return img
    speckle = np.random.default_rng(seed).normal(0, 255 * noise, img.shape)
    return np.clip(img.astype(np.float64) + speckle, 0, 255).astype(np.uint8)


def _png(gray: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="PNG", dpi=(DPI, DPI))
    return buf.getvalue()


def _box(poly: tuple[float, ...]) -> Cell:
    return min(poly[0::2]), min(poly[1::2]), max(poly[0::2]), max(poly[1::2])


def _centre(poly: tuple[float, ...]) -> tuple[float, float]:
    return sum(poly[0::2]) / 4, sum(poly[1::2]) / 4


def _read(args: tuple[bytes, str]) -> tuple[list[tuple[str, float, float]], tuple[int, int], float]:
    png, engine = args
    t = time.perf_counter()
    page = read_document(png, options=ReadOptions(layout=True, ocr_engine=engine, workers=1)).pages[0]
    words = [(w.content, *_centre(w.polygon)) for line in page.lines for w in line.words]
    return words, (round(page.height), round(page.width)), time.perf_counter() - t


def tokens(words: list[str]) -> list[str]:
    """Runs of letters and digits, after the evaluation's normalisation."""
    return TOKEN.findall(normalize(" ".join(words)))


class F1:
    def __init__(self) -> None:
        self.common = self.pred = self.truth = 0

    def add(self, predicted: list[str], truth: list[str]) -> None:
        pw, tw = tokens(predicted), tokens(truth)
        self.common += sum((Counter(pw) & Counter(tw)).values())
        self.pred += len(pw)
        self.truth += len(tw)

    @property
    def value(self) -> float:
        if not self.pred or not self.truth:
            return float("nan")
        return 2 * self.common / (self.pred + self.truth)


HEADER = ["engine", "scans", "pages", "words in cells", "F1 in cells", "words outside", "F1 outside", "s/page"]


def run(engines: list[str], cases: list[Case], workers: int = 2) -> tuple[list[list[object]], dict[str, list[str]]]:
    """A row per engine and kind of scan (and one for all), and per page the cell words read that are not in it."""
    rows: list[list[object]] = []
    misses: dict[str, list[str]] = {}
    with ProcessPoolExecutor(workers) as pool:
        for engine in engines:
            results = list(pool.map(_read, [(c.png, engine) for c in cases]))
            for kind in ("bilevel", "noisy", "all"):
                inside, outside = F1(), F1()
                seconds, pages = 0.0, 0
                for case, (words, shape, secs) in zip(cases, results, strict=True):
                    if kind not in ("all", case.kind):
                        continue
                    read = case.split(words, shape)
                    inside.add(read[True], case.truth[True])
                    outside.add(read[False], case.truth[False])
                    seconds, pages = seconds + secs, pages + 1
                    got, want = Counter(tokens(read[True])), Counter(tokens(case.truth[True]))
                    misses[f"{engine}: {case.name}"] = sorted((got - want).elements())
                row = [inside.truth, inside.value, outside.truth, outside.value, seconds / max(pages, 1)]
                rows.append([engine, kind, pages, *row])
            print(f"table_words: {engine} done", file=sys.stderr)
    return rows, misses


def cases(limit: int | None = None) -> list[Case]:
    return [Case(DATA / f, p, seed) for seed, (f, p) in enumerate(PAGES[:limit])]


def main() -> str:
    if not DATA.is_dir():
        return "## Words inside scanned table cells\n\n../shared/data is not present: skipped.\n"
    rows, _ = run(ENGINES, cases())
    return "\n".join(
        [
            "## Words inside scanned table cells",
            "",
            f"{len(PAGES)} digital pages with ruled tables (ICDAR-2013, camelot, pdfplumber samples) rendered at "
            f"{DPI} dpi and scanned, read with layout: half black-and-white (skewed 0.15-0.5°, thresholded), half "
            "grey, skewed 0.3-0.8°, blurred and speckled. Words (runs of letters and digits) inside the digital "
            "page's table cells and outside them, order-free F1 against the text layer's words on the same side.",
            "",
            table(HEADER, rows),
            "",
        ]
    )


if __name__ == "__main__":
    if len(sys.argv) > 1:  # engines to run, and the misread cell words per page
        found, missed = run(sys.argv[1:], cases())
        print(table(HEADER, found))
        for key, wrong in missed.items():
            print(key, wrong[:40])
    else:
        print(main())
