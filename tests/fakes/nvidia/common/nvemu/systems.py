"""Known systems, their registered configs, system detection and custom system definitions.

The real code describes each known system by its hardware (code/common/systems/system_list.py), matches
the detected hardware against them in order and takes the first match (MATCHED_SYSTEM), then looks
configs up in the ConfigRegistry, filled by importing configs/<benchmark>/<Scenario>/__init__.py and,
where MLPINF_CUSTOM_DEFINITION_PATH is set, <path>/custom_configs/<benchmark>/<Scenario>/custom.py.
Custom systems come from <path>/custom_systems/custom_list.py (``custom_systems = dict()``), appended
after the built-in ones. Here:

- the detected system is named directly by EMULATED_SYSTEM_ID (a system id or KnownSystem name), or
  matched from the hardware in the snapshot file EMULATED_HARDWARE (see hardware.py for the rules);
- the built-in systems and their config values are the small tables below (v4.1 single-GPU values
  where known, see README.md), turned into classes registered like NVIDIA's;
- custom_list.py and custom.py are real Python, imported as the real code imports them, against the
  synthetic modules of hardware.py and configs.py registered in sys.modules.
"""

from __future__ import annotations

import enum
import importlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from . import configs as C
from . import hardware as H
from .constants import BENCHMARKS

Config = dict[str, Any]


