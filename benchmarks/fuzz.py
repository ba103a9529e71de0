"""Fuzzing: mutated documents through the loaders, mutated bodies and schemathesis cases through the server.

Bad input must end in a typed 4xx error, never a 500, a hang or a dead worker. Three targets:

- ``loaders``: generated seed documents (reportlab PDFs; Pillow PNG, JPEG, TIFF, BMP, GIF, WebP, HEIF) mutated
  (bit flips, interesting integers, truncation, splices, and format-aware edits: PNG chunks with their CRCs
  fixed, TIFF IFD entries, JPEG segments, PDF tokens and re-compressed content streams), then
  ``open_document`` as on POST and the worker's own page task (text layer, rendering, orientation and skew,
  layout shapes) with the OCR engine stubbed out, in child processes, so a crash or a hang is caught and counted
  instead of ending the run.
- ``bodies``: the same mutated documents, and JSON/base64/URL bodies, POSTed to the analyze/read endpoints of
  every API family; accepted operations are polled to the end (OCR included).
- ``openapi``: schemathesis cases from the server's own ``/openapi.json`` (request bodies added where the routes
  read the raw request), positive and negative.

A 500 is any response >= 500, an operation that fails with InternalServerError, or a loader exception that is
not a 4xx PerceptError; a hang is a request or case over its deadline. The server runs with the default URL
policy, and the whole run moves into a network namespace with only loopback first (root needed), so nothing
a case names can be reached. Reproducers go to benchmarks/.cache/fuzz/.

Run: ``python benchmarks/fuzz.py`` (>= 10^5 cases; ``--quick`` is the slice tests/test_fuzz.py runs).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import datetime as dt
import fcntl
import io
import json
import os
import random
import re
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
import traceback
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from common import RESULTS, ROOT, machine, table

FINDINGS = RESULTS / "fuzz"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
LOADER_DEADLINE_S = 20.0  # one document's validation and page loading (no OCR); normal cases take milliseconds
REQUEST_DEADLINE_S = 30.0  # one HTTP request (polls are long-polls of at most 2 s)
OPERATION_DEADLINE_S = 180.0  # an accepted operation, OCR included, on a busy 2-core machine
CHILD_MEMORY_BYTES = 4 << 30  # address-space cap of a loader child: a runaway allocation fails instead of swapping
MAX_LOADED_PAGES = 3


# --- network isolation -----------------------------------------------------------------------------------------

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def network_isolated() -> bool:
    """True when this process sees no network interface but loopback."""
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def isolate_network() -> None:
    """Move this process (and every child it starts later) into a new network namespace with loopback up.

    Must run before any thread or child exists. Cases name URLs (schemathesis invents hosts; the bodies target
    sends public ones on purpose), and the default URL policy allows public hosts: only loopback may exist.
    """
    if not network_isolated():
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"unshare(CLONE_NEWNET) failed: {os.strerror(err)} (root or CAP_SYS_ADMIN needed)")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        name = b"lo".ljust(16, b"\0")
        flags = struct.unpack("16sh22x", fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sh22x", name, 0)))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh22x", name, flags | IFF_UP))
    if not network_isolated():
        raise RuntimeError("network namespace still has interfaces other than loopback")


# --- seed documents --------------------------------------------------------------------------------------------


def _picture(width: int = 120, height: int = 72, mode: str = "RGB") -> Any:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw.text((4, 4), "Invoice 42", fill="black")
    draw.text((4, 22), "Total: 10.00", fill=(20, 20, 120))
    draw.rectangle((4, 44, 60, 66), outline="black")
    draw.line((60, 44, 116, 66), fill="red", width=2)
    return img.convert(mode) if mode != "RGB" else img


def _pil(img: Any, fmt: str, **kw: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _pdf(draw: Callable[[Any], None], size: tuple[float, float] = (216, 108), compress: bool = True) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size, pageCompression=1 if compress else 0)
    draw(c)
    c.save()
    return buf.getvalue()


def seed_documents() -> dict[str, bytes]:
    """Small valid documents of every supported kind, each exercising a different loader path."""
    from PIL import Image

    def text(c: Any) -> None:
        c.setFont("Helvetica", 10)
        c.drawString(10, 80, "Invoice 42 Contoso Ltd.")
        c.drawString(10, 60, "Total: 10.00")

    def two_pages_rotated(c: Any) -> None:
        text(c)
        c.showPage()
        c.setPageRotation(90)
        c.setFont("Times-Roman", 9)
        c.drawString(10, 40, "Second page, rotated")
        c.showPage()

    def table(c: Any) -> None:
        c.setFont("Helvetica", 7)
        for i in range(4):
            c.line(10, 10 + 20 * i, 200, 10 + 20 * i)
        for x in (10, 80, 140, 200):
            c.line(x, 10, x, 70)
        for r, row in enumerate([["Item", "Qty", "Price"], ["Widget", "2", "3.00"], ["Total", "", "6.00"]]):
            for col, cell in enumerate(row):
                c.drawString((12, 82, 142)[col], 56 - 20 * r, cell)
        c.rect(10, 84, 8, 8)
        c.drawString(22, 85, "Paid")
        c.line(10, 84, 18, 92)

    def form(c: Any) -> None:
        c.setFont("Helvetica", 8)
        c.drawString(10, 90, "Name:")
        c.acroForm.textfield(name="name", x=40, y=84, width=100, height=14, value="Jane Doe")
        c.drawString(10, 60, "Paid")
        c.acroForm.checkbox(name="paid", x=40, y=56, size=12, checked=True)

    def scan(c: Any) -> None:
        from reportlab.lib.utils import ImageReader

        c.drawImage(ImageReader(_picture(240, 120)), 0, 0, width=216, height=108)

    seeds = {
        "pdf-text": _pdf(text),
        "pdf-text-raw": _pdf(text, compress=False),
        "pdf-2p-rotated": _pdf(two_pages_rotated),
        "pdf-table-raw": _pdf(table, compress=False),
        "pdf-form": _pdf(form),
        "pdf-scan": _pdf(scan),
        "png-rgb": _pil(_picture(), "PNG"),
        "png-rgba": _pil(_picture(mode="RGBA"), "PNG"),
        "png-palette-trns": _pil(_picture(mode="P"), "PNG", transparency=0),
        "png-1bit-interlaced": _pil(_picture(mode="1"), "PNG", interlace=1),
        "png-16bit": _pil(_picture(mode="L").convert("I;16"), "PNG"),
        "jpeg": _pil(_picture(), "JPEG", quality=80),
        "jpeg-progressive-gray": _pil(_picture(mode="L"), "JPEG", progressive=True),
        "jpeg-cmyk": _pil(_picture(mode="CMYK"), "JPEG"),
        "bmp": _pil(_picture(), "BMP"),
        "gif-2f": _pil(_picture(mode="P"), "GIF", save_all=True, append_images=[_picture(mode="P")]),
        "webp": _pil(_picture(), "WEBP", quality=60),
        "tiff-lzw-3p": _pil(_picture(), "TIFF", compression="tiff_lzw", save_all=True, append_images=[_picture()] * 2),
        "tiff-g4": _pil(_picture(mode="1"), "TIFF", compression="group4"),
        "tiff-packbits-gray": _pil(_picture(mode="L"), "TIFF", compression="packbits"),
        "tiff-jpeg": _pil(_picture(), "TIFF", compression="jpeg"),
        "tiff-deflate-16bit": _pil(_picture(mode="L").convert("I;16"), "TIFF", compression="tiff_adobe_deflate"),
    }
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotated 90 clockwise
    seeds["jpeg-exif6"] = _pil(_picture(), "JPEG", exif=exif.tobytes())
    try:
        import pillow_heif

        heif = pillow_heif.from_pillow(_picture())
        buf = io.BytesIO()
        heif.save(buf, quality=50)
        seeds["heif"] = buf.getvalue()
    except ImportError:
        pass
    return seeds


# --- mutation --------------------------------------------------------------------------------------------------

INTERESTING = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]
PDF_NUMBERS = [b"0", b"-1", b"1", b"-0", b"0.0", b"99999999", b"-99999999", b"2147483648", b"1e308", b"3.4e38",
               b"1e-30", b"65535", b"-2147483649", b"4294967296", b"0.0000001", b"360", b"45", b"-90",
               b"270"]  # fmt: skip
PDF_NAMES = [b"/Type", b"/Page", b"/Pages", b"/Kids", b"/Count", b"/MediaBox", b"/CropBox", b"/Rotate", b"/Length",
             b"/Filter", b"/FlateDecode", b"/LZWDecode", b"/Contents", b"/Resources", b"/Font", b"/XObject",
             b"/Annots", b"/AcroForm", b"/Parent", b"/Subtype", b"/Image", b"/Widget", b"/Root", b"/Size",
             b"/Width", b"/Height", b"/BitsPerComponent", b"/ColorSpace", b"/DecodeParms", b"/Encrypt"]  # fmt: skip
PDF_OPERATORS = [b"BT", b"ET", b"Tj", b"TJ", b"Tf", b"Td", b"TD", b"Tm", b"T*", b"cm", b"q", b"Q", b"re", b"m",
                 b"l", b"S", b"f", b"W n", b"Do", b"Tz", b"Tc", b"Tw", b"TL", b"Ts", b"Tr", b"BI", b"ID",
                 b"EI"]  # fmt: skip
_NUMBER = re.compile(rb"(?<![A-Za-z0-9_#/.])-?\d+(?:\.\d+)?")
_NAME = re.compile(rb"/[A-Za-z][A-Za-z0-9]*")
_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)


def _span(rng: random.Random, n: int, most: int = 64) -> tuple[int, int]:
    start = rng.randrange(max(n, 1))
    return start, min(n, start + rng.randint(1, most))


def _flip_bits(rng: random.Random, b: bytearray, _: list[bytes]) -> bytearray:
    for _ in range(rng.randint(1, 8)):
        if b:
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    return b


def _set_bytes(rng: random.Random, b: bytearray, _: list[bytes]) -> bytearray:
    for _ in range(rng.randint(1, 16)):
        if b:
            b[rng.randrange(len(b))] = rng.choice([0, 0xFF, 0x7F, 0x80, rng.randrange(256)])
    return b


def _interesting_int(rng: random.Random, b: bytearray, _: list[bytes]) -> bytearray:
    size = rng.choice([1, 2, 4])
    if len(b) < size:
        return b
    value = rng.choice(INTERESTING) & ((1 << (8 * size)) - 1)
    at = rng.randrange(len(b) - size + 1)
    b[at : at + size] = value.to_bytes(size, rng.choice(["little", "big"]))
    return b


def _insert(rng: random.Random, b: bytearray, _: list[bytes]) -> bytearray:
    at = rng.randrange(len(b) + 1)
    if rng.random() < 0.5:
        chunk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
    else:
        chunk = bytes([rng.randrange(256)]) * rng.choice([16, 256, 4096])
    b[at:at] = chunk
    return b


def _duplicate(rng: random.Random, b: bytearray, _: list[bytes]) -> bytearray:
    if b:
        s, e = _span(rng, len(b), 512)
        at = rng.randrange(len(b) + 1)
        b[at:at] = b[s:e] * rng.choice([1, 1, 2, 8])
    return b


def _delete(rng: random.Random, b: bytearray, _: list[bytes]) -> bytearray:
    if b:
        s, e = _span(rng, len(b), 256)
        del b[s:e]
    return b


def _truncate(rng: random.Random, b: bytearray, _: list[bytes]) -> bytearray:
    return b[: rng.randrange(len(b) + 1)] if b else b


def _splice(rng: random.Random, b: bytearray, seeds: list[bytes]) -> bytearray:
    other = rng.choice(seeds)
    return b[: rng.randrange(len(b) + 1)] + bytearray(other[rng.randrange(len(other) + 1) :])


def _swap(rng: random.Random, b: bytearray, _: list[bytes]) -> bytearray:
    if len(b) > 8:
        s1, e1 = _span(rng, len(b) // 2, 64)
        s2, e2 = _span(rng, len(b) // 2, 64)
        s2, e2 = s2 + len(b) // 2, e2 + len(b) // 2
        b = b[:s1] + b[s2:e2] + b[e1:s2] + b[s1:e1] + b[e2:]
    return b


def _png_chunks(b: bytearray) -> list[tuple[int, int, bytes]]:
    """(offset, length, type) of each chunk after the signature, as far as the lengths hold together."""
    out, at = [], 8
    while at + 12 <= len(b):
        length = int.from_bytes(b[at : at + 4], "big")
        if at + 12 + length > len(b):
            break
        out.append((at, length, bytes(b[at + 4 : at + 8])))
        at += 12 + length
    return out


def _png_chunk(rng: random.Random, b: bytearray, seeds: list[bytes]) -> bytearray:
    """Mutate one chunk's data (IHDR fields often) and fix its CRC, so the edit reaches the decoder."""
    chunks = _png_chunks(b)
    if not chunks:
        return _flip_bits(rng, b, seeds)
    at, length, kind = chunks[0] if rng.random() < 0.3 else rng.choice(chunks)
    data = bytearray(b[at + 8 : at + 8 + length])
    how = rng.random()
    if kind == b"IHDR" and length == 13 and how < 0.6:
        field_at, size = rng.choice([(0, 4), (4, 4), (8, 1), (9, 1), (10, 1), (11, 1), (12, 1)])
        value = rng.choice([*INTERESTING, 3, 4, 6, 8, 16, 50, 49, 10001]) & ((1 << (8 * size)) - 1)
        data[field_at : field_at + size] = value.to_bytes(size, "big")
    elif kind == b"IDAT" and how < 0.5 and length:
        try:  # re-compress mutated pixel data: the filter bytes and scanlines are parsed, not just the zlib stream
            raw = bytearray(zlib.decompress(bytes(data)))
            raw = _flip_bits(rng, raw, seeds) if rng.random() < 0.5 else _truncate(rng, raw, seeds)
            data = bytearray(zlib.compress(bytes(raw)))
        except zlib.error:
            data = _flip_bits(rng, data, seeds)
    else:
        data = rng.choice([_flip_bits, _set_bytes, _interesting_int, _truncate, _duplicate])(rng, data, seeds)
    body = kind + bytes(data)
    chunk = len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")
    return b[:at] + chunk + b[at + 12 + length :]


