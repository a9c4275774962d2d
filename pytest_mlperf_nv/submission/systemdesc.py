"""systems/<system>.json and measurements.json: detected facts first, the suite's submission block on top."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..record import RunRecord
from ..suite.model import Case, Suite
from ..suite.submission import MEASUREMENT_FIELDS, SYSTEM_COUNT_FIELDS, SYSTEM_FIELDS
from .rules import SYSTEM_NON_EMPTY_FIELDS as REQUIRED_NON_EMPTY

if TYPE_CHECKING:
    from ..harness.api import Harness

#: accelerator fields that are "N/A" on a machine without accelerators
_ACCELERATOR_FIELDS = ("accelerator_model_name", "accelerator_memory_capacity",
                       "accelerator_host_interconnect", "accelerator_memory_configuration",
                       "accelerator_interconnect", "accelerator_frequency",
                       "accelerator_interconnect_topology", "accelerator_on-chip_memories")


def system_type(suite: Suite, scenarios: list[str]) -> str:
    given = suite.submission.get("system", {}).get("system_type") or suite.system.get("type")
    if given:
        return ",".join(sorted(part.strip() for part in str(given).split(",")))
    found = set(scenarios)
    edge = bool(found & {"SingleStream", "MultiStream"})
    datacenter = "Server" in found
    if edge and datacenter:
        return "datacenter,edge"
    return "edge" if edge else "datacenter"


def _cpuinfo() -> tuple[int | None, int | None]:
    """(sockets, physical cores per socket) from /proc/cpuinfo, where it says."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return None, None
    sockets, cores = set(), None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            sockets.add(value.strip())
        elif key == "cpu cores" and value.strip().isdigit():
            cores = int(value.strip())
    return (len(sockets) or None), cores


def _network_cards() -> int | None:
    try:
        names = os.listdir("/sys/class/net")
    except OSError:
        return None
    return sum(1 for n in names if n != "lo" and os.path.exists(f"/sys/class/net/{n}/device"))


def _framework(suite: Suite, records: list[RunRecord], harness: Harness) -> str:
    for record in records:
        if record.framework:
            return record.framework
    return harness.framework(suite)


def describe(suite: Suite, facts: Any, layout: Any, system_type_: str, runs: list[RunRecord],
             harness: Harness, *, official: bool) -> tuple[dict[str, Any], list[str]]:
    """(the description, required fields neither detected nor given)."""
    sub = suite.submission
    desc: dict[str, Any] = {field: "" for field in SYSTEM_FIELDS}
    sockets, cores = _cpuinfo()
    loadgen = next((r.loadgen_version for r in runs if r.loadgen_version), None)
    # The accelerators the suite runs on: none for a CPU suite, even on a host with GPUs; at most
    # system.count of the host's GPUs otherwise.
    gpus = tuple(getattr(facts, "gpus", ()) or ()) if suite.system.get("gpu", "none") != "none" else ()
    gpus = gpus[: int(suite.system.get("count") or len(gpus))]
    desc.update({
        "division": layout.division, "submitter": layout.submitter, "system_name": layout.system,
        "status": sub.get("status", "available"), "system_type": system_type_, "number_of_nodes": 1,
        "host_processor_model_name": getattr(facts, "cpu_model", None) or platform.processor() or "",
        "host_processors_per_node": sockets or 1,
        "host_processor_core_count": cores or getattr(facts, "cpu_count", None) or os.cpu_count() or "",
        "accelerators_per_node": len(gpus),
        "framework": _framework(suite, runs, harness),
        "operating_system": getattr(facts, "os", None) or platform.platform(),
    })
    memory = getattr(facts, "memory_total_gib", None)
    if memory:
        desc["host_memory_capacity"] = f"{memory * 1024**3 / 1e9:.0f} GB"
    cards = _network_cards()
    if cards:
        desc["host_network_card_count"] = cards
    python = getattr(facts, "python", None) or platform.python_version()
    stack = [f"pytest-mlperf-nv {__version__}", f"Python {python}"]
    if loadgen:
        stack.append(f"mlcommons-loadgen {loadgen.split()[0]}")
    if gpus:
        gpu = gpus[0]
        desc["accelerator_model_name"] = gpu.name
        desc["accelerator_memory_capacity"] = f"{gpu.memory_total_mib / 1024:.0f} GiB"
        if getattr(facts, "driver_version", None):
            stack.append(f"NVIDIA driver {facts.driver_version}")
        if getattr(facts, "cuda_driver_version", None):
            stack.append(f"CUDA {facts.cuda_driver_version}")
    else:
        for field in _ACCELERATOR_FIELDS:
            desc[field] = "N/A"
    desc["other_software_stack"] = ", ".join(stack)
    for key, value in sub.get("system", {}).items():
        if key == "is_network":
            # Only a network submission says so; any non-empty value, "false" too, switches the
            # official checker's network-mode fields on.
            if value:
                desc[key] = "true"
            continue
        desc[key] = value
    missing = [f for f in REQUIRED_NON_EMPTY if desc.get(f) in ("", None)]
    if not official:
        for field in missing:
            desc[field] = 0 if field in SYSTEM_COUNT_FIELDS else f"unknown (set submission.system.{field})"
    for field in REQUIRED_NON_EMPTY:
        # The checker tests `not value`: a count of 0 must be the string "0" to read as given.
        if desc.get(field) == 0 and not isinstance(desc.get(field), bool):
            desc[field] = "0"
    return desc, missing


def measurements(suite: Suite, case: Case, record: RunRecord, harness: Harness) -> dict[str, Any]:
    model_path = record.model.get("path")
    found: dict[str, Any] = {
        "retraining": "no",
        "starting_weights_filename": Path(model_path).name if model_path and model_path != "None"
        else "the benchmark's reference model",
        **harness.measurement_defaults(case),
    }
    found.update(suite.submission.get("measurements", {}))
    return {k: found[k] for k in MEASUREMENT_FIELDS} | {k: v for k, v in found.items()
                                                        if k not in MEASUREMENT_FIELDS}
