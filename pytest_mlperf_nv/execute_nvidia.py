"""One case on NVIDIA's code (harness: nvidia): make stages, engines, run_harness, verdict.

It ends in the same CaseOutcome, result.json and JUnit properties as the built-in harness
(execute.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .accuracy.log import AccuracyLogError
from .errors import HarnessError
from .execute import (
    CaseOutcome,
    _crashed,
    _message,
    _now,
    _properties,
    _record,
    _values,
    prepare_run_dir,
    resolve_run,
    run_dir_for,
    write_result,
)
from .harness.logs import ACCURACY, LogError, RunResult, parse_run
from .harness.nvidia.custom_system import DEFAULT_MODE
from .harness.runner import ChildOutcome
from .provision.provisioners import Provisioned
from .session import MlperfSession
from .suite.model import Case
from .verdict import Verdict, judge_performance


def run_on_nvidia(session: MlperfSession, case: Case, model: Provisioned, nodeid: str | None = None
                  ) -> CaseOutcome:
    """The same case through NVIDIA's code.main; verdicts from the LoadGen logs it writes."""
    from .accuracy.log import dedupe, read_accuracy_log
    from .harness.nvidia import run as nvidia
    from .harness.nvidia.args import BENCHMARKS as NVIDIA_BENCHMARKS
    from .harness.nvidia.args import (
        ArgumentError,
        audit_harness_args,
        generate_engines_args,
        run_harness_args,
    )

    code = session.settings.sourced("nvidia_code_dir", case.suite.nvidia.get("code_dir"))
    code_dir = Path(code.value) if code.value else None
    problem = nvidia.code_dir_problem(code_dir)
    if problem:
        return CaseOutcome(case, run_dir_for(session, case), False, problem, skipped=True)
    version = session.settings.sourced("nvidia_version", case.suite.nvidia.get("version")).value \
        or nvidia.detect_version(code_dir)
    if version is None:
        unsupported = nvidia.unsupported_version(code_dir)
        if unsupported:
            raise HarnessError(unsupported)
        raise HarnessError(f"cannot tell the round of NVIDIA's code at {code_dir}: set nvidia.version "
                           "(v4.1 or v5.0) in the suite or --mlperf-nvidia-version")
    system_id = session.settings.sourced("nvidia_system_id", case.suite.nvidia.get("system_id")).value
    mode_setting = case.suite.nvidia.get("custom_system")
    mode = mode_setting.value if mode_setting is not None else DEFAULT_MODE
    profile, settings, timeout = resolve_run(session, case)
    knobs = {name: sourced.value for name, sourced in case.knobs.items()}
    # Under a generated definition the config carries every knob, false booleans included.
    in_config = mode == "always"
    try:
        invocation = run_harness_args(case.benchmark, case.scenario, case.mode, knobs, version=version,
                                      profile=profile.value, quick_duration_ms=1000, custom_config=in_config)
        if case.mode == "compliance":
            invocation = audit_harness_args(invocation, str(case.audit))
    except ArgumentError as exc:
        raise HarnessError(f"{case.benchmark} {case.scenario}: {exc}") from None
    run_dir = run_dir_for(session, case)
    started = _now()
    prepare_run_dir(run_dir)
    stages: dict[str, Any] = {}
    long_s = float(timeout.value) + 3600
    component = NVIDIA_BENCHMARKS[case.benchmark][1]
    for target in nvidia.MAKE_STAGES:
        built, child = nvidia.ensure_make_stage(target, code_dir=code_dir, run_dir=run_dir, timeout_s=long_s,
                                                benchmark=None if target == "build" else component)
        stages[target] = {"cache_hit": not built, "wall_s": child.wall_s if child else None}
        not_run = nvidia.stage_missing(code_dir, target, None if target == "build" else component)
        if not_run:
            stages[target]["not_run"] = not_run
        if child is not None and (child.returncode or child.timed_out):
            return _stage_failed(case, run_dir, f"make {target}", child, run_dir / f"make-{target}")
    engines = generate_engines_args(case.benchmark, case.scenario, knobs, version=version,
                                    custom_config=in_config)
    custom = _CustomSystem(session, case, code_dir, system_id, knobs, mode, version)
    if mode == "always":
        custom.use("nvidia.custom_system is always")
    elif mode == "auto" and (stamp := custom.known_unknown()) is not None:
        custom.use(f"NVIDIA's code did not know this machine on an earlier run (stamp {stamp})")
    calibrate = case.suite.nvidia.get("calibrate")
    while True:
        if calibrate is not None and calibrate.value:
            # NVIDIA's INT8 calibration cache, before the engines that read it (once per stamp).
            from .harness.nvidia.args import calibrate_args

            calibrated, cal_child = nvidia.ensure_engines(
                calibrate_args(case.benchmark, case.scenario), code_dir=code_dir, run_dir=run_dir,
                timeout_s=long_s, system_id=system_id, version=version, definition=custom.path,
                stage="calibrate")
            stages["calibrate"] = {"cache_hit": not calibrated,
                                   "wall_s": cal_child.wall_s if cal_child else None}
            if cal_child is not None and (cal_child.returncode or cal_child.timed_out):
                return _stage_failed(case, run_dir, "calibrate", cal_child, cal_child.run_dir)
            if mode == "auto" and custom.path is None and cal_child is not None \
                    and nvidia.says_unknown_system(cal_child):
                custom.learn_unknown("calibrate")
                continue
        built, engine_child = nvidia.ensure_engines(engines, code_dir=code_dir, run_dir=run_dir,
                                                    timeout_s=long_s, system_id=system_id, version=version,
                                                    definition=custom.path)
        if engine_child is not None and (engine_child.returncode or engine_child.timed_out):
            return _stage_failed(case, run_dir, "generate_engines", engine_child, engine_child.run_dir)
        retry = mode == "auto" and custom.path is None
        if retry and engine_child is not None and nvidia.says_unknown_system(engine_child):
            custom.learn_unknown("generate_engines")
            continue
        outcome = nvidia.run(invocation, code_dir=code_dir, run_dir=run_dir, benchmark=case.benchmark,
                             scenario=case.scenario, timeout_s=float(timeout.value), system_id=system_id,
                             definition=custom.path, audit=case.audit)
        if retry and outcome.unknown_system:
            custom.learn_unknown("run_harness")
            nvidia.set_aside(run_dir, "unknown-system")
            continue
        break
    if outcome.unknown_system and outcome.result_dir is None:
        outcome.problem = custom.unknown_problem()
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
    audit_record = None
    if result is not None and result.complete:
        if case.mode == "compliance":
            from .execute_audit import verify_audit

            verdict, audit_record = verify_audit(session, case, run_dir, result, nodeid,
                                                 log_dir=outcome.result_dir)
        elif case.mode == "performance":
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
    not_applied = custom.not_applied(outcome)
    if not_applied:
        verdict = Verdict(False, verdict.headline, [not_applied, *verdict.reasons], verdict.notes)
    message = _message(case, verdict, child, run_dir)
    sourced = {name: value for name, value in case.knobs.items()}
    record = _record(session, case, profile.value, sourced, float(timeout.value), started, child, result,
                     verdict, score, model)
    record["nvidia"] = {"code_dir": str(code_dir), "code_dir_source": code.source, "version": version,
                        "system_id": system_id, "arguments": list(invocation.args),
                        "log_dir": str(outcome.result_dir) if outcome.result_dir else None,
                        "metadata": outcome.metadata, "custom_system": custom.record}
    record["provisioning"] = {"engine": {"path": None, "key": " ".join(engines.args), "cache_hit": not built,
                                         "build_seconds": engine_child.wall_s if engine_child else None,
                                         "source": "nvidia generate_engines", "seconds": 0.0}}
    record["nvidia"]["stages"] = stages
    if audit_record is not None:
        record["audit"] = audit_record
    write_result(run_dir, record)
    props = _properties(record) + [("mlperf_harness", "nvidia"), ("mlperf_nvidia_version", version)]
    if custom.record:
        props.append(("mlperf_nvidia_custom_system", custom.record["system_id"]))
    return CaseOutcome(case, run_dir, verdict.passed, message, props, record)


