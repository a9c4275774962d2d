"""The torch backend's device side: one compiled model per device, its streams, CUDA graphs and buffers.

A :class:`DeviceEngine` holds, for one device (a GPU, or the CPU):

* the model in the run's precision (fp32/fp16/bf16), channels_last where it has 4-D inputs,
  compiled with ``torch.compile`` (Inductor, with freezing: weights become constants, so
  BatchNorm and weight layouts are folded in), with the batch dimension dynamic so that one
  compilation serves every batch size;
* one :class:`Lane` per inference stream: a static input buffer, and one CUDA graph per batch
  bucket (a batch runs in the smallest bucket that holds it), replayed on the lane's stream;
* :class:`Slot` buffers: pinned host memory for a batch's gathered inputs and its outputs, and
  device memory its inputs are copied to on a copy stream, so copies overlap inference.

Where the dataset provides its samples as 8-bit data plus a per-channel offset
(:class:`~pytest_mlperf_nv.datasets.RawInput`), the engine moves the 8-bit data and converts it
on the device inside the compiled graph: a quarter of float32's bytes over PCIe.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np


@dataclass
class Slot:
    """Buffers of one batch in flight, and the batch itself."""

    host_in: Any  # pinned CPU tensor (max batch, *sample) or None (samples already on the device)
    dev_in: Any  # device tensor (max batch, *sample); the CPU engine uses host_in
    host_out: Any  # pinned CPU tensor (max batch, *output)
    ready: Any = None  # CUDA event: dev_in holds the batch
    done: Any = None  # CUDA event: host_out holds the results
    ids: Any = None
    indices: Any = None
    count: int = 0
    #: the batch's stage times while the SUT records a profile (sut_profile.BatchProfile)
    marks: dict[str, float] = field(default_factory=dict)
    #: its lane had nothing in flight when it was launched (profile only)
    idle_launch: bool = True
    #: perf_counter time of its launch, while the SUT learns device times (form_late)
    launched_at: float = 0.0


def buckets_for(batch_size: int, scenario: str | None) -> list[int]:
    """Batch sizes with a CUDA graph: the batch size and, for Server (or no scenario), smaller ones,
    so that a dynamic batch pays for little more than its own size: powers of two up to 32, then
    steps of an eighth of the batch size (a batch of 148 of 256 runs as 160, not 256)."""
    if scenario == "Offline":
        return [batch_size]
    if scenario == "SingleStream":
        return [1]
    sizes = {batch_size}
    b = 1
    while b <= min(batch_size, 32):
        sizes.add(b)
        b *= 2
    step = max(8, batch_size // 8)
    sizes.update(range(step * -(-32 // step), batch_size, step))
    return sorted(s for s in sizes if s <= batch_size)


def _dtype(precision: str) -> Any:
    import torch

    return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]


def inference_module(model: Any, *, precision: str, channels_last: bool, raw: Any = None) -> Any:
    """The model wrapped with its input conversion and float32 outputs (what LoadGen is handed)."""
    import torch
    from torch import nn

    dtype = _dtype(precision)

    class InferenceModule(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model
            self.channels_first = bool(raw is not None and raw.channels_first)
            if raw is not None:
                self.register_buffer("mean", torch.tensor(raw.mean, dtype=torch.float32), persistent=False)
                self.scale = float(raw.scale)
            self.raw = raw is not None

        def forward(self, x: Any) -> Any:
            if self.raw:
                # Same arithmetic as the dataset's own preprocessing: float32, minus the mean.
                x = x.to(torch.float32) - self.mean
                if self.scale != 1.0:
                    x = x * self.scale
                if self.channels_first:
                    x = x.permute(0, 3, 1, 2)  # NHWC data seen as NCHW: channels_last strides
            if x.is_floating_point():
                x = x.to(dtype)
                if channels_last and x.dim() == 4:
                    x = x.contiguous(memory_format=torch.channels_last)
            y = self.model(x)
            return y.float() if y.is_floating_point() else y

    module = InferenceModule().eval()
    if hasattr(model, "set_compute_dtype"):
        model.set_compute_dtype(dtype)
    module.model.to(dtype)
    if channels_last:
        cast(Any, module).to(memory_format=torch.channels_last)
    for p in module.parameters():
        p.requires_grad_(False)
    return module


class Lane:
    """One inference stream of a device: a static input buffer and a CUDA graph per bucket."""

    def __init__(self, engine: DeviceEngine):
        import torch

        self.engine = engine
        self.stream: Any = torch.cuda.Stream(engine.device) if engine.cuda else None
        self.static_in = torch.zeros((engine.max_batch, *engine.sample_shape), dtype=engine.sample_dtype,
                                     device=engine.device)
        self.graphs: dict[int, tuple[Any, Any]] = {}

    def capture(self, pool: Any) -> None:
        import torch

        with torch.cuda.device(self.engine.device), torch.cuda.stream(self.stream), torch.no_grad():
            for b in sorted(self.engine.buckets, reverse=True):  # the largest sizes the pool
                for _ in range(2):  # cuBLAS/cuDNN set up for this stream outside the capture
                    self.engine.fn(self.static_in[:b])
                self.stream.synchronize()
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph, pool=pool, stream=self.stream):
                    out = self.engine.fn(self.static_in[:b])
                self.graphs[b] = (graph, out)
        self.stream.synchronize()

    def launch(self, slot: Slot) -> None:
        """Queue the slot's batch on this lane: input copy, inference, output copy (asynchronous)."""
        import torch

        b = slot.count
        bucket = self.engine.bucket(b)
        engine = self.engine
        if not engine.cuda:
            with torch.no_grad():
                self.static_in[:b].copy_(slot.host_in[:b])
                out = engine.fn(self.static_in[:bucket])
                slot.host_out[:b].copy_(out[:b])
            return
        with torch.cuda.device(engine.device), torch.cuda.stream(self.stream):
            self.stream.wait_event(slot.ready)
            self.static_in[:b].copy_(slot.dev_in[:b], non_blocking=True)
            if self.graphs:
                graph, out = self.graphs[bucket]
                graph.replay()
            else:
                with torch.no_grad():
                    out = engine.fn(self.static_in[:bucket])
            slot.host_out[:b].copy_(out[:b], non_blocking=True)
            slot.done.record(self.stream)

    @staticmethod
    def finished(slot: Slot) -> bool:
        """Whether the device has written the slot's outputs (without waiting)."""
        return slot.done is None or bool(slot.done.query())

    @staticmethod
    def wait(slot: Slot) -> np.ndarray:
        """The slot's outputs, once the device has written them."""
        if slot.done is not None:
            slot.done.synchronize()
        return slot.host_out[:slot.count].numpy()


