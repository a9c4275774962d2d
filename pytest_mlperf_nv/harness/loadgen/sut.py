"""The built-in SUTs: :class:`BatchingSUT` (any backend) and :class:`PipelinedSUT` (device backends).

BatchingSUT: LoadGen's issue callback only enqueues; the worker drains up to ``batch_size`` samples,
runs the backend, post-processes, and completes the samples. A backend error cannot be
handed back to LoadGen (a raising callback aborts the process and unfinished samples hang
it), so the worker reports the error and ends the process at once: the parent then fails
the item with the cause instead of waiting for its timeout.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from .sut_timing import LaneTiming

EXIT_BACKEND_ERROR = 70


class BatchingSUT:
    def __init__(self, lg: Any, backend: Any, dataset: Any, postprocess: Callable[[Any], np.ndarray],
                 batch_size: int, on_error: Callable[[BaseException], None],
                 on_progress: Callable[[int], None] | None = None):
        self.lg = lg
        self.backend = backend
        self.dataset = dataset
        self.postprocess = postprocess
        self.batch_size = batch_size
        self.on_error = on_error
        #: called with the running total of completed samples after each batch (the live progress)
        self.on_progress = on_progress
        self.pending: queue.SimpleQueue = queue.SimpleQueue()
        self.completed = 0
        self.thread = threading.Thread(target=self._work, name="mlperf-sut-worker", daemon=True)
        self.thread.start()

    # LoadGen callbacks -------------------------------------------------------------------
    def issue(self, samples: list) -> None:
        for sample in samples:
            self.pending.put(sample)

    def flush(self) -> None:
        pass

    # worker --------------------------------------------------------------------------------
    def _next_batch(self) -> list | None:
        first = self.pending.get()
        if first is None:
            return None
        batch = [first]
        while len(batch) < self.batch_size:
            try:
                item = self.pending.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self.pending.put(None)
                break
            batch.append(item)
        return batch

    def _work(self) -> None:
        try:
            while True:
                batch = self._next_batch()
                if batch is None:
                    return
                self._run(batch)
        except BaseException as exc:  # noqa: BLE001 - any backend failure ends the run
            self.on_error(exc)

    def _run(self, batch: list) -> None:
        indices = [s.index for s in batch]
        outputs = self.backend.predict(self.dataset.get(indices))
        rows = np.ascontiguousarray(self.postprocess(outputs))
        if len(rows) != len(batch):
            raise RuntimeError(f"postprocess returned {len(rows)} responses for {len(batch)} samples")
        base, stride = rows.ctypes.data, rows.strides[0] if rows.ndim > 1 else rows.itemsize
        responses = [self.lg.QuerySampleResponse(s.id, base + i * stride, stride)
                     for i, s in enumerate(batch)]
        # LoadGen copies the bytes during this call; ``rows`` stays alive until it returns.
        self.lg.QuerySamplesComplete(responses)
        self.completed += len(batch)
        if self.on_progress is not None:
            self.on_progress(self.completed)

    def stop(self) -> None:
        self.pending.put(None)
        self.thread.join(timeout=5)


def die_with(exc: BaseException, status_writer: Callable[[dict], None]) -> None:
    """Report a backend failure and end the process without LoadGen's abort at exit."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    sys.stderr.write("backend failed during the LoadGen run:\n" + text)
    sys.stderr.flush()
    status_writer({"status": "backend_error", "error": f"{type(exc).__name__}: {exc}",
                   "traceback": text})
    os._exit(EXIT_BACKEND_ERROR)


