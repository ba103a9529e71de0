"""Tesseract 5 (LSTM) through its command-line program, one single-threaded run per page.

Measured here: Tesseract's OpenMP threads make a page *slower* on 2 cores (9.3 s vs 2.3 s with
``OMP_THREAD_LIMIT=1``), so every run is single-threaded and the pipeline spreads pages over processes. The image
goes in on stdin as PNG and words come back as TSV with boxes and confidences.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import OrderedDict
from typing import Any, ClassVar, cast

import cv2
import numpy as np

from .. import engines
from ..errors import EngineUnavailable, ProcessingError
from ..lifeline import child_dies_with_us
from ..model import Line, Word, bounding_polygon, box_polygon
from .base import OcrResult
from .options import TesseractOptions

TIMEOUT_S = 300


def tesseract_command(options: TesseractOptions | None = None) -> str | None:
    """The Tesseract program: the ``command`` option (``PERCEPT_TESSERACT_CMD``), else ``tesseract`` on PATH; one
    rule for OCR and for the language packs a hint can pick."""
    if options is None:
        options = cast(TesseractOptions, engines.load_options("ocr", "tesseract"))
    return options.command or shutil.which("tesseract")


def run_tesseract(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    """Run Tesseract in its own session (a signal to the server's process group must not cut a page short), yet
    killed by the kernel if the process running it dies, so a crashed or killed worker leaves no Tesseract behind."""
    return subprocess.run(
        args, capture_output=True, check=False, start_new_session=True, preexec_fn=child_dies_with_us(), **kwargs
    )


def _png(image: np.ndarray) -> bytes:
    """Fast PNG: measured here, Tesseract reads a 300 dpi page ~0.2 s faster from PNG than from PGM or BMP,
    and level-1 compression costs only ~0.05 s."""
    ok, buf = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:  # pragma: no cover - OpenCV encodes any 8-bit array
        raise ProcessingError("Could not encode the page for Tesseract.")
    return buf.tobytes()


class TesseractEngine:
    name = "tesseract"
    rescales = True

    # Tesseract's binarisation: Otsu (its default) or Sauvola. Measured here, Sauvola cut line CER on 20 SROIE
    # receipts from 9.4% to 8.4% and on tesseract_ocr_gt from 7.2% to 6.4%, at 4% more time per dense page.
    THRESHOLDING: ClassVar[dict[str, str]] = {"otsu": "0", "sauvola": "2"}

    def __init__(self, options: TesseractOptions | None = None, **overrides: Any) -> None:
        """``options`` as built by the registry; without them, the environment's with ``overrides`` (``psm=6``)."""
        if options is None:
            options = cast(TesseractOptions, engines.load_options("ocr", "tesseract", **overrides))
        elif overrides:
            raise TypeError("Give TesseractEngine options or overrides, not both.")
        self.options = options
        found = tesseract_command(options)
        if not found:
            raise EngineUnavailable(
                "Tesseract is not installed: apt-get install tesseract-ocr (or set PERCEPT_TESSERACT_CMD)."
            )
        self.command: str = found
        self.psm = options.psm
        self.thresholding = self.THRESHOLDING[options.thresholding]
        self.env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def recognize(
        self, image: np.ndarray, *, languages: str = "eng", dpi: int | None = None, handwriting: bool = False
    ) -> OcrResult:
        args = [self.command, "stdin", "stdout", "-l", languages, "--oem", "1", "--psm", str(self.psm)]
        if dpi:
            args += ["--dpi", str(dpi)]
        if self.thresholding != "0":
            args += ["-c", f"thresholding_method={self.thresholding}"]
        args.append("tsv")
        try:
            proc = run_tesseract(args, input=_png(image), env=self.env, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise ProcessingError(f"Tesseract took longer than {TIMEOUT_S} s on one page.") from None
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ProcessingError(f"Tesseract failed: {err[-1] if err else proc.returncode}")
        return parse_tsv(proc.stdout.decode("utf-8", "replace"))


def osd_rotation(image: np.ndarray, options: TesseractOptions | None = None) -> tuple[int, float] | None:
    """Tesseract's orientation detection (``--psm 0``): the clockwise quarter turn the text is in (the turn
    ``geometry.quarter_turn`` undoes) and its confidence; None without Tesseract, its ``osd`` pack or an answer.

    About a fifth of the time of reading the page, so a sideways page is read once, not in three turns.
    """
    command = tesseract_command(options)
    if not command:
        return None
    if max(image.shape[:2]) > 2600:  # OSD needs no more than ~150 dpi
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        proc = run_tesseract([command, "stdin", "stdout", "--psm", "0"], input=_png(image), env=env, timeout=60)
    except subprocess.TimeoutExpired:
        return None
    fields = dict(line.split(":", 1) for line in proc.stdout.decode("utf-8", "replace").splitlines() if ":" in line)
    try:
        return int(fields["Orientation in degrees"].strip()) % 360, float(fields["Orientation confidence"].strip())
    except (KeyError, ValueError):
        return None


def parse_tsv(tsv: str) -> OcrResult:
    """Tesseract TSV rows (level 5 = word) to lines of words, with (block, paragraph) groups as blocks."""
    lines_by_key: OrderedDict[tuple[int, int, int], list[Word]] = OrderedDict()
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = cols[11].strip()
        conf = float(cols[10])
        if not text or conf < 0:
            continue
        left, top, width, height = (int(c) for c in cols[6:10])
        key = (int(cols[2]), int(cols[3]), int(cols[4]))
        word = Word(text, box_polygon(left, top, left + width, top + height), round(conf / 100.0, 3))
        lines_by_key.setdefault(key, []).append(word)

    lines: list[Line] = []
    blocks: OrderedDict[tuple[int, int], list[int]] = OrderedDict()
    for (block, par, _), words in lines_by_key.items():
        blocks.setdefault((block, par), []).append(len(lines))
        lines.append(Line(" ".join(w.content for w in words), bounding_polygon([w.polygon for w in words]), words))
    return OcrResult(lines, list(blocks.values()))
