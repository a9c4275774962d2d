"""README's two commands with every core saturated by other work: load may change figures, never verdicts.

    python benchmarks/ci_under_load.py [--what suite|tests|both] [--load-factor 2] [--no-load]
                                       [--fresh-venv] [--record benchmarks/results/NAME.md]
                                       [--keep-output DIR]

Starts a load generator that keeps every core busy (``stress-ng --cpu N`` where it is
installed, else N Python busy-loop processes; N = load factor x cores), then runs
``pytest suites/cpu.yaml`` and/or ``pytest tests`` from the repository root in a fresh
cache, output and HOME (as a fresh machine would), and prints for each: the command, its
exit status, the pytest summary line, its wall time, and the load average before, during and
after. ``--fresh-venv`` runs README's commands verbatim instead (a new venv, ``pip install``,
then pytest). ``--record`` also writes the report to a file, ``--keep-output`` each
command's whole output. The machine's other work counts
too: the report gives the load average, not only the generator's share.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import multiprocessing
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README_COMMANDS = {
    "suite": 'python3.11 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/pytest suites/cpu.yaml',
    "tests": 'python3.11 -m venv .venv && .venv/bin/pip install -q -e ".[test]" && .venv/bin/pytest tests',
}


def _spin() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    x = 0
    while True:
        x += 1


class Load:
    """Busy work on every core until stopped."""

    def __init__(self, processes: int):
        self.processes = processes
        self.stress: subprocess.Popen | None = None
        self.spinners: list[multiprocessing.Process] = []
        self.description = ""

    def __enter__(self) -> Load:
        if self.processes <= 0:
            self.description = "none"
            return self
        stress = shutil.which("stress-ng")
        if stress:
            self.stress = subprocess.Popen([stress, "--cpu", str(self.processes), "--quiet"],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.description = f"stress-ng --cpu {self.processes}"
        else:
            for _ in range(self.processes):
                proc = multiprocessing.Process(target=_spin, daemon=True)
                proc.start()
                self.spinners.append(proc)
            self.description = f"{self.processes} Python busy-loop processes (stress-ng not installed)"
        return self

    def __exit__(self, *exc: object) -> None:
        if self.stress is not None:
            self.stress.terminate()
            self.stress.wait()
        for proc in self.spinners:
            proc.terminate()
        for proc in self.spinners:
            proc.join()


class LoadAverage:
    """Samples the 1-minute load average every few seconds while a command runs."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(5.0):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadAverage:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def text(self) -> str:
        if not self.samples:
            return "n/a"
        return (f"min {min(self.samples):.1f}, mean {sum(self.samples) / len(self.samples):.1f}, "
                f"max {max(self.samples):.1f}")


def _summary(output: str) -> str:
    lines = [ln.strip("= ") for ln in output.splitlines() if re.search(r"\d+ (passed|failed|error)", ln)]
    return lines[-1] if lines else "(no pytest summary line)"


def run_one(what: str, fresh_venv: bool, work: Path, timeout_s: float) -> dict[str, object]:
    home = work / f"home-{what}"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLPERF_NV_", "PYTEST_"))}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    if fresh_venv:
        checkout = work / f"checkout-{what}"
        shutil.copytree(REPO, checkout, ignore=shutil.ignore_patterns(".venv", "mlperf-results", "*.egg-info",
                                                                       "__pycache__", ".pytest_cache"))
        command, cwd, shell = README_COMMANDS[what], checkout, True
    else:
        target = "suites/cpu.yaml" if what == "suite" else "tests"
        out = work / f"out-{what}"
        command = [sys.executable, "-m", "pytest", target, "-p", "no:cacheprovider"]
        if what == "suite":
            command.append(f"--mlperf-out={out}")
        cwd, shell = REPO, False
    before = os.getloadavg()[0]
    start = time.perf_counter()
    with LoadAverage() as during:
        try:
            proc = subprocess.run(command, cwd=cwd, env=env, shell=shell, capture_output=True, text=True,
                                  timeout=timeout_s)
            returncode, output = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            returncode = "timed out"
            output = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) \
                else str(exc.stdout or "")
    wall = time.perf_counter() - start
    return {"what": what, "command": command if isinstance(command, str) else " ".join(command[1:]),
            "returncode": returncode, "summary": _summary(output), "wall_s": wall,
            "load_before": before, "load_during": during.text(), "load_after": os.getloadavg()[0],
            "failures": [ln for ln in output.splitlines() if ln.startswith(("FAILED", "ERROR"))][:20],
            "output": output}


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=30).stdout.strip() or "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--what", choices=("suite", "tests", "both"), default="both")
    parser.add_argument("--load-factor", type=float, default=2.0,
                        help="busy processes per core (default 2: every core saturated twice over)")
    parser.add_argument("--no-load", action="store_true", help="the same runs without the load generator")
    parser.add_argument("--fresh-venv", action="store_true", help="README's commands verbatim (new venv)")
    parser.add_argument("--timeout", type=float, default=3 * 3600, help="per command, seconds")
    parser.add_argument("--record", type=Path, help="also write the report to this file")
    parser.add_argument("--keep-output", type=Path, metavar="DIR",
                        help="write each command's whole output to DIR/<what>.log")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    processes = 0 if args.no_load else max(1, round(args.load_factor * cores))
    whats = ("suite", "tests") if args.what == "both" else (args.what,)
    header = [f"# benchmarks/ci_under_load.py, {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%dT%H:%MZ}",
              f"machine: {cores} cores, {platform.machine()}, Python {platform.python_version()}, "
              f"commit {_git_commit()}",
              f"arguments: {' '.join(sys.argv[1:]) or '(defaults)'}"]
    report = list(header)
    print("\n".join(header), flush=True)
    with tempfile.TemporaryDirectory(prefix="ci-under-load-") as tmp, Load(processes) as load:
        line = f"load generator: {load.description}"
        report.append(line)
        print(line, flush=True)
        ok = True
        for what in whats:
            result = run_one(what, args.fresh_venv, Path(tmp), args.timeout)
            if args.keep_output:
                args.keep_output.mkdir(parents=True, exist_ok=True)
                (args.keep_output / f"{what}.log").write_text(str(result["output"]))
            ok = ok and result["returncode"] == 0
            lines = [f"\n## {what}", f"$ {result['command']}",
                     f"exit status {result['returncode']}: {result['summary']}",
                     f"wall {result['wall_s']:.1f} s; load average before {result['load_before']:.1f}, "
                     f"during ({result['load_during']}), after {result['load_after']:.1f}"]
            lines += [f"  {ln}" for ln in result["failures"]]
            report += lines
            print("\n".join(lines), flush=True)
    if args.record:
        args.record.parent.mkdir(parents=True, exist_ok=True)
        args.record.write_text("\n".join(report) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
