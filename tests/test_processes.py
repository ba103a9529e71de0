"""Processes and data directories: what a server starts ends with it (kill -9 too), one server per data directory,
and Tesseract is found the same way for OCR and for language hints."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import builders
import needs
import psutil
import pytest
import requests
from leftovers import MARKER, leftovers
from server_harness import KEY, descendants, describe, free_port, start_server, wait_gone

from percept.evaluation import cer

HEADERS = {"Ocp-Apim-Subscription-Key": KEY}
DI_ANALYZE = "/documentintelligence/documentModels/prebuilt-read:analyze?api-version=2024-11-30"
GERMAN = ["Über die Brücke fährt ein großer Lastwagen.", "Die Größe der Äpfel überrascht Jürgen."]


def _poll(url: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = requests.get(url, headers=HEADERS, timeout=30).json()
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"{url} did not finish: {body}")


def _cmd(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:
        return ""


def test_kill_9_of_the_server_alone_mid_ocr_leaves_no_process(tmp_path: Path, clean_scan) -> None:
    # Tesseract, by name: its runs are the grandchildren whose end this checks.
    srv = start_server(tmp_path / "data", PERCEPT_WORKERS="2", PERCEPT_OCR_ENGINE="tesseract")
    family: list[psutil.Process] = []
    try:
        response = requests.post(srv.endpoint + DI_ANALYZE, headers=HEADERS, data=builders.image_pdf([clean_scan] * 6))
        assert response.status_code == 202
        server = psutil.Process(srv.process.pid)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until both workers are OCR'ing: every kind of process is running
            family = server.children(recursive=True)
            if sum(p.name() == "tesseract" for p in family) >= 2:
                break
            time.sleep(0.05)
        forkservers = [p for p in family if "multiprocessing.forkserver" in _cmd(p) and p.ppid() == server.pid]
        assert len(forkservers) == 1, describe(family)
        workers = [p for p in family if p.ppid() == forkservers[0].pid]
        tesseracts = [p for p in family if p.name() == "tesseract"]
        assert len(workers) == 2 and len(tesseracts) == 2, describe(family)
        assert {p.ppid() for p in tesseracts} == {p.pid for p in workers}

        srv.kill_server_only()  # as the OOM killer does: nothing else gets a signal
        left = wait_gone(family, 5)
        assert not left, f"still running 5 s after the server died: {describe(left)}"
    finally:
        for proc in wait_gone(family, 0):
            proc.kill()
        srv.kill()


def test_a_second_server_on_the_same_data_directory_is_refused(tmp_path: Path, clean_scan, truth: str) -> None:
    data = tmp_path / "data"
    first = start_server(data, PERCEPT_WORKERS="1")
    try:
        response = requests.post(
            first.endpoint + DI_ANALYZE, headers=HEADERS, data=builders.image_pdf([clean_scan] * 3)
        )
        assert response.status_code == 202
        location = response.headers["Operation-Location"]
        in_flight = data / "operations" / "in-flight.upload"  # as an upload the first server is receiving
        in_flight.write_bytes(b"partial")

        env = {**os.environ, "PERCEPT_API_KEYS": KEY, "PERCEPT_DATA_DIR": str(data)}
        started = time.monotonic()
        second = subprocess.Popen(
            [sys.executable, "-m", "percept.cli", "serve", "--port", str(free_port())],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = second.communicate(timeout=20)
        except subprocess.TimeoutExpired:  # it serves: end it and all it started (they hold its pipes open)
            family = descendants(second.pid)
            os.killpg(second.pid, signal.SIGKILL)
            for proc in family:
                proc.kill()
            second.wait(10)
            raise AssertionError("a second server on the same data directory kept running") from None
        assert time.monotonic() - started < 10
        assert second.returncode == 1 and out == ""
        assert err == (
            f"percept: the data directory {data.resolve()} is in use by percept serve (pid {first.process.pid}); "
            "stop it or use another data directory\n"
        )
        trained = subprocess.run(
            [sys.executable, "-m", "percept.cli", "train", str(tmp_path), "--data-dir", str(data)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert trained.returncode == 1 and f"in use by percept serve (pid {first.process.pid})" in trained.stderr
        from fastapi.testclient import TestClient

        from percept.config import ServerSettings
        from percept.server.app import create_app
        from percept.server.lock import DataDirInUse

        with pytest.raises(DataDirInUse), TestClient(create_app(ServerSettings(data_dir=str(data)))):
            pass  # the app's own lifespan refuses too, for whoever serves it without the CLI

        assert in_flight.read_bytes() == b"partial"  # nothing of the first server's was touched
        assert (data / "server.lock").read_text() == f"{first.process.pid} percept serve\n"
        body = _poll(location)
        assert body["status"] == "succeeded", body
        assert cer(body["analyzeResult"]["content"], "\n".join([truth] * 3)) <= 0.01
        assert requests.get(first.endpoint + "/health").status_code == 200
    finally:
        first.stop()
    again = start_server(data)  # the lock went with the first server: a restart is not refused
    again.kill()


def test_language_hints_use_the_configured_tesseract(tmp_path: Path) -> None:
    real = shutil.which("tesseract")
    if real is None:
        needs.missing("Tesseract is not installed")
    packs = subprocess.run([real, "--list-langs"], capture_output=True, text=True, check=False).stdout.split()
    if "deu" not in packs:
        needs.missing("the German Tesseract pack (tesseract-ocr-deu) is not installed")
    calls = tmp_path / "calls.log"
    wrapper = tmp_path / "tools" / "my-tesseract"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    assert shutil.which("tesseract", path=str(empty)) is None
    srv = start_server(tmp_path / "data", PERCEPT_TESSERACT_CMD=str(wrapper), PATH=str(empty), PERCEPT_WORKERS="1")
    try:
        scan = builders.save_image(
            builders.render(builders.text_pdf([GERMAN], font="Vera"), dpi=200), tmp_path / "de.png"
        )
        response = requests.post(srv.endpoint + DI_ANALYZE + "&locale=de-DE", headers=HEADERS, data=scan.read_bytes())
        assert response.status_code == 202, response.text
        body = _poll(response.headers["Operation-Location"])
        assert body["status"] == "succeeded", body
        content = body["analyzeResult"]["content"]
        assert cer(content, "\n".join(GERMAN)) <= 0.01
        assert {"Über", "Brücke", "großer", "Äpfel"} <= set(content.replace(".", " ").split())
    finally:
        srv.stop()
    lines = calls.read_text().splitlines()
    assert "--list-langs" in lines and any(" -l deu " in f" {line} " for line in lines)


def test_the_session_check_finds_a_process_the_tests_left() -> None:
    run_id = os.environ[MARKER]  # set by conftest in the controller, inherited here
    stray = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        assert stray.pid in {p.pid for p in leftovers(run_id, grace=0)}
    finally:
        stray.kill()
        stray.wait()
    assert stray.pid not in {p.pid for p in leftovers(run_id, grace=0)}
    assert os.getpid() not in {p.pid for p in leftovers(run_id, grace=0)}  # pytest itself is not a leftover
