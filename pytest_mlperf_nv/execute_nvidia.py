"""One case on NVIDIA's code (harness: nvidia): make stages, engines, run_harness, verdict.

It ends in the same CaseOutcome, result.json and JUnit properties as the built-in harness
(execute.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .accuracy.log import AccuracyLogError
from .errors import HarnessError
from .execute import (
    RESULT_FILE,
    CaseOutcome,
    _crashed,
    _message,
    _now,
    _properties,
    _record,
    _values,
    resolve_run,
    run_dir_for,
)
from .harness.logs import ACCURACY, LogError, RunResult, parse_run
from .harness.runner import ChildOutcome, fresh_run_dir
from .provision.provisioners import Provisioned
from .session import MlperfSession
from .suite.model import Case
from .verdict import Verdict, judge_performance


def run_on_nvidia(session: MlperfSession, case: Case, model: Provisioned) -> CaseOutcome:
    """The same case through NVIDIA's code.main; verdicts from the LoadGen logs it writes."""
    from .accuracy.log import dedupe, read_accuracy_log
    from .harness.nvidia import run as nvidia
    from .harness.nvidia.args import BENCHMARKS as NVIDIA_BENCHMARKS
    from .harness.nvidia.args import ArgumentError, generate_engines_args, run_harness_args

    code = session.settings.sourced("nvidia_code_dir", case.suite.nvidia.get("code_dir"))
    code_dir = Path(code.value) if code.value else None
    problem = nvidia.code_dir_problem(code_dir)
    if problem:
        return CaseOutcome(case, run_dir_for(session, case), False, problem, skipped=True)
    version = session.settings.sourced("nvidia_version", case.suite.nvidia.get("version")).value \
        or nvidia.detect_version(code_dir)
    if version is None:
        raise HarnessError(f"cannot tell the round of NVIDIA's code at {code_dir}: set nvidia.version "
                           "(v4.1 or v5.0) in the suite or --mlperf-nvidia-version")
    system_id = session.settings.sourced("nvidia_system_id", case.suite.nvidia.get("system_id")).value
    profile, settings, timeout = resolve_run(session, case)
    knobs = {name: sourced.value for name, sourced in case.knobs.items()}
    try:
        invocation = run_harness_args(case.benchmark, case.scenario, case.mode, knobs, version=version,
                                      profile=profile.value, quick_duration_ms=1000)
    except ArgumentError as exc:
        raise HarnessError(f"{case.benchmark} {case.scenario}: {exc}") from None
    run_dir = run_dir_for(session, case)
    started = _now()
    fresh_run_dir(run_dir)
    stages: dict[str, Any] = {}
    long_s = float(timeout.value) + 3600
    component = NVIDIA_BENCHMARKS[case.benchmark][1]
    for target in nvidia.MAKE_STAGES:
        built, child = nvidia.ensure_make_stage(target, code_dir=code_dir, run_dir=run_dir, timeout_s=long_s,
                                                benchmark=None if target == "build" else component)
        stages[target] = {"cache_hit": not built, "wall_s": child.wall_s if child else None}
        if child is not None and (child.returncode or child.timed_out):
            return _stage_failed(case, run_dir, f"make {target}", child, run_dir / f"make-{target}")
    engines = generate_engines_args(case.benchmark, case.scenario, knobs, version=version)
    built, engine_child = nvidia.ensure_engines(engines, code_dir=code_dir, run_dir=run_dir,
                                                timeout_s=long_s, system_id=system_id, version=version)
    if engine_child is not None and (engine_child.returncode or engine_child.timed_out):
        return _stage_failed(case, run_dir, "generate_engines", engine_child, run_dir / "generate_engines")
    outcome = nvidia.run(invocation, code_dir=code_dir, run_dir=run_dir, benchmark=case.benchmark,
                         scenario=case.scenario, timeout_s=float(timeout.value), system_id=system_id)
    child = outcome.child
    result: RunResult | None = None
    log_problem = outcome.problem
    if outcome.result_dir is not None:
        try:
            result = parse_run(outcome.result_dir)
        except LogError as exc:
            log_problem = str(exc)
    score = None
    verdict = None
    if result is not None and result.complete:
        if case.mode == "performance":
            verdict = judge_performance(result, _values(case.expect))
        else:
            score, problem = nvidia.accuracy_from_metadata(outcome.metadata)
            reasons = []
            try:
                entries = read_accuracy_log(outcome.result_dir / ACCURACY)
                unique = dedupe(entries)
                expected = result.detail.get("qsl_reported_total_count")
                if len(entries) != len(unique):
                    reasons.append(f"{len(entries) - len(unique)} samples were logged more than once")
                if expected is not None and len(unique) != int(expected):
                    reasons.append(f"{len(unique)} of {expected} samples were logged")
            except AccuracyLogError as exc:
                reasons.append(f"accuracy log unusable: {exc}")
            if problem:
                reasons.append(problem)
            headline = "accuracy " + (f"{score['metric']} {score['value']} by NVIDIA's accuracy check"
                                      if score else "not scored")
            errors = [f"LoadGen logged {len(result.errors)} error line(s): {result.errors[0][:200]}"] \
                if result.errors else []
            verdict = Verdict(not (reasons or errors), headline, errors + reasons)
    if verdict is None:
        verdict = _crashed(child, result, log_problem)
        if outcome.problem and child.returncode == 0:
            verdict = Verdict(False, "no LoadGen run", [outcome.problem])
    message = _message(case, verdict, child, run_dir)
    sourced = {name: value for name, value in case.knobs.items()}
    record = _record(session, case, profile.value, sourced, float(timeout.value), started, child, result,
                     verdict, score, model)
    record["nvidia"] = {"code_dir": str(code_dir), "code_dir_source": code.source, "version": version,
                        "system_id": system_id, "arguments": list(invocation.args),
                        "log_dir": str(outcome.result_dir) if outcome.result_dir else None,
                        "metadata": outcome.metadata}
    record["provisioning"] = {"engine": {"path": None, "key": " ".join(engines.args), "cache_hit": not built,
                                         "build_seconds": engine_child.wall_s if engine_child else None,
                                         "source": "nvidia generate_engines", "seconds": 0.0}}
    record["nvidia"]["stages"] = stages
    (run_dir / RESULT_FILE).write_text(json.dumps(record, indent=2, default=str))
    props = _properties(record) + [("mlperf_harness", "nvidia"), ("mlperf_nvidia_version", version)]
    return CaseOutcome(case, run_dir, verdict.passed, message, props, record)


def _stage_failed(case: Case, run_dir: Path, stage: str, child: ChildOutcome, logs: Path) -> CaseOutcome:
    tail = child.stderr_tail(6) or child.stdout_tail(6)
    lines = [f"{case.id} {case.scenario} {case.mode}: NVIDIA's {stage} failed",
             f"  - {child.describe()}", *[f"    | {line}" for line in tail.splitlines()], f"  logs: {logs}"]
    if stage == "generate_engines":
        lines[0] = f"{case.id} {case.scenario} {case.mode}: engine build failed"
        lines[1] = f"  - NVIDIA's generate_engines failed: {child.describe()}"
    return CaseOutcome(case, run_dir, False, "\n".join(lines), [("mlperf_verdict", "FAIL")])
