"""Known systems, their registered configs, system detection and custom system definitions.

The real code matches the detected hardware (CPU, GPU name/VRAM/count) against KnownSystem
(code/common/systems/system_list.py) and looks configs up in configs/<benchmark>/<Scenario>/__init__.py
(ConfigRegistry). Here the "detected" system is the env var EMULATED_SYSTEM_ID, and both tables are small
dicts. Values are the v4.1 single-GPU config values where known (see README.md), otherwise illustrative.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from .constants import ACCURACY_TARGETS, BENCHMARKS, HARNESS_TYPES, POWER_SETTINGS, SCENARIOS

Config = dict[str, Any]


def _rn50(off_bs: int, off_qps: float, srv_bs: int, srv_qps: float, ss_lat: int, ms_lat: int) -> dict:
    return {
        "Offline": {"gpu_batch_size": {"resnet50": off_bs}, "offline_expected_qps": off_qps,
                    "gpu_copy_streams": 2, "gpu_inference_streams": 1, "run_infer_on_copy_streams": False,
                    "start_from_device": False, "use_graphs": False},
        "Server": {"gpu_batch_size": {"resnet50": srv_bs}, "server_target_qps": srv_qps,
                   "gpu_copy_streams": 4, "gpu_inference_streams": 2, "use_deque_limit": True,
                   "deque_timeout_usec": 3000, "use_cuda_thread_per_device": True, "use_graphs": True},
        "SingleStream": {"gpu_batch_size": {"resnet50": 1}, "single_stream_expected_latency_ns": ss_lat,
                         "use_graphs": True},
        "MultiStream": {"gpu_batch_size": {"resnet50": 8}, "multi_stream_expected_latency_ns": ms_lat,
                        "use_graphs": True},
    }


def _hopper() -> dict:
    return {
        "resnet50": _rn50(2048, 90000, 256, 79000, 370000, 600000),
        "retinanet": {
            "Offline": {"gpu_batch_size": {"retinanet": 48}, "offline_expected_qps": 1700},
            "Server": {"gpu_batch_size": {"retinanet": 8}, "server_target_qps": 1550},
        },
        "bert": {
            "Offline": {"gpu_batch_size": {"bert": 1280}, "offline_expected_qps": 9400,
                        "use_small_tile_gemm_plugin": True},
            "Server": {"gpu_batch_size": {"bert": 256}, "server_target_qps": 7500, "soft_drop": 1.0,
                       "use_small_tile_gemm_plugin": True},
        },
        "3d-unet": {
            "Offline": {"gpu_batch_size": {"3d-unet": 8}, "offline_expected_qps": 6.8},
            "SingleStream": {"gpu_batch_size": {"3d-unet": 1},
                             "single_stream_expected_latency_ns": 520000000},
        },
        "dlrm-v2": {
            "Offline": {"gpu_batch_size": {"dlrm-v2": 600000}, "offline_expected_qps": 83000},
            "Server": {"gpu_batch_size": {"dlrm-v2": 51200}, "server_target_qps": 81000},
        },
        "gptj": {
            "Offline": {"gpu_batch_size": {"gptj": 396}, "offline_expected_qps": 36},
            "Server": {"gpu_batch_size": {"gptj": 396}, "server_target_qps": 35},
        },
        "llama2-70b": {
            "Offline": {"gpu_batch_size": {"llama2-70b": 896}, "offline_expected_qps": 14.4},
            "Server": {"gpu_batch_size": {"llama2-70b": 896}, "server_target_qps": 13.8},
        },
    }


_h100 = _hopper()
_h100["resnet50"]["Server"]["server_target_qps"] = 73000

BUILTIN_SYSTEMS: dict[str, dict[str, Any]] = {
    "H200-SXM-141GBx1": {"gpu": "NVIDIA H200", "count": 1, "configs": _hopper()},
    "DGX-H100_H100-SXM-80GBx1": {"gpu": "NVIDIA H100 80GB HBM3", "count": 1, "configs": _h100},
    "L4x1": {
        "gpu": "NVIDIA L4",
        "count": 1,
        "configs": {
            "resnet50": _rn50(32, 13000, 16, 12200, 850000, 5400000),
            "retinanet": {"Offline": {"gpu_batch_size": {"retinanet": 2}, "offline_expected_qps": 220}},
            "bert": {"Offline": {"gpu_batch_size": {"bert": 16}, "offline_expected_qps": 1000}},
            "3d-unet": {"Offline": {"gpu_batch_size": {"3d-unet": 1}, "offline_expected_qps": 1.3}},
        },
    },
}


def _normalise_config(bench_name: str, raw: Config) -> Config:
    cfg = copy.deepcopy(raw)
    bs = cfg.get("gpu_batch_size")
    if isinstance(bs, int):  # convenience in custom definitions: one component
        cfg["gpu_batch_size"] = {BENCHMARKS[bench_name].components[0]: bs}
    return cfg


def custom_definition_path() -> Path | None:
    value = os.environ.get("MLPINF_CUSTOM_DEFINITION_PATH")
    return Path(value) if value else None


def load_custom_systems() -> dict[str, dict[str, Any]]:
    """Read $MLPINF_CUSTOM_DEFINITION_PATH/custom_systems/custom_list.json (format: README.md)."""
    root = custom_definition_path()
    if root is None:
        return {}
    path = root / "custom_systems" / "custom_list.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    systems = data.get("systems", {})
    if not isinstance(systems, dict):
        raise ValueError(f"{path}: 'systems' must be an object keyed by system id")
    for system_id, entry in systems.items():
        for bench_name, per_scenario in entry.get("configs", {}).items():
            if bench_name not in BENCHMARKS:
                raise ValueError(f"{path}: {system_id}: unknown benchmark {bench_name!r}")
            for scenario in per_scenario:
                if scenario not in SCENARIOS:
                    raise ValueError(f"{path}: {system_id}: {bench_name}: unknown scenario {scenario!r}")
    return systems


def known_systems() -> dict[str, dict[str, Any]]:
    systems = dict(BUILTIN_SYSTEMS)
    systems.update(load_custom_systems())
    return systems


def detect_system() -> tuple[str | None, str]:
    """(matched system id or None, description of the 'detected' hardware)."""
    system_id = os.environ.get("EMULATED_SYSTEM_ID", "").strip()
    description = (f"System(emulated id={system_id or '<unset>'}, "
                   f"cpu=EmulatedCPU, accelerators=EmulatedGPU)")
    if system_id and system_id in known_systems():
        return system_id, description
    return None, description


def get_config(system_id: str, bench_name: str, scenario: str, harness_type: str, accuracy_target: float,
               power_setting: str) -> Config | None:
    """ConfigRegistry.get: the config registered for this system and workload setting, or None."""
    entry = known_systems().get(system_id)
    if entry is None:
        return None
    raw = entry.get("configs", {}).get(bench_name, {}).get(scenario)
    if raw is None:
        return None
    bench = BENCHMARKS[bench_name]
    targets = raw.get("accuracy_targets", [0.99, 0.999] if bench.high_accuracy else [0.99])
    powers = raw.get("power_settings", ["MaxP"])
    harness = raw.get("harness_type", bench.default_harness)
    if harness not in HARNESS_TYPES or any(p not in POWER_SETTINGS for p in powers) \
            or any(t not in ACCURACY_TARGETS for t in targets):
        raise ValueError(f"bad workload fields in config for {system_id} {bench_name} {scenario}")
    if accuracy_target not in targets or power_setting not in powers or harness_type != harness:
        return None
    cfg = {k: v for k, v in raw.items() if k not in ("accuracy_targets", "power_settings", "harness_type")}
    return _normalise_config(bench_name, cfg)
