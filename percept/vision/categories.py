"""Categories: Azure's 86-concept taxonomy (v1.0–v3.2 ``categories``), scored from tags, objects and faces.

Each category is scored by the best of the tags that stand for it (a cat → ``animal_cat``) and by rules over what
was counted (one large face → ``people_portrait``; several people → ``people_group``; cars with a person or
other cars outdoors → ``outdoor_street``). A family's general category (``animal_``) is returned only when none of
its specific ones is. Scores are rounded to 1/256, as Azure's are. With ``details=Celebrities,Landmarks`` the
matches found by the gallery stages are attached to the people and building/outdoor categories.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .model import Box, Category, Face

if TYPE_CHECKING:
    from .analyze import VisionContext
    from .objects import Detection

TAXONOMY: tuple[str, ...] = (
    "abstract_", "abstract_net", "abstract_nonphoto", "abstract_rect", "abstract_shape", "abstract_texture",
    "animal_", "animal_bird", "animal_cat", "animal_dog", "animal_horse", "animal_panda",
    "building_", "building_arch", "building_brickwall", "building_church", "building_corner",
    "building_doorwindows", "building_pillar", "building_stair", "building_street",
    "dark_", "drink_", "drink_can", "dark_fire", "dark_fireworks", "sky_object",
    "food_", "food_bread", "food_fastfood", "food_grilled", "food_pizza",
    "indoor_", "indoor_churchwindow", "indoor_court", "indoor_doorwindows", "indoor_marketstore", "indoor_room",
    "indoor_venue", "dark_light", "others_",
    "outdoor_", "outdoor_city", "outdoor_field", "outdoor_grass", "outdoor_house", "outdoor_mountain",
    "outdoor_oceanbeach", "outdoor_playground", "outdoor_railway", "outdoor_road", "outdoor_sportsfield",
    "outdoor_stonerock", "outdoor_street", "outdoor_water", "outdoor_waterside",
    "people_", "people_baby", "people_crowd", "people_group", "people_hand", "people_many", "people_portrait",
    "people_show", "people_tattoo", "people_young",
    "plant_", "plant_branch", "plant_flower", "plant_leaves", "plant_tree",
    "object_screen", "object_sculpture", "sky_cloud", "sky_sun", "people_swimming", "outdoor_pool",
    "text_", "text_mag", "text_map", "text_menu", "text_sign",
    "trans_bicycle", "trans_bus", "trans_car", "trans_trainstation",
)  # fmt: skip

# Category ← tags standing for it, with the share of the tag's confidence it takes.
_FROM_TAGS: dict[str, tuple[tuple[str, float], ...]] = {
    "abstract_texture": (("pattern", 0.8), ("textile", 0.7)),
    "animal_": (("animal", 0.9),),
    "animal_bird": (("bird", 1.0),),
    "animal_cat": (("cat", 1.0), ("felidae", 0.7)),
    "animal_dog": (("dog", 1.0),),
    "animal_horse": (("horse", 1.0),),
    "animal_panda": (("panda", 1.0),),
    "building_": (("building", 0.9), ("monument", 0.7)),
    "building_arch": (("arch", 0.9),),
    "building_brickwall": (("wall", 0.7),),
    "building_church": (("church", 1.0), ("place of worship", 0.8)),
    "building_doorwindows": (("door", 0.8), ("window", 0.7)),
    "dark_fire": (("fire", 0.9),),
    "dark_light": (("light", 0.7), ("candle", 0.8)),
    "drink_": (("drink", 1.0), ("coffee", 1.0), ("wine", 1.0), ("beer", 1.0)),
    "sky_object": (("aircraft", 0.8), ("kite", 0.8), ("balloon", 0.7)),
    "food_": (("food", 0.9),),
    "food_bread": (("bread", 1.0),),
    "food_fastfood": (("fast food", 0.9), ("hamburger", 1.0), ("hot dog", 1.0), ("sandwich", 0.9)),
    "food_pizza": (("pizza", 1.0),),
    "indoor_": (("indoor", 0.8),),
    "indoor_doorwindows": (("window blind", 0.8),),
    "indoor_marketstore": (("store", 1.0),),
    "indoor_room": (("furniture", 0.8), ("bed", 0.9), ("couch", 0.9), ("bathroom", 0.8), ("kitchen", 0.8)),
    "indoor_venue": (("stage", 0.9), ("theater", 0.9)),
    "outdoor_": (("outdoor", 0.7),),
    "outdoor_field": (("field", 0.9),),
    "outdoor_house": (("house", 0.9),),
    "outdoor_mountain": (("mountain", 1.0), ("valley", 0.9)),
    "outdoor_oceanbeach": (("beach", 1.0), ("sea", 0.9)),
    "outdoor_playground": (("playground", 1.0),),
    "outdoor_railway": (("rail transport", 0.8), ("track", 0.8)),
    "outdoor_road": (("road", 0.9),),
    "outdoor_stonerock": (("rock", 0.9), ("cliff", 0.9)),
    "outdoor_street": (("street", 1.0), ("traffic light", 0.9), ("street sign", 0.9)),
    "outdoor_water": (("water", 0.8), ("lake", 0.9)),
    "outdoor_waterside": (("shore", 0.9), ("dock", 0.9)),
    "people_": (("person", 0.9),),
    "people_show": (("performance", 0.8),),
    "people_swimming": (("swimwear", 0.7), ("scuba diving", 0.8)),
    "plant_": (("plant", 0.8), ("fungus", 0.7)),
    "plant_flower": (("flower", 1.0),),
    "plant_tree": (("tree", 1.0),),
    "object_screen": (("screen", 0.9), ("monitor", 0.9), ("television", 0.9), ("display device", 0.8)),
    "object_sculpture": (("sculpture", 1.0), ("statue", 1.0)),
    "text_": (("text", 0.9),),
    "text_mag": (("publication", 0.8),),
    "text_menu": (("menu", 1.0),),
    "text_sign": (("street sign", 0.8), ("sign", 0.8)),
    "trans_bicycle": (("bicycle", 1.0),),
    "trans_bus": (("bus", 1.0),),
    "trans_car": (("car", 0.9),),
    "trans_trainstation": (("train", 0.9), ("tram", 0.8)),
}

_MIN_SCORE = 0.4
_MOST = 3


def _q(score: float) -> float:
    """Azure's category scores are multiples of 1/256."""
    return max(1, min(256, round(score * 256))) / 256


