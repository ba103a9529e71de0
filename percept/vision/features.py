"""What a caller can ask image analysis for, and what each answer needs computed first."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Feature(StrEnum):
    TAGS = "tags"
    CAPTION = "caption"  # v3 Description captions; 4.0 caption
    DENSE_CAPTIONS = "denseCaptions"
    FACES = "faces"
    OBJECTS = "objects"
    PEOPLE = "people"
    CATEGORIES = "categories"
    COLOR = "color"
    IMAGE_TYPE = "imageType"
    ADULT = "adult"
    BRANDS = "brands"
    CELEBRITIES = "celebrities"
    LANDMARKS = "landmarks"
    SMART_CROPS = "smartCrops"
    AREA_OF_INTEREST = "areaOfInterest"
    READ = "read"


# What a feature is built from: a caption is composed from tags, objects and faces; categories from tags and
# faces; crops keep faces and objects in frame.
NEEDS: dict[Feature, frozenset[Feature]] = {
    # "man", "woman", "human face" and "person" come from faces and person boxes, beside the classifier's nouns.
    Feature.TAGS: frozenset({Feature.FACES, Feature.OBJECTS}),
    Feature.CAPTION: frozenset({Feature.TAGS, Feature.OBJECTS, Feature.FACES}),
    Feature.DENSE_CAPTIONS: frozenset({Feature.OBJECTS, Feature.FACES, Feature.TAGS, Feature.CAPTION}),
    Feature.CATEGORIES: frozenset({Feature.TAGS, Feature.FACES}),
    Feature.PEOPLE: frozenset({Feature.OBJECTS, Feature.FACES}),
    Feature.CELEBRITIES: frozenset({Feature.FACES}),
    Feature.SMART_CROPS: frozenset({Feature.FACES, Feature.OBJECTS}),
    Feature.AREA_OF_INTEREST: frozenset({Feature.FACES, Feature.OBJECTS}),
    Feature.BRANDS: frozenset({Feature.READ}),
}


def closure(requested: Iterable[Feature]) -> frozenset[Feature]:
    """The requested features plus everything they are built from."""
    todo = list(requested)
    seen: set[Feature] = set()
    while todo:
        f = todo.pop()
        if f not in seen:
            seen.add(f)
            todo.extend(NEEDS.get(f, ()))
    return frozenset(seen)
