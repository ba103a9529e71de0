"""Missing test dependencies: a skip on a developer's machine, a failure under CI.

CI (``CI=true``) installs everything the suite needs, so a dependency missing there is a broken install, and a
skip would let whole suites go unrun behind a green run. Outside CI the tests still skip, saying what is missing.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing(what: str) -> NoReturn:
    """Skip (or, under CI, fail) because ``what`` is not available here."""
    if in_ci():
        pytest.fail(f"CI=true and a dependency the suite needs is missing: {what}", pytrace=False)
    pytest.skip(what)


def module(name: str, why: str = "") -> ModuleType:
    """``pytest.importorskip`` that fails under CI."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        error = str(exc)
    missing(f"Python module {name!r} cannot be imported ({error}){': ' + why if why else ''}")
