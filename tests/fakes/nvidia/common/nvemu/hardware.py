"""The hardware-description API of NVIDIA's code, small: what custom_list.py files import.

Modelled on code/common/constants.py (AcceleratorType, ByteSuffix, CPUArchitecture, Memory) and
code/common/systems/{base,accelerator,cpu,memory,systems,known_hardware}.py of
mlcommons/inference_results_v4.1 closed/NVIDIA. :func:`install` registers them in ``sys.modules`` under
NVIDIA's module names, so a custom_list.py written for the real code imports them unchanged.

Matching (what decides the "detected" system), as the conformance tests observed NVIDIA's code do it: a
CPU configuration is MATCH_ANY or names the CPU; a memory configuration is MATCH_ANY, a capacity within
its tolerance, or a minimum (``min_memory_requirement``); GPUs match by PCI id where both sides have one
(else by name), VRAM (exact within 1 MiB, or within the 5 % of ``match_float_approximate``), the maximum
power limit where the description gives one and the snapshot records it, and count.

Equality of two system descriptions is NVIDIA's too: component by component, MATCH_ANY equal to
anything. ``KnownSystem`` is a Python Enum, so a custom system equal to a built-in one becomes its alias
(the real code does the same: its custom system is then never matched).
"""

from __future__ import annotations

import enum
import json
import re
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


# --- code.common.constants ------------------------------------------------------------------------
class AcceleratorType(enum.Enum):
    Integrated = "Integrated"
    Discrete = "Discrete"
    DLA = "DLA"


class ByteSuffix(enum.Enum):
    B = (1, 0)
    KiB = (1024, 1)
    MiB = (1024, 2)
    GiB = (1024, 3)
    TiB = (1024, 4)
    KB = (1000, 1)
    MB = (1000, 2)
    GB = (1000, 3)
    TB = (1000, 4)

    def factor(self) -> int:
        base, exponent = self.value
        return base ** exponent


class CPUArchitecture(enum.Enum):
    x86_64 = "x86_64"
    aarch64 = "aarch64"


@dataclass(frozen=True)
class Memory:
    quantity: float
    byte_suffix: ByteSuffix

    def to_bytes(self) -> float:
        return self.quantity * self.byte_suffix.factor()

    def __str__(self) -> str:
        return f"{self.quantity:g} {self.byte_suffix.name}"


# --- code.common.systems.base ---------------------------------------------------------------------
class _MatchAny:
    """MATCH_ANY: matches every value."""

    _instance: _MatchAny | None = None

    def __new__(cls) -> _MatchAny:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MATCH_ANY"


MATCH_ANY = _MatchAny()


@dataclass(frozen=True)
class AliasedName:
    name: str
    aliases: tuple[str, ...] = ()
    patterns: tuple[Any, ...] = ()

    def matches(self, other: str) -> bool:
        if other == self.name or other in self.aliases:
            return True
        return any(re.fullmatch(p, other) for p in self.patterns)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class MatchAllowList:
    values: tuple[Any, ...]

    def __init__(self, values: Any):
        object.__setattr__(self, "values", tuple(values))


@dataclass(frozen=True)
class MatchFloatApproximate:
    value: Any
    to_float: Callable[[Any], float]
    rel_tol: float = 0.05


@dataclass(frozen=True)
class MatchNumericThreshold:
    """A minimum (or maximum) memory: known_hardware.min_memory_requirement."""

    value: Any  # MemoryConfiguration
    to_numeric: Callable[[Any], float]
    min_threshold: bool = True


# --- code.common.systems.{cpu,memory,accelerator,systems} ----------------------------------------
@dataclass(frozen=True)
class CPU:
    name: Any
    architecture: CPUArchitecture
    core_count: Any = MATCH_ANY
    threads_per_core: Any = MATCH_ANY


class CPUConfiguration:
    def __init__(self, layout: dict):
        self.layout = dict(layout)

    def __repr__(self) -> str:
        return f"CPUConfiguration(layout={self.layout!r})"


class MemoryConfiguration:
    def __init__(self, host_memory_capacity: Memory, comparison_tolerance: float = 0.05):
        self.host_memory_capacity = host_memory_capacity
        self.comparison_tolerance = comparison_tolerance

    def __eq__(self, other: Any) -> bool:
        if other is MATCH_ANY:
            return True
        if not isinstance(other, MemoryConfiguration):
            return NotImplemented
        a, b = self.host_memory_capacity.to_bytes(), other.host_memory_capacity.to_bytes()
        return abs(a - b) <= self.comparison_tolerance * max(abs(a), abs(b))

    __hash__ = object.__hash__


