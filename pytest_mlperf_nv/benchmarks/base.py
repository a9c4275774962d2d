"""What the plugin knows about one benchmark."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..suite.knobs import SCENARIOS


@dataclass(frozen=True)
class BenchmarkDef:
    """A benchmark the built-in harness can run.

    ``build_model(staging_dir) -> file name`` writes the model into an empty directory; the
    plugin caches the result under a key made of ``model_key`` and the builder's identity.
    ``postprocess`` turns a batch of backend outputs into one fixed-size response row per
    sample (what LoadGen logs for accuracy); it runs in the child process, so it must be a
    module-level function.
    """

    name: str
    #: model name used for LoadGen's mlperf.conf lookups
    loadgen_name: str
    dataset: str
    postprocess: Callable[[Any], Any]
    build_model: Callable[[Path], str]
    #: everything that changes the built model (library versions, hyper-parameters)
    model_key: Callable[[], dict[str, Any]] = dict
    scenarios: tuple[str, ...] = SCENARIOS
    #: metric name and default target (same unit as the metric: top-1 in percent)
    accuracy_metric: str = "top1"
    accuracy_target: float = 0.0
    response_dtype: str = "int32"
    description: str = ""
    #: performance-only data: accuracy items cannot run
    synthetic: bool = False
