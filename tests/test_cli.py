"""The ``percept read`` and ``percept layout`` commands, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import builders


def _percept(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "percept.cli", *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_read_prints_the_analyze_result(tmp_path: Path, digital_pdf: bytes, truth: str) -> None:
    path = tmp_path / "doc.pdf"
    path.write_bytes(digital_pdf)
    proc = _percept("read", str(path), "--pages", "1")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["modelId"] == "prebuilt-read"
    assert result["content"] == truth
    assert [p["pageNumber"] for p in result["pages"]] == [1]


def test_read_text_format_with_an_engine(tmp_path: Path, clean_scan, truth: str) -> None:
    from percept.evaluation import cer

    path = builders.save_image(clean_scan, tmp_path / "scan.png")
    proc = _percept("read", str(path), "--format", "text", "--engine", "tesseract")
    assert proc.returncode == 0, proc.stderr
    assert cer(proc.stdout, truth) <= 0.01


def test_bad_input_is_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    path = tmp_path / "junk.pdf"
    path.write_bytes(b"not a document at all")
    proc = _percept("read", str(path))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "percept: InvalidContent: The file is corrupted or format is unsupported. Supported formats: PDF, JPEG, "
        "PNG, BMP, TIFF, GIF, WebP and HEIF."
    ]
    missing = _percept("read", str(tmp_path / "nope.png"))
    assert missing.returncode == 2 and "not found" in missing.stderr


def test_progress_bar_on_a_terminal_and_quiet_in_a_pipe(tmp_path: Path) -> None:
    """Long documents show a progress bar on stderr when it is a terminal; piped, stderr stays clean."""
    import os
    import pty

    path = tmp_path / "long.pdf"
    path.write_bytes(builders.text_pdf([builders.PARAGRAPH] * 6))
    proc = _percept("read", str(path), "--format", "text")
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert proc.stdout.count("Invoice number 4711") == 6

    main, terminal = pty.openpty()
    try:
        run = subprocess.Popen(
            [sys.executable, "-m", "percept.cli", "read", str(path), "--format", "text"],
            stdout=subprocess.PIPE,
            stderr=terminal,
        )
        os.close(terminal)
        seen = b""
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the terminal closed: the program has ended
                break
            if not chunk:
                break
            seen += chunk
        out, _ = run.communicate(timeout=300)
    finally:
        os.close(main)
    assert run.returncode == 0
    assert out.decode().count("Invoice number 4711") == 6
    assert b"6/6" in seen and b"page" in seen, seen


def test_json_is_compact_unless_pretty(tmp_path: Path, digital_pdf: bytes) -> None:
    path = tmp_path / "doc.pdf"
    path.write_bytes(digital_pdf)
    compact = _percept("read", str(path))
    pretty = _percept("read", str(path), "--pretty")
    assert compact.returncode == pretty.returncode == 0
    assert compact.stdout.count("\n") == 1 and pretty.stdout.count("\n") > 20
    assert json.loads(compact.stdout) == json.loads(pretty.stdout)


def test_layout_json_and_markdown(tmp_path: Path) -> None:
    path = tmp_path / "form.pdf"
    path.write_bytes(builders.layout_pdf())
    proc = _percept("layout", str(path))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["modelId"] == "prebuilt-layout"
    cells = {c["content"] for t in result["tables"] for c in t["cells"]}
    assert {"Widget", "Subtotal", "5,720"} <= cells
    assert [m["state"] for m in result["pages"][0]["selectionMarks"]].count("selected") == 3
    md = _percept("layout", str(path), "--format", "markdown")
    assert md.returncode == 0, md.stderr
    assert md.stdout.startswith("# Quarterly Report") and "<table>" in md.stdout


def test_train_with_labels_then_analyze(tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "fields.json").write_text(json.dumps(builders.ORDER_FIELDS))
    orders = [*builders.ORDERS, ("PO-80", "Proseware Inc", "5 Ash St, Waco TX"), ("PO-81", "Fabrikam", "6 Fir St")]
    for i, order in enumerate(orders):
        (forms / f"o{i}.pdf").write_bytes(builders.order_form(*order, dx=4 * i))
        (forms / f"o{i}.pdf.labels.json").write_text(json.dumps(builders.order_labels(f"o{i}.pdf", *order, dx=4 * i)))
    store = str(tmp_path / "store")
    trained = _percept("train", str(forms), "--labels", "--data-dir", store)
    assert trained.returncode == 0, trained.stderr
    model = json.loads(trained.stdout)
    assert model["status"] == "ready" and model["averageModelAccuracy"] == 1.0
    new = tmp_path / "new.pdf"
    new.write_bytes(builders.order_form("PO-99", "Adventure Works", "9 Elm St, Troy NY", dx=-6, dy=5))
    analyzed = _percept("analyze", model["modelId"], str(new), "--data-dir", store)
    assert analyzed.returncode == 0, analyzed.stderr
    fields = json.loads(analyzed.stdout)["documents"][0]["fields"]
    assert {k: f["valueString"] for k, f in fields.items()} == {
        "PO": "PO-99",
        "Vendor": "Adventure Works",
        "ShipTo": "9 Elm St, Troy NY",
    }
    missing = _percept("analyze", "no-such-model", str(new), "--data-dir", store)
    assert missing.returncode == 2 and "not found" in missing.stderr
