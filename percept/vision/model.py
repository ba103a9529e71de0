"""What image analysis finds in one picture: one internal model that every Computer Vision version (v1.0–v3.2)
and Image Analysis 4.0 serialize from (``percept/serializers/vision*.py``).

Coordinates are integer pixels of the picture as submitted (after EXIF orientation). Names are Azure's
vocabulary already (tags like ``cat``, ``animal``; categories like ``animal_cat``; colours like ``Grey``), so a
serializer only reshapes. Nothing here is persisted: results go straight back to the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True, frozen=True)
class Box:
    """A rectangle in pixels: left, top, width, height."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return max(0, self.w) * max(0, self.h)

    def iou(self, other: Box) -> float:
        ix = max(0, min(self.x + self.w, other.x + other.w) - max(self.x, other.x))
        iy = max(0, min(self.y + self.h, other.y + other.h) - max(self.y, other.y))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union else 0.0


@dataclass(slots=True)
class Tag:
    name: str
    confidence: float
    hint: str | None = None


@dataclass(slots=True)
class Caption:
    text: str
    confidence: float
    box: Box | None = None  # dense captions only


@dataclass(slots=True)
class Face:
    box: Box
    confidence: float
    # Five points (right eye, left eye, nose tip, right and left mouth corner) as YuNet gives them, in pixels.
    landmarks: tuple[tuple[float, float], ...] = ()
    age: int | None = None
    gender: str | None = None  # "Male" / "Female" as the old APIs spell it


@dataclass(slots=True)
class ObjectParent:
    name: str
    confidence: float
    parent: ObjectParent | None = None


@dataclass(slots=True)
class DetectedObject:
    box: Box
    name: str
    confidence: float
    parent: ObjectParent | None = None


@dataclass(slots=True)
class Celebrity:
    name: str
    confidence: float
    box: Box


@dataclass(slots=True)
class Landmark:
    name: str
    confidence: float


@dataclass(slots=True)
class Category:
    name: str  # one of the 86 names in percept.vision.categories.TAXONOMY, e.g. "animal_cat"
    score: float
    celebrities: list[Celebrity] | None = None  # detail.celebrities, when asked for and the category is people_
    landmarks: list[Landmark] | None = None  # detail.landmarks, when asked for and the category fits


@dataclass(slots=True)
class ColorInfo:
    foreground: str  # one of Azure's 12 colour names
    background: str
    dominant: list[str]
    accent: str  # hex RGB without '#', e.g. "C1A02B"
    is_bw: bool


@dataclass(slots=True)
class ImageType:
    clip_art: int  # 0 non-clip-art, 1 ambiguous, 2 normal clip art, 3 good clip art
    line_drawing: int  # 0 or 1


@dataclass(slots=True)
class Adult:
    adult_score: float
    racy_score: float
    gore_score: float
    is_adult: bool
    is_racy: bool
    is_gory: bool


@dataclass(slots=True)
class Brand:
    name: str
    confidence: float
    box: Box


@dataclass(slots=True)
class Person:
    box: Box
    confidence: float


@dataclass(slots=True)
class SmartCrop:
    aspect_ratio: float
    box: Box


@dataclass(slots=True)
class TextLine:
    """A line the read pipeline found (Image Analysis 4.0 ``read``), polygons as 4 (x, y) points in pixels."""

    text: str
    polygon: tuple[tuple[float, float], ...]
    words: list[TextWord] = field(default_factory=list)


@dataclass(slots=True)
class TextWord:
    text: str
    polygon: tuple[tuple[float, float], ...]
    confidence: float


@dataclass(slots=True)
class ImageAnalysis:
    """Everything found; a field is None (or empty) when its feature was not asked for."""

    width: int
    height: int
    format: str  # "Jpeg", "Png", "Gif", "Bmp", "Webp", "Ico", "Tiff" (metadata.format)
    tags: list[Tag] | None = None
    captions: list[Caption] | None = None
    dense_captions: list[Caption] | None = None
    faces: list[Face] | None = None
    objects: list[DetectedObject] | None = None
    people: list[Person] | None = None
    categories: list[Category] | None = None
    color: ColorInfo | None = None
    image_type: ImageType | None = None
    adult: Adult | None = None
    brands: list[Brand] | None = None
    celebrities: list[Celebrity] | None = None
    landmarks: list[Landmark] | None = None
    smart_crops: list[SmartCrop] | None = None
    area_of_interest: Box | None = None
    read: list[TextLine] | None = None
    model_version: str = "2021-05-01"