def _tiff_entry(rng: random.Random, b: bytearray, seeds: list[bytes]) -> bytearray:
    """Mutate an IFD entry (tag type, count or value), the entry count or the next-IFD offset."""
    if len(b) < 8 or b[:2] not in (b"II", b"MM"):
        return _interesting_int(rng, b, seeds)
    order = "little" if b[:2] == b"II" else "big"
    ifd = int.from_bytes(b[4:8], order)
    if ifd + 2 > len(b):
        return _interesting_int(rng, b, seeds)
    count = int.from_bytes(b[ifd : ifd + 2], order)
    if rng.random() < 0.1:
        b[ifd : ifd + 2] = (rng.choice([0, 1, 0xFFFF, count + 1]) & 0xFFFF).to_bytes(2, order)
        return b
    if rng.random() < 0.1 and ifd + 2 + 12 * count + 4 <= len(b):
        at = ifd + 2 + 12 * count
        b[at : at + 4] = (rng.choice([0, ifd, 8, 0xFFFFFFFF, len(b) - 2]) & 0xFFFFFFFF).to_bytes(
            4, order
        )  # loops, bad offsets
        return b
    entry = ifd + 2 + 12 * rng.randrange(max(count, 1))
    if entry + 12 > len(b):
        return _interesting_int(rng, b, seeds)
    field_at, size = rng.choice([(2, 2), (4, 4), (8, 4), (8, 2)])
    value = rng.choice(INTERESTING) & ((1 << (8 * size)) - 1)
    b[entry + field_at : entry + field_at + size] = value.to_bytes(size, order)
    return b


