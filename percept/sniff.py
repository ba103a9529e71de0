"""Detect a document's type from its first bytes; a declared content type is never trusted.

The Azure SDKs send ``application/octet-stream`` for everything (and Document Intelligence sometimes labels raw
file bytes ``application/json``), so the bytes are the only truth.
"""

from __future__ import annotations

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
BMP = "image/bmp"
TIFF = "image/tiff"
HEIF = "image/heif"
GIF = "image/gif"
WEBP = "image/webp"

IMAGE_TYPES = frozenset({JPEG, PNG, BMP, TIFF, HEIF, GIF, WEBP})
SUPPORTED_TYPES = IMAGE_TYPES | {PDF}

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}


def sniff(head: bytes) -> str | None:
    """Return the MIME type of a document from its first bytes (16 are enough), or None if unknown."""
    if head.startswith(b"%PDF-"):
        return PDF
    # Some PDF producers put junk before the header; readers accept it within the first 1024 bytes.
    if b"%PDF-" in head[:1024]:
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"BM") and len(head) >= 6:
        return BMP
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return TIFF
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return HEIF
    return None
