"""The reports' one view of a run record (``<run dir>/result.json``, read by :mod:`..record`).

Every report (summary, HTML, baselines, shards) reads runs through :func:`read_run` and nothing
else, so what the reports take from the typed record is chosen in one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..rundir import CHILD_STATUS as CHILD_STATUS_FILE

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
    from ..record import RecordError as _RecordError
    from ..record import read_record

    try:
        record = read_record(Path(run_dir))
    except _RecordError as exc:
        raise RecordError(str(exc)) from None
    case = record.case
    loadgen = record.loadgen
    settings = {k: (v.get("value") if isinstance(v, dict) else v) for k, v in record.settings.items()}
    suite_path = str(record.suite.get("path") or "")
    return RunView(
        run_dir=Path(run_dir),
        suite_path=suite_path,
        suite_name=str(record.suite.get("name") or Path(suite_path or "suite").stem),
        benchmark_id=str(case.get("id")),
        benchmark=str(case.get("benchmark") or case.get("id")),
        scenario=str(case.get("scenario")),
        mode=str(case.get("mode")),
        audit=case.get("audit"),
        harness=case.get("harness") or record.harness or None,
        backend=case.get("backend"),
        profile=record.profile or None,
        verdict=record.verdict,
        reasons=list(record.reasons),
        validity=None if loadgen is None else loadgen.validity,
        metric_name=None if loadgen is None else loadgen.metric,
        metric_value=None if loadgen is None else _float(loadgen.value),
        metric_unit=None if loadgen is None else loadgen.unit,
        latencies_ms={} if loadgen is None else
        {k: float(v) for k, v in loadgen.latencies_ms.items() if v is not None},
        accuracy=record.accuracy,
        round=record.round,
        submittable=record.submittable,
        not_submittable_because=list(record.not_submittable_because),
        settings=settings,
        seeds={} if loadgen is None else dict(loadgen.seeds),
        loadgen_version=record.loadgen_version,
        versions=dict(record.versions),
        session_id=record.session_id or None,
        started=record.started or None,
        finished=record.finished or None,
        wall_s=None if record.child is None else _float(record.child.wall_s),
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
