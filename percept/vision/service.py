"""The image analysis worker pool as the server sees it: bounded, awaited without blocking the event loop.

Image analysis answers synchronously (no operation to poll), so a request holds its connection while a worker
runs. At most ``workers * queue`` requests are in flight; one more is refused at once with 429 and Retry-After,
which is what Azure answers past its rate limit and what the SDKs know to wait on.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from ..errors import WorkerCrashed
from .analyze import VisionRequest
from .image import ImageLimits, TooManyRequests
from .model import ImageAnalysis
from .settings import VisionSettings
from .worker import analyze_bytes, area_of_interest, gallery_embedding, init_vision_worker, thumbnail_bytes

log = logging.getLogger("percept.vision")
T = TypeVar("T")


class VisionService:
    """A process pool for image analysis (forkserver, tied to the server's life like the page pool)."""

    def __init__(self, settings: VisionSettings | None = None, *, retry_after: int = 1) -> None:
        self.settings = settings or VisionSettings()
        self.workers = self.settings.workers or os.cpu_count() or 1
        self.capacity = self.workers * max(1, self.settings.queue)
        self.retry_after = retry_after
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.in_flight = 0

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                from .. import lifeline

                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload(["percept._forkserver", "percept.worker"])
                lifeline.start_forkserver()
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=ctx, initializer=init_vision_worker
                )
            return self._pool

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self.in_flight >= self.capacity:
            raise TooManyRequests(
                f"Rate limit is exceeded: {self.in_flight} images are being analyzed. "
                f"Try again in {self.retry_after} seconds.",
                self.retry_after,
            )
        self.in_flight += 1
        try:
            pool = await asyncio.to_thread(self._executor) if self._pool is None else self._pool
            try:
                return await asyncio.wrap_future(pool.submit(fn, *args))
            except BrokenProcessPool:
                self._renew(pool)
                raise WorkerCrashed("An image analysis worker process died; the request was not analyzed.") from None
        finally:
            self.in_flight -= 1

    def _renew(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                log.warning("an image analysis worker died; starting a new pool")
                self._pool = None
                broken.shutdown(wait=False, cancel_futures=True)

    async def analyze(self, data: bytes, limits: ImageLimits, request: VisionRequest) -> ImageAnalysis:
        return await self._run(analyze_bytes, data, limits, request, self.settings)

    async def area_of_interest(self, data: bytes, limits: ImageLimits) -> ImageAnalysis:
        return await self._run(area_of_interest, data, limits, self.settings)

    async def thumbnail(self, data: bytes, limits: ImageLimits, width: int, height: int, smart: bool) -> bytes:
        return await self._run(thumbnail_bytes, data, limits, width, height, smart, self.settings)

    async def gallery_embedding(self, kind: str, data: bytes) -> tuple[Any, str]:
        return await self._run(gallery_embedding, kind, data)

    def stop(self) -> None:
        """End the workers; a request still running gets an error."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
