"""The reports' one view of a run record (``<run dir>/result.json``).

Every report (summary, HTML, baselines, shards) reads runs through :func:`read_run` and nothing
else, so the record's format is known in one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULT_FILE = "result.json"
CHILD_STATUS_FILE = "child_status.json"

#: the setting that states what a scenario's run aimed at: (LoadGen attribute, unit, scale to the metric's)
TARGETS = {
    "Offline": ("offline_expected_qps", "samples/s", 1.0),
    "Server": ("server_target_qps", "samples/s", 1.0),
    "SingleStream": ("single_stream_expected_latency_ns", "ms", 1e-6),
    "MultiStream": ("multi_stream_expected_latency_ns", "ms", 1e-6),
}


@dataclass
class RunView:
    """What the reports need from one run."""

    run_dir: Path
    suite_path: str
    suite_name: str
    benchmark_id: str
    benchmark: str
    scenario: str
    mode: str
    audit: str | None
    harness: str | None
    backend: str | None
    profile: str | None
    verdict: str
    reasons: list[str]
    validity: str | None
    metric_name: str | None
    metric_value: float | None
    metric_unit: str | None
    latencies_ms: dict[str, float]
    accuracy: dict[str, Any] | None
    round: str | None
    submittable: bool | None
    not_submittable_because: list[str]
    settings: dict[str, Any]
    seeds: dict[str, Any]
    loadgen_version: str | None
    versions: dict[str, Any]
    session_id: str | None
    started: str | None
    finished: str | None
    wall_s: float | None
    samples_completed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> tuple[str, float, str] | None:
        """What the run's settings aimed at, in the metric's unit: (setting, value, unit)."""
        if self.scenario not in TARGETS:
            return None
        name, unit, scale = TARGETS[self.scenario]
        value = self.settings.get(name)
        return None if value is None else (name, float(value) * scale, unit)


class RecordError(Exception):
    """A result.json that cannot be read."""


def read_run(run_dir: Path) -> RunView:
    """The run record of ``run_dir`` (raises :class:`RecordError` naming the file and the problem)."""
    path = Path(run_dir) / RESULT_FILE
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise RecordError(f"{path}: no run record (the run did not get that far)") from None
    except (OSError, ValueError) as exc:
        raise RecordError(f"{path}: unreadable run record: {exc}") from None
    if not isinstance(record, dict) or "case" not in record:
        raise RecordError(f"{path}: not a run record of pytest-mlperf-nv")
    case = record.get("case") or {}
    suite = record.get("suite") or {}
    loadgen = record.get("loadgen") or {}
    child = record.get("child") or {}
    versions = record.get("versions") or {}
    settings = {
        k: (v.get("value") if isinstance(v, dict) else v) for k, v in (record.get("settings") or {}).items()
    }
    return RunView(
        run_dir=Path(run_dir),
        suite_path=str(suite.get("path") or ""),
        suite_name=str(suite.get("name") or Path(str(suite.get("path") or "suite")).stem),
        benchmark_id=str(case.get("id")),
        benchmark=str(case.get("benchmark") or case.get("id")),
        scenario=str(case.get("scenario")),
        mode=str(case.get("mode")),
        audit=case.get("audit"),
        harness=case.get("harness") or record.get("harness"),
        backend=case.get("backend"),
        profile=record.get("profile"),
        verdict=str(record.get("verdict") or "FAIL"),
        reasons=list(record.get("reasons") or []),
        validity=loadgen.get("validity"),
        metric_name=loadgen.get("metric"),
        metric_value=_float(loadgen.get("value")),
        metric_unit=loadgen.get("unit"),
        latencies_ms={k: float(v) for k, v in (loadgen.get("latencies_ms") or {}).items() if v is not None},
        accuracy=record.get("accuracy"),
        round=record.get("round"),
        submittable=record.get("submittable"),
        not_submittable_because=list(record.get("not_submittable_because") or []),
        settings=settings,
        seeds=dict(loadgen.get("seeds") or {}),
        loadgen_version=versions.get("loadgen"),
        versions=versions,
        session_id=record.get("session_id"),
        started=record.get("started"),
        finished=record.get("finished"),
        wall_s=_float(child.get("wall_s")),
        samples_completed=child_samples(Path(run_dir)),
    )


def child_samples(run_dir: Path) -> int | None:
    """Samples the built-in SUT completed (its child status), where it says."""
    try:
        status = json.loads((run_dir / CHILD_STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None
    value = status.get("samples_completed") if isinstance(status, dict) else None
    return int(value) if isinstance(value, int) else None


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


__all__ = ["RecordError", "RunView", "TARGETS", "child_samples", "read_run"]
