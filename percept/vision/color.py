"""Colour scheme (the ``color`` feature): Azure's twelve colour names for the foreground, the background and the
picture as a whole, an accent colour and whether the picture is black and white.

Everything is computed on a copy at most 64 pixels a side (a few milliseconds): each pixel is named by a fixed
hue/saturation/value rule, the names are counted over the centre (foreground), the border (background) and the
whole picture, and the accent is the most vivid hue that holds a real share of the picture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from .model import ColorInfo
from .shrink import shrink

if TYPE_CHECKING:
    from .analyze import VisionContext

# Azure's spelling (its answers say "Grey", though its documentation writes "gray").
NAMES = ("Black", "Blue", "Brown", "Grey", "Green", "Orange", "Pink", "Purple", "Red", "Teal", "White", "Yellow")
_INDEX = {name: i for i, name in enumerate(NAMES)}

_SIDE = 64  # longest side of the working copy
_BW_CHROMA = 24  # a pixel whose max-min channel spread is under this is grey
_BW_SHARE = 0.02  # ...and a picture with fewer coloured pixels than this share is black and white
_DOMINANT_SHARE = 0.12  # least share of the picture for a second or third dominant colour


def name_pixels(rgb: np.ndarray) -> np.ndarray:
    """Each pixel's colour name, as an index into :data:`NAMES` (same height and width as ``rgb``)."""
    px = rgb.astype(np.int16)
    hi = px.max(axis=2)
    chroma = hi - px.min(axis=2)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL)
    hue = hsv[..., 0].astype(np.float32) * (360.0 / 256.0)
    sat = chroma / np.maximum(hi, 1)
    val = hi / 255.0

    out = np.full(hi.shape, _INDEX["Grey"], dtype=np.int8)
    grey = (chroma < _BW_CHROMA) | (sat < 0.18)
    out[grey & (val >= 0.82)] = _INDEX["White"]

    def put(name: str, mask: np.ndarray) -> None:
        out[~grey & mask] = _INDEX[name]

    put("Red", (hue < 15) | (hue >= 340))
    put("Orange", (hue >= 15) & (hue < 42))
    put("Yellow", (hue >= 42) & (hue < 70))
    put("Green", (hue >= 70) & (hue < 165))
    put("Teal", (hue >= 165) & (hue < 200))
    put("Blue", (hue >= 200) & (hue < 260))
    put("Purple", (hue >= 260) & (hue < 295))
    put("Pink", (hue >= 295) & (hue < 340))
    # Light, soft reds are pink; dark or dull reds, oranges and yellows are brown.
    put("Pink", ((hue < 15) | (hue >= 340)) & (val > 0.75) & (sat < 0.55))
    put("Brown", (hue < 70) & ((val < 0.6) | ((sat < 0.45) & (val < 0.8))) & ~((hue < 15) & (sat > 0.7)))
    out[val < 0.2] = _INDEX["Black"]
    return out


def _ranked(names: np.ndarray) -> list[tuple[str, float]]:
    counts = np.bincount(names.ravel().astype(np.int64), minlength=len(NAMES))
    total = max(1, int(counts.sum()))
    order = np.argsort(-counts, kind="stable")
    return [(NAMES[i], counts[i] / total) for i in order if counts[i]]


def _accent(rgb: np.ndarray, names: np.ndarray, dominant: list[str]) -> str:
    """The most vivid colour among the picture's chromatic hues, as ``RRGGBB``.

    Each named chromatic colour scores its share times its mean saturation (squared, so vivid wins over
    plentiful); colours among the dominant ones count double. The answer is the mean of that colour's more
    saturated half of pixels. A picture with no chromatic pixel gets its mean colour.
    """
    px = rgb.reshape(-1, 3).astype(np.float32)
    flat = names.ravel()
    hi = px.max(axis=1)
    sat = (hi - px.min(axis=1)) / np.maximum(hi, 1)
    best: tuple[float, np.ndarray] | None = None
    for name in NAMES:
        if name in ("Black", "White", "Grey"):
            continue
        mask = flat == _INDEX[name]
        share = float(mask.mean())
        if share < 0.005:
            continue
        s = sat[mask]
        score = share * float(s.mean()) ** 2 * (2.0 if name in dominant else 1.0)
        if best is None or score > best[0]:
            vivid = s >= np.median(s)
            best = (score, px[mask][vivid].mean(axis=0))
    colour = best[1] if best is not None else px.mean(axis=0)
    r, g, b = (round(float(c)) for c in colour)
    return f"{r:02X}{g:02X}{b:02X}"


def color_info(rgb: np.ndarray) -> ColorInfo:
    """The colour scheme of one RGB picture (HxWx3 uint8)."""
    small = shrink(rgb, _SIDE, decimate=True)
    names = name_pixels(small)
    h, w = names.shape
    by, bx = max(1, h // 6), max(1, w // 6)
    centre = names[h // 4 : h - h // 4 or h, w // 4 : w - w // 4 or w]
    border = np.concatenate([names[:by].ravel(), names[-by:].ravel(), names[:, :bx].ravel(), names[:, -bx:].ravel()])

    overall = _ranked(names)
    dominant = [overall[0][0]] + [n for n, share in overall[1:3] if share >= _DOMINANT_SHARE]
    chroma = small.max(axis=2).astype(np.int16) - small.min(axis=2)
    is_bw = float((chroma >= _BW_CHROMA).mean()) < _BW_SHARE
    return ColorInfo(
        foreground=_ranked(centre)[0][0],
        background=_ranked(border)[0][0],
        dominant=dominant,
        accent=_accent(small, names, dominant),
        is_bw=is_bw,
    )


def run_color(ctx: VisionContext) -> None:
    ctx.result.color = color_info(ctx.rgb)
