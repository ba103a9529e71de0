"""Layout benchmarks beyond tables: FUNSD key-value linking, Azure's sample outputs (marks and cells), and the
cost of layout over read on the same pages (digital and scanned), measured in one run.

Run: ``python -m benchmarks.layout``. Reads ../shared/data in place.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from percept import read_document
from percept.config import ReadOptions

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _inside(box: tuple[float, ...], target: list[float], slack: float = 4.0) -> bool:
    cx, cy = (box[0] + box[4]) / 2, (box[1] + box[5]) / 2
    return target[0] - slack <= cx <= target[2] + slack and target[1] - slack <= cy <= target[3] + slack


def funsd(limit: int = 50) -> dict[str, Any]:
    """Question->answer links of the FUNSD test split: a predicted pair is right when its key lies in the
    linked question's box and its value in the answer's box (end to end from our own OCR)."""
    folder = DATA / "funsd" / "testing_data"
    tp = n_pred = n_truth = 0
    for ann in sorted((folder / "annotations").glob("*.json"))[:limit]:
        form = json.loads(ann.read_text())["form"]
        by_id = {e["id"]: e for e in form}
        links = {
            (a, b)
            for e in form
            for a, b in e["linking"]
            if by_id[a]["label"] == "question" and by_id[b]["label"] == "answer"
        }
        n_truth += len(links)
        doc = read_document(
            folder / "images" / (ann.stem + ".png"), options=ReadOptions(layout=True, workers=2), key_value_pairs=True
        )
        for kv in doc.key_value_pairs:
            if kv.value is None:
                continue
            n_pred += 1
            kbox, vbox = kv.key.polygon, kv.value.polygon
            if any(_inside(kbox, by_id[a]["box"]) and _inside(vbox, by_id[b]["box"]) for a, b in links):
                tp += 1
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_truth if n_truth else 0.0
    return {
        "precision": round(p, 3),
        "recall": round(r, 3),
        "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
        "links": n_truth,
        "predicted": n_pred,
    }


LOW_CONFIDENCE = 0.9


def azure_samples() -> dict[str, Any]:
    """Agreement with Azure's own Layout outputs: per mark (state, position) and per table cell (text)."""
    out: dict[str, Any] = {}
    cases = [
        (
            DATA / "azure_fr_samples/service_responses/sample-layout.pdf",
            DATA / "azure_fr_samples/service_responses/sample-layout-output.json",
        )
    ]
    for i in range(1, 6):
        cases.append(
            (
                DATA / f"azure_fr_samples/sample_data_2020/Train/Invoice_{i}.pdf",
                DATA / f"azure_fr_samples/sample_data_2020/labels_v2_1_preview/Invoice_{i}.pdf.ocr.json",
            )
        )
    marks_ok = marks_n = cells_ok = cells_n = low_n = 0
    for pdf, ref in cases:
        if not pdf.exists() or not ref.exists():
            continue
        expected = json.loads(ref.read_text())["analyzeResult"]
        doc = read_document(pdf, options=ReadOptions(layout=True, workers=2))
        for page, rr in zip(doc.pages, expected["readResults"], strict=False):
            for m in rr.get("selectionMarks", []):
                if m["confidence"] < LOW_CONFIDENCE:
                    low_n += 1  # Azure's own doubtful marks: page-edge blobs on the 2020 set, no box drawn there
                    continue
                marks_n += 1
                x, y = m["boundingBox"][0], m["boundingBox"][1]
                near = [o for o in page.selection_marks if abs(o.polygon[0] - x) + abs(o.polygon[1] - y) < 0.1]
                marks_ok += bool(near) and near[0].state == m["state"]
        for pr in expected.get("pageResults", []):
            ours = [t for t in doc.tables if t.page_number == pr["page"]]
            for t in pr["tables"]:
                match = [o for o in ours if (o.row_count, o.column_count) == (t["rows"], t["columns"])]
                got = {(c.row, c.column): c.content for c in match[0].cells} if match else {}
                for c in t["cells"]:
                    cells_n += 1
                    cells_ok += got.get((c["rowIndex"], c["columnIndex"])) == c["text"]
    out["marks"] = f"{marks_ok}/{marks_n}"
    out["cells"] = f"{cells_ok}/{cells_n}"
    out["azure_marks_below_confidence_0.9_not_counted"] = low_n
    return out


def _time(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def cost() -> dict[str, Any]:
    """Layout time over read time on the same page, same process, one worker."""
    out = {}
    digital = DATA / "azure_fr_samples/service_responses/sample-layout.pdf"
    scanned = DATA / "funsd/testing_data/images"
    scan = sorted(scanned.glob("*.png"))[0]
    for name, path in (("digital (sample-layout.pdf)", digital), ("scanned (FUNSD form)", scan)):
        read = _time(lambda p=path: read_document(p, options=ReadOptions(workers=1)))
        layout = _time(
            lambda p=path: read_document(p, options=ReadOptions(workers=1, layout=True), key_value_pairs=True)
        )
        out[name] = {"read_s": round(read, 3), "layout_s": round(layout, 3), "ratio": round(layout / read, 2)}
    return out


if __name__ == "__main__":
    from benchmarks.tables import icdar

    results: dict[str, Any] = {"cost": cost(), "azure_samples": azure_samples()}
    res = icdar()
    res.pop("per_doc")
    results["icdar2013"] = res
    results["funsd"] = funsd()
    print(json.dumps(results, indent=1))
