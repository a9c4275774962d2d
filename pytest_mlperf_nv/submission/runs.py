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

from ..provision.download import file_sha256

RESULT_FILE = "result.json"
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
    record: dict[str, Any]

    @property
    def log_dir(self) -> Path:
        """Where LoadGen's logs are: the run dir, or NVIDIA's log tree for harness nvidia."""
        nvidia = self.record.get("nvidia") or {}
        if nvidia.get("log_dir"):
            return Path(nvidia["log_dir"])
        return self.run_dir


def read_record(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """A run's ``result.json``: (record, None), or (None, why it cannot be used); (None, None) if absent."""
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            return None, f"{path} is larger than {MAX_RECORD_BYTES:,} bytes: not a run record"
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"{path} cannot be read: {getattr(exc, 'strerror', None) or exc}"
    try:
        record = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return None, f"{path} is not JSON ({str(exc)[:120]})"
    problem = record_problem(record)
    if problem:
        return None, f"{path} is not a run record of this plugin: {problem}"
    return record, None


#: fields the tree reads, with the JSON types a record written by the plugin has there
_SHAPE: dict[str, tuple[type, ...]] = {
    "verdict": (str,), "reasons": (list, type(None)), "profile": (str, type(None)),
    "round": (str, type(None)), "overrides": (list, type(None)),
    "not_submittable_because": (list, type(None)), "versions": (dict, type(None)),
    "nvidia": (dict, type(None)), "model": (dict, type(None)), "audit": (dict, type(None)),
    "accuracy": (dict, type(None)), "logs": (dict, type(None)),
}
_NESTED: dict[tuple[str, str], tuple[type, ...]] = {
    ("versions", "loadgen"): (str, type(None)), ("versions", "backend"): (dict, str, type(None)),
    ("nvidia", "log_dir"): (str, type(None)), ("nvidia", "metadata"): (dict, type(None)),
    ("model", "path"): (str, type(None)), ("audit", "verification"): (dict, type(None)),
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


def load_runs(run_root: Path, bench_id: str, scenario: str, names: list[str]
              ) -> tuple[dict[str, Run], list[tuple[str, str]]]:
    """The runs of one result on disk, and (run name, why) for each whose result.json is unusable."""
    runs: dict[str, Run] = {}
    unreadable: list[tuple[str, str]] = []
    for name in names:
        run_dir = run_root / bench_id / scenario / name
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
    if run.record.get("verdict") != "PASS":
        reasons = "; ".join(run.record.get("reasons") or [])[:300]
        return f"the {run.name} run failed ({reasons or 'see its result.json'}); fix it and rerun"
    changed = _changed_logs(run)
    if changed:
        return (f"the {run.name} run's {', '.join(changed)} changed after the run recorded its verdict "
                f"(in {run.log_dir}); rerun it")
    problem = _log_problem(run, scenario)
    if problem:
        return f"the {run.name} run's logs no longer support its result ({problem}); rerun it"
    return None


def _changed_logs(run: Run) -> list[str]:
    recorded = run.record.get("logs") or {}
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
        scored = (run.record.get("accuracy") or {}).get("total")
        unique = len({e.qsl_idx for e in entries})
        if isinstance(scored, int) and not isinstance(scored, bool) and unique < scored:
            return f"{ACCURACY_LOG} holds {unique} samples; the recorded score counted {scored}"
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


__all__ = ["ACCURACY_LOG", "DETAIL_FILE", "RESULT_FILE", "SUMMARY_FILE", "Run", "load_runs", "log_digests",
           "read_record", "record_problem", "run_problem"]
