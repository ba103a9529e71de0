"""Language hints (``en``, ``de-DE``) to the Tesseract packs that are installed."""

from __future__ import annotations

import subprocess
from functools import lru_cache

# BCP-47 primary subtags to Tesseract pack names, for the packs Debian ships most often.
_PACKS = {
    "en": "eng",
    "de": "deu",
    "fr": "fra",
    "es": "spa",
    "it": "ita",
    "pt": "por",
    "nl": "nld",
    "pl": "pol",
    "sv": "swe",
    "da": "dan",
    "fi": "fin",
    "no": "nor",
    "nb": "nor",
    "cs": "ces",
    "hu": "hun",
    "ro": "ron",
    "tr": "tur",
    "ru": "rus",
    "uk": "ukr",
    "el": "ell",
    "ja": "jpn",
    "ko": "kor",
    "zh": "chi_sim",
    "ar": "ara",
}


@lru_cache(maxsize=1)
def installed_packs() -> frozenset[str]:
    """The packs of the Tesseract that OCR runs (``PERCEPT_TESSERACT_CMD`` included), asked once per process."""
    from .tesseract import run_tesseract, tesseract_command

    command = tesseract_command()
    if not command:
        return frozenset()
    try:
        out = run_tesseract([command, "--list-langs"], timeout=60).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):  # not runnable: no pack can be picked, OCR reports the cause
        return frozenset()
    return frozenset(line.strip() for line in out.splitlines()[1:] if line.strip())


def tesseract_languages(hint: str | None) -> str | None:
    """The pack for a caller's language hint, or None to keep the configured default (unknown or not installed)."""
    if not hint:
        return None
    pack = _PACKS.get(hint.split("-")[0].split("_")[0].lower())
    return pack if pack and pack in installed_packs() else None