@dataclass(frozen=True)
class GPU:
    name: Any
    accelerator_type: AcceleratorType
    vram: Any
    max_power_limit: Any
    pci_id: Any
    compute_sm: Any


@dataclass(frozen=True)
class MIG(GPU):
    num_gpcs: Any = MATCH_ANY


class AcceleratorConfiguration:
    def __init__(self, layout: dict):
        self.layout = dict(layout)

    def get_accelerators(self) -> tuple:
        return tuple(self.layout)

    def num_gpus(self) -> int:
        return sum(c for c in self.layout.values() if isinstance(c, int))


def _same(a: Any, b: Any) -> bool:
    """NVIDIA's equality of two description parts (Matchable.__eq__): MATCH_ANY equals anything."""
    if a is MATCH_ANY or b is MATCH_ANY:
        return True
    if isinstance(a, MatchNumericThreshold) and isinstance(b, MatchNumericThreshold):
        return a.min_threshold == b.min_threshold and a.value == b.value
    if isinstance(a, CPUConfiguration) and isinstance(b, CPUConfiguration):
        return len(a.layout) == len(b.layout) and all(
            any(_same_cpu(x, y) and _same(n, m) for y, m in b.layout.items()) for x, n in a.layout.items())
    if isinstance(a, AcceleratorConfiguration) and isinstance(b, AcceleratorConfiguration):
        return len(a.layout) == len(b.layout) and all(
            any(x == y and n == m for y, m in b.layout.items()) for x, n in a.layout.items())
    return a == b


def _same_cpu(a: Any, b: Any) -> bool:
    return str(a.name) == str(b.name) and a.architecture == b.architecture


class SystemConfiguration:
    """One system description. Equal to another where every part is (NVIDIA's SystemConfiguration.matches
    between descriptions); the hash is shared so that Python's Enum finds equal members (aliases)."""

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, SystemConfiguration):
            return NotImplemented
        return (_same(self.host_cpu_conf, other.host_cpu_conf)
                and _same(self.host_mem_conf, other.host_mem_conf)
                and _same(self.accelerator_conf, other.accelerator_conf))

    def __hash__(self) -> int:
        return 0

    def __init__(self, host_cpu_conf: Any, host_mem_conf: Any, accelerator_conf: Any, numa_conf: Any = None,
                 system_id: str | None = None):
        self.host_cpu_conf = host_cpu_conf
        self.host_mem_conf = host_mem_conf
        self.accelerator_conf = accelerator_conf
        self.numa_conf = numa_conf
        self.system_id = system_id

    def get_id(self) -> str | None:
        return self.system_id

    def __repr__(self) -> str:
        return f"SystemConfiguration(system_id={self.system_id!r})"


# --- code.common.systems.known_hardware ----------------------------------------------------------
def mem_to_bytes(m: Memory) -> float:
    return m.to_bytes()


def match_float_approximate(m: Memory) -> MatchFloatApproximate:
    return MatchFloatApproximate(m, mem_to_bytes, rel_tol=0.05)


def get_full_pci_id(short: str) -> str:
    return f"0x{short}10DE"


def mem_conf_to_min_bytes(mc: MemoryConfiguration) -> float:
    return mc.host_memory_capacity.to_bytes() * (1 - mc.comparison_tolerance)


def min_memory_requirement(m: Memory) -> MatchNumericThreshold:
    return MatchNumericThreshold(MemoryConfiguration(m), mem_conf_to_min_bytes, min_threshold=True)


class KnownGPU(enum.Enum):
    """The GPUs of the emulated built-in systems (names as NVML reports them)."""

    H200_SXM_141GB = GPU("NVIDIA H200", AcceleratorType.Discrete,
                         match_float_approximate(Memory(141, ByteSuffix.GiB)), 700.0, get_full_pci_id("2335"),
                         90)
    H100_SXM_80GB = GPU("NVIDIA H100 80GB HBM3", AcceleratorType.Discrete,
                        match_float_approximate(Memory(80, ByteSuffix.GiB)), 700.0, get_full_pci_id("2330"),
                        90)
    L4 = GPU("NVIDIA L4", AcceleratorType.Discrete, match_float_approximate(Memory(23, ByteSuffix.GiB)), 72.0,
             get_full_pci_id("27B8"), 89)


