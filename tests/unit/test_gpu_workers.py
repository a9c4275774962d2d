"""One GPU per xdist worker: the caller's visible list, pinning, the usage error, engine groups."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pytest_mlperf_nv.systems.gpu_workers import (
    OUTER_ENV,
    GpuAssignmentError,
    add_engine_groups,
    check_worker_count,
    engine_group,
    outer_visible,
    pin_worker,
    visible_devices,
    worker_device,
    worker_of,
)


@pytest.mark.parametrize("value,count,expected", [
    (None, 4, ["0", "1", "2", "3"]),
    (None, 0, []),
    ("", 4, []),
    ("2,0", 4, ["2", "0"]),
    ("1, 3", 4, ["1", "3"]),
    ("1,1,2", 4, ["1", "2"]),
    ("1,-1,2", 4, ["1"]),  # CUDA stops at the first invalid entry
    ("-1", 4, []),
    ("GPU-8a7f,MIG-1234", 0, ["GPU-8a7f", "MIG-1234"]),
])
def test_visible_devices_follows_cuda_visible_devices(value: str | None, count: int, expected: list) -> None:
    assert visible_devices(value, count) == expected


def test_worker_of_reads_xdists_environment() -> None:
    assert worker_of({}) is None
    assert worker_of({"PYTEST_XDIST_WORKER": "gw3", "PYTEST_XDIST_WORKER_COUNT": "4"}) == (3, 4)
    assert worker_of({"PYTEST_XDIST_WORKER": "master"}) is None


def test_each_worker_gets_its_own_gpu_of_the_callers_list() -> None:
    visible = visible_devices("3,1", 8)
    assert [worker_device(w, 2, visible) for w in range(2)] == ["3", "1"]


def test_more_workers_than_gpus_is_a_usage_error_that_says_what_to_do() -> None:
    with pytest.raises(GpuAssignmentError,
                       match=r"pytest-xdist starts 3 workers but CUDA_VISIBLE_DEVICES='1,2' "
                             r"has 2 GPU\(s\) \(1, 2\).*use -n 2 or fewer"):
        check_worker_count(3, ["1", "2"], "1,2")
    with pytest.raises(GpuAssignmentError, match=r"this machine has 0 GPU\(s\) \(none\).*run without -n"):
        worker_device(0, 2, [], None)
    check_worker_count(2, ["0", "1"], None)  # as many workers as GPUs is fine


def test_pin_worker_narrows_the_environment_once() -> None:
    env = {"PYTEST_XDIST_WORKER": "gw1", "PYTEST_XDIST_WORKER_COUNT": "2"}
    calls = []

    def count() -> int:
        calls.append(1)
        return 2

    assert pin_worker(env, count) == "1"
    assert env["CUDA_VISIBLE_DEVICES"] == "1" and outer_visible(env) is None
    assert pin_worker(env, count) == "1"  # again in the same process: the first assignment stays
    assert calls == [1]


def test_pin_worker_honours_an_outer_cuda_visible_devices() -> None:
    env = {"PYTEST_XDIST_WORKER": "gw0", "PYTEST_XDIST_WORKER_COUNT": "1", "CUDA_VISIBLE_DEVICES": "1"}
    assert pin_worker(env, lambda: pytest.fail("NVML is not asked when the caller chose the GPUs")) == "1"
    assert env["CUDA_VISIBLE_DEVICES"] == "1" and env[OUTER_ENV] == "1" and outer_visible(env) == "1"


def test_pin_worker_leaves_the_environment_alone_without_a_gpu_for_the_worker() -> None:
    env = {"PYTEST_XDIST_WORKER": "gw2", "PYTEST_XDIST_WORKER_COUNT": "3", "CUDA_VISIBLE_DEVICES": "0,1"}
    assert pin_worker(env, lambda: 0) is None
    assert env["CUDA_VISIBLE_DEVICES"] == "0,1" and OUTER_ENV not in env
    assert pin_worker({}, lambda: 8) is None  # not a worker


def _case(benchmark: str, gpu: str = "h200", dataset: str = "synthetic-imagenet") -> SimpleNamespace:
    suite = SimpleNamespace(system={"gpu": gpu}, harness="loadgen", backend="torch")
    return SimpleNamespace(suite=suite, benchmark=benchmark, dataset=dataset,
                           definition=SimpleNamespace(name=benchmark))


def test_items_sharing_an_engine_share_a_group() -> None:
    assert engine_group(_case("resnet50")) == engine_group(_case("resnet50"))
    assert engine_group(_case("resnet50")) != engine_group(_case("bert-99", dataset="synthetic-squad"))


def test_only_gpu_items_are_grouped() -> None:
    class Item:
        def __init__(self, case: SimpleNamespace | None):
            self.case = case
            self.markers: list = []

        def add_marker(self, marker: object) -> None:
            self.markers.append(marker)

    items = [Item(_case("resnet50")), Item(_case("digits", gpu="none")), Item(None)]
    assert add_engine_groups(items, lambda item: item.case) == 1
    (mark,) = items[0].markers
    assert mark.name == "xdist_group" and mark.args == (engine_group(_case("resnet50")),)
    assert items[1].markers == [] and items[2].markers == []


def test_the_torch_backend_pins_its_worker_or_refuses_to_share_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import pytest_mlperf_nv.harness.loadgen.torch_backend as tb

    monkeypatch.setattr(tb, "_visible_gpus", lambda: (("NVIDIA H100", "9.0"),) * 2)
    env = {"PYTEST_XDIST_WORKER": "gw1", "PYTEST_XDIST_WORKER_COUNT": "2"}
    assert tb.pin_xdist_worker(env) == "1" and env["CUDA_VISIBLE_DEVICES"] == "1"
    crowded = {"PYTEST_XDIST_WORKER": "gw2", "PYTEST_XDIST_WORKER_COUNT": "3", "CUDA_VISIBLE_DEVICES": "0,1"}
    with pytest.raises(GpuAssignmentError, match="starts 3 workers but CUDA_VISIBLE_DEVICES='0,1' has 2"):
        tb.pin_xdist_worker(crowded)
    assert tb.pin_xdist_worker({}) is None  # not under xdist: every visible GPU
