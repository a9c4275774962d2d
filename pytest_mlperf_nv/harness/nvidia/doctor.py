"""NVIDIA's part of ``mlperf-nv doctor``: is this machine ready to run the suites on NVIDIA's code?

For inside NVIDIA's container: the code dir and its round; the hardware and the NVIDIA system it
matches (asked of NVIDIA's own detection), or the custom system the plugin would write; per suite
item: a registered config, knobs NVIDIA reads, data and model prepared, engine built. Every problem
comes with its fix (pytest_mlperf_nv/doctor.py runs it and sets the exit status).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...doctor import DoctorCheck, Report


def doctor(suites: list[Any], check: DoctorCheck) -> None:
    """NVIDIA's part of ``mlperf-nv doctor``: ``suites`` run on harness nvidia (none named: the code
    dir and the machine only); findings go to ``check.report``."""
    from ...systems.detect import detect_system
    from . import run as nvidia

    report, code_dir, version, facts, snapshot = (check.report, check.code_dir, check.version, check.facts,
                                                   check.snapshot)
    machine = (lambda: facts) if facts is not None else detect_system
    loaded = [s for s in suites if _checked(s, report, machine)]
    if code_dir is None:
        code_dir = next((Path(_block(s)["code_dir"].value) for s in loaded if "code_dir" in _block(s)), None)
    problem = nvidia.code_dir_problem(code_dir)
    if problem:
        report.add("problem", "code dir", problem.split(": ", 1)[0],
                   problem.split(": ", 1)[1] if ": " in problem else None)
        return
    assert code_dir is not None
    version = version or next((_block(s)["version"].value for s in loaded if "version" in _block(s)), None) \
        or nvidia.detect_version(code_dir)
    if version is None:
        unsupported = nvidia.unsupported_version(code_dir)
        if unsupported:
            report.add("problem", "code dir", unsupported.split("; ")[0], unsupported.split("; ", 1)[1])
        else:
            report.add("problem", "code dir", f"cannot tell the round of NVIDIA's code at {code_dir}",
                       "set nvidia.version (v4.1 or v5.0) in the suite or --mlperf-nvidia-version")
        return
    report.add("ok", "code dir", f"{code_dir} (NVIDIA's {version} code)")
    # Live only: a recorded machine's make (NVIDIA's container there) is not this machine's.
    if not snapshot:
        nvidia.make_environment(code_dir)
    if not snapshot and str(code_dir) in nvidia.ENV_PROBLEMS:
        report.add("problem", "NVIDIA's Makefile", nvidia.ENV_PROBLEMS[str(code_dir)],
                   "run inside NVIDIA's MLPerf container, where its make stages and environment work")
    facts = facts if facts is not None else detect_system()
    from ...systems.snapshot import summary

    if not facts.gpus:
        report.add("problem", "hardware", f"no NVIDIA GPU ({facts.gpu_error or 'none found'})",
                   "run inside NVIDIA's container with the GPUs passed through (docker --gpus)")
        return
    report.add("ok", "hardware", f"{summary(facts)} ({facts.source})")
    detected = _nvidia_detection(report, code_dir, facts if snapshot else None, version)
    if detected is None:
        return
    matched = detected["systems"]["matched"]
    if matched:
        report.add("ok", "NVIDIA system", f"NVIDIA's code matches this machine as {matched} "
                                          f"({detected['systems']['matched_id']})")
    else:
        from .custom_system import gpu_groups, system_key

        report.add("note", "NVIDIA system",
                   f"NVIDIA's code matches none of its systems; the plugin runs the suites under the custom "
                   f"system {system_key(gpu_groups(facts))} it generates (nvidia.custom_system: auto)")
    for suite in loaded:
        _check_suite(report, suite, code_dir, version, facts, snapshot, matched)


def _checked(suite: Any, report: Report, machine: Any) -> bool:
    """The suite passes NVIDIA's collection-time checks (args.check_suite) on this machine."""
    from ...errors import MlperfError
    from .args import check_suite

    try:
        check_suite(suite, machine)
    except MlperfError as exc:
        report.add("problem", str(suite.path), str(exc).splitlines()[0], "correct the suite (the line is "
                                                                         "named above)")
        return False
    return True


def _nvidia_detection(report: Report, code_dir: Path, facts: Any, version: str) -> dict | None:
    from .frontend import FrontEndError, ask

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
    from .args import BENCHMARKS, ArgumentError, generate_engines_args, run_harness_args
    from .custom_system import STAMPS, CustomSystemError, build_definition, write_definition
    from .frontend import FrontEndError, ask
    from .run import MAKE_STAGES, engine_stamp_name, stage_missing

    name = suite.path.name
    mode = _block(suite)["custom_system"].value if "custom_system" in _block(suite) else "auto"
    custom = mode == "always" or (mode == "auto" and matched is None)
    system_id = _block(suite)["system_id"].value if "system_id" in _block(suite) else None
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


def _block(suite: Any) -> dict:
    """The suite's ``nvidia:`` block (empty when it has none)."""
    return suite.sections.get("nvidia", {})
