"""Backends of the built-in harness. Imported only in the child process that runs LoadGen."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np


def cpu_threads_per_worker() -> int:
    """CPU threads one run may use, so that xdist workers do not fight over the same cores."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    return max(1, cpus // max(1, workers))


def _onnxruntime_version() -> str:
    """From the package metadata (no import): the CPU and the GPU build have different names."""
    from importlib.metadata import PackageNotFoundError, version

    for name in ("onnxruntime", "onnxruntime-gpu"):
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    import onnxruntime as ort

    return ort.__version__


def _open_session(ort: Any, model_path: Path, options: Any, providers: list[str]) -> Any:
    """An InferenceSession, or a ModelError that says what the file is and how to repair it."""
    try:
        return ort.InferenceSession(str(model_path), sess_options=options, providers=providers)
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own (pybind) exception types
        from ...errors import ModelError
        from ...provision.cache import diagnose

        said = " ".join(str(exc).split())[:300]
        if not Path(model_path).is_file():
            problem = "the file does not exist"
        elif "INVALID_PROTOBUF" in said or "Protobuf parsing failed" in said:
            problem = "it is not an ONNX model (ONNX Runtime cannot parse it)"
        else:
            problem = "ONNX Runtime refuses it"
        cached = diagnose(model_path)
        fix = cached or ("give the path of an .onnx model file" if "not an ONNX" in problem
                         else "check that the model is a valid ONNX model for this ONNX Runtime")
        raise ModelError(f"cannot load the model {model_path}: {problem} ({said}); {fix}") from None


class OnnxRuntimeBackend:
    """ONNX Runtime inference: CPU by default, CUDA where onnxruntime-gpu and a GPU are present."""

    name = "onnxruntime"
    #: suite knobs this backend honours beyond LoadGen's settings and the SUT's (none)
    knobs: frozenset[str] = frozenset()
    #: ``backend_options:`` a suite may give: intra-op threads per run, ONNX Runtime providers
    options = {"threads": int, "providers": list}

    def __init__(self, model_path: Path, options: dict[str, Any]):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = int(options.get("threads") or cpu_threads_per_worker())
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        providers = options.get("providers") or ["CPUExecutionProvider"]
        self.session = _open_session(ort, model_path, so, providers)
        self.input_name = self.session.get_inputs()[0].name
        self.providers = self.session.get_providers()

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: batch})[0]

    # Engine: the model after ONNX Runtime's graph optimizations, saved once and reused, so
    # runs skip the optimization step. EXTENDED stays portable across CPUs of one
    # architecture (ALL would bake in layout choices of the machine that built it).
    @classmethod
    def engine_key(cls, options: dict[str, Any]) -> dict[str, Any]:
        import platform

        return {"onnxruntime": _onnxruntime_version(), "optimization": "extended",
                "machine": platform.machine(), "format": 1,
                "providers": list(options.get("providers") or ["CPUExecutionProvider"])}

    @classmethod
    def build_engine(cls, model_path: Path, staging_dir: Path, options: dict[str, Any]) -> str:
        import onnxruntime as ort

        name = "model.ort-optimized.onnx"
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        so.optimized_model_filepath = str(staging_dir / name)
        so.log_severity_level = 3
        _open_session(ort, model_path, so, list(options.get("providers") or ["CPUExecutionProvider"]))
        return name

    def describe(self) -> dict[str, Any]:
        import onnxruntime as ort

        return {"backend": self.name, "version": ort.__version__, "providers": self.providers}
