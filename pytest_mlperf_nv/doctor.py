"""``mlperf-nv doctor [suite…]``: is this machine ready to run the suites on NVIDIA's code?

For inside NVIDIA's container: the code dir and its round; the hardware and the NVIDIA system it
matches (asked of NVIDIA's own detection), or the custom system the plugin would write; per suite
item: a registered config, knobs NVIDIA reads, data and model prepared, engine built. Every problem
comes with its fix; the exit status is 0 without problems, 1 with (for CI). ``--mlperf-doctor`` runs
the same check at session start.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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


def diagnose(suites: list[Path], *, code_dir: Path | None = None, version: str | None = None,
             facts: Any = None, snapshot: bool = False) -> Report:
    """The report for ``suites`` (none: the code dir and the machine only).

    ``facts``: the machine (default: detected through NVML). ``snapshot``: the facts are a recorded
    machine, so NVIDIA's detection is asked about them instead of probing this one.
    """
    from .harness.nvidia import run as nvidia
    from .systems.detect import detect_system

    report = Report()
    loaded = [_load(path, report, facts) for path in suites]
    loaded = [s for s in loaded if s is not None]
    if suites and not loaded and report.ok:
        return report  # no suite runs on NVIDIA's code: nothing of NVIDIA's to check
    if code_dir is None:
        code_dir = next((Path(s.nvidia["code_dir"].value) for s in loaded if "code_dir" in s.nvidia), None)
    problem = nvidia.code_dir_problem(code_dir)
    if problem:
        report.add("problem", "code dir", problem.split(": ", 1)[0],
                   problem.split(": ", 1)[1] if ": " in problem else None)
        return report
    assert code_dir is not None
    version = version or next((s.nvidia["version"].value for s in loaded if "version" in s.nvidia), None) \
        or nvidia.detect_version(code_dir)
    if version is None:
        unsupported = nvidia.unsupported_version(code_dir)
        if unsupported:
            report.add("problem", "code dir", unsupported.split("; ")[0], unsupported.split("; ", 1)[1])
        else:
            report.add("problem", "code dir", f"cannot tell the round of NVIDIA's code at {code_dir}",
                       "set nvidia.version (v4.1 or v5.0) in the suite or --mlperf-nvidia-version")
        return report
    report.add("ok", "code dir", f"{code_dir} (NVIDIA's {version} code)")
    # Live only: a recorded machine's make (NVIDIA's container there) is not this machine's.
    if not snapshot:
        nvidia.make_environment(code_dir)
    if not snapshot and str(code_dir) in nvidia.ENV_PROBLEMS:
        report.add("problem", "NVIDIA's Makefile", nvidia.ENV_PROBLEMS[str(code_dir)],
                   "run inside NVIDIA's MLPerf container, where its make stages and environment work")
    facts = facts if facts is not None else detect_system()
    from .systems.snapshot import summary

    if not facts.gpus:
        report.add("problem", "hardware", f"no NVIDIA GPU ({facts.gpu_error or 'none found'})",
                   "run inside NVIDIA's container with the GPUs passed through (docker --gpus)")
        return report
    report.add("ok", "hardware", f"{summary(facts)} ({facts.source})")
    detected = _nvidia_detection(report, code_dir, facts if snapshot else None, version)
    if detected is None:
        return report
    matched = detected["systems"]["matched"]
    if matched:
        report.add("ok", "NVIDIA system", f"NVIDIA's code matches this machine as {matched} "
                                          f"({detected['systems']['matched_id']})")
    else:
        from .harness.nvidia.custom_system import gpu_groups, system_key

        report.add("note", "NVIDIA system",
                   f"NVIDIA's code matches none of its systems; the plugin runs the suites under the custom "
                   f"system {system_key(gpu_groups(facts))} it generates (nvidia.custom_system: auto)")
    for suite in loaded:
        _check_suite(report, suite, code_dir, version, facts, snapshot, matched)
    return report


def _load(path: Path, report: Report, facts: Any) -> Any:
    from .errors import MlperfError
    from .harness.nvidia.args import check_suite
    from .plugin import pytest_mlperf_register
    from .registry import Registry
    from .suite.profiles import apply_profile
    from .suite.schema import load_suite
    from .systems.detect import detect_system

    registry = Registry()
    pytest_mlperf_register(registry)
    machine = (lambda: facts) if facts is not None else detect_system
    try:
        suite = load_suite(Path(path), registry)
        apply_profile(suite, machine)
        check_suite(suite, machine)
    except MlperfError as exc:
        report.add("problem", str(path), str(exc).splitlines()[0], "correct the suite (the line is "
                                                                   "named above)")
        return None
    if suite.harness != "nvidia":
        report.add("note", str(path), f"runs on harness {suite.harness}: nothing of NVIDIA's to check")
        return None
    return suite


def _nvidia_detection(report: Report, code_dir: Path, facts: Any, version: str) -> dict | None:
    from .harness.nvidia.frontend import FrontEndError, ask

    try:
        answer = ask(code_dir, facts=facts)
    except FrontEndError as exc:
        report.add("problem", "NVIDIA's front end", str(exc).splitlines()[0],
                   "run inside NVIDIA's MLPerf container (its Python has what code.main imports)")
        return None
    if "error" in answer:
        error = answer["error"]
        report.add("problem", "NVIDIA's front end", f"importing NVIDIA's {version} code failed: "
                                                   f"{error['type']}: {error['message']}",
                   "run inside NVIDIA's MLPerf container (its Python has what code.main imports)")
        return None
    return answer


def _check_suite(report: Report, suite: Any, code_dir: Path, version: str, facts: Any, snapshot: bool,
                 matched: str | None) -> None:
    from .harness.nvidia.args import BENCHMARKS, ArgumentError, generate_engines_args, run_harness_args
    from .harness.nvidia.custom_system import STAMPS, CustomSystemError, build_definition, write_definition
    from .harness.nvidia.frontend import FrontEndError, ask
    from .harness.nvidia.run import MAKE_STAGES, engine_stamp_name, stage_missing

    name = suite.path.name
    mode = suite.nvidia["custom_system"].value if "custom_system" in suite.nvidia else "auto"
    custom = mode == "always" or (mode == "auto" and matched is None)
    system_id = suite.nvidia["system_id"].value if "system_id" in suite.nvidia else None
    queries, cases, definition_dir = [], [], None
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="mlperf-nv-doctor-"))
    for case in suite.cases:
        subject = f"{name}::{case.nodeid_suffix}"
        if case.skip_reason:
            report.add("note", subject, f"skipped: {case.skip_reason}")
            continue
        knobs = {k: s.value for k, s in case.knobs.items()}
        try:
            run = run_harness_args(case.benchmark, case.scenario, case.mode, knobs, version=version,
                                   profile="quick", custom_config=custom)
            engines = generate_engines_args(case.benchmark, case.scenario, knobs, version=version,
                                            custom_config=custom)
            definition = build_definition(facts, case.benchmark, case.scenario, knobs, case_id=case.id,
                                          system_id=system_id, version=version) if custom else None
        except (ArgumentError, CustomSystemError) as exc:
            report.add("problem", subject, str(exc), "change the suite as the message says")
            continue
        if definition is not None:
            import shutil

            written = write_definition(scratch / "definitions", definition)
            definition_dir = scratch / "definition"
            shutil.copytree(written, definition_dir, dirs_exist_ok=True)
        queries.append({"id": subject, "argv": list(run.args)})
        cases.append((subject, case, engines, definition))
    if not queries:
        return
    try:
        answer = ask(code_dir, facts=facts if snapshot else None, custom_definition=definition_dir,
                     queries=queries)
    except FrontEndError as exc:
        report.add("problem", name, str(exc).splitlines()[0], "run inside NVIDIA's MLPerf container")
        return
    finally:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    answers = {a["id"]: a for a in answer.get("answers", [])}
    stamps = code_dir / STAMPS
    if not (stamps / "make-build-all.json").is_file():
        report.add("note", name, "make build has not run in this code dir yet: the first item runs it")
    staged: set[str] = set()
    for subject, case, engines, definition in cases:
        got = answers.get(subject, {})
        if got.get("unknown_system"):
            report.add("problem", subject, "NVIDIA's code does not know this machine and "
                                           "nvidia.custom_system "
                                           "is never", "set nvidia.custom_system to auto (the default)")
            continue
        if "error" in got:
            report.add("problem", subject, f"NVIDIA's code raises {got['error']['type']}: "
                                           f"{got['error']['message']}",
                       "see NVIDIA's message; the plugin's --mlperf-explain shows the arguments")
            continue
        if not got.get("dispatched"):
            warning = next((w for w in got.get("warnings", []) if "No registered config" in w), "no config")
            report.add("problem", subject, f"NVIDIA's code would run nothing: {warning}",
                       "remove the case, or set nvidia.custom_system: always with gpu_batch_size and the "
                       "scenario's target")
            continue
        record = got["dispatched"][0]
        if record.get("dropped"):
            report.add("problem", subject, f"NVIDIA's code drops {', '.join(record['dropped'])}",
                       "remove those knobs from the suite")
            continue
        _, stamp = engine_stamp_name(engines, system_id, version,
                                     definition.digest[:16] if definition is not None else None)
        engine = "engine built" if (stamps / f"{stamp}.json").is_file() else \
            "engine not built yet (the first item builds it)"
        report.add("ok", subject, f"NVIDIA's config {record.get('config')}; {engine}")
        component = BENCHMARKS[case.benchmark][1]
        if component in staged:
            continue
        staged.add(component)
        for target in MAKE_STAGES[1:]:
            missing = stage_missing(code_dir, target, component)
            if missing:
                report.add("note", f"{name}::{case.id}", missing)
            elif not (stamps / f"make-{target}-{component}.json").is_file():
                report.add("note", f"{name}::{case.id}", f"make {target} BENCHMARKS={component} has not "
                                                         "run yet: "
                                                         "the first item runs it")


def doctor_main(argv: list[str] | None = None) -> int:
    """``mlperf-nv doctor [suite…] [--code-dir DIR] [--version V] [--snapshot FILE]``."""
    parser = argparse.ArgumentParser(prog="mlperf-nv doctor",
                                     description="Check that NVIDIA's code, this machine and the suites fit "
                                                 "together (inside NVIDIA's container). Exit status 0: "
                                                 "ready; "
                                                 "1: problems, each with its fix.")
    parser.add_argument("suites", nargs="*", help="suite files (harness nvidia) to check item by item")
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
                      snapshot=bool(snapshot))
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if not report.ok:
        pytest.exit(report.text() + "\n(--mlperf-doctor: fix the problems above, then run again)",
                    returncode=1)
    if terminal is not None:
        terminal.write_line(report.text())