def _jpeg_segment(rng: random.Random, b: bytearray, seeds: list[bytes]) -> bytearray:
    """Mutate a marker segment: its length, or a field of SOF (dimensions, components), DQT, DHT or APP1."""
    segments, at = [], 2
    while at + 4 <= len(b) and b[at] == 0xFF:
        marker, length = b[at + 1], int.from_bytes(b[at + 2 : at + 4], "big")
        segments.append((at, marker, length))
        if marker == 0xDA:
            break
        at += 2 + length
    if not segments:
        return _flip_bits(rng, b, seeds)
    at, marker, length = rng.choice(segments)
    if rng.random() < 0.2:
        b[at + 2 : at + 4] = (rng.choice([0, 1, 2, length + 1, length - 1, 0xFFFF]) & 0xFFFF).to_bytes(2, "big")
    elif marker in (0xC0, 0xC1, 0xC2) and length >= 8:
        field_at, size = rng.choice([(4, 1), (5, 2), (7, 2), (9, 1), (10, 1), (11, 1), (12, 1)])
        value = rng.choice(INTERESTING) & ((1 << (8 * size)) - 1)
        b[at + 2 + field_at : at + 2 + field_at + size] = value.to_bytes(size, "big")
    else:
        end = min(len(b), at + 2 + length)
        if end > at + 4:
            b[at + 4 : end] = _flip_bits(rng, bytearray(b[at + 4 : end]), seeds)
    return b


def _pdf_token(rng: random.Random, b: bytearray, seeds: list[bytes]) -> bytearray:
    """Replace a number, a name or a keyword of the PDF's syntax, or nest arrays deeply."""
    how = rng.random()
    if how < 0.45:
        matches = list(_NUMBER.finditer(b))
        if matches:
            m = rng.choice(matches)
            return b[: m.start()] + rng.choice(PDF_NUMBERS) + b[m.end() :]
    elif how < 0.75:
        matches = list(_NAME.finditer(b))
        if matches:
            m = rng.choice(matches)
            return b[: m.start()] + rng.choice(PDF_NAMES) + b[m.end() :]
    elif how < 0.9:
        keyword = rng.choice([b"endobj", b"endstream", b"stream", b"xref", b"trailer", b"startxref", b"obj", b">>"])
        at = b.find(keyword, rng.randrange(len(b) + 1) if rng.random() < 0.5 else 0)
        if at >= 0:
            return b[:at] + rng.choice([b"", keyword + keyword, b"(", b"<<"]) + b[at + len(keyword) :]
    else:
        at = b.find(b"/MediaBox")
        if at >= 0:
            depth = rng.choice([8, 64, 1000])
            return b[:at] + b"/MediaBox " + b"[" * depth + b"0 0 10 10" + b"]" * depth + b[at + 9 :]
    return _flip_bits(rng, b, seeds)


def _pdf_content(rng: random.Random, b: bytearray, seeds: list[bytes]) -> bytearray:
    """Mutate the operators and operands inside a (decompressed, re-compressed) stream and fix its /Length."""
    streams = list(_STREAM.finditer(b))
    if not streams:
        return _pdf_token(rng, b, seeds)
    m = rng.choice(streams)
    raw, compressed = bytes(m.group(1)).rstrip(b"\r\n"), False
    with contextlib.suppress(zlib.error):
        raw, compressed = zlib.decompress(raw), True
    content = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        how = rng.random()
        numbers = list(_NUMBER.finditer(content))
        if how < 0.5 and numbers:
            n = rng.choice(numbers)
            content[n.start() : n.end()] = rng.choice(PDF_NUMBERS)
        elif how < 0.8:
            at = rng.randrange(len(content) + 1)
            args = b" ".join(rng.choice(PDF_NUMBERS) for _ in range(rng.randint(0, 6)))
            content[at:at] = b" " + args + b" " + rng.choice(PDF_OPERATORS) + b" "
        else:
            content = _rng_generic(rng)(rng, content, seeds)
    data = zlib.compress(bytes(content)) if compressed else bytes(content)
    out = b[: m.start(1)] + data + b"\n" + b[m.end(1) :]
    head = out[max(0, m.start() - 400) : m.start()]
    length = list(re.finditer(rb"/Length\s+(\d+)", head))
    if length and rng.random() < 0.9:
        ls = max(0, m.start() - 400) + length[-1].start(1)
        le = max(0, m.start() - 400) + length[-1].end(1)
        out = out[:ls] + str(len(data)).encode() + out[le:]
    return bytearray(out)


GENERIC: list[Callable[[random.Random, bytearray, list[bytes]], bytearray]] = [
    _flip_bits, _set_bytes, _interesting_int, _insert, _duplicate, _delete, _truncate, _splice, _swap,
]  # fmt: skip


