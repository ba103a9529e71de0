"""Pillow's decompression-bomb limit is one setting for the whole process (``Image.MAX_IMAGE_PIXELS``).

Percept opens images under limits of its own (documents: ``Limits.max_image_pixels``; image analysis: its largest
side squared, above Pillow's default). It sets the limit only while Pillow reads an image's header, which is where
Pillow checks it, and puts the previous value back, so a program that imports Percept keeps its own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()


@contextmanager
def pixel_limit(pixels: int) -> Iterator[None]:
    """Pillow's bomb limit at ``pixels`` inside the block (keep it to ``Image.open``: it holds a lock)."""
    from PIL import Image

    with _lock:
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = pixels
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = previous
