"""Image analysis: CPU per feature, the server against the library call, memory, and time to first answer.

- **CPU ms per image per feature**: :func:`percept.vision.analyze.analyze_image` asked for one feature at a
  time in this process (engines warm), averaged over the sample photos; each feature's time includes what it is
  built from (a caption needs tags, objects and faces).
- **Server overhead**: clients post every v3.2 ``analyze`` feature of one photo over loopback; the baseline is
  the same work (decode + analyze) through a process pool of the same size in this process, which is what the
  server runs behind HTTP. Overhead = 1 - server rate / library rate.
- **Peak RSS** of the server and its workers with every engine loaded, and **time to first answer**: from
  starting ``percept serve`` until the first all-features answer (model loading included).

Run: ``.venv/bin/python benchmarks/vision.py``.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from common import DATA, table

PHOTOS = DATA / "azure_ai102_vision_samples"
SAMPLES = [
    "image-analysis/street.jpg",
    "image-analysis/person.jpg",
    "image-analysis/building.jpg",
    "face-api/people.jpg",
]
V32_ALL = "Categories,Tags,Description,Faces,ImageType,Color,Adult,Objects,Brands"
CLIENTS = 4
ROUNDS = 12


def _photos() -> list[bytes]:
    return [(PHOTOS / p).read_bytes() for p in SAMPLES]


def _cpu() -> float:
    """CPU seconds of this process and its finished children (Tesseract runs for read and brands)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def per_feature() -> list[list[object]]:
    import numpy as np
    from PIL import Image

    from percept.vision.analyze import VisionRequest, analyze_image
    from percept.vision.features import Feature

    pictures = [np.asarray(Image.open(PHOTOS / p).convert("RGB")) for p in SAMPLES]
    for rgb in pictures:  # load every engine once
        analyze_image(rgb, "Jpeg", VisionRequest(frozenset(Feature)))
    rows: list[list[object]] = []
    for feature in Feature:
        request = VisionRequest(frozenset({feature}))
        cpu0, wall0 = _cpu(), time.perf_counter()
        for _ in range(3):
            for rgb in pictures:
                analyze_image(rgb, "Jpeg", request)
        n = 3 * len(pictures)
        rows.append([feature.value, 1000 * (_cpu() - cpu0) / n, 1000 * (time.perf_counter() - wall0) / n])
    return rows


def _library_rate(photos: list[bytes], workers: int) -> float:
    from percept.vision.analyze import VisionRequest
    from percept.vision.features import Feature
    from percept.vision.image import CV_LIMITS
    from percept.vision.settings import VisionSettings
    from percept.vision.worker import analyze_bytes, init_vision_worker

    features = frozenset(
        {
            Feature.CATEGORIES,
            Feature.TAGS,
            Feature.CAPTION,
            Feature.FACES,
            Feature.IMAGE_TYPE,
            Feature.COLOR,
            Feature.ADULT,
            Feature.OBJECTS,
            Feature.BRANDS,
        }
    )
    run = functools.partial(analyze_bytes, limits=CV_LIMITS, request=VisionRequest(features), settings=VisionSettings())
    # spawn: this process already runs threaded model runtimes (per_feature), which fork would deadlock.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=init_vision_worker) as pool:
        list(pool.map(run, photos * workers))  # every worker loads its engines, as a warm server's have
        jobs = photos * ROUNDS
        start = time.perf_counter()
        list(pool.map(run, jobs))
        return len(jobs) / (time.perf_counter() - start)


def _server_rate(endpoint: str, key: str, photos: list[bytes]) -> float:
    import httpx

    url = f"{endpoint}/vision/v3.2/analyze?visualFeatures={V32_ALL}"
    headers = {"Ocp-Apim-Subscription-Key": key, "Content-Type": "application/octet-stream"}

    def one(data: bytes) -> None:
        with httpx.Client(timeout=120) as client:
            while True:
                r = client.post(url, headers=headers, content=data)
                if r.status_code != 429:
                    assert r.status_code == 200, r.text
                    return
                time.sleep(float(r.headers.get("retry-after", "1")))

    jobs = photos * ROUNDS
    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as clients:
        list(clients.map(one, jobs))
    return len(jobs) / (time.perf_counter() - start)


def _tree_rss(pid: int) -> float:
    import psutil

    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def server_numbers() -> tuple[float, float, float, float]:
    """(first answer s, server rate, library rate, peak RSS MiB)."""
    import httpx
    from server_harness import KEY, start_server

    photos = _photos()
    workers = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="percept-bench-") as tmp:
        t0 = time.perf_counter()
        srv = start_server(Path(tmp) / "data")
        try:
            r = httpx.post(
                f"{srv.endpoint}/vision/v3.2/analyze?visualFeatures={V32_ALL}&details=Celebrities,Landmarks",
                headers={"Ocp-Apim-Subscription-Key": KEY, "Content-Type": "application/octet-stream"},
                content=photos[0],
                timeout=300,
            )
            first = time.perf_counter() - t0
            assert r.status_code == 200, r.text
            # Every worker loads its engines on first use: warm them all before measuring.
            _server_rate(srv.endpoint, KEY, photos[:1] * workers)
            peak = [0.0]
            stop = threading.Event()

            def sample() -> None:
                while not stop.is_set():
                    peak[0] = max(peak[0], _tree_rss(srv.process.pid))
                    stop.wait(0.05)

            sampler = threading.Thread(target=sample)
            sampler.start()
            srv_rate = _server_rate(srv.endpoint, KEY, photos)
            stop.set()
            sampler.join()
        finally:
            srv.stop()
    lib_rate = _library_rate(photos, workers)
    return first, srv_rate, lib_rate, peak[0]


def main() -> str:
    rows = per_feature()
    first, srv_rate, lib_rate, peak = server_numbers()
    return "\n".join(
        [
            "## Image analysis (issue 13)",
            "",
            "CPU and wall ms per image for one feature at a time (library call, engines warm, 4 sample photos "
            "of 640–1000 px; a feature's time includes what it is built from):",
            "",
            table(["feature", "CPU ms/image", "wall ms/image"], rows),
            "",
            f"All nine v3.2 `analyze` features of 4 photos × {ROUNDS}, {CLIENTS} clients over loopback, against the "
            "same decode + analyze through a process pool of the same size in this process:",
            "",
            table(
                [
                    "images/s library",
                    "images/s server",
                    "server overhead",
                    "peak RSS server + workers (MiB)",
                    "first answer after start (s)",
                ],
                [[lib_rate, srv_rate, f"{100 * (1 - srv_rate / lib_rate):.1f}%", peak, first]],
            ),
            "",
        ]
    )


if __name__ == "__main__":
    print(main())
