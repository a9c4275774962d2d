"""What machine are we on: CPU, memory, NVIDIA GPUs (through NVML) and software versions.

``detect_system()`` never raises because a driver is missing: on a machine without one it
returns ``gpus=()`` and says why in ``gpu_error`` (e.g. "NVML Shared Library Not Found").
``pynvml`` is imported inside the functions that need it, so importing this module is cheap.
"""

from __future__ import annotations

import os
import platform
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# distribution names -> key in SystemFacts.software (first installed distribution of a key wins)
_SOFTWARE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pytest_mlperf_nv", ("pytest-mlperf-nv",)),
    ("onnxruntime", ("onnxruntime", "onnxruntime-gpu")),
    ("mlperf_loadgen", ("mlcommons-loadgen",)),
    ("numpy", ("numpy",)),
    ("torch", ("torch",)),
)


@dataclass(frozen=True)
class GpuInfo:
    """One NVIDIA GPU as NVML reports it. ``index`` is NVML's (PCI bus order), not CUDA's."""

    index: int
    name: str
    uuid: str
    memory_total_mib: int
    compute_capability: str  # "9.0"
    pci_bus_id: str
    power_limit_w: float | None = None
    #: the highest power limit the board allows (nvidia-smi power.max_limit; NVIDIA's code matches on it)
    power_max_limit_w: float | None = None
    #: PCI device and vendor id as nvidia-smi prints pci.device_id ("0x233510DE"; NVIDIA's code matches on it)
    pci_device_id: str | None = None

    @property
    def memory_gib(self) -> float:
        return self.memory_total_mib / 1024


@dataclass(frozen=True)
class SystemFacts:
    """The facts about one machine, detected live (``source="nvml"``) or read from a snapshot file
    (``source="snapshot <path>"``)."""

    source: str
    hostname: str
    os: str
    python: str
    cpu_model: str
    cpu_count: int
    memory_total_gib: float | None
    driver_version: str | None = None
    cuda_driver_version: str | None = None
    nvml_version: str | None = None
    gpus: tuple[GpuInfo, ...] = ()
    gpu_error: str | None = None
    software: dict[str, str] = field(default_factory=dict, hash=False)
    #: what lscpu says of the CPU: architecture, vendor, sockets, cores_per_socket, threads_per_core
    cpu_topology: dict[str, object] = field(default_factory=dict, hash=False)
    #: fields of a snapshot that were derived rather than recorded on the machine (for messages)
    derived: tuple[str, ...] = ()

    @property
    def gpu_count(self) -> int:
        return len(self.gpus)

    @property
    def has_gpus(self) -> bool:
        return bool(self.gpus)

    @property
    def gpu_name(self) -> str | None:
        return self.gpus[0].name if self.gpus else None

    @property
    def gpu_memory_gib(self) -> float | None:
        return self.gpus[0].memory_gib if self.gpus else None


