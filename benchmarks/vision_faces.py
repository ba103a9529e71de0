"""Faces benchmark: YuNet precision/recall on dlib_faces, CPU time of detection and age/gender, SFace cosine
distributions and leave-one-out identification on face-api's Aisha and Sama.

Run: ``.venv/bin/python -m benchmarks.vision_faces`` (prints markdown for docs/benchmarks.md).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA, table

from percept.vision.faces import _age_gender, _detector, detect_faces, embed_faces, face_match_confidence
from percept.vision.model import Box

DLIB = DATA / "dlib_faces"
SAMPLES = DATA / "azure_ai102_vision_samples"
IDENTITIES = ("Aisha", "Sama")


def load(path: Path) -> NDArray[np.uint8]:
    bgr = cv2.imread(str(path))
    if bgr is None:
        raise FileNotFoundError(path)
    return np.ascontiguousarray(bgr[:, :, ::-1])


def detection() -> tuple[list[list[object]], list[float], list[float]]:
    """Greedy one-to-one matching at IoU >= 0.5 against the hand-labelled boxes of all 9 images."""
    truth = json.loads((DLIB / "faces.json").read_text())
    tp = fp = fn = 0
    det_ms: list[float] = []
    attr_ms: list[float] = []
    detector, attributes = _detector(), _age_gender()
    for item in truth["training"] + truth["testing"]:
        rgb = load(DLIB / item["file"])
        start = time.process_time()
        faces = detector.detect(rgb)
        det_ms.append((time.process_time() - start) * 1000)
        start = time.process_time()
        attributes.predict(rgb, faces)
        attr_ms.append((time.process_time() - start) * 1000 / max(1, len(faces)))
        used: set[int] = set()
        for g in item["faces"]:
            box = Box(g["left"], g["top"], g["width"], g["height"])
            scores = [(box.iou(f.box), i) for i, f in enumerate(faces) if i not in used]
            best = max(scores, default=(0.0, -1))
            if best[0] >= 0.5:
                tp += 1
                used.add(best[1])
            else:
                fn += 1
        fp += len(faces) - len(used)
    rows: list[list[object]] = [
        ["precision", round(tp / max(1, tp + fp), 3)],
        ["recall", round(tp / max(1, tp + fn), 3)],
        ["true / false positives, misses", f"{tp} / {fp} / {fn}"],
    ]
    return rows, det_ms, attr_ms


def embeddings() -> tuple[dict[str, list[NDArray[np.float32]]], list[NDArray[np.float32]]]:
    """One vector per enrolled photo (its largest face), and vectors of faces of other people."""
    enrolled: dict[str, list[NDArray[np.float32]]] = {}
    for name in IDENTITIES:
        enrolled[name] = []
        for path in sorted((SAMPLES / "face-api" / name).glob("*.jpg")):
            rgb = load(path)
            enrolled[name].append(embed_faces(rgb, detect_faces(rgb)[:1])[0])
    others: list[NDArray[np.float32]] = []
    for path in [
        SAMPLES / "image-analysis" / "person.jpg",
        SAMPLES / "image-analysis" / "street.jpg",
        *sorted(DLIB.glob("*.jpg")),
    ]:
        if path.name == "dogs.jpg":
            continue
        rgb = load(path)
        others.extend(embed_faces(rgb, detect_faces(rgb)))
    return enrolled, others


def identify(probe: NDArray[np.float32], gallery: dict[str, list[NDArray[np.float32]]], threshold: float) -> str | None:
    best = max(((max(float(probe @ v) for v in vs), n) for n, vs in gallery.items()), default=(0.0, ""))
    return best[1] if face_match_confidence(best[0]) >= threshold else None


def main() -> str:
    out: list[str] = []
    rows, det_ms, attr_ms = detection()
    rows.append(["detection CPU ms / image (500x375 avg)", round(float(np.mean(det_ms)), 1)])
    rows.append(["age+gender CPU ms / face", round(float(np.mean(attr_ms)), 1)])
    out.append("### YuNet on dlib_faces (43 labelled faces, 9 images, IoU >= 0.5)\n")
    out.append(table(["measure", "value"], rows))

    enrolled, others = embeddings()
    a, s = enrolled["Aisha"], enrolled["Sama"]
    same = [float(x @ y) for vs in (a, s) for i, x in enumerate(vs) for y in vs[i + 1 :]]
    diff = [float(x @ y) for x in a for y in s]
    strangers = [float(x @ y) for x in others for vs in (a, s) for y in vs]

    def dist(v: list[float]) -> list[object]:
        return [len(v), round(min(v), 3), round(float(np.median(v)), 3), round(max(v), 3)]

    out.append("\n### SFace cosine similarity\n")
    out.append(
        table(
            ["pairs", "n", "min", "median", "max"],
            [
                ["same identity (Aisha/Aisha, Sama/Sama)", *dist(same)],
                ["Aisha vs Sama", *dist(diff)],
                ["other people vs enrolled", *dist(strangers)],
            ],
        )
    )

    threshold = 0.5
    correct = total = 0
    for name in IDENTITIES:
        for i, probe in enumerate(enrolled[name]):
            gallery = {n: [v for j, v in enumerate(vs) if not (n == name and j == i)] for n, vs in enrolled.items()}
            correct += identify(probe, gallery, threshold) == name
            total += 1
    rejected = sum(identify(v, enrolled, threshold) is None for v in others)
    out.append("\n### Identification (leave-one-out, 4 enrolled photos each, confidence >= 0.5)\n")
    out.append(
        table(
            ["probes", "n", "right"],
            [
                ["Aisha / Sama held-out photo", total, f"{correct} ({correct / total:.0%})"],
                ["other people (should match no one)", len(others), f"{rejected} ({rejected / len(others):.0%})"],
            ],
        )
    )
    return "\n".join(out)


if __name__ == "__main__":
    print(main())
