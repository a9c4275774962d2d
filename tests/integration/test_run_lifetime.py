"""No LoadGen run outlives the pytest process that started it.

A cancelled CI job sends SIGTERM to pytest; a crashed or killed xdist worker dies at once.
Either way the run's child must end with it, long before its own timeout (an hour here).
Each test starts pytest as a real process, waits for the hanging child to start, ends pytest
or the worker, and polls (generously) until the child is gone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import digits_suite, write_suite

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")

HANGING_CONFTEST = '''
import threading

from pytest_mlperf_nv.harness.loadgen.backends import OnnxRuntimeBackend


class SilentBackend(OnnxRuntimeBackend):
    """Never answers."""

    def predict(self, batch):
        threading.Event().wait()


def pytest_mlperf_register(registry):
    registry.add_backend("silent", SilentBackend)
'''
STATUS = Path("mlperf-results/runs/cpu/digits/Offline/performance/child_status.json")


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _wait_for(predicate, what: str, limit_s: float = 300.0) -> None:
    end = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > end:
            pytest.fail(f"{what} did not happen within {limit_s:.0f} s")
        time.sleep(0.2)


def _child_pid(root: Path) -> int:
    def started() -> bool:
        try:
            return "pid" in json.loads((root / STATUS).read_text())
        except (OSError, ValueError):
            return False

    _wait_for(started, "the run's child start")
    return int(json.loads((root / STATUS).read_text())["pid"])


def _start_pytest(root: Path, *args: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--mlperf-timeout=3600", *args]
    return subprocess.Popen(command, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.fixture
def hanging_suite(mlperf_env: Path, pytester: pytest.Pytester) -> Path:
    pytester.makeconftest(HANGING_CONFTEST)
    offline = "      Offline: {offline_expected_qps: 2000000, min_duration: 200}\n"
    write_suite(mlperf_env, digits_suite(offline, backend="silent"))
    return mlperf_env


def test_sigterm_to_pytest_ends_the_run(hanging_suite: Path) -> None:
    session = _start_pytest(hanging_suite)
    try:
        child = _child_pid(hanging_suite)
        assert _parent_of(child) == session.pid
        session.send_signal(signal.SIGTERM)
        session.wait(timeout=300)
        _wait_for(lambda: _gone(child), "the child's end after SIGTERM to pytest")
    finally:
        _end(session)


def test_a_killed_xdist_worker_takes_its_run_with_it(hanging_suite: Path) -> None:
    session = _start_pytest(hanging_suite, "-n", "1")
    try:
        child = _child_pid(hanging_suite)
        worker = _parent_of(child)
        assert worker != session.pid
        os.kill(worker, signal.SIGKILL)
        _wait_for(lambda: _gone(child), "the child's end after its worker was killed")
    finally:
        _end(session)
