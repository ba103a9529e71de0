"""Text on camera photos, per OCR engine: how many of a photo's phrases each engine reads.

The photos are real camera shots from ../shared/data (read in place): a monument inscription, receipts and business
cards photographed on a table, an insurance card. Their ground truth is our own transcription, made by looking at
each image, kept below as literal phrases (one printed line or one label/value each). A phrase counts as found when
it occurs in the reading, case-insensitive, with whitespace free to differ and not inside a longer word or number;
the span CER is the edit distance from the phrase to the closest span of the reading, per phrase character.

No public scene-text set (ICDAR, COCO-Text, Total-Text) ships in a PyPI, npm or Debian package usable here, so the
set is these samples only.
"""

from __future__ import annotations

import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA, table

from percept import ReadOptions, read_document
from percept.evaluation import normalize

ENGINES = ["tesseract", "rapidocr", "auto"]

FR = "azure_fr_samples"
PHOTOS: dict[str, list[str]] = {
    "azure_ai102_vision_samples/read-text/Lincoln.jpg": [
        "IN THIS TEMPLE",
        "AS IN THE HEARTS OF THE PEOPLE",
        "FOR WHOM HE SAVED THE UNION",
        "THE MEMORY OF ABRAHAM LINCOLN",
        "IS ENSHRINED FOREVER",
    ],
    f"{FR}/sample_inputs/receipt.png": [
        "Contoso",
        "123 Main Street",
        "Redmond, WA 98052",
        "987-654-3210",
        "6/10/2019 13:59",
        "Sales Associate: Paul",
        "2 Surface Pro 6",
        "$1,998.00",
        "3 Surface Pen",
        "$299.97",
        "Sub-Total",
        "$2,297.97",
        "Tax",
        "$218.31",
        "Total",
        "$2,516.28",
    ],
    f"{FR}/sample_inputs/contoso-receipt.png": [
        "Contoso",
        "123 Main Street",
        "Redmond, WA 98052",
        "123-456-7890",
        "6/10/2019 13:59",
        "Sales Associate: Paul",
        "1 Surface Pro 6",
        "256GB / Intel Core i5 /",
        "8GB RAM (Black)",
        "$999.00",
        "1 SurfacePen",
        "$99.99",
        "Sub-Total",
        "$1098.99",
        "Tax",
        "$104.40",
        "Total",
        "$1203.39",
    ],
    # Azure's prebuilt receipt result for this photo (receipt-result.json) agrees on every field.
    f"{FR}/service_responses/contoso-allinone.jpg": [
        "Contoso",
        "123 Main Street",
        "Redmond, WA 98052",
        "987-654-3210",
        "6/10/2019 13:59",
        "Sales Associate: Paul",
        "1 Cappuccino",
        "$2.20",
        "1 BACON & EGGS",
        "Sunny-side-up",
        "$9.5",
        "Sub-Total",
        "$11.70",
        "Tax",
        "$1.17",
        "Tip",
        "$1.63",  # handwritten
        "Total",
        "$14.50",  # handwritten
    ],
    # Azure's business-card result (business-card-result.json) has the same texts, but reads "Cloud & Al".
    f"{FR}/service_responses/business-card-english.jpg": [
        "Dr. Avery Smith",
        "Senior Researcher",
        "Cloud & AI Department",
        "avery.smith@contoso.com",
        "https://www.contoso.com/",
        "mob: +44 (0) 7911 123456",
        "tel: +44 (0) 20 9876 5432",
        "fax: +44 (0) 20 6789 2345",
        "Contoso",
        "2 Kingdom Street",
        "Paddington, London, W2 6BD",
    ],
    f"{FR}/sample_inputs/business_card.jpg": [
        "CONTOSO",
        "Chris Smith",
        "Senior Researcher",
        "Cloud & AI Department",
        "chris.smith@contoso.com",
        "https://www.contoso.com/",
        "Cell: +1 (987) 123-4567",
        "Tel: +1 (987) 213-5674",
        "Fax: +1 (987) 312-6745",
        "4001 1st Ave NE Redmond, WA 98052",
    ],
    f"{FR}/sample_inputs/insurance-card.png": [
        "PREMERA",
        "BLUE CROSS",
        "Microsoft",
        "Member",
        "ANGEL BROWN",
        "Prefix",
        "Identification #",
        "Suffix",
        "ABC",
        "123456789",
        "01",
        "Group # 1000000",
        "Rx Group # BCAAXYZ",
        "Rx BIN# 987654",
        "BCBS 456",
        "Medical Network HERITAGE",
        "Premera Dental YES",
        "Premera Vision YES",
        "HEALTH SAVINGS PLAN",
        "Shared In and Out of Network",
        "Deductible",
        "$1,500",
        "Coinsurance Max",
        "$1,000",
        "Note: Rx and Medical Cost-Shares are Shared",
        "Rx",
        "PPO",
    ],
}