def memory_bucket_gib(memory_mib: int) -> int:
    """GPU memory in GiB rounded *up* to a multiple of 8, as the CM wrapper's ``_gpu_memory.<N>``.

    H100-80GB (81559 MiB) -> 80, L4 (23034 MiB) -> 24, H200 (143771 MiB) -> 144, A100-40GB -> 40.
    """
    if isinstance(memory_mib, bool) or not isinstance(memory_mib, int) or memory_mib < 0:
        raise ValueError(f"memory_mib must be a non-negative integer, got {memory_mib!r}")
    return -(-memory_mib // (8 * 1024)) * 8


# ---------------------------------------------------------------------------------------------
# host facts


def _read_text(path: str | Path) -> str | None:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return None


def _cpu_model(cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    text = _read_text(cpuinfo) or ""
    for key in ("model name", "Model", "Hardware", "cpu model"):
        for line in text.splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip() == key and value.strip():
                return value.strip()
    return platform.processor() or platform.machine() or "unknown"


def _cpu_topology(cpuinfo: str | Path = "/proc/cpuinfo") -> dict[str, object]:
    """Architecture, vendor, sockets, cores per socket and threads per core, as lscpu reports them."""
    text = _read_text(cpuinfo) or ""
    out: dict[str, object] = {"architecture": platform.machine() or "unknown"}
    sockets: set[str] = set()
    cores = siblings = None
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not sep:
            continue
        if name == "vendor_id" and "vendor" not in out:
            out["vendor"] = value
        elif name == "physical id":
            sockets.add(value)
        elif name == "cpu cores" and value.isdigit():
            cores = int(value)
        elif name == "siblings" and value.isdigit():
            siblings = int(value)
    if sockets:
        out["sockets"] = len(sockets)
    if cores:
        out["cores_per_socket"] = cores
        if siblings:
            out["threads_per_core"] = max(1, siblings // cores)
    return out


def _memory_total_gib(meminfo: str | Path = "/proc/meminfo") -> float | None:
    text = _read_text(meminfo) or ""
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            parts = line.split()
            try:
                kib = int(parts[1])
            except (IndexError, ValueError):
                break
            return round(kib / 1024**2, 1)
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3, 1)
    except (AttributeError, ValueError, OSError):
        return None


def _software_versions() -> dict[str, str]:
    import importlib.metadata  # not at module level: keep importing this module cheap

    found: dict[str, str] = {}
    for key, dists in _SOFTWARE:
        for dist in dists:
            try:
                found[key] = importlib.metadata.version(dist)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
    return found


# ---------------------------------------------------------------------------------------------
# GPUs


def _select_visible(gpus: Sequence[GpuInfo], env_value: str | None) -> tuple[GpuInfo, ...]:
    """The GPUs that ``CUDA_VISIBLE_DEVICES=env_value`` leaves visible, in its order.

    Follows CUDA: unset keeps all; empty keeps none; entries are NVML indices or ``GPU-<uuid>``
    (a unique prefix is enough); the list ends at the first entry that is invalid or matches
    no GPU (so ``-1`` hides everything); repeats are dropped. A value naming MIG instances
    (``MIG-...``) cannot be resolved to whole GPUs here, so it keeps all GPUs.
    """
    if env_value is None:
        return tuple(gpus)
    tokens = [t.strip() for t in env_value.split(",")]
    if any(t.upper().startswith("MIG-") for t in tokens):
        return tuple(gpus)
    chosen: list[GpuInfo] = []
    for token in tokens:
        if token.isdigit():
            matches = [g for g in gpus if g.index == int(token)]
        elif token.upper().startswith("GPU-") and len(token) > 4:
            matches = [g for g in gpus if g.uuid.upper().startswith(token.upper())]
        else:
            break
        if len(matches) != 1:
            break
        if matches[0] not in chosen:
            chosen.append(matches[0])
    return tuple(chosen)


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _cuda_version(value: int) -> str:
    """NVML's integer CUDA version (12040) as "12.4"."""
    return f"{value // 1000}.{(value % 1000) // 10}"


@dataclass
class _NvmlRead:
    driver_version: str | None = None
    cuda_driver_version: str | None = None
    nvml_version: str | None = None
    gpus: list[GpuInfo] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _gpu_info(pynvml, index: int) -> GpuInfo:
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
    power_w = None
    for getter in ("nvmlDeviceGetEnforcedPowerLimit", "nvmlDeviceGetPowerManagementLimit"):
        try:
            power_w = getattr(pynvml, getter)(handle) / 1000  # milliwatts
            break
        except (pynvml.NVMLError, AttributeError):
            continue
    max_w = None
    try:
        max_w = pynvml.nvmlDeviceGetPowerManagementLimitConstraints(handle)[1] / 1000
    except (pynvml.NVMLError, AttributeError, IndexError, TypeError):
        pass
    pci = pynvml.nvmlDeviceGetPciInfo(handle)
    device_id = getattr(pci, "pciDeviceId", None)
    return GpuInfo(
        index=index,
        name=_text(pynvml.nvmlDeviceGetName(handle)),
        uuid=_text(pynvml.nvmlDeviceGetUUID(handle)),
        memory_total_mib=int(pynvml.nvmlDeviceGetMemoryInfo(handle).total) // (1024 * 1024),
        compute_capability=f"{major}.{minor}",
        pci_bus_id=_text(pci.busId),
        power_limit_w=power_w,
        power_max_limit_w=max_w,
        pci_device_id=f"0x{int(device_id):08X}" if isinstance(device_id, int) else None,
    )


def _read_nvml() -> _NvmlRead:
    out = _NvmlRead()
    try:
        import pynvml
    except ImportError as exc:  # nvidia-ml-py is a dependency, but be kind to broken installs
        out.errors.append(f"pynvml cannot be imported: {exc}")
        return out
    try:
        pynvml.nvmlInit()
    except (pynvml.NVMLError, OSError) as exc:
        out.errors.append(str(exc) or type(exc).__name__)
        return out
    try:
        for attr, getter, convert in (
            ("driver_version", "nvmlSystemGetDriverVersion", _text),
            ("cuda_driver_version", "nvmlSystemGetCudaDriverVersion", _cuda_version),
            ("nvml_version", "nvmlSystemGetNVMLVersion", _text),
        ):
            try:
                setattr(out, attr, convert(getattr(pynvml, getter)()))
            except (pynvml.NVMLError, AttributeError):
                pass
        try:
            count = pynvml.nvmlDeviceGetCount()
        except pynvml.NVMLError as exc:
            out.errors.append(str(exc))
            return out
        for index in range(count):
            try:
                out.gpus.append(_gpu_info(pynvml, index))
            except pynvml.NVMLError as exc:
                out.errors.append(f"GPU {index}: {exc}")
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass
    return out


def detect_system(environ: Mapping[str, str] | None = None) -> SystemFacts:
    """Detect this machine. GPUs come from NVML, filtered by ``CUDA_VISIBLE_DEVICES``;
    without a usable driver ``gpus`` is empty and ``gpu_error`` holds NVML's reason."""
    env = os.environ if environ is None else environ
    nvml = _read_nvml()
    gpus = nvml.gpus
    errors = list(nvml.errors)
    visible_value = env.get("CUDA_VISIBLE_DEVICES")
    if gpus:
        visible = _select_visible(gpus, visible_value)
        if not visible:
            errors.append(f"CUDA_VISIBLE_DEVICES={visible_value!r} selects none of the {len(gpus)} GPUs")
        gpus = list(visible)
    return SystemFacts(
        source="nvml",
        hostname=socket.gethostname() or platform.node(),
        os=platform.platform(),
        python=platform.python_version(),
        cpu_model=_cpu_model(),
        cpu_count=os.cpu_count() or 1,
        memory_total_gib=_memory_total_gib(),
        driver_version=nvml.driver_version,
        cuda_driver_version=nvml.cuda_driver_version,
        nvml_version=nvml.nvml_version,
        gpus=tuple(gpus),
        gpu_error="; ".join(errors) or None,
        software=_software_versions(),
        cpu_topology=_cpu_topology(),
    )
