"""Custom-model benchmarks on Azure's own samples: keys found without labels (2019 invoices), values found without
labels on simple scanned forms (generated bills of lading, a label and its value per row), fields with labels
against Azure's analysis of the 2020 test invoice, leave-one-out field accuracy on the labelled tax forms (per form
kind: digital, scanned/handwritten) and the purchase orders, training time, and custom analysis time as a ratio of
layout time on the same pages.

Run: ``python -m benchmarks.custom``. Reads ../shared/data in place (nothing is copied).
"""

from __future__ import annotations

import gzip
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2

from percept import read_document
from percept.config import ReadOptions
from percept.custom import labeled, unlabeled
from percept.model import Document

from .common import ROOT, machine, table

sys.path.insert(0, str(ROOT / "tests"))
import builders  # the tests' form generators

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FR = DATA / "azure_fr_samples"
LAYOUT = ReadOptions(layout=True)
TAX = {
    "W-8BEN": FR / "labeled_tax_forms" / "w8-training-data",
    "W-9": FR / "labeled_tax_forms" / "w9-training-data",
    "1099-MISC": FR / "labeled_tax_forms" / "1099-training-data",
}
PURCHASE_ORDERS = DATA / "azure_custom_forms_purchase_orders"


def _forms(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".pdf", ".jpg", ".png"))


def _json(path: Path) -> Any:
    if path.exists():
        return json.loads(path.read_text())
    return json.loads(gzip.decompress(path.with_name(path.name + ".gz").read_bytes()))


def _read(path: Path) -> tuple[Document, float]:
    start = time.perf_counter()
    doc = read_document(path, options=LAYOUT)
    return doc, time.perf_counter() - start


def unlabeled_2019() -> dict[str, Any]:
    folder = FR / "sample_data_2019"
    start = time.perf_counter()
    docs = [(p.name, _read(p)[0]) for p in _forms(folder / "Train")]
    model = unlabeled.train(docs)
    train_s = time.perf_counter() - start
    azure = ["Address:", "Invoice For:", "Microsoft", "Page"]
    keys = sorted({k for ks in model.keys_by_cluster().values() for k in ks})
    values = {}
    for p in _forms(folder / "Test"):
        doc = _read(p)[0]
        unlabeled.apply(model, doc)
        values[p.name] = {kv.key.content: kv.value.content if kv.value else "" for kv in doc.key_value_pairs}
    return {"keys": keys, "azure": azure, "values": values, "train_s": round(train_s, 2)}


def simple_forms(train_seeds: range = range(1, 6), test_seeds: range = range(6, 12)) -> dict[str, Any]:
    """Scanned bills of lading (tests/builders.py, 300 dpi, skewed, noisy): a model trained without labels on
    five, each key's value on unseen ones compared exactly with what was typed."""
    docs = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in [*train_seeds, *test_seeds]:
            gray, values = builders.scanned_bill_of_lading(seed)
            path = Path(tmp) / f"bol_{seed}.png"
            cv2.imwrite(str(path), gray)
            docs.append((path.name, _read(path)[0], {k: v.replace("\n", " ") for k, v in values.items()}))
    model = unlabeled.train([(name, doc) for name, doc, _ in docs[: len(train_seeds)]])
    right = total = 0
    wrong: list[tuple[str, str, str]] = []
    for _, doc, want in docs[len(train_seeds) :]:
        unlabeled.apply(model, doc)
        got = {kv.key.content: kv.value.content if kv.value else "" for kv in doc.key_value_pairs}
        for key, value in want.items():
            total += 1
            if got.get(key) == value:
                right += 1
            else:
                wrong.append((key, value, got.get(key, "(no key)")))
    return {"forms": len(docs) - len(train_seeds), "right": right, "total": total, "wrong": wrong}


def _labeled_set(forms: list[Path], label_dir: Path) -> tuple[list[labeled.LabeledForm], dict[str, str], float]:
    types = labeled.parse_fields(_json(label_dir / "fields.json"))
    out, spent = [], 0.0
    for p in forms:
        doc, seconds = _read(p)
        spent += seconds
        labels = labeled.parse_labels(_json(label_dir / f"{p.name}.labels.json"), p.name)
        out.append(labeled.LabeledForm(p.name, doc, labels))
    return out, types, spent


def labeled_2020() -> dict[str, Any]:
    """Fields on Test/Invoice_6 against Azure's labelled-model answer for the same file."""
    folder = FR / "sample_data_2020"
    start = time.perf_counter()
    forms, types, _ = _labeled_set(_forms(folder / "Train"), folder / "labels_v2_1_preview")
    model = labeled.train(forms, types)
    train_s = time.perf_counter() - start
    azure = _json(FR / "service_responses" / "analyze-result-invoice-6.pdf.json")
    azure_fields = azure["analyzeResult"]["documentResults"][0]["fields"]
    doc, layout_s = _read(folder / "Test" / "Invoice_6.pdf")
    start = time.perf_counter()
    ours = labeled.extract(model, doc)
    apply_s = time.perf_counter() - start
    rows = []
    for name, theirs in azure_fields.items():
        want = theirs.get("valueString") or theirs.get("text") or ""
        got = ours[name].content if name in ours else ""
        rows.append([name, want, got, labeled.same_text(want, got)])
    return {"rows": rows, "train_s": round(train_s, 2), "ratio": round((layout_s + apply_s) / layout_s, 3)}


