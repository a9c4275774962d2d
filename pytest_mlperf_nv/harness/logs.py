"""Parse LoadGen's own log files into a harness-agnostic :class:`RunResult`.

The detail log (``:::MLLOG {json}`` lines) is the source of truth; the summary adds only
what a reader expects to see quoted. Nothing here trusts a harness's exit code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DETAIL = "mlperf_log_detail.txt"
SUMMARY = "mlperf_log_summary.txt"
ACCURACY = "mlperf_log_accuracy.json"
_PREFIX = ":::MLLOG "

#: the official metric per scenario: (detail key, name, unit, scale applied to the value)
HEADLINE = {
    "Offline": ("result_samples_per_second", "samples_per_second", "samples/s", 1.0),
    "Server": ("result_completed_samples_per_sec", "completed_samples_per_second", "samples/s", 1.0),
    "SingleStream": ("early_stopping_latency_ss", "early_stopping_latency_p90", "ms", 1e-6),
    "MultiStream": ("early_stopping_latency_ms", "early_stopping_latency_p99", "ms", 1e-6),
}
_PERCENTILES = ("50.00", "90.00", "95.00", "97.00", "99.00", "99.90")


class LogError(Exception):
    """LoadGen's logs are missing or unreadable."""


@dataclass
class RunResult:
    """What LoadGen said about one run."""

    run_dir: Path
    scenario: str | None
    test_mode: str | None
    validity: str | None  # VALID / INVALID; None for AccuracyOnly runs
    unmet: list[str] = field(default_factory=list)
    recommendation: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    metric_name: str | None = None
    metric_value: float | None = None
    metric_unit: str | None = None
    latencies_ms: dict[str, float] = field(default_factory=dict)
    effective: dict[str, Any] = field(default_factory=dict)
    loadgen_version: str | None = None
    complete: bool = False  # the log reached LoadGen's verdict (or end of an accuracy run)
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.validity == "VALID"

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.metric_name:
            out[self.metric_name] = self.metric_value
        for key, value in self.latencies_ms.items():
            out[f"latency_{key}_ms"] = value
        return out


