"""From a case to an outcome: spec, child run, log parsing, scoring, verdict, artifacts."""

from __future__ import annotations

import datetime as _dt
import json
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .accuracy.classification import format_imagenet, top1
from .accuracy.log import AccuracyLogError
from .benchmarks.mlperf import MLPERF_BENCHMARKS
from .benchmarks.mlperf.seeds import round_of_detail
from .datasets import DatasetContext
from .errors import HarnessError
from .harness.devicelock import run_lock
from .harness.logs import ACCURACY, LogError, RunResult, parse_run
from .harness.runner import ChildOutcome, fresh_run_dir, run_child
from .harness.settings import RunTimeout, auto_timeout, loadgen_settings, render_user_conf
from .provision.provisioners import Provisioned
from .registry import ImportRef
from .session import MlperfSession
from .suite.model import Case, Sourced
from .verdict import Verdict, judge_accuracy, judge_performance

RESULT_FILE = "result.json"
#: LoadGen test mode per suite mode; a compliance run is a performance run under its audit.config
_MODES = {"performance": "PerformanceOnly", "accuracy": "AccuracyOnly", "compliance": "PerformanceOnly"}


@dataclass
class CaseOutcome:
    case: Case
    run_dir: Path
    passed: bool
    message: str
    properties: list[tuple[str, Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False


def resolve_run(session: MlperfSession, case: Case
                ) -> tuple[Sourced, dict[str, Sourced], Sourced]:
    """The case's profile, LoadGen settings and timeout, each with where it came from."""
    profile = session.settings.sourced("profile", case.suite.profile)
    settings = loadgen_settings(case, profile.value)
    timeout = session.settings.sourced("timeout", case.suite.timeout)
    if timeout.value is None:
        plain = {k: v.value for k, v in settings.items()}
        timeout = Sourced(*auto_timeout(case.scenario, plain))
    return profile, settings, timeout


def run_dir_for(session: MlperfSession, case: Case) -> Path:
    out: Path = session.settings.get("out")
    return out / "runs" / case.suite.path.stem / case.id / case.scenario / case.name


def run_case(session: MlperfSession, case: Case, model: Provisioned,
             dataset: Provisioned | None = None, engine: Provisioned | None = None,
             nodeid: str | None = None) -> CaseOutcome:
    """Run one case in a child process and judge it from LoadGen's logs."""
    if case.suite.harness == "nvidia":
        from .execute_nvidia import run_on_nvidia

        return run_on_nvidia(session, case, model, nodeid)
    registry = session.get_registry()
    definition = case.definition
    if definition is None:
        raise HarnessError(f"{case.benchmark} cannot run on harness {case.suite.harness}")
    profile, settings, timeout = resolve_run(session, case)
    plain = {k: v.value for k, v in settings.items()}
    timeout_s = float(timeout.value)

    run_dir = run_dir_for(session, case)
    started = _now()
    prepare_run_dir(run_dir)
    (run_dir / "user.conf").write_text(render_user_conf(definition.loadgen_name, case.scenario, settings))
    audit_config = run_dir / "audit.config.not-used"
    if case.mode == "compliance":
        from .execute_audit import write_audit_config

        audit_config = write_audit_config(case, run_dir)
    dataset_name = case.dataset or definition.dataset
    dataset_spec = {"name": dataset_name, "ref": registry.datasets[dataset_name].to_dict(),
                    "data_dir": _str(session.settings.get("data_dir")),
                    "cache_dir": str(session.settings.get("cache_dir")),
                    "options": dict(case.dataset_options)}
    spec = {
        "format": 1,
        "run_dir": str(run_dir),
        "case": {"suite": str(case.suite.path), "id": case.id, "benchmark": case.benchmark,
                 "scenario": case.scenario, "mode": case.mode},
        "loadgen": {"model": definition.loadgen_name, "scenario": case.scenario,
                    "mode": _MODES[case.mode], "settings": plain, "audit": case.audit},
        "backend": {"name": case.suite.backend, "ref": registry.backends[case.suite.backend].to_dict(),
                    "options": {}},
        "dataset": dataset_spec,
        "postprocess": ImportRef.of(definition.postprocess).to_dict(),
        # The backend's compiled form of the model when it has one, else the model itself.
        "model_path": str(engine.path if engine is not None and engine.path else model.path),
        "batch_size": case.knob("gpu_batch_size", 1),
        "num_warmups": case.knob("num_warmups", 0),
        "audit_config": str(audit_config),
        "accuracy_samples": case.accuracy_samples.value if case.accuracy_samples else None,
    }
    child = run_child(spec, run_dir, RunTimeout.of(timeout), lock=run_lock(session, case))
    if child.status.get("error_type") == "ProvisionError":
        # Missing data is a skip that says what to provide, not a failed benchmark.
        return CaseOutcome(case, run_dir, False, child.status.get("error_message", ""),
                           skipped=True)

    result: RunResult | None = None
    log_problem = None
    try:
        result = parse_run(run_dir)
    except LogError as exc:
        log_problem = str(exc)

    score = None
    audit_record = None
    if case.mode == "compliance":
        from .execute_audit import verify_audit

        verdict, audit_record = verify_audit(session, case, run_dir, result, nodeid) \
            if result and result.complete else (None, None)
    elif case.mode == "performance":
        verdict = judge_performance(result, _values(case.expect)) if result and result.complete else None
    else:
        target = _values(case.expect).get("min_accuracy", definition.accuracy_target)
        verdict = None
        if result and result.complete:
            score, problem = _score(session, definition, run_dir, dataset_spec, case)
            verdict = judge_accuracy(result, score, target, problem)
    if verdict is None:
        verdict = _crashed(child, result, log_problem)

    message = _message(case, verdict, child, run_dir)
    record = _record(session, case, profile.value, settings, timeout_s, started, child, result,
                     verdict, score, model)
    artifacts = [a for a in (model, dataset, engine) if a is not None]
    artifacts += [i for a in artifacts for i in a.inputs]
    record["provisioning"] = {a.kind: _provisioned(a) for a in artifacts}
    if audit_record is not None:
        record["audit"] = audit_record
    write_result(run_dir, record)
    return CaseOutcome(case, run_dir, verdict.passed, message, _properties(record), record)


def prepare_run_dir(run_dir: Path) -> None:
    """A fresh run dir (the previous one moved aside), or a HarnessError that says what to do."""
    try:
        fresh_run_dir(run_dir)
    except OSError as exc:
        raise HarnessError(f"cannot create the run directory {run_dir}: {exc.strerror}; "
                           "choose a writable output directory with --mlperf-out") from None


def write_result(run_dir: Path, record: dict[str, Any]) -> None:
    """result.json, written whole or not at all (the submission tree reads it)."""
    path = run_dir / RESULT_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2, default=str))
    tmp.replace(path)


