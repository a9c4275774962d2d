"""Runs one LoadGen test in a child process with its own run directory and a timeout.

LoadGen aborts or hangs its whole process when a SUT misbehaves, and its FromConfig is
once-per-process, so every run gets a fresh child in its own process group; on timeout the
whole group is killed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import HarnessError

STDOUT = "stdout.txt"
STDERR = "stderr.txt"
SPEC = "run_spec.json"


@dataclass
class ChildOutcome:
    """How the child process ended (context only: verdicts come from LoadGen's logs)."""

    returncode: int | None
    timed_out: bool
    timeout_s: float
    wall_s: float
    status: dict[str, Any]
    run_dir: Path

    def stderr_tail(self, lines: int = 12) -> str:
        return tail(self.run_dir / STDERR, lines)

    def stdout_tail(self, lines: int = 12) -> str:
        return tail(self.run_dir / STDOUT, lines)

    def describe(self) -> str:
        if self.timed_out:
            return f"the run did not finish within its timeout of {self.timeout_s:.0f} s and was killed"
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


def run_child(module: str, spec: Any, run_dir: Path, timeout_s: float,
              env: dict[str, str] | None = None) -> ChildOutcome:
    """Start ``python -m <module> run_spec.json`` on ``spec`` in ``run_dir``; wait up to ``timeout_s`` s."""
    from ..runspec import write_spec

    spec_path = run_dir / SPEC
    write_spec(spec_path, spec)
    child_env = dict(os.environ if env is None else env)
    # Keep numeric libraries in the child from starting one thread per core each.
    child_env.setdefault("OMP_NUM_THREADS", str(spec.get("threads", 1)))
    return run_process([sys.executable, "-m", module, str(spec_path)],
                       cwd=run_dir, run_dir=run_dir, timeout_s=timeout_s, env=child_env)


def run_process(command: list[str], *, cwd: Path, run_dir: Path, timeout_s: float,
                env: dict[str, str]) -> ChildOutcome:
    """Run ``command`` in its own process group with output in ``run_dir``; kill the group on timeout."""
    start = time.monotonic()
    with open(run_dir / STDOUT, "wb") as out, open(run_dir / STDERR, "wb") as err:
        try:
            proc = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                    env=env, start_new_session=True)
        except OSError as exc:
            raise HarnessError(f"cannot start {command[0]}: {exc}") from None
        timed_out = False
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
        except BaseException:
            _kill_group(proc)  # Ctrl-C or a pytest timeout: never leave the run behind
            raise
    status = {}
    try:
        status = json.loads((run_dir / "child_status.json").read_text())
    except (OSError, ValueError):
        pass
    return ChildOutcome(returncode=proc.returncode, timed_out=timed_out, timeout_s=timeout_s,
                        wall_s=time.monotonic() - start, status=status, run_dir=run_dir)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