def _rng_generic(rng: random.Random) -> Callable[[random.Random, bytearray, list[bytes]], bytearray]:
    return rng.choice(GENERIC)


def mutate(rng: random.Random, name: str, data: bytes, pool: list[bytes]) -> bytes:
    """One to several stacked mutations, format-aware about half the time."""
    aware = {"pdf": [_pdf_token, _pdf_content], "png": [_png_chunk], "tif": [_tiff_entry], "jpe": [_jpeg_segment]}
    special = aware.get(name[:3], [])
    b = bytearray(data)
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4, 6])):
        op = rng.choice(special) if special and rng.random() < 0.55 else _rng_generic(rng)
        b = op(rng, b, pool)
    return bytes(b)


def make_case(seeds: dict[str, bytes], seed: int, target: str, i: int) -> tuple[str, bytes, random.Random]:
    """Case ``i`` of a target: a pure function of (seed, target, i), whatever the job count."""
    rng = random.Random(f"{seed}:{target}:{i}")
    names = sorted(seeds)
    name = names[i % len(names)] if i < len(names) else rng.choice(names)
    data = seeds[name] if i < len(names) else mutate(rng, name, seeds[name], [seeds[n] for n in names])
    return name, data, rng


# --- results ---------------------------------------------------------------------------------------------------


@dataclass
class Target:
    folder: ClassVar[Path] = FINDINGS  # where reproducers go

    name: str
    cases: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    server_errors: list[dict[str, Any]] = field(default_factory=list)  # 500s
    hangs: list[dict[str, Any]] = field(default_factory=list)
    crashes: list[dict[str, Any]] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)  # informational (e.g. schema mismatches)
    causes: dict[str, int] = field(default_factory=dict)  # 500s by exception and innermost frame
    slowest_s: float = 0.0
    wall_s: float = 0.0
    peak_rss_mib: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, outcome: str, elapsed: float) -> None:
        with self.lock:
            self.cases += 1
            self.outcomes[outcome] += 1
            self.slowest_s = max(self.slowest_s, elapsed)

    def finding(self, kind: str, detail: dict[str, Any], data: bytes | None = None) -> None:
        """Keep a 500, hang or crash, with its reproducer on disk."""
        with self.lock:
            bucket = {"500": self.server_errors, "hang": self.hangs, "crash": self.crashes}[kind]
            bucket.append(detail)
            n = len(bucket)
        if n > 200 and data is None:
            return  # counted; the first 200 of a kind are kept on disk
        stem = self.folder / f"{self.name}-{kind}-{n:04d}"
        self.folder.mkdir(parents=True, exist_ok=True)
        if data is not None:
            stem.with_suffix(".bin").write_bytes(data)
            detail["reproducer"] = str(stem.with_suffix(".bin"))
        stem.with_suffix(".json").write_text(json.dumps(detail, indent=1, default=str))

    def summary(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "500s": len(self.server_errors),
            "hangs": len(self.hangs),
            "crashes": len(self.crashes),
            "slowest_s": round(self.slowest_s, 3),
            "wall_s": round(self.wall_s, 1),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
            "outcomes": dict(self.outcomes.most_common(25)),
            "notes": dict(self.notes),
            "causes": self.causes,
            "findings": {"500": self.server_errors[:20], "hang": self.hangs[:20], "crash": self.crashes[:20]},
        }


def _harness_error(target: Target, case: int) -> None:
    """A bug of this script: counted in the notes, its first traceback printed."""
    with target.lock:
        target.notes["harness errors"] += 1
        first = target.notes["harness errors"] == 1
    if first:
        print(f"fuzz: harness error on {target.name} case {case}:\n{traceback.format_exc()}", file=sys.stderr)


def _signature(tb: str) -> str:
    """The exception and the innermost frame in Percept (where a fix goes): findings of one cause share it."""
    lines = [ln.strip() for ln in tb.strip().splitlines()]
    frames = [ln for ln in lines if ln.startswith("File ")]
    ours = [ln for ln in frames if f'"{ROOT / "percept"}/' in ln]
    where = (ours or frames or ["?"])[-1].replace(f"{ROOT}/", "")
    return f"{lines[-1][:160] if lines else '?'} @ {where}"


# --- target 1: loaders in child processes ----------------------------------------------------------------------


class _NoOcr:
    """Stands in for the OCR engine in loader children: checks what it is given and reads nothing, instantly.

    OCR is the engine's business (and seconds a page); everything before it is the loaders', which this target
    is after. An image the real engine could not take (empty, not 2-D 8-bit) is a finding too.
    """

    largest = 0

    def recognize(self, image: Any, languages: str | None = None, dpi: int | None = None) -> Any:
        import numpy as np

        from percept.ocr import OcrResult

        if not (isinstance(image, np.ndarray) and image.ndim == 2 and image.dtype == np.uint8 and image.size):
            raise AssertionError(f"the OCR engine was handed {type(image).__name__} {getattr(image, 'shape', '')}")
        _NoOcr.largest = max(_NoOcr.largest, image.size)
        return OcrResult([])


