"""Test documents made in a line: PDFs with known text, rendered 'scans' with noise, skew and turns."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import reportlab
from PIL import Image
from reportlab.lib.pagesizes import letter
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

VERA = os.path.join(os.path.dirname(reportlab.__file__), "fonts", "Vera.ttf")
pdfmetrics.registerFont(TTFont("Vera", VERA))

PARAGRAPH = [
    "The quick brown fox jumps over the lazy dog.",
    "Invoice number 4711 was paid on 2020-03-15.",
    "Please remit the total of $1,234.56 within 30 days.",
    "Contoso Limited, 123 Main Street, Redmond WA 98052",
    "Questions? Write to billing@contoso.com today.",
]


def text_pdf(
    pages: list[list[str]],
    *,
    font: str = "Helvetica",
    size: int = 14,
    rotation: int = 0,
    encrypt: str | None = None,
) -> bytes:
    """A digital PDF: one line of text per string, 1 inch margins, 0.35 inch line pitch."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, encrypt=encrypt)
    for lines in pages:
        c.setFont(font, size)
        y = 10 * 72
        for line in lines:
            c.drawString(72, y, line)
            y -= 0.35 * 72
        c.showPage()
    c.save()
    data = buf.getvalue()
    if rotation:
        pdf = pdfium.PdfDocument(data)
        for page in pdf:
            page.set_rotation(rotation)
        out = io.BytesIO()
        pdf.save(out)
        data = out.getvalue()
    return data


def render(pdf: bytes, index: int = 0, dpi: int = 200) -> np.ndarray:
    """Rasterise one PDF page to 8-bit grayscale, as a scanner would."""
    doc = pdfium.PdfDocument(pdf)
    bitmap = doc[index].render(scale=dpi / 72.0, grayscale=True)
    return np.array(bitmap.to_numpy()).reshape(bitmap.height, bitmap.width).copy()


def scan(gray: np.ndarray, *, skew: float = 0.0, turn: int = 0, noise: float = 0.0, blur: bool = False) -> np.ndarray:
    """Degrade a clean page: rotate the text clockwise by ``skew`` degrees and ``turn`` quarter turns, add noise."""
    img = gray
    if skew:
        h, w = img.shape
        m = cv2.getRotationMatrix2D((w / 2, h / 2), -skew, 1.0)  # negative: clockwise
        img = cv2.warpAffine(img, m, (w, h), borderValue=255, flags=cv2.INTER_LINEAR)
    if blur:
        img = cv2.GaussianBlur(img, (3, 3), 0)
    if noise:
        rng = np.random.default_rng(42)
        speckle = rng.normal(0, 255 * noise, img.shape)
        img = np.clip(img.astype(np.float64) + speckle, 0, 255).astype(np.uint8)
    if turn:
        img = np.rot90(img, -(turn // 90))  # np.rot90 turns counter-clockwise; the text turns clockwise
    return np.ascontiguousarray(img)


def save_image(gray: np.ndarray, path: Path, **params: object) -> Path:
    Image.fromarray(gray).save(path, **params)
    return path


def image_pdf(images: list[np.ndarray], dpi: int = 200) -> bytes:
    """A scanned PDF: image-only pages, no text layer."""
    pil = [Image.fromarray(i) for i in images]
    buf = io.BytesIO()
    pil[0].save(buf, format="PDF", save_all=True, append_images=pil[1:], resolution=dpi)
    return buf.getvalue()


def mixed_pdf(digital: bytes, scanned: bytes) -> bytes:
    """Digital pages followed by scanned ones in one PDF."""
    out = pdfium.PdfDocument.new()
    for src in (digital, scanned):
        doc = pdfium.PdfDocument(src)
        out.import_pages(doc)
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()


def garbage_layer_pdf(scan_gray: np.ndarray, dpi: int = 200) -> bytes:
    """A scanned page under a text layer of unmapped glyphs (private-use code points), as broken PDFs have."""
    h, w = scan_gray.shape
    page_w, page_h = w * 72.0 / dpi, h * 72.0 / dpi
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(page_w, page_h))
    png = io.BytesIO()
    Image.fromarray(scan_gray).save(png, format="PNG")
    png.seek(0)
    from reportlab.lib.utils import ImageReader

    c.drawImage(ImageReader(png), 0, 0, width=page_w, height=page_h)
    text = c.beginText()
    text.setTextRenderMode(3)  # invisible, like the text layer a broken OCR tool leaves behind
    text.setFont("Vera", 12)
    for i in range(5):
        text.setTextOrigin(72, page_h - 100 - 20 * i)
        text.textOut("".join(chr(0xE000 + (i * 7 + k) % 200) for k in range(30)))
    c.drawText(text)
    c.showPage()
    c.save()
    return buf.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb stand-in)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


