"""One factory for every kind of engine: OCR today, then tags, faces, objects, adult content, captions.

An engine is declared once, as an :class:`EngineSpec`, and registered with :func:`register`:

- ``kind`` and ``name`` select it (``("ocr", "tesseract")``); a kind is a plain string, so a new kind needs no
  change here, only its own protocol (what ``get`` returns) and its specs.
- ``options`` is the engine's own settings: a pydantic model (subclass :class:`EngineOptions`) with typed,
  validated fields, defaults and descriptions.
- ``build(options)`` makes the engine. It imports the engine's module (and its heavy dependencies) lazily, so
  registering costs nothing and an engine that is not installed fails only when it is asked for; an
  ``ImportError`` becomes :class:`~percept.errors.EngineUnavailable` naming ``needs`` (the pip extra or program).
- ``languages(hint, options)``, optional, maps a caller's language hint (``en``, ``de-DE``) to the engine's own
  language string (``deu``), or None when it has none for that hint (the configured default then applies).

Options come from one rule: the option ``<field>`` of engine ``<name>`` of kind ``<kind>`` is read from the
environment variable ``PERCEPT_<KIND>_<NAME>_<FIELD>`` (upper case, ``-`` as ``_``; e.g.
``PERCEPT_OCR_TESSERACT_PSM``), and explicit values (``load_options(..., psm=6)``, or an options object given
to :func:`get`) win over it. An options class may also list older names of its variables in ``legacy_env``
(``PERCEPT_TESSERACT_CMD``); the rule's name wins when both are set. Only the process environment is read.

:func:`get` builds an engine once per process for each (kind, name, options) and keeps it, so models load once
per worker process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import EngineUnavailable

__all__ = [
    "EngineOptions",
    "EngineSpec",
    "available",
    "env_name",
    "get",
    "kinds",
    "language",
    "load_options",
    "register",
    "spec",
]


class EngineOptions(BaseModel):
    """Base of every engine's options: immutable (so it can key the engine cache) and strict about names."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Older environment names of some fields, {field: variable}; the rule's name wins when both are set.
    legacy_env: ClassVar[Mapping[str, str]] = {}


EngineT = TypeVar("EngineT")
OptionsT = TypeVar("OptionsT", bound=EngineOptions)


@dataclass(frozen=True, slots=True)
class EngineSpec(Generic[EngineT, OptionsT]):
    """What one engine is, what it needs and how it is built; see the module docstring."""

    kind: str
    name: str
    build: Callable[[OptionsT], EngineT]
    options: type[OptionsT]
    needs: str = ""
    languages: Callable[[str, OptionsT], str | None] | None = None
    description: str = ""


# Shown in messages; any other kind is shown as it is spelled.
_KIND_LABELS = {"ocr": "OCR"}

_SPECS: dict[tuple[str, str], EngineSpec[Any, Any]] = {}
_INSTANCES: dict[tuple[str, str, type[EngineOptions], str], Any] = {}
_LOCK = threading.RLock()


def _label(kind: str) -> str:
    return _KIND_LABELS.get(kind, kind)


def register(engine: EngineSpec[EngineT, OptionsT]) -> EngineSpec[EngineT, OptionsT]:
    """Make an engine selectable by kind and name (configuration, ``--engine``, plugins); a later registration
    of the same kind and name replaces the earlier one (and forgets engines built from it)."""
    with _LOCK:
        _SPECS[(engine.kind, engine.name)] = engine
        for key in [k for k in _INSTANCES if k[:2] == (engine.kind, engine.name)]:
            del _INSTANCES[key]
    return engine


def kinds() -> list[str]:
    return sorted({kind for kind, _ in _SPECS})


def available(kind: str) -> list[str]:
    """Names of the registered engines of one kind (registered, not necessarily installed)."""
    return sorted(name for k, name in _SPECS if k == kind)


def spec(kind: str, name: str) -> EngineSpec[Any, Any]:
    """The spec of one engine, or EngineUnavailable naming the ones there are."""
    found = _SPECS.get((kind, name))
    if found is not None:
        return found
    names = available(kind)
    if not names:
        raise EngineUnavailable(f"Unknown engine kind '{kind}'; kinds: {', '.join(kinds()) or 'none'}.")
    raise EngineUnavailable(f"Unknown {_label(kind)} engine '{name}'; available: {', '.join(names)}.")


def env_name(kind: str, name: str, field: str) -> str:
    """The environment variable of one option: ``PERCEPT_<KIND>_<NAME>_<FIELD>``."""
    return "_".join(("PERCEPT", kind, name, field)).upper().replace("-", "_")


def load_options(kind: str, name: str, **values: Any) -> EngineOptions:
    """One engine's options: the environment (see the module docstring) overridden by ``values``, validated.

    A bad value, from either place, is EngineUnavailable naming the option, the value and what it accepts.
    """
    engine = spec(kind, name)
    cls: type[EngineOptions] = engine.options
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for field in cls.model_fields:
        for variable in (env_name(kind, name, field), cls.legacy_env.get(field)):
            if variable and variable in os.environ:
                merged[field], sources[field] = os.environ[variable], variable
                break
    merged.update(values)
    try:
        return cls.model_validate(merged)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "options"
            where = f" (from {sources[field]})" if field in sources and field not in values else ""
            shown = f"={err['input']!r}" if err["type"] != "extra_forbidden" else ""
            problems.append(f"{field}{shown}{where}: {err['msg']}")
        raise EngineUnavailable(f"Invalid options for {_label(kind)} engine '{name}': {'; '.join(problems)}.") from None


def get(kind: str, name: str, options: EngineOptions | None = None) -> Any:
    """The engine, built once per process for each (kind, name, options) and kept (models load once per worker).

    Without ``options`` the engine's options come from the environment (:func:`load_options`), read on each call
    so a changed variable gives a new engine. The result is the kind's protocol (e.g. ``OcrEngine``); a kind's
    package wraps this in a typed function.
    """
    engine = spec(kind, name)
    if options is None:
        options = load_options(kind, name)
    elif not isinstance(options, engine.options):
        raise EngineUnavailable(
            f"{_label(kind)} engine '{name}' takes {engine.options.__name__}, not {type(options).__name__}."
        )
    key = (kind, name, type(options), options.model_dump_json())
    with _LOCK:
        if key not in _INSTANCES:
            try:
                _INSTANCES[key] = engine.build(options)
            except ImportError as exc:
                needs = f": {engine.needs}" if engine.needs else ""
                raise EngineUnavailable(f"{_label(kind)} engine '{name}' is not installed{needs} ({exc}).") from None
        return _INSTANCES[key]


def language(kind: str, name: str, hint: str | None, options: EngineOptions | None = None) -> str | None:
    """The engine's language string for a caller's hint, or None (no hint, no resolver, or nothing fits)."""
    if not hint:
        return None
    engine = spec(kind, name)
    if engine.languages is None:
        return None
    return engine.languages(hint, options if options is not None else load_options(kind, name))
