"""Runs one LoadGen test in a child process with its own run directory and a timeout.

LoadGen aborts or hangs its whole process when a SUT misbehaves, and its FromConfig is
once-per-process, so every run gets a fresh child in its own process group; on timeout the
whole group is killed. A watchdog process (harness/watchdog.py) kills the group too when the
runner itself dies, so no run outlives the session that started it. An automatic timeout
follows the child's own report of how long its run should take (harness/settings.py).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import HarnessError
from .settings import AUTO_TIMEOUT_CAP_S, RAISE_TIMEOUT_HINT, RunTimeout

STDOUT = "stdout.txt"
STDERR = "stderr.txt"
SPEC = "run_spec.json"
STATUS = "child_status.json"
#: the child checks that the process that started it is still this one
PARENT_ENV = "MLPERF_NV_PARENT_PID"
#: how often the runner looks at the child's status while it waits
POLL_S = 0.5


@dataclass
class ChildOutcome:
    """How the child process ended (context only: verdicts come from LoadGen's logs)."""

    returncode: int | None
    timed_out: bool
    #: the limit in force when the run ended (an automatic one after the child's report)
    timeout_s: float
    wall_s: float
    status: dict[str, Any]
    run_dir: Path
    #: where the limit came from (a setting, or how the automatic one was computed)
    timeout_source: str = ""
    #: seconds spent waiting for the device before the child started (per-device lock)
    lock_wait_s: float = 0.0
    #: how the automatic limit followed the child's report, if it did
    timeout_followed: dict[str, Any] = field(default_factory=dict)

    def stderr_tail(self, lines: int = 12) -> str:
        return tail(self.run_dir / STDERR, lines)

    def stdout_tail(self, lines: int = 12) -> str:
        return tail(self.run_dir / STDOUT, lines)

    def describe(self) -> str:
        if self.timed_out:
            text = f"the run did not finish within its timeout of {self.timeout_s:.0f} s and was killed"
            expected = self.status.get("expected_run_s")
            if isinstance(expected, (int, float)):
                text += (f" (the child expected its LoadGen run to take {expected:.3g} s: "
                         f"{self.status.get('expected_how', 'measured')})")
            source = self.timeout_source or "given"
            return f"{text}; timeout from {source}; {RAISE_TIMEOUT_HINT}"
        rc = self.returncode
        if rc is not None and rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = f"signal {-rc}"
            return f"the child process was killed by {name}"
        error = self.status.get("error")
        if error:
            return f"the run failed: {error}"
        return f"the child process exited with status {rc}"


def tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def fresh_run_dir(run_dir: Path) -> Path | None:
    """Create an empty run directory; a previous run's files are moved aside first.

    Returns where the previous files went (``<run_dir>.previous``), if there were any, so
    that a child that dies early can never leave stale logs that read as fresh.
    """
    previous = None
    if run_dir.exists():
        previous = run_dir.with_name(run_dir.name + ".previous")
        if previous.exists():
            shutil.rmtree(previous)
        run_dir.rename(previous)
    run_dir.mkdir(parents=True)
    return previous


def run_child(module: str, spec: Any, run_dir: Path, timeout: float | RunTimeout,
              env: dict[str, str] | None = None, *,
              lock: AbstractContextManager[Any] | None = None) -> ChildOutcome:
    """Start ``python -m <module> run_spec.json`` on ``spec`` in ``run_dir``; wait within ``timeout``.

    ``timeout``: seconds, or a :class:`RunTimeout`; an automatic one follows the deadline the
    child reports after measuring its speed. ``lock``: held while the child runs (the per-device
    lock of performance runs, harness/devicelock.py); waiting for it does not count against
    the timeout.
    """
    from ..runspec import write_spec

    limit = timeout if isinstance(timeout, RunTimeout) else RunTimeout(float(timeout))
    spec_path = run_dir / SPEC
    write_spec(spec_path, spec)
    child_env = dict(os.environ if env is None else env)
    # Keep numeric libraries in the child from starting one thread per core each.
    child_env.setdefault("OMP_NUM_THREADS", str(spec.get("threads", 1)))
    child_env[PARENT_ENV] = str(os.getpid())
    waited = time.monotonic()
    with lock if lock is not None else nullcontext():
        waited = time.monotonic() - waited
        outcome = run_process([sys.executable, "-m", module, str(spec_path)],
                              cwd=run_dir, run_dir=run_dir, timeout_s=limit, env=child_env,
                              follow_status=limit.auto)
    outcome.lock_wait_s = waited
    return outcome


def run_process(command: list[str], *, cwd: Path, run_dir: Path, timeout_s: float | RunTimeout,
                env: dict[str, str], follow_status: bool = False) -> ChildOutcome:
    """Run ``command`` in its own process group with output in ``run_dir``; kill the group on timeout.

    ``follow_status``: move the deadline out to the one the child reports in its status file
    (``deadline``, epoch seconds), bounded by AUTO_TIMEOUT_CAP_S from the start.
    """
    limit = timeout_s if isinstance(timeout_s, RunTimeout) else RunTimeout(float(timeout_s))
    start = time.monotonic()
    start_wall = time.time()
    limit_s = limit.seconds  # from the start; an automatic one may move out
    followed: dict[str, Any] = {}
    status_path = run_dir / STATUS
    with open(run_dir / STDOUT, "wb") as out, open(run_dir / STDERR, "wb") as err:
        try:
            proc = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                    env=env, start_new_session=True)
        except OSError as exc:
            raise HarnessError(f"cannot start {command[0]}: {exc}") from None
        watchdog = _Watchdog.start(proc.pid, start_wall + limit.seconds)
        timed_out = False
        try:
            while True:
                remaining = start + limit_s - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    _kill_group(proc)
                    break
                try:
                    proc.wait(timeout=min(remaining, POLL_S))
                    break
                except subprocess.TimeoutExpired:
                    pass
                if follow_status:
                    reported = _reported_deadline(status_path)
                    if reported is not None:
                        moved = followed_limit_s(limit_s, reported - start_wall)
                        if moved > limit_s:
                            limit_s = moved
                            followed = {"reported_deadline_s": round(reported - start_wall, 3)}
                            watchdog.move(start_wall + limit_s)
        except BaseException:
            _kill_group(proc)  # Ctrl-C or a pytest timeout: never leave the run behind
            raise
        finally:
            watchdog.done()
    status = {}
    try:
        status = json.loads(status_path.read_text())
    except (OSError, ValueError):
        pass
    if not isinstance(status, dict):
        status = {}
    return ChildOutcome(returncode=proc.returncode, timed_out=timed_out, timeout_s=limit_s,
                        wall_s=time.monotonic() - start, status=status, run_dir=run_dir,
                        timeout_source=limit.source, timeout_followed=followed)