def _fold(text: str) -> str:
    return normalize(text).casefold()


def found(phrase: str, reading: str) -> bool:
    """The phrase occurs in the reading, spaces free to differ, not as part of a longer word or number."""
    chars = [re.escape(c) for c in _fold(phrase) if not c.isspace()]
    pattern = r"(?<![0-9a-z])" + r"\s*".join(chars) + r"(?![0-9a-z])"
    return re.search(pattern, _fold(reading)) is not None


def span_edits(phrase: str, reading: str) -> int:
    """Edits from the phrase to the closest span of the reading (semi-global alignment: the span starts and ends
    anywhere), so a phrase read inside a longer line is not charged for the rest of the line."""
    p, r = _fold(phrase), _fold(reading)
    previous = [0] * (len(r) + 1)  # aligning nothing of the phrase costs nothing, wherever the span starts
    for i, cp in enumerate(p, 1):
        current = [i]
        for j, cr in enumerate(r, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (cp != cr)))
        previous = current
    return min(previous)


def _read(args: tuple[str, str]) -> tuple[str, float]:
    path, engine = args
    t = time.perf_counter()
    doc = read_document(path, options=ReadOptions(workers=1, ocr_engine=engine))
    return doc.content, time.perf_counter() - t


def run(engine: str) -> list[tuple[str, int, int, int, int, float]]:
    """Per photo: phrases, phrases found, span edits, phrase characters, seconds."""
    paths = list(PHOTOS)
    with ProcessPoolExecutor(2) as pool:
        readings = list(pool.map(_read, [(str(DATA / p), engine) for p in paths]))
    out = []
    for path, (reading, secs) in zip(paths, readings, strict=True):
        phrases = PHOTOS[path]
        hits = sum(found(ph, reading) for ph in phrases)
        edits = sum(span_edits(ph, reading) for ph in phrases)
        chars = sum(len(_fold(ph)) for ph in phrases)
        out.append((Path(path).name, len(phrases), hits, edits, chars, secs))
    return out


def _available() -> list[str]:
    from percept.ocr import available_engines

    return available_engines()


def main(engines: list[str] | None = None) -> str:
    if not DATA.is_dir():
        return "## Photos\n\n../shared/data is not present: skipped.\n"
    default = ReadOptions().ocr_engine
    available = _available()
    detail: list[list[object]] = []
    summary: list[list[object]] = []
    for engine in engines or ENGINES:
        label = f"{engine} (default)" if engine == default else engine
        if engine not in available:
            summary.append([label, "unavailable", "", "", ""])
            continue
        try:
            rows = run(engine)
        except Exception as exc:  # an engine that fails to load is reported, not fatal
            summary.append([label, f"unavailable: {exc}", "", "", ""])
            continue
        for name, n, hits, edits, chars, secs in rows:
            detail.append([label, name, f"{hits}/{n}", edits / chars, secs])
        n = sum(r[1] for r in rows)
        hits = sum(r[2] for r in rows)
        lincoln = next(r for r in rows if r[0] == "Lincoln.jpg")
        summary.append(
            [
                label,
                f"{hits}/{n} ({hits / n:.1%})",
                sum(r[3] for r in rows) / sum(r[4] for r in rows),
                f"{lincoln[2]}/{lincoln[1]} lines",
                sum(r[5] for r in rows) / len(rows),
            ]
        )
        print(f"photos: {engine} done", file=sys.stderr)
    parts = [
        "## Text on photos",
        "",
        f"{len(PHOTOS)} camera photos, {sum(map(len, PHOTOS.values()))} transcribed phrases (lines or label/value "
        "pairs). Found = the phrase occurs in the reading (case-insensitive, spacing free); span CER = edits to the "
        "closest span of the reading per phrase character. Seconds per image are single-threaded, two at a time. "
        f"The default engine is `{default}`.",
        "",
        table(["engine", "phrases found", "span CER", "Lincoln.jpg", "s/image"], summary),
        "",
        table(["engine", "photo", "phrases found", "span CER", "s/image"], detail),
        "",
    ]
    return "\n".join(parts)


if __name__ == "__main__":
    print(main(sys.argv[1:] or None))