def _score(session: MlperfSession, definition: Any, run_dir: Path, dataset_spec: dict[str, Any],
           case: Case) -> tuple[dict[str, Any] | None, str | None]:
    registry = session.get_registry()
    factory = registry.datasets[dataset_spec["name"]].load()
    dataset = factory(DatasetContext(
        data_dir=Path(dataset_spec["data_dir"]) if dataset_spec["data_dir"] else None,
        cache_dir=Path(dataset_spec["cache_dir"]), options=dataset_spec["options"]))
    labels = dataset.labels()
    if labels is None:
        return None, f"dataset {dataset_spec['name']} has no labels to score accuracy against"
    full = len(labels)
    if case.accuracy_samples:
        labels = labels[: case.accuracy_samples.value]
    if definition.accuracy_metric != "top1":
        raise HarnessError(f"accuracy metric {definition.accuracy_metric} is not supported yet")
    try:
        found = top1(run_dir / ACCURACY, labels, dtype=definition.response_dtype)
    except AccuracyLogError as exc:
        return None, f"accuracy log unusable: {exc}"
    # accuracy.txt: the official script's line, as the submission checker parses it.
    (run_dir / "accuracy.txt").write_text(format_imagenet(found) + "\n")
    return {"metric": "top1", "value": 100.0 * found.accuracy, "good": found.good, "total": found.total,
            "duplicates": found.duplicates, "missing": found.missing, "expected": len(labels),
            "subset": len(labels) < full, "dataset_size": full}, None


def _crashed(child: ChildOutcome, result: RunResult | None, log_problem: str | None) -> Verdict:
    reasons = [child.describe()]
    if log_problem:
        reasons.append(log_problem)
    elif result is not None and not result.complete:
        reasons.append("LoadGen's logs are incomplete: the run never reached LoadGen's verdict")
    return Verdict(False, "the run did not complete", reasons)


def _message(case: Case, verdict: Verdict, child: ChildOutcome, run_dir: Path) -> str:
    lines = [f"{case.id} {case.scenario} {case.name}: {verdict.headline}"]
    lines += [f"  - {reason}" for reason in verdict.reasons]
    lines += [f"  {note}" for note in verdict.notes]
    if not verdict.passed and (child.timed_out or child.returncode):
        state = child.status.get("status")
        if child.timed_out and state:
            lines.append(f"  child state when killed: {state}")
        for name, text in (("stderr", child.stderr_tail(8)), ("stdout", child.stdout_tail(8))):
            if text:
                lines.append(f"  child {name} (last lines):")
                lines += [f"    | {line}" for line in text.splitlines()]
                break
        else:
            lines.append("  the child wrote nothing to stdout or stderr")
    lines.append(f"  logs: {run_dir}")
    return "\n".join(lines)


