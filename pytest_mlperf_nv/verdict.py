"""Verdicts of a run, from LoadGen's logs and the accuracy score, as short domain messages.

A performance item passes when LoadGen said VALID, the detail log has no error lines, and
every ``expect:`` gate holds. An accuracy item passes when the detail log has no error
lines, every sample was logged exactly once, and the score meets the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .harness.logs import RunResult

if TYPE_CHECKING:
    from .harness.runner import ChildOutcome

MAX_LISTED = 6


@dataclass
class Verdict:
    passed: bool
    headline: str
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: an accuracy verdict's score (metric, value, ...), recorded with the run
    score: dict[str, Any] | None = None


def judge_performance(result: RunResult, expect: dict[str, Any]) -> Verdict:
    reasons: list[str] = []
    notes: list[str] = []
    if result.validity != "VALID":
        reasons.extend(result.unmet or ["LoadGen gave no reason"])
        if result.recommendation:
            notes.append(f"LoadGen recommends: {result.recommendation}")
    reasons.extend(_errors(result))
    value = result.metric_value
    if result.valid and value is not None:
        if "min_qps" in expect and result.metric_unit == "samples/s" and value < expect["min_qps"]:
            reasons.append(f"expect.min_qps not met: measured {value:,.1f} samples/s, "
                           f"target {expect['min_qps']:,.1f}")
        if "max_latency_ms" in expect and result.metric_unit == "ms" and value > expect["max_latency_ms"]:
            reasons.append(f"expect.max_latency_ms not met: measured {value:.4g} ms, "
                           f"target {expect['max_latency_ms']:.4g} ms")
    passed = not reasons
    headline = f"LoadGen result {result.validity}"
    if passed:
        headline += f", {_metric(result)}"
    elif result.validity == "VALID":
        headline += f" ({_metric(result)}) but"
    return Verdict(passed, headline, reasons[:MAX_LISTED], notes)


def judge_accuracy(result: RunResult, score: dict[str, Any] | None, target: float,
                   accuracy_error: str | None) -> Verdict:
    reasons = list(_errors(result))
    if accuracy_error:
        reasons.append(accuracy_error)
    elif score is not None:
        if score["duplicates"]:
            reasons.append(f"{score['duplicates']} samples were logged more than once")
        if score["missing"]:
            reasons.append(f"{score['missing']} of {score['expected']} samples were never logged")
        if score["value"] < target:
            reasons.append(f"accuracy {score['metric']} {score['value']:.3f}% is below the target "
                           f"{target:.3f}% ({score['good']}/{score['total']} right)")
    passed = not reasons
    headline = "accuracy " + (f"{score['metric']} {score['value']:.3f}% (target {target:.3f}%)"
                              if score else "not scored")
    if score and score.get("subset"):
        headline += f" on a subset of {score['expected']} of {score['dataset_size']} samples (not official)"
    return Verdict(passed, headline, reasons[:MAX_LISTED], score=score)


def did_not_complete(child: ChildOutcome | None, result: RunResult | None, log_problem: str | None,
                     harness_problem: str | None = None, headline: str | None = None) -> Verdict:
    """A run that never reached LoadGen's verdict: what the process did, and what the logs lack.

    ``harness_problem``: why the harness left no logs, in its own words; when its process ended
    well, that is the whole story.
    """
    if harness_problem and child is not None and child.returncode == 0 and not child.timed_out:
        return Verdict(False, headline or "no LoadGen run", [harness_problem])
    reasons = [child.describe()] if child is not None else []
    problem = harness_problem or log_problem
    if problem:
        reasons.append(problem)
    elif result is not None and not result.complete:
        reasons.append("LoadGen's logs are incomplete: the run never reached LoadGen's verdict")
    return Verdict(False, headline or "the run did not complete", reasons or ["the harness ran nothing"])


def with_failures(verdict: Verdict, failures: list[str]) -> Verdict:
    """``verdict``, failed by problems found besides LoadGen's logs (listed first)."""
    if not failures:
        return verdict
    return Verdict(False, verdict.headline, [*failures, *verdict.reasons], verdict.notes, verdict.score)


def audit_not_verified(audit: str, reasons: list[str]) -> Verdict:
    return Verdict(False, f"{audit} not verified", reasons[:MAX_LISTED])


def audit_verified(audit: str, summary: str, reasons: list[str]) -> Verdict:
    outcome = "PASS" if not reasons else "FAIL"
    return Verdict(not reasons, f"{audit} {outcome}: {summary}", reasons[:MAX_LISTED])


def audit_run_problems(result: RunResult, audit: str) -> list[str]:
    """What is wrong with an audit's own run, before it is compared with its references."""
    reasons = list(_errors(result))
    if result.validity == "INVALID":
        unmet = "; ".join(result.unmet) or "see its summary"
        reasons.append(f"the {audit} run itself is INVALID ({unmet})")
    return reasons


def loadgen_errors(result: RunResult) -> list[str]:
    """The reason LoadGen's error lines give, if it logged any."""
    return _errors(result)


def _errors(result: RunResult) -> list[str]:
    if not result.errors:
        return []
    first = result.errors[0]
    more = f" (and {len(result.errors) - 1} more)" if len(result.errors) > 1 else ""
    return [f"LoadGen logged {len(result.errors)} error line(s): {first[:200]}{more}"]


def _metric(result: RunResult) -> str:
    if result.metric_value is None:
        return "no metric"
    if result.metric_unit == "ms":
        return f"{result.metric_name} {result.metric_value:.3f} ms"
    return f"{result.metric_value:,.1f} {result.metric_unit}"
