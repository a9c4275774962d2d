"""A session cancelled mid-run (SIGTERM to pytest, as a CI job is cancelled) loses nothing already
produced: the finished run before it is kept, the output dir is free again at once, and the next
session recovers without cleanup."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_mlperf_nv.outlock import LOCK_FILE, holder

SUITE = ("mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios: {Offline: {offline_expected_qps: 100000}}\n"
         "    modes: [performance]\n    min_duration: 100\n")


def _session_of(run_dir: Path) -> str | None:
    try:
        return json.loads((run_dir / "result.json").read_text())["session_id"]
    except (OSError, ValueError, KeyError):
        return None


def _processes_running(spec: Path) -> list[int]:
    """Pids of the processes started on this run spec (the LoadGen child of the cancelled session)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if str(spec).encode() in (entry / "cmdline").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
    return found


def _points_to(link: Path, path: Path) -> bool:
    try:
        return os.readlink(link) == str(path)
    except OSError:
        return False


def _lock_openers(path: Path) -> str:
    """Which processes have ``path`` open, with their command lines (for a failure's message)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in [f for f in (entry / "fd").iterdir() if _points_to(f, path)]:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"pid {entry.name} fd {fd.name}: {cmdline[:300]}")
    return "processes with the lock file open: " + ("; ".join(found) or "none")


def test_a_session_cancelled_mid_run_loses_nothing_and_the_next_one_recovers(
        pytester: pytest.Pytester, mlperf_env: Path) -> None:
    pytester.makefile(".yaml", s=SUITE)
    out = pytester.path / "mlperf-results"
    run_dir = out / "runs" / "s" / "digits" / "Offline" / "performance"
    previous = run_dir.with_name(run_dir.name + ".previous")
    first = pytester.runpytest_subprocess("s.yaml", "-p", "no:cacheprovider")
    assert first.ret == pytest.ExitCode.OK, first.stdout.str()
    finished = _session_of(run_dir)
    assert finished

    # A second session whose run would last ten minutes, cancelled once its LoadGen child runs.
    command = [sys.executable, "-m", "pytest", "s.yaml", "-p", "no:cacheprovider", "-p", "no:randomly",
               "--mlperf-set", "digits.min_duration=600000", "--mlperf-timeout=900"]
    proc = subprocess.Popen(command, cwd=pytester.path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    spec = run_dir / "run_spec.json"
    try:
        deadline = time.monotonic() + 300
        while not (spec.exists() and _processes_running(spec)) and proc.poll() is None:
            assert time.monotonic() < deadline, "the second session's run never started"
            time.sleep(0.2)
        assert proc.poll() is None, "the second session ended before it was cancelled"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in _processes_running(spec):  # a child the cancelled session left behind
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    # The finished run is kept, the dir is free, the unfinished run holds no result.
    assert _session_of(previous) == finished
    assert _session_of(run_dir) is None
    # The kernel releases the lock with the last process that shares its open file: the session,
    # or a child it was forking when SIGTERM came (between fork and exec, on a busy machine, for
    # a moment). Free within seconds, never held by anything that lives on.
    deadline = time.monotonic() + 60
    while holder(out) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert holder(out) is None, _lock_openers(out / LOCK_FILE)

    third = pytester.runpytest_subprocess("s.yaml", "-p", "no:cacheprovider")
    output = third.stdout.str() + third.stderr.str()
    assert third.ret == pytest.ExitCode.OK, output
    assert "Traceback" not in output
    assert _session_of(run_dir) not in (None, finished)
    assert _session_of(previous) == finished  # the unfinished run never replaced the finished one
