"""Page work on Ray (``PERCEPT_EXECUTOR=ray``): a real server with its private Ray instance reads documents, fails
bad ones with the local pool's codes, survives a Ray worker killed mid-page, and leaves no Ray process behind
after a SIGTERM or a kill -9."""

from __future__ import annotations

import io
import ipaddress
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import builders
import needs
import psutil
import pytest
import requests
from PIL import Image
from server_harness import KEY, Server, describe, start_server, wait_gone

HEADERS = {"Ocp-Apim-Subscription-Key": KEY}
DI_ANALYZE = "/documentintelligence/documentModels/prebuilt-read:analyze?api-version=2024-11-30"
RAY_ENV = {"PERCEPT_EXECUTOR": "ray", "PERCEPT_WORKERS": "2", "PERCEPT_RAY_ADDRESS": ""}


@pytest.fixture(scope="module")
def ray_server(tmp_path_factory: pytest.TempPathFactory):
    needs.module("ray", "the ray extra (pip install percept[ray])")
    srv = start_server(tmp_path_factory.mktemp("ray") / "data", **RAY_ENV)
    yield srv
    srv.kill()


def _poll(url: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = requests.get(url, headers=HEADERS, timeout=30).json()
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"{url} did not finish: {body}")


def _analyze(srv: Server, data: bytes) -> str:
    response = requests.post(srv.endpoint + DI_ANALYZE, headers=HEADERS, data=data, timeout=30)
    assert response.status_code == 202, response.text
    return response.headers["Operation-Location"]


def _keeper(srv: Server) -> psutil.Process:
    for child in psutil.Process(srv.process.pid).children():
        if "percept.ray_head" in " ".join(child.cmdline()):
            return child
    raise AssertionError(f"no Ray head under the server: {describe(psutil.Process(srv.process.pid).children())}")


def _instance(keeper_pid: int) -> list[psutil.Process]:
    """The keeper and every process in its session: the whole private Ray instance."""
    found = []
    for proc in psutil.process_iter():
        try:
            if os.getsid(proc.pid) == keeper_pid and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (OSError, psutil.Error):
            continue
    return found


def _loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def test_a_ray_server_reads_a_scanned_document_listening_on_loopback_only(ray_server: Server, clean_scan, truth):
    body = _poll(_analyze(ray_server, builders.image_pdf([clean_scan] * 4)))
    assert body["status"] == "succeeded", body
    result = body["analyzeResult"]
    assert [p["pageNumber"] for p in result["pages"]] == [1, 2, 3, 4]
    assert result["content"].count(truth.splitlines()[0]) == 4

    instance = _instance(_keeper(ray_server).pid)
    names = " ".join(p.name() for p in instance)
    assert "gcs_server" in names and "raylet" in names, describe(instance)
    for proc in instance:
        for conn in proc.net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN:
                assert _loopback(conn.laddr.ip), f"{describe([proc])} listens on {conn.laddr}"


def _tiff_with_a_corrupt_frame() -> bytes:
    """Three deflated frames, the second damaged: it validates (headers only), and a worker cannot decode it."""
    frame = Image.fromarray(builders.render(builders.text_pdf([builders.PARAGRAPH]), dpi=100))
    out = io.BytesIO()
    frame.save(out, format="TIFF", save_all=True, append_images=[frame, frame], compression="tiff_deflate")
    data = bytearray(out.getvalue())
    middle = len(data) // 2
    data[middle : middle + 2000] = b"\xff" * 2000
    return bytes(data)


def test_a_corrupt_page_fails_the_document_as_on_the_local_pool(ray_server: Server) -> None:
    body = _poll(_analyze(ray_server, _tiff_with_a_corrupt_frame()))
    assert body["status"] == "failed", body
    error = body["error"]
    assert (error["code"], error["innererror"]["code"]) == ("InvalidRequest", "InvalidContent"), error
    assert error["innererror"]["message"].startswith("The image is corrupt or truncated: decoder error"), error


def test_a_ray_worker_killed_mid_page_is_retried(ray_server: Server, clean_scan, truth) -> None:
    keeper = _keeper(ray_server).pid
    location = _analyze(ray_server, builders.image_pdf([clean_scan] * 4))
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:
        busy = [p for p in _instance(keeper) if "run_page_task" in p.name() or "run_page_task" in _cmd(p)]
        victim = busy[0] if busy else None
        time.sleep(0.02)
    assert victim is not None, "no Ray worker ever ran a page"
    victim.send_signal(signal.SIGKILL)
    body = _poll(location)
    assert body["status"] == "succeeded", body
    assert body["analyzeResult"]["content"].count(truth.splitlines()[0]) == 4
    assert not wait_gone([victim], 5)


def _cmd(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:
        return ""


def test_nothing_of_ray_outlives_a_stopped_server(ray_server: Server) -> None:
    instance = _instance(_keeper(ray_server).pid)
    assert len(instance) >= 4, describe(instance)
    ray_server.stop()  # SIGTERM to the group: a graceful stop (asserts its descendants are gone)
    assert not wait_gone(instance, 10), describe(wait_gone(instance, 0))


def test_nothing_of_ray_outlives_a_server_killed_with_sigkill(tmp_path: Path, clean_scan) -> None:
    needs.module("ray", "the ray extra (pip install percept[ray])")
    # A temporary folder of this server's own (short: Ray's socket paths are limited), so a Ray instance another
    # test starts meanwhile under xdist is not taken for this one's leftover.
    own_tmp = Path(tempfile.mkdtemp(prefix="prt-"))
    srv = start_server(tmp_path / "data", TMPDIR=str(own_tmp), **RAY_ENV)
    instance: list[psutil.Process] = []
    try:
        keeper = _keeper(srv).pid
        _analyze(srv, builders.image_pdf([clean_scan] * 4))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until Ray workers are reading pages
            instance = _instance(keeper)
            if any("run_page_task" in p.name() or "run_page_task" in _cmd(p) for p in instance):
                break
            time.sleep(0.05)
        assert len(instance) >= 4, describe(instance)
        srv.kill_server_only()  # as the OOM killer does: nothing else gets a signal
        left = wait_gone(instance, 10)
        assert not left, f"still running 10 s after the server died: {describe(left)}"
        assert sorted(own_tmp.glob("percept-ray-*")) == []  # its temporary directory went with it
    finally:
        for proc in wait_gone(instance, 0):
            proc.kill()
        srv.kill()
        shutil.rmtree(own_tmp, ignore_errors=True)
