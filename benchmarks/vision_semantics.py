"""Milliseconds per picture for tags, objects, categories and captions (one thread, after a warm-up run).

Run: ``.venv/bin/python benchmarks/vision_semantics.py [pictures...]`` (default: skimage's cat and coffee and the
AI-102 sample photos beside the clone).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from percept.vision.analyze import VisionContext, VisionRequest
from percept.vision.captions import run_captions, run_dense_captions
from percept.vision.categories import run_categories
from percept.vision.features import Feature, closure
from percept.vision.model import ImageAnalysis
from percept.vision.objects import run_objects
from percept.vision.settings import VisionSettings
from percept.vision.tags import run_tags

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "azure_ai102_vision_samples" / "image-analysis"
STAGES = (("tags", run_tags), ("objects", run_objects), ("categories", run_categories),
          ("captions", run_captions), ("dense", run_dense_captions))  # fmt: skip


def pictures(paths: list[str]) -> dict[str, np.ndarray]:
    if paths:
        return {Path(p).name: np.asarray(Image.open(p).convert("RGB")) for p in paths}
    import skimage.data

    out = {"chelsea": skimage.data.chelsea(), "coffee": skimage.data.coffee()}
    for p in sorted(SAMPLES.glob("*.jpg")):
        out[p.name] = np.asarray(Image.open(p).convert("RGB"))
    return out


def main() -> None:
    request = VisionRequest(frozenset({Feature.TAGS, Feature.OBJECTS, Feature.CATEGORIES, Feature.CAPTION}))
    settings = VisionSettings()
    for warm in (True, False):
        for name, rgb in pictures(sys.argv[1:]).items():
            ctx = VisionContext(rgb, request, ImageAnalysis(rgb.shape[1], rgb.shape[0], "Jpeg"), settings,
                                closure(request.features))  # fmt: skip
            times = []
            for stage, run in STAGES:
                t = time.perf_counter()
                run(ctx)
                times.append(f"{stage} {1000 * (time.perf_counter() - t):.1f}")
            if not warm:
                caption = ctx.result.captions[0].text if ctx.result.captions else ""
                print(f"{name:14} {' | '.join(times)} ms  {rgb.shape[1]}x{rgb.shape[0]}  '{caption}'")


if __name__ == "__main__":
    main()
