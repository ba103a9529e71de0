"""Liveness and readiness, outside the key check."""

from __future__ import annotations

from fastapi import APIRouter

from ... import __version__
from ..deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(services: ServicesDep) -> dict[str, object]:
    return {
        "status": "ok",
        "version": __version__,
        "workers": services.runner.workers,
        "queued": services.runner.queue.qsize(),
    }
