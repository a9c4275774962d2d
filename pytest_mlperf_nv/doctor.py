"""``mlperf-nv doctor [suite…]``: is this machine ready to run the suites?

Each registered harness checks what it needs (:meth:`Harness.doctor`; NVIDIA's code, this machine and
the suites for harness nvidia); every problem comes with its fix. The exit status is 0 without
problems, 1 with (for CI). ``--mlperf-doctor`` runs the same check at session start.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .registry import Registry


@dataclass
class Finding:
    """One line of the report: ``ok``, ``note`` or ``problem`` (a problem carries its fix)."""

    level: str
    subject: str
    message: str
    fix: str | None = None

    def text(self) -> str:
        mark = {"ok": "ok     ", "note": "note   ", "problem": "PROBLEM"}[self.level]
        line = f"  {mark} {self.subject}: {self.message}"
        return line + (f"\n          fix: {self.fix}" if self.fix else "")


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def add(self, level: str, subject: str, message: str, fix: str | None = None) -> None:
        self.findings.append(Finding(level, subject, message, fix))

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "problem"]

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        lines = ["mlperf-nv doctor", *(f.text() for f in self.findings)]
        verdict = "ready" if self.ok else f"{len(self.problems)} problem(s)"
        lines.append(f"result: {verdict}")
        return "\n".join(lines)


@dataclass
class DoctorCheck:
    """What a harness's doctor is asked about, and the report it adds its findings to."""

    report: Report
    #: the code dir a harness runs (harness nvidia: NVIDIA's closed/NVIDIA directory), if given
    code_dir: Path | None = None
    #: the round of that code, if given
    version: str | None = None
    #: the machine's facts (None: detect this machine)
    facts: Any = None
    #: the facts are a recorded machine, not this one
    snapshot: bool = False


def diagnose(suites: list[Path], *, code_dir: Path | None = None, version: str | None = None,
             facts: Any = None, snapshot: bool = False, registry: Registry | None = None) -> Report:
    """The report for ``suites`` (none: every harness checks the machine only).

    ``facts``: the machine (default: detected through NVML). ``snapshot``: the facts are a recorded
    machine, so harnesses ask about them instead of probing this one.
    """
    from .errors import MlperfError
    from .registry import Registry, register_builtins
    from .suite.profiles import apply_profile
    from .suite.schema import load_suite
    from .systems.detect import detect_system

    if registry is None:
        registry = Registry()
        register_builtins(registry)
    check = DoctorCheck(Report(), code_dir, version, facts, snapshot)
    machine = (lambda: facts) if facts is not None else detect_system
    by_harness: dict[str, list[Any]] = {}
    for path in suites:
        try:
            suite = load_suite(Path(path), registry)
            apply_profile(suite, machine)
        except MlperfError as exc:
            check.report.add("problem", str(path), str(exc).splitlines()[0],
                             "correct the suite (the line is named above)")
            continue
        by_harness.setdefault(suite.harness, []).append(suite)
    for name, harness in registry.harnesses.items():
        if suites and name not in by_harness:
            continue
        harness.doctor(by_harness.get(name, []), check)
    return check.report


def doctor_main(argv: list[str] | None = None) -> int:
    """``mlperf-nv doctor [suite…] [--code-dir DIR] [--version V] [--snapshot FILE]``."""
    parser = argparse.ArgumentParser(prog="mlperf-nv doctor",
                                     description="Check that NVIDIA's code, this machine and the suites fit "
                                                 "together (inside NVIDIA's container). Exit status 0: "
                                                 "ready; 1: problems, each with its fix.")
    parser.add_argument("suites", nargs="*", help="suite files to check item by item")
    parser.add_argument("--code-dir", help="NVIDIA's closed/NVIDIA directory (default: "
                                           "MLPERF_NV_NVIDIA_CODE_DIR, else the suites' nvidia.code_dir)")
    parser.add_argument("--version", choices=("v4.1", "v5.0"), help="round of NVIDIA's code (default: "
                                                                    "detected)")
    parser.add_argument("--snapshot", metavar="FILE", help="check a recorded machine (mlperf-nv snapshot) "
                                                           "instead of this one")
    args = parser.parse_args(argv)
    facts = None
    if args.snapshot:
        from .systems.snapshot import SnapshotError, read_snapshot

        try:
            facts = read_snapshot(args.snapshot)
        except SnapshotError as exc:
            print(f"mlperf-nv doctor: {exc}", file=sys.stderr)
            return 2
    code_dir = args.code_dir or os.environ.get("MLPERF_NV_NVIDIA_CODE_DIR")
    missing = [s for s in args.suites if not Path(s).is_file()]
    if missing:
        print(f"mlperf-nv doctor: no such suite file: {', '.join(missing)}", file=sys.stderr)
        return 2
    report = diagnose([Path(s) for s in args.suites], code_dir=Path(code_dir) if code_dir else None,
                      version=args.version, facts=facts, snapshot=facts is not None)
    print(report.text())
    return 0 if report.ok else 1


def session_check(session: Any) -> None:
    """``--mlperf-doctor``: the doctor's report at session start, for the suites named on the command line;
    the session stops (exit status 1) when it finds a problem."""
    import pytest

    from .session import SESSION_KEY

    config = session.config
    state = config.stash[SESSION_KEY]
    if not state.settings.get("doctor") or hasattr(config, "workerinput"):
        return
    code_dir = state.settings.get("nvidia_code_dir")
    snapshot = state.settings.get("system_snapshot")
    report = diagnose(sorted(state.suite_args), code_dir=Path(code_dir) if code_dir else None,
                      version=state.settings.get("nvidia_version"),
                      facts=state.system() if snapshot else None,
                      snapshot=bool(snapshot), registry=state.get_registry())
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if not report.ok:
        pytest.exit(report.text() + "\n(--mlperf-doctor: fix the problems above, then run again)",
                    returncode=1)
    if terminal is not None:
        terminal.write_line(report.text())
