"""Page selection strings as the APIs take them: ``"1-3,5"``, ``"2-"``, one-based."""

from __future__ import annotations

import re

from .errors import InvalidPages

_RANGE = re.compile(r"^\s*(\d+)\s*(?:(-)\s*(\d*)\s*)?$")


def parse_pages(spec: str | None, page_count: int) -> list[int]:
    """Zero-based page indices selected by ``spec``, in document order, without duplicates.

    Pages past the end are ignored as Azure does, but a selection that names no existing page is an error.
    """
    if spec is None or not spec.strip():
        return list(range(page_count))
    selected: set[int] = set()
    for part in spec.split(","):
        m = _RANGE.match(part)
        if not m:
            raise InvalidPages(f"Invalid page range '{part.strip()}' in pages='{spec}'.")
        start = int(m.group(1))
        end = start if m.group(2) is None else (int(m.group(3)) if m.group(3) else page_count)
        if start < 1 or end < start:
            raise InvalidPages(f"Invalid page range '{part.strip()}' in pages='{spec}'.")
        selected.update(range(start - 1, min(end, page_count)))
    if not selected:
        raise InvalidPages(f"pages='{spec}' selects no page of a {page_count}-page document.")
    return sorted(selected)
