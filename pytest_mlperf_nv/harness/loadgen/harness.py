"""``harness: loadgen``: the built-in harness, our Python SUT on the real MLPerf LoadGen.

Each run is a child process (``python -m pytest_mlperf_nv.harness.loadgen.child run_spec.json``)
that builds the dataset, the backend and the SUT, and leaves LoadGen's logs in the run dir.
The plugin provisions what it needs (model, dataset, engine) through its fixtures.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...accuracy.classification import format_imagenet, top1
from ...accuracy.log import AccuracyLogError
from ...datasets import DatasetContext
from ...registry import ImportRef
from ...runspec import RunSpec
from ..api import ARTIFACT_KINDS, Harness, HarnessRun, RunContext, Support, knob_values
from ..logs import ACCURACY
from ..runner import run_child
from ..settings import render_user_conf

if TYPE_CHECKING:
    from ...registry import Registry
    from ...session import MlperfSession
    from ...suite.knobs import Knob
    from ...suite.model import Case, Suite
    from ...verdict import Verdict
    from ..logs import RunResult

NAME = "loadgen"
#: the child process's module: ``python -m <it> run_spec.json`` runs one LoadGen test
CHILD_MODULE = "pytest_mlperf_nv.harness.loadgen.child"
#: harness knobs every backend of the built-in harness honours (the SUT's own)
SUT_KNOBS = frozenset({"gpu_batch_size", "num_warmups"})
#: LoadGen test mode per suite mode; a compliance run is a performance run under its audit.config
_LOADGEN_MODES = {"performance": "PerformanceOnly", "accuracy": "AccuracyOnly",
                  "compliance": "PerformanceOnly"}


class LoadgenHarness(Harness):
    name = NAME
    provisions = ARTIFACT_KINDS

    # -- collection ------------------------------------------------------------------------
    def supports(self, benchmark: str, definition: Any, suite: Suite) -> Support:
        if definition is None:
            return Support(skip_reason=f"{benchmark} cannot run on the built-in harness (harness: {NAME}) "
                                       "yet; NVIDIA's MLPerf code runs it with 'harness: nvidia'")
        if definition.backends and suite.backend not in definition.backends:
            return Support(skip_reason=f"{benchmark} runs on the built-in harness with backend "
                                       f"{', '.join(definition.backends)} only, not {suite.backend}; set "
                                       f"'backend: {definition.backends[0]}' (or run NVIDIA's MLPerf code "
                                       "with 'harness: nvidia')")
        return Support()

    def knob_problem(self, knob: Knob, suite: Suite, registry: Registry) -> str | None:
        if knob.loadgen_attr is not None or knob.name in SUT_KNOBS:
            return None
        if knob.name in getattr(_backend_class(suite, registry), "knobs", ()):
            return None
        return f"knob '{knob.name}' is not honoured by harness '{NAME}' (backend {suite.backend})"

    def backend_options(self, suite: Suite, registry: Registry) -> dict[str, type] | None:
        return dict(getattr(_backend_class(suite, registry), "options", None) or {}) or None

    # -- running ---------------------------------------------------------------------------
    def run(self, ctx: RunContext) -> HarnessRun:
        case, session, layout = ctx.case, ctx.session, ctx.layout
        definition = case.definition
        if definition is None:
            return HarnessRun(None, None, problem=f"{case.benchmark} has no definition for harness {NAME}")
        registry = session.get_registry()
        conf = render_user_conf(definition.loadgen_name, case.scenario, ctx.plan.settings)
        layout.user_conf.write_text(conf)
        audit_config = layout.no_audit_config
        if case.mode == "compliance":
            from ...compliance import write_audit_config

            audit_config = write_audit_config(case, layout)
        model, engine = ctx.artifacts.get("model"), ctx.artifacts.get("engine")
        model_path = engine.path if engine is not None and engine.path else (model.path if model else None)
        spec: RunSpec = {
            "format": 2,
            "run_dir": str(layout.run_dir),
            "case": {"suite": str(case.suite.path), "id": case.id, "benchmark": case.benchmark,
                     "scenario": case.scenario, "mode": case.mode},
            "loadgen": {"model": definition.loadgen_name, "scenario": case.scenario,
                        "mode": _LOADGEN_MODES[case.mode], "settings": ctx.plan.plain_settings,
                        "audit": case.audit},
            "backend": {"name": case.suite.backend,
                        "ref": registry.backends[case.suite.backend].to_dict(),  # type: ignore[typeddict-item]
                        "options": dict(case.suite.backend_options)},
            "dataset": _dataset_spec(session, case),
            "postprocess": ImportRef.of(definition.postprocess).to_dict(),  # type: ignore[typeddict-item]
            # The backend's compiled form of the model when it has one, else the model itself.
            "model_path": str(model_path),
            "batch_size": int(case.knob("gpu_batch_size", 1)),
            "num_warmups": int(case.knob("num_warmups", 0)),
            "audit_config": str(audit_config),
            "accuracy_samples": case.accuracy_samples.value if case.accuracy_samples else None,
            "knobs": knob_values(case.knobs),
        }
        from ..devicelock import run_lock

        child = run_child(CHILD_MODULE, spec, layout.run_dir, ctx.plan.run_timeout,
                          lock=run_lock(session, case))
        if child.status.get("error_type") == "ProvisionError":
            # Missing data is a skip that says what to provide, not a failed benchmark.
            return HarnessRun(child, None, skip=child.status.get("error_message", ""))
        return HarnessRun(child, layout.run_dir)

    def missing_prerequisites(self, case: Case, session: MlperfSession) -> list[str]:
        from ...accuracy.judge import ScoringInputs, ground_truth_problem, scored_by_plugin

        if case.mode != "accuracy" or not scored_by_plugin(case.benchmark) or _synthetic(case):
            return []
        problem = ground_truth_problem(ScoringInputs.of(session, case, NAME))
        return [problem] if problem else []

    def judge_accuracy(self, ctx: RunContext, run: HarnessRun, result: RunResult) -> Verdict:
        from ...accuracy.judge import ScoringInputs, judge_scored, scored_by_plugin
        from ...verdict import judge_accuracy

        case = ctx.case
        definition = case.definition
        minimum = case.expect["min_accuracy"].value if "min_accuracy" in case.expect else None
        if scored_by_plugin(case.benchmark) and not _synthetic(case):
            # An MLPerf benchmark: scored as its official script does, against the registry's targets.
            inputs = ScoringInputs.of(ctx.session, case, NAME, subset=_samples(ctx))
            return judge_scored(result, inputs, ctx.run_dir / ACCURACY, ctx.run_dir, min_accuracy=minimum)
        target = minimum if minimum is not None else (definition.accuracy_target if definition else 0.0)
        score, problem = _score(ctx)
        return judge_accuracy(result, score, target, problem)

    def not_submittable(self, ctx: RunContext, run: HarnessRun) -> list[str]:
        case, definition = ctx.case, ctx.case.definition
        reasons = []
        if definition and case.dataset and definition.is_synthetic(case.dataset):
            reasons.append(f"synthetic data ({case.dataset}): performance only")
        model = ctx.artifacts.get("model")
        if definition and definition.random_model and (model is None or model.source != "data dir"):
            reasons.append("random model weights: performance only")
        return reasons

    # -- reporting -------------------------------------------------------------------------
    def explain(self, case: Case, session: MlperfSession) -> list[str]:
        from ...runplan import plan_run

        definition = case.definition
        if definition is None:
            return []
        plan = plan_run(session, case)

        def row(name: str, value: Any, source: str) -> str:
            return f"    {name:<36} {value!s:<14} <- {source}"

        lines = [f"  benchmark {case.benchmark} (LoadGen model '{definition.loadgen_name}'), dataset "
                 f"{case.dataset}, harness {NAME}, backend {case.suite.backend}", "  run:",
                 row("profile", plan.profile.value, plan.profile.source),
                 row("timeout_s", f"{plan.timeout.value:g}", plan.timeout.source)]
        if case.accuracy_samples:
            lines.append(row("accuracy_samples", case.accuracy_samples.value, case.accuracy_samples.source))
        if case.knobs:
            lines.append("  knobs:")
            lines += [row(name, s.value, s.source) for name, s in sorted(case.knobs.items())]
        if case.suite.backend_options:
            lines.append("  backend_options:")
            lines += [row(name, value, "suite") for name, value in sorted(case.suite.backend_options.items())]
        lines.append(f"  LoadGen settings (over LoadGen's built-in mlperf.conf for "
                     f"{definition.loadgen_name}/{case.scenario}):")
        if plan.settings:
            lines += [row(attr, s.value, s.source) for attr, s in sorted(plan.settings.items())]
        else:
            lines.append("    (none: every value is mlperf.conf's)")
        if case.expect:
            lines.append("  expect:")
            lines += [row(name, s.value, s.source) for name, s in sorted(case.expect.items())]
        lines.append("  user.conf:")
        conf = render_user_conf(definition.loadgen_name, case.scenario, plan.settings)
        lines += [f"    {line}" for line in conf.splitlines()]
        if case.mode == "accuracy" and not _synthetic(case):
            from ...accuracy.judge import ScoringInputs, scored_by_plugin
            from ...accuracy.judge import explain as explain_accuracy

            if scored_by_plugin(case.benchmark):
                lines += explain_accuracy(ScoringInputs.of(session, case, NAME))
        return lines + _explain_audit(case)

    def implementation(self, suite: Suite) -> str:
        return f"pytest-mlperf-nv-{suite.backend}"

    def framework(self, suite: Suite) -> str:
        return suite.backend

    def measurement_defaults(self, case: Case) -> dict[str, str]:
        precision = str(case.knob("precision") or "fp32")
        return {"input_data_types": precision, "weight_data_types": precision,
                "weight_transformations": "none"}

    def code_readme(self, suite: Suite) -> str:
        from ... import __version__

        return (f"pytest-mlperf-nv {__version__} (its built-in LoadGen harness with the {suite.backend} "
                "backend) ran these results.")


def _backend_class(suite: Suite, registry: Registry) -> Any:
    ref = registry.backends.get(suite.backend)
    return None if ref is None else ref.load()


def _dataset_spec(session: MlperfSession, case: Case) -> Any:
    registry = session.get_registry()
    definition = case.definition
    assert definition is not None
    name = case.dataset or definition.dataset
    data_dir = session.settings.get("data_dir")
    return {"name": name, "ref": registry.datasets[name].to_dict(),
            "data_dir": None if data_dir is None else str(data_dir),
            "cache_dir": str(session.settings.get("cache_dir")), "options": dict(case.dataset_options)}


def _synthetic(case: Case) -> bool:
    definition = case.definition
    return bool(definition and case.dataset and definition.is_synthetic(case.dataset))


def _samples(ctx: RunContext) -> int | None:
    """The samples an accuracy run covers when fewer than the ground truth (accuracy_samples, or a
    data set the user cut short); None: all of them."""
    case, session = ctx.case, ctx.session
    spec = _dataset_spec(session, case)
    factory = session.get_registry().datasets[spec["name"]].load()
    dataset = factory(DatasetContext(data_dir=Path(spec["data_dir"]) if spec["data_dir"] else None,
                                     cache_dir=Path(spec["cache_dir"]), options=spec["options"]))
    size = int(dataset.total_count)
    if case.accuracy_samples:
        size = min(size, int(case.accuracy_samples.value))
    return size


def _score(ctx: RunContext) -> tuple[dict[str, Any] | None, str | None]:
    """Top-1 of an accuracy run, from LoadGen's accuracy log and the dataset's labels."""
    from ...errors import HarnessError

    case, session = ctx.case, ctx.session
    definition = case.definition
    assert definition is not None
    spec = _dataset_spec(session, case)
    factory = session.get_registry().datasets[spec["name"]].load()
    dataset = factory(DatasetContext(data_dir=Path(spec["data_dir"]) if spec["data_dir"] else None,
                                     cache_dir=Path(spec["cache_dir"]), options=spec["options"]))
    labels = dataset.labels()
    if labels is None:
        return None, f"dataset {spec['name']} has no labels to score accuracy against"
    full = len(labels)
    if case.accuracy_samples:
        labels = labels[: case.accuracy_samples.value]
    if definition.accuracy_metric != "top1":
        raise HarnessError(f"accuracy metric {definition.accuracy_metric} is not supported yet")
    try:
        found = top1(ctx.run_dir / ACCURACY, labels, dtype=definition.response_dtype)
    except AccuracyLogError as exc:
        return None, f"accuracy log unusable: {exc}"
    # accuracy.txt: the official script's line, as the submission checker parses it.
    ctx.layout.accuracy_txt.write_text(format_imagenet(found) + "\n")
    return {"metric": "top1", "value": 100.0 * found.accuracy, "good": found.good, "total": found.total,
            "duplicates": found.duplicates, "missing": found.missing, "expected": len(labels),
            "subset": len(labels) < full, "dataset_size": full}, None


def _explain_audit(case: Case) -> list[str]:
    """A compliance item: its audit.config and what it is verified against."""
    if case.mode != "compliance" or not case.audit:
        return []
    from ...submission.audit_config import audit_config_text
    from ...submission.rounds import mlperf_name

    against = "the accuracy and performance items" if case.audit == "TEST01" else "the performance item"
    lines = [f"  audit {case.audit}: a performance run under this audit.config, verified against "
             f"{against} of {case.id} {case.scenario}:"]
    text = audit_config_text(case.audit, mlperf_name(case.suite, case.benchmark, case.id) or case.benchmark)
    lines += [f"    {line}" for line in text.splitlines() if line and not line.startswith("#")]
    return lines