def followed_limit_s(limit_s: float, reported_s: float) -> float:
    """The limit (seconds from the start) after the child reported a deadline ``reported_s`` from the start.

    Only ever later, and never past AUTO_TIMEOUT_CAP_S: a child that under-estimates cannot
    shorten the limit the settings gave, and one that reports nonsense cannot remove it.
    """
    if not math.isfinite(reported_s):
        return limit_s
    return max(limit_s, min(reported_s, AUTO_TIMEOUT_CAP_S))


def _reported_deadline(path: Path) -> float | None:
    """The deadline (epoch seconds) the child reported, if it has and it is a number."""
    try:
        status = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    value = status.get("deadline") if isinstance(status, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


class _Watchdog:
    """The watchdog process of one run (see harness/watchdog.py)."""

    def __init__(self, proc: subprocess.Popen | None):
        self.proc = proc

    @classmethod
    def start(cls, pgid: int, deadline: float) -> _Watchdog:
        try:
            proc = subprocess.Popen([sys.executable, "-m", "pytest_mlperf_nv.harness.watchdog", str(pgid),
                                     repr(deadline)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError:
            return cls(None)  # the runner still enforces the deadline while it lives
        return cls(proc)

    def _send(self, line: str) -> None:
        if self.proc is None or self.proc.stdin is None:
            return
        try:
            self.proc.stdin.write(line.encode("ascii") + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass

    def move(self, deadline: float) -> None:
        self._send(f"deadline {deadline!r}")

    def done(self) -> None:
        if self.proc is None:
            return
        self._send("done")
        try:
            self.proc.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
