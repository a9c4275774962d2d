"""The pipelined SUT's sample queue: batches taken in issue order, fill timeout, close."""

from __future__ import annotations

import threading
import time

import numpy as np

from pytest_mlperf_nv.harness.loadgen.sut import SampleQueue


def _put(q: SampleQueue, ids: list[int]) -> None:
    q.put(np.array(ids, dtype=np.uint64), np.array(ids, dtype=np.int64) * 10)


def test_take_returns_up_to_n_samples_in_issue_order_across_chunks() -> None:
    q = SampleQueue()
    _put(q, [1, 2, 3])
    _put(q, [4])
    _put(q, [5, 6])
    ids, indices = q.take(5)
    assert ids.tolist() == [1, 2, 3, 4, 5] and indices.tolist() == [10, 20, 30, 40, 50]
    assert len(q) == 1
    ids, _ = q.take(5)
    assert ids.tolist() == [6] and len(q) == 0


def test_a_large_query_is_split_into_batches() -> None:
    q = SampleQueue()
    q.put(np.arange(10, dtype=np.uint64), np.arange(10, dtype=np.int64))
    sizes = [len(q.take(4)[0]) for _ in range(3)]
    assert sizes == [4, 4, 2]


def test_without_a_fill_timeout_take_does_not_wait_for_a_full_batch() -> None:
    q = SampleQueue()
    _put(q, [1])
    start = time.monotonic()
    ids, _ = q.take(64)
    assert ids.tolist() == [1] and time.monotonic() - start < 5  # no waiting beyond scheduling


def test_a_fill_timeout_collects_samples_that_arrive_meanwhile() -> None:
    q = SampleQueue()
    _put(q, [1])

    def late() -> None:
        for i in range(2, 5):
            _put(q, [i])

    threading.Timer(0.05, late).start()
    ids, _ = q.take(4, fill_timeout_s=30.0)  # returns as soon as the batch is full
    assert ids.tolist() == [1, 2, 3, 4]


def test_close_wakes_a_waiting_taker_and_ends_it() -> None:
    q = SampleQueue()
    got: list = []
    t = threading.Thread(target=lambda: got.append(q.take(8)))
    t.start()
    q.close()
    t.join(timeout=30)
    assert not t.is_alive() and got == [None]


def test_samples_queued_before_close_are_still_taken() -> None:
    q = SampleQueue()
    _put(q, [7, 8])
    q.close()
    ids, _ = q.take(8, fill_timeout_s=30.0)  # closed: no waiting for more
    assert ids.tolist() == [7, 8] and q.take(8) is None