class SampleQueue:
    """Issued samples waiting for a batch: chunks of (ids, indices) arrays, taken up to N at a time.

    LoadGen's issue callback puts (Offline: one chunk of the whole query; Server: one per
    query); batchers take. ``take`` waits for a first sample and, with a fill timeout, up to that
    long for a full batch (NVIDIA's ``use_deque_limit`` / ``deque_timeout_usec``).
    """

    def __init__(self) -> None:
        import collections

        self._chunks: collections.deque = collections.deque()
        self._count = 0
        self._closed = False
        self._cond = threading.Condition()

    def put(self, ids: np.ndarray, indices: np.ndarray) -> None:
        issued = time.perf_counter()  # the batch profile's start of a sample's latency
        with self._cond:
            self._chunks.append((ids, indices, issued))
            self._count += len(ids)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __len__(self) -> int:
        return self._count

    def take(self, n: int, fill_timeout_s: float = 0.0) -> tuple[np.ndarray, np.ndarray] | None:
        """Up to ``n`` samples (ids, indices) in issue order; None once closed and empty."""
        batch = self.take_batch(n, fill_timeout_s)
        return None if batch is None else (batch[0], batch[1])

    def take_batch(self, n: int, fill_timeout_s: float = 0.0) -> tuple[np.ndarray, np.ndarray, float] | None:
        """As :meth:`take`, with the perf_counter time the batch's first sample was issued."""
        with self._cond:
            while self._count == 0 and not self._closed:
                self._cond.wait()
            if self._count == 0:
                return None
            if fill_timeout_s > 0 and self._count < n:
                deadline = time.monotonic() + fill_timeout_s
                while self._count < n and not self._closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            ids_parts, index_parts, need = [], [], n
            first_issued = self._chunks[0][2]
            while need and self._chunks:
                ids, indices, issued = self._chunks[0]
                if len(ids) <= need:
                    self._chunks.popleft()
                else:
                    self._chunks[0] = (ids[need:], indices[need:], issued)
                    ids, indices = ids[:need], indices[:need]
                ids_parts.append(ids)
                index_parts.append(indices)
                need -= len(ids)
            self._count -= n - need
            if self._count:
                self._cond.notify()  # more for another batcher
        if len(ids_parts) == 1:
            return ids_parts[0], index_parts[0], first_issued
        return np.concatenate(ids_parts), np.concatenate(index_parts), first_issued


