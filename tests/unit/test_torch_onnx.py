"""The torch backend's ONNX import, checked against ONNX Runtime on the same graphs and inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch backend needs torch: "
                            "pip install pytest-mlperf-nv[torch]")
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from pytest_mlperf_nv.harness.loadgen.torch_onnx import (  # noqa: E402
    OnnxGraph,
    OnnxImportError,
    load_onnx_module,
)


def _ort(path: Path, x: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})


def _torch(path: Path, x: np.ndarray) -> np.ndarray:
    module = load_onnx_module(path).eval()
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


def _save(tmp_path: Path, nodes: list, inputs: list, outputs: list, inits: list, opset: int = 13,
          name: str = "m.onnx") -> Path:
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def _init(name: str, array: np.ndarray) -> object:
    return numpy_helper.from_array(np.asarray(array), name)


@pytest.fixture(scope="module")
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def test_the_plugins_random_resnet50_matches_onnxruntime(tmp_path: Path) -> None:
    from pytest_mlperf_nv.benchmarks.resnet50_model import build_random_resnet50

    path = tmp_path / build_random_resnet50(tmp_path)
    x = np.random.default_rng(1).integers(0, 256, (2, 3, 224, 224)).astype(np.float32) - 120.0
    want = _ort(path, x)[0]
    got = _torch(path, x)
    assert got.shape == want.shape == (2, 1000)
    assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()
    steps = [s.fn.__name__ for s in load_onnx_module(path).steps]
    assert steps.count("_conv") == 53 and steps[-1] == "_linear"  # the Gemm head is one linear layer


def test_the_digits_mlp_matches_onnxruntime(tmp_path: Path) -> None:
    from pytest_mlperf_nv.benchmarks.digits import build_digits_model

    path = tmp_path / build_digits_model(tmp_path)
    x = np.random.default_rng(2).random((5, 64), dtype=np.float32) * 16
    np.testing.assert_allclose(_torch(path, x), _ort(path, x)[0], rtol=1e-5, atol=1e-4)
    # MatMul + Add pairs became linear layers: relu between them, three steps in all
    assert [s.fn.__name__ for s in load_onnx_module(path).steps] == ["_linear", "_onnx_relu", "_linear"]


def test_a_tensorflow_style_resnet_head_matches_onnxruntime(tmp_path: Path, rng: np.random.Generator) -> None:
    """The constructs of the official (TensorFlow-converted) resnet50_v1.onnx: explicit Pad before a
    VALID conv, BatchNormalization, asymmetric MaxPool padding ('SAME'), ReduceMean over H and W,
    Squeeze, MatMul + Add, Softmax and ArgMax outputs (the ids are what the run keeps), Reshape, Cast."""
    c = 8
    nodes = [
        helper.make_node("Pad", ["x", "pads"], ["xp"], mode="constant"),
        helper.make_node("Conv", ["xp", "w1"], ["c1"], kernel_shape=[7, 7], strides=[2, 2]),
        helper.make_node("BatchNormalization", ["c1", "s", "b", "m", "v"], ["n1"], epsilon=1.001e-5),
        helper.make_node("Relu", ["n1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], kernel_shape=[3, 3], auto_pad="SAME_UPPER",
                         strides=[2, 2]),
        helper.make_node("Transpose", ["c2"], ["t"], perm=[0, 2, 3, 1]),
        helper.make_node("ReduceMean", ["t"], ["gap"], axes=[1, 2], keepdims=1),
        helper.make_node("Squeeze", ["gap", "sq_axes"], ["flat"]),
        helper.make_node("MatMul", ["flat", "fc_w"], ["mm"]),
        helper.make_node("Add", ["mm", "fc_b"], ["logits"]),
        helper.make_node("Reshape", ["logits", "shape"], ["logits2"]),
        helper.make_node("Softmax", ["logits2"], ["probs"], axis=-1),
        helper.make_node("ArgMax", ["logits2"], ["ids64"], axis=1, keepdims=0),
        helper.make_node("Cast", ["ids64"], ["ids"], to=TensorProto.INT32),
    ]
    inits = [
        _init("pads", np.array([0, 0, 3, 3, 0, 0, 3, 3], np.int64)),
        _init("w1", rng.standard_normal((c, 3, 7, 7)).astype(np.float32) * 0.1),
        _init("s", rng.random(c).astype(np.float32) + 0.5),
        _init("b", rng.standard_normal(c).astype(np.float32)),
        _init("m", rng.standard_normal(c).astype(np.float32)),
        _init("v", rng.random(c).astype(np.float32) + 0.1),
        _init("w2", rng.standard_normal((c, c, 3, 3)).astype(np.float32) * 0.1),
        _init("b2", rng.standard_normal(c).astype(np.float32)),
        _init("sq_axes", np.array([1, 2], np.int64)),
        _init("fc_w", rng.standard_normal((c, 11)).astype(np.float32)),
        _init("fc_b", rng.standard_normal(11).astype(np.float32)),
        _init("shape", np.array([0, -1], np.int64)),
    ]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, 33, 33])],
                 [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["n", 11]),
                  helper.make_tensor_value_info("ids", TensorProto.INT32, ["n"])], inits)
    x = rng.standard_normal((4, 3, 33, 33)).astype(np.float32)
    probs, ids = _ort(path, x)
    got = _torch(path, x)
    assert got.dtype == np.int32 and got.shape == (4,)  # the integer output is the one kept
    np.testing.assert_array_equal(got, ids)
    graph = OnnxGraph(path)
    ops = [n.op for n in graph.nodes]
    # Pad folded into the conv, BatchNormalization into its weights, MatMul + Add into one linear
    # layer, the softmax (not needed for the ids) dropped
    assert "Pad" not in ops and "BatchNormalization" not in ops and "Softmax" not in ops
    assert ops.count("Linear") == 1 and "Add" not in ops


@pytest.mark.parametrize("pads,auto_pad", [([1, 1, 1, 1], "NOTSET"), ([0, 1, 2, 1], "NOTSET"),
                                           (None, "SAME_LOWER"), (None, "VALID")])
def test_convolution_and_pool_padding_match_onnxruntime(tmp_path: Path, rng: np.random.Generator,
                                                        pads: list | None, auto_pad: str) -> None:
    attrs = {"auto_pad": auto_pad} if pads is None else {"pads": pads}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], strides=[2, 2], **attrs),
             helper.make_node("AveragePool" if pads == [1, 1, 1, 1] else "MaxPool", ["c"], ["y"],
                              kernel_shape=[3, 3], strides=[1, 1], **attrs)]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2, 15, 16])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4, "h", "w"])],
                 [_init("w", rng.standard_normal((4, 2, 3, 3)).astype(np.float32))])
    x = rng.standard_normal((2, 2, 15, 16)).astype(np.float32)
    np.testing.assert_allclose(_torch(path, x), _ort(path, x)[0], rtol=1e-5, atol=1e-5)


def test_an_unsupported_operator_is_named(tmp_path: Path) -> None:
    path = _save(tmp_path, [helper.make_node("LRN", ["x"], ["y"], size=3)],
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 4])], [])
    with pytest.raises(OnnxImportError, match=r"operator LRN \(node LRN#0\) is not supported by the torch "
                                              r"backend; supported: .*Conv"):
        load_onnx_module(path)


def test_a_file_that_is_not_onnx_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"not a model")
    with pytest.raises(OnnxImportError, match="broken.onnx is not a readable ONNX model"):
        load_onnx_module(path)


def test_half_precision_keeps_float_casts_in_the_run_precision(tmp_path: Path) -> None:
    nodes = [helper.make_node("Cast", ["x"], ["f"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["f", "k"], ["y"])]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.INT32, [2])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
                 [_init("k", np.array([0.5, 2.0], np.float32))])
    module = load_onnx_module(path).half()
    module.set_compute_dtype(torch.float16)
    out = module(torch.tensor([3, 4], dtype=torch.int32))
    assert out.dtype == torch.float16 and out.tolist() == [1.5, 8.0]
