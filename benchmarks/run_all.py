"""Run every benchmark and write docs/benchmarks.md with the date and the machine."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import accuracy
import server
import speed
import vision
import vision_faces
from common import ROOT, machine

NOTES_MARKER = "<!-- notes: kept by run_all.py -->"


def main() -> None:
    sections = {
        "speed": speed.main(),
        "server": server.main(),
        "accuracy": accuracy.main(),
        "vision": vision.main() + "\n" + vision_faces.main() + "\n",
    }
    header = [
        "# Benchmarks",
        "",
        f"Run {dt.date.today().isoformat()} on {machine()}, by `make bench` (`benchmarks/run_all.py`).",
        "Every number is a ratio against a baseline run in the same run where one exists.",
        "",
    ]
    out = ROOT / "docs" / "benchmarks.md"
    out.parent.mkdir(exist_ok=True)
    # Hand-written reading of the numbers lives below the marker and survives a re-run.
    notes = ""
    if out.exists() and NOTES_MARKER in out.read_text():
        notes = out.read_text().split(NOTES_MARKER, 1)[1]
    body = "\n".join(header) + "\n" + "\n".join(sections.values())
    out.write_text(body + "\n" + NOTES_MARKER + notes)
    print(out.read_text())


if __name__ == "__main__":
    main()
