"""A stand-in for ``pynvml`` where no NVIDIA driver is (CI): the calls the telemetry sampler makes,
with NVML's units (milliwatts, bytes, millijoules) and its errors, replaying readings recorded on a
real GPU."""

from __future__ import annotations

import time
from types import SimpleNamespace


class NVMLError(Exception):
    pass


class NVMLError_NotSupported(NVMLError):  # noqa: N801 - pynvml's own name
    def __str__(self) -> str:
        return "Not Supported"


class NvmlDouble:
    NVML_CLOCK_SM = 1
    NVML_TEMPERATURE_GPU = 0
    NVMLError = NVMLError

    def __init__(self, gpus: list[dict], *, energy: bool = True):
        """``gpus``: name, uuid and a list of readings (power_w, sm_clock_mhz, temperature_c,
        memory_used_mib, utilization_pct), replayed one per sample and then repeated."""
        self.gpus = gpus
        self.energy = energy
        self.inits = 0
        self.shutdowns = 0
        self._reads = [0] * len(gpus)
        self._energy_mj = [0.0] * len(gpus)
        self._energy_at: list[float | None] = [None] * len(gpus)

    def nvmlInit(self) -> None:  # noqa: N802 - pynvml's API
        self.inits += 1

    def nvmlShutdown(self) -> None:  # noqa: N802
        self.shutdowns += 1

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:  # noqa: N802
        return index

    def nvmlDeviceGetName(self, handle: int) -> str:  # noqa: N802
        return self.gpus[handle]["name"]

    def nvmlDeviceGetUUID(self, handle: int) -> str:  # noqa: N802
        return self.gpus[handle]["uuid"]

    def _reading(self, handle: int) -> dict:
        """The current sample's reading: the sampler reads power first, which starts a sample."""
        readings = self.gpus[handle]["readings"]
        return readings[min(max(self._reads[handle] - 1, 0), len(readings) - 1)]

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:  # noqa: N802
        self._reads[handle] += 1
        return int(self._reading(handle)["power_w"] * 1000)

    def nvmlDeviceGetClockInfo(self, handle: int, clock: int) -> int:  # noqa: N802
        assert clock == self.NVML_CLOCK_SM
        return int(self._reading(handle)["sm_clock_mhz"])

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> int:  # noqa: N802
        assert sensor == self.NVML_TEMPERATURE_GPU
        return int(self._reading(handle)["temperature_c"])

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> SimpleNamespace:  # noqa: N802
        used = int(self._reading(handle)["memory_used_mib"] * 1024 * 1024)
        return SimpleNamespace(total=80 * 1024**3, used=used, free=80 * 1024**3 - used)

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> SimpleNamespace:  # noqa: N802
        reading = self._reading(handle)
        if reading.get("utilization_pct") is None:
            raise NVMLError_NotSupported()
        return SimpleNamespace(gpu=int(reading["utilization_pct"]), memory=0)

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: int) -> int:  # noqa: N802
        """Millijoules since an arbitrary start, counting the current reading's power over real time."""
        if not self.energy:
            raise NVMLError_NotSupported()
        now = time.monotonic()
        last = self._energy_at[handle] if self._energy_at[handle] is not None else now
        self._energy_mj[handle] += self._reading(handle)["power_w"] * 1000 * (now - last)
        self._energy_at[handle] = now
        return int(self._energy_mj[handle])


class NoDriver:
    """pynvml on a machine without the driver: nvmlInit fails as the real one does."""

    NVMLError = NVMLError

    def nvmlInit(self) -> None:  # noqa: N802
        raise NVMLError("NVML Shared Library Not Found")
