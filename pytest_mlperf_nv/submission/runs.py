"""The runs a submission tree is built from, re-validated when the tree is built.

A run directory may have changed since its item passed: a log emptied, garbled or replaced, a
``result.json`` that is ``null`` or hand-edited. The tree enters a run only when its record
reads as a run record and its LoadGen logs still say what the record says (complete, the
record's mode and scenario, VALID where the record passed, an accuracy log that reads and holds
the samples the record scored; the same bytes where the record lists their sha256). Anything
else is left out with the reason, never entered with the record's stale values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..fsutil import inside
from ..provision.download import file_sha256
from ..record import RecordError, RunRecord
from ..rundir import RESULT, RUNS, run_dir_of

RESULT_FILE = RESULT
#: the record field listing the sha256 of the run's LoadGen logs when its verdict was recorded
LOG_SHA256 = "log_sha256"
SUMMARY_FILE = "mlperf_log_summary.txt"
DETAIL_FILE = "mlperf_log_detail.txt"
ACCURACY_LOG = "mlperf_log_accuracy.json"
#: the largest result.json read (a record is a few kB)
MAX_RECORD_BYTES = 16 * 1024 * 1024
#: LoadGen's test mode per run name
_MODES = {"performance": "PerformanceOnly", "accuracy": "AccuracyOnly", "TEST01": "PerformanceOnly",
          "TEST04": "PerformanceOnly", "TEST06": "AccuracyOnly"}


@dataclass
class Run:
    name: str  # performance, accuracy, TEST01, ...
    run_dir: Path
    record: RunRecord

    @property
    def log_dir(self) -> Path:
        """Where LoadGen's logs are: the run dir, or a harness's own log tree."""
        return self.record.logs(self.run_dir)


def read_record(path: Path) -> tuple[RunRecord | None, str | None]:
    """A run's ``result.json``: (record, None), or (None, why it cannot be used); (None, None) if absent.

    Reads what ``record.read_record`` reads, and also turns what it would raise past its own
    errors (text that is no UTF-8, JSON nested thousands deep, a huge file) into a reason.
    """
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            return None, f"{path} is larger than {MAX_RECORD_BYTES:,} bytes: not a run record"
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"{path} cannot be read: {getattr(exc, 'strerror', None) or exc}"
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return None, f"{path} is not JSON ({str(exc)[:120]})"
    problem = record_problem(data)
    if problem:
        return None, f"{path} is not a run record of this plugin: {problem}"
    try:
        return RunRecord.from_dict(data, str(path)), None
    except RecordError as exc:
        return None, str(exc)[:400]


#: fields the tree reads, with the JSON types a record written by the plugin has there (checked
#: before RunRecord.from_dict, which converts what it is given)
_SHAPE: dict[str, tuple[type, ...]] = {
    "verdict": (str,), "reasons": (list, type(None)), "profile": (str, type(None)),
    "round": (str, type(None)), "overrides": (list, type(None)), "log_dir": (str, type(None)),
    "not_submittable_because": (list, type(None)), "versions": (dict, type(None)),
    "model": (dict, type(None)), "audit": (dict, type(None)), "accuracy": (dict, type(None)),
    "framework": (str, type(None)), "implementation": (str, type(None)),
    LOG_SHA256: (dict, type(None)), "suite": (dict, type(None)), "case": (dict, type(None)),
    "loadgen": (dict, type(None)),
}
_NESTED: dict[tuple[str, str], tuple[type, ...]] = {
    ("versions", "loadgen"): (str, type(None)), ("versions", "backend"): (dict, str, type(None)),
    ("nvidia", "log_dir"): (str, type(None)), ("nvidia", "metadata"): (dict, type(None)),
    ("model", "path"): (str, type(None)), ("audit", "verification"): (dict, type(None)),
    ("accuracy", "value"): (int, float, type(None)), ("accuracy", "metric"): (str, type(None)),
    ("loadgen", "value"): (int, float, type(None)), ("loadgen", "unit"): (str, type(None)),
    ("loadgen", "validity"): (str, type(None)),
}
_STRING_LISTS = ("reasons", "overrides", "not_submittable_because")


def record_problem(record: Any) -> str | None:
    """Why ``record`` is not a run record the tree can read (wrong types where it reads), or None."""
    if not isinstance(record, dict):
        return f"its top level is {_kind(record)}, not an object"
    if "verdict" not in record:
        return "it has no verdict"
    for key, types in _SHAPE.items():
        if key in record and not isinstance(record[key], types):
            return f"'{key}' is {_kind(record[key])}"
    for key in _STRING_LISTS:
        values = record.get(key) or []
        if not all(isinstance(v, str) for v in values):
            return f"'{key}' holds something other than text"
    for (outer, inner), types in _NESTED.items():
        block = record.get(outer)
        if isinstance(block, dict) and inner in block and not isinstance(block[inner], types):
            return f"'{outer}.{inner}' is {_kind(block[inner])}"
    return None


def load_runs(out: Path, suite_name: str, bench_id: str, scenario: str, names: list[str]
              ) -> tuple[dict[str, Run], list[tuple[str, str]]]:
    """The runs of one result on disk, and (run name, why) for each whose result.json is unusable.

    Every run dir is checked to lie inside ``<out>/runs`` (names are validated at collection;
    this holds whatever a caller passes).
    """
    runs: dict[str, Run] = {}
    unreadable: list[tuple[str, str]] = []
    root = Path(out) / RUNS
    for name in names:
        run_dir = inside(root, run_dir_of(out, suite_name, bench_id, scenario, name))
        record, problem = read_record(run_dir / RESULT_FILE)
        if problem:
            unreadable.append((name, problem))
        elif record is not None:
            runs[name] = Run(name, run_dir, record)
    return runs, unreadable


def log_digests(log_dir: Path) -> dict[str, str]:
    """sha256 of the LoadGen logs in ``log_dir``: what a run record may list under ``logs``
    so that the tree can tell a log changed after the verdict was recorded."""
    found = {}
    for name in (SUMMARY_FILE, DETAIL_FILE, ACCURACY_LOG):
        path = log_dir / name
        if path.is_file():
            found[name] = file_sha256(path)
    return found


def run_problem(run: Run, scenario: str) -> str | None:
    """Why ``run`` cannot be entered in the tree now (files, verdict, logs re-read), or None."""
    files = [SUMMARY_FILE, DETAIL_FILE] + ([ACCURACY_LOG] if run.name != "performance" else [])
    missing = [f for f in files if not (run.log_dir / f).is_file()]
    if missing:
        return f"the {run.name} run in {run.run_dir} lacks {', '.join(missing)}"
    if not run.record.passed:
        reasons = "; ".join(run.record.reasons)[:300]
        return f"the {run.name} run failed ({reasons or 'see its result.json'}); fix it and rerun"
    changed = _changed_logs(run)
    if changed:
        return (f"the {run.name} run's {', '.join(changed)} changed after the run recorded its verdict "
                f"(in {run.log_dir}); rerun it")
    problem = _log_problem(run, scenario)
    if problem:
        return f"the {run.name} run's logs no longer support its result ({problem}); rerun it"
    return None


def recorded_digests(record: RunRecord) -> dict[str, str]:
    """The sha256 of the logs a record lists (``log_sha256``), as the record keeps them."""
    found = getattr(record, "log_sha256", None)
    if found is None:  # a record type without the field keeps unknown objects as harness sections
        found = record.harness_sections.get(LOG_SHA256)
    return {str(k): str(v) for k, v in (found or {}).items()}


def _changed_logs(run: Run) -> list[str]:
    recorded = recorded_digests(run.record)
    changed = []
    for name, digest in recorded.items():
        path = run.log_dir / str(name)
        try:
            if file_sha256(path) != digest:
                changed.append(str(name))
        except OSError:
            changed.append(str(name))
    return changed


def _log_problem(run: Run, scenario: str) -> str | None:
    from ..harness.logs import LogError, parse_run

    try:
        if (run.log_dir / SUMMARY_FILE).stat().st_size == 0:
            return f"{SUMMARY_FILE} is empty"
        result = parse_run(run.log_dir)
    except (LogError, OSError) as exc:
        return str(exc)[:300]
    if not result.complete:
        return f"{DETAIL_FILE} ends before LoadGen's verdict"
    mode = _MODES.get(run.name)
    if mode and result.test_mode != mode:
        return f"{DETAIL_FILE} is a {result.test_mode} log, not {mode}"
    if result.scenario != scenario:
        return f"{DETAIL_FILE} is a {result.scenario} run, not {scenario}"
    if mode == "PerformanceOnly" and result.validity != "VALID":
        return f"{DETAIL_FILE} says {result.validity or 'no verdict'}, the record says PASS"
    if run.name == "performance" or (run.name in ("TEST04",)):
        return None
    from ..accuracy.log import AccuracyLogError, read_accuracy_log

    try:
        entries = read_accuracy_log(run.log_dir / ACCURACY_LOG)
    except (AccuracyLogError, OSError, RecursionError) as exc:
        return f"{ACCURACY_LOG}: {str(exc)[:300]}"
    if run.name == "accuracy":
        if not entries:
            return f"{ACCURACY_LOG} holds no responses"
        scored = (run.record.accuracy or {}).get("total")
        unique = len({e.qsl_idx for e in entries})
        if isinstance(scored, int) and not isinstance(scored, bool) and unique < scored:
            return f"{ACCURACY_LOG} holds {unique} samples; the recorded score counted {scored}"
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


__all__ = ["ACCURACY_LOG", "DETAIL_FILE", "LOG_SHA256", "RESULT_FILE", "SUMMARY_FILE", "Run", "load_runs",
           "log_digests", "read_record", "record_problem", "recorded_digests", "run_problem"]