class KnownCPU(enum.Enum):
    Intel_Xeon_Platinum_8480C = CPU("Intel(R) Xeon(R) Platinum 8480C", CPUArchitecture.x86_64, 56, MATCH_ANY)
    AMD_EPYC_7313P = CPU(AliasedName("AMD EPYC 7313P 16-Core Processor", ("AMD EPYC 7313P",)),
                         CPUArchitecture.x86_64, 16, 2)
    # v5.0 (nvmitten descriptions by vendor: GenuineIntel / AuthenticAMD); matched here by the model name
    x86_64_Intel_Generic = CPU(AliasedName("x86-64 Intel", patterns=(r"Intel.*",)), CPUArchitecture.x86_64)
    x86_64_AMD_Generic = CPU(AliasedName("x86-64 AMD", patterns=(r"AMD.*",)), CPUArchitecture.x86_64)


# --- detected hardware (EMULATED_HARDWARE: the plugin's system snapshot format) ----------------
@dataclass(frozen=True)
class DetectedGPU:
    name: str
    vram_bytes: float
    power_limit_w: float | None
    compute_sm: int | None
    power_max_limit_w: float | None = None
    pci_id: str | None = None

    def __str__(self) -> str:
        parts = [f"{self.vram_bytes / 1024 ** 3:.1f} GiB"]
        if self.power_limit_w is not None:
            parts.append(f"{self.power_limit_w:g} W")
        if self.compute_sm is not None:
            parts.append(f"sm{self.compute_sm}")
        return f"{self.name} ({', '.join(parts)})"


