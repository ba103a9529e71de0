"""Custom-model benchmarks on Azure's own samples: keys found without labels (2019 invoices), fields with labels
against Azure's analysis of the 2020 test invoice, leave-one-out field accuracy on the labelled tax forms and the
purchase orders, training time, and custom analysis time as a ratio of layout time on the same pages.

Run: ``python -m benchmarks.custom``. Reads ../shared/data in place (nothing is copied).
"""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any

from percept import read_document
from percept.config import ReadOptions
from percept.custom import labeled, unlabeled
from percept.model import Document

from .common import machine, table

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
    print("\nLeave-one-out field accuracy (each form read by a model fitted on the others):")
    print(table(["set", "forms", "average", "digital forms only", "fields >= 0.97", "read s", "fit s"], rows))
    po = analysis_ratio(PURCHASE_ORDERS / "train")
    print(f"\npurchase orders (scans): layout {po['layout_s']} s, model {po['model_s']} s, ratio {po['ratio']}x")


if __name__ == "__main__":
    main()