def _loader_child(conn: Any) -> None:
    """Child loop: validate each document as the server does on POST, then run the worker's own page task on it
    (text layer, rendering, orientation and layout included) with OCR stubbed out."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
    import warnings

    warnings.simplefilter("ignore")  # Pillow's and libtiff's complaints about the mutants: thousands of lines
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)

    from percept import worker
    from percept.config import Limits, ReadOptions
    from percept.errors import PerceptError
    from percept.source import open_document

    worker.get_engine = lambda name: _NoOcr()  # type: ignore[assignment,return-value]
    limits = Limits()
    folder = tempfile.mkdtemp(prefix="percept-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    path = os.path.join(folder, "doc")

    def load(layout: bool) -> str:
        ref = open_document(path, limits)
        pages = tuple(range(min(ref.page_count, MAX_LOADED_PAGES)))
        for page in worker.run_task(worker.PageTask(ref, pages, ReadOptions(layout=layout), limits)):
            if isinstance(page, worker.FailedPage):  # the server reads the rest (partial success); still a bug here
                error = page.error
                if error.code == "MemoryError":
                    raise MemoryError(error.message)
                raise RuntimeError(f"page {error.page_number} failed: {error.code}: {error.message}")
        return f"ok:{ref.mime_type}"

    try:
        while True:
            message = conn.recv()
            if message is None:
                return
            data, layout = message
            with open(path, "wb") as fh:
                fh.write(data)
            start = time.perf_counter()
            try:
                outcome, detail = load(layout), ""
            except PerceptError as exc:
                outcome, detail = (
                    (f"rejected:{exc.code}", "") if exc.status < 500 else ("error", traceback.format_exc())
                )
            except MemoryError:  # over this child's address-space cap, which the server does not have
                outcome, detail = "over-memory-cap", traceback.format_exc()
            except Exception:
                outcome, detail = "error", traceback.format_exc()
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            conn.send((outcome, detail, time.perf_counter() - start, rss))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
            os.rmdir(folder)


class LoaderChild:
    """One child process; replaced after a crash or a hang."""

    def __init__(self) -> None:
        import multiprocessing as mp

        self.ctx = mp.get_context("spawn")
        self._start()

    def _start(self) -> None:
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_loader_child, args=(child,), daemon=True)
        self.proc.start()
        child.close()

    def restart(self) -> None:
        self.proc.kill()
        self.proc.join(10)
        self.conn.close()
        self._start()

    def run(self, data: bytes, layout: bool, deadline: float) -> tuple[str, str, float, float]:
        self.conn.send((data, layout))
        if not self.conn.poll(deadline):
            self.restart()
            return "hang", "", deadline, 0.0
        try:
            return self.conn.recv()
        except EOFError:
            self.proc.join(10)
            code = self.proc.exitcode
            self.restart()
            return "crash", f"exit code {code}", 0.0, 0.0

    def close(self) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self.conn.send(None)
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.kill()


def fuzz_loaders(seeds: dict[str, bytes], n: int, seed: int, jobs: int) -> Target:
    target = Target("loaders")
    start = time.perf_counter()
    counter = iter(range(n))
    lock = threading.Lock()
    signatures: Counter[str] = Counter()

    def work() -> None:
        child = LoaderChild()
        try:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                try:
                    name, data, rng = make_case(seeds, seed, "loaders", i)
                except Exception:  # a bug of this harness, not of Percept: counted, shown once, not fatal
                    _harness_error(target, i)
                    continue
                layout = rng.random() < 0.5
                outcome, detail, elapsed, rss = child.run(data, layout, LOADER_DEADLINE_S)
                target.record(outcome, elapsed)
                with target.lock:
                    target.peak_rss_mib = max(target.peak_rss_mib, rss)
                info = {"case": i, "seed": name, "layout": layout, "bytes": len(data)}
                if outcome == "error":
                    sig = _signature(detail)
                    with lock:
                        signatures[sig] += 1
                        seen = signatures[sig]
                    detail = detail if seen == 1 else ""  # one full traceback per cause
                    target.finding("500", {**info, "signature": sig, "traceback": detail}, data if seen <= 3 else None)
                elif outcome == "over-memory-cap":  # noted, not a 500: the server would try (and likely manage)
                    with target.lock:
                        target.notes[f"asked for over {CHILD_MEMORY_BYTES >> 30} GiB: {_signature(detail)}"] += 1
                elif outcome == "hang":
                    target.finding("hang", {**info, "deadline_s": LOADER_DEADLINE_S}, data)
                elif outcome == "crash":
                    target.finding("crash", {**info, "detail": detail}, data)
        finally:
            child.close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(max(1, jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    target.wall_s = time.perf_counter() - start
    target.causes = dict(signatures.most_common(30))
    return target


# --- the server ------------------------------------------------------------------------------------------------


@dataclass
class FuzzServer:
    endpoint: str
    key: str
    log: Path
    pid: int
    peak_rss_mib: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> None:
        import psutil

        proc = psutil.Process(self.pid)
        while not self._stop.is_set():
            total = 0
            with contextlib.suppress(psutil.Error):
                for p in [proc, *proc.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_info().rss
            self.peak_rss_mib = max(self.peak_rss_mib, total / 2**20)
            self._stop.wait(0.1)


@contextlib.contextmanager
def running_server(work: Path) -> Iterator[FuzzServer]:
    """``percept serve`` with the default URL policy (no private or loopback sources), RSS sampled."""
    from server_harness import KEY, start_server

    srv = start_server(work / "data", PERCEPT_URL_ALLOW="", PERCEPT_STORAGE_ALLOW="", PERCEPT_TRAINING_ROOT="")
    state = FuzzServer(srv.endpoint, KEY, srv.log, srv.process.pid)
    sampler = threading.Thread(target=state.sample, daemon=True)
    sampler.start()
    try:
        yield state
    finally:
        state._stop.set()
        sampler.join()
        srv.stop()


def server_log_findings(log: Path) -> dict[str, Any]:
    """Tracebacks and worker deaths the server logged (what a client cannot see, e.g. a failed job).

    Chained exceptions are one traceback. Uvicorn's "Exception in ASGI application" repeats one that Percept's
    handler already logged (it escaped the app after the 500 went out, and uvicorn drops the connection): those
    are counted apart, not twice.
    """
    lines = log.read_text(errors="replace").splitlines()
    tracebacks: list[str] = []
    escaped = 0
    i = 0
    while i < len(lines):
        if not lines[i].startswith("Traceback (most recent call last):"):
            i += 1
            continue
        intro = lines[i - 1] if i else ""
        j = i + 1
        while j < len(lines):
            line = lines[j]
            if not line.strip() or line[:1].isspace() or line.startswith(("Traceback", "The above", "During")):
                j += 1
                continue
            k = j + 1  # the exception line; a chained one follows after a blank line
            while k < len(lines) and not lines[k].strip():
                k += 1
            if k < len(lines) and lines[k].startswith(("The above exception", "During handling")):
                j = k
                continue
            break
        block = "\n".join([intro, *lines[i : j + 1]])
        if "Exception in ASGI application" in intro:
            escaped += 1
        else:
            tracebacks.append(block)
        i = j + 1
    causes = Counter(_signature(tb) for tb in tracebacks)
    return {
        "tracebacks": tracebacks,
        "escaped_to_uvicorn": escaped,
        "causes": dict(causes.most_common(30)),
        "worker_died": [ln for ln in lines if "a worker process died" in ln],
    }


# --- target 2: document and JSON bodies through every analyze endpoint -----------------------------------------

ENDPOINTS = [
    ("/documentintelligence/documentModels/prebuilt-read:analyze", {"api-version": "2024-11-30"}, "v3"),
    ("/documentintelligence/documentModels/prebuilt-layout:analyze", {"api-version": "2024-11-30"}, "v3"),
    ("/formrecognizer/documentModels/prebuilt-document:analyze", {"api-version": "2023-07-31"}, "v3"),
    ("/formrecognizer/documentModels/prebuilt-read:analyze", {"api-version": "2022-08-31"}, "v3"),
    ("/formrecognizer/v2.1/layout/analyze", {}, "fr2"),
    ("/vision/v3.2/read/analyze", {}, "cv"),
    ("/vision/v2.1/read/core/asyncBatchAnalyze", {}, "cv"),
    ("/vision/v2.0/recognizeText", {"mode": "Printed"}, "cv"),
    ("/vision/v3.2/ocr", {"language": "unk", "detectOrientation": "true"}, "cv"),
]
EXTRA_PARAMS = {
    "pages": ["1", "1-2", "2", "1,1", "0", "-1", "3-1", "1-", "x", "1" * 40, "1-99999999999999999999", " 1 ", "1,"],
    "locale": ["en-US", "de-DE", "xx", "", "a" * 300, "../../etc"],
    "features": ["keyValuePairs", "ocrHighResolution", "bogus", ""],
    "outputContentFormat": ["markdown", "text", "html", ""],
    "stringIndexType": ["textElements", "unicodeCodePoint", "utf16CodeUnit", "bogus"],
    "language": ["en", "de", "zz", ""],
    "readingOrder": ["natural", "basic", "weird"],
}
URLS = [
    "http://127.0.0.1/doc.pdf", "http://localhost:5000/health", "http://[::1]/x", "http://0x7f000001/",
    "http://2130706433/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://example.com/doc.pdf",
    "https://8.8.8.8/", "file:///etc/passwd", "ftp://example.com/a.pdf", "gopher://x/", "javascript:alert(1)",
    "data:application/pdf;base64,JVBE", "http://", "http://:80/", "http://exa mple.com/", "http://example.com:99999/",
    "http://ex%00ample.com/", "//example.com", "http://user:pass@example.com/", "http://xn--nxasmq6b.com/",
    "http://例え.テスト/", "http://" + "a" * 300 + ".com/", " ", "", "\u0000", "http://example.com/" + "%" * 50,
]  # fmt: skip


def _b64_variant(rng: random.Random, data: bytes) -> str:
    text = base64.b64encode(data).decode()
    how = rng.random()
    if how < 0.5:
        return text
    if how < 0.6:
        return text.rstrip("=")
    if how < 0.7:
        return base64.urlsafe_b64encode(data).decode()
    if how < 0.8:
        at = rng.randrange(len(text) + 1)
        return text[:at] + rng.choice(["\n", " ", "=", "==", "é", "\u0000", "*"]) + text[at:]
    if how < 0.9:
        return text + "=" * rng.randint(1, 4)
    return text[: rng.randrange(len(text) + 1)]


def body_case(seeds: dict[str, bytes], seed: int, i: int) -> tuple[str, dict[str, str], dict[str, str], bytes, str]:
    """Endpoint, query, headers, body and a label for case ``i`` of the bodies target."""
    name, data, rng = make_case(seeds, seed, "bodies", i)
    path, params, family = rng.choice(ENDPOINTS)
    params = dict(params)
    if rng.random() < 0.3:
        key = rng.choice(sorted(EXTRA_PARAMS))
        params[key] = rng.choice(EXTRA_PARAMS[key])
    content_type = rng.choice(["application/octet-stream", "application/pdf", "image/png", "application/json", ""])
    how = rng.random()
    label = f"{family}:raw:{name}"
    body: bytes = data
    if how < 0.25:
        key = rng.choice(["base64Source", "base64Source", "url", "urlSource", "source"])
        value: Any = _b64_variant(rng, data) if key == "base64Source" else rng.choice(URLS)
        reference: Any = {key: value}
        if rng.random() < 0.2:
            reference[rng.choice(["urlSource", "base64Source", "extra"])] = rng.choice([None, 1, [], {}, "x"])
        body, label, content_type = json.dumps(reference).encode(), f"{family}:json:{key}", "application/json"
    elif how < 0.32:
        body, label = json.dumps(_b64_variant(rng, data)).encode(), f"{family}:json-string"
    elif how < 0.4:
        shape = rng.choice(["deep-array", "deep-object", "number", "list", "null", "bad-utf8", "bom", "huge-int"])
        depth = rng.choice([100, 2000, 100_000])
        body = {
            "deep-array": b"[" * depth + b"]" * depth,
            "deep-object": b'{"a":' * depth + b"1" + b"}" * depth,
            "number": b"12345",
            "list": b'[{"urlSource": "http://example.com/"}]',
            "null": b"null",
            "bad-utf8": b'{"urlSource": "\xff\xfe"}',
            "bom": b'\xef\xbb\xbf{"base64Source": "' + base64.b64encode(data) + b'"}',
            "huge-int": b'{"urlSource": ' + b"9" * 5000 + b"}",
        }[shape]
        label, content_type = f"{family}:json-{shape}", "application/json"
    headers = {KEY_HEADER: "", "Content-Type": content_type}
    return path, params, headers, body, label


def _terminal(body: Any) -> str | None:
    status = str(body.get("status", "")).lower() if isinstance(body, dict) else ""
    return status if status in ("succeeded", "failed") else None


def fuzz_bodies(server: FuzzServer, seeds: dict[str, bytes], n: int, seed: int, clients: int) -> Target:
    import httpx

    target = Target("bodies")
    start = time.perf_counter()
    counter = iter(range(n))
    lock = threading.Lock()

    def one(client: httpx.Client, i: int) -> None:
        path, params, headers, body, label = body_case(seeds, seed, i)
        headers = {**headers, KEY_HEADER: server.key}
        if not headers["Content-Type"]:
            del headers["Content-Type"]
        t = time.perf_counter()
        info = {"case": i, "label": label, "path": path, "params": params, "bytes": len(body)}
        for attempt in (1, 2):
            try:
                r = client.post(server.endpoint + path, params=params, headers=headers, content=body)
                break
            except httpx.TimeoutException:
                target.record("hang", time.perf_counter() - t)
                target.finding("hang", {**info, "deadline_s": REQUEST_DEADLINE_S}, body)
                return
            except httpx.TransportError as exc:
                # After a 500 that escaped to uvicorn, the server drops the keep-alive connection without a
                # "Connection: close": the next request on it is reset. That is the earlier 500's doing; a
                # second reset on a fresh connection is this request's own.
                if attempt == 1:
                    with target.lock:
                        target.notes["keep-alive connection reset after an earlier 500 (retried)"] += 1
                    continue
                target.record(f"no-response:{type(exc).__name__}", time.perf_counter() - t)
                target.finding("500", {**info, "no_response": repr(exc)}, body)
                return
        if r.status_code >= 500:
            target.record(f"http:{r.status_code}", time.perf_counter() - t)
            target.finding("500", {**info, "status": r.status_code, "response": r.text[:2000]}, body)
            return
        location = r.headers.get("operation-location")
        if r.status_code != 202 or not location:
            code = ""
            with contextlib.suppress(ValueError, AttributeError, KeyError, TypeError):
                err = r.json()
                code = err.get("error", {}).get("innererror", {}).get("code") or err.get("error", {}).get("code", "")
            target.record(f"http:{r.status_code}:{code}" if code else f"http:{r.status_code}", time.perf_counter() - t)
            return
        deadline = time.monotonic() + OPERATION_DEADLINE_S
        reset = False
        while True:
            try:
                poll = client.get(location, headers={KEY_HEADER: server.key})
            except httpx.TimeoutException:
                target.record("hang", time.perf_counter() - t)
                target.finding("hang", {**info, "poll": location, "deadline_s": REQUEST_DEADLINE_S}, body)
                return
            except httpx.TransportError as exc:
                if not reset:  # the connection another case's 500 left behind, as for the POST
                    reset = True
                    with target.lock:
                        target.notes["keep-alive connection reset after an earlier 500 (retried)"] += 1
                    continue
                target.record(f"no-response:{type(exc).__name__}", time.perf_counter() - t)
                target.finding("500", {**info, "poll": location, "no_response": repr(exc)}, body)
                return
            if poll.status_code >= 500:
                target.record(f"poll:{poll.status_code}", time.perf_counter() - t)
                target.finding("500", {**info, "poll": location, "response": poll.text[:2000]}, body)
                return
            state = _terminal(poll.json()) if poll.status_code == 200 else "http"
            if state == "failed" and "InternalServerError" in poll.text:
                target.record("operation:InternalServerError", time.perf_counter() - t)
                target.finding("500", {**info, "operation": poll.text[:2000]}, body)
                return
            if state:
                target.record(f"operation:{state}", time.perf_counter() - t)
                return
            if time.monotonic() > deadline:
                target.record("hang", time.perf_counter() - t)
                target.finding("hang", {**info, "operation": location, "deadline_s": OPERATION_DEADLINE_S}, body)
                return

    def work() -> None:
        with httpx.Client(timeout=REQUEST_DEADLINE_S) as client:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                try:
                    one(client, i)
                except Exception:
                    _harness_error(target, i)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(max(1, clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    target.wall_s = time.perf_counter() - start
    return target


# --- target 3: schemathesis against /openapi.json --------------------------------------------------------------

REFERENCE_BODY = {
    "type": "object",
    "properties": {
        "urlSource": {"type": "string"},
        "base64Source": {"type": "string", "format": "byte"},
        "url": {"type": "string"},
        "source": {"type": "string"},
    },
}
MODEL_BODY = {
    "type": "object",
    "properties": {
        "modelId": {"type": "string"},
        "description": {"type": "string"},
        "buildMode": {"type": "string", "enum": ["template", "neural", "fast"]},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
        "azureBlobSource": {
            "type": "object",
            "properties": {"containerUrl": {"type": "string"}, "prefix": {"type": "string"}},
        },
        "azureBlobFileListSource": {
            "type": "object",
            "properties": {"containerUrl": {"type": "string"}, "fileList": {"type": "string"}},
        },
        "componentModelIds": {"type": "array", "items": {"type": "string"}},
        "componentModels": {
            "type": "array",
            "items": {"type": "object", "properties": {"modelId": {"type": "string"}}},
        },
        "docTypes": {"type": "object"},
        "source": {"type": "string"},
        "sourceFilter": {
            "type": "object",
            "properties": {"prefix": {"type": "string"}, "includeSubFolders": {"type": "boolean"}},
        },
        "useLabelFile": {"type": "boolean"},
        "modelIds": {"type": "array", "items": {"type": "string"}},
        "modelName": {"type": "string"},
        "targetResourceId": {"type": "string"},
        "targetResourceRegion": {"type": "string"},
        "copyAuthorization": {
            "type": "object",
            "properties": {
                "modelId": {"type": "string"},
                "accessToken": {"type": "string"},
                "expirationDateTimeTicks": {"type": "integer"},
            },
        },
    },
}


# Parameters steered towards values that reach the handlers (any string stays possible).
LIKELY = {
    "path_version": ["v2.0", "v2.1", "v2.1-preview.1", "v2.1-preview.3"],
    "api-version": ["2022-08-31", "2023-07-31", "2024-11-30"],
    "model_id": ["prebuilt-read", "prebuilt-layout", "prebuilt-document", "prebuilt-invoice"],
}


def with_request_bodies(spec: dict[str, Any]) -> dict[str, Any]:
    """The served spec, plus the bodies routes read from the raw request (FastAPI cannot declare those)."""
    spec = json.loads(json.dumps(spec))
    for path, ops in spec.get("paths", {}).items():
        for op in ops.values():
            for param in op.get("parameters", []) if isinstance(op, dict) else []:
                if param.get("name") in LIKELY:
                    param["schema"] = {"anyOf": [{"enum": LIKELY[param["name"]]}, {"type": "string"}]}
        post = ops.get("post")
        if post is None or "requestBody" in post:
            continue
        if re.search(r"analyze|/ocr$|recognizeText|asyncBatchAnalyze", path):
            content = {
                "application/json": {"schema": REFERENCE_BODY},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            }
        else:
            content = {"application/json": {"schema": MODEL_BODY}}
        post["requestBody"] = {"required": False, "content": content}
    return spec


def fuzz_openapi(server: FuzzServer, per_operation: int, seed: int) -> Target:
    import httpx
    import requests
    import schemathesis
    from hypothesis.errors import InvalidArgument, Unsatisfiable
    from schemathesis.checks import response_schema_conformance
    from schemathesis.generation import GenerationMode

    target = Target("openapi")
    start = time.perf_counter()
    spec = with_request_bodies(httpx.get(server.endpoint + "/openapi.json", timeout=REQUEST_DEADLINE_S).json())
    schema = schemathesis.openapi.from_dict(spec)
    session = requests.Session()

    def call_one(case: Any, label: str) -> None:
        keyless = zlib.crc32(f"{case.path}{case.query}{case.path_parameters}".encode()) % 20 == 0
        headers = {} if keyless else {KEY_HEADER: server.key}  # 1 in 20 without the key
        t = time.perf_counter()
        try:
            response = case.call(base_url=server.endpoint, session=session, headers=headers, timeout=REQUEST_DEADLINE_S)
        except requests.Timeout:
            target.record("hang", time.perf_counter() - t)
            target.finding("hang", {"operation": label, "curl": _curl(case, server)})
            return
        except requests.ConnectionError as exc:  # reset or refused: the server gave no answer
            target.record(f"no-response:{type(exc).__name__}", time.perf_counter() - t)
            target.finding("500", {"operation": label, "curl": _curl(case, server), "no_response": repr(exc)})
            return
        except requests.RequestException as exc:  # the client could not even send it (e.g. a bad header value)
            target.record(f"client:{type(exc).__name__}", time.perf_counter() - t)
            return
        elapsed = time.perf_counter() - t
        target.record(f"http:{response.status_code}", elapsed)
        if response.status_code >= 500:
            target.finding("500", {"operation": label, "curl": _curl(case, server), "response": response.text[:2000]})
        if elapsed > REQUEST_DEADLINE_S:
            target.finding("hang", {"operation": label, "curl": _curl(case, server), "seconds": elapsed})
        try:
            case.validate_response(response, checks=[response_schema_conformance])
        except Exception as exc:  # informational: the served schema is FastAPI's view of raw responses
            target.notes[f"schema mismatch: {type(exc).__name__}"] += 1

    operations = sum(1 for _ in schema.get_all_operations())
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        # One Hypothesis run over all operations (one_of): per-run start-up costs more than a case does.
        strategy = schema.as_strategy(generation_mode=mode)
        try:
            _examples(strategy, per_operation * operations, seed, lambda case: call_one(case, case.operation.label))()
        except (Unsatisfiable, InvalidArgument) as exc:
            target.notes[f"{type(exc).__name__}: {mode.value}"] += 1
    session.close()
    target.wall_s = time.perf_counter() - start
    return target


def _examples(strategy: Any, n: int, seed: int, body: Callable[[Any], None]) -> Callable[[], None]:
    """A Hypothesis run drawing up to ``n`` examples from ``strategy``, seeded, generating only (no shrinking)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    @hypothesis_seed(seed)
    @settings(
        max_examples=n, phases=[Phase.generate], database=None, deadline=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        body(case)

    return run


def _curl(case: Any, server: FuzzServer) -> str:
    with contextlib.suppress(Exception):
        return str(case.as_curl_command(headers={KEY_HEADER: server.key}))[:4000]
    return f"{case.method} {case.path} {case.query} {str(case.body)[:500]}"


# --- main ------------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    seeds = seed_documents()
    results: dict[str, Target] = {}
    started = time.perf_counter()
    if args.loaders:
        results["loaders"] = fuzz_loaders(seeds, args.loaders, args.seed, args.jobs)
        _progress(results["loaders"])
    server_summary: dict[str, Any] = {}
    if args.bodies or args.openapi:
        with tempfile.TemporaryDirectory(prefix="percept-fuzz-") as work, running_server(Path(work)) as server:
            if args.bodies:
                results["bodies"] = fuzz_bodies(server, seeds, args.bodies, args.seed, args.clients)
                _progress(results["bodies"])
            if args.openapi:
                results["openapi"] = fuzz_openapi(server, args.openapi, args.seed)
                _progress(results["openapi"])
            time.sleep(1.0)  # let operations the last cases queued finish before the log is read
            logged = server_log_findings(server.log)
            first: dict[str, str] = {}
            for tb in logged["tracebacks"]:
                first.setdefault(_signature(tb), tb[-6000:])
            with contextlib.suppress(OSError):  # the log goes with the temporary data directory otherwise
                Target.folder.mkdir(parents=True, exist_ok=True)
                (Target.folder / "server.log").write_bytes(server.log.read_bytes())
            server_summary = {
                "peak_rss_mib": round(server.peak_rss_mib, 1),
                "logged_tracebacks": len(logged["tracebacks"]),
                "escaped_to_uvicorn": logged["escaped_to_uvicorn"],
                "traceback_causes": logged["causes"],
                "worker_crashes": len(logged["worker_died"]),
                "tracebacks": list(first.values())[:20],
            }
    totals = {
        "cases": sum(t.cases for t in results.values()),
        "500s": sum(len(t.server_errors) for t in results.values()),
        "hangs": sum(len(t.hangs) for t in results.values()),
        "crashes": sum(len(t.crashes) for t in results.values()) + server_summary.get("worker_crashes", 0),
        "server_logged_tracebacks": server_summary.get("logged_tracebacks", 0),
        "harness_errors": sum(t.notes.get("harness errors", 0) for t in results.values()),
        "wall_s": round(time.perf_counter() - started, 1),
    }
    return {
        "date": dt.date.today().isoformat(),
        "machine": machine(),
        "seed": args.seed,
        "network_isolated": network_isolated(),
        "seeds": len(seeds),
        "targets": {name: t.summary() for name, t in results.items()},
        "server": server_summary,
        "totals": totals,
    }


def _progress(target: Target) -> None:
    print(
        f"fuzz: {target.name}: {target.cases} cases in {target.wall_s:.0f} s, {len(target.server_errors)} 500s, "
        f"{len(target.hangs)} hangs, {len(target.crashes)} crashes",
        file=sys.stderr,
        flush=True,
    )


def report(result: dict[str, Any]) -> str:
    rows = [
        [name, t["cases"], t["500s"], t["hangs"], t["crashes"], t["slowest_s"], t["wall_s"]]
        for name, t in result["targets"].items()
    ]
    tot = result["totals"]
    rows.append(["total", tot["cases"], tot["500s"], tot["hangs"], tot["crashes"], "", tot["wall_s"]])
    lines = [
        f"Fuzzing, {result['date']} on {result['machine']}; seed {result['seed']}, {result['seeds']} seed documents, "
        f"network namespace with loopback only: {result['network_isolated']}.",
        "",
        table(["target", "cases", "500s", "hangs", "crashes", "slowest case s", "wall s"], rows),
        "",
    ]
    server = result.get("server") or {}
    if server:
        lines.append(
            f"Server: peak RSS {server['peak_rss_mib']} MiB (with workers), worker crashes {server['worker_crashes']}, "
            f"tracebacks in its log {server['logged_tracebacks']}."
        )
    if "loaders" in result["targets"]:
        lines.append(f"Loader children: peak RSS {result['targets']['loaders']['peak_rss_mib']} MiB.")
    for name, t in result["targets"].items():
        lines.append(f"{name} outcomes: " + ", ".join(f"{k} {v}" for k, v in t["outcomes"].items()))
        if t["notes"]:
            lines.append(f"{name} notes: " + "; ".join(f"{k}: {v}" for k, v in t["notes"].items()))
    causes = {**{f"loaders: {k}": v for k, v in result["targets"].get("loaders", {}).get("causes", {}).items()}}
    causes.update({f"server log: {k}": v for k, v in server.get("traceback_causes", {}).items()})
    if causes:
        lines += ["", "500s by cause (exception @ innermost frame):"]
        lines += [f"- {v} x {k}" for k, v in sorted(causes.items(), key=lambda kv: -kv[1])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loaders", type=int, default=150_000, help="loader cases")
    parser.add_argument("--bodies", type=int, default=6_000, help="request-body cases")
    parser.add_argument("--openapi", type=int, default=250, help="schemathesis examples per operation and mode")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--jobs", type=int, default=2, help="loader child processes")
    parser.add_argument("--clients", type=int, default=3, help="concurrent clients of the bodies target")
    parser.add_argument("--quick", action="store_true", help="the short slice tests/test_fuzz.py runs")
    parser.add_argument("--json", type=Path, help="write the result here as JSON")
    parser.add_argument("--findings", type=Path, default=FINDINGS, help="where reproducers of findings go")
    parser.add_argument("--allow-network", action="store_true", help="skip the network namespace (not advised)")
    parser.add_argument("--check-isolation", action="store_true", help="only check the namespace can be made")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on the way out, as on Ctrl-C
    if args.quick:
        args.loaders, args.bodies, args.openapi, args.jobs, args.clients = 1500, 40, 1, 2, 2
    if not args.allow_network:
        try:
            isolate_network()
        except OSError as exc:
            print(f"fuzz: cannot run in a network namespace with loopback only: {exc}", file=sys.stderr)
            return 3
    if args.check_isolation:
        return 0
    Target.folder = args.findings
    result = run(args)
    text = report(result)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))
    tot = result["totals"]
    return 1 if tot["500s"] or tot["hangs"] or tot["crashes"] or tot["server_logged_tracebacks"] else 0


if __name__ == "__main__":
    sys.exit(main())
