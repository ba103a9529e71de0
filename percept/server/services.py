"""The services a running server holds (store, registry, runner, settings) and the API keys it answers to.

Below both the application (:mod:`.app`, which builds them) and the routes (:mod:`.deps`, which hand them out).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from ..config import Limits, ServerSettings
from ..custom.registry import ModelRegistry
from ..io.http import UrlPolicy
from .jobs import JobRunner
from .store import OperationStore


@dataclass
class Services:
    settings: ServerSettings
    limits: Limits
    store: OperationStore
    runner: JobRunner
    policy: UrlPolicy
    keys: list[str]
    models: ModelRegistry


def resolve_keys(settings: ServerSettings) -> tuple[list[str], bool]:
    """Configured keys, or the one generated (once) and kept in the data directory; True when generated now."""
    if settings.keys():
        return settings.keys(), False
    path = Path(settings.data_dir) / "api-key"
    if path.exists():
        return [path.read_text().strip()], False
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(16)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return [key], True
