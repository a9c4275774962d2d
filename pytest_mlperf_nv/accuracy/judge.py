"""An accuracy item's verdict from the plugin's own score, on any harness.

A harness calls :func:`ground_truth_problem` before the run (an item whose ground truth is missing
skips, or fails under ``--mlperf-strict``, without spending its run) and :func:`judge_scored`
after it, with the log its harness wrote: the log is scored with
:func:`~pytest_mlperf_nv.accuracy.score.score_accuracy`, the official-format ``accuracy.txt`` is
written into the item's run dir, and the verdict carries the score recorded in result.json. On
``harness: nvidia`` NVIDIA's own check (its ``metadata.json``) is recorded beside the plugin's, and a
disagreement beyond the printed precision fails the item, showing both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..harness.logs import RunResult
    from ..session import MlperfSession
    from ..suite.model import Case
    from ..verdict import Verdict
    from .result import AccuracyResult

__all__ = ["ScoringInputs", "explain", "ground_truth_problem", "judge_scored", "properties_of",
           "scored_by_plugin"]

SCORED_BY = "pytest-mlperf-nv"


@dataclass(frozen=True)
class ScoringInputs:
    """Where an item's ground truth is looked for, and how its log is read."""

    benchmark: str
    harness: str
    data_dir: Path | None
    scratch_dir: Path | None
    code_dir: Path | None
    precision: str | None
    #: the samples the run was asked to cover when fewer than the data set (accuracy_samples)
    subset: int | None

    @classmethod
    def of(cls, session: MlperfSession, case: Case, harness: str, code_dir: Path | None = None,
           subset: int | None = None) -> ScoringInputs:
        data_dir = session.settings.get("data_dir")
        scratch = os.environ.get("MLPERF_SCRATCH_PATH")
        # Without it, NVIDIA's code dir reaches the scratch path through the build/ links that
        # `make link_dirs` makes (data, models and tokenizers alike).
        scratch_dir = Path(scratch).expanduser() if scratch else (code_dir / "build" if code_dir else None)
        precision = case.knob("precision")
        return cls(case.benchmark, harness, Path(data_dir) if data_dir else None, scratch_dir, code_dir,
                   str(precision) if precision else None, subset)


def scored_by_plugin(benchmark: str) -> bool:
    """Whether the plugin has an evaluator for ``benchmark`` (an MLPerf benchmark of its registry)."""
    from ..benchmarks.mlperf import MLPERF_BENCHMARKS

    return benchmark in MLPERF_BENCHMARKS


#: optional packages each evaluator needs, and the extra that installs them
_PACKAGES = {
    "retinanet": (("pycocotools",), "accuracy"),
    "3d-unet": (("nibabel",), "accuracy"),
    "gptj": (("rouge_score", "transformers"), "accuracy-llm"),
    "llama2-70b": (("rouge_score", "transformers", "pandas"), "accuracy-llm"),
    "llama3.1-8b": (("rouge_score", "transformers"), "accuracy-llm"),
}


def ground_truth_problem(inputs: ScoringInputs) -> str | None:
    """Why ``inputs``' accuracy cannot be scored (the file expected and every path tried, or the
    package missing and the extra that installs it), or None."""
    import importlib.util

    from .dtypes import family
    from .groundtruth import AccuracyDataMissing
    from .score import require_ground_truth

    modules, extra = _PACKAGES.get(family(inputs.benchmark), ((), ""))
    absent = [m for m in modules if importlib.util.find_spec(m) is None]
    if absent:
        return (f"{inputs.benchmark} accuracy needs the Python package(s) {', '.join(absent)}: "
                f"pip install 'pytest-mlperf-nv[{extra}]'")
    try:
        require_ground_truth(inputs.benchmark, data_dir=inputs.data_dir, scratch_dir=inputs.scratch_dir,
                             code_dir=inputs.code_dir, harness=inputs.harness)
    except AccuracyDataMissing as exc:
        return str(exc)
    return None


