"""Shared fixtures: documents generated once per session, and the shared data folder when present."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import builders

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TRUTH = "\n".join(builders.PARAGRAPH)


@pytest.fixture(scope="session")
def truth() -> str:
    return TRUTH


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def digital_pdf() -> bytes:
    return builders.text_pdf([builders.PARAGRAPH, builders.PARAGRAPH[::-1]])


@pytest.fixture(scope="session")
def clean_scan() -> builders.np.ndarray:
    """The paragraph rendered at 200 dpi in Times: a clean scan with known text."""
    return builders.render(builders.text_pdf([builders.PARAGRAPH], font="Times-Roman"), dpi=200)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory):
    """One real server process for the session's SDK tests."""
    from server_harness import start_server

    srv = start_server(tmp_path_factory.mktemp("server") / "data")
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def scan_png(clean_scan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return builders.save_image(clean_scan, tmp_path_factory.mktemp("docs") / "scan.png")


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory):
    """A real Azurite blob endpoint for the session (skips where npm could not install it)."""
    from azurite import azurite_binary, running_azurite

    binary = azurite_binary()
    if binary is None:
        pytest.skip("Azurite is not installed (make install puts it in .tools; it needs npm)")
    with running_azurite(binary, tmp_path_factory.mktemp("azurite")) as endpoint:
        yield endpoint
