"""Shared fixtures: documents generated once per session, the shared data folder and Azurite.

Under ``CI=true`` nothing may skip: a missing dependency fails its tests (needs.py), and any other skip is turned
into a failure by the report hook below, so a green CI means every test ran.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import builders
from needs import in_ci, missing

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TRUTH = "\n".join(builders.PARAGRAPH)


@pytest.fixture(scope="session")
def truth() -> str:
    return TRUTH


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        missing(f"the shared data folder {SHARED_DATA} (../shared/data beside the clone) is not present")
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
    """A real Azurite blob endpoint for the session (skips where npm could not install it; fails under CI)."""
    from azurite import azurite_binary, running_azurite

    binary = azurite_binary()
    if binary is None:
        missing("Azurite is not installed (scripts/install.sh puts it in .tools with npm; install nodejs and npm)")
    with running_azurite(binary, tmp_path_factory.mktemp("azurite")) as endpoint:
        yield endpoint


@pytest.fixture
def unwritable_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``XDG_CACHE_HOME`` where nothing can be written, as under a read-only home, while the test runs."""
    tmp_path.chmod(0o500)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    try:
        if os.access(tmp_path, os.W_OK):  # root writes anywhere: a file where the folder would go blocks it
            tmp_path.chmod(0o700)
            (tmp_path / "cache").write_text("not a folder")
        yield
    finally:
        tmp_path.chmod(0o700)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Under CI=true a skip from anywhere (``skip``, ``skipif``, ``importorskip``) is a failure with its reason."""
    outcome = yield
    report = outcome.get_result()
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"CI=true forbids skipping ({item.nodeid}): {reason}"


# Processes left behind: every process the tests start (servers and their forkservers, workers and Tesseract runs,
# Azurite, CLI runs) inherits PERCEPT_TEST_RUN; the controller fails the run if any is alive at the end.


def pytest_configure(config: pytest.Config) -> None:
    """A fresh run id in the controller, before xdist starts its workers (they and their children inherit it)."""
    import os
    import uuid

    from leftovers import MARKER

    if not hasattr(config, "workerinput"):
        os.environ[MARKER] = uuid.uuid4().hex


@pytest.hookimpl(trylast=True)  # after xdist's own sessionfinish has ended its workers
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run (not only warn) when a process it started is still alive a few seconds after the tests."""
    import os

    from leftovers import MARKER, describe, kill, leftovers

    run_id = os.environ.get(MARKER)
    if hasattr(session.config, "workerinput") or not run_id:
        return
    left = leftovers(run_id, grace=10)
    if not left:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [describe(p) for p in left]
    kill(left)  # this run's own processes, by pid: the next run must not find them
    message = f"{len(left)} process(es) started by the tests outlived them (killed now):\n  " + "\n  ".join(lines)
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_sep("=", "processes left behind", red=True)
        reporter.write_line(message)
    else:
        print(message, file=sys.stderr)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
