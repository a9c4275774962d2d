"""The run spec: everything the child process that runs one LoadGen test is given.

The parent writes it as ``run_spec.json`` into the run dir; ``python -m
pytest_mlperf_nv.harness.loadgen.child run_spec.json`` reads it back, so a run can be reproduced by
hand. Imported objects (backend, dataset factory, postprocess) travel as import references.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypedDict

from .errors import MlperfError

FORMAT = 2


class SpecError(MlperfError):
    """A run spec that cannot be read."""


class ImportRefSpec(TypedDict):
    module: str
    qualname: str
    file: str | None


class CaseSpec(TypedDict):
    suite: str
    id: str
    benchmark: str
    scenario: str
    mode: str


class LoadgenSpec(TypedDict):
    #: the model name of LoadGen's mlperf.conf
    model: str
    scenario: str
    #: LoadGen's TestMode name (PerformanceOnly, AccuracyOnly)
    mode: str
    #: TestSettings attribute -> value, applied over LoadGen's built-in mlperf.conf
    settings: dict[str, Any]
    audit: str | None


class BackendSpec(TypedDict):
    name: str
    ref: ImportRefSpec
    #: the suite's validated backend_options
    options: dict[str, Any]


class DatasetSpec(TypedDict):
    name: str
    ref: ImportRefSpec
    data_dir: str | None
    cache_dir: str
    options: dict[str, Any]


class RunSpec(TypedDict):
    format: int
    run_dir: str
    case: CaseSpec
    loadgen: LoadgenSpec
    backend: BackendSpec
    dataset: DatasetSpec
    postprocess: ImportRefSpec
    #: the backend's engine when it has one, else the model file
    model_path: str
    batch_size: int
    num_warmups: int
    #: the audit.config LoadGen is given (a path that does not exist on runs that are no audit)
    audit_config: str
    accuracy_samples: int | None
    #: every knob of the case, plain values (a backend or SUT reads the ones it honours)
    knobs: dict[str, Any]


_REQUIRED = tuple(RunSpec.__annotations__)


def write_spec(path: Path, spec: RunSpec) -> None:
    Path(path).write_text(json.dumps(spec, indent=2, default=str))


def read_spec(path: Path) -> RunSpec:
    """The spec at ``path``; SpecError when it is missing, not JSON or lacks a field."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise SpecError(f"cannot read the run spec {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise SpecError(f"the run spec {path} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SpecError(f"the run spec {path} is not a JSON object")
    if data.get("format") != FORMAT:
        raise SpecError(f"the run spec {path} has format {data.get('format')!r}; this plugin writes "
                        f"and reads format {FORMAT} (rerun the item to write a new one)")
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise SpecError(f"the run spec {path} lacks {', '.join(missing)}")
    return data  # type: ignore[return-value]
