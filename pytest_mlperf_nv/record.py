"""The run record: ``result.json``, one per run, written and read only through this module.

Format 2 (this version) is documented in README ("The run record"). Readers accept format 1
(written by earlier versions; the same keys without ``log_dir``, ``framework`` and
``implementation``), so a tree rebuilt from older run dirs still reads them. Every section a
harness adds of its own (``nvidia`` for NVIDIA's code) is kept under its own key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import MlperfError
from .rundir import RESULT

FORMAT = 2
READABLE_FORMATS = (1, 2)
VERDICTS = ("PASS", "FAIL")


class RecordError(MlperfError):
    """A result.json that cannot be read as a run record."""


@dataclass
class LoadgenSection:
    """What LoadGen said about the run (from its own logs)."""

    validity: str | None
    unmet: list[str]
    recommendation: str
    errors: list[str]
    warnings: int
    metric: str | None
    value: float | None
    unit: str | None
    latencies_ms: dict[str, float]
    seeds: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadgenSection:
        return cls(validity=data.get("validity"), unmet=list(data.get("unmet") or []),
                   recommendation=str(data.get("recommendation") or ""),
                   errors=list(data.get("errors") or []), warnings=int(data.get("warnings") or 0),
                   metric=data.get("metric"), value=_float(data.get("value")), unit=data.get("unit"),
                   latencies_ms=dict(data.get("latencies_ms") or {}), seeds=dict(data.get("seeds") or {}))


@dataclass
class ChildSection:
    """How the process that ran LoadGen ended (context for messages, never the verdict)."""

    returncode: int | None
    timed_out: bool
    timeout_s: float
    wall_s: float
    timings: dict[str, Any] | None = None
    performance_sample_count_capped: dict[str, Any] | None = None
    #: where ``timeout_s`` came from: a setting (file:line, flag, variable) or the automatic rule
    timeout_source: str = ""
    #: the limit in force when the run ended, where the automatic one followed the child's
    #: report of its expected length (seconds from the start); None when it did not move
    timeout_followed_s: float | None = None
    #: seconds the run waited for its device (performance runs take turns per device)
    device_wait_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChildSection:
        followed = data.get("timeout_followed_s")
        return cls(returncode=data.get("returncode"), timed_out=bool(data.get("timed_out")),
                   timeout_s=float(data.get("timeout_s") or 0.0), wall_s=float(data.get("wall_s") or 0.0),
                   timings=data.get("timings"),
                   performance_sample_count_capped=data.get("performance_sample_count_capped"),
                   timeout_source=str(data.get("timeout_source") or ""),
                   timeout_followed_s=_float(followed) if followed is not None else None,
                   device_wait_s=float(data.get("device_wait_s") or 0.0))


@dataclass
class ArtifactSection:
    """A provisioned artifact (model, dataset, engine, calibration) and how it was obtained."""

    path: str | None
    key: str
    cache_hit: bool | None
    build_seconds: float | None
    source: str
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArtifactSection:
        return cls(path=data.get("path"), key=str(data.get("key") or ""), cache_hit=data.get("cache_hit"),
                   build_seconds=_float(data.get("build_seconds")), source=str(data.get("source") or ""),
                   seconds=float(data.get("seconds") or 0.0))


@dataclass
class RunRecord:
    """One run: what ran, under which settings, what LoadGen and the plugin said, and why."""

    session_id: str
    session_started: str
    worker: str
    started: str
    finished: str
    #: pytest_mlperf_nv, python, loadgen (LoadGen's own version line), backend (its description)
    versions: dict[str, Any]
    #: path, name, sha256 of the suite file
    suite: dict[str, Any]
    #: id, benchmark, scenario, mode, audit, harness, backend
    case: dict[str, Any]
    profile: str
    harness: str
    verdict: str
    reasons: list[str]
    run_dir: str
    overrides: list[str] = field(default_factory=list)
    ignored_knobs: list[str] = field(default_factory=list)
    submittable: bool | None = None
    not_submittable_because: list[str] = field(default_factory=list)
    round: str | None = None
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: path, cache_key, cache_hit, build_seconds of the model the run used
    model: dict[str, Any] = field(default_factory=dict)
    loadgen: LoadgenSection | None = None
    #: the accuracy score (metric, value, target, ...) of an accuracy run
    accuracy: dict[str, Any] | None = None
    child: ChildSection | None = None
    provisioning: dict[str, ArtifactSection] = field(default_factory=dict)
    #: compliance runs: the audit, its references and verification
    audit: dict[str, Any] | None = None
    #: where LoadGen's logs of this run are: the run dir, or a harness's own log tree
    log_dir: str | None = None
    #: the inference stack, as the submission's system description names it ("ONNX Runtime 1.32")
    framework: str | None = None
    #: the implementation name in the submission tree's code dir
    implementation: str | None = None
    python_executable: str | None = None
    #: sections a harness adds of its own, each under its own key (e.g. "nvidia")
    harness_sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    format: int = FORMAT

    # -- readers' conveniences --------------------------------------------------------------
    @property
    def passed(self) -> bool:
        return self.verdict == "PASS"

    @property
    def loadgen_version(self) -> str | None:
        return self.versions.get("loadgen")

    @property
    def backend_description(self) -> dict[str, Any]:
        found = self.versions.get("backend")
        return found if isinstance(found, dict) else {}

    def logs(self, run_dir: Path) -> Path:
        """Where LoadGen's logs are, for a run whose directory is ``run_dir``."""
        if self.log_dir:
            path = Path(self.log_dir)
            return path if path.is_absolute() else run_dir / path
        return run_dir

    @property
    def mode_name(self) -> str:
        """The last part of the node id: the mode, or the audit of a compliance run."""
        return str(self.case.get("audit") or self.case.get("mode") or "")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": self.format, "session_id": self.session_id, "session_started": self.session_started,
            "worker": self.worker, "started": self.started, "finished": self.finished,
            "versions": self.versions, "suite": self.suite, "case": self.case, "profile": self.profile,
            "overrides": self.overrides, "harness": self.harness, "ignored_knobs": self.ignored_knobs,
            "submittable": self.submittable, "not_submittable_because": self.not_submittable_because,
            "round": self.round, "settings": self.settings, "model": self.model,
            "verdict": self.verdict, "reasons": self.reasons,
            "loadgen": None if self.loadgen is None else self.loadgen.to_dict(),
            "accuracy": self.accuracy,
            "child": None if self.child is None else self.child.to_dict(),
            "run_dir": self.run_dir, "log_dir": self.log_dir, "framework": self.framework,
            "implementation": self.implementation, "python_executable": self.python_executable,
            "provisioning": {k: v.to_dict() for k, v in self.provisioning.items()},
        }
        if self.audit is not None:
            data["audit"] = self.audit
        for name, section in self.harness_sections.items():
            data[name] = section
        return data

    @classmethod
    def from_dict(cls, data: Any, where: str = "result.json") -> RunRecord:
        if not isinstance(data, dict):
            raise RecordError(f"{where}: expected a JSON object, got {type(data).__name__}")
        version = data.get("format")
        if version not in READABLE_FORMATS:
            raise RecordError(f"{where}: unknown record format {version!r} (this plugin reads "
                              f"{', '.join(map(str, READABLE_FORMATS))})")
        try:
            case = _mapping(data, "case")
            verdict = data.get("verdict")
            if verdict not in VERDICTS:
                raise RecordError(f"{where}: verdict {verdict!r} is not PASS or FAIL")
            known = {"format", "session_id", "session_started", "worker", "started", "finished", "versions",
                     "suite", "case", "profile", "overrides", "harness", "ignored_knobs", "submittable",
                     "not_submittable_because", "round", "settings", "model", "verdict", "reasons",
                     "loadgen", "accuracy", "child", "run_dir", "log_dir", "framework", "implementation",
                     "python_executable", "provisioning", "audit"}
            sections = {k: v for k, v in data.items() if k not in known and isinstance(v, dict)}
            log_dir = data.get("log_dir")
            if log_dir is None and isinstance(sections.get("nvidia"), dict):
                log_dir = sections["nvidia"].get("log_dir")  # format 1 kept it in the harness section
            loadgen = data.get("loadgen")
            child = data.get("child")
            return cls(
                session_id=str(data.get("session_id") or ""),
                session_started=str(data.get("session_started") or ""),
                worker=str(data.get("worker") or ""), started=str(data.get("started") or ""),
                finished=str(data.get("finished") or ""), versions=_mapping(data, "versions"),
                suite=_mapping(data, "suite"), case=case, profile=str(data.get("profile") or ""),
                harness=str(data.get("harness") or case.get("harness") or ""), verdict=verdict,
                reasons=[str(r) for r in data.get("reasons") or []], run_dir=str(data.get("run_dir") or ""),
                overrides=[str(o) for o in data.get("overrides") or []],
                ignored_knobs=[str(k) for k in data.get("ignored_knobs") or []],
                submittable=data.get("submittable"),
                not_submittable_because=[str(r) for r in data.get("not_submittable_because") or []],
                round=data.get("round"), settings=_mapping(data, "settings"), model=_mapping(data, "model"),
                loadgen=LoadgenSection.from_dict(loadgen) if isinstance(loadgen, dict) else None,
                accuracy=data.get("accuracy") if isinstance(data.get("accuracy"), dict) else None,
                child=ChildSection.from_dict(child) if isinstance(child, dict) else None,
                provisioning={k: ArtifactSection.from_dict(v)
                              for k, v in _mapping(data, "provisioning").items() if isinstance(v, dict)},
                audit=data.get("audit") if isinstance(data.get("audit"), dict) else None,
                log_dir=None if log_dir is None else str(log_dir),
                framework=data.get("framework"), implementation=data.get("implementation"),
                python_executable=data.get("python_executable"), harness_sections=sections,
                format=int(version))
        except (TypeError, ValueError, AttributeError) as exc:
            raise RecordError(f"{where}: malformed run record: {exc}") from None


def _mapping(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"'{key}' must be an object, got {type(value).__name__}")
    return value


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def write_record(run_dir: Path, record: RunRecord) -> Path:
    """result.json in ``run_dir``, written whole or not at all (the submission tree reads it)."""
    from .fsutil import atomic_write_text

    # A full or read-only disk is an OutputError naming the run dir; no partial file is left.
    return atomic_write_text(Path(run_dir) / RESULT, json.dumps(record.to_dict(), indent=2, default=str))


def read_record(run_dir: Path) -> RunRecord:
    """The run record in ``run_dir``; RecordError when it is missing or unreadable."""
    path = Path(run_dir) / RESULT
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecordError(f"{path}: no run record (the run never finished)") from None
    except OSError as exc:
        raise RecordError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RecordError(f"{path}: not JSON: {exc}") from None
    return RunRecord.from_dict(data, str(path))


def try_read_record(run_dir: Path) -> RunRecord | None:
    """The run record in ``run_dir``, or None when there is none that can be read."""
    try:
        return read_record(run_dir)
    except RecordError:
        return None