def explain(inputs: ScoringInputs) -> list[str]:
    """``--mlperf-explain`` lines of an accuracy item: the ground truth it will be scored against and
    the targets, or why it would skip."""
    from ..benchmarks import mlperf
    from .score import require_ground_truth

    problem = ground_truth_problem(inputs)
    if problem:
        return [f"  accuracy: skips before the run: {problem}"]
    bench = mlperf.get(inputs.benchmark)
    level = "99.9" if bench.accuracy_level == 0.999 else "99"
    targets = ", ".join(f"{m.name} >= {m.threshold_99_9 if level == '99.9' else m.threshold_99}"
                        for m in bench.accuracy.metrics
                        if (m.threshold_99_9 if level == "99.9" else m.threshold_99) is not None)
    files = require_ground_truth(inputs.benchmark, data_dir=inputs.data_dir, scratch_dir=inputs.scratch_dir,
                                 code_dir=inputs.code_dir, harness=inputs.harness)
    lines = [f"  accuracy: scored by the plugin as the official script does ({level} % targets: {targets}), "
             "against:"]
    return lines + [f"    {f}" for f in files]


def judge_scored(result: RunResult, inputs: ScoringInputs, log: Path, run_dir: Path, *,
                 min_accuracy: float | None = None, nvidia_metadata: dict[str, Any] | None = None) -> Verdict:
    """The verdict of an accuracy run scored by the plugin (``log``: LoadGen's accuracy log).

    ``min_accuracy`` (the case's ``expect.min_accuracy``) replaces the registry's target of the
    headline metric. ``nvidia_metadata``: NVIDIA's ``metadata.json`` of the run; its verdict is
    recorded beside the plugin's and must agree with it.
    """
    from ..verdict import Verdict, loadgen_errors
    from .groundtruth import AccuracyDataMissing
    from .log import AccuracyLogError
    from .score import score_accuracy

    reasons = loadgen_errors(result)
    try:
        scored = score_accuracy(inputs.benchmark, log, data_dir=inputs.data_dir,
                                scratch_dir=inputs.scratch_dir, code_dir=inputs.code_dir,
                                harness=inputs.harness, precision=inputs.precision, subset=inputs.subset)
    except (AccuracyDataMissing, AccuracyLogError, ImportError) as exc:
        nvidia = _nvidia_side(nvidia_metadata, None)
        headline = "accuracy not scored by the plugin" + (f"; {nvidia['headline']}" if nvidia else "")
        score: dict[str, Any] = {"scored_by": SCORED_BY, "value": None, "metric": None, "problem": str(exc)}
        if nvidia:
            score["nvidia"] = nvidia["score"]
        return Verdict(False, headline, [*reasons, str(exc)], score=score)
    scored.write(run_dir)
    reasons += _logged_twice(log)
    score = scored.record()
    passed_ours, target = _judged(scored, min_accuracy, score)
    reasons += target
    notes = list(scored.notes)
    headline = f"accuracy {scored.summary() if min_accuracy is None else _headline(scored, min_accuracy)}"
    if inputs.subset is not None and inputs.subset < scored.dataset_size:
        score.update(subset=True, expected=inputs.subset, dataset_size=scored.dataset_size)
        headline += f" on a subset of {inputs.subset} of {scored.dataset_size} samples (not official)"
    nvidia = _nvidia_side(nvidia_metadata, scored)
    if nvidia is not None:
        headline += f"; {nvidia['headline']}"
        score["nvidia"] = nvidia["score"]
        score["agreement"] = nvidia["disagreement"] is None
        reasons += nvidia["reasons"]
    score["passed"] = passed_ours
    return Verdict(not reasons, headline, reasons, notes, score=score)


def _logged_twice(log: Path) -> list[str]:
    """Samples the accuracy log holds more than once (the official scripts keep one of each)."""
    from .log import AccuracyLogError, dedupe, read_accuracy_log

    try:
        entries = read_accuracy_log(log)
    except AccuracyLogError:
        return []  # the scoring already said why
    repeated = len(entries) - len(dedupe(entries))
    return [f"{repeated} samples were logged more than once"] if repeated else []


