"""Accuracy per OCR engine on the real data in ../shared/data, and text layer vs OCR on digital PDFs.

Data is read in place (never copied). Each corpus reports CER (edits per ground-truth character, summed over the
corpus) and/or word F1 (order-free multiset match), after the normalisation in percept.evaluation.
"""

from __future__ import annotations

import io
import re
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA, table

from percept import ReadOptions, read_document
from percept.evaluation import levenshtein, normalize

ENGINES = ["tesseract", "rapidocr", "auto"]  # auto: the default


def _read(args: tuple[bytes | str, dict]) -> tuple[object, float]:
    source, opts = args
    t = time.perf_counter()
    doc = read_document(source, options=ReadOptions(workers=1, **opts))
    return doc, time.perf_counter() - t


def _map(jobs: list[tuple[bytes | str, dict]]) -> list[tuple[object, float]]:
    with ProcessPoolExecutor(2) as pool:
        return list(pool.map(_read, jobs))


def _padded(path: Path) -> bytes:
    """uw3 line strips are under the 50 px minimum; give them the margin a scanned strip would have."""
    buf = io.BytesIO()
    ImageOps.expand(Image.open(path).convert("L"), border=24, fill=255).save(buf, format="PNG")
    return buf.getvalue()


class Score:
    def __init__(self, fold_case: bool = False) -> None:
        self.fold_case = fold_case
        self.edits = self.chars = 0
        self.common = self.pred = self.truth = 0
        self.split_common = self.split_pred = self.split_truth = 0
        self.seconds = 0.0
        self.pages = 0

    def _norm(self, text: str) -> str:
        text = normalize(text)
        return text.upper() if self.fold_case else text

    def add_text(self, predicted: str, truth: str) -> None:
        p, t = self._norm(predicted), self._norm(truth)
        self.edits += levenshtein(p, t)
        self.chars += len(t)

    def add_words(self, predicted: list[str], truth: list[str]) -> None:
        pw = self._norm(" ".join(predicted)).split()
        tw = self._norm(" ".join(truth)).split()
        self.common += sum((Counter(pw) & Counter(tw)).values())
        self.pred += len(pw)
        self.truth += len(tw)
        # The same match with both sides split at punctuation ("#REPS:" -> "#", "REPS", ":"), where annotators
        # tokenise otherwise than the page reads: FUNSD's have "75/ 2", "212- 450- 4785", "P. O. S.".
        ps, ts = _pieces(pw), _pieces(tw)
        self.split_common += sum((Counter(ps) & Counter(ts)).values())
        self.split_pred += len(ps)
        self.split_truth += len(ts)

    @property
    def cer(self) -> float:
        return self.edits / self.chars if self.chars else float("nan")

    @property
    def f1(self) -> float:
        return _f1(self.common, self.pred, self.truth)

    @property
    def split_f1(self) -> float:
        return _f1(self.split_common, self.split_pred, self.split_truth)


def _pieces(words: list[str]) -> list[str]:
    return [piece for word in words for piece in re.findall(r"\w+|[^\w\s]", word)]


def _f1(common: int, predicted: int, truth: int) -> float:
    if not predicted or not truth:
        return float("nan")
    p, r = common / predicted, common / truth
    return 2 * p * r / (p + r) if p + r else 0.0


def tesseract_gt(engine: str) -> dict[str, Score]:
    folder = DATA / "tesseract_ocr_gt"
    cases = {
        "phototest (4 orientations)": [
            (f, "phototest.txt")
            for f in (
                "phototest.tif",
                "phototest-rotated-180.png",
                "phototest-rotated-L.png",
                "phototest-rotated-R.png",
            )
        ],
        "eurotext": [("eurotext.tif", "eurotext.txt")],
        "UNLV magazine scans": [("8071_093.3B.tif", "8071_093.3B.txt"), ("8087_054.3B.tif", "8087_054.3B.txt")],
    }
    out = {}
    for name, files in cases.items():
        score = Score()
        results = _map([(str(folder / img), {"ocr_engine": engine}) for img, _ in files])
        for (_, gt), (doc, secs) in zip(files, results, strict=True):
            truth = (folder / gt).read_text()
            score.add_text(doc.content, truth)
            score.add_words(doc.content.split(), truth.split())
            score.seconds += secs
            score.pages += 1
        out[name] = score
    return out


def uw3(engine: str) -> Score:
    folder = DATA / "uw3_50lines"
    images = sorted(folder.glob("*/*.bin.png"))
    score = Score()
    for path, (doc, secs) in zip(images, _map([(_padded(p), {"ocr_engine": engine}) for p in images]), strict=True):
        truth = path.with_name(path.name.replace(".bin.png", ".gt.txt")).read_text()
        score.add_text(doc.content, truth)
        score.add_words(doc.content.split(), truth.split())
        score.seconds += secs
        score.pages += 1
    return score


def _sroie_truth(path: Path) -> list[tuple[tuple[float, float, float, float], str]]:
    lines = []
    for row in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = row.split(",", 8)
        if len(parts) < 9:
            continue
        xs, ys = [float(v) for v in parts[0:8:2]], [float(v) for v in parts[1:8:2]]
        lines.append(((min(xs), min(ys), max(xs), max(ys)), parts[8]))
    return lines


