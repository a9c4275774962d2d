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
"""

from __future__ import annotations

import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..accuracy.log import AccuracyLogError, read_accuracy_log
from ..harness.logs import LogError, read_detail
from .rules import ACCURACY_LOG, DETAIL, SUMMARY
from .truncate import looks_truncated

#: accuracy_log_rng_seed of TEST01 (compliance/nvidia/TEST01/<model>/audit.config, e.g. dlrm-v2)
TEST01_RNG_SEED = 720381539243781796
#: accuracy_log_sampling_target of TEST01 per mlperf.conf model (compliance/nvidia/TEST01/<model>/
#: audit.config; facts §3.3: 4096 resnet50, bert, dlrm-v2, gpt-j, rnnt; 256 retinanet; 64 3d-unet)
TEST01_SAMPLING_TARGET = {
    "resnet50": 4096,
    "bert": 4096,
    "dlrm-v2": 4096,
    "gptj": 4096,
    "rnnt": 4096,
    "retinanet": 256,
    "3d-unet": 64,
}
#: for a benchmark with no official TEST01 config (the project's ``digits``, a plugin's own
#: benchmark): 64 samples, 3d-unet's value and the smallest official one, which a small QSL can
#: still fill and which keeps the sampled accuracy log small. A project choice, not an MLCommons rule.
TEST01_DEFAULT_SAMPLING_TARGET = 64
#: TEST04's per-scenario keys (compliance/TEST04/audit.config). That file also has
#: stable-diffusion-xl / wan2.2 min_query_count lines, left out here: LoadGen applies an audit.config
#: with model "*", so model-specific lines never match (facts §1.5).
TEST04_SCENARIOS = ("MultiStream", "Offline", "SingleStream", "Server")
#: TEST06 (compliance/TEST06/audit.config), for LLMs
TEST06_LINES = ("*.*.mode = 2", f"*.*.accuracy_log_rng_seed = {TEST01_RNG_SEED}",
                "*.*.accuracy_log_sampling_target = 100", "*.*.min_query_count = 100",
                "*.*.min_duration = 0", "# Turn off equal issue mode for TEST06",
                "*.*.sample_concatenate_permutation = 0")
_HEADER = ("# The format of this config file is 'key = value'.\n"
           "# The key has the format 'model.scenario.key'. Value is mostly int64_t.\n"
           "# Model maybe '*' as wildcard. In that case the value applies to all models.\n"
           "# All times are in milli seconds\n")
_MODE = "# mode dictionary (0 = submission, 1 = accuracy, 2 = performance, 3 = find peak perf)\n"

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
THRESHOLD = 0.10  # both verify_performance.py scripts
LOW_LATENCY_THRESHOLD = 0.20  # ditto, "very low" SingleStream / MultiStream
LOW_LATENCY_LIMIT = {"SingleStream": 200_000, "MultiStream": 1_600_000}  # ditto


class AuditError(Exception):
    """An audit cannot be verified at all (missing or truncated logs, a bad dtype)."""


def _conf_model(benchmark: str) -> str:
    from ..benchmarks import mlperf

    try:
        return mlperf.get(benchmark).conf_model
    except KeyError:
        return benchmark


def sampling_target(benchmark: str) -> int:
    """TEST01's accuracy_log_sampling_target for a benchmark (suite, checker or mlperf.conf name)."""
    return TEST01_SAMPLING_TARGET.get(_conf_model(benchmark), TEST01_DEFAULT_SAMPLING_TARGET)


def audit_config_text(test: str, benchmark: str) -> str:
    """The audit.config of ``test`` (TEST01, TEST04, TEST06) for ``benchmark``."""
    if test == "TEST01":
        return (_HEADER + "\n" + _MODE + "*.*.mode = 2\n"
                f"*.*.accuracy_log_rng_seed = {TEST01_RNG_SEED}\n"
                f"*.*.accuracy_log_sampling_target = {sampling_target(benchmark)}\n")
    if test == "TEST04":
        lines = []
        for scenario in TEST04_SCENARIOS:
            lines += [f"*.{scenario}.mode = 2", f"*.{scenario}.performance_issue_unique = 0",
                      f"*.{scenario}.performance_issue_same = 1",
                      f"*.{scenario}.performance_issue_same_index = 3"]
        return _HEADER + "\n".join(lines) + "\n"
    if test == "TEST06":
        return _HEADER + "\n" + _MODE + "\n".join(TEST06_LINES) + "\n"
    raise ValueError(f"no audit.config for {test!r}; known: TEST01, TEST04, TEST06")


# --------------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------------


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


def _threshold(scenario: str | None, reference_score: float) -> float:
    limit = LOW_LATENCY_LIMIT.get(scenario or "")
    return LOW_LATENCY_THRESHOLD if limit is not None and reference_score <= limit else THRESHOLD


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
    check.threshold = threshold = _threshold(ref_scenario, ref_score)
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


def _write(out_dir: Path, name: str, text: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / name).write_text(text, encoding="utf-8")


def _copy_logs(run_dir: Path, out_dir: Path, accuracy: bool) -> None:
    perf = out_dir / "performance" / "run_1"
    perf.mkdir(parents=True, exist_ok=True)
    for name in (SUMMARY, DETAIL):
        shutil.copy2(run_dir / name, perf / name)
    if accuracy:
        (out_dir / "accuracy").mkdir(parents=True, exist_ok=True)
        shutil.copy2(run_dir / ACCURACY_LOG, out_dir / "accuracy" / ACCURACY_LOG)


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
    _write(out_dir, "verify_accuracy.txt", accuracy.text)
    _write(out_dir, "verify_performance.txt", performance.text)
    if copy_logs:
        _copy_logs(test01_run_dir, out_dir, accuracy=True)
    return Test01Result(accuracy, performance, out_dir)


# --------------------------------------------------------------------------------------------------
# TEST04
# --------------------------------------------------------------------------------------------------

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
    check.threshold = _threshold(ref.scenario, ref.score)
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
    _write(out_dir, "verify_performance.txt", performance.text)
    if copy_logs:
        _copy_logs(test04_run_dir, out_dir, accuracy=False)
    return Test04Result(performance, out_dir)
