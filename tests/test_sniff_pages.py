from __future__ import annotations

import pytest

from percept.errors import InvalidPages
from percept.pages import parse_pages
from percept.sniff import BMP, GIF, HEIF, JPEG, PDF, PNG, TIFF, sniff


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"%PDF-1.7\n", PDF),
        (b"\r\n  %PDF-1.4", PDF),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00", PNG),
        (b"BM6\x00\x00\x00\x00\x00", BMP),
        (b"II*\x00\x08\x00\x00\x00", TIFF),
        (b"MM\x00*\x00\x00\x00\x08", TIFF),
        (b"GIF89a\x01\x00", GIF),
        (b"\x00\x00\x00\x18ftypheic\x00\x00", HEIF),
        (b"PK\x03\x04 zip", None),
        (b"hello world", None),
        (b"", None),
    ],
)
def test_sniff_uses_magic_bytes(head: bytes, mime: str | None) -> None:
    assert sniff(head) == mime


@pytest.mark.parametrize(
    ("spec", "count", "expected"),
    [
        (None, 3, [0, 1, 2]),
        ("", 2, [0, 1]),
        ("1-3,5", 6, [0, 1, 2, 4]),
        ("2", 4, [1]),
        ("3-", 5, [2, 3, 4]),
        ("5,1,1-2", 5, [0, 1, 4]),
        (" 1 - 2 , 4 ", 5, [0, 1, 3]),
        ("1-10", 3, [0, 1, 2]),  # pages past the end are ignored, as Azure does
    ],
)
def test_parse_pages(spec: str | None, count: int, expected: list[int]) -> None:
    assert parse_pages(spec, count) == expected


@pytest.mark.parametrize("spec", ["0", "a-b", "3-1", "1,,2", "-2", "7-9"])
def test_parse_pages_rejects(spec: str) -> None:
    with pytest.raises(InvalidPages) as err:
        parse_pages(spec, 5)
    assert err.value.target == "pages"
