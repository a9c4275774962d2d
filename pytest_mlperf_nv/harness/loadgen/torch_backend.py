"""``backend: torch``: the built-in harness on PyTorch, on CUDA GPUs or the CPU.

Models: the ONNX files the plugin provisions (the official ResNet50, the plugin's seeded
random-weight ResNet50-v1.5, a suite's own classifier) run through :mod:`.torch_onnx`; BERT
(``bert-99``) runs as the torch module of :mod:`.torch_bert`, from the reference's PyTorch
checkpoint or with seeded random weights for synthetic runs.

Engine: the compiled model. ``build_engine`` compiles it with ``torch.compile`` (Inductor, with
freezing) in a separate process on the device and keeps Inductor's and Triton's artifacts
(``torch.compiler.save_cache_artifacts``) as ``compile-cache.bin`` beside ``engine.json``; a run
loads them, so it does not compile again. The key holds torch's and Triton's versions, the
GPUs' names and compute capabilities, and the options.

Runs: :meth:`TorchBackend.create_sut` gives LoadGen the pipelined SUT of :mod:`.sut`, spread over
every visible GPU (one engine, one set of streams and buffers per GPU).

Heavy imports (torch) happen inside functions: the pytest process imports this module to read
``knobs``, ``options`` and the engine key without loading torch.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import ProvisionError

ENGINE_FILE = "engine.json"
COMPILE_CACHE_FILE = "compile-cache.bin"
ENGINE_FORMAT = 1
PRECISIONS = ("fp32", "fp16", "bf16")
DEVICES = ("auto", "cuda", "cpu")
#: batch sizes compiled when the engine is built (dynamic batch: one graph for 2..N, one for 1)
ENGINE_WARM_BATCHES = (8, 1)


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def _visible_gpus() -> tuple[tuple[str, str], ...]:
    """(name, compute capability) of the GPUs this process may use, through NVML (no CUDA init)."""
    from ...systems.detect import detect_system

    return tuple((g.name, g.compute_capability) for g in detect_system().gpus)


def resolve_options(options: dict[str, Any] | None) -> dict[str, Any]:
    """The backend options with their defaults for the device they resolve to.

    ``device: auto`` is CUDA where NVML sees a GPU and torch is a CUDA build, else the CPU.
    On CUDA: fp16, channels_last, compiled with freezing, dynamic batch dimension. On the CPU:
    fp32, not compiled (compiling on a CPU takes minutes; ``compile: true`` asks for it).
    """
    options = dict(options or {})
    unknown = sorted(set(options) - set(TorchBackend.options))
    if unknown:
        raise ValueError(f"unknown torch backend option(s) {', '.join(unknown)}; "
                         f"known: {', '.join(sorted(TorchBackend.options))}")
    device = options.get("device", "auto")
    if device not in DEVICES:
        raise ValueError(f"torch backend option device must be one of {', '.join(DEVICES)}, got {device!r}")
    if device == "auto":
        torch_version = _version("torch") or ""
        device = "cuda" if _visible_gpus() and "+cpu" not in torch_version else "cpu"
    cuda = device == "cuda"
    precision = options.get("precision", "fp16" if cuda else "fp32")
    if precision not in PRECISIONS:
        raise ValueError(f"torch backend option precision must be one of {', '.join(PRECISIONS)}, "
                         f"got {precision!r}")
    gpus = options.get("gpus")
    if gpus is not None and (isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 1):
        raise ValueError(f"torch backend option gpus must be a positive integer, got {gpus!r}")
    return {"device": device, "precision": precision,
            "channels_last": bool(options.get("channels_last", cuda)),
            "compile": bool(options.get("compile", cuda)),
            "freezing": bool(options.get("freezing", True)),
            "dynamic_batch": bool(options.get("dynamic_batch", True)),
            "raw_input": bool(options.get("raw_input", True)),
            "gpus": gpus, "threads": options.get("threads")}


def _compiler_dirs(engine_dir: Path | None) -> Path:
    """Where Inductor and Triton keep their files: beside the plugin's cache entries, never in /tmp."""
    if engine_dir is not None and engine_dir.parent.parent.name == "entries":
        return engine_dir.parent.parent.parent / "torch-compile"
    return Path.cwd() / ".torch-compile"


