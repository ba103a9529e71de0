"""Typed field values from the text a model extracted, as Form Recognizer reports them: ``valueNumber`` a float,
``valueDate`` ``YYYY-MM-DD``, ``valueTime`` ``HH:MM:SS``. Text that does not parse keeps its text and no value."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from dateutil import parser as dateparser

FIELD_TYPES = ("string", "number", "integer", "date", "time", "selectionMark")
_VALUE_KEYS = {t: f"value{t[0].upper()}{t[1:]}" for t in FIELD_TYPES}  # valueString ... valueSelectionMark

_NUMBER_JUNK = re.compile(r"[\s$€£¥,]")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DEFAULT = datetime(2000, 1, 1)


def parse_number(text: str) -> float | None:
    """``$1,234.50`` -> 1234.5; ``(12.00)`` -> -12.0. Identifiers with dashes (SSNs, phone numbers) are not numbers."""
    t = _NUMBER_JUNK.sub("", text)
    negative = t.startswith("(") and t.endswith(")")
    t = t.strip("()")
    if not _NUMBER.match(t):
        return None
    value = float(t)
    return -value if negative else value


def parse_date(text: str) -> str | None:
    t = text.strip().rstrip(".,")
    if not t or not any(ch.isdigit() for ch in t):
        return None
    try:
        parsed = dateparser.parse(t, default=_DEFAULT, fuzzy=False)
    except (ValueError, OverflowError):
        return None
    return parsed.date().isoformat()


def parse_time(text: str) -> str | None:
    t = text.strip()
    if not re.search(r"\d{1,2}\s*[:.]\s*\d{2}|\d\s*[ap]\.?m", t, re.IGNORECASE):
        return None
    try:
        parsed = dateparser.parse(t, default=_DEFAULT, fuzzy=True)
    except (ValueError, OverflowError):
        return None
    return parsed.strftime("%H:%M:%S")


def value_key(field_type: str) -> str:
    """The property a field's typed value goes in, the same in every API version that has fields."""
    return _VALUE_KEYS.get(field_type, "valueString")


def typed_value(field_type: str, text: str) -> Any:
    """The typed value of ``text`` for ``field_type`` (None when it does not parse)."""
    if field_type == "number":
        return parse_number(text)
    if field_type == "integer":
        number = parse_number(text)
        return int(number) if number is not None and number.is_integer() else None
    if field_type == "date":
        return parse_date(text)
    if field_type == "time":
        return parse_time(text)
    if field_type == "selectionMark":
        return text if text in ("selected", "unselected") else None
    return text or None
