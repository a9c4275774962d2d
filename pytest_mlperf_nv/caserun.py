"""The one case runner: from a case to an outcome, for every harness.

    plan (profile, settings, timeout) -> fresh run dir -> harness.run -> LoadGen's logs parsed
    -> verdict (performance, accuracy, compliance) -> run record (result.json) -> JUnit properties

The harness only runs LoadGen and says where its logs are; verdicts come from those logs and
the plugin's own checks, never from a process's exit code.
"""

from __future__ import annotations

import datetime as _dt
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .benchmarks.mlperf import MLPERF_BENCHMARKS
from .benchmarks.mlperf.seeds import round_of_detail
from .errors import HarnessError, MlperfError, OutputError
from .harness.api import Harness, HarnessRun, RunContext
from .harness.logs import LogError, RunResult, parse_run
from .provision.provisioners import BY_HARNESS
from .record import ArtifactSection, ChildSection, LoadgenSection, RunRecord, write_record
from .report.runwatch import watch_run
from .rundir import RunLayout, display
from .runplan import RunPlan, plan_run
from .suite.model import Case
from .verdict import Verdict, did_not_complete, judge_performance, with_failures

if TYPE_CHECKING:
    from .provision.provisioners import Provisioned
    from .session import MlperfSession

@dataclass
class CaseOutcome:
    case: Case
    run_dir: Path
    passed: bool
    message: str
    properties: list[tuple[str, Any]] = field(default_factory=list)
    record: RunRecord | None = None
    #: a prerequisite the run found missing: the item skips with ``message`` (fails under strict)
    skipped: bool = False


def run_case(session: MlperfSession, case: Case, artifacts: dict[str, Provisioned],
             nodeid: str | None = None) -> CaseOutcome:
    """Run one case on its suite's harness and judge it from LoadGen's logs."""
    harness = session.harness_for(case)
    plan = plan_run(session, case)
    layout = RunLayout.of(session.out, case)
    started = _now()
    prepare_run_dir(layout, session.out)
    ctx = RunContext(session, case, layout, plan, artifacts, nodeid)
    try:
        return _run_and_judge(ctx, harness, started)
    except OSError as exc:  # a file of the run the disk refused, while running or judging
        error = run_write_error(exc, layout, session.out)
        if error is exc:
            raise
        raise error from None


def _run_and_judge(ctx: RunContext, harness: Harness, started: str) -> CaseOutcome:
    session, case, layout = ctx.session, ctx.case, ctx.layout
    try:
        with watch_run(ctx) as watch:  # GPU telemetry and the live progress line
            run = harness.run(ctx)
    except KeyboardInterrupt:
        mark_interrupted(ctx, harness.name, started)
        raise
    if run.skip:
        return CaseOutcome(case, layout.run_dir, False, run.skip, skipped=True)

    result: RunResult | None = None
    log_problem = None
    if run.log_dir is not None:
        try:
            result = parse_run(run.log_dir)
        except LogError as exc:
            log_problem = str(exc)

    verdict: Verdict | None = None
    audit_record = None
    if result is not None and result.complete:
        if case.mode == "compliance":
            from .compliance import verify_audit

            verdict, audit_record = verify_audit(session, case, layout, result, ctx.nodeid,
                                                 run.log_dir or layout.run_dir)
        elif case.mode == "performance":
            verdict = judge_performance(result, _values(case.expect))
        else:
            verdict = harness.judge_accuracy(ctx, run, result)
    if verdict is None:
        verdict = did_not_complete(run.child, result, log_problem, run.problem, run.headline)
    verdict = with_failures(verdict, run.failures)

    record = build_record(ctx, harness.name, run, result, verdict, started,
                          harness.not_submittable(ctx, run))
    record.implementation = harness.implementation(case.suite)
    if audit_record is not None:
        record.audit = audit_record
    try:
        write_record(layout.run_dir, record)
    except OutputError as exc:
        raise OutputError(f"{case.id} {case.scenario} {case.name}: {verdict.headline}, but its run "
                          f"record could not be written: {exc}. LoadGen's logs are kept in "
                          f"{display(layout.run_dir)}; the submission tree leaves this run out until it "
                          "runs again", exc.directory, exc.needed) from None
    properties = junit_properties(record) + run.properties + watch.finish()
    return CaseOutcome(case, layout.run_dir, verdict.passed, failure_message(case, verdict, run, layout),
                       properties, record)


INTERRUPTED = "interrupted: the session was stopped (Ctrl-C or SIGINT) while this run was going on"


