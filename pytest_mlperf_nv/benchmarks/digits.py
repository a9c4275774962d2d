"""``digits``: a small non-MLPerf smoke benchmark on scikit-learn's bundled digits images.

Real 8x8 handwritten digits with real labels, so that accuracy means something, on any
machine with no download. The model is a small MLP trained deterministically on a fixed
stratified 80 % split and exported to ONNX; the QSL is the other 20 % (360 images).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..datasets import ArrayDataset, DatasetContext
from .base import BenchmarkDef
from .custom import classification_benchmark

SPLIT_SEED = 0
TEST_FRACTION = 0.2
HIDDEN_UNITS = 64
MODEL_FILE = "digits-mlp.onnx"
#: ONNX IR version 10 keeps the model loadable by onnxruntime-gpu builds, which lag onnx
ONNX_IR_VERSION = 10
ONNX_OPSET = 17


def _split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    inputs = (data.data / 16.0).astype(np.float32)
    return train_test_split(inputs, data.target.astype(np.int64), test_size=TEST_FRACTION,
                            random_state=SPLIT_SEED, stratify=data.target)


SPLIT_FILE = "digits-test.npz"


def _split_key() -> dict[str, Any]:
    from importlib.metadata import version

    return {"dataset": "digits", "split_seed": SPLIT_SEED, "test_fraction": TEST_FRACTION,
            "sklearn": version("scikit-learn"), "format": 1}


def _write_test_split(staging_dir: Path) -> None:
    _, test_x, _, test_y = _split()
    np.savez(staging_dir / SPLIT_FILE, inputs=test_x, labels=test_y)


def digits_dataset(context: DatasetContext) -> ArrayDataset:
    """The held-out 20 % of the digits images (360 samples, 64 float32 features each).

    Kept in the cache once made: every run's child would otherwise import scikit-learn and
    split the data again, seconds per item on a busy machine.
    """
    from ..provision.cache import Cache, CacheError

    cache_dir = getattr(context, "cache_dir", None)
    try:
        if cache_dir is None:
            raise CacheError("no cache directory")
        entry = Cache(cache_dir).get_or_build("dataset", _split_key(), _write_test_split,
                                              verify=context.verify)
        with np.load(entry.file(SPLIT_FILE)) as arrays:
            return ArrayDataset(arrays["inputs"], arrays["labels"])
    except (CacheError, OSError, KeyError, ValueError):
        _, test_x, _, test_y = _split()  # an unusable cache costs time, never the run
        return ArrayDataset(test_x, test_y)


def build_digits_model(staging_dir: Path) -> str:
    """Train the MLP (deterministic: fixed split, fixed seed) and write it as ONNX."""
    import warnings

    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    train_x, _, train_y, _ = _split()
    model = MLPClassifier(hidden_layer_sizes=(HIDDEN_UNITS,), random_state=0, max_iter=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(train_x, train_y)
    w1, w2 = (w.astype(np.float32) for w in model.coefs_)
    b1, b2 = (b.astype(np.float32) for b in model.intercepts_)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["input", "w1"], ["h0"]),
            helper.make_node("Add", ["h0", "b1"], ["h1"]),
            helper.make_node("Relu", ["h1"], ["h2"]),
            helper.make_node("MatMul", ["h2", "w2"], ["h3"]),
            helper.make_node("Add", ["h3", "b2"], ["logits"]),
        ],
        "digits_mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 64])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        initializer=[numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
                     numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(b2, "b2")],
    )
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
                                   producer_name="pytest-mlperf-nv")
    onnx_model.ir_version = ONNX_IR_VERSION
    onnx.checker.check_model(onnx_model)
    onnx.save(onnx_model, str(staging_dir / MODEL_FILE))
    return MODEL_FILE


def digits_model_key() -> dict[str, Any]:
    # The version from the package metadata: importing scikit-learn costs half a second.
    from importlib.metadata import version

    return {"model": "digits-mlp", "hidden": HIDDEN_UNITS, "split_seed": SPLIT_SEED,
            "test_fraction": TEST_FRACTION, "opset": ONNX_OPSET, "ir": ONNX_IR_VERSION,
            "sklearn": version("scikit-learn"), "builder": 1}


def definition() -> BenchmarkDef:
    """digits is an ordinary classification benchmark, built like any user-defined one."""
    return classification_benchmark(
        "digits",
        dataset="digits",
        datasets={"digits": "digits"},
        build_model=build_digits_model,
        model_key=digits_model_key,
        accuracy_target=90.0,
        description="scikit-learn digits, MLP on ONNX Runtime (smoke benchmark, not MLPerf)",
    )