def sroie(engine: str, limit: int = 100) -> Score:
    """Line CER: each word goes to the ground-truth line box holding its centre, and lines read left to right.

    SROIE transcripts are upper case throughout, so case is folded on both sides, as the task's evaluation does.
    """
    folder = DATA / "sroie2019_subset"
    images = sorted((folder / "img").glob("*.jpg"))[:limit]
    score = Score(fold_case=True)
    for path, (doc, secs) in zip(images, _map([(str(p), {"ocr_engine": engine}) for p in images]), strict=True):
        truth = _sroie_truth(folder / "box" / (path.stem + ".csv"))
        assigned: list[list[tuple[float, str]]] = [[] for _ in truth]
        for word in doc.pages[0].words:
            cx = sum(word.polygon[0::2]) / 4
            cy = sum(word.polygon[1::2]) / 4
            # Ground-truth boxes of neighbouring lines overlap on tilted receipts: of the boxes holding the
            # word's centre, take the one whose middle is nearest.
            holding = [
                (abs(cy - (y0 + y1) / 2), i)
                for i, ((x0, y0, x1, y1), _) in enumerate(truth)
                if x0 - 3 <= cx <= x1 + 3 and y0 - 3 <= cy <= y1 + 3
            ]
            if holding:
                assigned[min(holding)[1]].append((cx, word.content))
        for (_, text), words in zip(truth, assigned, strict=True):
            score.add_text(" ".join(w for _, w in sorted(words)), text)
        score.add_words(doc.content.split(), [t for _, t in truth])
        score.seconds += secs
        score.pages += 1
    return score


def funsd(engine: str) -> Score:
    import json

    folder = DATA / "funsd" / "testing_data"
    images = sorted((folder / "images").glob("*.png"))
    score = Score()
    for path, (doc, secs) in zip(images, _map([(str(p), {"ocr_engine": engine}) for p in images]), strict=True):
        form = json.loads((folder / "annotations" / (path.stem + ".json")).read_text())["form"]
        truth = [w["text"] for entity in form for w in entity["words"] if w["text"].strip()]
        score.add_words([w.content for w in doc.pages[0].words], truth)
        score.seconds += secs
        score.pages += 1
    return score


def text_layer_vs_ocr(limit: int = 10) -> str:
    """First pages of the ICDAR-2013 digital PDFs: the text layer against OCR of the same page at 300 dpi."""
    pdfs = sorted((DATA / "icdar2013_table_competition").glob("*/*.pdf"))[:limit]
    layer_s = ocr_s = 0.0
    score = Score()
    for pdf in pdfs:
        t = time.perf_counter()
        layer = read_document(pdf, pages="1", options=ReadOptions(workers=1))
        layer_s += time.perf_counter() - t
        t = time.perf_counter()
        ocr = read_document(pdf, pages="1", options=ReadOptions(workers=1, text_layer=False))
        ocr_s += time.perf_counter() - t
        score.add_text(ocr.content, layer.content)
        score.add_words(ocr.content.split(), layer.content.split())
    n = len(pdfs)
    return table(
        [
            "pages",
            "text layer s/page",
            "OCR (tesseract, 300 dpi) s/page",
            "speed-up",
            "OCR CER vs layer",
            "OCR word F1 vs layer",
        ],
        [[n, layer_s / n, ocr_s / n, f"{ocr_s / max(layer_s, 1e-9):.0f}x", score.cer, score.f1]],
    )


def main() -> str:
    if not DATA.is_dir():
        return "## Accuracy\n\n../shared/data is not present: skipped.\n"
    rows = []
    for engine in ENGINES:
        try:
            tg = tesseract_gt(engine)
        except Exception as exc:  # an engine that is not installed is reported, not fatal
            rows.append([engine, f"unavailable: {exc}", "", "", "", "", ""])
            continue
        corpora = {**{f"tesseract_ocr_gt: {k}": v for k, v in tg.items()}, "uw3_50lines (70 lines)": uw3(engine)}
        corpora["sroie2019_subset (100 receipts, line texts, case folded)"] = sroie(engine)
        corpora["funsd test (50 forms, words)"] = funsd(engine)
        for name, s in corpora.items():
            rows.append([engine, name, s.pages, s.cer, s.f1, s.split_f1, s.seconds / max(s.pages, 1)])
        print(f"accuracy: {engine} done", file=sys.stderr)
    parts = [
        "## Accuracy per engine",
        "",
        "CER = edits per ground-truth character over the corpus (lower is better); word F1 = order-free word "
        "match; split at punctuation: the same with both sides' words split into runs of letters and digits and "
        "single punctuation marks. Seconds per page are single-threaded, two documents at a time.",
        "",
        table(["engine", "corpus", "pages", "CER", "word F1", "word F1, split at punctuation", "s/page"], rows),
        "",
        "## Text layer vs OCR on digital PDFs",
        "",
        text_layer_vs_ocr(),
        "",
    ]
    return "\n".join(parts)


if __name__ == "__main__":
    print(main())