class PipelinedSUT:
    """A SUT that keeps one or more devices busy (the torch backend's).

    Per device (a :class:`~.torch_runtime.DeviceEngine`): feeder threads, one per copy stream,
    take batches of up to ``batch_size`` issued samples, gather them into pinned memory and
    start their copy to the device; lane threads, one per inference stream, run each batch
    (CUDA graph replay), queue the copy of its outputs back, and complete the previous batch
    while this one runs, with one ``QuerySamplesComplete`` call per batch (``launch_ahead``:
    whether the next batch is queued on the device before the previous one ends). At most one batch
    per lane is prepared ahead (Offline: one per copy stream), so under Server load samples wait
    in the queue and batches grow instead of being split. All devices take from one queue: a faster or idle
    device takes more.

    ``form_late`` (with one batch at a time on one lane, as Server runs): the next batch is formed
    when its lane is about to be free (the lane's device time and the feeder's fill time learnt as
    the run goes), not as soon as the previous one is launched: samples that arrive meanwhile join
    it instead of waiting for the batch after, about one batch time less latency.

    SingleStream and MultiStream (``inline``) run each query in LoadGen's issue thread: one query
    is in flight at a time there, and handing it between threads would only add latency.
    """

    def __init__(self, lg: Any, engines: list[Any], store: Any, postprocess: Callable[[Any], np.ndarray],
                 batch_size: int, *, on_error: Callable[[BaseException], None], fill_timeout_s: float = 0.0,
                 inline: bool = False, prepare_ahead: int | None = None, launch_ahead: bool = True,
                 form_late: bool = False):
        self.lg = lg
        self.engines = engines
        self.store = store
        self.postprocess = postprocess
        self.batch_size = batch_size
        self.on_error = on_error
        self.fill_timeout_s = fill_timeout_s
        self.inline = inline
        #: batches prepared per device while others run (default: one per lane)
        self.prepare_ahead = prepare_ahead
        #: a lane queues its next batch on the device behind the running one (Offline: no gap
        #: between batches); without, the device runs one batch at a time per lane, and a batch
        #: never waits behind another there (Server: up to one batch's time less latency)
        self.launch_ahead = launch_ahead
        #: batches formed when their lane is about to be free (only without launch_ahead, one lane)
        self.form_late = form_late
        self.queue = SampleQueue()
        self.completed = 0
        self.batches = 0
        #: told the completed count after each batch (the live progress line); set by the child
        self.on_progress: Callable[[int], None] | None = None
        #: a :class:`~.sut_profile.BatchProfile` to record each batch's stages in (benchmarks/)
        self.profile: Any = None
        self._count_lock = threading.Lock()
        self._pipes = [] if inline else [_DevicePipe(self, e) for e in engines]
        self._inline_slot: Any = engines[0].new_slot(store.on_device_wanted) if inline else None
        for pipe in self._pipes:
            pipe.start()

    # LoadGen callbacks -------------------------------------------------------------------
    def issue_fast(self, ids: list[int], indices: list[int]) -> None:
        """``ConstructFastSUT``'s issue callback: the query's ids and sample indices as lists."""
        ids_a = np.array(ids, dtype=np.uint64)
        indices_a = np.array(indices, dtype=np.int64)
        if self.inline:
            self._run_inline(ids_a, indices_a)
        else:
            self.queue.put(ids_a, indices_a)

    def issue(self, samples: list) -> None:
        self.issue_fast([s.id for s in samples], [s.index for s in samples])

    def flush(self) -> None:
        pass

    def load_samples(self, indices: list[int]) -> None:
        self.store.load(list(indices))
        self.store.prepare_devices([e.device for e in self.engines if e.cuda])

    def unload_samples(self, indices: list[int]) -> None:
        self.store.unload(list(indices))

    # work --------------------------------------------------------------------------------
    def _run_inline(self, ids: np.ndarray, indices: np.ndarray) -> None:
        try:
            engine, slot = self.engines[0], self._inline_slot
            lane = engine.lanes[0]
            issued = time.perf_counter() if self.profile is not None else 0.0
            for start in range(0, len(ids), self.batch_size):
                end = start + self.batch_size
                slot.ids, slot.indices = ids[start:end], indices[start:end]
                self.mark(slot, "queued", issued)
                self.mark(slot, "taken")
                engine.fill(slot, self.store.rows(slot.indices), self.store, 0)
                self.mark(slot, "filled")
                self.mark(slot, "launched")
                slot.idle_launch = True  # one query at a time: nothing else runs
                lane.launch(slot)
                self.complete(slot, lane)
        except BaseException as exc:  # noqa: BLE001 - LoadGen aborts on an exception in its thread
            self.on_error(exc)

    def mark(self, slot: Any, stage: str, at: float | None = None) -> None:
        """When the slot's batch reached ``stage`` (only while a profile is recorded)."""
        if self.profile is not None:
            if stage == "queued":
                slot.marks = {}
            slot.marks[stage] = time.perf_counter() if at is None else at

    def complete(self, slot: Any, lane: Any) -> None:
        """Hand the slot's results to LoadGen, one call for the whole batch."""
        out = lane.wait(slot)
        self.mark(slot, "seen")
        rows = np.ascontiguousarray(self.postprocess(out))
        n = len(slot.ids)
        if len(rows) != n:
            raise RuntimeError(f"postprocess returned {len(rows)} responses for {n} samples")
        base, stride = rows.ctypes.data, rows.strides[0] if rows.ndim > 1 else rows.itemsize
        response = self.lg.QuerySampleResponse
        responses = [response(i, base + k * stride, stride) for k, i in enumerate(slot.ids.tolist())]
        # LoadGen copies the bytes during this call; ``rows`` stays alive until it returns.
        self.lg.QuerySamplesComplete(responses)
        if self.profile is not None:
            self.mark(slot, "completed")
            self.profile.record(n, slot.marks, slot.idle_launch)
        with self._count_lock:
            self.completed += n
            self.batches += 1
            completed = self.completed
        if self.on_progress is not None:
            self.on_progress(completed)

    def stop(self) -> None:
        self.queue.close()
        for pipe in self._pipes:
            pipe.stop()


