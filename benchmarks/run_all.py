"""Run every benchmark and write docs/benchmarks.md with the date and the machine."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import accuracy
import speed
from common import ROOT, machine


def main() -> None:
    sections = {"speed": speed.main(), "accuracy": accuracy.main()}
    header = [
        "# Benchmarks",
        "",
        f"Run {dt.date.today().isoformat()} on {machine()}, by `make bench` (`benchmarks/run_all.py`).",
        "Every number is a ratio against a baseline run in the same run where one exists.",
        "",
    ]
    out = ROOT / "docs" / "benchmarks.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(header) + "\n" + sections["speed"] + "\n" + sections["accuracy"])
    print(out.read_text())


if __name__ == "__main__":
    main()