def mark_interrupted(ctx: RunContext, harness: str, started: str) -> None:
    """The run of an interrupted session: recorded as such (never read as a result), and named in
    the session's summary."""
    from .verdict import Verdict

    ctx.session.interrupted = (ctx.nodeid or ctx.case.nodeid_suffix, ctx.run_dir)
    run = HarnessRun(None, None, problem=INTERRUPTED)
    try:
        verdict = Verdict(False, "interrupted", [INTERRUPTED])
        record = build_record(ctx, harness, run, None, verdict, started, [])
        write_record(ctx.run_dir, record)
    except (OSError, MlperfError):
        pass  # the summary still names the item


def prepare_run_dir(layout: RunLayout, out: Path) -> None:
    """A fresh run dir (the previous one moved aside), or an error that says what to do: an
    OutputError for a full, read-only or forbidden disk, an OutsideError for a path that would leave
    the output dir, a HarnessError for anything else in the way."""
    from .rundir import prepare

    try:
        prepare(layout, out)
    except OutputError as exc:
        raise OutputError(f"{exc}; or give this session another output dir: --mlperf-out DIR",
                          exc.directory, exc.needed) from None
    except OSError as exc:
        raise HarnessError(f"cannot create the run directory {layout.run_dir}: {exc.strerror or exc}; "
                           "choose a writable output directory with --mlperf-out") from None


def run_write_error(exc: OSError, layout: RunLayout, out: Path) -> BaseException:
    """What a file-system error during a harness's run means: the disk refusing a file of the run
    (full, read-only, no permission, over quota) is an OutputError naming the directory and saying
    that the run's files so far are kept; any other OSError is the harness's own and stays as it is."""
    from .fsutil import DISK_ERRNOS, disk_error, is_inside

    if exc.errno not in DISK_ERRNOS:
        return exc
    where = Path(exc.filename) if isinstance(exc.filename, str) else None
    if where is not None and not is_inside(out, where):
        return exc  # not a file of the output dir: the harness reports it
    directory = layout.run_dir if where is None or where == layout.run_dir else where.parent
    error = disk_error(exc, directory)
    return OutputError(f"{error}; what the run wrote so far is kept in {display(layout.run_dir)}",
                       error.directory, error.needed)


def failure_message(case: Case, verdict: Verdict, run: HarnessRun, layout: RunLayout) -> str:
    """The item's short report: the verdict, its reasons and notes, what the process left, the logs."""
    lines = [f"{case.id} {case.scenario} {case.name}: {verdict.headline}"]
    lines += [f"  - {reason}" for reason in verdict.reasons]
    lines += [f"  {note}" for note in verdict.notes]
    child = run.child
    if not verdict.passed and child is not None and (child.timed_out or child.returncode):
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
    lines.append(f"  logs: {layout.run_dir if run.log_dir is None else run.log_dir}")
    return "\n".join(lines)


def build_record(ctx: RunContext, harness: str, run: HarnessRun, result: RunResult | None, verdict: Verdict,
                 started: str, harness_reasons: list[str]) -> RunRecord:
    """The run record of a finished run."""
    session, case, plan = ctx.session, ctx.case, ctx.plan
    child = run.child
    status = dict(child.status) if child is not None else {}
    status.update(run.status)
    settings = run.settings if run.settings is not None else plan.settings
    model = ctx.artifacts.get("model")
    score = verdict.score
    artifacts = [a for a in ctx.artifacts.values() if a is not None]
    artifacts += [i for a in artifacts for i in a.inputs]
    provisioning = {a.kind: _artifact(a) for a in artifacts if a.source != BY_HARNESS}
    provisioning.update({k: _artifact(a) for k, a in run.provisioned.items()})
    record = RunRecord(
        session_id=session.session_id, session_started=session.started, worker=session.worker,
        started=started, finished=_now(),
        versions={"pytest_mlperf_nv": __version__, "python": platform.python_version(),
                  "loadgen": result.loadgen_version if result else None,
                  "backend": status.get("backend")},
        suite={"path": str(case.suite.path), "name": case.suite.name, "sha256": case.suite.sha256},
        case={"id": case.id, "benchmark": case.benchmark, "scenario": case.scenario, "mode": case.mode,
              "audit": case.audit, "harness": harness, "backend": case.suite.backend},
        profile=plan.profile.value, harness=harness,
        verdict="PASS" if verdict.passed else "FAIL", reasons=list(verdict.reasons),
        run_dir=str(display(ctx.run_dir)),
        overrides=[o.text for o in session.overrides],
        ignored_knobs=list(case.suite.ignored_knobs),
        submittable=False if plan.profile.value != "official" else None,
        round=round_of_detail(result.detail) if result else None,
        settings={k: {"value": v.value, "source": v.source} for k, v in settings.items()},
        model={} if model is None else {"path": str(model.path), "cache_key": model.key,
                                        "cache_hit": model.cache_hit, "build_seconds": model.build_seconds},
        loadgen=None if result is None else _loadgen(result),
        accuracy=score,
        child=None if child is None else ChildSection(
            returncode=child.returncode, timed_out=child.timed_out, timeout_s=plan.timeout_s,
            wall_s=round(child.wall_s, 3), timings=status.get("timings"),
            performance_sample_count_capped=status.get("performance_sample_count_capped"),
            timeout_source=child.timeout_source,
            timeout_followed_s=round(child.timeout_s, 3) if child.timeout_followed else None,
            device_wait_s=round(child.lock_wait_s, 3)),
        provisioning=provisioning,
        log_dir=None if run.log_dir is None or run.log_dir == ctx.run_dir else str(run.log_dir),
        framework=run.framework or _framework(status.get("backend")),
        python_executable=sys.executable,
    )
    record.not_submittable_because = _not_submittable(plan, case, score, status, harness_reasons)
    if run.section is not None:
        record.harness_sections[harness] = run.section
    return record


