"""Outbound I/O: the one guarded HTTP client every fetch the server makes goes through (URL sources, blob
containers for training). It lives below the server because training (``percept.custom``) fetches too and
nothing below the server may import it."""

from __future__ import annotations

from .http import GuardedClient, OutboundError, Refused, TimedOut, TooLarge, UrlPolicy, fetch, is_public

__all__ = ["GuardedClient", "OutboundError", "Refused", "TimedOut", "TooLarge", "UrlPolicy", "fetch", "is_public"]
