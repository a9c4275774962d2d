"""When a device running one batch at a time will be free: the Server SUT's ``form_late`` schedule.

:class:`~.sut.PipelinedSUT` forms a Server batch when its lane is about to be free rather than as
soon as the batch before it is launched, so that samples arriving meanwhile join it instead of
waiting one more batch. This holds what that needs: the device time of each batch bucket and the
feeder's fill time (gather and copy), learnt from the run's own batches.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class LaneTiming:
    """When a one-lane device will be free, and how long a fill takes: moving averages of the run's
    own batches (the ``form_late`` schedule). Nothing learnt yet, nothing is waited for."""

    #: weight of a new measurement in the moving averages
    NEW = 0.2

    def __init__(self, clock: Callable[[], float] = time.perf_counter,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.clock, self.sleep = clock, sleep
        self.busy_until = 0.0
        self.device_s: dict[int, float] = {}
        self.fill_s = 0.0

    def launched(self, at: float, bucket: int) -> None:
        self.busy_until = at + self.device_s.get(bucket, 0.0)

    def done(self, bucket: int, took_s: float) -> None:
        old = self.device_s.get(bucket)
        self.device_s[bucket] = took_s if old is None else old + self.NEW * (took_s - old)

    def filled(self, took_s: float) -> None:
        self.fill_s = took_s if not self.fill_s else self.fill_s + self.NEW * (took_s - self.fill_s)

    def wait_until_due(self) -> None:
        """Sleep until the next batch must be formed to be ready when the device is free: the
        fill time and a margin (a tenth of the time left, 0.2 ms at least) before."""
        left = self.busy_until - self.clock()
        due_in = left - self.fill_s - max(0.0002, 0.1 * left)
        if due_in > 0:
            self.sleep(min(due_in, 0.1))