def _loadgen(result: RunResult) -> LoadgenSection:
    return LoadgenSection(
        validity=result.validity, unmet=list(result.unmet), recommendation=result.recommendation,
        errors=list(result.errors), warnings=len(result.warnings), metric=result.metric_name,
        value=result.metric_value, unit=result.metric_unit, latencies_ms=dict(result.latencies_ms),
        seeds={k: result.effective.get(f"{k}_rng_seed") for k in ("qsl", "sample_index", "schedule")})


def _artifact(artifact: Provisioned) -> ArtifactSection:
    return ArtifactSection(path=None if artifact.path is None else str(artifact.path), key=artifact.key,
                           cache_hit=artifact.cache_hit, build_seconds=artifact.build_seconds,
                           source=artifact.source, seconds=round(artifact.seconds, 4))


def _framework(backend: Any) -> str | None:
    if not isinstance(backend, dict) or not backend.get("backend"):
        return None
    names = {"onnxruntime": "ONNX Runtime", "torch": "PyTorch"}
    return f"{names.get(backend['backend'], backend['backend'])} {backend.get('version', '')}".strip()


def _not_submittable(plan: RunPlan, case: Case, score: dict[str, Any] | None, status: dict[str, Any],
                     harness_reasons: list[str]) -> list[str]:
    reasons = []
    if plan.profile.value != "official":
        reasons.append(f"profile {plan.profile.value}: shortened LoadGen settings")
    reasons += harness_reasons
    capped = status.get("performance_sample_count_capped")
    if capped:
        reasons.append(f"performance_sample_count capped from {capped['from']} to {capped['to']} "
                       "(the data set's size)")
    if score and score.get("subset"):
        reasons.append(f"accuracy on a subset of {score['expected']} of {score['dataset_size']} samples")
    if case.benchmark not in MLPERF_BENCHMARKS:
        reasons.append(f"{case.benchmark} is not an MLPerf benchmark")
    return reasons


def junit_properties(record: RunRecord) -> list[tuple[str, Any]]:
    """The plugin's JUnit properties of a run (a harness appends its own after them)."""
    props: list[tuple[str, Any]] = [("mlperf_verdict", record.verdict), ("mlperf_profile", record.profile)]
    lg = record.loadgen
    if lg is not None:
        if lg.validity:
            props.append(("mlperf_validity", lg.validity))
        if lg.metric:
            props += [("mlperf_metric", lg.metric), ("mlperf_metric_value", lg.value),
                      ("mlperf_metric_unit", lg.unit)]
        for key, value in lg.latencies_ms.items():
            props.append((f"mlperf_latency_{key}_ms", value))
    if record.accuracy:
        from .accuracy.judge import properties_of

        props += properties_of(record.accuracy)
    if record.round:
        props.append(("mlperf_round", record.round))
    if record.audit:
        props.append(("mlperf_audit", record.audit.get("test")))
        verification = record.audit.get("verification") or {}
        if "passed" in verification:
            props.append(("mlperf_audit_verdict", "PASS" if verification["passed"] else "FAIL"))
    if record.ignored_knobs:
        props.append(("mlperf_ignored_knobs", ", ".join(record.ignored_knobs)))
    props.append(("mlperf_run_dir", record.run_dir))
    return props


def _values(sourced: dict[str, Any]) -> dict[str, Any]:
    return {k: v.value for k, v in sourced.items()}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")
