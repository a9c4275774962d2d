"""Where a batch's time goes in :class:`~.sut.PipelinedSUT`: per-batch marks and their summary.

Off by default (the SUT's ``profile`` is None); the benchmark sets a :class:`BatchProfile` before a
LoadGen run and reads :meth:`BatchProfile.summary` after it. Marks are taken per batch, never per
sample, so a profiled run pays a few clock reads per batch.

A batch's first sample (the one that waited longest) spends its latency in these stages:

* ``queue``: issued by LoadGen until a feeder took it into a batch;
* ``fill``: the feeder gathering the batch and starting its copy to the device;
* ``wait_lane``: the prepared batch waiting for its lane (the batch before it still running);
* ``device``: launched until its outputs were seen on the host (inference, copies, and, with
  batches queued ahead, the batch in front of it);
* ``complete``: post-processing and LoadGen's completion call.

``idle_launches``: the fraction of launches that found the lane's device work done (nothing in
flight on that lane): a device that waits for its feeders.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

STAGES = ("queue", "fill", "wait_lane", "device", "complete")


class BatchProfile:
    """Marks of every batch of a run; thread-safe (feeders and lanes record concurrently)."""

    def __init__(self) -> None:
        self._rows: list[tuple[int, float, float, float, float, float, bool]] = []
        self._lock = threading.Lock()

    @staticmethod
    def now() -> float:
        return time.perf_counter()

    def record(self, count: int, marks: dict[str, float], idle_launch: bool) -> None:
        """One batch: ``marks`` holds perf_counter times ``queued`` (its first sample issued),
        ``taken``, ``filled``, ``launched``, ``seen`` (outputs on the host) and ``completed``."""
        m = marks
        row = (count, m["taken"] - m["queued"], m["filled"] - m["taken"], m["launched"] - m["filled"],
               m["seen"] - m["launched"], m["completed"] - m["seen"], idle_launch)
        with self._lock:
            self._rows.append(row)

    def __len__(self) -> int:
        return len(self._rows)

    def summary(self) -> dict[str, Any]:
        """Batch sizes, and each stage's mean / p50 / p99 in ms over the run's batches."""
        with self._lock:
            rows = list(self._rows)
        if not rows:
            return {"batches": 0}
        table = np.array([r[:6] for r in rows], dtype=np.float64)
        sizes = table[:, 0]
        out: dict[str, Any] = {
            "batches": len(rows), "samples": int(sizes.sum()),
            "batch_size": {"mean": round(float(sizes.mean()), 1), "p50": float(np.percentile(sizes, 50)),
                           "max": int(sizes.max())},
            "idle_launches": round(sum(r[6] for r in rows) / len(rows), 3),
        }
        total = np.zeros(len(rows))
        for k, stage in enumerate(STAGES, start=1):
            ms = table[:, k] * 1e3
            total += ms
            out[stage] = _stats(ms)
        out["first_sample_total"] = _stats(total)
        return out


def _stats(ms: np.ndarray) -> dict[str, float]:
    return {"mean": round(float(ms.mean()), 3), "p50": round(float(np.percentile(ms, 50)), 3),
            "p99": round(float(np.percentile(ms, 99)), 3)}


def describe(summary: dict[str, Any]) -> str:
    """One line of a summary: batch sizes, then each stage's mean (p99) in ms."""
    if not summary.get("batches"):
        return "no batches"
    size = summary["batch_size"]
    stages = ", ".join(f"{s.replace('_', ' ')} {summary[s]['mean']:.2f} ({summary[s]['p99']:.2f})"
                       for s in (*STAGES, "first_sample_total"))
    return (f"{summary['batches']} batches of {size['mean']:.0f} (max {size['max']}), idle launches "
            f"{summary['idle_launches']:.0%}; ms mean (p99): {stages}")