def read_detail(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """All ``:::MLLOG`` records of a detail log: first value per key, and every record.

    Raises LogError for a missing or unreadable log and for a line LoadGen would not write
    (not a JSON object with a string ``key``, a ``metadata`` that is not an object); the
    values of the records that are LoadGen's may be of any JSON type (see ``parse_run``).
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise LogError(f"LoadGen wrote no detail log ({path} is missing)") from None
    except OSError as exc:
        raise LogError(f"cannot read the detail log {path}: {exc.strerror or exc}") from None
    first: dict[str, Any] = {}
    records: list[dict[str, Any]] = []
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if not line.startswith(_PREFIX):
            continue
        try:
            record = json.loads(line[len(_PREFIX):])
        except (ValueError, RecursionError):
            # A child killed mid-write leaves a partial last line; anything else is corrupt.
            if number == len(lines):
                break
            raise LogError(f"{path}:{number}: not a valid MLLOG record") from None
        if not isinstance(record, dict) or not isinstance(record.get("key"), str) or not isinstance(
                record.get("metadata", {}), (dict, type(None))):
            raise LogError(f"{path}:{number}: not an MLLOG record of LoadGen's (expected an object with a "
                           f"'key'; got {_kind(record)})")
        records.append(record)
        first.setdefault(record["key"], record.get("value"))
    return first, records


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object without a string 'key'" if not isinstance(value.get("key"), str) \
            else "an object whose metadata is not an object"
    return {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


#: detail-log keys parse_run reads, and the JSON types LoadGen writes them with
_NUMBERS = ("result_samples_per_second", "result_completed_samples_per_sec", "early_stopping_latency_ss",
            "early_stopping_latency_ms", "effective_min_duration_ms", "result_max_latency_ns",
            "effective_target_qps", "effective_target_latency_ns", "effective_target_latency_percentile",
            "result_query_count", "effective_samples_per_query", "effective_min_query_count",
            "result_overlatency_query_count")
_STRINGS = ("effective_scenario", "requested_scenario", "effective_test_mode", "requested_test_mode",
            "result_validity", "loadgen_version")
_BOOLEANS = ("result_min_duration_met", "result_min_queries_met", "result_perf_constraints_met",
             "early_stopping_met")


def _check_types(path: Path, detail: dict[str, Any]) -> None:
    """A log whose values LoadGen could not have written (a string where a count goes) is corrupt."""
    for key, value in detail.items():
        if value is None:
            continue
        if key in _NUMBERS or (key.startswith("result_") and key.endswith("_latency_ns")):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif key in _STRINGS:
            ok = isinstance(value, str)
        elif key in _BOOLEANS:
            ok = isinstance(value, bool)
        else:
            continue
        if not ok:
            raise LogError(f"{path}: {key} is {_kind(value) if not isinstance(value, dict) else 'an object'}"
                           ", which LoadGen does not write there: the log is damaged")


def parse_run(run_dir: Path) -> RunResult:
    """Read ``run_dir``'s LoadGen logs. Raises LogError when there is no detail log."""
    detail, records = read_detail(run_dir / DETAIL)
    _check_types(run_dir / DETAIL, detail)
    scenario = detail.get("effective_scenario") or detail.get("requested_scenario")
    mode = detail.get("effective_test_mode") or detail.get("requested_test_mode")
    result = RunResult(run_dir=run_dir, scenario=scenario, test_mode=mode,
                       validity=detail.get("result_validity"), detail=detail,
                       loadgen_version=detail.get("loadgen_version"))
    result.effective = {k[len("effective_"):]: v for k, v in detail.items()
                        if k.startswith("effective_")}
    for record in records:
        meta = record.get("metadata") or {}
        text = f"{record.get('key')}: {str(record.get('value'))[:2000]}"
        if meta.get("is_error"):
            result.errors.append(text)
        elif meta.get("is_warning"):
            result.warnings.append(text)
    if mode == "AccuracyOnly":
        # Accuracy runs have no verdict; LoadGen marks their end with the test's last lines.
        result.complete = "result_query_count" in detail or _summary_done(run_dir)
    else:
        result.complete = "result_validity" in detail
    if scenario in HEADLINE and result.complete and mode != "AccuracyOnly":
        key, name, unit, scale = HEADLINE[scenario]
        value = detail.get(key)
        if value is not None:
            result.metric_name, result.metric_value, result.metric_unit = name, float(value) * scale, unit
        per_query = "_per_query" if scenario == "MultiStream" else ""
        for pct in _PERCENTILES:
            value = detail.get(f"result_{pct}_percentile{per_query}_latency_ns")
            if value is not None:
                result.latencies_ms[f"p{pct.rstrip('0').rstrip('.')}"] = value / 1e6
        for stat in ("min", "mean", "max"):
            value = detail.get(f"result_{stat}{'_query' if per_query else ''}_latency_ns")
            if value is not None:
                result.latencies_ms[stat] = value / 1e6
    if result.validity == "INVALID":
        result.unmet = unmet_conditions(detail, scenario)
        result.recommendation = str(detail.get("result_invalid_reason") or "").strip()
    return result


def _summary_done(run_dir: Path) -> bool:
    try:
        text = (run_dir / SUMMARY).read_text(errors="replace")
    except OSError:
        return False
    return "errors encountered" in text.lower() or "no errors encountered" in text.lower()


def _ms(ns: Any) -> str:
    return f"{float(ns) / 1e6:.3g} ms"


def _clean(text: Any) -> str:
    return re.sub(r"\s*\*\s*", "; ", str(text or "")).strip("; ").strip()


def unmet_conditions(detail: dict[str, Any], scenario: str | None) -> list[str]:
    """Each LoadGen condition that failed, with the numbers behind it."""
    unmet = []
    min_ms = detail.get("effective_min_duration_ms")
    queries = detail.get("result_query_count")
    if detail.get("result_min_duration_met") is False:
        if scenario == "Offline":
            spq = detail.get("effective_samples_per_query")
            took = detail.get("result_max_latency_ns")
            unmet.append(
                f"min duration not met: the Offline query of {spq} samples (expected "
                f"{detail.get('effective_target_qps')} samples/s) finished in "
                f"{_ms(took) if took is not None else '?'}, needs at least {min_ms} ms")
        else:
            unmet.append(f"min duration not met: {queries} queries ran out before {min_ms} ms")
    if detail.get("result_min_queries_met") is False:
        unmet.append(f"min query count not met: {queries} queries, needs at least "
                     f"{detail.get('effective_min_query_count')}")
    if detail.get("result_perf_constraints_met") is False:
        pct = float(detail.get("effective_target_latency_percentile") or 0.99) * 100
        measured = detail.get(f"result_{pct:.2f}_percentile_latency_ns")
        over = detail.get("result_overlatency_query_count")
        unmet.append(
            f"latency constraint not met: p{pct:g} latency "
            f"{_ms(measured) if measured is not None else '?'} > bound "
            f"{_ms(detail.get('effective_target_latency_ns'))} at {detail.get('effective_target_qps')} "
            f"queries/s ({over} of {queries} queries over the bound)")
    if detail.get("early_stopping_met") is False:
        unmet.append(f"early stopping not met: {_clean(detail.get('early_stopping_result'))}")
    return unmet
