"""The timestamp format of every family's response bodies."""

from __future__ import annotations

import time


def timestamp(ts: float) -> str:
    """Azure's timestamp format; the FR v3 admin poller parses exactly this (SDK-CALLS.md 1.4)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
