"""The custom system for NVIDIA's v5.0 code: ``code/common/systems/custom_list.json`` in nvmitten's JSON.

v5.0 reads custom systems only from that file, relative to its working directory (the code dir), with
``nvmitten.json_utils.load``: one ``Description`` of nvmitten's ``System`` per system name. The name
becomes the system id (``KnownSystem`` is a namespace there, and a name NVIDIA already uses raises
``KeyError``). NVIDIA's own loader adds ``extras`` to each entry, and expects the key to be present
(its ``add_custom_system.py`` writes ``"extras": {}``).

The description matches any CPU and host memory, and the machine's GPUs by PCI id (else name), compute
capability and memory (within 5 %, nvmitten's ``NumericRange``), one entry per GPU. The text is written
without nvmitten (the plugin may run outside NVIDIA's container); tests/conformance load it with
nvmitten itself.
"""

from __future__ import annotations

import json
from typing import Any

DESCRIPTION = "<class 'nvmitten.system.component.Description'>"
CLASS_KEYED = "<class 'nvmitten.json_utils.ClassKeyedDict'>"
NUMERIC_RANGE = "<class 'nvmitten.interval.NumericRange'>"
MEMORY = "<class 'nvmitten.memory.Memory'>"
COMPUTE_SM = "<class 'nvmitten.nvidia.constants.ComputeSM'>"
#: where v5.0's system_list.py reads it, relative to the code dir
PATH = "code/common/systems/custom_list.json"


def _description(module: str, name: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {"__obj_class__": DESCRIPTION,
            "data": {"_component_module": module, "_component_classname": name, "_match_ignore_fields": [],
                     "fields": fields}}


def _memory(num_bytes: int) -> dict[str, Any]:
    gib = num_bytes / 1024**3
    return {"__obj_class__": MEMORY,
            "data": {"num_bytes": int(num_bytes), "base": 1024, "human_readable_UNUSED": f"{gib:.2f} GiB"}}


def gpu_description(group: Any) -> dict[str, Any]:
    """nvmitten's GPU description for one GPU of ``group`` (a custom_system.GpuGroup)."""
    fields: dict[str, Any] = {}
    if group.pci_device_id:
        fields["pci_id"] = group.pci_device_id
    else:
        fields["name"] = group.name
    sm = group.compute_sm
    if sm is not None:
        # nvmitten's ComputeSM object (a bare int would never equal the detected ComputeSM)
        fields["compute_sm"] = {"__obj_class__": COMPUTE_SM, "data": sm}
    fields["vram"] = {"__obj_class__": NUMERIC_RANGE,
                      "data": {"start": _memory(int(group.memory_mib) * 1024 * 1024), "rel_tol": 0.05}}
    fields["is_integrated"] = False
    return _description("nvmitten.nvidia.accelerator", "GPU", fields)


def render_custom_list_json(key: str, groups: list[Any]) -> str:
    """The whole file: one system, ``key``, with the machine's GPUs."""
    gpus = [gpu_description(group) for group in groups for _ in range(group.count)]
    accelerators = {"__obj_class__": CLASS_KEYED,
                    "data": [{"key.module": "nvmitten.nvidia.accelerator", "key.name": "GPU", "value": gpus},
                             {"key.module": "nvmitten.nvidia.accelerator", "key.name": "DLA", "value": []}]}
    system = _description("nvmitten.system.system", "System", {"accelerators": accelerators, "extras": {}})
    return json.dumps({key: system}, indent=2) + "\n"


def install(code_dir: Any, definition: Any) -> None:
    """Put the definition's ``custom_list.json`` where v5.0 reads it (``code/common/systems/`` of the code
    dir), atomically. A file there that the plugin did not write (a user's own custom systems) is never
    replaced: that is an error naming the file and what to do. No-op for a v4.1 definition."""
    import hashlib
    import os
    import uuid
    from pathlib import Path

    from ...errors import HarnessError
    from .custom_hardware import STAMPS

    source = Path(definition) / "custom_list.json"
    if not source.is_file():
        return
    text = source.read_text()
    target = Path(code_dir) / PATH
    owner = Path(code_dir) / STAMPS / "custom_list.json.sha256"
    if target.exists():
        current = target.read_bytes()
        if current == text.encode():
            return
        ours = owner.is_file() and owner.read_text().strip() == hashlib.sha256(current).hexdigest()
        if not ours:
            raise HarnessError(
                f"{target} exists and was not written by pytest-mlperf-nv: NVIDIA's v5.0 code reads "
                "custom systems "
                f"only from that file, so the plugin will not replace it. Move it aside, or add the system "
                f"the plugin generated ({source}) to it and set nvidia.custom_system: never in the suite")
    target.parent.mkdir(parents=True, exist_ok=True)
    owner.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}")
    tmp.write_text(text)
    owner.write_text(hashlib.sha256(text.encode()).hexdigest() + "\n")
    tmp.replace(target)
