"""What the plugin's submission checker reports: findings, the results they belong to, the report.

A :class:`Finding` is one problem of a submission tree, with a stable ``kind`` (:data:`KINDS`), the
path, the numbers, and how to fix it; :class:`CheckReport` groups them per :class:`ResultInfo` and
gives the verdict. Some findings no short ("quick", non-600 s) run can avoid (facts §3.4):
``duration``, ``samples-per-query``, ``early-stopping``, ``perf-sample-count`` and ``dataset-size``.
Their :attr:`Finding.unavoidable_for_short_runs` is true, so that a caller can accept "only what a
quick run cannot avoid" (:attr:`CheckReport.ok_for_short_run`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ERROR = "error"
WARNING = "warning"

#: the kinds of finding a short run cannot avoid (facts §3.4)
SHORT_RUN_KINDS = frozenset({"duration", "samples-per-query", "early-stopping", "perf-sample-count",
                             "dataset-size"})

#: every kind :func:`check_tree` and :func:`parse_official_output` produce, with what it means
KINDS: dict[str, str] = {
    "no-submission": "no <division>/<submitter> directory with results under the root",
    "wrong-layout": "a directory of another round's layout",
    "missing-file": "a required file or directory is missing",
    "empty-file": "a required file is empty",
    "extra-file": "a file or directory the layout does not allow",
    "bad-json": "a JSON file cannot be read",
    "unreadable-log": "a LoadGen log is missing its records or cannot be parsed",
    "system-field-missing": "a required system-description field is missing",
    "system-field-empty": "a system-description field that needs a value is empty",
    "system-field-type": "a system-description field has the wrong type (number, string)",
    "system-field-value": "a system-description field has a value the checker rejects",
    "measurements-field-missing": "a measurements json field is missing or empty",
    "unknown-benchmark": "the benchmark directory is not an MLPerf benchmark (or not mapped to one)",
    "benchmark-not-in-round": "the benchmark is not part of the round",
    "rules-unknown": "the round's rules for this benchmark are not known to the plugin",
    "missing-scenario": "a scenario the round requires is missing",
    "unknown-scenario": "a scenario directory the round does not allow",
    "wrong-mode": "a log of the wrong LoadGen test mode",
    "scenario-mismatch": "the log's scenario is not its directory's",
    "invalid-run": "LoadGen's verdict is not VALID",
    "loadgen-error": "LoadGen logged error lines",
    "wrong-seeds": "the run's RNG seeds are not the round's",
    "duration": "min_duration below 600 s",
    "samples-per-query": "Offline samples per query below the benchmark's minimum",
    "early-stopping": "the early-stopping condition was not met",
    "latency-bound": "the Server target latency exceeds the benchmark's bound",
    "perf-sample-count": "performance_sample_count below the benchmark's",
    "equal-issue": "equal-issue mode (sample_concatenate_permutation) off where the benchmark needs it",
    "dataset-size": "the accuracy run did not cover the whole data set",
    "accuracy-missing": "accuracy.txt has no value for a metric of the benchmark",
    "accuracy-below-target": "an accuracy metric is below the benchmark's target",
    "accuracy-above-limit": "an accuracy metric is above the benchmark's upper limit",
    "missing-hash": "accuracy.txt has no hash= line",
    "bad-hash": "the hash in accuracy.txt is not the SHA-256 of the log",
    "untruncated-log": "mlperf_log_accuracy.json is over 10 KiB",
    "bad-truncation": "the truncated log is not the official cut of its original",
    "compliance-missing": "a compliance test directory the benchmark needs is missing",
    "compliance-failed": "a compliance test's verification did not pass",
    "not-an-audit-run": "a compliance run without its audit's settings",
    "official-error": "an ERROR of the official checker the plugin has no words for",
    "official-warning": "a WARNING of the official checker",
    "checker-summary": "the official checker's summary lines (they follow from the other errors)",
    "checker-crashed": "the official checker ended with a traceback",
}



@dataclass(frozen=True)
class Finding:
    """One problem of a submission tree."""

    severity: str  # "error" | "warning"
    kind: str  # a stable short id (see KINDS)
    path: Path  # the file or directory at fault
    message: str  # what is wrong, with the numbers
    fix: str  # what to do about it
    result: str = ""  # the result it belongs to: "closed/Org/sys/resnet/Offline", or a system / submitter
    source: str = "plugin"  # "plugin" | "official"

    @property
    def unavoidable_for_short_runs(self) -> bool:
        """A finding every short (non-600 s) run has, whatever the tree builder does (facts §3.4)."""
        return self.kind in SHORT_RUN_KINDS or self.kind == "checker-summary"

    def __str__(self) -> str:
        fix = f"; fix: {self.fix}" if self.fix else ""
        return f"{self.severity.upper()} {self.kind}: {self.message} ({self.path}){fix}"

    def as_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "kind": self.kind, "path": str(self.path), "message": self.message,
                "fix": self.fix, "result": self.result, "source": self.source,
                "unavoidable_for_short_runs": self.unavoidable_for_short_runs}


@dataclass
class ResultInfo:
    """One result the tree holds and what it measured."""

    division: str
    submitter: str
    system: str
    benchmark: str  # the directory name
    mlperf_benchmark: str | None  # the checker name it counts as (model_mapping applied)
    scenario: str
    path: Path  # results/<system>/<benchmark>/<scenario>
    metric_name: str | None = None
    metric_value: float | None = None
    metric_unit: str | None = None
    validity: str | None = None
    accuracy: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.division}/{self.submitter}/{self.system}/{self.benchmark}/{self.scenario}"

    def as_dict(self) -> dict[str, Any]:
        return {"result": self.label, "mlperf_benchmark": self.mlperf_benchmark, "path": str(self.path),
                "metric": self.metric_name, "value": self.metric_value, "unit": self.metric_unit,
                "validity": self.validity, "accuracy": self.accuracy}


@dataclass
class CheckReport:
    """What :func:`check_tree` found."""

    root: Path
    round: str
    round_reason: str
    findings: list[Finding] = field(default_factory=list)
    results: list[ResultInfo] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def ok(self) -> bool:
        """No error at all: the tree is submittable as far as the plugin can tell."""
        return not self.errors

    def avoidable(self) -> list[Finding]:
        """The errors a short run does not excuse."""
        return [f for f in self.errors if not f.unavoidable_for_short_runs]

    @property
    def ok_for_short_run(self) -> bool:
        """Only errors that no short (non-600 s) run can avoid."""
        return not self.avoidable()

    def kinds(self, severity: str | None = ERROR) -> set[str]:
        return {f.kind for f in self.findings if severity is None or f.severity == severity}

    def for_result(self, label: str) -> list[Finding]:
        return [f for f in self.findings if f.result == label]

    def as_dict(self) -> dict[str, Any]:
        return {"root": str(self.root), "round": self.round, "round_reason": self.round_reason, "ok": self.ok,
                "ok_for_short_run": self.ok_for_short_run, "results": [r.as_dict() for r in self.results],
                "findings": [f.as_dict() for f in self.findings]}

    def _rel(self, path: Path) -> str:
        try:
            return str(Path(path).relative_to(self.root))
        except ValueError:
            return str(path)

    def text(self, *, short_run: bool = False, allow_short_run: bool = False) -> str:
        """The report grouped per result. ``short_run``: mark what a short run cannot avoid.

        The last line's verdict matches ``mlperf-nv check-submission``'s exit status: "OK" (0),
        "OK for a short run" only when ``allow_short_run`` accepts those errors (0), else "NOT OK" (1).
        A caller that knows the tree is a short run's (``short_run``) accepts them too.
        """
        lines = [f"MLPerf submission check of {self.root} for {self.round} ({self.round_reason})"]
        metric = {r.label: r for r in self.results}
        groups: dict[str, list[Finding]] = {}
        for finding in self.findings:
            groups.setdefault(finding.result or "(tree)", []).append(finding)
        for label in [*groups, *(r.label for r in self.results if r.label not in groups)]:
            result = metric.get(label)
            head = label
            if result is not None:
                value = (f"{result.metric_value:,.6g} {result.metric_unit}" if result.metric_value is not None
                         else "no metric")
                accuracy = ", ".join(f"{k}={v:g}" for k, v in result.accuracy.items())
                head += f": {value} [{result.validity or 'no verdict'}]"
                head += f", {accuracy}" if accuracy else ""
            found = groups.get(label, [])
            lines.append(head + ("" if found else ": OK"))
            for f in found:
                mark = " (a short run cannot avoid it)" if short_run and f.unavoidable_for_short_runs else ""
                lines.append(f"  {f.severity.upper()} {f.kind}{mark}: {f.message}")
                lines.append(f"    at {self._rel(f.path)}")
                if f.fix:
                    lines.append(f"    fix: {f.fix}")
        errors, warnings = self.errors, self.warnings
        short = sum(1 for f in errors if f.unavoidable_for_short_runs)
        if self.ok:
            verdict = "OK"
        elif self.ok_for_short_run and allow_short_run:
            verdict = "OK for a short run (--allow-short-run accepts what only a full-length run avoids)"
        elif self.ok_for_short_run and short_run:
            verdict = "OK for a short run"
        elif self.ok_for_short_run:
            verdict = ("NOT OK: only a full-length run avoids these errors; --allow-short-run accepts them "
                       "(what CI wants of a quick run's tree)")
        else:
            verdict = "NOT OK"
        lines.append(f"{len(self.results)} result(s), {len(errors)} error(s) ({short} of them only a "
                     f"full-length run avoids), {len(warnings)} warning(s): {verdict}")
        return "\n".join(lines)


__all__ = ["ERROR", "KINDS", "SHORT_RUN_KINDS", "WARNING", "CheckReport", "Finding", "ResultInfo"]
