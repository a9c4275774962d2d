"""``resnet50``: MLPerf ResNet50 v1.5 on ImageNet (response format and a draft definition).

LoadGen's accuracy log for resnet50 holds one int32 per sample, the predicted class in the
0..999 numbering of ``val_map.txt``; ``accuracy-imagenet.py`` (and
:func:`pytest_mlperf_nv.accuracy.classification.top1`) compare it with the label as is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import BenchmarkDef, ModelDownload
from .mlperf import MLPERF_BENCHMARKS
from .resnet50_model import build_random_resnet50, find_resnet50_model, random_resnet50_key

#: 99 % of the reference top-1 76.46 %, from the rules registry (checker ``accuracy-target``)
ACCURACY_TARGET = float(MLPERF_BENCHMARKS["resnet50"].accuracy.metrics[0].threshold_99 or 0.0)
NUM_CLASSES = 1000


def _first_output(outputs: Any) -> np.ndarray:
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    if isinstance(outputs, (list, tuple)):
        if not outputs:
            raise ValueError("resnet50 backend returned no outputs")
        arrays = [np.asarray(o) for o in outputs]
        # The official model returns (ArgMax:0, softmax_tensor:0); prefer the class ids.
        for a in arrays:
            if np.issubdtype(a.dtype, np.integer):
                return a
        return arrays[0]
    return np.asarray(outputs)


def resnet50_response(outputs: Any) -> np.ndarray:
    """Predicted class per sample as an int32 array of shape ``(N, 1)`` (the LoadGen response).

    ``outputs`` is the backend's output for a batch of N samples (an array, or a list / tuple /
    dict of arrays, of which an integer one is preferred, else the first). It is recognized by
    dtype and width:

    * integer dtype, shape ``(N,)`` or ``(N, 1)``: class ids from an ArgMax inside the model.
      The official ``resnet50_v1.onnx`` (converted from TensorFlow) has such an output,
      ``ArgMax:0``, over 1001 classes where class 0 is "background", so the id minus 1 is the
      ImageNet class (the reference applies the same ``offset=-1``).
    * float dtype, last axis 1000 (shape ``(N, 1000)``, or with singleton axes such as
      ``(N, 1000, 1, 1)``): logits or probabilities of a 1000-class model; argmax.
    * float dtype, last axis 1001: TensorFlow-style 1001 classes (e.g. the official model's
      ``softmax_tensor:0``); argmax minus 1 (a prediction of "background" becomes -1, which
      never matches a label).

    Anything else raises ValueError.
    """
    out = _first_output(outputs)
    if np.issubdtype(out.dtype, np.integer):
        if out.ndim == 2 and out.shape[1] == 1:
            out = out[:, 0]
        if out.ndim != 1:
            raise ValueError(f"integer resnet50 output must be class ids of shape (N,) or (N, 1), "
                             f"got {out.shape}")
        return (out.astype(np.int64) - 1).astype(np.int32).reshape(-1, 1)
    if not np.issubdtype(out.dtype, np.floating):
        raise ValueError(f"resnet50 output has dtype {out.dtype}; expected float logits or integer ids")
    if out.ndim > 2:
        out = out.reshape(out.shape[0], -1)  # (N, C, 1, 1) from a conv head
    if out.ndim != 2 or out.shape[1] not in (NUM_CLASSES, NUM_CLASSES + 1):
        raise ValueError(f"resnet50 logits must have shape (N, 1000) or (N, 1001), got {out.shape}")
    offset = 1 if out.shape[1] == NUM_CLASSES + 1 else 0
    return (out.argmax(axis=1) - offset).astype(np.int32).reshape(-1, 1)


def definition() -> BenchmarkDef:
    """ResNet50: the official model from the data dir, or random weights on synthetic data."""
    return BenchmarkDef(
        name="resnet50",
        loadgen_name="resnet50",  # mlcommons/inference: loadgen/mlperf.conf
        dataset="imagenet",
        datasets={"imagenet": "imagenet", "synthetic": "synthetic-imagenet"},
        synthetic_datasets=("synthetic-imagenet",),
        postprocess=resnet50_response,
        find_model=find_resnet50_model,
        build_model=build_random_resnet50,
        random_model=True,
        model_download=ModelDownload(
            "https://zenodo.org/record/2592612/files/resnet50_v1.onnx", "resnet50_v1.onnx",
            md5="a638cf028b5870da29e09ccc2f7182e7",
            # the opset-8 model NVIDIA's code downloads; the md5 is the CM wrapper's:
            # mlcommons/cm4mlops: script/get-ml-model-resnet50/_cm.yaml ("onnx,opset-8")
            source="mlcommons/inference: vision/classification_and_detection/README.md"),
        model_hint="the official ResNet50-v1.5 ONNX model (resnet50_v1.onnx, or models/ResNet50/"
                   "resnet50_v1.onnx) and ImageNet under imagenet/",
        model_key=random_resnet50_key,
        accuracy_metric="top1",
        accuracy_target=ACCURACY_TARGET,
        response_dtype="int32",
        mlperf_name="resnet50",
        description="MLPerf ResNet50 v1.5 on ImageNet 2012 val, ONNX Runtime",
    )
