"""Test documents made in a line: PDFs with known text, rendered 'scans' with noise, skew and turns."""

from __future__ import annotations

import io
import os
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