@dataclass(frozen=True)
class DetectedSystem:
    cpu_name: str
    cpu_count: int | None
    memory_bytes: float | None
    gpus: tuple[DetectedGPU, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        counts: dict[str, int] = {}
        for gpu in self.gpus:
            counts[str(gpu)] = counts.get(str(gpu), 0) + 1
        accelerators = ", ".join(f"{n}x {desc}" for desc, n in counts.items()) or "none"
        memory = f"{self.memory_bytes / 1024 ** 3:.1f} GiB" if self.memory_bytes else "unknown"
        return (f"SystemConfiguration(cpu={self.cpu_name} x{self.cpu_count}, memory={memory}, "
                f"accelerators={accelerators})")


def read_hardware(path: str | Path) -> DetectedSystem:
    """The hardware described by a system snapshot JSON file (cpu_model, cpu_count, memory_total_gib,
    gpus[{name, memory_total_mib, compute_capability, power_limit_w}])."""
    data = json.loads(Path(path).read_text())
    gpus = []
    for gpu in data.get("gpus") or []:
        cc = gpu.get("compute_capability")
        sm = int(str(cc).replace(".", "")) if cc else None
        gpus.append(DetectedGPU(str(gpu["name"]), float(gpu["memory_total_mib"]) * 1024 ** 2,
                                gpu.get("power_limit_w"), sm, gpu.get("power_max_limit_w"),
                                gpu.get("pci_device_id")))
    memory = data.get("memory_total_gib")
    return DetectedSystem(str(data.get("cpu_model") or "unknown"), data.get("cpu_count"),
                          float(memory) * 1024 ** 3 if memory is not None else None, tuple(gpus))


def _name_matches(expected: Any, name: str) -> bool:
    if expected is MATCH_ANY:
        return True
    if isinstance(expected, AliasedName):
        return expected.matches(name)
    if isinstance(expected, MatchAllowList):
        return any(_name_matches(v, name) for v in expected.values)
    return str(expected) == name


def _vram_matches(expected: Any, vram_bytes: float) -> bool:
    if expected is MATCH_ANY:
        return True
    if isinstance(expected, MatchAllowList):
        return any(_vram_matches(v, vram_bytes) for v in expected.values)
    if isinstance(expected, MatchFloatApproximate):
        target = expected.to_float(expected.value)
        return abs(vram_bytes - target) <= expected.rel_tol * max(abs(target), abs(vram_bytes))
    if isinstance(expected, Memory):
        return abs(vram_bytes - expected.to_bytes()) <= 1024 ** 2
    return False


def gpu_matches(expected: Any, gpu: DetectedGPU) -> bool:
    if expected is MATCH_ANY:
        return True
    if isinstance(expected.pci_id, str) and gpu.pci_id:
        identity = expected.pci_id.lower() == gpu.pci_id.lower()  # the name is not compared then
    else:
        identity = _name_matches(expected.name, gpu.name)
    power = expected.max_power_limit
    power_ok = (power is MATCH_ANY or gpu.power_max_limit_w is None
                or float(power) == float(gpu.power_max_limit_w))
    return identity and power_ok and _vram_matches(expected.vram, gpu.vram_bytes)


def system_matches(conf: SystemConfiguration, detected: DetectedSystem) -> bool:
    """Does the detected hardware match this system description?"""
    cpu_conf = conf.host_cpu_conf
    if cpu_conf is not MATCH_ANY:
        if not isinstance(cpu_conf, CPUConfiguration):
            return False
        if not all(_name_matches(cpu.name, detected.cpu_name) for cpu in cpu_conf.layout):
            return False
    mem_conf = conf.host_mem_conf
    if isinstance(mem_conf, MatchNumericThreshold):
        if detected.memory_bytes is None:
            return False
        if (detected.memory_bytes >= mem_conf.to_numeric(mem_conf.value)) != mem_conf.min_threshold:
            return False
    elif mem_conf is not MATCH_ANY:
        if not isinstance(mem_conf, MemoryConfiguration) or detected.memory_bytes is None:
            return False
        target = mem_conf.host_memory_capacity.to_bytes()
        if abs(detected.memory_bytes - target) > mem_conf.comparison_tolerance * target:
            return False
    acc_conf = conf.accelerator_conf
    if acc_conf is MATCH_ANY:
        return True
    if not isinstance(acc_conf, AcceleratorConfiguration):
        return False
    remaining = list(detected.gpus)
    for expected, count in acc_conf.layout.items():
        matched = [g for g in remaining if gpu_matches(expected, g)]
        if count is MATCH_ANY:
            if not matched:
                return False
        elif len(matched) != count:
            return False
        for gpu in matched:
            remaining.remove(gpu)
    return not remaining


# --- sys.modules ---------------------------------------------------------------------------------
def _module(name: str, values: dict[str, Any]) -> types.ModuleType:
    module = sys.modules.get(name)
    if module is None:
        module = types.ModuleType(name)
        module.__path__ = []  # a package: submodules may be registered under it
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent and parent in sys.modules:
            setattr(sys.modules[parent], child, module)
    for key, value in values.items():
        setattr(module, key, value)
    return module


def register_modules(prefix_values: dict[str, dict[str, Any]]) -> None:
    """Register (or extend) synthetic modules, parents first."""
    for name in sorted(prefix_values, key=lambda n: n.count(".")):
        parts = name.split(".")
        for i in range(1, len(parts)):
            parent = ".".join(parts[:i])
            if parent not in sys.modules:
                _module(parent, {})
        _module(name, prefix_values[name])


def install(extra_constants: dict[str, Any]) -> None:
    """Register code.common.constants and code.common.systems.* in sys.modules."""
    base = {"MATCH_ANY": MATCH_ANY, "AliasedName": AliasedName, "MatchAllowList": MatchAllowList,
            "MatchFloatApproximate": MatchFloatApproximate, "MatchNumericThreshold": MatchNumericThreshold}
    register_modules({
        "code.common": {},
        "code.common.constants": {"AcceleratorType": AcceleratorType, "ByteSuffix": ByteSuffix,
                                  "CPUArchitecture": CPUArchitecture, "Memory": Memory, **extra_constants},
        "code.common.systems": {},
        "code.common.systems.base": base,
        "code.common.systems.cpu": {"CPU": CPU, "CPUConfiguration": CPUConfiguration},
        "code.common.systems.memory": {"MemoryConfiguration": MemoryConfiguration},
        "code.common.systems.accelerator": {"GPU": GPU, "MIG": MIG,
                                            "AcceleratorConfiguration": AcceleratorConfiguration},
        "code.common.systems.systems": {"SystemConfiguration": SystemConfiguration},
        "code.common.systems.known_hardware": {
            **base, "KnownGPU": KnownGPU, "KnownCPU": KnownCPU,
            "match_float_approximate": match_float_approximate,
            "min_memory_requirement": min_memory_requirement,
            "MatchNumericThreshold": MatchNumericThreshold,
            "mem_to_bytes": mem_to_bytes, "get_full_pci_id": get_full_pci_id, "Memory": Memory,
            "ByteSuffix": ByteSuffix, "AcceleratorType": AcceleratorType, "CPUArchitecture": CPUArchitecture,
            "GPU": GPU, "CPU": CPU, "AcceleratorConfiguration": AcceleratorConfiguration,
            "CPUConfiguration": CPUConfiguration, "MemoryConfiguration": MemoryConfiguration},
    })
