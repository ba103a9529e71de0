"""Celebrities and landmarks: names an operator enrolled (``percept gallery add``), recognised again in a picture.

Azure recognises a fixed set of famous people and places; no such model is free to ship, so Percept names only
what its operator enrolled (:mod:`.gallery_store`). A person is enrolled from photos of their face (SFace face
embeddings, as the faces stage computes them); a place from photos of it (the tag classifier's whole-image
embedding). Recognition takes, per entry, the highest cosine between the picture's embedding and the entry's
images, turns it into a calibrated confidence, and reports the best entry when that confidence reaches
``gallery_threshold``.

Enrolling a person takes the largest face of each photo, and refuses a photo without a face or with another face
at least half as large (which of them is meant cannot be told: crop the photo to the person).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..errors import InvalidContent, InvalidRequest
from .analyze import VisionContext
from .gallery_store import Entry, Gallery, GalleryStore, check_kind
from .model import Celebrity, Landmark
from .settings import VisionSettings

# A second face at least this large (relative to the largest) makes an enrolment photo ambiguous.
AMBIGUOUS_FACE = 0.5


class NoFaceFound(InvalidContent, code="NoFaceFound"):
    """An enrolment photo of a person shows no face, or several of similar size."""


def gallery_root(settings: VisionSettings | None = None) -> Path:
    """Where galleries live: ``gallery_dir``, else ``<data_dir>/galleries`` of the server's settings."""
    settings = settings or VisionSettings()
    if settings.gallery_dir:
        return Path(settings.gallery_dir)
    from ..config import ServerSettings

    return Path(ServerSettings().data_dir) / "galleries"


@functools.lru_cache(maxsize=8)
def _gallery(root: str, kind: str) -> Gallery:
    """One reader per gallery per process; it reloads itself when the index changes."""
    return Gallery(root, kind)


def open_gallery(kind: str, settings: VisionSettings | None = None) -> Gallery:
    return _gallery(str(gallery_root(settings)), check_kind(kind))


# --- faces ------------------------------------------------------------------------------------------------------

FACE_MODEL = "sface-2021dec-int8"


def enrolment_face(rgb: np.ndarray) -> np.ndarray:
    """The embedding of the one person a photo shows (its largest face; see the module docstring)."""
    from .faces import detect_faces, embed_faces

    faces = detect_faces(rgb)  # largest first
    if not faces:
        raise NoFaceFound("No face was found in the image.")
    if len(faces) > 1 and faces[1].box.area >= AMBIGUOUS_FACE * faces[0].box.area:
        raise NoFaceFound(f"The image shows {len(faces)} faces of similar size; crop it to the one person.")
    return np.asarray(embed_faces(rgb, faces[:1])[0], dtype=np.float32)


# --- places -----------------------------------------------------------------------------------------------------

PLACE_MODEL = "efficientnet-lite3"
# Logistic calibration of the embedding's cosine. On the samples, views of building.jpg (crops to 50-80%, half
# size, mirrored) score 0.87-0.99 against it and every other picture (street, people, portraits, scikit-image's
# cat, coffee, rocket) 0.18-0.34; the midpoint sits above that gap's middle, since other buildings of the same
# kind look more alike than those scenes.
PLACE_MIDPOINT = 0.75
PLACE_SLOPE = 15.0


def place_embedding(rgb: np.ndarray) -> np.ndarray:
    """The picture's whole-image embedding (the tag classifier's pooled features, L2-normalised)."""
    from .tags import image_embedding

    return np.asarray(image_embedding(rgb), dtype=np.float32)


def place_match_confidence(cosine: float) -> float:
    """A 0-1 confidence that two pictures with this embedding cosine show the same place."""
    return 1.0 / (1.0 + math.exp(-PLACE_SLOPE * (cosine - PLACE_MIDPOINT)))


# --- enrolment --------------------------------------------------------------------------------------------------


def embed_for(kind: str, rgb: np.ndarray) -> tuple[np.ndarray, str]:
    """The embedding an enrolment photo adds to gallery ``kind``, and the embedder's name."""
    if check_kind(kind) == "celebrities":
        return enrolment_face(rgb), FACE_MODEL
    return place_embedding(rgb), PLACE_MODEL


def decode_picture(data: bytes) -> np.ndarray:
    """Photo bytes as upright RGB, under Image Analysis 4.0's limits (formats, 20 MB, 50 to 16000 pixels a side)."""
    from .image import IA_LIMITS, decode

    return decode(data, IA_LIMITS)[0]


def enrol_files(store: GalleryStore, name: str, paths: Iterable[str | os.PathLike[str]]) -> Entry:
    """Add photos of ``name`` to a gallery; every photo is checked (and a bad one named) before anything is
    written."""
    rows, model = [], ""
    for p in paths:
        try:
            row, model = embed_for(store.kind, decode_picture(Path(p).read_bytes()))
        except InvalidRequest as exc:
            raise type(exc)(f"{p}: {exc.message}") from None
        rows.append(row)
    return store.add(name, np.vstack(rows) if rows else np.zeros((0, 1), np.float32), model)


# --- stages -----------------------------------------------------------------------------------------------------


def run_celebrities(ctx: VisionContext) -> None:
    """Each face the faces stage found, named when an enrolled person matches it well enough."""
    ctx.result.celebrities = []
    faces = ctx.result.faces or []
    gallery = open_gallery("celebrities", ctx.settings)
    if not faces or not gallery.entries():
        return
    from .faces import embed_faces, face_match_confidence

    for face, row in zip(faces, embed_faces(ctx.rgb, faces), strict=True):
        match = gallery.best(row, FACE_MODEL)
        if match is None:
            continue
        confidence = face_match_confidence(match.cosine)
        if confidence >= ctx.settings.gallery_threshold:
            ctx.result.celebrities.append(Celebrity(match.name, round(confidence, 4), face.box))


def run_landmarks(ctx: VisionContext) -> None:
    """The enrolled place the whole picture looks most like, when it looks like it enough."""
    ctx.result.landmarks = []
    gallery = open_gallery("landmarks", ctx.settings)
    if not gallery.entries():
        return
    embedding = ctx.scratch.get("embedding")  # left by the tags stage when it ran on this picture
    if embedding is None:
        embedding = place_embedding(ctx.rgb)
    match = gallery.best(np.asarray(embedding, dtype=np.float32), PLACE_MODEL)
    if match is None:
        return
    confidence = place_match_confidence(match.cosine)
    if confidence >= ctx.settings.gallery_threshold:
        ctx.result.landmarks.append(Landmark(match.name, round(confidence, 4)))