def pin_xdist_worker(environ: Any) -> str | None:
    """Under ``pytest -n N``: this worker's own GPU of the caller's visible list (see
    :mod:`pytest_mlperf_nv.systems.gpu_workers`); a worker without one is an error, not a share."""
    from ...systems.gpu_workers import (
        check_worker_count,
        outer_visible,
        pin_worker,
        visible_devices,
        worker_of,
    )

    me = worker_of(environ)
    if me is None:
        return None
    device = pin_worker(environ, lambda: len(_visible_gpus()))
    if device is None:
        outer = outer_visible(environ)
        check_worker_count(me[1], visible_devices(outer, len(_visible_gpus())), outer)
        raise RuntimeError(f"xdist worker {me[0]} of {me[1]} has no GPU of its own")  # not reached
    return device


def set_compiler_dirs(root: Path) -> None:
    """Point Inductor and Triton at ``root`` (before they first write anything)."""
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(root / "inductor")
    os.environ["TRITON_CACHE_DIR"] = str(root / "triton")


def load_model(path: Path) -> tuple[Any, str]:
    """The model at ``path`` as a float32 CPU torch module, and where its weights come from."""
    from .torch_bert import is_bert_checkpoint, load_bert_checkpoint, random_bert, read_random_spec

    path = Path(path)
    if path.suffix == ".onnx":
        import onnx

        from .torch_onnx import load_onnx_module

        module = load_onnx_module(path)  # OnnxImportError (a ValueError) names what is unsupported
        header = onnx.load(str(path), load_external_data=False)
        random = header.producer_name == "pytest-mlperf-nv" and "random" in header.graph.name
        return module, "random (seeded; performance only)" if random else f"file {path}"
    spec = read_random_spec(path)
    if spec is not None:
        config, seed = spec
        return random_bert(config, seed), f"random (seed {seed}; performance only)"
    if is_bert_checkpoint(path):
        return load_bert_checkpoint(path), f"file {path}"
    raise ValueError(f"the torch backend cannot read the model {path}: expected an ONNX file, a "
                         "BertForQuestionAnswering state dict (.pytorch, .pt, .pth, .bin) or the plugin's "
                         "random-BERT spec")


