"""ResNet50 models: a random-weight ResNet50 v1.5 built offline, and a lookup for the official one.

The random model has the real architecture and cost (about 4.1 GFLOP and 25.6 M parameters
per image), so performance numbers mean something, but its predictions are noise: accuracy
runs need the official ``resnet50_v1.onnx`` (see :func:`find_resnet50_model`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FILE = "resnet50-v1.5-random.onnx"
OFFICIAL_MODEL_FILE = "resnet50_v1.onnx"
SEED = 0
NUM_CLASSES = 1000
#: (bottleneck width, blocks, stride of the first block) per stage
STAGES = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))
EXPANSION = 4
#: the last conv of each residual branch is scaled down (like a small BatchNorm gamma) so that
#: the residual sum does not grow block after block
RESIDUAL_SCALE = 0.2
#: the stem sees mean-subtracted 0..255 pixels; folding 1/58 (ImageNet's ~std) into it keeps
#: activations of order 1
INPUT_SCALE = 1.0 / 58.0
#: ONNX IR version 10 keeps the model loadable by onnxruntime-gpu builds, which lag onnx
ONNX_IR_VERSION = 10
ONNX_OPSET = 17
BUILDER_VERSION = 1


class _GraphBuilder:
    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.count = 0

    def _name(self, kind: str) -> str:
        self.count += 1
        return f"{kind}_{self.count}"

    def conv(self, x: str, c_in: int, c_out: int, k: int, stride: int = 1, scale: float = 1.0,
             relu: bool = True) -> str:
        """Conv with bias (a BatchNorm folded into it), He-normal weights, optional Relu."""
        from onnx import helper, numpy_helper

        name = self._name("conv")
        std = np.sqrt(2.0 / (c_in * k * k)) * scale
        w = (self.rng.standard_normal((c_out, c_in, k, k), dtype=np.float32) * np.float32(std))
        b = (self.rng.standard_normal(c_out, dtype=np.float32) * np.float32(0.01))
        self.initializers += [numpy_helper.from_array(w, f"{name}.weight"),
                              numpy_helper.from_array(b, f"{name}.bias")]
        out = f"{name}.out"
        self.nodes.append(helper.make_node(
            "Conv", [x, f"{name}.weight", f"{name}.bias"], [out], name=name,
            kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4))
        return self.relu(out) if relu else out

    def relu(self, x: str) -> str:
        from onnx import helper

        name = self._name("relu")
        self.nodes.append(helper.make_node("Relu", [x], [f"{name}.out"], name=name))
        return f"{name}.out"

    def bottleneck(self, x: str, c_in: int, width: int, stride: int) -> str:
        from onnx import helper

        c_out = width * EXPANSION
        h = self.conv(x, c_in, width, 1)
        h = self.conv(h, width, width, 3, stride=stride)  # v1.5: the stride is on the 3x3 conv
        h = self.conv(h, width, c_out, 1, scale=RESIDUAL_SCALE, relu=False)
        shortcut = x
        if stride != 1 or c_in != c_out:
            shortcut = self.conv(x, c_in, c_out, 1, stride=stride, relu=False)
        name = self._name("add")
        self.nodes.append(helper.make_node("Add", [h, shortcut], [f"{name}.out"], name=name))
        return self.relu(f"{name}.out")


def build_random_resnet50(staging_dir: Path) -> str:
    """Write ResNet50 v1.5 with seeded random weights as ``resnet50-v1.5-random.onnx``.

    Input ``input``: float32 ``[batch, 3, 224, 224]`` (the MLPerf preprocessing output, NCHW);
    output ``logits``: float32 ``[batch, 1000]``. Architecture: 7x7/2 stem conv, 3x3/2 max
    pool, bottleneck stages of [3, 4, 6, 3] blocks (stride on the 3x3 conv, projection
    shortcut on each stage's first block), global average pool, fully connected 2048 -> 1000.
    BatchNorm is folded into the convolutions (each Conv has a bias). The same seed gives the
    same file bytes.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    g = _GraphBuilder(np.random.default_rng(SEED))
    x = g.conv("input", 3, 64, 7, stride=2, scale=INPUT_SCALE)
    g.nodes.append(helper.make_node("MaxPool", [x], ["pool.out"], name="pool", kernel_shape=[3, 3],
                                    strides=[2, 2], pads=[1, 1, 1, 1]))
    x, c_in = "pool.out", 64
    for width, blocks, stride in STAGES:
        for i in range(blocks):
            x = g.bottleneck(x, c_in, width, stride if i == 0 else 1)
            c_in = width * EXPANSION
    fc_w = g.rng.standard_normal((NUM_CLASSES, c_in), dtype=np.float32) * np.float32(np.sqrt(1.0 / c_in))
    fc_b = np.zeros(NUM_CLASSES, dtype=np.float32)
    g.initializers += [numpy_helper.from_array(fc_w, "fc.weight"), numpy_helper.from_array(fc_b, "fc.bias")]
    g.nodes += [
        helper.make_node("GlobalAveragePool", [x], ["gap.out"], name="gap"),
        helper.make_node("Flatten", ["gap.out"], ["flat.out"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat.out", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        g.nodes, "resnet50_v1_5_random",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", NUM_CLASSES])],
        initializer=g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
                              producer_name="pytest-mlperf-nv")
    model.ir_version = ONNX_IR_VERSION
    onnx.checker.check_model(model)
    onnx.save(model, str(Path(staging_dir) / MODEL_FILE))
    return MODEL_FILE


def random_resnet50_key() -> dict[str, Any]:
    """Everything that changes the bytes :func:`build_random_resnet50` writes."""
    from importlib.metadata import version

    return {"model": "resnet50-v1.5-random", "seed": SEED, "opset": ONNX_OPSET, "ir": ONNX_IR_VERSION,
            "residual_scale": RESIDUAL_SCALE, "numpy": np.__version__, "onnx": version("onnx"),
            "builder": BUILDER_VERSION}


def find_resnet50_model(data_dir: Path | None) -> Path | None:
    """The official MLPerf ``resnet50_v1.onnx``, if present; else None.

    Looked for, in order, at ``<data_dir>/resnet50_v1.onnx``,
    ``<data_dir>/models/ResNet50/resnet50_v1.onnx`` and
    ``$MLPERF_SCRATCH_PATH/models/ResNet50/resnet50_v1.onnx`` (NVIDIA's layout).
    """
    candidates: list[Path] = []
    if data_dir is not None:
        data_dir = Path(data_dir).expanduser()
        candidates += [data_dir / OFFICIAL_MODEL_FILE, data_dir / "models" / "ResNet50" / OFFICIAL_MODEL_FILE]
    scratch = os.environ.get("MLPERF_SCRATCH_PATH")
    if scratch:
        candidates.append(Path(scratch).expanduser() / "models" / "ResNet50" / OFFICIAL_MODEL_FILE)
    for path in candidates:
        if path.is_file():
            return path
    return None
