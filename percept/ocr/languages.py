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


def installed_packs(command: str | None = None) -> frozenset[str]:
    """The packs of the Tesseract that OCR runs (``command``, else the configured one), asked once per process."""
    from .tesseract import tesseract_command

    found = command or tesseract_command()
    return _packs(found) if found else frozenset()


@lru_cache(maxsize=8)
def _packs(command: str) -> frozenset[str]:
    from .tesseract import run_tesseract

    try:
        out = run_tesseract([command, "--list-langs"], timeout=60).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):  # not runnable: no pack can be picked, OCR reports the cause
        return frozenset()
    return frozenset(line.strip() for line in out.splitlines()[1:] if line.strip())


def tesseract_languages(hint: str | None, command: str | None = None) -> str | None:
    """The pack for a caller's language hint, or None to keep the configured default (unknown or not installed).

    This is the Tesseract engine's language resolver (``EngineSpec.languages``); ``command`` is its program."""
    if not hint:
        return None
    pack = _PACKS.get(hint.split("-")[0].split("_")[0].lower())
    return pack if pack and pack in installed_packs(command) else None
