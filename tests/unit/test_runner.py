"""The runner's time limits: fixed and automatic timeouts, and no run outliving its parent.

The processes here are plain commands (sh, sleep), so every check is about the mechanism:
which limit is in force, who kills what. Waits for a process to go away are generous polls,
never a measured time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pytest_mlperf_nv.harness.runner import STATUS, followed_limit_s, run_process
from pytest_mlperf_nv.harness.settings import AUTO_TIMEOUT_CAP_S, RunTimeout

REPO = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return dict(os.environ)


def _write_status(run_dir: Path, deadline_from_now: float) -> None:
    status = {"status": "running", "deadline": time.time() + deadline_from_now,
              "expected_run_s": 12.5, "expected_how": "a test's own words"}
    (run_dir / STATUS).write_text(json.dumps(status))


def test_an_automatic_limit_moves_out_to_the_deadline_the_child_reports(tmp_path: Path) -> None:
    # The report is there before the child starts: the runner's first look finds it, before
    # the initial one-second limit can be checked again.
    _write_status(tmp_path, 600)
    outcome = run_process(["sleep", "3"], cwd=tmp_path, run_dir=tmp_path, env=_env(), follow_status=True,
                          timeout_s=RunTimeout(1.0, "auto: a test", auto=True))
    assert not outcome.timed_out and outcome.returncode == 0, outcome.describe()
    assert outcome.timeout_s > 500
    assert outcome.timeout_followed["reported_deadline_s"] > 500


def test_a_fixed_limit_ignores_the_childs_report(tmp_path: Path) -> None:
    _write_status(tmp_path, 600)
    outcome = run_process(["sleep", "600"], cwd=tmp_path, run_dir=tmp_path, env=_env(),
                          timeout_s=RunTimeout(1.0, "command-line option --mlperf-timeout='1'"))
    assert outcome.timed_out and outcome.timeout_s == 1.0
    assert outcome.wall_s < 300  # killed at its limit, not at the reported deadline


def test_followed_limit_only_moves_out_and_is_capped() -> None:
    assert followed_limit_s(100.0, 50.0) == 100.0  # an early report never shortens the limit
    assert followed_limit_s(100.0, 500.0) == 500.0
    assert followed_limit_s(100.0, 1e15) == AUTO_TIMEOUT_CAP_S
    assert followed_limit_s(100.0, float("nan")) == 100.0
    assert followed_limit_s(100.0, float("inf")) == 100.0


@pytest.mark.parametrize("value", ["not a number", None, True, "NaN"])
def test_a_report_that_is_no_number_is_ignored(tmp_path: Path, value: object) -> None:
    (tmp_path / STATUS).write_text(json.dumps({"deadline": value}).replace('"NaN"', "NaN"))
    outcome = run_process(["sleep", "1"], cwd=tmp_path, run_dir=tmp_path, env=_env(), follow_status=True,
                          timeout_s=RunTimeout(300.0, "auto: a test", auto=True))
    assert outcome.timeout_s == 300.0 and not outcome.timeout_followed


def test_a_timed_out_run_says_which_setting_raises_the_limit(tmp_path: Path) -> None:
    _write_status(tmp_path, 0)
    outcome = run_process(["sleep", "600"], cwd=tmp_path, run_dir=tmp_path, env=_env(),
                          timeout_s=RunTimeout(1.0, "command-line option --mlperf-timeout='1'"))
    text = outcome.describe()
    assert text.startswith("the run did not finish within its timeout of 1 s and was killed")
    assert "timeout from command-line option --mlperf-timeout='1'" in text
    assert "the child expected its LoadGen run to take 12.5 s: a test's own words" in text
    for setting in ("'timeout: SECONDS' in the suite", "--mlperf-timeout", "MLPERF_NV_TIMEOUT"):
        assert setting in text


def _gone(pid: int) -> bool:
    """Not running any more: no such process, or a zombie nobody has reaped yet."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def _wait_for(predicate, what: str, limit_s: float = 120.0) -> None:
    """Poll until ``predicate()``; a generous limit only ends a test that would hang."""
    end = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > end:
            pytest.fail(f"{what} did not happen within {limit_s:.0f} s")
        time.sleep(0.1)


def _read_pid(path: Path) -> int:
    _wait_for(lambda: path.is_file() and path.read_text().strip().isdigit(), f"{path} written")
    return int(path.read_text())


PARENT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from pytest_mlperf_nv.harness.runner import run_process
    from pytest_mlperf_nv.harness.settings import RunTimeout
    import os
    run_dir = Path(sys.argv[1])
    run_process(["sh", "-c", "echo $$ > pid.tmp && mv pid.tmp pid && exec sleep 3600"], cwd=run_dir,
                run_dir=run_dir, env=dict(os.environ), timeout_s=RunTimeout(3600.0, "a test"))
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_the_watchdog_kills_the_run_when_its_parent_dies(tmp_path: Path, signum: int) -> None:
    # A plain command, not the plugin's child: only the watchdog can end it.
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(tmp_path)], cwd=REPO,
                              start_new_session=True)
    try:
        child = _read_pid(tmp_path / "pid")
        assert not _gone(child)
        os.kill(parent.pid, signum)
        parent.wait(timeout=120)
        _wait_for(lambda: _gone(child), "the run's end after its parent died")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


CHILD = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from pytest_mlperf_nv.harness.loadgen.child import die_with_parent
    die_with_parent()
    Path(sys.argv[1], "pid.tmp").write_text(str(os.getpid()))
    os.replace(Path(sys.argv[1], "pid.tmp"), Path(sys.argv[1], "pid"))
    time.sleep(3600)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and /proc (Linux)")
def test_the_child_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    # Without any watchdog: the child's own request to the kernel (PR_SET_PDEATHSIG).
    starter = textwrap.dedent(f"""
        import os, subprocess, sys, time
        env = dict(os.environ, MLPERF_NV_PARENT_PID=str(os.getpid()))
        subprocess.Popen([sys.executable, "-c", {CHILD!r}, {str(tmp_path)!r}], env=env,
                         start_new_session=True)
        time.sleep(3600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", starter], cwd=REPO, start_new_session=True)
    try:
        child = _read_pid(tmp_path / "pid")
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=120)
        _wait_for(lambda: _gone(child), "the child's end after its parent died")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_the_watchdog_leaves_a_run_that_ended_normally_alone(tmp_path: Path) -> None:
    outcome = run_process(["sh", "-c", "exit 0"], cwd=tmp_path, run_dir=tmp_path, env=_env(),
                          timeout_s=RunTimeout(3600.0, "a test"))
    assert outcome.returncode == 0 and not outcome.timed_out
