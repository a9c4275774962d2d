"""GPU telemetry: the sampler against real NVML where there is a GPU, against NVML's absence here,
and against a double of NVML's API for the arithmetic."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from pytest_mlperf_nv.systems.telemetry import (
    Telemetry,
    TelemetrySampler,
    read_telemetry,
    samples_per_joule,
    telemetry_properties,
    write_telemetry,
)
from tests.reports.nvml_double import NoDriver, NvmlDouble


def _gpu(name: str, powers: list[float], utilization: float | None = 90) -> dict:
    return {
        "name": name,
        "uuid": f"GPU-{name[-4:]}",
        "readings": [
            {
                "power_w": p,
                "sm_clock_mhz": 1980,
                "temperature_c": 40 + n,
                "memory_used_mib": 1000 + n,
                "utilization_pct": utilization,
            }
            for n, p in enumerate(powers)
        ],
    }


def test_without_a_driver_nothing_is_sampled_and_nothing_raises(tmp_path: Path) -> None:
    with TelemetrySampler(nvml=NoDriver()) as sampler:
        pass
    telemetry = sampler.telemetry
    assert not telemetry.sampled and telemetry.gpus == []
    assert telemetry.unavailable == "no GPU telemetry: NVML: NVML Shared Library Not Found"
    assert telemetry_properties(telemetry) == [
        ("mlperf_gpu_telemetry", "none: no GPU telemetry: NVML: NVML Shared Library Not Found")
    ]
    write_telemetry(tmp_path, telemetry)
    assert read_telemetry(tmp_path).unavailable == telemetry.unavailable


def test_real_nvml_here_or_its_absence_said() -> None:
    """The installed pynvml: samples on a GPU machine; elsewhere the reason, and no error."""
    sampler = TelemetrySampler(interval_s=0.2).start()
    time.sleep(0.5)
    telemetry = sampler.stop()
    if telemetry.unavailable:
        assert telemetry.unavailable.startswith("no GPU telemetry")
        assert not telemetry.sampled
        return
    summary = telemetry.summary()
    assert summary["sampled"] and summary["samples"] >= 2
    assert summary["mean_power_w"] > 0 and summary["energy_j"] > 0
    assert summary["mean_sm_clock_mhz"] > 0 and summary["max_temperature_c"] > 0
    assert summary["max_memory_used_mib"] >= 0


def test_samples_every_gpu_and_summarises_power_and_energy() -> None:
    nvml = NvmlDouble(
        [_gpu("NVIDIA H100 80GB HBM3", [100, 300, 300, 300]), _gpu("NVIDIA H100 80GB HBM3", [50, 50, 50, 50])]
    )
    sampler = TelemetrySampler(interval_s=0.05, nvml=nvml).start()
    time.sleep(0.3)
    telemetry = sampler.stop()
    assert nvml.inits == 1 and nvml.shutdowns == 1
    assert [g.index for g in telemetry.gpus] == [0, 1]
    n = len(telemetry.t_s)
    assert n >= 3 and all(len(g.values["power_w"]) == n for g in telemetry.gpus)
    assert telemetry.gpus[0].values["power_w"][:2] == [100.0, 300.0]
    assert telemetry.gpus[0].values["memory_used_mib"][0] == 1000.0
    summary = telemetry.summary()
    assert summary["gpus"] == 2 and summary["samples"] == n
    assert summary["max_power_w"] == 350.0  # the two GPUs together
    # NVML's energy counters (read at start and stop) give the energy where every GPU has one.
    counters = [g.energy_counter_j for g in telemetry.gpus]
    assert all(len(c) == 2 for c in counters)
    assert summary["energy_j"] == pytest.approx(sum(c[1] - c[0] for c in counters), abs=1e-3)


def test_energy_is_integrated_from_power_where_there_is_no_counter() -> None:
    telemetry = Telemetry(interval_s=1.0, started=0.0, t_s=[0.0, 1.0, 2.0, 4.0])
    from pytest_mlperf_nv.systems.telemetry import GpuSeries

    gpu = GpuSeries(0, "NVIDIA L4", "GPU-1")
    gpu.values["power_w"] = [10.0, 30.0, None, 30.0]  # a reading NVML refused is left out
    for key in ("sm_clock_mhz", "temperature_c", "memory_used_mib", "utilization_pct"):
        gpu.values[key] = [1.0, 1.0, 1.0, 1.0]
    telemetry.gpus.append(gpu)
    assert telemetry.energy_j() == pytest.approx(20.0 + 90.0)  # trapezoids 0-1 s and 1-4 s
    summary = telemetry.summary()
    assert summary["mean_power_w"] == pytest.approx(110.0 / 4)
    assert samples_per_joule(2200, summary["energy_j"]) == pytest.approx(20.0)
    props = dict(telemetry_properties(telemetry, samples=2200))
    assert props["mlperf_gpu_energy_j"] == pytest.approx(110.0)
    assert props["mlperf_samples_per_joule"] == pytest.approx(20.0)
    assert props["mlperf_gpu_power_mean_w"] == pytest.approx(27.5)


def test_unsupported_readings_are_none_and_the_file_round_trips(tmp_path: Path) -> None:
    nvml = NvmlDouble([_gpu("NVIDIA L4", [70, 72], utilization=None)], energy=False)
    telemetry = TelemetrySampler(interval_s=10, nvml=nvml).start().stop()
    assert telemetry.gpus[0].values["utilization_pct"] == [None, None]
    assert telemetry.gpus[0].energy_counter_j == []
    path = write_telemetry(tmp_path, telemetry)
    data = json.loads(path.read_text())
    assert data["format"] == 1 and data["summary"]["sampled"] is True
    assert data["summary"]["mean_utilization_pct"] is None
    again = read_telemetry(tmp_path)
    assert again.t_s == telemetry.t_s and again.gpus[0].values == telemetry.gpus[0].values
    assert not (tmp_path / "telemetry.json.tmp").exists()


def test_only_the_gpus_cuda_visible_devices_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    nvml = NvmlDouble([_gpu(f"NVIDIA H200 {i}", [100]) for i in range(4)])
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,0")
    telemetry = TelemetrySampler(interval_s=10, nvml=nvml).start().stop()
    assert [g.index for g in telemetry.gpus] == [2, 0]


def test_unreadable_telemetry_file_is_none(tmp_path: Path) -> None:
    assert read_telemetry(tmp_path) is None
    (tmp_path / "telemetry.json").write_text("{not json")
    assert read_telemetry(tmp_path) is None


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval_s must be > 0"):
        TelemetrySampler(interval_s=0)
