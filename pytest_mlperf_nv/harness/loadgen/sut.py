"""The built-in SUT: a worker thread that batches issued samples through a backend.

LoadGen's issue callback only enqueues; the worker drains up to ``batch_size`` samples,
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
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

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