class TorchBackend:
    """PyTorch inference on CUDA (compiled, CUDA graphs, several streams) or the CPU."""

    name = "torch"
    #: suite knobs this backend honours
    knobs = frozenset({"gpu_batch_size", "num_warmups", "gpu_copy_streams", "gpu_inference_streams",
                       "use_graphs", "use_deque_limit", "deque_timeout_usec", "start_from_device"})
    #: ``backend_options:`` keys and their types
    options: dict[str, type] = {"device": str, "precision": str, "channels_last": bool, "compile": bool,
                                "freezing": bool, "dynamic_batch": bool, "raw_input": bool, "gpus": int,
                                "threads": int}

    def __init__(self, model_path: Path, options: dict[str, Any]):
        path = Path(model_path)
        self.engine_dir: Path | None = None
        self.compile_cache: Path | None = None
        if path.name == ENGINE_FILE:
            info = json.loads(path.read_text())
            self.engine_dir = path.parent
            self.model_path = Path(info["model"])
            if info.get("compile_cache"):
                self.compile_cache = path.parent / info["compile_cache"]
            self.engine_build = info.get("build")
        else:
            self.model_path = path
            self.engine_build = None
        self.settings = resolve_options(options)
        if self.settings["device"] == "cuda":
            pin_xdist_worker(os.environ)  # before torch initialises CUDA in this process
        self._compiler_root = _compiler_dirs(self.engine_dir)
        set_compiler_dirs(self._compiler_root)
        self._model: Any = None
        self.weights = ""
        self._eager: Any = None
        self.engines: list[Any] = []
        #: compiled models by (device, input): a later SUT of this backend reuses them
        self._compiled: dict[tuple, Any] = {}

    # -- model --------------------------------------------------------------------------------
    def model(self) -> Any:
        """The float32 CPU module (loaded once; each device gets its own copy)."""
        if self._model is None:
            import torch

            if self.settings["threads"]:
                torch.set_num_threads(int(self.settings["threads"]))
            elif self.settings["device"] == "cpu":
                from .backends import cpu_threads_per_worker

                torch.set_num_threads(cpu_threads_per_worker())
            self._model, self.weights = load_model(self.model_path)
        return self._model

    def devices(self) -> list[str]:
        import torch

        if self.settings["device"] == "cpu":
            return ["cpu"]
        if not torch.cuda.is_available():
            raise RuntimeError("torch backend: device cuda was asked for, but torch sees no CUDA GPU "
                               f"(torch {torch.__version__}); set backend_options device: cpu")
        count = torch.cuda.device_count()
        wanted = self.settings["gpus"] or count
        if wanted > count:
            raise RuntimeError(f"torch backend: gpus: {wanted} asked for, but {count} GPU(s) are visible")
        return [f"cuda:{i}" for i in range(wanted)]

    def _load_compile_cache(self) -> None:
        if self.compile_cache is not None and self.settings["compile"]:
            import torch

            torch.compiler.load_cache_artifacts(self.compile_cache.read_bytes())

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """One batch, eagerly on the first device (warm-up calls and checks; runs use create_sut)."""
        import copy

        import torch

        from .torch_runtime import inference_module

        device = self.devices()[0]
        if self._eager is None:
            s = self.settings
            self._eager = inference_module(copy.deepcopy(self.model()), precision=s["precision"],
                                           channels_last=s["channels_last"]).to(device)
        with torch.no_grad():
            return self._eager(torch.from_numpy(np.ascontiguousarray(batch)).to(device)).cpu().numpy()

    # -- runs ----------------------------------------------------------------------------------
    def create_sut(self, lg: Any, dataset: Any, postprocess: Any, knobs: dict[str, Any], on_error: Any,
                   scenario: str | None = None) -> Any:
        """The SUT for one LoadGen run: engines on every device, streams, graphs, buffers."""
        import copy

        from .sut import PipelinedSUT
        from .torch_runtime import DeviceEngine, SampleStore, buckets_for

        s = self.settings
        batch_size = int(knobs.get("gpu_batch_size") or 1)
        if scenario == "MultiStream":
            batch_size = max(batch_size, int(knobs.get("multi_stream_samples_per_query") or 8))
        devices = self.devices()
        cuda = devices[0] != "cpu"
        raw = getattr(dataset, "raw_input", None) if s["raw_input"] and hasattr(dataset, "raw") else None
        store = SampleStore(dataset, raw=raw is not None,
                            on_device=cuda and bool(knobs.get("start_from_device", False)))
        example = _example(store, dataset)
        if raw is not None and not _raw_matches(dataset, example):
            raw = None  # the dataset's raw form does not reproduce its samples: move them as they are
            store.raw = False
            example = _example(store, dataset)
        buckets = buckets_for(batch_size, scenario)
        self._load_compile_cache()
        self.engines = []  # this SUT's (an earlier SUT keeps its own list)
        model = self.model()
        for device in devices:
            key = (device, raw is not None, example.shape[1:], example.dtype.str)
            self.engines.append(DeviceEngine(
                copy.deepcopy(model) if len(devices) > 1 else model, device,
                precision=s["precision"], channels_last=s["channels_last"], compile=s["compile"],
                freezing=s["freezing"], dynamic_batch=s["dynamic_batch"],
                graphs=cuda and bool(knobs.get("use_graphs", True)), raw=raw,
                sample_shape=example.shape[1:], sample_dtype=_torch_dtype(example.dtype),
                max_batch=batch_size, buckets=buckets,
                lanes=int(knobs.get("gpu_inference_streams") or 1),
                copy_streams=int(knobs.get("gpu_copy_streams") or 2), compiled=self._compiled.get(key)))
            self._compiled[key] = self.engines[-1].compiled
        timeout_us = int(knobs.get("deque_timeout_usec") or 2000)
        lanes = int(knobs.get("gpu_inference_streams") or 1)
        copies = int(knobs.get("gpu_copy_streams") or 2)
        return PipelinedSUT(lg, self.engines, store, postprocess, batch_size, on_error=on_error,
                            fill_timeout_s=timeout_us / 1e6 if knobs.get("use_deque_limit") else 0.0,
                            inline=scenario in ("SingleStream", "MultiStream"),
                            # Offline: every copy stream busy; otherwise batches formed late are larger.
                            prepare_ahead=max(lanes, copies) if scenario == "Offline" else lanes,
                            # Server: a batch never queued behind another on the device, and formed
                            # when the device is about to be free (latency).
                            launch_ahead=scenario != "Server", form_late=scenario == "Server")

    def describe(self) -> dict[str, Any]:
        import torch

        return {"backend": self.name, "version": torch.__version__, "options": self.settings,
                "weights": self.weights, "model": str(self.model_path),
                "engine": str(self.engine_dir) if self.engine_dir else None,
                "compile_cache": self.compile_cache is not None, "engine_build": self.engine_build,
                "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
                "devices": [e.describe() for e in self.engines]}

    # -- engine --------------------------------------------------------------------------------
    @classmethod
    def engine_key(cls, options: dict[str, Any]) -> dict[str, Any]:
        import platform

        settings = resolve_options(options)
        return {"torch": _version("torch"), "triton": _version("triton"),
                "python": ".".join(platform.python_version_tuple()[:2]), "machine": platform.machine(),
                # Kinds of GPU, not how many: compiled kernels depend on the architecture only.
                "gpus": [list(g) for g in sorted(set(_visible_gpus()))] if settings["device"] == "cuda"
                else [],
                "options": {k: v for k, v in settings.items() if k not in ("gpus", "threads")},
                "format": ENGINE_FORMAT}

    @classmethod
    def build_engine(cls, model_path: Path, staging_dir: Path, options: dict[str, Any]) -> str:
        """``engine.json`` (the model and options) and, when compiling, the compiler's artifacts.

        The compilation runs in its own process: the pytest process never initialises CUDA.
        """
        settings = resolve_options(options)
        info: dict[str, Any] = {"format": ENGINE_FORMAT, "model": str(model_path), "options": settings,
                                "compile_cache": None, "build": None}
        if settings["compile"]:
            work = staging_dir / "_work"
            env = dict(os.environ)
            if settings["device"] == "cuda":
                pin_xdist_worker(env)  # compile on this worker's GPU
            env["TORCHINDUCTOR_CACHE_DIR"] = str(work / "inductor")
            env["TRITON_CACHE_DIR"] = str(work / "triton")
            command = [sys.executable, "-m", "pytest_mlperf_nv.harness.loadgen.torch_backend", "build",
                       str(model_path), str(staging_dir / COMPILE_CACHE_FILE), json.dumps(options or {})]
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            shutil.rmtree(work, ignore_errors=True)
            if done.returncode != 0:
                tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-12:])
                raise ProvisionError(f"torch backend: compiling {model_path} failed (exit status "
                                     f"{done.returncode}):\n{tail}")
            info["build"] = json.loads(done.stdout.strip().splitlines()[-1])
            if (staging_dir / COMPILE_CACHE_FILE).exists():
                info["compile_cache"] = COMPILE_CACHE_FILE
        (staging_dir / ENGINE_FILE).write_text(json.dumps(info, indent=2) + "\n")
        return ENGINE_FILE


