"""What a compliance audit's verification yields: its error, the accuracy and performance checks,
the TEST01 / TEST04 results with words for a failure, the performance thresholds of MLCommons'
``verify_performance.py`` scripts, and the files a verification writes.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .rules import ACCURACY_LOG, DETAIL, SUMMARY

THRESHOLD = 0.10  # both verify_performance.py scripts
LOW_LATENCY_THRESHOLD = 0.20  # ditto, "very low" SingleStream / MultiStream
LOW_LATENCY_LIMIT = {"SingleStream": 200_000, "MultiStream": 1_600_000}  # ditto


class AuditError(Exception):
    """An audit cannot be verified at all (missing or truncated logs, a bad dtype)."""


@dataclass
class PerformanceCheck:
    """The performance half of an audit: the reference and the audit run's scores."""

    passed: bool
    scenario: str | None
    reference_score: float | None
    test_score: float | None
    threshold: float | None
    reason: str  # why it failed ("" when it passed)
    text: str  # what verify_performance.txt holds
    reference: str = ""  # the log files compared
    test: str = ""
    unit: str = ""  # of the scores

    @property
    def ratio(self) -> float | None:
        if self.reference_score and self.test_score is not None:
            return self.test_score / self.reference_score
        return None

    def describe(self) -> str:
        if self.reference_score is None or self.test_score is None:
            return self.reason or "no scores"
        unit = f" {self.unit}" if self.unit else ""
        ratio = self.ratio
        rel = f" ({(ratio - 1) * 100:+.1f} %)" if ratio is not None else ""
        return (f"{self.scenario} reference score {self.reference_score:g}{unit}, test score "
                f"{self.test_score:g}{unit}{rel}, allowed {self.allowed()}")

    def allowed(self) -> str:
        pct = f"{(self.threshold or 0) * 100:.0f} %"
        return f"at most +{pct}" if self.test.endswith(SUMMARY) else f"±{pct}"


@dataclass
class AccuracyCheck:
    """TEST01's accuracy half: the sampled responses against the accuracy run's."""

    passed: bool
    dtype: str
    num_acc_log_entries: int = 0
    num_acc_log_duplicate_keys: int = 0
    num_acc_log_data_mismatch: int = 0
    num_perf_log_entries: int = 0
    num_perf_log_qsl_idx_match: int = 0
    num_perf_log_data_mismatch: int = 0
    num_missing_qsl_idxs: int = 0
    mismatches: list[dict[str, Any]] = field(default_factory=list)  # the first few, for messages
    text: str = ""


@dataclass
class Test01Result:
    """TEST01: both checks, the files written, and words for a failure message."""

    accuracy: AccuracyCheck
    performance: PerformanceCheck
    out_dir: Path

    @property
    def passed(self) -> bool:
        return self.accuracy.passed and self.performance.passed

    @property
    def accuracy_passed(self) -> bool:
        return self.accuracy.passed

    @property
    def performance_passed(self) -> bool:
        return self.performance.passed

    def failures(self) -> list[str]:
        out = []
        acc = self.accuracy
        if not acc.passed:
            if acc.num_perf_log_qsl_idx_match == 0:
                out.append(f"TEST01 accuracy: none of the {acc.num_perf_log_entries} sampled responses has a "
                           f"qsl_idx of the accuracy run ({acc.num_missing_qsl_idxs} missing): the accuracy "
                           "log sampled nothing, or the runs are of different data sets")
            else:
                shown = ", ".join(f"qsl_idx {m['qsl_idx']}: {m['test']} vs {m['reference']}"
                                  for m in acc.mismatches[:5])
                out.append(f"TEST01 accuracy: {acc.num_perf_log_data_mismatch} of "
                           f"{acc.num_perf_log_qsl_idx_match} "
                           f"sampled responses differ from the accuracy run (first element as {acc.dtype}; "
                           f"{shown}): the SUT answers differently in performance mode or is not "
                           "deterministic (a non-deterministic SUT needs MLCommons' accuracy-baseline route)")
        if not self.performance.passed:
            out.append(f"TEST01 performance: {self.performance.reason}")
        return out

    def summary(self) -> str:
        acc = self.accuracy
        return (f"accuracy {'PASS' if acc.passed else 'FAIL'} ({acc.num_perf_log_data_mismatch} mismatches "
                "in "
                f"{acc.num_perf_log_qsl_idx_match} sampled responses), performance "
                f"{'PASS' if self.performance.passed else 'FAIL'} ({self.performance.describe()})")

    def as_dict(self) -> dict[str, Any]:
        acc = {k: v for k, v in asdict(self.accuracy).items() if k != "text"}
        perf = {k: v for k, v in asdict(self.performance).items() if k != "text"}
        return {"test": "TEST01", "passed": self.passed, "accuracy": acc, "performance": perf,
                "out_dir": str(self.out_dir)}


@dataclass
class Test04Result:
    performance: PerformanceCheck
    out_dir: Path

    @property
    def passed(self) -> bool:
        return self.performance.passed

    def failures(self) -> list[str]:
        return [] if self.passed else [f"TEST04 performance: {self.performance.reason}"]

    def summary(self) -> str:
        return f"performance {'PASS' if self.passed else 'FAIL'} ({self.performance.describe()})"

    def as_dict(self) -> dict[str, Any]:
        perf = {k: v for k, v in asdict(self.performance).items() if k != "text"}
        return {"test": "TEST04", "passed": self.passed, "performance": perf, "out_dir": str(self.out_dir)}


def threshold_for(scenario: str | None, reference_score: float) -> float:
    limit = LOW_LATENCY_LIMIT.get(scenario or "")
    return LOW_LATENCY_THRESHOLD if limit is not None and reference_score <= limit else THRESHOLD


def write_verification(out_dir: Path, name: str, text: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / name).write_text(text, encoding="utf-8")


def copy_run_logs(run_dir: Path, out_dir: Path, accuracy: bool) -> None:
    perf = out_dir / "performance" / "run_1"
    perf.mkdir(parents=True, exist_ok=True)
    for name in (SUMMARY, DETAIL):
        shutil.copy2(run_dir / name, perf / name)
    if accuracy:
        (out_dir / "accuracy").mkdir(parents=True, exist_ok=True)
        shutil.copy2(run_dir / ACCURACY_LOG, out_dir / "accuracy" / ACCURACY_LOG)