def _rn50(off_bs: int, off_qps: float, srv_bs: int, srv_qps: float, ss_lat: int, ms_lat: int) -> dict:
    return {
        "Offline": {"gpu_batch_size": {"resnet50": off_bs}, "offline_expected_qps": off_qps,
                    "gpu_copy_streams": 2, "gpu_inference_streams": 1, "run_infer_on_copy_streams": False,
                    "use_graphs": False},
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


# NVIDIA's H100/H200 resnet50 Offline configs start from device memory (a field NVIDIA allows only on
# the systems it lists, so a custom system extending them must unset it).
_h200 = _hopper()
_h200["resnet50"]["Offline"]["start_from_device"] = True
# NVIDIA's v4.1 H200_SXM_141GBx1 has no SingleStream / MultiStream configs (the H100 one has).
for _scenario in ("SingleStream", "MultiStream"):
    _h200["resnet50"].pop(_scenario)
_h200["3d-unet"].pop("SingleStream")
_h100 = _hopper()
_h100["resnet50"]["Offline"]["start_from_device"] = True
_h100["resnet50"]["Server"]["server_target_qps"] = 73000


@dataclass(frozen=True)
class Builtin:
    """A built-in system: KnownSystem name (also its config class name), id, hardware, configs."""

    name: str
    system_id: str
    cpu: H.KnownCPU
    gpu: H.KnownGPU
    count: int
    configs: dict
    memory_gib: float = 30  # the minimum host memory NVIDIA's v4.1 system_list asks for
    #: v5.0's system_list: a vendor-generic CPU and 100 GiB for every one of these systems
    cpu_v50: H.KnownCPU = H.KnownCPU.x86_64_Intel_Generic

    def configuration(self, version: str = "v4.1") -> H.SystemConfiguration:
        # As system_list.add_systems: the CPU, a minimum host memory, the GPUs.
        cpu, memory = (self.cpu_v50, 100) if version == "v5.0" else (self.cpu, self.memory_gib)
        return H.SystemConfiguration(H.CPUConfiguration({cpu.value: H.MATCH_ANY}),
                                     H.min_memory_requirement(H.Memory(memory, H.ByteSuffix.GiB)),
                                     H.AcceleratorConfiguration({self.gpu.value: self.count}),
                                     numa_conf=None, system_id=self.system_id)


BUILTIN_SYSTEMS = (
    Builtin("H200_SXM_141GBx1", "H200-SXM-141GBx1", H.KnownCPU.Intel_Xeon_Platinum_8480C,
            H.KnownGPU.H200_SXM_141GB, 1, _h200),
    Builtin("H100_SXM_80GBx1", "DGX-H100_H100-SXM-80GBx1", H.KnownCPU.Intel_Xeon_Platinum_8480C,
            H.KnownGPU.H100_SXM_80GB, 1, _h100),
    Builtin("L4x1", "L4x1", H.KnownCPU.AMD_EPYC_7313P, H.KnownGPU.L4, 1, memory_gib=100,
            cpu_v50=H.KnownCPU.x86_64_AMD_Generic, configs={
        "resnet50": _rn50(32, 13000, 16, 12200, 850000, 5400000),
        "retinanet": {"Offline": {"gpu_batch_size": {"retinanet": 2}, "offline_expected_qps": 220}},
        "bert": {"Offline": {"gpu_batch_size": {"bert": 16}, "offline_expected_qps": 1000}},
        "3d-unet": {"Offline": {"gpu_batch_size": {"3d-unet": 1}, "offline_expected_qps": 1.3}},
    }),
)


class _State:
    """What the process has loaded (the real code does this once, at import)."""

    installed = False
    system_confs: dict[str, H.SystemConfiguration] | None = None
    known_system: Any = None
    version = "v4.1"


def set_version(version: str) -> None:
    """The round of the emulated code (what differs: where custom systems come from, CPU matching)."""
    _State.version = version
    C.ConfigRegistry.validating = version != "v5.0"  # v5.0's register() has its validation commented out


#: where v5.0's system_list.py reads custom systems (relative to the working directory)
CUSTOM_LIST_JSON = "code/common/systems/custom_list.json"


def _custom_list_json(path: str) -> dict[str, H.SystemConfiguration]:
    """v5.0's custom systems: nvmitten Descriptions in JSON, read for what this emulator matches on
    (the GPUs: PCI id or name, memory within the tolerance, count)."""
    import json

    out = {}
    for key, desc in json.loads(open(path).read()).items():
        fields = desc["data"]["fields"]
        if "extras" not in fields:
            # what NVIDIA's loader hits on an entry without "extras" (typing.Any in its place)
            raise TypeError(f"argument of type '_AnyMeta' is not iterable (custom system {key})")
        layout: dict = {}
        for entry in fields.get("accelerators", {}).get("data", []):
            if entry["key.name"] != "GPU":
                continue
            for gpu in entry["value"]:
                g = gpu["data"]["fields"]
                vram = g.get("vram", {}).get("data", {})
                memory = H.MATCH_ANY
                if vram:
                    start = vram["start"]["data"]["num_bytes"]
                    memory = H.match_float_approximate(H.Memory(start, H.ByteSuffix.B))
                sm = g["compute_sm"].get("data", H.MATCH_ANY) if isinstance(g.get("compute_sm"), dict) \
                    else H.MATCH_ANY
                spec = H.GPU(g.get("name", H.MATCH_ANY), H.AcceleratorType.Discrete, memory, H.MATCH_ANY,
                             g.get("pci_id", H.MATCH_ANY), sm)
                layout[spec] = layout.get(spec, 0) + 1
        out[key] = H.SystemConfiguration(H.MATCH_ANY, H.MATCH_ANY, H.AcceleratorConfiguration(layout),
                                         numa_conf=None, system_id=key)
    return out


class _Namespaced(H.SystemConfiguration):
    """v5.0's KnownSystem is a namespace, not an Enum: members never alias each other."""

    __eq__ = object.__eq__
    __hash__ = object.__hash__


def _install() -> None:
    if _State.installed:
        return
    H.install({"HarnessType": C.HarnessType, "AccuracyTarget": C.AccuracyTarget,
               "PowerSetting": C.PowerSetting, "Benchmark": C.Benchmark, "Scenario": C.Scenario})
    error_names = {e.__name__: e for e in C.ERRORS}
    H.register_modules({"configs": {}, "configs.error": error_names,
                        "configs.configuration": _configuration_exports()})
    _State.installed = True


def _configuration_exports() -> dict[str, Any]:
    return {"ConfigRegistry": C.ConfigRegistry, "BenchmarkConfiguration": C.BenchmarkConfiguration,
            "HarnessType": C.HarnessType, "AccuracyTarget": C.AccuracyTarget, "PowerSetting": C.PowerSetting,
            "Benchmark": C.Benchmark, "Scenario": C.Scenario}


def custom_definition_path() -> str | None:
    return os.environ.get("MLPINF_CUSTOM_DEFINITION_PATH")


@contextmanager
def _restricted_import(path: str) -> Iterator[None]:
    """code.common.fix_sys_path.ScopedRestrictedImport: the definition dir first on sys.path, for a while."""
    saved = list(sys.path)
    sys.path[:] = [path, *saved]
    try:
        yield
    finally:
        sys.path[:] = saved


def system_confs() -> dict[str, H.SystemConfiguration]:
    """KnownSystem name -> description: the built-in systems, then custom_systems (system_list.py)."""
    if _State.system_confs is not None:
        return _State.system_confs
    _install()
    confs = {b.name: b.configuration(_State.version) for b in BUILTIN_SYSTEMS}
    root = custom_definition_path()
    if _State.version == "v5.0":
        # custom systems only from code/common/systems/custom_list.json; MLPINF_CUSTOM_DEFINITION_PATH is
        # read for custom configs only
        if os.path.exists(CUSTOM_LIST_JSON):
            for key, conf in _custom_list_json(CUSTOM_LIST_JSON).items():
                if key in confs:
                    raise KeyError(f"SystemEnum member {key} already exists")
                confs[key] = conf
        for key, conf in list(confs.items()):
            wrapped = _Namespaced(conf.host_cpu_conf, conf.host_mem_conf, conf.accelerator_conf,
                                  conf.numa_conf, conf.system_id)
            confs[key] = wrapped
    elif root is not None:
        if not os.path.exists(root):
            raise FileNotFoundError(f"MLPINF_CUSTOM_DEFINITION_PATH {root} does not exist.")
        with _restricted_import(root):
            if importlib.util.find_spec("custom_systems.custom_list") is not None:
                module = importlib.import_module("custom_systems.custom_list")
                confs.update(module.custom_systems)
    for key, conf in confs.items():
        if conf.system_id is None:
            conf.system_id = key
    _State.system_confs = confs
    _State.known_system = enum.Enum("KnownSystem", [(k, v) for k, v in confs.items()])
    C.ConfigRegistry.known_system_type = _State.known_system
    return confs


def known_system() -> Any:
    system_confs()
    return _State.known_system


@dataclass(frozen=True)
class Match:
    """The matched KnownSystem member."""

    member: Any

    @property
    def system_id(self) -> str:
        return self.member.value.system_id


def detect_system() -> tuple[Match | None, str]:
    """(matched system or None, description of the "detected" hardware)."""
    KnownSystem = known_system()
    system_id = os.environ.get("EMULATED_SYSTEM_ID", "").strip()
    if system_id:
        description = f"System(emulated id={system_id}, cpu=EmulatedCPU, accelerators=EmulatedGPU)"
        for member in KnownSystem:
            if system_id in (member.name, member.value.system_id):
                return Match(member), description
        return None, description
    hardware = os.environ.get("EMULATED_HARDWARE", "").strip()
    if not hardware:
        return None, "System(emulated id=<unset>, cpu=EmulatedCPU, accelerators=EmulatedGPU)"
    detected = H.read_hardware(hardware)
    for member in KnownSystem:  # first match wins: built-in systems come first
        if H.system_matches(member.value, detected):
            return Match(member), str(detected)
    return None, str(detected)


def load_configs(bench_name: str, scenario: str, field_names: tuple[str, ...]) -> None:
    """ConfigRegistry.load_configs: configs.<benchmark>.<Scenario>, then the custom configs."""
    KnownSystem = known_system()
    C.ConfigRegistry.field_names = field_names
    from .fields import applies

    C.ConfigRegistry.applies = applies
    C.ConfigRegistry.default_harness = {name: b.default_harness for name, b in BENCHMARKS.items()}
    base_module = f"configs.{bench_name}.{scenario}"
    if base_module not in sys.modules:
        _build_base_module(bench_name, scenario, KnownSystem)
    root = custom_definition_path()
    if root is None:
        return
    if not os.path.exists(root):
        raise FileNotFoundError(f"MLPINF_CUSTOM_DEFINITION_PATH {root} does not exist.")
    custom_module = f"custom_configs.{bench_name}.{scenario}.custom"
    try:
        with _restricted_import(root):
            if importlib.util.find_spec(custom_module) is not None:
                importlib.import_module(custom_module)
    except ModuleNotFoundError:  # as in the real load_configs: no such module, no custom configs
        return


def _build_base_module(bench_name: str, scenario: str, KnownSystem: Any) -> None:
    """configs/<benchmark>/<Scenario>/__init__.py: the scenario's base config and the built-in configs."""
    benchmark = C.Benchmark(bench_name)
    base = C.scenario_base_config(benchmark, scenario)
    module_name = f"configs.{bench_name}.{scenario}"
    exports = {**_configuration_exports(), "KnownSystem": KnownSystem, base.__name__: base}
    H.register_modules({f"configs.{bench_name}": {}, module_name: exports})
    bench = BENCHMARKS[bench_name]
    harness = C.HarnessType(bench.default_harness)
    for builtin in BUILTIN_SYSTEMS:
        values = builtin.configs.get(bench_name, {}).get(scenario)
        if values is None or builtin.name not in KnownSystem.__members__:
            continue
        member = KnownSystem[builtin.name]
        if member.value.system_id != builtin.system_id:
            continue  # a custom system redefined this name: its own configs apply
        cls = type(builtin.name, (base,),
                   {"system": member, "__module__": module_name, **values})
        C.ConfigRegistry.register(harness, C.AccuracyTarget.k_99, C.PowerSetting.MaxP)(cls)
        exports[cls.__name__] = cls
        if bench.high_accuracy:
            high = type(f"{cls.__name__}_HighAccuracy", (cls,), {"__module__": module_name})
            C.ConfigRegistry.register(harness, C.AccuracyTarget.k_99_9, C.PowerSetting.MaxP)(high)
            exports[high.__name__] = high
    H.register_modules({module_name: exports})


def get_config(match: Match, bench_name: str, scenario: str, harness_type: str, accuracy_target: float,
               power_setting: str) -> Config | None:
    """ConfigRegistry.get: the fields of the config registered for this system and workload setting."""
    config = C.ConfigRegistry.get(C.Benchmark(bench_name), C.Scenario(scenario), match.member,
                                  C.HarnessType(harness_type), C.AccuracyTarget(accuracy_target),
                                  C.PowerSetting(power_setting))
    if config is None:
        return None
    return {k: v for k, v in config.as_dict().items() if k not in C.IDENTIFIERS}
