"""Image type (the ``imageType`` feature): is the picture clip art (0–3) or a line drawing (0/1)?

Measured, not learned, on a copy at most 320 pixels a side:

- clip art is drawn with few flat colours: the 16 commonest colours (5 bits a channel) cover nearly all of it,
  and most pixels sit in uniform patches (their 3x3 neighbourhood varies by a few levels at most). A photo's
  noise, shading and texture spread it over hundreds of colours; on the Azure sample photos and
  scikit-image's the score below stays under 0.5, while flat drawings, even JPEG-compressed, score over 0.8.
- a line drawing is mostly white paper with thin dark strokes: a 3x3 erosion wipes out most of its dark pixels
  (a filled silhouette keeps them), and almost nothing in it is coloured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from .model import ImageType
from .shrink import shrink

if TYPE_CHECKING:
    from .analyze import VisionContext

_SIDE = 320
# clip-art score (see clip_art_score) at or above which each level is given: 1 ambiguous, 2 normal, 3 good
_CLIP_LEVELS = ((0.9, 3), (0.8, 2), (0.7, 1))
_KERNEL = np.ones((3, 3), np.uint8)


def clip_art_score(rgb: np.ndarray) -> float:
    """0..1: how much of the picture the 16 commonest colours cover (weight 0.6) and how much of it lies in
    uniform 3x3 patches (0.4)."""
    q = (rgb >> 3).astype(np.int32)
    keys = (q[..., 0] << 10) | (q[..., 1] << 5) | q[..., 2]
    counts = np.sort(np.bincount(keys.ravel()))[::-1]
    top16 = float(counts[:16].sum()) / keys.size
    spread = (cv2.dilate(rgb, _KERNEL).astype(np.int16) - cv2.erode(rgb, _KERNEL)).max(axis=2)
    uniform = float((spread <= 6).mean())
    return 0.6 * top16 + 0.4 * uniform


def is_line_drawing(rgb: np.ndarray) -> bool:
    """Mostly white, nearly colourless, with a few dark pixels that a 3x3 erosion mostly removes (thin lines)."""
    px = rgb.astype(np.int16)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    chroma = px.max(axis=2) - px.min(axis=2)
    white = float((grey >= 200).mean())
    coloured = float((chroma > 40).mean())
    dark = (grey < 170).astype(np.uint8)
    dark_share = float(dark.mean())
    if white < 0.6 or coloured > 0.05 or not 0.003 <= dark_share <= 0.3:
        return False
    kept = float(cv2.erode(dark, _KERNEL).sum()) / max(1.0, float(dark.sum()))
    return kept < 0.3


def image_type(rgb: np.ndarray) -> ImageType:
    """Clip-art level and line-drawing flag of one RGB picture (HxWx3 uint8)."""
    small = shrink(rgb, _SIDE)
    line = is_line_drawing(small)
    score = clip_art_score(small)
    clip = next((level for least, level in _CLIP_LEVELS if score >= least), 0)
    return ImageType(clip_art=clip, line_drawing=int(line))


def run_image_type(ctx: VisionContext) -> None:
    ctx.result.image_type = image_type(ctx.rgb)
