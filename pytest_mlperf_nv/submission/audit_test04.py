"""TEST04 verification: ``compliance/TEST04/verify_performance.py`` on two summary logs.

The TEST04 run issues one sample over and over; it passes when it is not faster than the
reference performance run by more than the threshold (a sign of caching results across samples).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .audit_checks import (
    LOW_LATENCY_LIMIT,
    AuditError,
    PerformanceCheck,
    Test04Result,
    copy_run_logs,
    threshold_for,
    write_verification,
)
from .rules import SUMMARY

_SS_ESTIMATE = re.compile(r".*Early stopping (90th|90.0th|99.9th) percentile estimate")
_MS_ESTIMATE = re.compile(r".*Early stopping (99th|99.0th) percentile estimate")


@dataclass
class _Summary:
    scenario: str = ""
    score: float | None = None
    target_latency: str | None = None
    invalid: bool = False
    errors: int = 0


def _read_summary(path: Path) -> _Summary:
    """compliance/TEST04/verify_performance.py's reading of one mlperf_log_summary.txt."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise AuditError(f"{path} is missing") from None
    out = _Summary()
    for line in text.splitlines(keepends=True):
        if re.match("Scenario", line):
            out.scenario = line.split(": ", 1)[1].strip()
            continue
        if out.scenario == "SingleStream" and _SS_ESTIMATE.match(line):
            out.score = 1e9 / float(line.split(": ", 1)[1].strip())
            continue
        if out.scenario == "MultiStream" and _MS_ESTIMATE.match(line):
            out.score = 1e9 / float(line.split(": ", 1)[1].strip())
            continue
        if out.scenario == "Server":
            if re.match("Completed samples per second", line):
                out.score = float(line.split(": ", 1)[1].strip())
                continue
            if re.match(r"target_latency \(ns\)", line):
                out.target_latency = line.split(": ", 1)[1].strip()
                continue
        if out.scenario == "Offline" and re.match("Samples per second", line):
            out.score = float(line.split(": ", 1)[1].strip())
            continue
        if re.match("Result is", line) and line.split(": ", 1)[1].strip() == "INVALID":
            out.invalid = True
        if re.match(r"\d+ ERROR", line):
            out.errors += int(line.split(" ", 1)[0])
    return out


def check_test04_performance(reference_summary: Path, test_summary: Path) -> PerformanceCheck:
    """compliance/TEST04/verify_performance.py on two summary logs."""
    lines = ["Verifying performance.\n"]
    check = PerformanceCheck(False, None, None, None, None, "", "", str(reference_summary), str(test_summary))

    def fail(reason: str, line: str) -> PerformanceCheck:
        check.reason = reason
        check.text = "".join(lines) + line + "\n"
        return check

    ref = _read_summary(reference_summary)
    if ref.invalid:
        return fail(f"the reference performance run {reference_summary} is INVALID",
                    "TEST FAIL: Reference results are invalid")
    test = _read_summary(test_summary)
    if test.scenario == "Server" and ref.scenario == "Server" and test.target_latency != ref.target_latency:
        return fail(f"Server target latency {test.target_latency} ns differs from the reference's "
                    f"{ref.target_latency} ns", "TEST FAIL: Server target latency mismatch")
    if test.invalid:
        return fail(f"the TEST04 run {test_summary} is INVALID", "TEST FAIL: Test results are invalid")
    for label, summary, path in (("reference", ref, reference_summary), ("test", test, test_summary)):
        if summary.errors:
            # the official script only warns; the plugin allows no LoadGen error in any log
            return fail(f"the {label} run {path} reports {summary.errors} LoadGen ERROR(s)",
                        f"TEST FAIL: {summary.errors} ERROR reported in {label} results")
        if summary.score is None:
            return fail(f"no {summary.scenario or 'scenario'} score in {path}", "TEST FAIL: no score in "
                                                                                f"{path}")
    check.scenario = ref.scenario
    if test.scenario != ref.scenario:
        return fail(f"the TEST04 run is {test.scenario}, the reference {ref.scenario}",
                    "Test and reference scenarios do not match!")
    assert ref.score is not None and test.score is not None
    check.reference_score, check.test_score = ref.score, test.score
    check.unit = "samples/s"
    if ref.scenario in LOW_LATENCY_LIMIT:
        check.unit = "queries/s (1e9 / early-stopping latency)"
    check.threshold = threshold_for(ref.scenario, ref.score)
    lines += [f"reference score = {ref.score}\n", f"test score = {test.score}\n"]
    if test.score < ref.score * (1 + check.threshold):
        check.passed = True
        check.text = "".join(lines) + "TEST PASS\n"
        return check
    return fail(f"{check.describe()}: the TEST04 run (one sample issued over and over) is faster than the "
                "reference by more than the threshold, a sign of caching results across samples",
                "TEST FAIL: Test score invalid")


def verify_test04(reference_perf_dir: Path, test04_run_dir: Path, out_dir: Path, *,
                  copy_logs: bool = False) -> Test04Result:
    """Verify a TEST04 run against the reference performance run; writes ``verify_performance.txt``."""
    reference_perf_dir, test04_run_dir = Path(reference_perf_dir), Path(test04_run_dir)
    out_dir = Path(out_dir)
    performance = check_test04_performance(reference_perf_dir / SUMMARY, test04_run_dir / SUMMARY)
    write_verification(out_dir, "verify_performance.txt", performance.text)
    if copy_logs:
        copy_run_logs(test04_run_dir, out_dir, accuracy=False)
    return Test04Result(performance, out_dir)
