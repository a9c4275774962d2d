"""GPU telemetry during a run: power, SM clock, temperature, memory and utilisation through NVML.

A sampler thread in the parent (pytest) process reads every visible GPU about once a second while
the child runs LoadGen; the samples go to ``<run dir>/telemetry.json`` and their summary (mean
power, energy, samples per joule) into the item's JUnit properties and the session's reports::

    with TelemetrySampler() as sampler:      # or sampler.start() ... sampler.stop()
        run_the_child()
    write_telemetry(run_dir, sampler.telemetry)

Without a driver or GPU nothing is sampled, ``telemetry.unavailable`` says why, and nothing
raises: a CPU run has no telemetry, not an error. ``pynvml`` is imported inside the functions.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TELEMETRY_FILE = "telemetry.json"
FORMAT = 1
DEFAULT_INTERVAL_S = 1.0
#: per-GPU series, in the order they are sampled; the names are the JSON keys
SERIES = ("power_w", "sm_clock_mhz", "temperature_c", "memory_used_mib", "utilization_pct")


@dataclass
class GpuSeries:
    """One GPU's samples, one value per time stamp of :attr:`Telemetry.t_s` (None: not readable)."""

    index: int
    name: str
    uuid: str
    values: dict[str, list[float | None]] = field(default_factory=lambda: {k: [] for k in SERIES})
    #: NVML's energy counter at start and stop (joules), where the GPU has one (Volta and later)
    energy_counter_j: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "uuid": self.uuid,
            **self.values,
            "energy_counter_j": self.energy_counter_j,
        }