class DeviceEngine:
    """The compiled model on one device, its lanes (inference streams) and copy streams."""

    def __init__(self, model: Any, device: str, *, precision: str, channels_last: bool, compile: bool,
                 freezing: bool, dynamic_batch: bool, graphs: bool, raw: Any, sample_shape: tuple[int, ...],
                 sample_dtype: Any, max_batch: int, buckets: list[int], lanes: int, copy_streams: int,
                 compiled: tuple[Any, Any, bool] | None = None):
        import torch

        self.device = torch.device(device)
        self.cuda = self.device.type == "cuda"
        self.sample_shape = tuple(sample_shape)
        self.sample_dtype = sample_dtype
        self.max_batch = max(max_batch, max(buckets))
        self.buckets = sorted(buckets)
        self.timings: dict[str, float] = {}
        if compiled is not None:
            # The model this process already compiled for this device and input (another SUT of
            # the same backend): new buckets and graphs only, no second compilation.
            self.module, self.fn, self.dynamic_batch = compiled
            compile = False
        else:
            self.module = inference_module(model, precision=precision, channels_last=channels_last,
                                           raw=raw).to(self.device)
            self.fn = self.module
            self.dynamic_batch = compile and dynamic_batch
        if compile:
            import torch._dynamo

            # One compiled graph per device and bucket at most; never fall back to eager silently.
            torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, 256)
            if hasattr(torch._dynamo.config, "accumulated_cache_size_limit"):
                torch._dynamo.config.accumulated_cache_size_limit = max(
                    torch._dynamo.config.accumulated_cache_size_limit, 1024)
            self.fn = torch.compile(self.module, dynamic=None if dynamic_batch else False,
                                    options={"freezing": freezing})
        if self.cuda:
            torch.backends.cudnn.benchmark = True
        start = time.perf_counter()
        try:
            self.output_shape, self.output_dtype = self._warm()
        except Exception as exc:  # noqa: BLE001 - a compiler that cannot do a dynamic batch dimension
            if not self.dynamic_batch:
                raise
            import warnings

            warnings.warn(f"torch.compile with a dynamic batch dimension failed ({type(exc).__name__}: "
                          f"{exc}); compiling each batch size instead", RuntimeWarning, stacklevel=2)
            torch._dynamo.reset()
            self.dynamic_batch = False
            self.fn = torch.compile(self.module, dynamic=False, options={"freezing": freezing})
            self.output_shape, self.output_dtype = self._warm()
        self.timings["compile_s"] = time.perf_counter() - start
        self.lanes = [Lane(self) for _ in range(max(1, lanes if self.cuda else 1))]
        self.copy_streams = [torch.cuda.Stream(self.device) for _ in range(max(1, copy_streams))] \
            if self.cuda else [None]
        start = time.perf_counter()
        if graphs and self.cuda:
            pool = None
            for lane in self.lanes:
                pool = torch.cuda.graph_pool_handle()  # each lane its own pool: lanes run concurrently
                lane.capture(pool)
        self.timings["graphs_s"] = time.perf_counter() - start
        self.graphs = bool(graphs and self.cuda)

    def _warm(self) -> tuple[tuple[int, ...], Any]:
        """Compile for every bucket (the largest first), and learn the output's shape and dtype."""
        import torch

        out = None
        with torch.no_grad(), torch.cuda.device(self.device) if self.cuda else _nothing():
            for b in sorted(self.buckets, reverse=True):
                x = torch.zeros((b, *self.sample_shape), dtype=self.sample_dtype, device=self.device)
                if self.dynamic_batch and b > 1:
                    torch._dynamo.mark_dynamic(x, 0)
                y = self.fn(x)
                if out is None:
                    out = (tuple(y.shape[1:]), y.dtype)
            if self.cuda:
                torch.cuda.synchronize(self.device)
        assert out is not None
        return out

    @property
    def compiled(self) -> tuple[Any, Any, bool]:
        """What another engine on this device, for the same input, can start from."""
        return self.module, self.fn, self.dynamic_batch

    def bucket(self, count: int) -> int:
        for b in self.buckets:
            if b >= count:
                return b
        raise ValueError(f"batch of {count} samples exceeds the largest batch size {self.buckets[-1]}")

    def new_slot(self, on_device_store: bool) -> Slot:
        import torch

        pin = self.cuda
        host_in = None if on_device_store and self.cuda else torch.empty(
            (self.max_batch, *self.sample_shape), dtype=self.sample_dtype, pin_memory=pin)
        dev_in = torch.empty((self.max_batch, *self.sample_shape), dtype=self.sample_dtype,
                             device=self.device) if self.cuda else host_in
        host_out = torch.empty((self.max_batch, *self.output_shape), dtype=self.output_dtype, pin_memory=pin)
        slot = Slot(host_in, dev_in, host_out)
        if self.cuda:
            slot.ready = torch.cuda.Event()
            slot.done = torch.cuda.Event(blocking=False)
        return slot

    def fill(self, slot: Slot, rows: np.ndarray, store: Any, copy_stream: int) -> None:
        """Gather the batch's samples into the slot and start their copy to the device."""
        import torch

        b = len(rows)
        slot.count = b
        device_rows = store.on_device(self.device) if self.cuda else None
        if device_rows is not None:
            index = torch.from_numpy(rows)
            stream = self.copy_streams[copy_stream]
            with torch.cuda.device(self.device), torch.cuda.stream(stream):
                index = index.to(self.device, non_blocking=True)
                torch.index_select(device_rows, 0, index, out=slot.dev_in[:b])
                slot.ready.record(stream)
            return
        store.gather(rows, slot.host_in[:b])
        if self.cuda:
            stream = self.copy_streams[copy_stream]
            with torch.cuda.device(self.device), torch.cuda.stream(stream):
                slot.dev_in[:b].copy_(slot.host_in[:b], non_blocking=True)
                slot.ready.record(stream)

    @staticmethod
    def wait_filled(slot: Slot) -> None:
        """Wait until the slot's inputs are on the device (its copy done)."""
        if slot.ready is not None:
            slot.ready.synchronize()

    # -- measurements without LoadGen (benchmarks/) -----------------------------------------
    def raw_throughput(self, batch: int, seconds: float = 3.0) -> float:
        """Samples per second of back-to-back inference at ``batch`` on device-resident input."""
        import torch

        lane = self.lanes[0]
        bucket = self.bucket(batch)

        def once() -> None:
            if lane.graphs:
                lane.graphs[bucket][0].replay()
            else:
                with torch.no_grad():
                    self.fn(lane.static_in[:bucket])

        with torch.cuda.device(self.device) if self.cuda else _nothing(), \
                torch.cuda.stream(lane.stream) if self.cuda else _nothing():
            for _ in range(3):
                once()
            self._sync(lane)
            n, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                for _ in range(10):
                    once()
                n += 10
                self._sync(lane)
            elapsed = time.perf_counter() - start
        return n * batch / elapsed

    def _sync(self, lane: Lane) -> None:
        if self.cuda:
            lane.stream.synchronize()

    def describe(self) -> dict[str, Any]:
        import torch

        name = torch.cuda.get_device_name(self.device) if self.cuda else "cpu"
        uuid = str(getattr(torch.cuda.get_device_properties(self.device), "uuid", "")) if self.cuda else None
        return {"device": str(self.device), "name": name, "uuid": uuid, "buckets": self.buckets,
                "lanes": len(self.lanes), "copy_streams": len(self.copy_streams), "graphs": self.graphs,
                "timings": {k: round(v, 3) for k, v in self.timings.items()}}


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