class _DevicePipe:
    """The feeder and lane threads of one device, and the slots (batch buffers) they pass around."""

    def __init__(self, sut: PipelinedSUT, engine: Any):
        self.sut = sut
        self.engine = engine
        self.free: queue.SimpleQueue = queue.SimpleQueue()
        self.ready: queue.SimpleQueue = queue.SimpleQueue()
        # Few batches prepared ahead (one per lane unless told otherwise): under Server load, samples
        # wait in the queue and batches grow instead of being split and queued behind each other.
        ahead = max(1, sut.prepare_ahead or len(engine.lanes))
        self.prepared = threading.Semaphore(ahead)
        # Each lane holds the batch it runs and the one it completes; the rest are being prepared.
        for _ in range(ahead + 2 * len(engine.lanes) + 1):
            self.free.put(engine.new_slot(sut.store.on_device_wanted))
        self.timing = LaneTiming()
        if not engine.cuda:
            # On the CPU nothing is asynchronous: one thread takes, runs and completes each batch
            # (a hand-over between threads would only add latency).
            self.feeders = [threading.Thread(target=self._guard, args=(self._serial, engine.lanes[0]),
                                             daemon=True, name=f"mlperf-worker-{engine.device}")]
            self.lanes = []
            return
        self.feeders = [threading.Thread(target=self._guard, args=(self._feed, k), daemon=True,
                                         name=f"mlperf-feeder-{engine.device}-{k}")
                        for k in range(len(engine.copy_streams))]
        self.lanes = [threading.Thread(target=self._guard, args=(self._run, lane), daemon=True,
                                       name=f"mlperf-lane-{engine.device}-{i}")
                      for i, lane in enumerate(engine.lanes)]

    def start(self) -> None:
        for t in (*self.feeders, *self.lanes):
            t.start()

    def _guard(self, target: Callable[[Any], None], arg: Any) -> None:
        try:
            target(arg)
        except BaseException as exc:  # noqa: BLE001 - any failure ends the run with its cause
            self.sut.on_error(exc)

    @property
    def forms_late(self) -> bool:
        return self.sut.form_late and not self.sut.launch_ahead and len(self.engine.lanes) == 1

    def _feed(self, copy_stream: int) -> None:
        sut, engine = self.sut, self.engine
        while True:
            self.prepared.acquire()
            slot = self.free.get()
            late = self.forms_late
            if late:
                self.timing.wait_until_due()
            waiting = len(sut.queue) == 0
            start = time.perf_counter()
            batch = sut.queue.take_batch(sut.batch_size, sut.fill_timeout_s)
            if batch is None:
                self.free.put(slot)
                self.prepared.release()
                return
            slot.ids, slot.indices, issued = batch
            sut.mark(slot, "queued", issued)
            sut.mark(slot, "taken")
            if waiting:  # the fill time learnt counts taking the samples, not waiting for them
                start = time.perf_counter()
            engine.fill(slot, sut.store.rows(slot.indices), sut.store, copy_stream)
            if late:
                engine.wait_filled(slot)  # the copy's time counts in the fill time learnt
                self.timing.filled(time.perf_counter() - start)
            sut.mark(slot, "filled")
            self.ready.put(slot)

    def _serial(self, lane: Any) -> None:
        sut, engine = self.sut, self.engine
        slot = self.free.get()
        slot.idle_launch = True  # one batch at a time
        while True:
            batch = sut.queue.take_batch(sut.batch_size, sut.fill_timeout_s)
            if batch is None:
                return
            slot.ids, slot.indices, issued = batch
            sut.mark(slot, "queued", issued)
            sut.mark(slot, "taken")
            engine.fill(slot, sut.store.rows(slot.indices), sut.store, 0)
            sut.mark(slot, "filled")
            sut.mark(slot, "launched")
            lane.launch(slot)
            sut.complete(slot, lane)

    def _run(self, lane: Any) -> None:
        pending = None
        while True:
            if pending is None:
                slot = self.ready.get()
            else:
                try:
                    slot = self.ready.get_nowait()
                except queue.Empty:
                    self._settle(pending, lane)
                    try:
                        # ready while the device finished: launched before the completion's host work
                        slot = self.ready.get_nowait()
                    except queue.Empty:
                        self._complete(pending, lane)
                        pending = None
                        continue
            if slot is None:
                if pending is not None:
                    self._complete(pending, lane)
                return
            if self.sut.profile is not None:
                # the lane's device work already done: the device waited for this batch
                slot.idle_launch = pending is None or lane.finished(pending)
            if pending is not None and not self.sut.launch_ahead:
                self._settle(pending, lane)
            self.sut.mark(slot, "launched")
            launched = time.perf_counter()
            lane.launch(slot)
            if self.forms_late:
                slot.launched_at = launched
                self.timing.launched(launched, self.engine.bucket(slot.count))
            self.prepared.release()
            if pending is not None:
                self._complete(pending, lane)
            pending = slot

    def _settle(self, slot: Any, lane: Any) -> None:
        """Wait for the slot's outputs; forming late, learn its bucket's device time (the lane
        waits from soon after the launch, so the wait ends when the device does)."""
        lane.wait(slot)
        launched = getattr(slot, "launched_at", 0.0)
        if launched:
            slot.launched_at = 0.0
            self.timing.done(self.engine.bucket(slot.count), time.perf_counter() - launched)

    def _complete(self, slot: Any, lane: Any) -> None:
        self.sut.complete(slot, lane)
        self.free.put(slot)

    def stop(self) -> None:
        for t in self.feeders:
            t.join(timeout=30)
        for _ in self.lanes:
            self.ready.put(None)
        for t in self.lanes:
            t.join(timeout=30)

