"""What the plugin knows about one benchmark the built-in harness can run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..suite.knobs import SCENARIOS


@dataclass(frozen=True)
class ModelDownload:
    """Where the official model is published, and its checksum."""

    url: str
    filename: str
    md5: str | None = None
    sha256: str | None = None
    source: str = ""  # where the URL and checksum come from


@dataclass(frozen=True)
class BenchmarkDef:
    """A benchmark the built-in harness can run.

    The model comes from ``find_model(data_dir)`` (a file the user provides) or, failing
    that, from ``build_model(staging_dir) -> file name``, which writes it into an empty
    directory; the plugin caches the result under a key made of ``model_key()`` and the
    builder's identity. A builder with ``random_model=True`` makes random weights: fine for
    performance on synthetic data, meaningless for accuracy.

    ``postprocess`` turns a batch of backend outputs into one fixed-size response row per
    sample (what LoadGen logs for accuracy). It runs in the child process, so it must be a
    module-level function, like the dataset factories.
    """

    name: str
    #: model name used for LoadGen's mlperf.conf lookups
    loadgen_name: str
    #: registered dataset used when the suite names none
    dataset: str
    postprocess: Callable[[Any], Any]
    build_model: Callable[[Path], str] | None = None
    find_model: Callable[[Path | None], Path | None] | None = None
    random_model: bool = False
    #: the official model, downloaded (resumable, checksum-verified) when a real run needs it
    #: and the data dir does not hold it
    model_download: ModelDownload | None = None
    #: what a user must provide for a real model (skip messages)
    model_hint: str = ""
    #: everything that changes the built model (library versions, hyper-parameters)
    model_key: Callable[[], dict[str, Any]] = dict
    #: suite ``dataset:`` choices -> registered dataset names
    datasets: dict[str, str] = field(default_factory=dict)
    #: registered dataset names whose data is synthetic (performance only, no labels)
    synthetic_datasets: tuple[str, ...] = ()
    scenarios: tuple[str, ...] = SCENARIOS
    #: metric name and default target (same unit as the metric: top-1 in percent)
    accuracy_metric: str = "top1"
    accuracy_target: float = 0.0
    response_dtype: str = "int32"
    #: key of the benchmark in the MLPerf rules registry, when it is an MLPerf benchmark
    mlperf_name: str | None = None
    #: backends that can run the model (empty: any)
    backends: tuple[str, ...] = ()
    description: str = ""

    def dataset_for(self, choice: str | None) -> str:
        """The registered dataset for a suite's ``dataset:`` choice (None: the default)."""
        return self.dataset if choice is None else self.datasets[choice]

    def is_synthetic(self, dataset: str) -> bool:
        return dataset in self.synthetic_datasets
