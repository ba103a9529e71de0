"""Face chips: a face cut out of a photo and turned upright by a similarity transform of its five landmarks.

The age and gender networks were trained on dlib's ``get_face_chip`` (five-point shape predictor, padding 0.2).
We do not run dlib: :data:`DLIB_CHIP_TEMPLATE` says where YuNet's five points land in such a chip. It was fitted
by running dlib's predictor and ``get_face_chip_details`` on the YuNet boxes of the 51 faces at least 60 px wide in
``azure_ai102_vision_samples`` and ``dlib_faces`` and averaging where YuNet's landmarks fall in dlib's chips. The
transform is fitted on the eyes and mouth corners only (:data:`FIT_POINTS`): YuNet's nose tip and dlib's nose base
part ways as a head tilts. Over 65 faces the ages then differ from dlib's chips by 4.0 years on average (e.g.
street.jpg 67 vs 65, person.jpg 40 vs 43), and gender disagrees on 5 (person2.jpg among them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

# YuNet's points (right eye, left eye, nose tip, right and left mouth corner) as fractions of a dlib face chip
# with padding 0.2.
DLIB_CHIP_TEMPLATE: tuple[tuple[float, float], ...] = (
    (0.2946, 0.2821),
    (0.6910, 0.2917),
    (0.4831, 0.5284),
    (0.3124, 0.7014),
    (0.6590, 0.7146),
)


# Which of the five points the transform is fitted on: eyes and mouth corners.
FIT_POINTS: tuple[int, ...] = (0, 1, 3, 4)


def similarity(src: NDArray[np.float64], dst: NDArray[np.float64]) -> NDArray[np.float64]:
    """The 2x3 least-squares similarity (rotation, uniform scale, shift) taking ``src`` points onto ``dst``
    (Umeyama without reflection)."""
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - src_mean, dst - dst_mean
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    fix = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        fix[1, 1] = -1.0
    rot = u @ fix @ vt
    var = float((s**2).sum() / len(src))
    scale = float((sig * np.diag(fix)).sum() / var) if var > 0 else 1.0
    shift = dst_mean - scale * rot @ src_mean
    return np.hstack([scale * rot, shift[:, None]])


def face_chip(
    rgb: NDArray[np.uint8],
    landmarks: tuple[tuple[float, float], ...],
    size: int,
    template: tuple[tuple[float, float], ...] = DLIB_CHIP_TEMPLATE,
) -> NDArray[np.uint8]:
    """A ``size`` x ``size`` chip of the face whose five ``landmarks`` (pixels) are given.

    When the chip is much smaller than the face, the face region is first shrunk by an image pyramid as dlib's
    ``extract_image_chip`` does: the networks were trained on those smoothed chips, and a sharper bilinear warp
    moves their answers by years.
    """
    import cv2

    src = np.asarray(landmarks, dtype=np.float64)[list(FIT_POINTS)]
    dst = np.asarray(template, dtype=np.float64)[list(FIT_POINTS)] * size
    matrix = similarity(src, dst)
    scale = float(np.hypot(matrix[0, 0], matrix[0, 1]))
    image: NDArray[Any] = rgb
    levels = 0
    while scale * 2 ** (levels + 1) < 1.0:
        levels += 1
    if levels:
        # Like dlib: halve a crop around the face with a 5-tap Gaussian pyramid until the warp shrinks by 2 at
        # most.
        inverse = similarity(dst, src)
        corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], dtype=np.float64)
        pts = corners @ inverse.T
        h, w = rgb.shape[:2]
        margin = 2 ** (levels + 2)
        x0 = int(max(0, np.floor(pts[:, 0].min()) - margin))
        y0 = int(max(0, np.floor(pts[:, 1].min()) - margin))
        x1 = int(min(w, np.ceil(pts[:, 0].max()) + margin))
        y1 = int(min(h, np.ceil(pts[:, 1].max()) + margin))
        if x1 - x0 >= 2**levels and y1 - y0 >= 2**levels:
            image = rgb[y0:y1, x0:x1]
            for _ in range(levels):
                image = cv2.pyrDown(image)
            src = (src - [x0, y0]) / 2**levels
            matrix = similarity(src, dst)
    chip = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return np.ascontiguousarray(chip, dtype=np.uint8)
