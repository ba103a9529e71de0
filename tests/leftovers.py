"""Processes a test run left behind, found by the environment variable every process the tests start inherits.

conftest.py sets ``PERCEPT_TEST_RUN`` to a fresh id in the pytest controller; servers, their forkservers, workers
and Tesseract runs, Azurite and CLI runs all inherit it, wherever they were re-parented to. The pytest processes
themselves carry it too and are left out, with the multiprocessing helpers a pytest process started for itself
(they end with it).
"""

from __future__ import annotations

import os
import time

import psutil

MARKER = "PERCEPT_TEST_RUN"
_MP_HELPERS = ("from multiprocessing.forkserver import", "from multiprocessing.resource_tracker import")


def marked(run_id: str) -> list[psutil.Process]:
    """Live processes (zombies are dead) whose environment carries this run's marker."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.status() != psutil.STATUS_ZOMBIE and proc.environ().get(MARKER) == run_id:
                found.append(proc)
        except psutil.Error:  # gone meanwhile, or another user's
            continue
    return found


def _own(me: psutil.Process) -> set[int]:
    """This pytest process, its ancestors, and the multiprocessing helpers it started for itself with theirs."""
    own = {me.pid, *(p.pid for p in me.parents())}
    for child in me.children():
        try:
            if any(h in " ".join(child.cmdline()) for h in _MP_HELPERS):
                own |= {child.pid, *(p.pid for p in child.children(recursive=True))}
        except psutil.Error:
            continue
    return own


def leftovers(run_id: str, grace: float) -> list[psutil.Process]:
    """The run's processes still alive after up to ``grace`` seconds (stragglers get that long to exit)."""
    me = psutil.Process(os.getpid())
    deadline = time.monotonic() + grace
    while True:
        own = _own(me)
        left = [p for p in marked(run_id) if p.pid not in own]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.25)


def describe(proc: psutil.Process) -> str:
    try:
        return f"pid {proc.pid}: {' '.join(proc.cmdline())[:200]}"
    except psutil.Error:
        return f"pid {proc.pid}: (gone)"


def kill(procs: list[psutil.Process]) -> None:
    for proc in procs:
        try:
            proc.kill()
        except psutil.Error:
            continue
