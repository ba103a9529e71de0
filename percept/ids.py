"""What an id may be: checks shared by the server's boundary (:mod:`percept.server.ids`) and the stores that
build file paths from ids, which refuse anything else as a second line of defence.

- Operation and result ids are canonical lower-case UUIDs (the only form the server issues).
- Model ids follow Azure's v3 pattern, matched in full (``$`` would let a trailing newline in); UUIDs are among
  them, so v2 model ids pass too.
"""

from __future__ import annotations

import re
from typing import TypeGuard

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MODEL_ID = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._~-]{1,63}")
MODEL_ID_RULE = "2-64 letters, digits or ._~- starting with a letter or digit"


class InvalidId(ValueError):
    """A non-id reached a layer that builds paths from ids: a bug upstream, never a request error."""


def is_uuid(value: object) -> bool:
    """A canonical lower-case UUID, the only form this server issues."""
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


def is_model_id(value: object) -> TypeGuard[str]:
    """An id Azure's v3 APIs accept for a model; every UUID is one, so it also covers v2 model ids."""
    return isinstance(value, str) and _MODEL_ID.fullmatch(value) is not None


def storage_uuid(value: str) -> str:
    """``value`` when it may name an operation file, else :class:`InvalidId`."""
    if not is_uuid(value):
        raise InvalidId(f"not an operation id: {value[:80]!r}")
    return value


def storage_model_id(value: str) -> str:
    """``value`` when it may name a model folder, else :class:`InvalidId`."""
    if not is_model_id(value):
        raise InvalidId(f"not a model id: {value[:80]!r}")
    return value