RULED = [
    ["Item", "Qty", "Price", "Total"],
    ["Widget", "2", "10.00", "20.00"],
    ["Gadget", "1", "22.00", "22.00"],
    ["Subtotal", None, None, "42.00"],  # "Subtotal" spans three columns
]
BORDERLESS = [
    ["Region", "Units", "Revenue"],
    ["North", "120", "4,800"],
    ["South", "95", "3,610"],
    ["West", "143", "5,720"],
]
MARKS = [("Express delivery", "cross"), ("Gift wrap", None), ("Insured", "fill"), ("Signature", "tick")]


def layout_pdf() -> bytes:
    """A digital form: a title, key-value lines, a ruled table with a spanning cell, a borderless table and four
    check boxes (crossed, empty, filled, ticked) drawn as vector squares."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    c.setFont("Helvetica-Bold", 24)
    c.drawString(72, 720, "Quarterly Report")
    c.setFont("Helvetica", 11)
    c.drawString(72, 690, "Date: 9/10/2020")
    c.drawString(300, 690, "Invoice For: Contoso Ltd")
    # Ruled table: 4 columns x 4 rows, 22 pt rows; the last row's first cell spans three columns.
    xs, top, rh = [72, 222, 302, 392, 492], 650, 22
    ys = [top - rh * i for i in range(len(RULED) + 1)]
    c.setLineWidth(0.8)
    for y in ys:
        c.line(xs[0], y, xs[-1], y)
    for i, x in enumerate(xs):
        c.line(x, ys[0], x, ys[-1] if i in (0, 3, 4) else ys[-2])
    for r, row in enumerate(RULED):
        c.setFont("Helvetica-Bold" if r == 0 else "Helvetica", 11)
        for k, text in enumerate(row):
            if text:
                c.drawString(xs[k] + 6, ys[r] - 15, text)
    # Borderless table.
    c.setFont("Helvetica", 11)
    for r, row in enumerate(BORDERLESS):
        for k, text in enumerate(row):
            c.drawString(72 + 130 * k, 520 - 18 * r, text)
    # Check boxes with their labels.
    for i, (label, state) in enumerate(MARKS):
        x, y, s = 72, 420 - 26 * i, 11
        c.setLineWidth(1)
        c.rect(x, y, s, s, stroke=1, fill=0)
        if state == "cross":
            c.line(x + 2, y + 2, x + s - 2, y + s - 2)
            c.line(x + 2, y + s - 2, x + s - 2, y + 2)
        elif state == "fill":
            c.rect(x + 2.5, y + 2.5, s - 5, s - 5, stroke=0, fill=1)
        elif state == "tick":
            p = c.beginPath()
            p.moveTo(x + 2, y + 5)
            p.lineTo(x + 4.5, y + 2)
            p.lineTo(x + s - 2, y + s - 2)
            c.drawPath(p, stroke=1, fill=0)
        c.drawString(x + 20, y + 1, label)
    c.setFont("Helvetica", 9)
    c.drawString(300, 40, "3")
    c.save()
    return buf.getvalue()


BANDED = [
    ["Date", "Description", "Price", "Line Total"],
    ["9/15/2020", "Compliance Training", "$5,000", "$4,500"],
    ["9/16/2020", "Safety Course", "$1,200", "$1,200"],
    ["", "", "", ""],
    ["", "", "", ""],
]
TOTALS = [("Subtotal", "$5,700"), ("Sales Tax", "$570"), ("Total", "$6,270")]
PICTURE_MARKS = [("Live Delivery:", False), ("Online Delivery:", True)]


def _box_picture(crossed: bool) -> Image.Image:
    im = np.full((64, 64), 255, np.uint8)
    cv2.rectangle(im, (8, 8), (55, 55), 60, 5)
    if crossed:
        cv2.line(im, (16, 16), (47, 47), 60, 4)
        cv2.line(im, (16, 47), (47, 16), 60, 4)
    return Image.fromarray(im)


def banded_pdf() -> bytes:
    """A statement laid out the way form generators write one (Azure's 2020 sample invoices): every block sits in
    an invisible white rectangle, the table is shaded cells with white gutters (header dark, rows banded, plain
    rows undrawn), totals are a stack of shaded value boxes beside plain labels, check boxes are small pictures."""
    from reportlab.lib.utils import ImageReader

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    c.setFillColorRGB(1, 1, 1)
    for x, y, w, h in [(36, 600, 330, 120), (370, 600, 206, 120), (36, 360, 540, 140), (40, 395, 520, 90)]:
        c.rect(x, y, w, h, stroke=0, fill=1)  # layout boxes nobody sees
    c.setFillColorRGB(0, 0, 0)
    c.setFont("Helvetica-Bold", 20)
    c.drawString(40, 700, "Project Statement")
    c.setFont("Helvetica", 10)
    for i, (label, crossed) in enumerate(PICTURE_MARKS):
        x = 40 + 200 * i
        c.drawString(x, 560, label)
        c.drawImage(ImageReader(_box_picture(crossed)), x + c.stringWidth(label, "Helvetica", 10) + 6, 556, 14, 14)
    xs, top, rh, gutter = [40, 130, 310, 400, 490], 500, 18, 1.5
    for r, row in enumerate(BANDED):
        y = top - rh * (r + 1)
        shade = (0.26, 0.40, 0.52) if r == 0 else (0.84, 0.88, 0.92) if r % 2 == 0 else None
        for k in range(len(xs) - 1):
            if shade:
                c.setFillColorRGB(*shade)
                c.rect(xs[k] + gutter, y + gutter, xs[k + 1] - xs[k] - 2 * gutter, rh - 2 * gutter, stroke=0, fill=1)
                c.rect(xs[k] + 5, y + 3, xs[k + 1] - xs[k] - 10, rh - 6, stroke=0, fill=1)  # same paint inside
            c.setFillColorRGB(1, 1, 1) if r == 0 else c.setFillColorRGB(0, 0, 0)
            if row[k]:
                c.setFont("Helvetica-Bold" if r == 0 else "Helvetica", 10)
                c.drawString(xs[k] + 6, y + 5, row[k])
    for i, (label, value) in enumerate(TOTALS):
        y = 380 - 20 * i
        c.setFillColorRGB(0.84, 0.88, 0.92)
        c.rect(490, y - 5, 86, 18, stroke=0, fill=1)
        c.setFillColorRGB(0, 0, 0)
        c.setFont("Helvetica", 10)
        c.drawString(400, y, label)
        c.drawString(496, y, value)
    c.save()
    return buf.getvalue()


INVOICE_LABELS = ("Invoice Number:", "Date:", "Bill To:", "Total:")
ORDER_LABELS = ("PO Number:", "Vendor:", "Ship To:")


def invoice_form(
    number: str,
    date: str,
    bill_to: tuple[str, str],
    total: str,
    dx: float = 0,
    dy: float = 0,
    paid: bool | None = None,
) -> bytes:
    """Template A: one invoice form with its values; ``dx``/``dy`` shift the whole fill (points); ``paid`` adds
    a "Paid" check box, ticked or not."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    if paid is not None:
        c.setLineWidth(1)
        c.rect(PAID_BOX[0] + dx, PAID_BOX[1] + dy, 10, 10, stroke=1, fill=0)
        if paid:
            c.rect(PAID_BOX[0] + 2 + dx, PAID_BOX[1] + 2 + dy, 6, 6, stroke=0, fill=1)
        c.setFont("Helvetica", 11)
        c.drawString(PAID_BOX[0] + 16 + dx, PAID_BOX[1] + 1 + dy, "Paid")
    c.setFont("Helvetica-Bold", 20)
    c.drawString(72 + dx, 720 + dy, "Fabrikam Invoice")
    c.setFont("Helvetica", 11)
    c.drawString(72 + dx, 680 + dy, f"Invoice Number: {number}")
    c.drawString(340 + dx, 680 + dy, f"Date: {date}")
    c.drawString(72 + dx, 640 + dy, "Bill To:")
    c.drawString(72 + dx, 624 + dy, bill_to[0])
    c.drawString(72 + dx, 610 + dy, bill_to[1])
    c.drawString(340 + dx, 560 + dy, "Total:")
    c.drawString(400 + dx, 560 + dy, total)
    c.setFont("Helvetica", 9)
    c.drawString(72 + dx, 80 + dy, "Thank you for your business.")
    c.save()
    return buf.getvalue()


PAID_BOX = (340, 620)
# Where template A prints each value (x, baseline y in points), for labels files.
INVOICE_VALUES = {
    "Number": (72 + pdfmetrics.stringWidth("Invoice Number: ", "Helvetica", 11), 680.0),
    "Date": (340 + pdfmetrics.stringWidth("Date: ", "Helvetica", 11), 680.0),
    "BillTo": (72.0, 624.0),
    "Total": (400.0, 560.0),
}
INVOICE_FIELDS = {
    "fields": [
        {"fieldKey": "Number", "fieldType": "string", "fieldFormat": "not-specified"},
        {"fieldKey": "Date", "fieldType": "date", "fieldFormat": "not-specified"},
        {"fieldKey": "BillTo", "fieldType": "string", "fieldFormat": "not-specified"},
        {"fieldKey": "Total", "fieldType": "number", "fieldFormat": "not-specified"},
        {"fieldKey": "Paid", "fieldType": "selectionMark", "fieldFormat": "not-specified"},
    ]
}


def _word_boxes(text: str, x: float, y: float, size: float = 11) -> list[tuple[str, list[float]]]:
    """Each word of ``text`` drawn at (x, baseline y) in Helvetica, as a 0-1 box of a letter page."""
    width = pdfmetrics.stringWidth

    out = []
    for match in re.finditer(r"\S+", text):
        x0 = x + width(text[: match.start()], "Helvetica", size)
        x1 = x0 + width(match.group(), "Helvetica", size)
        top, bottom = (792 - y - 0.72 * size) / 792, (792 - y + 0.21 * size) / 792
        out.append((match.group(), [x0 / 612, top, x1 / 612, top, x1 / 612, bottom, x0 / 612, bottom]))
    return out


def invoice_labels(
    name: str, number: str, date: str, bill_to: tuple[str, str], total: str, dx: float, dy: float, paid: bool
) -> dict:
    """The labeling tool's ``<form>.labels.json`` for an :func:`invoice_form` with a "Paid" box."""
    texts = {"Number": [number], "Date": [date], "BillTo": list(bill_to), "Total": [total]}
    labels = []
    for key, lines in texts.items():
        x, y = INVOICE_VALUES[key]
        values = [
            {"page": 1, "text": word, "boundingBoxes": [box]}
            for k, line in enumerate(lines)
            for word, box in _word_boxes(line, x + dx, y + dy - 14 * k)
        ]
        labels.append({"label": key, "key": None, "value": values})
    bx, by = PAID_BOX[0] + dx, PAID_BOX[1] + dy
    box = [bx / 612, (792 - by - 10) / 792, (bx + 10) / 612, (792 - by - 10) / 792]
    box += [(bx + 10) / 612, (792 - by) / 792, bx / 612, (792 - by) / 792]
    mark = {"page": 1, "text": "selected" if paid else "unselected", "boundingBoxes": [box]}
    labels.append({"label": "Paid", "key": None, "value": [mark]})
    return {"document": name, "labels": labels}


ORDER_FIELDS = {
    "fields": [
        {"fieldKey": key, "fieldType": "string", "fieldFormat": "not-specified"} for key in ("PO", "Vendor", "ShipTo")
    ]
}


def order_labels(name: str, number: str, vendor: str, ship_to: str, dx: float = 0, dy: float = 0) -> dict:
    """``<form>.labels.json`` for an :func:`order_form`."""
    at = {
        "PO": (number, 300 + pdfmetrics.stringWidth("PO Number: ", "Helvetica", 11), 700.0),
        "Vendor": (vendor, 72 + pdfmetrics.stringWidth("Vendor: ", "Helvetica", 11), 600.0),
        "ShipTo": (ship_to, 72.0, 484.0),
    }
    labels = [
        {
            "label": key,
            "key": None,
            "value": [{"page": 1, "text": w, "boundingBoxes": [b]} for w, b in _word_boxes(text, x + dx, y + dy)],
        }
        for key, (text, x, y) in at.items()
    ]
    return {"document": name, "labels": labels}


def order_form(number: str, vendor: str, ship_to: str, dx: float = 0, dy: float = 0) -> bytes:
    """Template B, for clustering: a purchase order with other labels in other places."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    c.setFont("Helvetica-Bold", 18)
    c.drawString(300 + dx, 730 + dy, "Purchase Order")
    c.setFont("Helvetica", 11)
    c.drawString(300 + dx, 700 + dy, f"PO Number: {number}")
    c.drawString(72 + dx, 600 + dy, f"Vendor: {vendor}")
    c.drawString(72 + dx, 500 + dy, "Ship To:")
    c.drawString(72 + dx, 484 + dy, ship_to)
    c.save()
    return buf.getvalue()


INVOICES = [
    ("INV-1001", "1/5/2024", ("Alpine Ski House", "12 Snow Road, Aspen CO"), "$1,250.00"),
    ("INV-1002", "2/9/2024", ("Blue Yonder Airlines", "400 Sky Way, Denver CO"), "$88.10"),
    ("INV-1003", "3/14/2024", ("Coho Winery", "7 Vine Street, Napa CA"), "$3,400.75"),
    ("INV-1004", "4/1/2024", ("Datum Corporation", "55 Data Drive, Austin TX"), "$19.99"),
    ("INV-1005", "5/23/2024", ("Fourth Coffee", "9 Bean Lane, Seattle WA"), "$742.00"),
    ("INV-2001", "6/30/2024", ("Graphic Design Institute", "81 Pixel Court, Boston MA"), "$5,010.20"),
]
ORDERS = [
    ("PO-77", "Litware Inc", "1 Main St, Reno NV"),
    ("PO-78", "Lucerne Publishing", "2 Elm St, Provo UT"),
    ("PO-79", "Margie's Travel", "3 Oak St, Boise ID"),
]


# --- simple scanned forms: a label and its value per row (issue 15) -------------------------------------------

# (label, x of the label in points, row): the left column at x=60, a right column at x=330; values follow their
# label on the same line, so where a value starts moves with its label's width. "Ship To:" takes two rows (street,
# then city under it), its value is both lines.
BOL_LABELS = [
    ("BOL No.:", 60, 0),
    ("Date:", 330, 0),
    ("Shipper:", 60, 1),
    ("Consignee:", 60, 2),
    ("Ship To:", 60, 3),
    ("Carrier:", 60, 5),
    ("SCAC:", 330, 5),
    ("PRO No.:", 60, 6),
    ("Trailer No.:", 330, 6),
    ("Seal No.:", 60, 7),
    ("Freight Terms:", 330, 7),
    ("Pieces:", 60, 8),
    ("Weight:", 330, 8),
    ("Description:", 60, 9),
    ("Special Instructions:", 60, 10),
]
_BOL_SHIPPERS = ["Harbor Ceramics Inc", "Alpine Stone Works", "Coho Glass", "Fabrikam Flooring LLC", "Litware Paper"]
_BOL_CONSIGNEES = [
    "Bluewater Tiles",
    "Northwind Traders",
    "Contoso Home Supply",
    "Wide World Importers Warehouse",
    "Tailspin Toys",
    "Adventure Works Cycles",
    "Proseware",
    "Margie's Travel Goods",
]
_BOL_STREETS = ["Harbor Rd", "Main St", "Industrial Pkwy", "Elm Ave", "Commerce Blvd", "Dock Way"]
_BOL_CITIES = ["Tacoma WA", "Reno NV", "Boise ID", "Fresno CA", "Provo UT", "Eugene OR"]
_BOL_CARRIERS = [
    ("Northwind Freight", "NWFR", "NW"),
    ("Blue Yonder Logistics", "BYLG", "BY"),
    ("Datum Haul", "DTHL", "DH"),
]
_BOL_GOODS = ["ceramic floor tiles", "glass panels", "paper rolls", "stone slabs", "copper wire spools"]
_BOL_NOTES = ["", "", "Deliver before noon", "Call consignee 24 hours before delivery", "Keep dry"]


def bol_values(seed: int) -> dict[str, str]:
    """The filled-in values of one bill of lading, varied by ``seed``: wide and short values, a few left empty."""
    import random

    rng = random.Random(seed)
    carrier, scac, prefix = rng.choice(_BOL_CARRIERS)
    pieces = rng.randint(1, 40)
    return {
        "BOL No.:": str(rng.randint(100000, 999999)),
        "Date:": f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/2024",
        "Shipper:": rng.choice(_BOL_SHIPPERS),
        "Consignee:": rng.choice(_BOL_CONSIGNEES),
        "Ship To:": f"{rng.randint(2, 9999)} {rng.choice(_BOL_STREETS)}\n{rng.choice(_BOL_CITIES)}",
        "Carrier:": carrier,
        "SCAC:": scac,
        "PRO No.:": f"{prefix}-{rng.randint(100000, 999999)}",
        "Trailer No.:": rng.choice(["", f"TR{rng.randint(1000, 9999)}"]),
        "Seal No.:": rng.choice(["", str(rng.randint(10000000, 99999999))]),
        "Freight Terms:": rng.choice(["Prepaid", "Collect", "Third Party"]),
        "Pieces:": str(pieces),
        "Weight:": f"{pieces * rng.randint(20, 90):,} kg",
        "Description:": f"{pieces} pallets of {rng.choice(_BOL_GOODS)}, shrink wrapped",
        "Special Instructions:": rng.choice(_BOL_NOTES),
    }


def bill_of_lading(
    values: dict[str, str], dx: float = 0, dy: float = 0, pitch: float = 18, right_column: float = 330
) -> bytes:
    """A bill of lading as typed on a short-form template: a title, rows of ``Label: value`` in one or two
    columns ``pitch`` points apart (a value's second line, after a newline, goes under its first; the second
    column at ``right_column``), boilerplate terms and a signature line; ``dx``/``dy`` shift the page."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    c.setFont("Helvetica-Bold", 18)
    c.drawString(60 + dx, 730 + dy, "STRAIGHT BILL OF LADING")
    c.setFont("Helvetica", 9)
    c.drawString(60 + dx, 712 + dy, "Short Form - Original - Not Negotiable")
    c.setFont("Helvetica", 11)
    top = 680
    for label, x, row in BOL_LABELS:
        x = right_column if x == 330 else x
        first, *more = values.get(label, "").split("\n")
        c.drawString(x + dx, top - pitch * row + dy, f"{label} {first}".rstrip())
        indent = x + pdfmetrics.stringWidth(f"{label} ", "Helvetica", 11)
        for k, line in enumerate(more, 1):
            c.drawString(indent + dx, top - pitch * (row + k) + dy, line)
    bottom = top - pitch * (max(r for _, _, r in BOL_LABELS) + 2)
    c.setFont("Helvetica", 8)
    c.drawString(60 + dx, bottom + dy, "Received, subject to the classifications and tariffs in effect on the date")
    c.drawString(60 + dx, bottom - 11 + dy, "of the issue of this Bill of Lading, the property described above.")
    c.setFont("Helvetica", 10)
    c.line(60 + dx, bottom - 60 + dy, 260 + dx, bottom - 60 + dy)
    c.drawString(60 + dx, bottom - 74 + dy, "Shipper Signature")
    c.save()
    return buf.getvalue()


def scanned_bill_of_lading(seed: int, dpi: int = 300, right_column: float = 330) -> tuple[np.ndarray, dict[str, str]]:
    """One bill of lading filled by ``seed``, printed and scanned: shifted on the glass, skewed, noisy, blurred.
    With ``right_column`` near 240 the OCR reads the first row's two fields as one line."""
    import random

    rng = random.Random(seed)
    values = bol_values(seed)
    pdf = bill_of_lading(values, dx=rng.uniform(-12, 12), dy=rng.uniform(-12, 12), right_column=right_column)
    skew = rng.choice([-1, 1]) * rng.uniform(0.2, 0.9)
    gray = scan(render(pdf, dpi=dpi), skew=skew, noise=rng.uniform(0.02, 0.05), blur=True)
    return gray, values
