"""Working copies of a picture at most so many pixels a side: the pixel measures (colour, image type) and the face
detector see a small copy, which is faster and, for them, no less telling."""

from __future__ import annotations

import numpy as np


def shrink(pixels: np.ndarray, side: int, *, decimate: bool = False) -> np.ndarray:
    """``pixels`` area-averaged down to ``side`` on its long side (unchanged when already that small).

    ``decimate`` first keeps every n-th pixel of a picture over four times ``side``: area-averaging a large
    picture to a few dozen pixels is what costs time, and a colour count does not need every pixel."""
    import cv2  # here, not at import: the face engine's module is imported by processes that never detect

    h, w = pixels.shape[:2]
    step = max(h, w) // (4 * side)
    if decimate and step > 1:
        pixels = pixels[::step, ::step]
        h, w = pixels.shape[:2]
    scale = side / max(h, w)
    if scale >= 1:
        return pixels
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