class _CustomSystem:
    """The case's generated custom-system definition (nvidia.custom_system), made when it is needed."""

    def __init__(self, session: MlperfSession, case: Case, code_dir: Path, system_id: str | None,
                 knobs: dict[str, Any], mode: str, version: str = "v4.1"):
        self.session, self.case, self.code_dir = session, case, code_dir
        self.system_id, self.knobs, self.mode, self.version = system_id, knobs, mode, version
        self.path: Path | None = None
        self.definition: Any = None
        self.record: dict[str, Any] | None = None

    def known_unknown(self) -> Path | None:
        """The stamp that says NVIDIA's code in this code dir did not know this machine, if any."""
        from .harness.nvidia.custom_system import unknown_stamp

        stamp = unknown_stamp(self.code_dir, self.session.system())
        return stamp if stamp.is_file() else None

    def use(self, reason: str) -> None:
        """Generate (or find) the definition for this case; every later NVIDIA call gets it."""
        from .harness.nvidia.custom_system import build_definition, write_definition
        from .harness.nvidia.rules import profile_fields

        facts = self.session.system()
        extra = profile_fields(str(self.case.suite.system.get("gpu", "none")), facts, self.case.benchmark,
                               self.case.scenario)
        self.definition = build_definition(facts, self.case.benchmark, self.case.scenario, self.knobs,
                                           case_id=self.case.id, system_id=self.system_id,
                                           version=self.version, extra_fields=extra)
        self.path = write_definition(self.code_dir, self.definition)
        self.record = {"system_id": self.definition.system_id, "key": self.definition.key,
                       "definition": str(self.path), "reason": reason, "mode": self.mode,
                       "left_out": list(self.definition.left_out)}

    def learn_unknown(self, stage: str) -> None:
        """NVIDIA's code did not know the machine: remember it, then use a generated definition."""
        from .harness.nvidia.custom_system import UNKNOWN_SYSTEM, mark_unknown

        mark_unknown(self.code_dir, self.session.system(), stage)
        self.use(f'NVIDIA\'s code answered "{UNKNOWN_SYSTEM}" on {stage}')

    def unknown_problem(self) -> str:
        """Why NVIDIA's code ran nothing on this machine, with what to do about it."""
        from .harness.nvidia.custom_system import UNKNOWN_SYSTEM

        head = f"NVIDIA's code does not know this machine (\"{UNKNOWN_SYSTEM}\")"
        if self.path is None:
            return (f"{head}, and nvidia.custom_system is never: set nvidia.custom_system to auto (the "
                    "default) or always in the suite to run it under a generated custom-system definition")
        return (f"{head}, not even with the generated custom-system definition {self.definition.key} "
                f"({self.path}): the hardware NVIDIA's code detects differs from the system facts the "
                f"plugin used ({self.session.system().source})")

    def not_applied(self, outcome: Any) -> str | None:
        """A definition was handed over, but NVIDIA's code matched one of its own systems first."""
        if self.path is None or outcome.detected_system is None:
            return None
        said = outcome.detected_system.split(".")[-1]  # the real code logs KnownSystem.<name>
        if said in (self.definition.key, self.definition.system_id):
            return None
        return (f"NVIDIA's code matched its own system {outcome.detected_system} before the generated "
                f"custom system {self.definition.key} (its known systems are matched first), so the "
                "generated config (and any false boolean knob in it) was not used; on this machine leave "
                "nvidia.custom_system at auto")


def _stage_failed(case: Case, run_dir: Path, stage: str, child: ChildOutcome, logs: Path) -> CaseOutcome:
    tail = child.stderr_tail(6) or child.stdout_tail(6)
    lines = [f"{case.id} {case.scenario} {case.mode}: NVIDIA's {stage} failed",
             f"  - {child.describe()}", *[f"    | {line}" for line in tail.splitlines()], f"  logs: {logs}"]
    if stage == "generate_engines":
        lines[0] = f"{case.id} {case.scenario} {case.mode}: engine build failed"
        lines[1] = f"  - NVIDIA's generate_engines failed: {child.describe()}"
    return CaseOutcome(case, run_dir, False, "\n".join(lines), [("mlperf_verdict", "FAIL")])
