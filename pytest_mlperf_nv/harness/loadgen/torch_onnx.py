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

The operators themselves are in :mod:`.torch_onnx_ops`, listed in :data:`SUPPORTED`; any other
one is a clear error naming the node. Numerics follow ONNX (checked against ONNX Runtime by the
project's tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .torch_onnx_ops import INPUT_ATTRS, LINEAR, OPS, SUPPORTED, OnnxImportError


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
            if node.op not in OPS and node.op != "Shape":
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
        import torch

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
                out = OPS[node.op](*args, **self._attrs_for(node, torch.float32))
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
        for pos, name in ((p, n) for (op, p), n in INPUT_ATTRS.items() if op == node.op):
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
    positions = [p for (op, p) in INPUT_ATTRS if op == node.op]
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
                fn = LINEAR if node.op == "Linear" else OPS[node.op]
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


__all__ = ["SUPPORTED", "OnnxGraph", "OnnxImportError", "OnnxModuleFactory", "load_onnx_module"]