class SampleStore:
    """The samples LoadGen loaded (load_samples), as one tensor; on each device with start_from_device."""

    def __init__(self, dataset: Any, *, raw: bool, on_device: bool):
        self.dataset = dataset
        self.raw = raw
        self.on_device_wanted = on_device
        self.total = dataset.total_count
        self.row_of = np.full(self.total, -1, dtype=np.int64)
        self.host: Any = None
        self.host_np: Any = None
        self._device: dict[Any, Any] = {}
        self._order: list[int] = []
        self._pool: Any = None
        self._gather_threads = 1

    @property
    def loaded(self) -> int:
        return len(self._order)

    def sample(self, indices: list[int]) -> np.ndarray:
        """Samples as the engine consumes them (8-bit raw data, or the dataset's arrays)."""
        return self.dataset.raw(indices) if self.raw else self.dataset.get(indices)

    def load(self, indices: list[int]) -> None:
        import torch

        self.dataset.load(indices)
        new = [i for i in indices if self.row_of[i] < 0]
        order = self._order + new
        data = np.ascontiguousarray(self.sample(order)) if order else None
        self._order = order
        self.row_of[:] = -1
        self.row_of[np.asarray(order, dtype=np.int64)] = np.arange(len(order))
        self.host_np = data
        self.host = torch.from_numpy(data) if data is not None else None
        self._device.clear()

    def unload(self, indices: list[int]) -> None:
        self.dataset.unload(indices)
        gone = set(indices)
        keep = [i for i in self._order if i not in gone]
        self._order = []
        self.row_of[:] = -1
        self.host = self.host_np = None
        self._device.clear()
        if keep:
            self.load(keep)

    def gather(self, rows: np.ndarray, out: Any) -> None:
        """Copy the samples at ``rows`` into ``out`` (a CPU tensor), in parallel for large batches.

        ``numpy.take`` copies whole rows (torch's CPU index_select is much slower on 8-bit image
        rows) and releases the GIL, so a few threads share a large batch.
        """
        target = out.numpy()
        if target.nbytes < (8 << 20) or len(rows) < 8:
            np.take(self.host_np, rows, axis=0, out=target)
            return
        pool = self._gather_pool()
        parts = np.array_split(np.arange(len(rows)), self._gather_threads)
        list(pool.map(lambda p: np.take(self.host_np, rows[p[0]:p[-1] + 1], axis=0,
                                        out=target[p[0]:p[-1] + 1]), [p for p in parts if len(p)]))

    def _gather_pool(self) -> Any:
        if self._pool is None:
            import os
            from concurrent.futures import ThreadPoolExecutor

            self._gather_threads = max(1, min(8, (os.cpu_count() or 2) // 2))
            self._pool = ThreadPoolExecutor(self._gather_threads, thread_name_prefix="mlperf-gather")
        return self._pool

    def rows(self, indices: np.ndarray) -> np.ndarray:
        rows = self.row_of[indices]
        if (rows < 0).any():
            missing = np.asarray(indices)[rows < 0][:5].tolist()
            raise RuntimeError(f"LoadGen asked for samples {missing} that were never loaded")
        return rows

    def on_device(self, device: Any) -> Any:
        """The loaded samples on ``device`` (copied once per load), or None without start_from_device."""
        if not self.on_device_wanted or self.host is None:
            return None
        found = self._device.get(device)
        if found is None:
            found = self._device[device] = self.host.to(device)
        return found

    def prepare_devices(self, devices: list[Any]) -> None:
        for device in devices:
            self.on_device(device)
