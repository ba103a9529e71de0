"""Captions: one sentence for the picture (v1.0–v3.2 ``description``, 4.0 ``caption``) and one per region (4.0
``denseCaptions``).

No captioning model ships with a registry package, so by default a sentence is composed from what the other
stages found: a subject (people counted from person boxes and faces, with gender from faces unless the request
is gender-neutral; else the most likely animal, food, vehicle or thing), what it does or wears, and where it is
("a man walking a dog on a city street", "a cup of coffee on a table"). A candidate's confidence is its
subject's, lowered a little by each part's doubt and more for each part left out, so ``maxCandidates`` gets
distinct sentences, the most telling first.

With ``caption_engine = "hub"`` a real image-to-text model (a Hugging Face hub id or a local folder in
``caption_model``; BLIP, ViT-GPT2 and other encoder-decoders) writes the whole-picture captions instead, by beam
search; torch and transformers are imported only then.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from ..engines import EngineOptions, EngineSpec
from ..errors import EngineUnavailable
from .model import Box, Caption, Face

if TYPE_CHECKING:
    from .analyze import VisionContext
    from .objects import Detection

_NEEDS = "pip install torch transformers (a captioning model from the Hugging Face hub or a local folder)"

# Things a sentence can be about, most telling first within each kind.
_ANIMALS = ("cat", "dog", "horse", "bird", "bear", "panda", "elephant", "zebra", "giraffe", "sheep", "cow")
_SURFACES = ("bed", "couch", "table", "quilt", "blanket", "grass", "floor", "bench", "chair")
_WEAR = (("suit", "in a suit"), ("helmet", "wearing a helmet"), ("sunglasses", "wearing sunglasses"),
         ("hat", "wearing a hat"), ("military uniform", "in uniform"))  # fmt: skip
_HOLD = (("mobile phone", "looking at a cell phone"), ("cell phone", "looking at a cell phone"),
         ("guitar", "playing a guitar"), ("microphone", "holding a microphone"),
         ("laptop", "using a laptop"))  # fmt: skip
# General terms: never the subject of a sentence.
_GENERAL = frozenset(
    (
        "animal", "mammal", "pet", "carnivore", "felidae", "canidae", "indoor", "outdoor", "tableware",
        "furniture", "clothing", "vehicle", "food", "person", "human face", "text", "electronics", "drink",
        "wildlife", "invertebrate", "arthropod", "fish", "bird", "reptile", "land vehicle", "dog breed",
        "small to medium-sized cats", "home appliance", "musical instrument",
    )
)  # fmt: skip


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _plural(noun: str) -> str:
    return noun + ("es" if noun.endswith(("s", "sh", "ch")) else "s")


_NUMBERS = {2: "two", 3: "three", 4: "four"}
# Each part of a sentence (subject, action, place) is a Caption of its own: a phrase and how sure it is.


@dataclass(slots=True)
class _Scene:
    """What the composer works from, gathered once."""

    tags: dict[str, float]
    own: dict[str, float]
    dets: list[Detection]
    faces: list[Face]
    width: int
    height: int
    neutral: bool

    def named(self, name: str) -> list[Detection]:
        from .taxonomy import COCO_OBJECTS

        return [d for d in self.dets if COCO_OBJECTS[d.class_id].name == name]

    def tag(self, name: str) -> float:
        return self.tags.get(name, 0.0)


def _scene(ctx: VisionContext) -> _Scene:
    from .objects import confident

    h, w = ctx.rgb.shape[:2]
    return _Scene(
        ctx.scratch.get("tag_scores", {}),
        ctx.scratch.get("tag_own", {}),
        confident(ctx),
        list(ctx.result.faces or []),
        w,
        h,
        ctx.request.gender_neutral,
    )


def _person_word(faces: list[Face], neutral: bool) -> str:
    face = faces[0] if len(faces) == 1 else None
    if face is None or neutral or face.gender not in ("Male", "Female"):
        return "child" if face and face.age is not None and face.age < 13 else "person"
    if face.age is not None and face.age < 13:
        return "boy" if face.gender == "Male" else "girl"
    return "man" if face.gender == "Male" else "woman"


def _people_subject(s: _Scene, prominent: bool = True) -> Caption | None:
    persons = s.named("person")
    n = max(len(persons), len(s.faces))
    if n == 0:
        return None
    from .categories import prominence

    conf = max([d.confidence for d in persons] + [f.confidence for f in s.faces])
    if prominent and prominence([d.box for d in persons] or [f.box for f in s.faces], s.width, s.height) < 0.3:
        return None  # passers-by: the picture is about something else
    if n == 1:
        return Caption(_a(_person_word(s.faces, s.neutral)), conf)
    if n == 2:
        genders = sorted(f.gender or "" for f in s.faces)
        if not s.neutral and len(s.faces) == 2 and genders[0] == genders[1] and genders[0]:
            return Caption("two " + ("men" if genders[0] == "Male" else "women"), conf)
        if not s.neutral and genders == ["Female", "Male"]:
            return Caption("a man and a woman", conf)
        return Caption("two people", conf)
    return Caption("a group of people" if n <= 5 else "a crowd of people", conf * 0.9)


def _thing_subject(s: _Scene) -> Caption | None:
    animals = [(s.tag(a), a) for a in _ANIMALS if s.tag(a) >= 0.3]
    if animals:
        conf, noun = max(animals)
        boxes = s.named(noun)
        if len(boxes) >= 2:
            return Caption(f"{_NUMBERS.get(len(boxes), 'a group of')} {_plural(noun)}", conf)
        close = bool(boxes) and boxes[0].box.area >= 0.4 * s.width * s.height
        return Caption(("a close up of " if close else "") + _a(noun), conf)
    if s.tag("coffee") >= 0.3:
        return Caption("a cup of coffee", max(s.tag("coffee"), s.tag("cup")))
    if s.tag("cup") >= 0.4:
        return Caption("a cup", s.tag("cup"))
    cars = s.named("car") + s.named("bus") + s.named("truck")
    if len(cars) >= 2:
        return Caption("cars", max(d.confidence for d in cars))
    if s.tag("building") >= 0.4:
        feature = next((f for f in ("dome", "tower", "clock") if s.tag(f) >= 0.15), None)
        return Caption("a building" + (f" with {_a(feature)}" if feature else ""), s.tag("building"))
    for noun in ("pizza", "hamburger", "hot dog", "bread", "car", "bus", "train", "airplane", "boat"):
        if s.tag(noun) >= 0.4:
            return Caption(_a(noun), s.tag(noun))
    if s.tag("food") >= 0.4:
        return Caption("a plate of food" if s.tag("plate") >= 0.2 else "food", s.tag("food"))
    specific = [(c, n) for n, c in s.own.items() if n not in _GENERAL and c >= 0.2]
    if specific:
        conf, noun = max(specific)
        return Caption(_a(noun), conf)
    return None


def _action(s: _Scene, people: bool) -> Caption | None:
    if people:
        dogs = s.named("dog")
        if dogs:
            return Caption("walking a dog", dogs[0].confidence)
        for tag, phrase in _HOLD + _WEAR:
            if s.tag(tag) >= 0.25:
                return Caption(phrase, s.tag(tag))
        return None
    surfaces = [(s.tag(t), t) for t in _SURFACES if s.tag(t) >= 0.25]
    if surfaces and any(s.tag(a) >= 0.3 for a in _ANIMALS):
        conf, where = max(surfaces)
        return Caption(f"lying on {_a(where)}", conf)
    return None


def _place(s: _Scene, subject: Caption) -> Caption | None:
    cars = s.named("car") + s.named("bus") + s.named("truck")
    street = max(s.tag("street"), 0.9 * max((d.confidence for d in cars), default=0.0) if len(cars) >= 2 else 0.0)
    if street >= 0.4:
        return Caption("on a city street", street)
    if s.tag("table") >= 0.4 and s.tag("coffee") + s.tag("cup") + s.tag("food") >= 0.3:
        return Caption("on a table", s.tag("table"))
    if s.tag("building") >= 0.4 and s.named("person") and not subject.text.startswith("a building"):
        return Caption("in front of a building", s.tag("building"))
    if subject.text.startswith("a building") and s.named("person"):
        joint = "and" if " with " in subject.text else "with"
        return Caption(f"{joint} people in front of it", max(d.confidence for d in s.named("person")))
    for tag, phrase in (("beach", "on a beach"), ("mountain", "in the mountains"), ("stage", "on a stage")):
        if s.tag(tag) >= 0.4:
            return Caption(phrase, s.tag(tag))
    return None


def compose(ctx: VisionContext, most: int) -> list[Caption]:
    """Up to ``most`` distinct sentences about the picture, best first."""
    s = _scene(ctx)
    people = _people_subject(s)
    subject = people or _thing_subject(s) or _people_subject(s, prominent=False)
    if subject is None:
        return [Caption("an image", 0.2)][:most]
    action, place = _action(s, people is not None), _place(s, subject)
    if subject.text == "cars" and place is not None:
        subject = Caption("cars parked", subject.confidence)
    extras = [p for p in (action, place) if p is not None]
    options: list[tuple[float, str]] = []
    for mask in range(1 << len(extras)):
        parts = [p for i, p in enumerate(extras) if mask & (1 << i)]
        conf = subject.confidence * 0.8 ** (len(extras) - len(parts))
        for part in parts:
            conf *= 0.8 + 0.2 * part.confidence
        parts.insert(0, subject)
        options.append((conf, " ".join(p.text for p in parts)))
    if subject.text.startswith("a close up of "):
        options.append((subject.confidence * 0.85, subject.text.removeprefix("a close up of ")))
    seen: set[str] = set()
    out: list[Caption] = []
    for conf, text in sorted(options, key=lambda o: (-o[0], -len(o[1]))):
        if text not in seen:
            seen.add(text)
            out.append(Caption(text, round(conf, 4)))
    return out[:most]


class HubCaptionOptions(EngineOptions):
    model: str = Field("", description="Hugging Face hub id or local folder of an image-to-text model.")
    num_beams: int = Field(3, ge=1, le=16, description="Beam width (at least the number of candidates asked).")
    max_new_tokens: int = Field(30, ge=1, le=200, description="Longest caption, in tokens.")
    threads: int = Field(1, ge=1, description="torch threads (one worker process per core runs it).")


class HubCaptioner:
    """An image-to-text model from transformers (``AutoModelForImageTextToText``): BLIP, GIT, ViT-GPT2, ..."""

    def __init__(self, options: HubCaptionOptions) -> None:
        self.options = options
        if not options.model:
            raise EngineUnavailable("caption_engine 'hub' needs caption_model: a hub id or a local folder")
        try:
            import torch

            transformers: Any = importlib.import_module("transformers")
        except ImportError as exc:
            raise EngineUnavailable(f"the hub captioner needs torch and transformers ({exc}): {_NEEDS}") from exc
        torch.set_num_threads(options.threads)
        self._torch: Any = torch
        auto = getattr(transformers, "AutoModelForImageTextToText", None) or transformers.AutoModelForVision2Seq
        self._model: Any = auto.from_pretrained(options.model).eval()
        try:
            self._images: Any = transformers.AutoImageProcessor.from_pretrained(options.model)
            self._tokenizer: Any = transformers.AutoTokenizer.from_pretrained(options.model)
        except (OSError, ValueError, KeyError):
            processor = transformers.AutoProcessor.from_pretrained(options.model)
            self._images, self._tokenizer = processor.image_processor, processor.tokenizer

    def caption(self, rgb: NDArray[np.uint8], count: int = 1) -> list[Caption]:
        """``count`` captions (distinct beams), best first, confidence = exp(mean token log-probability)."""
        from PIL import Image

        pixels = self._images(images=Image.fromarray(rgb), return_tensors="pt")["pixel_values"]
        beams = max(self.options.num_beams, count)
        with self._torch.inference_mode():
            out = self._model.generate(
                pixel_values=pixels,
                num_beams=beams,
                num_return_sequences=min(count, beams),
                max_new_tokens=self.options.max_new_tokens,
                output_scores=True,
                return_dict_in_generate=True,
            )
        texts = self._tokenizer.batch_decode(out.sequences, skip_special_tokens=True)
        scores = getattr(out, "sequences_scores", None)
        confs = [float(np.exp(float(v))) for v in scores] if scores is not None else [0.5] * len(texts)
        result: list[Caption] = []
        for text, conf in zip(texts, confs, strict=True):
            text = " ".join(text.split())
            if text and all(text != c.text for c in result):
                result.append(Caption(text, round(min(1.0, conf), 4)))
        return result


def _hub(model: str) -> HubCaptioner:
    """The hub captioner for ``model`` (a hub id or a local folder), built once per process by the engine
    factory."""
    from .. import engines

    engine: HubCaptioner = engines.get("captions", "hub", HubCaptionOptions(model=model))
    return engine


def run_captions(ctx: VisionContext) -> None:
    """The captions stage: ``max_candidates`` sentences (at least one), best first."""
    most = max(1, ctx.request.max_candidates)
    if ctx.settings.caption_engine == "hub":
        found = _hub(ctx.settings.caption_model).caption(ctx.rgb, most)[:most]
        ctx.result.captions = found or compose(ctx, most)  # a model that says nothing: say what was seen
    else:
        ctx.result.captions = compose(ctx, most)


def _region_caption(s: _Scene, d: Detection) -> str:
    from .taxonomy import COCO_OBJECTS

    name = COCO_OBJECTS[d.class_id].name.lower()
    if name == "person":
        inside = [f for f in s.faces if _contains(d.box, f.box)]
        word = _a(_person_word(inside, s.neutral))
        wear = next((phrase for tag, phrase in _WEAR if s.tag(tag) >= 0.3), "")
        return f"{word} {wear}".strip() if d.box.area >= 0.25 * s.width * s.height else word
    if d.box.area >= 0.4 * s.width * s.height:
        return f"a close up of {_a(name)}"
    return _a(name)


def _contains(outer: Box, inner: Box) -> bool:
    cx, cy = inner.x + inner.w / 2, inner.y + inner.h / 2
    return outer.x <= cx <= outer.x + outer.w and outer.y <= cy <= outer.y + outer.h


def run_dense_captions(ctx: VisionContext) -> None:
    """Image Analysis 4.0 dense captions: the whole picture first, then each detected object and face (up to
    ten in all), each with its box."""
    s = _scene(ctx)
    whole = ctx.result.captions[0] if ctx.result.captions else compose(ctx, 1)[0]
    out = [Caption(whole.text, whole.confidence, Box(0, 0, s.width, s.height))]
    for d in s.dets:
        out.append(Caption(_region_caption(s, d), round(d.confidence, 4), d.box))
    for f in s.faces:
        who = _person_word([f], s.neutral)
        out.append(Caption(f"a close up of {_a(who)}'s face", round(f.confidence, 4), f.box))
    ctx.result.dense_captions = out[:10]


def register_engines() -> None:
    """Declare the hub captioner with :mod:`percept.engines` (kind ``captions``)."""
    from .. import engines

    engines.register(
        EngineSpec(
            "captions",
            "hub",
            HubCaptioner,
            HubCaptionOptions,
            needs=_NEEDS,
            description="A transformers image-to-text model from a hub id or a local folder.",
        )
    )