def _record(session: MlperfSession, case: Case, profile: str, settings: dict[str, Any],
            timeout_s: float, started: str, child: ChildOutcome, result: RunResult | None,
            verdict: Verdict, score: dict[str, Any] | None, model: Provisioned) -> dict[str, Any]:
    return {
        "format": 1,
        "session_id": session.session_id,
        "session_started": session.started,
        "worker": session.worker,
        "started": started,
        "finished": _now(),
        "versions": {"pytest_mlperf_nv": __version__, "python": platform.python_version(),
                     "loadgen": result.loadgen_version if result else None,
                     "backend": child.status.get("backend")},
        "suite": {"path": str(case.suite.path), "name": case.suite.name, "sha256": case.suite.sha256},
        "case": {"id": case.id, "benchmark": case.benchmark, "scenario": case.scenario,
                 "mode": case.mode, "audit": case.audit, "harness": case.suite.harness,
                 "backend": case.suite.backend},
        "profile": profile,
        "overrides": [o.text for o in session.overrides],
        "harness": case.suite.harness,
        "ignored_knobs": list(case.suite.ignored_knobs),
        "submittable": False if profile != "official" else None,
        "not_submittable_because": _not_submittable(profile, case, score, model, child),
        "round": round_of_detail(result.detail) if result else None,
        "settings": {k: {"value": v.value, "source": v.source} for k, v in settings.items()},
        "model": {"path": str(model.path), "cache_key": model.key, "cache_hit": model.cache_hit,
                  "build_seconds": model.build_seconds},
        "verdict": "PASS" if verdict.passed else "FAIL",
        "reasons": verdict.reasons,
        "loadgen": None if result is None else {
            "validity": result.validity, "unmet": result.unmet,
            "recommendation": result.recommendation, "errors": result.errors,
            "warnings": len(result.warnings), "metric": result.metric_name,
            "value": result.metric_value, "unit": result.metric_unit,
            "latencies_ms": result.latencies_ms,
            "seeds": {k: result.effective.get(f"{k}_rng_seed") for k in
                      ("qsl", "sample_index", "schedule")}},
        "accuracy": score,
        "child": {"returncode": child.returncode, "timed_out": child.timed_out,
                  "timeout_s": timeout_s, "wall_s": round(child.wall_s, 3),
                  "timings": child.status.get("timings"),
                  "performance_sample_count_capped": child.status.get("performance_sample_count_capped")},
        "run_dir": str(case_run_dir_display(child.run_dir)),
        "python_executable": sys.executable,
    }


def _provisioned(artifact: Provisioned) -> dict[str, Any]:
    return {"path": None if artifact.path is None else str(artifact.path), "key": artifact.key,
            "cache_hit": artifact.cache_hit, "build_seconds": artifact.build_seconds,
            "source": artifact.source, "seconds": round(artifact.seconds, 4)}


def _not_submittable(profile: str, case: Case, score: dict[str, Any] | None, model: Provisioned,
                     child: ChildOutcome) -> list[str]:
    reasons = []
    # NVIDIA's harness runs NVIDIA's model and data: the built-in definition's choices do not apply.
    definition = case.definition if case.suite.harness != "nvidia" else None
    if profile != "official":
        reasons.append(f"profile {profile}: shortened LoadGen settings")
    if definition and case.dataset and definition.is_synthetic(case.dataset):
        reasons.append(f"synthetic data ({case.dataset}): performance only")
    if definition and definition.random_model and model.source != "data dir":
        reasons.append("random model weights: performance only")
    capped = child.status.get("performance_sample_count_capped")
    if capped:
        reasons.append(f"performance_sample_count capped from {capped['from']} to {capped['to']} "
                       "(the data set's size)")
    if score and score.get("subset"):
        reasons.append(f"accuracy on a subset of {score['expected']} of {score['dataset_size']} samples")
    if case.benchmark not in MLPERF_BENCHMARKS:
        reasons.append(f"{case.benchmark} is not an MLPerf benchmark")
    return reasons


def case_run_dir_display(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _properties(record: dict[str, Any]) -> list[tuple[str, Any]]:
    props: list[tuple[str, Any]] = [("mlperf_verdict", record["verdict"]),
                                    ("mlperf_profile", record["profile"])]
    lg = record.get("loadgen") or {}
    if lg.get("validity"):
        props.append(("mlperf_validity", lg["validity"]))
    if lg.get("metric"):
        props += [("mlperf_metric", lg["metric"]), ("mlperf_metric_value", lg["value"]),
                  ("mlperf_metric_unit", lg["unit"])]
    for key, value in (lg.get("latencies_ms") or {}).items():
        props.append((f"mlperf_latency_{key}_ms", value))
    score = record.get("accuracy")
    if score:
        props += [("mlperf_accuracy", score["value"]), ("mlperf_accuracy_metric", score["metric"])]
        if score.get("subset"):
            props.append(("mlperf_accuracy_subset", f"{score['expected']}/{score['dataset_size']}"))
    if record.get("round"):
        props.append(("mlperf_round", record["round"]))
    audit = record.get("audit")
    if audit:
        props.append(("mlperf_audit", audit.get("test")))
        verification = audit.get("verification") or {}
        if "passed" in verification:
            props.append(("mlperf_audit_verdict", "PASS" if verification["passed"] else "FAIL"))
    if record.get("ignored_knobs"):
        props.append(("mlperf_ignored_knobs", ", ".join(record["ignored_knobs"])))
    props.append(("mlperf_run_dir", record["run_dir"]))
    return props


def _values(sourced: dict[str, Any]) -> dict[str, Any]:
    return {k: v.value for k, v in sourced.items()}


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")