def leave_one_out(name: str, folder: Path, label_dir: Path | None = None) -> dict[str, Any]:
    forms, types, read_s = _labeled_set(_forms(folder), label_dir or folder)
    start = time.perf_counter()
    model = labeled.train(forms, types)
    fit_s = time.perf_counter() - start
    digital = [f for f in forms if f.doc.pages[0].source == "text-layer"]
    only_digital = labeled.train(digital, types) if 3 <= len(digital) < len(forms) else None
    return {
        "set": name,
        "forms": len(forms),
        "digital": len(digital),
        "fields": {f.name: f.accuracy for f in model.fields},
        "average": round(model.average_accuracy, 3),
        "digital_average": round(only_digital.average_accuracy, 3) if only_digital else None,
        "read_s": round(read_s, 2),
        "fit_s": round(fit_s, 2),
    }


def _unspaced(text: str) -> str:
    return "".join(text.split()).casefold()


def per_form(name: str, folder: Path) -> list[tuple[str, str, int, int, int]]:
    """Leave-one-out per form: each form read by a model fitted on the others, fields right of those labelled
    (exactly, and ignoring spaces: the scans' labels space handwriting as Azure's reader did, "04-20- 1976"),
    with the form's kind (digital: a text layer; scanned: OCR, the tax sets' scanned and handwritten copies)."""
    forms, types, _ = _labeled_set(_forms(folder), folder)
    rows: list[tuple[str, str, int, int, int]] = []
    for i, held in enumerate(forms):
        sub = labeled.fit([f for j, f in enumerate(forms) if j != i], types)
        found = labeled.extract(sub, held.doc)
        names = [n for n in held.labels if n in found]
        right = [n for n in names if labeled.same_text(found[n].content, labeled.label_text(held.labels[n]))]
        loose = [n for n in names if _unspaced(found[n].content) == _unspaced(labeled.label_text(held.labels[n]))]
        kind = "digital" if held.doc.pages[0].source == "text-layer" else "scanned"
        rows.append((held.name, kind, len(right), len(loose), len(names)))
    return rows


def tax_forms() -> list[list[object]]:
    """The tax forms' leave-one-out accuracy per form kind: digital forms against scanned/handwritten ones."""
    rows: list[list[object]] = []
    for name, folder in TAX.items():
        forms = per_form(name, folder)
        for form, kind, right, loose, total in forms:
            print(f"  {name} {form} ({kind}): {right}/{total} fields right ({loose} ignoring spaces)")
        for kind in ("digital", "scanned"):
            mine = [f for f in forms if f[1] == kind]
            right, loose, total = (sum(f[k] for f in mine) for k in (2, 3, 4))
            rows.append(
                [name, kind, len(mine), f"{right}/{total}", round(right / max(1, total), 3), f"{loose}/{total}"]
            )
    return rows


def analysis_ratio(folder: Path) -> dict[str, Any]:
    """Custom analysis (layout + model) over layout alone on the same pages, in this process."""
    forms, types, _ = _labeled_set(_forms(folder), folder)
    model = labeled.train(forms, types)
    layout = apply = 0.0
    for p in _forms(folder):
        doc, seconds = _read(p)
        layout += seconds
        start = time.perf_counter()
        labeled.apply(model, doc, "custom", "bench")
        apply += time.perf_counter() - start
    return {"layout_s": round(layout, 2), "model_s": round(apply, 3), "ratio": round((layout + apply) / layout, 3)}


def main() -> None:
    print(f"machine: {machine()}, {time.strftime('%Y-%m-%d')}\n")
    u = unlabeled_2019()
    print(f"2019 invoices without labels: keys {u['keys']} (Azure {u['azure']}); training {u['train_s']} s")
    for name, values in u["values"].items():
        print(f"  {name}: {values}")
    simple = simple_forms()
    print(
        f"\nsimple scanned forms (unlabeled), bills of lading, trained on 5: values right on {simple['forms']} unseen: "
        f"{simple['right']}/{simple['total']} = {simple['right'] / simple['total']:.1%}"
    )
    for key, want, got in simple["wrong"]:
        print(f"  {key} want {want!r} got {got!r}")
    lab = labeled_2020()
    print(f"\n2020 labelled set, Test/Invoice_6 vs Azure (training 5 forms: {lab['train_s']} s):")
    print(table(["field", "Azure", "Percept", "same"], lab["rows"]))
    print(f"custom analysis / layout on Invoice_6: {lab['ratio']}x")
    rows = []
    sets = [(n, f, None) for n, f in TAX.items()] + [("purchase orders", PURCHASE_ORDERS / "train", None)]
    for name, folder, labels in sets:
        r = leave_one_out(name, folder, labels)
        fields = r["fields"]
        ok = sum(1 for a in fields.values() if a >= 0.97)
        rows.append(
            [
                name,
                f"{r['forms']} ({r['digital']} digital)",
                r["average"],
                r["digital_average"] if r["digital_average"] is not None else "-",
                f"{ok}/{len(fields)}",
                r["read_s"],
                r["fit_s"],
            ]
        )
        low = {k: v for k, v in fields.items() if v < 0.97}
        print(f"\n{name}: fields below 0.97: {low}")
    print("\nTax forms, leave-one-out per form kind (each form read by a model fitted on the others):")
    print(table(["set", "kind", "forms", "fields right", "accuracy", "ignoring spaces"], tax_forms()))
    print("\nLeave-one-out field accuracy (each form read by a model fitted on the others):")
    print(table(["set", "forms", "average", "digital forms only", "fields >= 0.97", "read s", "fit s"], rows))
    po = analysis_ratio(PURCHASE_ORDERS / "train")
    print(f"\npurchase orders (scans): layout {po['layout_s']} s, model {po['model_s']} s, ratio {po['ratio']}x")


if __name__ == "__main__":
    main()
