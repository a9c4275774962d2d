"""An ONNX model as a torch module, so that the torch backend runs the models the plugin provisions.

The plugin's models are ONNX files: the official ``resnet50_v1.onnx`` from the data dir, the
seeded random-weight ResNet50-v1.5 the plugin builds for synthetic runs, a suite's own
classifier. :class:`OnnxModule` executes such a graph with torch operators, node by node, with
the weights as buffers, so ``torch.compile`` (with freezing), half precision, channels_last and
CUDA graphs apply to it like to any module.

On import the graph is simplified the way an inference compiler would, so that the module
computes the same function with fewer kernels:

* nodes whose inputs are all constants are computed once (shape arithmetic, for instance);
* ``BatchNormalization`` after a ``Conv`` is folded into the convolution's weights and bias;
* a zero ``Pad`` in front of a ``Conv`` becomes the convolution's own padding when symmetric;
* ``MatMul`` by a constant followed by ``Add`` of a constant vector becomes one linear layer;
* only the outputs the run needs are computed: the first integer output (class ids from an
  ``ArgMax`` inside the model, as the official ResNet50 has), else the first output.

Supported operators are listed in :data:`SUPPORTED`; any other one is a clear error naming the
node. Numerics follow ONNX (checked against ONNX Runtime by the project's tests).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


class OnnxImportError(ValueError):
    """The ONNX file uses something the torch backend cannot execute."""


@dataclass
class _Node:
    op: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any]
    name: str


@dataclass
class _Step:
    fn: Callable[..., Any]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: dict[str, Any] = field(default_factory=dict)


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper, numpy_helper

    out: dict[str, Any] = {}
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        if hasattr(value, "dims") and hasattr(value, "data_type"):  # a TensorProto
            value = numpy_helper.to_array(value)
        elif isinstance(value, bytes):
            value = value.decode()
        elif isinstance(value, list):
            value = [v.decode() if isinstance(v, bytes) else v for v in value]
        out[a.name] = value
    return out


# --- operators ------------------------------------------------------------------------------
# Each takes torch tensors (or None for an omitted optional input) and the node's attributes.

def _torch() -> Any:
    import torch

    return torch


def _pairs(pads: list[int], rank: int) -> tuple[list[int], list[int]]:
    return list(pads[:rank]), list(pads[rank:])


def _spatial_pad(x: Any, begins: list[int], ends: list[int], value: float) -> Any:
    import torch.nn.functional as F

    flat: list[int] = []
    for b, e in zip(reversed(begins), reversed(ends), strict=True):  # F.pad takes the last axis first
        flat += [b, e]
    return F.pad(x, flat, value=value)


def _same_pads(size: list[int], kernel: list[int], stride: list[int], dilation: list[int],
               upper: bool) -> tuple[list[int], list[int]]:
    begins, ends = [], []
    for n, k, s, d in zip(size, kernel, stride, dilation, strict=True):
        out = -(-n // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
        small = total // 2
        begins.append(small if upper else total - small)
        ends.append(total - small if upper else small)
    return begins, ends


def _conv(x: Any, w: Any, b: Any = None, *, strides: Any = None, pads: Any = None, dilations: Any = None,
          group: int = 1, auto_pad: str = "NOTSET", **_: Any) -> Any:
    import torch.nn.functional as F

    rank = w.dim() - 2
    strides = list(strides or [1] * rank)
    dilations = list(dilations or [1] * rank)
    kernel = list(w.shape[2:])
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        begins, ends = _same_pads(list(x.shape[2:]), kernel, strides, dilations, auto_pad == "SAME_UPPER")
    elif auto_pad == "VALID":
        begins, ends = [0] * rank, [0] * rank
    else:
        begins, ends = _pairs(list(pads or [0] * (2 * rank)), rank)
    padding: Any = begins
    if begins != ends:
        x = _spatial_pad(x, begins, ends, 0.0)
        padding = [0] * rank
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[rank]
    return conv(x, w, b, stride=strides, padding=padding, dilation=dilations, groups=group)


def _pool(x: Any, *, kind: str, kernel_shape: Any, strides: Any = None, pads: Any = None,
          dilations: Any = None, ceil_mode: int = 0, auto_pad: str = "NOTSET",
          count_include_pad: int = 0, **_: Any) -> Any:
    import torch.nn.functional as F

    rank = len(kernel_shape)
    kernel = list(kernel_shape)
    strides = list(strides or [1] * rank)
    dilations = list(dilations or [1] * rank)
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        begins, ends = _same_pads(list(x.shape[2:]), kernel, strides, dilations, auto_pad == "SAME_UPPER")
    elif auto_pad == "VALID":
        begins, ends = [0] * rank, [0] * rank
    else:
        begins, ends = _pairs(list(pads or [0] * (2 * rank)), rank)
    if kind == "max":
        padding: Any = begins
        if begins != ends or any(2 * p > k for p, k in zip(begins, kernel, strict=True)):
            x = _spatial_pad(x, begins, ends, -math.inf)
            padding = [0] * rank
        pool: Any = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[rank]
        return pool(x, kernel, strides, padding, dilations, ceil_mode=bool(ceil_mode))
    if begins != ends or any(d != 1 for d in dilations):
        raise OnnxImportError("AveragePool with asymmetric padding or dilation is not supported")
    avg_pool: Any = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[rank]
    return avg_pool(x, kernel, strides, begins, ceil_mode=bool(ceil_mode),
                count_include_pad=bool(count_include_pad))


def _batch_norm(x: Any, scale: Any, bias: Any, mean: Any, var: Any, *, epsilon: float = 1e-5,
                **_: Any) -> Any:
    import torch.nn.functional as F

    return F.batch_norm(x, mean, var, scale, bias, False, 0.0, epsilon)


def _gemm(a: Any, b: Any, c: Any = None, *, alpha: float = 1.0, beta: float = 1.0, transA: int = 0,
          transB: int = 0, **_: Any) -> Any:
    if transA:
        a = a.transpose(0, 1)
    if transB:
        b = b.transpose(0, 1)
    out = a @ b
    if alpha != 1.0:
        out = out * alpha
    if c is not None:
        out = out + (c * beta if beta != 1.0 else c)
    return out


def _linear(x: Any, w: Any, b: Any = None, **_: Any) -> Any:
    import torch.nn.functional as F

    return F.linear(x, w, b)


def _flatten(x: Any, *, axis: int = 1, **_: Any) -> Any:
    axis = axis if axis >= 0 else x.dim() + axis
    if axis == 0:
        return x.reshape(1, -1)
    return x.flatten(axis).flatten(0, axis - 1) if axis > 1 else x.flatten(1)


def _reshape(x: Any, *, shape: tuple[int, ...], allowzero: int = 0, **_: Any) -> Any:
    dims = [x.shape[i] if (s == 0 and not allowzero) else s for i, s in enumerate(shape)]
    return x.reshape(dims)


def _reduce(x: Any, *, kind: str, axes: Any = None, keepdims: int = 1, **_: Any) -> Any:
    dims = tuple(range(x.dim())) if axes is None or len(axes) == 0 else tuple(int(a) for a in axes)
    if kind == "mean":
        return x.mean(dim=dims, keepdim=bool(keepdims))
    if kind == "sum":
        return x.sum(dim=dims, keepdim=bool(keepdims))
    out = x
    for d in sorted((d % x.dim() for d in dims), reverse=True):
        keep = bool(keepdims)
        out = out.amax(dim=d, keepdim=keep) if kind == "max" else out.amin(dim=d, keepdim=keep)
    return out


def _squeeze(x: Any, *, axes: Any = None, **_: Any) -> Any:
    if axes is None:
        return x.squeeze()
    for d in sorted((int(a) % x.dim() for a in axes), reverse=True):
        x = x.squeeze(d)
    return x


def _unsqueeze(x: Any, *, axes: Any, **_: Any) -> Any:
    rank = x.dim() + len(axes)
    for d in sorted(int(a) % rank for a in axes):
        x = x.unsqueeze(d)
    return x


def _argmax(x: Any, *, axis: int = 0, keepdims: int = 1, select_last_index: int = 0, **_: Any) -> Any:
    if select_last_index:
        flipped = x.flip(axis)
        return (x.shape[axis] - 1 - flipped.argmax(dim=axis, keepdim=bool(keepdims)))
    return x.argmax(dim=axis, keepdim=bool(keepdims))


def _softmax(x: Any, *, axis: int = -1, opset: int = 13, **_: Any) -> Any:
    if opset < 13 and axis not in (-1, x.dim() - 1):
        # Before opset 13, Softmax works on the input flattened to 2-D at ``axis``.
        shape = x.shape
        return x.flatten(axis).flatten(0, axis - 1).softmax(-1).reshape(shape) if axis > 0 \
            else x.reshape(1, -1).softmax(-1).reshape(shape)
    return x.softmax(axis)


def _cast(x: Any, *, to: int, compute_dtype: Any, **_: Any) -> Any:
    return x.to(_dtype(to, compute_dtype))


def _dtype(onnx_type: int, compute_dtype: Any) -> Any:
    torch = _torch()
    from onnx import TensorProto

    table: dict[int, Any] = {TensorProto.FLOAT: compute_dtype, TensorProto.FLOAT16: torch.float16,
             TensorProto.BFLOAT16: torch.bfloat16, TensorProto.DOUBLE: torch.float64,
             TensorProto.INT64: torch.int64, TensorProto.INT32: torch.int32, TensorProto.INT8: torch.int8,
             TensorProto.UINT8: torch.uint8, TensorProto.BOOL: torch.bool}
    if onnx_type not in table:
        raise OnnxImportError(f"Cast to ONNX type {onnx_type} is not supported")
    return table[onnx_type]


def _clip(x: Any, lo: Any = None, hi: Any = None, *, min: Any = None, max: Any = None, **_: Any) -> Any:  # noqa: A002
    lo = lo if lo is not None else min
    hi = hi if hi is not None else max
    return x.clamp(lo, hi)


def _binary(name: str) -> Callable[..., Any]:
    def op(a: Any, b: Any, **_: Any) -> Any:
        torch = _torch()
        return getattr(torch, name)(a, b)

    op.__name__ = f"_onnx_{name}"
    return op


def _unary(name: str) -> Callable[..., Any]:
    def op(x: Any, **_: Any) -> Any:
        torch = _torch()
        return getattr(torch, name)(x)

    op.__name__ = f"_onnx_{name}"
    return op


def _identity(x: Any, *_: Any, **__: Any) -> Any:
    return x


def _transpose(x: Any, *, perm: Any = None, **_: Any) -> Any:
    return x.permute(*(perm if perm is not None else reversed(range(x.dim()))))


def _concat(*xs: Any, axis: int, **_: Any) -> Any:
    return _torch().cat(list(xs), dim=axis)


def _gather(x: Any, idx: Any, *, axis: int = 0, **_: Any) -> Any:
    torch = _torch()
    if idx.dim() == 0:
        return x.select(axis, int(idx))
    return torch.index_select(x, axis, idx.reshape(-1).long()).reshape(
        (*x.shape[:axis], *idx.shape, *x.shape[axis + 1:]))


def _pad(x: Any, *, pads: list[int], value: float = 0.0, mode: str = "constant", **_: Any) -> Any:
    if mode != "constant":
        raise OnnxImportError(f"Pad mode {mode!r} is not supported (only constant)")
    rank = x.dim()
    begins, ends = _pairs(pads, rank)
    if any(begins[:2]) or any(ends[:2]):
        flat: list[int] = []
        for b, e in zip(reversed(begins), reversed(ends), strict=True):
            flat += [b, e]
        import torch.nn.functional as F

        return F.pad(x, flat, value=value)
    return _spatial_pad(x, begins[2:], ends[2:], value)


_OPS: dict[str, Callable[..., Any]] = {
    "Conv": _conv, "BatchNormalization": _batch_norm, "Gemm": _gemm, "MatMul": _binary("matmul"),
    "Add": _binary("add"), "Sub": _binary("sub"), "Mul": _binary("mul"), "Div": _binary("div"),
    "Pow": _binary("pow"), "Relu": _unary("relu"), "Sigmoid": _unary("sigmoid"), "Tanh": _unary("tanh"),
    "Erf": _unary("erf"), "Sqrt": _unary("sqrt"), "Exp": _unary("exp"), "Neg": _unary("neg"),
    "Abs": _unary("abs"), "Reciprocal": _unary("reciprocal"), "Flatten": _flatten, "Reshape": _reshape,
    "Squeeze": _squeeze, "Unsqueeze": _unsqueeze, "Transpose": _transpose, "Softmax": _softmax,
    "ArgMax": _argmax, "Cast": _cast, "Identity": _identity, "Dropout": _identity, "Concat": _concat,
    "Clip": _clip, "Gather": _gather, "Pad": _pad,
    "MaxPool": lambda x, **a: _pool(x, kind="max", **a),
    "AveragePool": lambda x, **a: _pool(x, kind="avg", **a),
    "GlobalAveragePool": lambda x, **_: x.mean(dim=tuple(range(2, x.dim())), keepdim=True),
    "GlobalMaxPool": lambda x, **_: x.amax(dim=tuple(range(2, x.dim())), keepdim=True),
    "ReduceMean": lambda x, **a: _reduce(x, kind="mean", **a),
    "ReduceSum": lambda x, **a: _reduce(x, kind="sum", **a),
    "ReduceMax": lambda x, **a: _reduce(x, kind="max", **a),
    "ReduceMin": lambda x, **a: _reduce(x, kind="min", **a),
}
SUPPORTED = tuple(sorted(_OPS)) + ("Constant", "Shape")
#: inputs that later opsets moved from attributes into (constant) inputs: (op, input position) -> attr
_INPUT_ATTRS = {("Reshape", 1): "shape", ("Squeeze", 1): "axes", ("Unsqueeze", 1): "axes",
                ("ReduceMean", 1): "axes", ("ReduceSum", 1): "axes", ("ReduceMax", 1): "axes",
                ("ReduceMin", 1): "axes", ("Pad", 1): "pads", ("Pad", 2): "value"}


class OnnxGraph:
    """The parsed, simplified graph: constants as numpy arrays, nodes in execution order."""

    def __init__(self, path: Path):
        import onnx
        from onnx import numpy_helper

        try:
            model = onnx.load(str(path))
        except Exception as exc:  # noqa: BLE001 - onnx raises several kinds for a bad file
            raise OnnxImportError(f"{path} is not a readable ONNX model: {exc}") from None
        graph = model.graph
        self.path = Path(path)
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
        self.consts: dict[str, np.ndarray] = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        inputs = [i for i in graph.input if i.name not in self.consts]
        if len(inputs) != 1:
            raise OnnxImportError(f"{path}: the torch backend runs models with one input; this one has "
                                  f"{len(inputs)} ({', '.join(i.name for i in inputs)})")
        self.input_name = inputs[0].name
        self.input_type = inputs[0].type.tensor_type.elem_type
        self.output_names = [o.name for o in graph.output]
        self.output_types = [o.type.tensor_type.elem_type for o in graph.output]
        self.nodes: list[_Node] = []
        for n in graph.node:
            if n.domain not in ("", "ai.onnx"):
                raise OnnxImportError(f"{path}: node {n.name or n.op_type} is in domain {n.domain!r}; "
                                      "only standard ONNX operators are supported")
            # Node names are optional and need not be unique: derived constants are named by index.
            node = _Node(n.op_type, list(n.input), list(n.output), _attrs(n),
                         f"{n.name or n.op_type}#{len(self.nodes)}")
            if node.op == "Constant":
                value = node.attrs.get("value", node.attrs.get("value_float", node.attrs.get("value_int")))
                self.consts[node.outputs[0]] = np.asarray(value)
                continue
            if node.op not in _OPS and node.op != "Shape":
                raise OnnxImportError(f"{path}: operator {node.op} (node {node.name}) is not supported by "
                                      f"the torch backend; supported: {', '.join(SUPPORTED)}")
            self.nodes.append(node)
        self._keep_one_output()
        self._fold_constants()
        self._fold_batch_norm()
        self._fold_pad_into_conv()
        self._fuse_linear()

    # -- simplifications ------------------------------------------------------------------
    def _consumers(self, name: str) -> list[_Node]:
        return [n for n in self.nodes if name in n.inputs]

    def _keep_one_output(self) -> None:
        from onnx import TensorProto

        ints = (TensorProto.INT64, TensorProto.INT32)
        chosen = next((n for n, t in zip(self.output_names, self.output_types, strict=True) if t in ints),
                      self.output_names[0])
        self.output = chosen
        needed = {chosen}
        kept: list[_Node] = []
        for node in reversed(self.nodes):
            if any(o in needed for o in node.outputs):
                kept.append(node)
                needed.update(i for i in node.inputs if i)
        self.nodes = list(reversed(kept))

    def _fold_constants(self) -> None:
        torch = _torch()
        remaining: list[_Node] = []
        for node in self.nodes:
            ins = [i for i in node.inputs if i]
            if node.op == "Shape" and node.inputs[0] not in self.consts:
                raise OnnxImportError(f"{self.path}: Shape of a computed tensor (node {node.name}) is "
                                      "not supported; export the model with static shapes")
            if ins and all(i in self.consts for i in ins):
                if node.op == "Shape":
                    self.consts[node.outputs[0]] = np.array(self.consts[node.inputs[0]].shape, np.int64)
                    continue
                args = [None if not i else torch.from_numpy(np.array(self.consts[i]))
                        for i in _step_inputs(node)]
                out = _OPS[node.op](*args, **self._attrs_for(node, torch.float32))
                self.consts[node.outputs[0]] = out.numpy() if hasattr(out, "numpy") else np.asarray(out)
                continue
            remaining.append(node)
        self.nodes = remaining

    def _fold_batch_norm(self) -> None:
        for bn in [n for n in self.nodes if n.op == "BatchNormalization"]:
            src = next((n for n in self.nodes if n.op == "Conv" and bn.inputs[0] in n.outputs), None)
            if src is None or len(self._consumers(src.outputs[0])) != 1 or \
                    not all(i in self.consts for i in bn.inputs[1:5]) or src.inputs[1] not in self.consts:
                continue
            scale, bias, mean, var = (self.consts[i].astype(np.float64) for i in bn.inputs[1:5])
            factor = scale / np.sqrt(var + float(bn.attrs.get("epsilon", 1e-5)))
            w = self.consts[src.inputs[1]].astype(np.float64)
            b = self.consts[src.inputs[2]].astype(np.float64) if len(src.inputs) > 2 and src.inputs[2] \
                else np.zeros(w.shape[0])
            wname, bname = f"{src.name}.folded_weight", f"{src.name}.folded_bias"
            self.consts[wname] = (w * factor.reshape(-1, *([1] * (w.ndim - 1)))).astype(np.float32)
            self.consts[bname] = ((b - mean) * factor + bias).astype(np.float32)
            src.inputs = [src.inputs[0], wname, bname]
            src.outputs = list(bn.outputs[:1])
            self.nodes.remove(bn)

    def _fold_pad_into_conv(self) -> None:
        for pad in [n for n in self.nodes if n.op == "Pad"]:
            attrs = self._attrs_for(pad, None)
            consumers = self._consumers(pad.outputs[0])
            if attrs.get("mode", "constant") != "constant" or float(attrs.get("value", 0.0) or 0.0) != 0.0 \
                    or len(consumers) != 1 or consumers[0].op != "Conv":
                continue
            conv = consumers[0]
            pads = list(attrs["pads"])
            rank = len(pads) // 2
            begins, ends = pads[:rank], pads[rank:]
            own_mode = conv.attrs.get("auto_pad", "NOTSET")
            if any(begins[:2]) or any(ends[:2]) or own_mode not in ("NOTSET", "VALID"):
                continue
            own = list(conv.attrs.get("pads") or [0] * (2 * (rank - 2)))
            srank = rank - 2
            conv.attrs["pads"] = [b + o for b, o in zip(begins[2:] + ends[2:], own[:srank] + own[srank:],
                                                        strict=True)]
            conv.attrs["auto_pad"] = "NOTSET"
            conv.inputs[0] = pad.inputs[0]
            self.nodes.remove(pad)

    def _fuse_linear(self) -> None:
        for mm in [n for n in self.nodes if n.op in ("MatMul", "Gemm")]:
            if mm.op == "Gemm":
                a = mm.attrs
                if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 \
                        or mm.inputs[1] not in self.consts:
                    continue
                w = self.consts[mm.inputs[1]]
                w = w if a.get("transB", 0) else w.T
                bias = mm.inputs[2] if len(mm.inputs) > 2 and mm.inputs[2] else None
                if bias is not None and (bias not in self.consts or self.consts[bias].ndim != 1):
                    continue
                self._to_linear(mm, w, self.consts[bias] if bias else None, mm.outputs)
                continue
            if mm.inputs[1] not in self.consts or self.consts[mm.inputs[1]].ndim != 2:
                continue
            w = self.consts[mm.inputs[1]].T
            consumers = self._consumers(mm.outputs[0])
            add = consumers[0] if len(consumers) == 1 and consumers[0].op == "Add" else None
            other = None if add is None else next(i for i in add.inputs if i != mm.outputs[0])
            if add is not None and other in self.consts and self.consts[other].shape == (w.shape[0],):
                self._to_linear(mm, w, self.consts[other], add.outputs)
                self.nodes.remove(add)
            else:
                self._to_linear(mm, w, None, mm.outputs)

    def _to_linear(self, node: _Node, w: np.ndarray, bias: np.ndarray | None, outputs: list[str]) -> None:
        wname = f"{node.name}.linear_weight"
        self.consts[wname] = np.ascontiguousarray(w, dtype=np.float32)
        inputs = [node.inputs[0], wname]
        if bias is not None:
            self.consts[f"{node.name}.linear_bias"] = np.asarray(bias, dtype=np.float32)
            inputs.append(f"{node.name}.linear_bias")
        node.op, node.inputs, node.outputs, node.attrs = "Linear", inputs, list(outputs), {}

    def _attrs_for(self, node: _Node, compute_dtype: Any) -> dict[str, Any]:
        attrs = dict(node.attrs)
        for pos, name in ((p, n) for (op, p), n in _INPUT_ATTRS.items() if op == node.op):
            if len(node.inputs) > pos and node.inputs[pos]:
                value = self.consts.get(node.inputs[pos])
                if value is None:
                    raise OnnxImportError(f"{self.path}: input {pos} of {node.op} node {node.name} must be "
                                          "a constant")
                attrs[name] = value.tolist() if name != "value" else float(np.asarray(value).reshape(-1)[0])
        if node.op == "Reshape":
            attrs["shape"] = tuple(int(s) for s in attrs["shape"])
        if node.op == "Pad":
            attrs["pads"] = [int(p) for p in attrs["pads"]]
        if node.op == "Softmax":
            attrs.setdefault("axis", 1 if self.opset < 13 else -1)
            attrs["opset"] = self.opset
        if node.op == "Cast":
            attrs["compute_dtype"] = compute_dtype
        return attrs


def _step_inputs(node: _Node) -> tuple[str, ...]:
    positions = [p for (op, p) in _INPUT_ATTRS if op == node.op]
    return tuple(i for k, i in enumerate(node.inputs) if k not in positions)


class OnnxModuleFactory:
    """Builds :class:`OnnxModule` instances from a parsed graph (one per device)."""

    def __init__(self, path: Path):
        self.graph = OnnxGraph(path)

    def build(self) -> Any:
        return _make_module(self.graph)


def _make_module(graph: OnnxGraph) -> Any:
    import torch
    from torch import nn

    class OnnxModule(nn.Module):
        """An ONNX graph executed with torch operators (see the module docstring)."""

        def __init__(self) -> None:
            super().__init__()
            self.input_name = graph.input_name
            self.output_name = graph.output
            self._const_attr: dict[str, str] = {}
            used = {i for n in graph.nodes for i in n.inputs if i}
            for k, name in enumerate(sorted(n for n in used if n in graph.consts)):
                attr = f"c{k}"
                self.register_buffer(attr, torch.from_numpy(np.array(graph.consts[name])), persistent=False)
                self._const_attr[name] = attr
            self.compute_dtype = torch.float32
            self._graph = graph
            self._build_steps()

        def _build_steps(self) -> None:
            self.steps: list[_Step] = []
            for node in graph.nodes:
                fn = _linear if node.op == "Linear" else _OPS[node.op]
                attrs = {} if node.op == "Linear" else graph._attrs_for(node, self.compute_dtype)
                self.steps.append(_Step(fn, _step_inputs(node) if node.op != "Linear" else tuple(node.inputs),
                                        tuple(node.outputs[:1]), attrs))

        def set_compute_dtype(self, dtype: Any) -> None:
            """The dtype ``Cast(to=FLOAT)`` produces: the module's precision after ``.half()``."""
            self.compute_dtype = dtype
            self._build_steps()

        def forward(self, x: Any) -> Any:
            env: dict[str, Any] = {self.input_name: x}
            for step in self.steps:
                args = [None if not name else env[name] if name in env
                        else getattr(self, self._const_attr[name]) for name in step.inputs]
                env[step.outputs[0]] = step.fn(*args, **step.attrs)
            return env[self.output_name]

    return OnnxModule()


def load_onnx_module(path: Path) -> Any:
    """The ONNX model at ``path`` as a torch module (float32, on the CPU)."""
    return OnnxModuleFactory(path).build()
