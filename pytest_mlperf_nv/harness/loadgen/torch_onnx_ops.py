"""ONNX operators as torch functions: what :class:`.torch_onnx.OnnxGraph` executes, node by node.

Each operator takes torch tensors (or None for an omitted optional input) and the node's
attributes, and follows the ONNX operator's definition (checked against ONNX Runtime by the
project's tests). :data:`SUPPORTED` lists them; :data:`INPUT_ATTRS` maps the inputs later opsets
moved out of attributes back to their attribute names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


class OnnxImportError(ValueError):
    """The ONNX file uses something the torch backend cannot execute."""


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
    begins, ends = _window_pads(x, kernel, strides, dilations, auto_pad, pads, rank)
    padding: Any = begins
    if begins != ends:
        x = _spatial_pad(x, begins, ends, 0.0)
        padding = [0] * rank
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[rank]
    return conv(x, w, b, stride=strides, padding=padding, dilation=dilations, groups=group)


def _window_pads(x: Any, kernel: list[int], strides: list[int], dilations: list[int], auto_pad: str,
                 pads: Any, rank: int) -> tuple[list[int], list[int]]:
    """The pads before and after each spatial axis of a convolution or pooling window (ONNX's
    auto_pad, else its explicit pads)."""
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        return _same_pads(list(x.shape[2:]), kernel, strides, dilations, auto_pad == "SAME_UPPER")
    if auto_pad == "VALID":
        return [0] * rank, [0] * rank
    return _pairs(list(pads or [0] * (2 * rank)), rank)


def _pool(x: Any, *, kind: str, kernel_shape: Any, strides: Any = None, pads: Any = None,
          dilations: Any = None, ceil_mode: int = 0, auto_pad: str = "NOTSET",
          count_include_pad: int = 0, **_: Any) -> Any:
    import torch.nn.functional as F

    rank = len(kernel_shape)
    kernel = list(kernel_shape)
    strides = list(strides or [1] * rank)
    dilations = list(dilations or [1] * rank)
    begins, ends = _window_pads(x, kernel, strides, dilations, auto_pad, pads, rank)
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


OPS: dict[str, Callable[..., Any]] = {
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
#: the fused MatMul/Gemm + Add the graph's simplification makes (no ONNX operator of its own)
LINEAR = _linear
SUPPORTED = tuple(sorted(OPS)) + ("Constant", "Shape")
#: inputs that later opsets moved from attributes into (constant) inputs: (op, input position) -> attr
INPUT_ATTRS = {("Reshape", 1): "shape", ("Squeeze", 1): "axes", ("Unsqueeze", 1): "axes",
                ("ReduceMean", 1): "axes", ("ReduceSum", 1): "axes", ("ReduceMax", 1): "axes",
                ("ReduceMin", 1): "axes", ("Pad", 1): "pads", ("Pad", 2): "value"}
