"""Vocabulary: how the classifier's ImageNet classes and the detector's COCO classes are named in Azure's words.

- :func:`imagenet_entries`: one :class:`LabelTags` per ImageNet-1k class (the table is ``data/imagenet_tags.tsv``,
  ranges for the animal families plus explicit rows for common objects; a class without a row keeps its own
  name), so every class lands on a plain English tag with the general terms Azure adds (a cat is also
  ``animal``, ``mammal``, ``pet``).
- :data:`COCO_OBJECTS`: the 90-id COCO label map of the SSD detector, with the object name Azure returns and its
  parent chain (``car`` → ``Land vehicle`` → ``Vehicle``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True, slots=True)
class LabelTags:
    """The tags one ImageNet class implies: its own (``tag``, optional Azure ``hint``) and general ones, each
    with the share of the class probability it receives, and where such a thing is usually seen."""

    label: str
    tag: str | None
    hint: str | None
    parents: tuple[tuple[str, float], ...]
    scene: str  # "i" indoors, "o" outdoors, "" either


def _ids(spec: str) -> list[int]:
    out: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        out.extend(range(int(first), int(last or first) + 1))
    return out


def _parents(spec: str) -> tuple[tuple[str, float], ...]:
    if spec == "-":
        return ()
    out = []
    for item in spec.split(","):
        name, _, weight = item.partition(":")
        out.append((name.strip(), float(weight) if weight else 1.0))
    return tuple(out)


def _label_names() -> list[str]:
    """The classifier's 1000 class names (first synonym of each line), from the model package's label file."""
    from .weights import openpibo_model

    lines = openpibo_model("efficientnet_labels.txt").read_text(encoding="utf-8").splitlines()
    return [line.split(",")[0].strip() for line in lines if line.strip()]


@functools.lru_cache(maxsize=1)
def imagenet_entries() -> tuple[LabelTags, ...]:
    """Tags of every ImageNet class, indexed like the classifier's output."""
    names = _label_names()
    rows: dict[int, tuple[str, str, str, str]] = {}
    text = resources.files(__package__).joinpath("data/imagenet_tags.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        ids, tag, hint, parents, scene = line.split("\t")
        for index in _ids(ids):
            rows[index] = (tag, hint, parents, scene)
    entries = []
    for index, name in enumerate(names):
        tag, hint, parents, scene = rows.get(index, ("=", "-", "-", "-"))
        own = name.lower() if tag == "=" else (None if tag == "-" else tag)
        entries.append(
            LabelTags(
                label=name,
                tag=own,
                hint=None if hint == "-" else hint,
                parents=_parents(parents),
                scene="" if scene == "-" else scene,
            )
        )
    return tuple(entries)


@dataclass(frozen=True, slots=True)
class CocoObject:
    name: str  # Azure's object name
    parents: tuple[str, ...]  # nearest first: ("Land vehicle", "Vehicle")
    scene: str = ""  # "i" / "o" / "" as in LabelTags


_LAND = ("Land vehicle", "Vehicle")
_MAMMAL = ("mammal", "animal")
_SPORT = ("Sports equipment",)
_TABLEWARE = ("Tableware",)
_FOOD = ("Food",)
_FRUIT = ("Fruit", "Food")
_VEG = ("Vegetable", "Food")
_FURNITURE = ("Furniture",)
_KITCHEN = ("Kitchen appliance", "Home appliance")

COCO_OBJECTS: dict[int, CocoObject] = {
    1: CocoObject("person", ()),
    2: CocoObject("bicycle", ("cycle", *_LAND), "o"),
    3: CocoObject("car", _LAND, "o"),
    4: CocoObject("motorcycle", _LAND, "o"),
    5: CocoObject("airplane", ("Aircraft", "Vehicle"), "o"),
    6: CocoObject("bus", _LAND, "o"),
    7: CocoObject("train", _LAND, "o"),
    8: CocoObject("truck", _LAND, "o"),
    9: CocoObject("boat", ("Watercraft", "Vehicle"), "o"),
    10: CocoObject("traffic light", (), "o"),
    11: CocoObject("fire hydrant", (), "o"),
    13: CocoObject("stop sign", ("Street sign",), "o"),
    14: CocoObject("parking meter", (), "o"),
    15: CocoObject("bench", _FURNITURE),
    16: CocoObject("bird", ("animal",)),
    17: CocoObject("cat", _MAMMAL),
    18: CocoObject("dog", _MAMMAL),
    19: CocoObject("horse", _MAMMAL, "o"),
    20: CocoObject("sheep", _MAMMAL, "o"),
    21: CocoObject("cow", ("cattle", *_MAMMAL), "o"),
    22: CocoObject("elephant", _MAMMAL, "o"),
    23: CocoObject("bear", ("carnivore", *_MAMMAL), "o"),
    24: CocoObject("zebra", _MAMMAL, "o"),
    25: CocoObject("giraffe", _MAMMAL, "o"),
    27: CocoObject("backpack", ("bag",)),
    28: CocoObject("umbrella", ()),
    31: CocoObject("handbag", ("bag",)),
    32: CocoObject("tie", ("Fashion accessory",)),
    33: CocoObject("suitcase", ("Luggage and bags",)),
    34: CocoObject("frisbee", _SPORT, "o"),
    35: CocoObject("skis", _SPORT, "o"),
    36: CocoObject("snowboard", _SPORT, "o"),
    37: CocoObject("ball", _SPORT),
    38: CocoObject("kite", (), "o"),
    39: CocoObject("baseball bat", _SPORT),
    40: CocoObject("baseball glove", _SPORT),
    41: CocoObject("skateboard", _SPORT),
    42: CocoObject("surfboard", _SPORT, "o"),
    43: CocoObject("tennis racket", _SPORT),
    44: CocoObject("bottle", ()),
    46: CocoObject("wine glass", _TABLEWARE, "i"),
    47: CocoObject("cup", _TABLEWARE, "i"),
    48: CocoObject("fork", ("Kitchen utensil",), "i"),
    49: CocoObject("knife", ("Kitchen utensil",), "i"),
    50: CocoObject("spoon", ("Kitchen utensil",), "i"),
    51: CocoObject("bowl", _TABLEWARE, "i"),
    52: CocoObject("banana", _FRUIT),
    53: CocoObject("apple", _FRUIT),
    54: CocoObject("sandwich", _FOOD),
    55: CocoObject("orange", _FRUIT),
    56: CocoObject("broccoli", _VEG),
    57: CocoObject("carrot", _VEG),
    58: CocoObject("hot dog", _FOOD),
    59: CocoObject("pizza", _FOOD),
    60: CocoObject("donut", _FOOD),
    61: CocoObject("cake", _FOOD),
    62: CocoObject("chair", _FURNITURE, "i"),
    63: CocoObject("couch", _FURNITURE, "i"),
    64: CocoObject("houseplant", ("plant",)),
    65: CocoObject("bed", _FURNITURE, "i"),
    67: CocoObject("table", _FURNITURE, "i"),
    70: CocoObject("toilet", ("Plumbing fixture",), "i"),
    72: CocoObject("television", ("Display",), "i"),
    73: CocoObject("Laptop", ("computer",), "i"),
    74: CocoObject("computer mouse", ("peripheral",), "i"),
    75: CocoObject("remote control", (), "i"),
    76: CocoObject("computer keyboard", ("peripheral",), "i"),
    77: CocoObject("cell phone", ("telephone",)),
    78: CocoObject("Microwave oven", _KITCHEN, "i"),
    79: CocoObject("oven", _KITCHEN, "i"),
    80: CocoObject("toaster", _KITCHEN, "i"),
    81: CocoObject("sink", ("Plumbing fixture",), "i"),
    82: CocoObject("refrigerator", _KITCHEN, "i"),
    84: CocoObject("book", (), "i"),
    85: CocoObject("clock", ()),
    86: CocoObject("vase", (), "i"),
    87: CocoObject("scissors", ()),
    88: CocoObject("Teddy bear", ("toy",)),
    89: CocoObject("hair drier", ("Home appliance",), "i"),
    90: CocoObject("toothbrush", (), "i"),
}
