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


# -- the feeder and lane threads of a device (a GPU's asynchronous paths, with a stand-in device) ---------


class _Device:
    """A device that runs launched batches in order on its own thread (one stream), slowly."""

    def __init__(self) -> None:
        import queue

        self.work: queue.SimpleQueue = queue.SimpleQueue()
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            slot = self.work.get()
            time.sleep(0.002)
            slot.out = slot.rows.astype(np.float32)[:, None] * 2
            with self.lock:
                self.in_flight -= 1
            slot.done.set()


class _Slot:
    def __init__(self) -> None:
        self.ids = self.indices = self.rows = self.out = None
        self.count = 0
        self.done = threading.Event()


class _Lane:
    def __init__(self, device: _Device):
        self.device = device

    def launch(self, slot: _Slot) -> None:
        slot.done.clear()
        with self.device.lock:
            self.device.in_flight += 1
            self.device.most_in_flight = max(self.device.most_in_flight, self.device.in_flight)
        self.device.work.put(slot)

    @staticmethod
    def finished(slot: _Slot) -> bool:
        return slot.done.is_set()

    @staticmethod
    def wait(slot: _Slot) -> np.ndarray:
        assert slot.done.wait(60)
        return slot.out


class _Engine:
    cuda = True
    device = "stand-in"

    def __init__(self) -> None:
        self.dev = _Device()
        self.lanes = [_Lane(self.dev)]
        self.copy_streams = [None, None]

    def new_slot(self, on_device: bool) -> _Slot:
        return _Slot()

    def fill(self, slot: _Slot, rows: np.ndarray, store: object, copy_stream: int) -> None:
        slot.count = len(rows)
        slot.rows = np.array(rows)

    @staticmethod
    def wait_filled(slot: _Slot) -> None:
        pass

    @staticmethod
    def bucket(count: int) -> int:
        return 8 if count > 4 else 4


class _Store:
    on_device_wanted = False

    @staticmethod
    def rows(indices: np.ndarray) -> np.ndarray:
        return np.asarray(indices)


class _LoadGen:
    def __init__(self) -> None:
        self.got: dict[int, float] = {}
        self.cond = threading.Condition()

    @staticmethod
    def QuerySampleResponse(id: int, data: int, size: int) -> tuple:  # noqa: N802, A002 - LoadGen's names
        import ctypes

        return id, np.frombuffer(ctypes.string_at(data, size), np.float32)[0]

    def QuerySamplesComplete(self, responses: list) -> None:  # noqa: N802 - LoadGen's name
        with self.cond:
            for i, value in responses:
                assert i not in self.got
                self.got[i] = float(value)
            self.cond.notify_all()


import pytest  # noqa: E402


@pytest.mark.parametrize("launch_ahead", [True, False])
def test_every_sample_completes_once_through_the_feeders_and_lanes(launch_ahead: bool) -> None:
    from pytest_mlperf_nv.harness.loadgen.sut import PipelinedSUT

    lg, engine = _LoadGen(), _Engine()
    sut = PipelinedSUT(lg, [engine], _Store(), lambda out: out, 8, on_error=pytest.fail, prepare_ahead=2,
                       launch_ahead=launch_ahead)
    for start in range(0, 200, 7):  # queries of a few samples, as a Server issues them
        ids = list(range(start, min(200, start + 7)))
        sut.issue_fast(ids, [i + 1000 for i in ids])
    with lg.cond:
        assert lg.cond.wait_for(lambda: len(lg.got) == 200, timeout=60)
    sut.stop()
    assert lg.got == {i: 2.0 * (i + 1000) for i in range(200)}
    if launch_ahead:
        assert engine.dev.most_in_flight <= 2
    else:
        assert engine.dev.most_in_flight == 1  # never a batch queued behind another on the device


def test_take_batch_tells_when_the_batch_s_first_sample_was_issued() -> None:
    q = SampleQueue()
    before = time.perf_counter()
    q.put(np.array([1, 2, 3], dtype=np.uint64), np.array([10, 20, 30]))
    middle = time.perf_counter()
    q.put(np.array([4], dtype=np.uint64), np.array([40]))
    ids, indices, issued = q.take_batch(2)
    assert ids.tolist() == [1, 2] and before <= issued <= middle
    ids, _, issued_rest = q.take_batch(8)  # the rest of the first chunk keeps its issue time
    assert ids.tolist() == [3, 4] and issued_rest == issued


