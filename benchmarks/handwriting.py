"""Handwriting, per OCR engine: character error rate on handwritten notes and form answers in varied hands.

Sources (../shared/data, read in place): Note.jpg, a four-line shopping list photographed on a table; handwritten
FUNSD answers (FUNSD does not mark handwriting: the list below was curated by viewing the answer crops, leaving out
signatures, crossed-out and illegible entries, with the transcription corrected where FUNSD's is wrong); and the hand-
filled fields of the Azure sample tax forms (W-8BEN, W-9, 1099-MISC scans), whose boxes come from their .labels.json
and whose text is our own reading (the labels are Azure's OCR and misread several fields).

Each page is read whole through read_document, as a user would; a field's reading is the words whose centres fall in
its box, in reading order, unless the word overlaps another FUNSD entity more: FUNSD's answer boxes reach over printed
labels annotated as entities of their own, such as "DATE" under a date line (counted as misreads until 2026-12-07,
they were 8 of the FUNSD answers' 58 edits). CER is taken with whitespace removed on both sides: handwritten spacing
is not observable ("8/ 7/ 87" in FUNSD) and box-filled digits have none. Note.jpg's lines are matched like the photo
set's phrases.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import Score
from common import DATA, table
from photos import ENGINES, _available, found, span_edits

from percept import ReadOptions, read_document

NOTE = "azure_ai102_vision_samples/read-text/Note.jpg"
NOTE_LINES = ["Shopping List", "Non-Fat milk", "Bread", "Eggs"]

# (FUNSD split, form, answer entity id, handwritten text)
FUNSD_ANSWERS: list[tuple[str, str, int, str]] = [
    ("testing", "83996357", 7, "07809"),
    ("testing", "83996357", 9, "14%"),
    ("testing", "86263525", 23, "Wayne Baughan"),
    ("testing", "86263525", 27, "Wayne Baughan"),
    ("testing", "87125460", 24, "8/7/87"),
    ("testing", "87125460", 25, "08/14/87"),
    ("testing", "87528321", 55, "8-17-88"),
    ("testing", "87528321", 62, "9/8/88"),
    ("training", "0001123541", 3, "EQPR"),
    ("training", "0001123541", 23, "6/21/93"),
    ("training", "0001463282", 92, "5/2/90"),
    ("training", "0001463282", 93, "5/3/90"),
    ("training", "0001463282", 94, "5/3/90"),
    ("training", "0011505151", 11, "9,442"),
    ("training", "0011505151", 14, "77,900"),
    ("training", "0012529295", 85, "10/9/87"),
    ("training", "0012529295", 86, "10/13/87"),
    ("training", "0012602424", 69, "11/29/84"),
    ("training", "0012602424", 71, "12-10-84"),
    ("training", "0012602424", 72, "12/11/84"),
    ("training", "0012602424", 73, "12-11"),
    ("training", "0060207528", 4, "45"),
    ("training", "0060207528", 5, "54"),
    ("training", "0060207528", 34, "6/27/89"),
    ("training", "0060207528", 43, "7/25/89"),
    ("training", "11508234", 100, "3/3/95"),
    ("training", "11508234", 101, "3/3/95"),
    ("training", "11508234", 102, "3/3/95"),
    ("training", "87533049", 13, "530430"),
    ("training", "87533049", 14, "1112"),
    ("training", "89368010", 1, "6/3/82"),
    ("training", "89368010", 4, "Accept"),
    ("training", "89368010", 5, "Accept"),
    ("training", "89368010", 6, "Accept"),
    ("training", "89368010", 32, "03 June 1982"),
    ("training", "89368010", 33, "3 June 1982"),
    ("training", "91391286", 11, "8482"),
    ("training", "91391286", 12, "1.5%"),
    ("training", "91391286", 13, "9076"),
    ("training", "91391310", 15, "8470"),
    ("training", "91391310", 16, "916"),
    ("training", "91391310", 17, "80%"),
    ("training", "91974562", 7, "00862"),
    ("training", "91974562", 9, "8%"),
    ("training", "93351929_93351931", 33, "3%"),
    ("training", "93351929_93351931", 34, "414"),
    ("training", "93380187", 19, "1143"),
    ("training", "93380187", 58, "80%"),
]
# More handwritten answers, one per form: read too with --full (17 more pages, about twice the run time).
FUNSD_MORE: list[tuple[str, str, int, str]] = [
    ("testing", "82254765", 8, "7/6/97"),
    ("testing", "83573282", 19, "1129.01"),
    ("testing", "86075409_5410", 54, "05787"),
    ("testing", "87137840", 37, "03/02/90"),
    ("testing", "87594142_87594144", 17, "5/26/93"),
    ("testing", "92380595", 79, "12/14/89"),
    ("training", "00040534", 11, "A4"),
    ("training", "0011838621", 50, "6/21/90"),
    ("training", "0012529284", 51, "12/7/87"),
    ("training", "0060029036", 13, "1-11-94"),
    ("training", "0060036622", 34, "8/26"),
    ("training", "0060165115", 7, "2463"),
    ("training", "00836816", 28, "8/10/82"),
    ("training", "71190280", 33, "10/22/98 10/22/98"),
    ("training", "71202511", 71, "3/17/98"),
    ("training", "82254638", 9, "29-980-2"),
    ("training", "92314414", 29, "1 November 1991"),
]

TAX = "azure_fr_samples/labeled_tax_forms"
# Field label (its boxes in <form>.labels.json, printed "$" words left out) -> the handwritten text.
TAX_FIELDS: dict[str, dict[str, str]] = {
    f"{TAX}/w8-training-data/fw8ben_handwritten.jpg": {
        "Name": "ANDREW HERBERT",
        "Citizenship": "AUSTRALIA",
        "PermanentStreetAddress": "61 BLACK POINT DRIVE",
        "PermanentCityState": "MIDGEE, SA 5602",
        "PermanentCountry": "AUSTRALIA",
        "MailingStreetAddress": "124 PARKES RD",
        "MailingCityState": "SPORTSWOOD, VIC 3015",
        "MailingCountry": "AUSTRALIA",
        "SSN_ITIN": "457-06-1345",
        "ForeignTaxIdentifyingNumber": "DE1456790",
        "ReferenceNumber": "143",
        "DateOfBirth": "04-20-1976",
        "ClaimBenefitResident": "AUSTRALIA",
        "ArticleParagraph": "17",
        "Rate": "10",
        "TypeOfIncome": "BONUSES, COMMISSIONS",
        "AdditionialConditions": "EXPLAIN STATEMENT GOES HERE",
        "Date": "04-19-2021",
        "NameOfSigner": "JANE HERBERT",
        "CapacityActing": "SPOUSE",
    },
    f"{TAX}/w9-training-data/fw9_scanned.jpg": {
        "Name": "JANE DOE",
        "BusinessName": "J&J",
        "LLC_Classification": "P",
        "ExemptPayeeCode": "8",
        "FATCA_Code": "K",
        "Address": "7 WILSON STREET",
        "CityStateZip": "GOSHEN, IN, 46526",
        "RequesterNameAddress": "JOANNE JANG 210 WEST AVE, PALOS, CA, 90274",
        "AccountNumbers": "15679431",
        "SSN": "143-57-9765",
        "EIN": "39-1425392",
    },
    f"{TAX}/1099-training-data/f1099_scanned.jpg": {
        "PayerAddress": "MYRTLE COMPANY 144 CENTRE AVE PITTSBURGH, PA, 15213",
        "PayerTIN": "12-354543",
        "RecipientTIN": "12-345-6789",
        "RecipientName": "JOHN PARK",
        "RecipientAddress": "144 ARASTRADERO RD SUNNYVALE, CA, 98004",
        "AccountNumber": "57945-A",
        "Rents": "48,000",
        "Royalties": "10,000",
        "OtherIncome": "5,000",
        "FederalIncomeTaxWithheld": "1,850",
        "FishingBoatProceeds": "4,500",
        "MedicalHealthCarePayments": "6,230",
        "SubstitutePayments": "590,50",
        "CropInsuranceProceeds": "1,400",
        "GrossProceedsAttorney": "6,850",
        "FishResale": "2,100",
        "409ADeferrals": "150",
        "ExcessGoldenParachutePayments": "2,400",
        "NonqualifiedDeferredCompensation": "1,000",
        "StateTaxWithheld": "2,189",
        "StateNo": "PA",
        "StateIncome": "1,800",
    },
}

Box = tuple[float, float, float, float]


def _read(args: tuple[str, str]) -> tuple[Any, float]:
    path, engine = args
    t = time.perf_counter()
    doc = read_document(path, options=ReadOptions(workers=1, ocr_engine=engine))
    return doc, time.perf_counter() - t


def _overlap(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def words_in(page: Any, box: Box, pad: float, others: Sequence[Box] = ()) -> str:
    """The page's words whose centres fall in the box, line by line (by centre height), left to right.

    A word that overlaps one of ``others`` (the form's other annotated boxes) more than this box is theirs: FUNSD's
    answer boxes reach over the printed label under a date line ("DATE"), which is annotated as its own entity."""
    x0, y0, x1, y1 = box
    hits = []
    for word in page.words:
        xs, ys = word.polygon[0::2], word.polygon[1::2]
        cx, cy = sum(xs) / 4, sum(ys) / 4
        if not (x0 - pad <= cx <= x1 + pad and y0 - pad <= cy <= y1 + pad):
            continue
        own = (min(xs), min(ys), max(xs), max(ys))
        if any(_overlap(own, other) > _overlap(own, box) for other in others):
            continue
        hits.append((cy, cx, (max(ys) - min(ys)) / 2, word.content))
    lines: list[list[tuple[float, float, float, str]]] = []
    for hit in sorted(hits):
        if lines and hit[0] - lines[-1][0][0] < max(lines[-1][0][2], hit[2]):
            lines[-1].append(hit)
        else:
            lines.append([hit])
    return " ".join(w[3] for line in lines for w in sorted(line, key=lambda h: h[1]))


def _tax_boxes(path: Path, width: float, height: float) -> dict[str, list[Box]]:
    """Each field's boxes, one per written line: a box over a whole multi-line field would take in the printed
    caption between its lines."""
    labels = json.loads(Path(f"{path}.labels.json").read_text())["labels"]
    out: dict[str, list[Box]] = {}
    for label in labels:
        rows: list[Box] = []
        for value in label["value"]:
            if value["text"] == "$":  # printed on the form, not handwriting
                continue
            for b in value["boundingBoxes"]:
                xs, ys = [x * width for x in b[0::2]], [y * height for y in b[1::2]]
                box = (min(xs), min(ys), max(xs), max(ys))
                row = next((i for i, r in enumerate(rows) if r[1] < (box[1] + box[3]) / 2 < r[3]), None)
                if row is None:
                    rows.append(box)
                else:
                    r = rows[row]
                    rows[row] = (min(r[0], box[0]), min(r[1], box[1]), max(r[2], box[2]), max(r[3], box[3]))
        if rows:
            out[label["label"]] = sorted(rows, key=lambda r: r[1])
    return out


def _squeeze(text: str) -> str:
    return "".join(text.split())


class Tally:
    """CER as written and case-folded (hand-printed capitals are often read in lower case), plus page time."""

    def __init__(self) -> None:
        self.exact, self.folded = Score(), Score(fold_case=True)
        self.items = self.right = 0
        self.seconds = 0.0
        self.pages: set[str] = set()

    def add(self, predicted: str, truth: str) -> None:
        self.exact.add_text(_squeeze(predicted), _squeeze(truth))
        self.folded.add_text(_squeeze(predicted), _squeeze(truth))
        self.items += 1
        self.right += _squeeze(predicted) == _squeeze(truth)

    def merge(self, other: Tally) -> None:
        for mine, theirs in ((self.exact, other.exact), (self.folded, other.folded)):
            mine.edits += theirs.edits
            mine.chars += theirs.chars
        self.items += other.items
        self.right += other.right
        self.seconds += other.seconds
        self.pages |= other.pages


def run(engine: str, full: bool = False) -> dict[str, Tally]:
    answers = FUNSD_ANSWERS + FUNSD_MORE if full else FUNSD_ANSWERS
    forms = sorted({(split, stem) for split, stem, _, _ in answers})
    funsd_paths = {f: DATA / "funsd" / f"{f[0]}_data" / "images" / f"{f[1]}.png" for f in forms}
    paths = [DATA / NOTE, *funsd_paths.values(), *(DATA / p for p in TAX_FIELDS)]
    with ProcessPoolExecutor(2) as pool:
        reads = dict(zip(paths, pool.map(_read, [(str(p), engine) for p in paths]), strict=True))
    out: dict[str, Tally] = {}

    note = out["Note.jpg (shopping list, line found / span CER)"] = Tally()
    doc, secs = reads[DATA / NOTE]
    for line in NOTE_LINES:
        edits = span_edits(line, doc.content)
        note.exact.edits += edits
        note.exact.chars += len(line)
        note.folded.edits += edits  # span_edits compares case-folded text already
        note.folded.chars += len(line)
        note.items += 1
        note.right += found(line, doc.content)
    note.seconds, note.pages = secs, {NOTE}

    funsd = out[f"FUNSD handwritten answers ({len(answers)} in {len(forms)} forms)"] = Tally()
    entities: dict[tuple[str, str], dict[int, Box]] = {}
    for form, path in funsd_paths.items():
        annotation = path.parent.parent / "annotations" / f"{form[1]}.json"
        entities[form] = {e["id"]: tuple(e["box"]) for e in json.loads(annotation.read_text())["form"]}
        funsd.seconds += reads[path][1]
        funsd.pages.add(str(path))
    for split, stem, entity, truth in answers:
        page = reads[funsd_paths[(split, stem)]][0].pages[0]
        boxes = entities[(split, stem)]
        others = [b for i, b in boxes.items() if i != entity]
        funsd.add(words_in(page, boxes[entity], pad=0, others=others), truth)

    for rel, fields in TAX_FIELDS.items():
        path = DATA / rel
        doc, secs = reads[path]
        page = doc.pages[0]
        boxes = _tax_boxes(path, page.width, page.height)
        tally = out[f"{path.name} ({len(fields)} hand-filled fields)"] = Tally()
        for label, truth in fields.items():
            reading = " ".join(words_in(page, box, pad=0.004 * page.width) for box in boxes[label])
            tally.add(reading.replace("$", ""), truth)  # "$" is printed on the form and may join the amount
        tally.seconds, tally.pages = secs, {rel}
    return out


def main(engines: list[str] | None = None, full: bool = False) -> str:
    if not DATA.is_dir():
        return "## Handwriting\n\n../shared/data is not present: skipped.\n"
    default = ReadOptions().ocr_engine
    available = _available()
    rows: list[list[object]] = []
    for engine in engines or ENGINES:
        label = f"{engine} (default)" if engine == default else engine
        if engine not in available:
            rows.append([label, "unavailable", "", "", "", "", ""])
            continue
        try:
            tallies = run(engine, full)
        except Exception as exc:  # an engine that fails to load is reported, not fatal
            rows.append([label, f"unavailable: {exc}", "", "", "", "", ""])
            continue
        total = Tally()
        for name, t in tallies.items():
            total.merge(t)
            rows.append(
                [
                    label,
                    name,
                    f"{t.right}/{t.items}",
                    t.exact.chars,
                    t.exact.cer,
                    t.folded.cer,
                    t.seconds / len(t.pages),
                ]
            )
        rows.append(
            [
                label,
                "**all handwriting**",
                f"{total.right}/{total.items}",
                total.exact.chars,
                total.exact.cer,
                total.folded.cer,
                total.seconds / len(total.pages),
            ]
        )
        print(f"handwriting: {engine} done", file=sys.stderr)
    parts = [
        "## Handwriting",
        "",
        "CER = edits per ground-truth character, whitespace removed (lower is better), as written and case-folded; "
        "exact = items read without a single error (Note.jpg: lines found). A form field's reading is the words "
        "whose centres fall in its box on the whole-page read. Seconds per page are single-threaded, two pages at a "
        f"time. The default engine is `{default}`.",
        "",
        table(["engine", "source", "exact", "chars", "CER", "CER folded", "s/page"], rows),
        "",
    ]
    return "\n".join(parts)


if __name__ == "__main__":
    args = sys.argv[1:]
    print(main([a for a in args if a != "--full"] or None, full="--full" in args))
