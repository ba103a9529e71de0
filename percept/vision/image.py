"""Decoding a submitted picture into RGB pixels, under the limits of the API that received it.

The format comes from the magic bytes (the SDKs label every upload ``application/octet-stream``). The byte size
and the dimensions are checked before any pixel is decoded, so a decompression bomb costs a header read, not
gigabytes. EXIF orientation is applied, so coordinates refer to the picture as a viewer shows it.

The errors carry Computer Vision's codes (``InvalidImageFormat``...); each API version renders them in its own
envelope (:mod:`percept.serializers.vision`, :mod:`percept.serializers.imageanalysis`).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidRequest, NotFound, PerceptError
from ..pillow import pixel_limit


class InvalidImageFormat(InvalidRequest, code="InvalidImageFormat"):
    """The bytes are no picture of a format this API takes, or the picture is corrupt."""


class InvalidImageSize(InvalidRequest, code="InvalidImageSize"):
    """The picture's byte size is over the API's limit."""


class InvalidImageDimension(InvalidImageSize, code="InvalidImageDimension"):
    """Width or height outside the API's range (Computer Vision v1.0–v3.2 calls this ``InvalidImageSize``)."""


class NotSupportedVisualFeature(InvalidRequest, code="NotSupportedVisualFeature"):
    """A visual feature (v1.0–v3.2 ``visualFeatures``, 4.0 ``features``) the API does not know."""


class NotSupportedLanguage(InvalidRequest, code="NotSupportedLanguage"):
    """A ``language`` the API cannot answer in."""


class InvalidDetails(InvalidRequest, code="InvalidDetails"):
    """A ``details`` value other than Celebrities and Landmarks."""


class BadArgument(InvalidRequest, code="BadArgument"):
    """A query parameter out of its range or malformed (``maxCandidates``, ``model-version``...)."""


class InvalidThumbnailSize(InvalidRequest, code="InvalidThumbnailSize"):
    """A thumbnail ``width``/``height`` outside 1..1024."""


class InvalidModel(NotFound, code="InvalidModel"):
    """A domain model other than ``celebrities`` and ``landmarks``."""


class TooManyRequests(PerceptError, code="429", status=429, outer_code="429"):
    """Every worker is busy and the queue is full; the caller should come back after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[type[TooManyRequests], tuple[str, int]]:
        return (type(self), (self.message, self.retry_after))


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """What one API accepts: the formats, the byte size, and the side lengths (inclusive)."""

    max_bytes: int
    min_side: int
    max_side: int
    formats: frozenset[str]


CV_FORMATS = frozenset({"Jpeg", "Png", "Gif", "Bmp"})
# Computer Vision v1.0–v3.2: JPEG, PNG, GIF, BMP under 4 MB, more than 50x50 pixels.
CV_LIMITS = ImageLimits(4 * 1024 * 1024, 50, 10000, CV_FORMATS)
# Image Analysis 4.0: also WEBP, ICO, MPO, TIFF, under 20 MB, 50x50 to 16000x16000.
IA_LIMITS = ImageLimits(20 * 1024 * 1024, 50, 16000, CV_FORMATS | {"Webp", "Ico", "Mpo", "Tiff"})

_PIL_FORMATS = {"JPEG": "Jpeg", "PNG": "Png", "GIF": "Gif", "BMP": "Bmp", "WEBP": "Webp", "ICO": "Ico"}
_PIL_FORMATS |= {"MPO": "Mpo", "TIFF": "Tiff"}


def sniff(data: bytes) -> str | None:
    """The format the magic bytes name (Azure's ``metadata.format`` spelling), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "Jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "Png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "Gif"
    if data.startswith(b"BM") and len(data) > 14:
        return "Bmp"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "Webp"
    if data[:4] == b"\x00\x00\x01\x00":
        return "Ico"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "Tiff"
    return None


def check_size(data: bytes, limits: ImageLimits) -> str:
    """Cheap checks before decoding: not empty, under the byte limit, a known format. Returns the format."""
    if len(data) > limits.max_bytes:
        raise InvalidImageSize(f"The image is {len(data)} bytes; the limit is {limits.max_bytes} bytes.")
    fmt = sniff(data)
    if fmt is None or fmt not in limits.formats:
        raise InvalidImageFormat("Input data is not a valid image.")
    return fmt


def decode(data: bytes, limits: ImageLimits) -> tuple[np.ndarray, str]:
    """The picture as HxWx3 uint8 RGB (first frame, EXIF orientation applied) and its format name."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    fmt = check_size(data, limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # Pillow's own bomb guard, at the largest picture this API takes (its default would refuse 10000x10000).
            with pixel_limit(limits.max_side * limits.max_side):
                img = Image.open(io.BytesIO(data))
            fmt = _PIL_FORMATS.get(img.format or "", fmt)
            if fmt == "Mpo" and fmt not in limits.formats:
                fmt = "Jpeg"  # a camera's multi-picture JPEG is a JPEG whose first frame is the photo
            if fmt not in limits.formats:
                raise InvalidImageFormat("Input data is not a valid image.")
            w, h = img.size  # from the header: nothing decoded yet
            _check_dimensions(w, h, limits)
            img.load()
            upright = ImageOps.exif_transpose(img) or img
            rgb = np.asarray(upright.convert("RGB"), dtype=np.uint8)
    except Image.DecompressionBombError:
        raise InvalidImageDimension("The image has too many pixels.") from None
    except PerceptError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise InvalidImageFormat("Input data is not a valid image.") from None
    return rgb, fmt


def _check_dimensions(w: int, h: int, limits: ImageLimits) -> None:
    lo, hi = limits.min_side, limits.max_side
    if not (lo <= w <= hi and lo <= h <= hi):
        raise InvalidImageDimension(
            f"The image is {w}x{h} pixels; its width and height must be between {lo} and {hi} pixels."
        )