@pytest.mark.parametrize("launch_ahead", [True, False])
def test_a_profile_records_every_batch_and_its_stages(launch_ahead: bool) -> None:
    from pytest_mlperf_nv.harness.loadgen.sut import PipelinedSUT
    from pytest_mlperf_nv.harness.loadgen.sut_profile import STAGES, BatchProfile, describe

    lg, engine = _LoadGen(), _Engine()
    sut = PipelinedSUT(lg, [engine], _Store(), lambda out: out, 8, on_error=pytest.fail, prepare_ahead=2,
                       launch_ahead=launch_ahead)
    sut.profile = BatchProfile()
    sut.issue_fast(list(range(100)), list(range(100)))
    with lg.cond:
        assert lg.cond.wait_for(lambda: len(lg.got) == 100, timeout=60)
    sut.stop()
    summary = sut.profile.summary()
    assert summary["samples"] == 100 and summary["batches"] == sut.batches == len(sut.profile)
    assert summary["batch_size"]["max"] <= 8
    for stage in (*STAGES, "first_sample_total"):
        assert 0 <= summary[stage]["p50"] <= summary[stage]["p99"]
    # the stand-in device takes 2 ms a batch: the device stage holds it
    assert summary["device"]["p50"] >= 1.5
    assert 0.0 <= summary["idle_launches"] <= 1.0
    assert describe(summary).startswith(f"{summary['batches']} batches of ")


def test_without_a_profile_nothing_is_recorded() -> None:
    from pytest_mlperf_nv.harness.loadgen.sut import PipelinedSUT
    from pytest_mlperf_nv.harness.loadgen.sut_profile import BatchProfile, describe

    lg, engine = _LoadGen(), _Engine()
    sut = PipelinedSUT(lg, [engine], _Store(), lambda out: out, 8, on_error=pytest.fail)
    sut.issue_fast(list(range(20)), list(range(20)))
    with lg.cond:
        assert lg.cond.wait_for(lambda: len(lg.got) == 20, timeout=60)
    sut.stop()
    assert sut.profile is None and describe(BatchProfile().summary()) == "no batches"


@pytest.mark.parametrize("form_late", [True, False])
def test_server_batches_formed_late_complete_every_sample_once(form_late: bool) -> None:
    """Queries trickle in as a Server issues them; forming late, the SUT learns the device's time."""
    from pytest_mlperf_nv.harness.loadgen.sut import PipelinedSUT

    lg, engine = _LoadGen(), _Engine()
    sut = PipelinedSUT(lg, [engine], _Store(), lambda out: out, 8, on_error=pytest.fail, prepare_ahead=1,
                       launch_ahead=False, form_late=form_late)
    for i in range(120):
        sut.issue_fast([i], [i + 1000])
        time.sleep(0.0002)
    with lg.cond:
        assert lg.cond.wait_for(lambda: len(lg.got) == 120, timeout=60)
    sut.stop()
    assert lg.got == {i: 2.0 * (i + 1000) for i in range(120)}
    assert engine.dev.most_in_flight == 1
    timing = sut._pipes[0].timing
    if form_late:
        # the stand-in device sleeps 2 ms a batch: what was learnt is at least that
        assert timing.device_s and min(timing.device_s.values()) >= 0.0015
    else:
        assert not timing.device_s and timing.fill_s == 0.0


def test_lane_timing_forms_the_next_batch_its_fill_time_and_a_margin_before_the_device_is_free() -> None:
    from pytest_mlperf_nv.harness.loadgen.sut_timing import LaneTiming

    now, slept = [100.0], []
    timing = LaneTiming(clock=lambda: now[0], sleep=slept.append)
    timing.launched(100.0, 64)
    timing.wait_until_due()
    assert slept == []  # nothing learnt yet: the batch is formed at once
    timing.done(64, 0.010)
    timing.done(64, 0.020)  # a moving average: 10 ms + a fifth of the 10 ms more
    assert timing.device_s[64] == pytest.approx(0.012)
    timing.filled(0.001)
    timing.launched(100.0, 64)
    timing.wait_until_due()
    # 12 ms left, less the 1 ms fill and a margin of a tenth of what is left (1.2 ms)
    assert slept == [pytest.approx(0.0098)]
    now[0] = 100.0115  # 0.5 ms left: less than the fill time, no wait
    timing.wait_until_due()
    assert len(slept) == 1
    timing.launched(100.0, 128)  # a bucket not seen yet: no wait
    timing.wait_until_due()
    assert len(slept) == 1


def test_two_devices_forming_late_share_one_queue_and_complete_every_sample_once() -> None:
    from pytest_mlperf_nv.harness.loadgen.sut import PipelinedSUT

    lg, engines = _LoadGen(), [_Engine(), _Engine()]
    sut = PipelinedSUT(lg, engines, _Store(), lambda out: out, 8, on_error=pytest.fail, prepare_ahead=1,
                       launch_ahead=False, form_late=True)
    for i in range(160):
        sut.issue_fast([i], [i + 1000])
        time.sleep(0.0001)
    with lg.cond:
        assert lg.cond.wait_for(lambda: len(lg.got) == 160, timeout=60)
    sut.stop()
    assert lg.got == {i: 2.0 * (i + 1000) for i in range(160)}
    assert all(e.dev.most_in_flight == 1 for e in engines)
