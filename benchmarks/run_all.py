"""Run the benchmarks and write docs/benchmarks.md with the date and the machine.

``python benchmarks/run_all.py`` runs every section; ``python benchmarks/run_all.py accuracy reading`` runs only
those and replaces them in place, keeping the others (each section states when and where it ran). Custom models
run apart, by hand: ``python -m benchmarks.custom``.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import accuracy
import handwriting
import photos
import server
import speed
import vision
import vision_faces
from common import ROOT, machine

NOTES_MARKER = "<!-- notes: kept by run_all.py -->"
SECTIONS: dict[str, Callable[[], str]] = {
    "speed": speed.main,
    "server": server.main,
    "accuracy": accuracy.main,
    "reading": lambda: photos.main() + "\n" + handwriting.main() + "\n" + _table_words(),
    "vision": lambda: vision.main() + "\n" + vision_faces.main() + "\n",
}


def _table_words() -> str:
    import table_words

    return table_words.main()


HEADER = [
    "# Benchmarks",
    "",
    "Written by `make bench` (`benchmarks/run_all.py`); each section says when and on what it ran.",
    "Every number is a ratio against a baseline run in the same run where one exists.",
    "",
]


def _block(name: str, text: str) -> str:
    stamp = f"_Section `{name}`: run {dt.date.today().isoformat()} on {machine()}._"
    return f"<!-- section:{name} -->\n{stamp}\n\n{text.rstrip()}\n<!-- /section:{name} -->\n"


def _old_blocks(body: str) -> dict[str, str]:
    found = re.finditer(r"<!-- section:(\w+) -->\n.*?<!-- /section:\1 -->\n", body, flags=re.S)
    return {m.group(1): m.group(0) for m in found}


def main(names: list[str]) -> None:
    unknown = set(names) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections: {', '.join(sorted(unknown))}; known: {', '.join(SECTIONS)}")
    out = ROOT / "docs" / "benchmarks.md"
    out.parent.mkdir(exist_ok=True)
    text = out.read_text() if out.exists() else ""
    # Hand-written reading of the numbers lives below the marker and survives a re-run.
    body, notes = text.split(NOTES_MARKER, 1) if NOTES_MARKER in text else (text, "")
    blocks = _old_blocks(body)
    for name in names or list(SECTIONS):
        print(f"run_all: {name}", file=sys.stderr)
        blocks[name] = _block(name, SECTIONS[name]())
    ordered = [blocks[name] for name in SECTIONS if name in blocks]
    out.write_text("\n".join(HEADER) + "\n" + "\n".join(ordered) + "\n" + NOTES_MARKER + notes)
    print(out.read_text())


if __name__ == "__main__":
    main(sys.argv[1:])