def _example(store: Any, dataset: Any) -> np.ndarray:
    dataset.load([0])
    try:
        return np.ascontiguousarray(store.sample([0]))
    finally:
        dataset.unload([0])


def _raw_matches(dataset: Any, raw: np.ndarray) -> bool:
    """Whether the dataset's raw form reproduces its samples (checked on the first sample)."""
    spec = dataset.raw_input
    dataset.load([0])
    try:
        want = np.asarray(dataset.get([0]), dtype=np.float32)
    finally:
        dataset.unload([0])
    got = (raw.astype(np.float32) - np.asarray(spec.mean, dtype=np.float32)) * np.float32(spec.scale)
    if spec.channels_first:
        got = got.transpose(0, 3, 1, 2)
    return got.shape == want.shape and bool(np.allclose(got, want, atol=0.07))


def _torch_dtype(dtype: np.dtype) -> Any:
    import torch

    return torch.from_numpy(np.zeros(1, dtype=dtype)).dtype


def _build_main(model: str, out: str, options_json: str) -> int:
    """Compile ``model`` on the first device at a few batch sizes and save the compiler's artifacts."""
    import torch

    from .torch_runtime import DeviceEngine

    settings = resolve_options(json.loads(options_json))
    module, weights = load_model(Path(model))
    device = "cuda:0" if settings["device"] == "cuda" else "cpu"
    shape, dtype = _engine_input(module)
    start = time.perf_counter()
    engine = DeviceEngine(module, device, precision=settings["precision"],
                          channels_last=settings["channels_last"], compile=True,
                          freezing=settings["freezing"], dynamic_batch=settings["dynamic_batch"],
                          graphs=False, raw=_engine_raw(shape, dtype),
                          sample_shape=shape, sample_dtype=dtype, max_batch=max(ENGINE_WARM_BATCHES),
                          buckets=list(ENGINE_WARM_BATCHES), lanes=1, copy_streams=1)
    seconds = time.perf_counter() - start
    artifacts = torch.compiler.save_cache_artifacts()
    if artifacts is not None:
        Path(out).write_bytes(artifacts[0])
    print(json.dumps({"compile_s": round(seconds, 3), "device": engine.describe()["name"],
                      "weights": weights, "torch": torch.__version__,
                      "artifacts_bytes": len(artifacts[0]) if artifacts else 0}))
    return 0


