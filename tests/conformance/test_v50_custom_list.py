"""v5.0's custom systems: ``code/common/systems/custom_list.json``, read with NVIDIA's nvmitten.

The plugin writes that file without nvmitten; here nvmitten itself (``MLPERF_NV_NVMITTEN``, at the hash
v5.0's Makefile.build names) loads it and matches it against the snapshot machine built from nvmitten's
own component classes. Only CUDA and TensorRT are stubbed (nvmitten's GPU module imports cuda-python,
its constants TensorRT).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_mlperf_nv.harness.nvidia.custom_list_json import PATH
from pytest_mlperf_nv.harness.nvidia.custom_system import build_definition
from pytest_mlperf_nv.systems.snapshot import read_snapshot

from .conftest import Tree, nvmitten_path
from .shipped import SNAPSHOTS

CHECK = r'''
import json, sys, types


class Anything:
    """What nvmitten's import-time use of cuda-python and TensorRT sees (no GPU library is loaded)."""
    def __getattr__(self, name):
        return Anything()
    def __call__(self, *args, **kwargs):
        return Anything()
    def __iter__(self):
        return iter(())
    def __mro_entries__(self, bases):
        return (object,)
    def __hash__(self):
        return 0


class Stub(types.ModuleType):
    def __getattr__(self, name):
        return Anything()


for name in ("cuda", "tensorrt"):
    sys.modules[name] = Stub(name)
from nvmitten.json_utils import load
from nvmitten.memory import Memory
from nvmitten.nvidia.accelerator import GPU, DLA
from nvmitten.nvidia.constants import ComputeSM
from nvmitten.system.component import Description
from nvmitten.system.cpu import CPU
from nvmitten.constants import CPUArchitecture
from nvmitten.system.memory import HostMemory
from nvmitten.system.system import System

request = json.loads(sys.argv[1])
systems = load(open(request["file"]))
facts = request["facts"]
cpu = CPU(name=facts["cpu_model"], architecture=CPUArchitecture.x86_64, vendor=facts["vendor"],
          cores_per_group=1, threads_per_core=1, n_groups=1)
gpus = [GPU(g["name"], g["pci"], ComputeSM.from_int(g["sm"]), Memory._to_base(1024, g["mib"] * 1024 * 1024),
            g["max_w"], False, gpu_index=i) for i, g in enumerate(facts["gpus"])]
machine = System(cpu, HostMemory(Memory._to_base(1000, int(facts["memory_gib"] * 1024 ** 3))),
                 {GPU: gpus, DLA: []})
out = {}
for key, desc in systems.items():
    out[key] = {"description": isinstance(desc, Description), "matches": bool(desc.matches(machine)),
                "has_extras": "extras" in desc.mapping and isinstance(desc.mapping["extras"], dict)}
print(json.dumps(out))
'''


@pytest.mark.parametrize("snapshot", ["h200x1", "h100x1", "rtx4090x1", "t4x1"])
def test_the_plugins_custom_list_json_loads_with_nvmitten_and_matches_the_machine(nvidia_tree: Tree,
                                                                                  snapshot: str,
                                                                                  tmp_path: Path) -> None:
    if nvidia_tree.version != "v5.0":
        pytest.skip(f"custom_list.json is v5.0's ({nvidia_tree.path} is {nvidia_tree.version})")
    mitten = nvmitten_path()
    if mitten is None:
        pytest.skip("set MLPERF_NV_NVMITTEN to a checkout of NVIDIA/mitten (v5.0's Makefile.build names "
                    "the hash)")
    import importlib.util

    if importlib.util.find_spec("git") is None:
        pytest.skip("nvmitten imports GitPython (NVIDIA's container has it): pip install gitpython")
    system_list = nvidia_tree.path / "code/common/systems/system_list.py"
    if system_list.is_file():
        # The tree reads the file the plugin writes, from where the plugin writes it.
        assert f'Path("{PATH}")' in system_list.read_text()
    facts = read_snapshot(SNAPSHOTS / f"{snapshot}.json")
    knobs = {"gpu_batch_size": 8, "offline_expected_qps": 1.0}
    definition = build_definition(facts, "resnet50", "Offline", knobs, version="v5.0")
    path = tmp_path / "custom_list.json"
    path.write_text(definition.text("custom_list.json"))
    request = {"file": str(path), "facts": {
        "cpu_model": facts.cpu_model, "vendor": facts.cpu_topology.get("vendor", "GenuineIntel"),
        "memory_gib": facts.memory_total_gib,
        "gpus": [{"name": g.name, "pci": g.pci_device_id, "sm": int(g.compute_capability.replace(".", "")),
                  "mib": g.memory_total_mib, "max_w": g.power_max_limit_w} for g in facts.gpus]}}
    env = dict(os.environ, PYTHONPATH=mitten)
    proc = subprocess.run([sys.executable, "-c", CHECK, json.dumps(request)], capture_output=True, text=True,
                          env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {definition.key: {"description": True, "matches": True, "has_extras": True}}