@dataclass
class Telemetry:
    """What a sampler saw: time stamps (seconds since ``started``, a Unix time) and per-GPU series."""

    interval_s: float
    started: float | None = None
    t_s: list[float] = field(default_factory=list)
    gpus: list[GpuSeries] = field(default_factory=list)
    #: why nothing was sampled (no driver, no GPU), or None
    unavailable: str | None = None

    @property
    def sampled(self) -> bool:
        return bool(self.gpus) and bool(self.t_s)

    def energy_j(self) -> float | None:
        """Energy of all sampled GPUs over the window: NVML's counters where every GPU has one,
        else the power samples integrated (trapezoids)."""
        if not self.sampled:
            return None
        if all(len(g.energy_counter_j) == 2 for g in self.gpus):
            return sum(g.energy_counter_j[1] - g.energy_counter_j[0] for g in self.gpus)
        total = 0.0
        for gpu in self.gpus:
            points = [(t, p) for t, p in zip(self.t_s, gpu.values["power_w"], strict=True) if p is not None]
            pairs = zip(points, points[1:], strict=False)
            total += sum((t1 - t0) * (p0 + p1) / 2 for (t0, p0), (t1, p1) in pairs)
        return total

    def summary(self) -> dict[str, Any]:
        """Mean and peak figures over the window (power summed over the GPUs)."""
        if not self.sampled:
            return {"sampled": False, "why": self.unavailable or "no samples"}
        power = _sum_over_gpus(self.gpus, "power_w")
        duration = self.t_s[-1] - self.t_s[0] if len(self.t_s) > 1 else 0.0
        energy = self.energy_j()
        mean_power = energy / duration if energy is not None and duration > 0 else _mean(power)
        return {
            "sampled": True,
            "gpus": len(self.gpus),
            "samples": len(self.t_s),
            "duration_s": round(duration, 3),
            "mean_power_w": _round(mean_power),
            "max_power_w": _round(_max(power)),
            "energy_j": _round(energy),
            "mean_sm_clock_mhz": _round(_mean(_all(self.gpus, "sm_clock_mhz"))),
            "max_temperature_c": _round(_max(_all(self.gpus, "temperature_c"))),
            "max_memory_used_mib": _round(_max(_all(self.gpus, "memory_used_mib"))),
            "mean_utilization_pct": _round(_mean(_all(self.gpus, "utilization_pct"))),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "interval_s": self.interval_s,
            "started": self.started,
            "unavailable": self.unavailable,
            "t_s": self.t_s,
            "gpus": [g.as_dict() for g in self.gpus],
            "summary": self.summary(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Telemetry:
        gpus = [
            GpuSeries(
                int(g["index"]),
                str(g["name"]),
                str(g.get("uuid", "")),
                {k: list(g.get(k) or []) for k in SERIES},
                list(g.get("energy_counter_j") or []),
            )
            for g in data.get("gpus") or []
        ]
        return cls(
            interval_s=float(data.get("interval_s") or DEFAULT_INTERVAL_S),
            started=data.get("started"),
            t_s=[float(t) for t in data.get("t_s") or []],
            gpus=gpus,
            unavailable=data.get("unavailable"),
        )


def _values(values: list[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def _all(gpus: list[GpuSeries], key: str) -> list[float]:
    return [v for g in gpus for v in _values(g.values[key])]


def _sum_over_gpus(gpus: list[GpuSeries], key: str) -> list[float]:
    columns = zip(*(g.values[key] for g in gpus), strict=True)
    return [sum(col) for col in columns if all(v is not None for v in col)]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _max(values: list[float]) -> float | None:
    return max(values) if values else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


class TelemetrySampler:
    """Samples the visible GPUs every ``interval_s`` seconds on a daemon thread between
    :meth:`start` and :meth:`stop`.

    ``gpu_indices`` are NVML indices; by default the GPUs ``CUDA_VISIBLE_DEVICES`` leaves visible
    (as the child sees them). ``nvml`` is the ``pynvml`` module, or an object with its API.
    """

    def __init__(
        self,
        gpu_indices: Sequence[int] | None = None,
        interval_s: float = DEFAULT_INTERVAL_S,
        nvml: Any = None,
    ):
        if not interval_s > 0:
            raise ValueError(f"interval_s must be > 0, got {interval_s!r}")
        self.gpu_indices = None if gpu_indices is None else list(gpu_indices)
        self.interval_s = interval_s
        self.telemetry = Telemetry(interval_s=interval_s)
        self._nvml = nvml
        self._handles: list[Any] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0
        self._lock = threading.Lock()
        self._initialised = False

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> TelemetrySampler:
        """Open NVML and start sampling; on a machine without a driver or GPU, record why and return."""
        nvml = self._nvml
        if nvml is None:
            try:
                import pynvml  # noqa: PLC0415 - optional at run time, a dependency at install
            except ImportError as exc:
                self.telemetry.unavailable = f"pynvml cannot be imported: {exc}"
                return self
            nvml = pynvml
            self._nvml = nvml
        try:
            nvml.nvmlInit()
        except Exception as exc:  # noqa: BLE001 - NVMLError or OSError: no driver is not an error here
            self.telemetry.unavailable = f"no GPU telemetry: NVML: {exc or type(exc).__name__}"
            return self
        self._initialised = True
        try:
            indices = self.gpu_indices if self.gpu_indices is not None else _visible_indices(nvml)
            for index in indices:
                handle = nvml.nvmlDeviceGetHandleByIndex(index)
                self._handles.append(handle)
                self.telemetry.gpus.append(
                    GpuSeries(
                        index, _text(nvml.nvmlDeviceGetName(handle)), _text(nvml.nvmlDeviceGetUUID(handle))
                    )
                )
        except Exception as exc:  # noqa: BLE001
            self.telemetry.unavailable = f"no GPU telemetry: NVML: {exc}"
            self.telemetry.gpus.clear()
            self._handles.clear()
        if not self._handles:
            self.telemetry.unavailable = self.telemetry.unavailable or "no GPU telemetry: no GPU visible"
            self._shutdown()
            return self
        self._read_energy()
        self.telemetry.started = time.time()
        self._t0 = time.monotonic()
        self._sample()  # one sample at the start, so even a very short run has a first point
        self._thread = threading.Thread(target=self._loop, name="mlperf-gpu-telemetry", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> Telemetry:
        """Take a last sample, stop the thread, close NVML; returns what was sampled (idempotent)."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=max(5.0, 2 * self.interval_s))
            self._thread = None
            self._sample()
            self._read_energy()
        self._shutdown()
        return self.telemetry

    def __enter__(self) -> TelemetrySampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- sampling ------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def _sample(self) -> None:
        nvml = self._nvml
        readings = [_read_gpu(nvml, handle) for handle in self._handles]
        with self._lock:
            self.telemetry.t_s.append(round(time.monotonic() - self._t0, 3))
            for gpu, values in zip(self.telemetry.gpus, readings, strict=True):
                for key in SERIES:
                    gpu.values[key].append(values.get(key))

    def _read_energy(self) -> None:
        for gpu, handle in zip(self.telemetry.gpus, self._handles, strict=True):
            if len(gpu.energy_counter_j) >= 2:
                continue
            try:
                gpu.energy_counter_j.append(self._nvml.nvmlDeviceGetTotalEnergyConsumption(handle) / 1000)
            except Exception:  # noqa: BLE001 - GPUs before Volta have no counter: power is integrated
                gpu.energy_counter_j.clear()

    def _shutdown(self) -> None:
        if self._initialised:
            self._initialised = False
            try:
                self._nvml.nvmlShutdown()
            except Exception:  # noqa: BLE001
                pass


def _read_gpu(nvml: Any, handle: Any) -> dict[str, float | None]:
    """One reading; a value NVML refuses for this GPU (not supported, lost) is None."""

    def read(fn: Any) -> float | None:
        try:
            return float(fn())
        except Exception:  # noqa: BLE001
            return None

    return {
        "power_w": read(lambda: nvml.nvmlDeviceGetPowerUsage(handle) / 1000),  # milliwatts
        "sm_clock_mhz": read(lambda: nvml.nvmlDeviceGetClockInfo(handle, nvml.NVML_CLOCK_SM)),
        "temperature_c": read(lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)),
        "memory_used_mib": read(lambda: nvml.nvmlDeviceGetMemoryInfo(handle).used / (1024 * 1024)),
        "utilization_pct": read(lambda: nvml.nvmlDeviceGetUtilizationRates(handle).gpu),
    }


def _visible_indices(nvml: Any) -> list[int]:
    """NVML indices of the GPUs CUDA_VISIBLE_DEVICES leaves visible (all when unset)."""
    from .detect import GpuInfo, _select_visible

    gpus = []
    for index in range(nvml.nvmlDeviceGetCount()):
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        gpus.append(GpuInfo(index, "", _text(nvml.nvmlDeviceGetUUID(handle)), 0, "", ""))
    return [g.index for g in _select_visible(gpus, os.environ.get("CUDA_VISIBLE_DEVICES"))]


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


# -- files and properties --------------------------------------------------------------------


def write_telemetry(run_dir: Path, telemetry: Telemetry) -> Path:
    """``<run dir>/telemetry.json``, written whole (temp file + rename)."""
    path = Path(run_dir) / TELEMETRY_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(telemetry.as_dict(), indent=1))
    tmp.replace(path)
    return path


def read_telemetry(run_dir: Path) -> Telemetry | None:
    """The run's telemetry, or None where it has none (or the file is unreadable)."""
    try:
        data = json.loads((Path(run_dir) / TELEMETRY_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    try:
        return Telemetry.from_dict(data)
    except (KeyError, TypeError, ValueError):
        return None


def samples_per_joule(samples: float | None, energy_j: float | None) -> float | None:
    """Samples completed per joule of GPU energy (MLPerf Power's performance per watt)."""
    if not samples or not energy_j or energy_j <= 0:
        return None
    return samples / energy_j


def telemetry_properties(telemetry: Telemetry, samples: float | None = None) -> list[tuple[str, Any]]:
    """JUnit properties that summarise a run's telemetry (or say why there is none)."""
    summary = telemetry.summary()
    if not summary["sampled"]:
        return [("mlperf_gpu_telemetry", f"none: {summary['why']}")]
    props: list[tuple[str, Any]] = [
        ("mlperf_gpu_telemetry", f"{summary['samples']} samples of {summary['gpus']} GPU(s)"),
        ("mlperf_gpu_power_mean_w", summary["mean_power_w"]),
        ("mlperf_gpu_power_max_w", summary["max_power_w"]),
        ("mlperf_gpu_energy_j", summary["energy_j"]),
    ]
    per_joule = samples_per_joule(samples, summary["energy_j"])
    if per_joule is not None:
        props.append(("mlperf_samples_per_joule", round(per_joule, 4)))
    return [(k, v) for k, v in props if v is not None]


__all__ = [
    "SERIES",
    "TELEMETRY_FILE",
    "Telemetry",
    "TelemetrySampler",
    "read_telemetry",
    "samples_per_joule",
    "telemetry_properties",
    "write_telemetry",
]
