"""Benchmarks defined without writing a plugin: a classifier, its ONNX model and its data.

A suite can define one inline (``model:``, ``dataset: {inputs:, labels:}``, ``metric:``);
a plugin or conftest.py can build one with :func:`classification_benchmark` and register
it. The built-in ``digits`` benchmark is made the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets import ArrayDataset, DatasetContext
from ..errors import ProvisionError
from .base import BenchmarkDef, ModelDownload

METRICS = ("top1",)
ARRAYS_DATASET = "arrays"


def argmax_response(outputs: Any) -> np.ndarray:
    """LoadGen response per sample: the predicted class (argmax of the scores) as one int32."""
    return np.asarray(outputs).argmax(axis=1).astype(np.int32).reshape(-1, 1)


def arrays_dataset(context: DatasetContext) -> ArrayDataset:
    """Samples from a ``.npy`` array (first axis = sample) and optional ``.npy`` labels."""
    inputs_path = Path(context.options["inputs"])
    labels_path = context.options.get("labels")
    try:
        inputs = np.load(inputs_path)
        labels = np.load(labels_path) if labels_path else None
    except (OSError, ValueError) as exc:
        raise ProvisionError(f"cannot read the dataset arrays: {exc}") from None
    if labels is not None and len(labels) != len(inputs):
        raise ProvisionError(f"{labels_path} holds {len(labels)} labels for {len(inputs)} samples in "
                             f"{inputs_path}")
    return ArrayDataset(inputs, labels)


def _fixed_model(path: Path, data_dir: Path | None) -> Path | None:
    return path if path.is_file() else None


def classification_benchmark(name: str, *, dataset: str, accuracy_target: float,
                             build_model: Callable[[Path], str] | None = None,
                             model_file: Path | None = None,
                             model_key: Callable[[], dict[str, Any]] = dict,
                             datasets: dict[str, str] | None = None,
                             model_download: ModelDownload | None = None,
                             description: str = "") -> BenchmarkDef:
    """A top-1 classifier benchmark: an ONNX model (a file, or a builder) and a labelled dataset."""
    return BenchmarkDef(
        name=name,
        loadgen_name=name,
        dataset=dataset,
        postprocess=argmax_response,
        build_model=build_model,
        find_model=partial(_fixed_model, model_file) if model_file else None,
        model_hint=f"the model file {model_file}" if model_file else "",
        model_key=model_key,
        model_download=model_download,
        datasets=datasets or {},
        accuracy_metric="top1",
        accuracy_target=accuracy_target,
        description=description,
    )
