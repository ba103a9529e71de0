"""Image analysis configuration: ``PERCEPT_VISION_*`` environment variables, one field per choice."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class VisionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PERCEPT_VISION_", env_file=".env", extra="ignore")

    face_engine: str = Field("yunet", description="Face detector.")
    face_attributes: bool = Field(True, description="Return age and gender with faces (v1.0–v3.2 analyze).")
    tag_engine: str = Field("efficientnet-lite3", description="Image classifier behind tags and categories.")
    object_engine: str = Field("ssd-mobilenet-coco", description="Object detector behind objects and people.")
    adult_engine: str = Field("open-nsfw", description="Adult/racy classifier.")
    caption_engine: str = Field(
        "composed", description="'composed' (a sentence from what was detected) or 'hub' (caption_model)."
    )
    caption_model: str = Field("", description="Hugging Face hub id or local folder of a captioning model.")
    gallery_threshold: float = Field(0.5, description="Least calibrated confidence for a gallery match.")
    gallery_dir: str = Field(
        "", description="Enrolled celebrities and landmarks (percept gallery); empty: <PERCEPT_DATA_DIR>/galleries."
    )
    brands: str = Field("", description="Extra brand names to recognise in an image's text, comma-separated.")
    workers: int = Field(0, description="Image analysis worker processes; 0: one per core.")
    queue: int = Field(8, description="Requests waiting per worker before the API answers 429.")


@lru_cache(maxsize=1)
def process_settings() -> VisionSettings:
    """This process's settings, read once: which engine of each kind the stages ask :mod:`percept.engines` for."""
    return VisionSettings()
