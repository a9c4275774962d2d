"""The building blocks of a custom-system definition (custom_system.py): the GPUs NVIDIA's code
knows and how it matches them, the machine's GPU groups, the names NVIDIA's code and the plugin use.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import HarnessError
from .args import BOOL_FLAGS, VALUE_FLAGS

#: values of the suite's ``nvidia.custom_system``
MODES = ("auto", "always", "never")
DEFAULT_MODE = "auto"
#: what NVIDIA's code.main logs when the machine matches none of its systems
UNKNOWN_SYSTEM = "Detected system did not match any known systems"
#: where the plugin keeps its stamps and definitions inside NVIDIA's code dir
STAMPS = Path("build") / "pytest-mlperf-nv"
CUSTOM_DIR = STAMPS / "custom"
ENV = "MLPINF_CUSTOM_DEFINITION_PATH"

#: knobs written as config fields (every knob NVIDIA's code.main has a flag for)
CONFIG_KNOBS = ("gpu_batch_size", *VALUE_FLAGS, *BOOL_FLAGS, "use_cuda_thread_per_device",
                "graphs_max_seqlen",
                "server_num_issue_query_threads")
#: benchmarks NVIDIA runs on its LWIS harness; the others on their own ("Custom") harness
LWIS_BENCHMARKS = ("resnet50", "retinanet")
#: relative tolerance of NVIDIA's match_float_approximate (known_hardware.py)
VRAM_TOLERANCE = 0.05


class CustomSystemError(HarnessError):
    """A custom-system definition that cannot be generated; the message says what to add."""


@dataclass(frozen=True)
class KnownGpu:
    """A GPU of NVIDIA's ``KnownGPU`` enum and the config classes of its single-node systems."""

    member: str  # KnownGPU member
    names: tuple[str, ...]  # names NVML reports for it
    vram_gib: float
    config_prefix: str  # NVIDIA's config classes are <prefix>x<count>
    pci_ids: tuple[str, ...] = ()  # nvidia-smi pci.device_id values NVIDIA lists
    max_power_w: float | None = None  # the max_power_limit NVIDIA compares exactly

    def matches(self, group: GpuGroup) -> bool:
        """NVIDIA's GPU match (code/common/systems/accelerator.py GPU.matches): when both sides have a
        PCI id the name is not compared, the PCI id is; memory within 5 %; the maximum power limit
        exactly (a snapshot without it cannot tell, and is taken to match)."""
        gib = group.memory_mib / 1024
        if abs(gib - self.vram_gib) > VRAM_TOLERANCE * max(gib, self.vram_gib):
            return False
        if group.pci_device_id:
            if group.pci_device_id.lower() not in (p.lower() for p in self.pci_ids):
                return False
        elif group.name not in self.names:
            return False
        return group.power_max_limit_w is None or float(group.power_max_limit_w) == self.max_power_w


# code/common/systems/known_hardware.py (KnownGPU) and configs/<benchmark>/<Scenario>/__init__.py
# (H200_SXM_141GBx1, H100_SXM_80GBx1, L4x1, ...) of inference_results v4.1 / v5.0 closed/NVIDIA.
KNOWN_GPUS = (
    KnownGpu("H200_SXM_141GB", ("NVIDIA H200",), 140.0, "H200_SXM_141GB", ("0x233510DE",), 700.0),
    KnownGpu("H100_SXM_80GB", ("NVIDIA H100 80GB HBM3",), 80.0, "H100_SXM_80GB",
             ("0x233010DE", "0x233F10DE"), 700.0),
    KnownGpu("L4", ("NVIDIA L4",), 23.0, "L4", ("0x27B810DE",), 72.0),
    KnownGpu("A100_SXM_80GB", ("NVIDIA A100-SXM4-80GB", "NVIDIA A100-SXM-80GB"), 80.0, "A100_SXM_80GB",
             ("0x20B210DE",), 400.0),
    KnownGpu("A100_PCIe_80GB", ("NVIDIA A100 80GB PCIe", "NVIDIA A100-PCIe-80GB"), 80.0, "A100_PCIe_80GB",
             ("0x20B510DE",), 300.0),
)


@dataclass(frozen=True)
class GpuGroup:
    """Identical GPUs of the machine: one entry of the accelerator layout."""

    name: str
    memory_mib: int
    compute_capability: str
    power_limit_w: float | None
    count: int
    power_max_limit_w: float | None = None
    pci_device_id: str | None = None

    @property
    def known(self) -> KnownGpu | None:
        return next((k for k in KNOWN_GPUS if k.matches(self)), None)

    @property
    def compute_sm(self) -> int | None:
        digits = self.compute_capability.replace(".", "")
        return int(digits) if digits.isdigit() else None

    def describe(self) -> str:
        power = f", {self.power_limit_w:g} W" if self.power_limit_w is not None else ""
        return (f"{self.count}x {self.name} ({self.memory_mib} MiB, compute capability "
                f"{self.compute_capability}{power})")


def gpu_groups(facts: Any) -> list[GpuGroup]:
    """The machine's GPUs grouped into identical ones, in a stable order."""
    counts: dict[tuple, int] = {}
    for gpu in facts.gpus:
        key = (gpu.name, int(gpu.memory_total_mib), str(gpu.compute_capability), gpu.power_limit_w,
               getattr(gpu, "power_max_limit_w", None), getattr(gpu, "pci_device_id", None))
        counts[key] = counts.get(key, 0) + 1
    return [GpuGroup(key[0], key[1], key[2], key[3], count=n, power_max_limit_w=key[4], pci_device_id=key[5])
            for key, n in sorted(counts.items(), key=lambda kv: repr(kv[0]))]


def short_gpu_name(name: str) -> str:
    """``NVIDIA H200`` -> ``H200``, ``NVIDIA GeForce RTX 4090`` -> ``GeForce_RTX_4090``."""
    text = re.sub(r"^NVIDIA\s+", "", name.strip())
    text = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_") or "GPU"
    return text if text[0].isalpha() else f"GPU_{text}"


def system_key(groups: list[GpuGroup]) -> str:
    """The KnownSystem member name (a Python identifier): ``Custom_H200x1``."""
    return "Custom_" + "_".join(f"{short_gpu_name(g.name)}x{g.count}" for g in groups)


def fingerprint(facts: Any) -> str:
    """The hardware NVIDIA's code matches on: CPU, memory, GPUs (not the host name or GPU UUIDs)."""
    data = {"cpu_model": facts.cpu_model, "cpu_count": facts.cpu_count,
            "memory_total_gib": facts.memory_total_gib,
            "gpus": [[g.name, g.memory_total_mib, g.compute_capability, g.power_limit_w] for g in facts.gpus]}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
