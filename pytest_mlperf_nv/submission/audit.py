"""Compliance audits (TEST01, TEST04): their audit.config and the plugin's own verification.

The verification does what MLCommons' scripts do and writes what they write, so that the
official checker accepts the result (it looks for a ``TEST PASS`` line in ``verify_*.txt``):

* TEST01 accuracy — ``compliance/nvidia/TEST01/verify_accuracy.py``: every response the TEST01
  run logged (accuracy-log sampling during a performance run) must equal, in its first element
  decoded as ``dtype``, the accuracy run's response for the same ``qsl_idx``; PASS iff no
  mismatch and at least one match.
* TEST01 performance — ``compliance/TEST01/verify_performance.py``: both detail logs VALID, same
  scenario (and Server target latency); the TEST01 score within ±10 % of the reference
  performance run's (±20 % when the reference SingleStream latency is <= 200 µs or MultiStream
  <= 1.6 ms).
* TEST04 — ``compliance/TEST04/verify_performance.py``: from the summaries; PASS iff the TEST04
  score (samples/s; 1e9 / early-stopping latency for SingleStream/MultiStream) is below the
  reference score × 1.10. The 1.20 exception is taken literally from that script: it compares
  the reference *rate* with 200000 (SingleStream) / 1600000 (MultiStream), so it applies to every
  SingleStream/MultiStream result whose latency is at least 5 µs / 0.625 µs.

All paths are mlcommons/inference (master). Both audits need the full accuracy logs:
run them before :func:`.truncate.hash_and_truncate`.

This module verifies TEST01 and keeps the audits' names importable in one place; the audit.config
texts are in :mod:`.audit_config`, the checks' and results' records in :mod:`.audit_checks`, TEST04
in :mod:`.audit_test04`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..accuracy.log import AccuracyLogError, read_accuracy_log
from ..harness.logs import LogError, read_detail
from .audit_checks import (
    LOW_LATENCY_LIMIT,
    LOW_LATENCY_THRESHOLD,
    THRESHOLD,
    AccuracyCheck,
    AuditError,
    PerformanceCheck,
    Test01Result,
    Test04Result,
    copy_run_logs,
    threshold_for,
    write_verification,
)
from .audit_config import (
    TEST01_DEFAULT_SAMPLING_TARGET,
    TEST01_RNG_SEED,
    TEST01_SAMPLING_TARGET,
    TEST04_SCENARIOS,
    TEST06_LINES,
    audit_config_text,
    sampling_target,
)
from .audit_test04 import check_test04_performance, verify_test04
from .rules import ACCURACY_LOG, DETAIL
from .truncate import looks_truncated

#: the audits this module can configure and verify
AUDITS = ("TEST01", "TEST04")
#: verify_accuracy.py --dtype choices (compliance/nvidia/TEST01/verify_accuracy.py dtype_map)
DTYPES = {"byte": np.byte, "float32": np.float32, "int32": np.int32, "int64": np.int64}
#: the official metric per scenario in the detail log (compliance/TEST01/verify_performance.py)
RESULT_FIELD = {
    "Offline": "result_samples_per_second",
    "SingleStream": "early_stopping_latency_ss",
    "MultiStream": "early_stopping_latency_ms",
    "Server": "result_completed_samples_per_sec",
}


# --------------------------------------------------------------------------------------------------
# TEST01
# --------------------------------------------------------------------------------------------------


def _full_accuracy_log(path: Path, what: str) -> list:
    if not path.is_file():
        raise AuditError(f"{what}: {path} is missing")
    if looks_truncated(path.read_bytes()):
        raise AuditError(f"{what}: {path} is truncated (hash_and_truncate ran on it): the audit needs the "
                         "full "
                         "log; verify before truncating, on the run directory's log")
    try:
        return read_accuracy_log(path)
    except AccuracyLogError as exc:
        raise AuditError(f"{what}: {exc}") from None


def _first(data: bytes, dtype: Any, where: str) -> np.ndarray:
    itemsize = np.dtype(dtype).itemsize
    if len(data) % itemsize:
        raise AuditError(f"{where}: a response of {len(data)} bytes is not a whole number of "
                         f"{np.dtype(dtype).name} values: wrong --dtype for this benchmark?")
    return np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<"))


def check_test01_accuracy(reference_log: Path, test_log: Path, dtype: str = "byte") -> AccuracyCheck:
    """verify_accuracy.py: the TEST01 run's sampled responses against the accuracy run's."""
    if dtype not in DTYPES:
        try:
            np.dtype(dtype)
        except TypeError:
            raise AuditError(f"unknown dtype {dtype!r}; the official choices are "
                             f"{', '.join(DTYPES)}") from None
    np_dtype = DTYPES.get(dtype, dtype)
    acc_entries = _full_accuracy_log(reference_log, "the accuracy run's log")
    perf_entries = _full_accuracy_log(test_log, "the TEST01 run's log")
    result = AccuracyCheck(passed=False, dtype=dtype, num_acc_log_entries=len(acc_entries),
                           num_perf_log_entries=len(perf_entries))
    results: dict[int, bytes] = {}
    for entry in acc_entries:
        if entry.qsl_idx in results:
            result.num_acc_log_duplicate_keys += 1
            if results[entry.qsl_idx] != entry.data:
                result.num_acc_log_data_mismatch += 1
        else:
            results[entry.qsl_idx] = entry.data
    for entry in perf_entries:
        data = _first(entry.data, np_dtype, str(test_log))
        if entry.qsl_idx in results:
            result.num_perf_log_qsl_idx_match += 1
            ref = _first(results[entry.qsl_idx], np_dtype, str(reference_log))
            if ref.size == 0 or data.size == 0:
                differ = ref.size != data.size
            else:
                differ = bool(data[0] != ref[0])
            if differ:
                result.num_perf_log_data_mismatch += 1
                if len(result.mismatches) < 20:
                    result.mismatches.append({"qsl_idx": entry.qsl_idx, "seq_id": entry.seq_id,
                                              "test": data[0].item() if data.size else None,
                                              "reference": ref[0].item() if ref.size else None})
        else:
            result.num_missing_qsl_idxs += 1
        results[entry.qsl_idx] = entry.data  # as the official script does
    result.passed = result.num_perf_log_data_mismatch == 0 and result.num_perf_log_qsl_idx_match > 0
    result.text = "".join([
        "Verifying accuracy. This might take a while...\n",
        "Reading accuracy mode results...\n",
        "Reading performance mode results...\n",
        f"num_acc_log_entries = {result.num_acc_log_entries}\n",
        f"num_acc_log_duplicate_keys = {result.num_acc_log_duplicate_keys}\n",
        f"num_acc_log_data_mismatch = {result.num_acc_log_data_mismatch}\n",
        f"num_perf_log_entries = {result.num_perf_log_entries}\n",
        f"num_perf_log_qsl_idx_match = {result.num_perf_log_qsl_idx_match}\n",
        f"num_perf_log_data_mismatch = {result.num_perf_log_data_mismatch}\n",
        f"num_missing_qsl_idxs = {result.num_missing_qsl_idxs}\n",
        "TEST PASS\n\n" if result.passed else "TEST FAIL\n\n",
    ])
    return result



def _detail_score(path: Path) -> tuple[dict[str, Any], list[str], str | None, float | None, str]:
    """(detail, error lines, scenario, score, problem) of a detail log, as verify_performance.py reads it."""
    try:
        detail, records = read_detail(path)
    except LogError as exc:
        return {}, [], None, None, str(exc)
    errors = [f"{r.get('key')}: {r.get('value')}" for r in records
              if (r.get("metadata") or {}).get("is_error")]
    scenario = detail.get("effective_scenario")
    key = RESULT_FIELD.get(scenario or "")
    if key is None:
        return detail, errors, scenario, None, f"{path}: no known scenario ({scenario!r})"
    if detail.get(key) is None:
        return detail, errors, scenario, None, f"{path}: no {key} (the run did not finish?)"
    return detail, errors, scenario, float(detail[key]), ""


def check_test01_performance(reference_detail: Path, test_detail: Path) -> PerformanceCheck:
    """compliance/TEST01/verify_performance.py on two detail logs."""
    lines = ["Verifying performance.\n"]
    check = PerformanceCheck(False, None, None, None, None, "", "", str(reference_detail), str(test_detail))

    def fail(reason: str, line: str) -> PerformanceCheck:
        check.reason = reason
        check.text = "".join(lines) + line + "\n"
        return check

    runs: list[tuple[dict[str, Any], str | None, float]] = []
    for label, path in (("reference", reference_detail), ("test", test_detail)):
        detail, errors, scenario, score, problem = _detail_score(path)
        if problem:
            return fail(f"the {label} run: {problem}", f"TEST FAIL: {problem}")
        if detail.get("result_validity") != "VALID":
            return fail(f"the {label} performance run {path} is "
                        f"{detail.get('result_validity') or 'unfinished'}",
                        f"TEST FAIL: Invalid results in {path}")
        if errors:
            # The official script means to print a warning here and crashes instead (NameError): no
            # TEST PASS. The plugin fails it in words.
            return fail(f"the {label} run {path} logged {len(errors)} LoadGen error(s): {errors[0][:200]}",
                        f"TEST FAIL: {len(errors)} ERROR reported in {path}")
        assert score is not None  # a detail log without a score is a problem above
        runs.append((detail, scenario, score))
    (ref, ref_scenario, ref_score), (test, test_scenario, test_score) = runs
    check.scenario = ref_scenario
    if test_scenario != ref_scenario:
        return fail(f"the TEST01 run is {test_scenario}, the reference {ref_scenario}",
                    "TEST FAIL: Test and reference scenarios do not match!")
    latency = "effective_target_latency_ns"
    if ref_scenario == "Server" and test.get(latency) != ref.get(latency):
        return fail(f"Server target latency {test.get('effective_target_latency_ns')} ns differs from the "
                    f"reference's {ref.get('effective_target_latency_ns')} ns",
                    "TEST FAIL: Server target latency mismatch")
    check.reference_score, check.test_score = ref_score, test_score
    check.unit = "ns" if ref_scenario in LOW_LATENCY_LIMIT else "samples/s"
    check.threshold = threshold = threshold_for(ref_scenario, ref_score)
    lines += [f"Reference score = {ref_score}\n", f"Test score = {test_score}\n"]
    if ref_score * (1 - threshold) <= test_score <= ref_score * (1 + threshold):
        check.passed = True
        check.text = "".join(lines) + "TEST PASS\n"
        return check
    return fail(f"{check.describe()}: outside the allowed range (run to run variation, or the audit "
                "changed how the SUT performs)", "TEST FAIL: Test score invalid")


def _resolve_test01_inputs(accuracy_run_dir: Path, reference_perf_dir: Path | None) -> tuple[Path, Path]:
    accuracy_run_dir = Path(accuracy_run_dir)
    if (accuracy_run_dir / "accuracy" / ACCURACY_LOG).is_file():  # a results scenario dir, like -r
        acc_log = accuracy_run_dir / "accuracy" / ACCURACY_LOG
        perf = Path(reference_perf_dir) if reference_perf_dir else accuracy_run_dir / "performance" / "run_1"
        return acc_log, perf
    if reference_perf_dir is None:
        raise AuditError("TEST01 needs the reference performance run: pass reference_perf_dir (the run dir "
                         "with "
                         f"{DETAIL}) or a results scenario dir holding accuracy/ and performance/run_1/")
    return accuracy_run_dir / ACCURACY_LOG, Path(reference_perf_dir)



def verify_test01(accuracy_run_dir: Path, test01_run_dir: Path, out_dir: Path, dtype: str = "byte", *,
                  reference_perf_dir: Path | None = None, copy_logs: bool = False) -> Test01Result:
    """Verify a TEST01 run; writes ``verify_accuracy.txt`` and ``verify_performance.txt`` into ``out_dir``.

    ``accuracy_run_dir``: the accuracy run's directory (with ``mlperf_log_accuracy.json``), or a results
    scenario directory holding ``accuracy/`` and ``performance/run_1/`` (the official ``-r``).
    ``reference_perf_dir``: the performance run to compare with (required with a run directory).
    ``out_dir``: the TEST01 directory; ``copy_logs`` also copies the TEST01 run's logs into its
    ``accuracy/`` and ``performance/run_1/``, as ``run_verification.py`` does.

    Raises:
        AuditError: a log is missing, unreadable or truncated, or the dtype does not fit the responses.
    """
    acc_log, perf_dir = _resolve_test01_inputs(accuracy_run_dir, reference_perf_dir)
    test01_run_dir, out_dir = Path(test01_run_dir), Path(out_dir)
    accuracy = check_test01_accuracy(acc_log, test01_run_dir / ACCURACY_LOG, dtype)
    performance = check_test01_performance(perf_dir / DETAIL, test01_run_dir / DETAIL)
    write_verification(out_dir, "verify_accuracy.txt", accuracy.text)
    write_verification(out_dir, "verify_performance.txt", performance.text)
    if copy_logs:
        copy_run_logs(test01_run_dir, out_dir, accuracy=True)
    return Test01Result(accuracy, performance, out_dir)


__all__ = [
    "AUDITS", "DTYPES", "LOW_LATENCY_LIMIT", "LOW_LATENCY_THRESHOLD", "RESULT_FIELD",
    "TEST01_DEFAULT_SAMPLING_TARGET", "TEST01_RNG_SEED", "TEST01_SAMPLING_TARGET", "TEST04_SCENARIOS",
    "TEST06_LINES", "THRESHOLD", "AccuracyCheck", "AuditError", "PerformanceCheck", "Test01Result",
    "Test04Result", "audit_config_text", "check_test01_accuracy", "check_test01_performance",
    "check_test04_performance", "sampling_target", "threshold_for", "verify_test01", "verify_test04",
]