def _judged(scored: AccuracyResult, min_accuracy: float | None,
            score: dict[str, Any]) -> tuple[bool, list[str]]:
    """Whether the score passes, and why not: the registry's targets, or the case's own for the headline."""
    if min_accuracy is None:
        return scored.passed, scored.reasons()
    head = scored.headline
    score["target"] = {"value": min_accuracy, "source": "expect.min_accuracy"}
    reasons = list(scored.problems)
    if head.value is None or head.value < min_accuracy:
        shown = "none" if head.value is None else f"{head.value:g}"
        reasons.append(f"{head.name} {shown} is below expect.min_accuracy {min_accuracy:g}")
    return not reasons, reasons


def _headline(scored: AccuracyResult, min_accuracy: float) -> str:
    head = scored.headline
    shown = "none" if head.value is None else f"{head.value:g}"
    return f"{head.name} {shown} (expect.min_accuracy {min_accuracy:g})"


def _nvidia_side(metadata: dict[str, Any] | None, ours: AccuracyResult | None) -> dict[str, Any] | None:
    """NVIDIA's verdict from its metadata.json, and whether it agrees with the plugin's score."""
    if metadata is None:
        return None
    from .result import compare_with_nvidia

    raw = metadata.get("accuracy")
    entries = [dict(e) for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []
    problem = None
    if not entries:
        problem = "NVIDIA's harness recorded no accuracy result (metadata.json has no 'accuracy')"
    elif not metadata.get("accuracy_pass", False):
        problem = "; ".join(f"{e.get('name')} {e.get('value')} is below NVIDIA's threshold "
                            f"{e.get('threshold')}" for e in entries if not e.get("pass")) \
            or "metadata.json accuracy_pass is false"
    shown = ", ".join(f"{e.get('name')} {e.get('value')}" for e in entries) or "no result"
    verdict = "PASSED" if metadata.get("accuracy_pass") else "FAILED"
    headline = f"NVIDIA's accuracy check: {shown} {verdict if entries else ''}".rstrip()
    reasons = []
    disagreement = compare_with_nvidia(ours, metadata) if ours is not None else None
    if disagreement:
        reasons.append(disagreement)
    if problem and ours is not None and ours.passed:
        reasons.append(f"NVIDIA's accuracy check failed where the plugin's passed: {problem}")
    return {"headline": headline, "disagreement": disagreement, "reasons": reasons,
            "score": {"scored_by": "NVIDIA's accuracy check", "accuracy": entries,
                      "accuracy_pass": bool(metadata.get("accuracy_pass", False)), "problem": problem,
                      "disagreement": disagreement}}


def properties_of(score: dict[str, Any]) -> list[tuple[str, Any]]:
    """JUnit properties of a recorded accuracy score (result.json's ``accuracy`` block)."""
    from .result import junit_properties_of

    if score.get("scored_by") != SCORED_BY or not score.get("metrics"):
        props: list[tuple[str, Any]] = []
        if score.get("metric"):
            props += [("mlperf_accuracy", score.get("value")), ("mlperf_accuracy_metric", score["metric"])]
        if score.get("subset"):
            props.append(("mlperf_accuracy_subset", f"{score['expected']}/{score['dataset_size']}"))
        return props
    props = junit_properties_of(score)
    nvidia = score.get("nvidia")
    if nvidia:
        for entry in nvidia.get("accuracy") or []:
            props.append((f"mlperf_nvidia_accuracy_{str(entry.get('name')).lower()}", entry.get("value")))
        props.append(("mlperf_nvidia_accuracy_pass", str(bool(nvidia.get("accuracy_pass"))).lower()))
        props.append(("mlperf_accuracy_agrees_with_nvidia", str(bool(score.get("agreement"))).lower()))
    return props