def _engine_input(module: Any) -> tuple[tuple[int, ...], Any]:
    """The per-sample input the runs will feed (8-bit NHWC for image models, int32 features for BERT)."""
    import torch

    graph = getattr(module, "_graph", None)
    if graph is not None:
        import onnx
        from onnx import TensorProto

        model = onnx.load(str(graph.path), load_external_data=False)
        spec = next(i for i in model.graph.input if i.name == graph.input_name)
        dims = tuple(int(d.dim_value) for d in spec.type.tensor_type.shape.dim)[1:]
        if len(dims) == 3 and dims[0] == 3 and graph.input_type == TensorProto.FLOAT:
            return (dims[1], dims[2], 3), torch.uint8  # images: compiled for raw 8-bit input
        return dims, torch.float32
    config = getattr(module, "config", None)
    return (3, 384 if config is None else min(384, config.max_position_embeddings)), torch.int32


def _engine_raw(shape: tuple[int, ...], dtype: Any) -> Any:
    import torch

    from ...datasets import RawInput

    if dtype == torch.uint8:
        from ...benchmarks.imagenet import MEANS_RGB

        return RawInput(MEANS_RGB, 1.0, True)
    return None


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "build":
        sys.exit(_build_main(*sys.argv[2:]))
    print("usage: python -m pytest_mlperf_nv.harness.loadgen.torch_backend build MODEL OUT OPTIONS_JSON",
          file=sys.stderr)
    sys.exit(2)