def prominence(boxes: list[Box], width: int, height: int) -> float:
    """How much of the picture people take, 0-1: 1 from a twentieth of its area up; a few passers-by in front of
    a building count for little."""
    share = sum(b.area for b in boxes) / max(1, width * height)
    return min(1.0, share / 0.05)


def _people_rules(ctx: VisionContext, faces: list[Face], persons: list[Detection], out: dict[str, float]) -> None:
    h, w = ctx.rgb.shape[:2]
    count = max(len(faces), len(persons))
    if count == 0:
        return
    weight = prominence([d.box for d in persons] or [f.box for f in faces], w, h)
    best = max([f.confidence for f in faces] + [d.confidence for d in persons]) * weight
    if "people_" in out:
        out["people_"] *= weight
    if len(faces) == 1 and len(persons) <= 1 and faces[0].box.area >= 0.02 * w * h:
        out["people_portrait"] = faces[0].confidence * min(1.0, faces[0].box.area / (0.04 * w * h))
    elif 2 <= count <= 3:
        out["people_group"] = best * 0.9
    elif 4 <= count <= 6:
        out["people_many"] = best * 0.9
    elif count >= 7:
        out["people_crowd"] = best * 0.9
    ages = [f.age for f in faces if f.age is not None]
    if ages and max(ages) <= 2:
        out["people_baby"] = best * 0.8
    elif ages and max(ages) < 18:
        out["people_young"] = best * 0.8


def _scene_rules(ctx: VisionContext, tag: dict[str, float], names: list[str], out: dict[str, float]) -> None:
    outdoor = tag.get("outdoor", 0.0)
    cars = names.count("car") + names.count("bus") + names.count("truck")
    if cars >= 2 or (cars and ("person" in names or "dog" in names)):
        out["outdoor_street"] = max(out.get("outdoor_street", 0.0), max(outdoor, 0.6) * 0.95)
    small = ctx.rgb[:: max(1, ctx.rgb.shape[0] // 64), :: max(1, ctx.rgb.shape[1] // 64)]
    luma = float(np.mean(small @ np.array([0.299, 0.587, 0.114])))
    if luma < 40:
        out["dark_"] = 1.0 - luma / 80
    if ctx.result.read:
        out["text_"] = max(out.get("text_", 0.0), min(0.95, 0.5 + 0.05 * len(ctx.result.read)))


def _attach_details(ctx: VisionContext, cats: list[Category]) -> None:
    from .features import Feature

    details = ctx.request.details
    if Feature.CELEBRITIES in details and ctx.result.celebrities:
        target = next((c for c in cats if c.name.startswith("people_")), None)
        if target is None:
            target = Category("people_", _q(max(c.confidence for c in ctx.result.celebrities)))
            cats.append(target)
        target.celebrities = list(ctx.result.celebrities)
    if Feature.LANDMARKS in details and ctx.result.landmarks:
        target = next((c for c in cats if c.name.startswith(("building_", "outdoor_"))), None)
        if target is None:
            target = Category("building_", _q(max(lm.confidence for lm in ctx.result.landmarks)))
            cats.append(target)
        target.landmarks = list(ctx.result.landmarks)


def score_categories(ctx: VisionContext) -> dict[str, float]:
    """Every category with evidence, and its raw score (0-1)."""
    from .objects import confident
    from .taxonomy import COCO_OBJECTS

    tag: dict[str, float] = ctx.scratch.get("tag_scores", {})
    names = [COCO_OBJECTS[d.class_id].name for d in confident(ctx)]
    persons = [d for d in confident(ctx) if COCO_OBJECTS[d.class_id].name == "person"]
    out: dict[str, float] = {}
    for cat, sources in _FROM_TAGS.items():
        best = max((tag.get(t, 0.0) * share for t, share in sources), default=0.0)
        if best > 0:
            out[cat] = best
    _people_rules(ctx, ctx.result.faces or [], persons, out)
    _scene_rules(ctx, tag, names, out)
    return out


def run_categories(ctx: VisionContext) -> None:
    """The categories stage: up to three categories above 0.4, specific before general, best first."""
    scores = score_categories(ctx)
    kept = {c: s for c, s in scores.items() if s >= _MIN_SCORE}
    for cat in list(kept):
        family = cat.split("_")[0] + "_"
        if cat == family and any(o != cat and o.startswith(family) for o in kept):
            del kept[cat]
    ranked = sorted(kept.items(), key=lambda kv: (-kv[1], TAXONOMY.index(kv[0])))[:_MOST]
    cats = [Category(name, _q(score)) for name, score in ranked] or [Category("others_", 1 / 256)]
    _attach_details(ctx, cats)
    ctx.result.categories = cats
