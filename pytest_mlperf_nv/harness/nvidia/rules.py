"""NVIDIA's own rules for its fields and configs, as data, each with the place in NVIDIA's code it comes from.

NVIDIA's ``code.main`` reads a flag only where the field applies (``code/common/fields.py``: each
``Field`` lists its benchmarks, scenarios, actions and systems; ``get_effective_values`` builds its
parser from the applicable fields only and drops every other flag without a word). Its config registry
refuses a config that declares a field that does not apply (``ConfigFieldInvalidError``). This module
carries those rules for the fields the plugin emits, and the configs NVIDIA registers for the systems
the shipped GPU profiles stand for, so that a suite is checked at collection with NVIDIA's reason.

The tables were read from mlcommons/inference_results_v4.1 closed/NVIDIA and are checked against the
real code by tests/conformance (``MLPERF_NV_NVIDIA_CODE``). v5.0's ``code/common/fields.py`` was not
available to check; v5.0 uses the v4.1 field rules here (its config registry does not validate configs:
``ConfigRegistry.register`` has the validation call commented out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FIELDS_PY = "code/common/fields.py"
#: code/common/fields.py _LWIS_BENCHMARKS
LWIS = ("resnet50", "retinanet", "3d-unet")
ENGINE = ("generate_engines",)
HARNESS = ("run_harness",)  # and generate_conf_files, run_audit_harness (_HARNESS_ACTIONS)

#: code/common/systems/system_list.py SystemClassifications.start_from_device_enabled (v4.1)
START_FROM_DEVICE_SYSTEMS = (
    "H200_SXM_141GB_CTSx1", "H200_SXM_141GB_CTSx8", "H200_SXM_141GBx1", "H200_SXM_141GBx8",
    "H100_SXM_80GBx1", "H100_SXM_80GBx8", "A100_SXM_80GBx1", "A100_SXM_80GBx8", "A100_SXM_80GB_MIG_1x1g_10gb",
    "A100_SXM4_40GBx1", "A100_SXM4_40GBx8", "A100_SXM4_40GB_MIG_1x1g_5gb", "A100_SXM_80GB_ARMx1",
    "A100_SXM_80GB_ARMx8", "GH200_96GB_ARMx1", "GH200_144GB_ARMx1", "GH200_144GB_ARMx2")
#: SystemClassifications.end_on_device_enabled (v4.1)
END_ON_DEVICE_SYSTEMS = (
    "A100_SXM_80GBx1", "A100_SXM_80GBx8", "A100_SXM_80GB_MIG_1x1g_10gb", "A100_SXM4_40GBx1",
    "A100_SXM4_40GBx8", "A100_SXM4_40GB_MIG_1x1g_5gb", "A100_SXM_80GB_ARMx1", "A100_SXM_80GB_ARMx8",
    "GH200_96GB_ARMx1")


@dataclass(frozen=True)
class FieldRule:
    """Where NVIDIA's code reads one field (None: everywhere)."""

    name: str
    actions: tuple[str, ...]
    benchmarks: tuple[str, ...] | None = None  # NVIDIA's Benchmark names (bert, 3d-unet, dlrm-v2, ...)
    scenarios: tuple[str, ...] | None = None
    systems: tuple[str, ...] | None = None  # KnownSystem names NVIDIA lists
    systems_rule: str = ""  # the SystemClassifications method that lists them

    def where(self) -> str:
        """NVIDIA's rule in words, for messages."""
        parts = []
        if self.benchmarks is not None:
            parts.append(f"only for {', '.join(self.benchmarks)}")
        if self.scenarios is not None:
            parts.append(f"only in {', '.join(self.scenarios)}")
        if self.systems is not None:
            parts.append(f"only on the systems SystemClassifications.{self.systems_rule} lists")
        parts.append(f"at {' and '.join(self.actions)}")
        return f"NVIDIA's code reads {self.name} {', '.join(parts)} ({FIELDS_PY}, Fields.{self.name})"


_RULES = (
    FieldRule("gpu_batch_size", ENGINE + HARNESS),
    FieldRule("gpu_copy_streams", ENGINE + HARNESS),
    FieldRule("gpu_inference_streams", ENGINE + HARNESS),
    FieldRule("use_graphs", ENGINE + HARNESS),
    FieldRule("workspace_size", ENGINE),
    FieldRule("offline_expected_qps", HARNESS, scenarios=("Offline",)),
    FieldRule("server_target_qps", HARNESS, scenarios=("Server",)),
    FieldRule("server_target_qps_adj_factor", HARNESS, scenarios=("Server",)),
    FieldRule("server_target_latency_ns", HARNESS, scenarios=("Server",)),
    FieldRule("server_num_issue_query_threads", HARNESS, scenarios=("Server",)),
    FieldRule("single_stream_expected_latency_ns", HARNESS, scenarios=("SingleStream",)),
    FieldRule("multi_stream_expected_latency_ns", HARNESS, scenarios=("MultiStream",)),
    FieldRule("multi_stream_samples_per_query", HARNESS, scenarios=("MultiStream",)),
    FieldRule("min_duration", HARNESS),
    FieldRule("max_duration", HARNESS),
    FieldRule("min_query_count", HARNESS),
    FieldRule("max_query_count", HARNESS),
    FieldRule("performance_sample_count", HARNESS),
    FieldRule("use_deque_limit", HARNESS, benchmarks=LWIS),
    FieldRule("use_cuda_thread_per_device", HARNESS, benchmarks=LWIS),
    FieldRule("deque_timeout_usec", HARNESS, benchmarks=(*LWIS, "bert")),
    FieldRule("soft_drop", HARNESS, benchmarks=("bert",)),
    FieldRule("use_small_tile_gemm_plugin", ENGINE + HARNESS, benchmarks=("bert",)),
    FieldRule("graphs_max_seqlen", ENGINE, benchmarks=("bert",)),
    FieldRule("start_from_device", HARNESS, systems=START_FROM_DEVICE_SYSTEMS,
              systems_rule="start_from_device_enabled"),
    FieldRule("end_on_device", HARNESS, benchmarks=("3d-unet",), systems=END_ON_DEVICE_SYSTEMS,
              systems_rule="end_on_device_enabled"),
)
RULES: dict[str, FieldRule] = {r.name: r for r in _RULES}
#: knob names that are no field of NVIDIA's code at all (v4.1), with what the plugin tells the user
NOT_FIELDS = {
    "num_warmups": "num_warmups is no field of NVIDIA's v4.1 code (code/common/fields.py has none; its "
                   "harnesses "
                   "warm up on their own), so --num_warmups would be dropped without a word",
}


def inapplicable(field: str, benchmark: str, scenario: str, system: str | None,
                 action: str | None = None) -> str | None:
    """Why NVIDIA's code does not read ``field`` here (None when it does).

    ``benchmark`` is NVIDIA's name (the --gpu_batch_size component: bert, 3d-unet, ...); ``system`` a
    KnownSystem name, or None for a generated custom system (which no NVIDIA list names); ``action``
    one of generate_engines / run_harness, or None for "at any action" (what a config may declare).
    """
    if field in NOT_FIELDS:
        return NOT_FIELDS[field]
    rule = RULES.get(field)
    if rule is None:
        return None
    if action is not None and action not in rule.actions:
        return rule.where()
    if rule.benchmarks is not None and benchmark not in rule.benchmarks:
        return rule.where()
    if rule.scenarios is not None and scenario not in rule.scenarios:
        return rule.where()
    if rule.systems is not None and system not in rule.systems:
        return rule.where() + (f"; {system} is not one of them" if system else
                               "; a generated custom system is not one of them")
    return None


# ---------------------------------------------------------------------------------------------------------
# configs

#: GPU profile -> NVIDIA's KnownSystem prefix (the system is <prefix>x<count>)
PROFILE_SYSTEMS = {"h100": "H100_SXM_80GB", "h200": "H200_SXM_141GB", "l4": "L4", "a100-sxm": "A100_SXM_80GB",
                   "a100-pcie": "A100_PCIe_80GB"}
#: not t4: NVIDIA's KnownGPU.T4 asks for 16 or 32 GiB within 5 % and a T4 reports 15360 MiB, so NVIDIA's
#: code does not match a T4 machine (tests/conformance shows it on the t4x1 snapshot)

_ALL = ("Offline", "Server", "SingleStream", "MultiStream")
_BOTH = ("k_99", "k_99_9")
_K99 = ("k_99",)


def _table(**entries: dict[str, tuple[str, ...]]) -> dict[tuple[str, str], tuple[str, ...]]:
    out = {}
    for name, scenarios in entries.items():
        benchmark = name.replace("_", "-").replace("unet3d", "3d-unet").replace("llama2", "llama2-70b")
        for scenario, accuracies in scenarios.items():
            out[(benchmark, scenario)] = accuracies
    return out


#: (benchmark, scenario) -> accuracy targets with a config (harness type LWIS/Custom, MaxP), per system,
#: as configs/<benchmark>/<Scenario>/__init__.py register them (v4.1)
_OS = ("Offline", "Server")
_OSS = ("Offline", "Server", "SingleStream")
_O_SS = ("Offline", "SingleStream")
_O_SS_MS = ("Offline", "SingleStream", "MultiStream")
CONFIGS_V41: dict[str, dict[tuple[str, str], tuple[str, ...]]] = {
    "H100_SXM_80GBx1": _table(
        resnet50=dict.fromkeys(_ALL, _K99), retinanet=dict.fromkeys(_ALL, _K99),
        bert=dict.fromkeys(_OSS, _BOTH), unet3d=dict.fromkeys(_O_SS, _BOTH),
        dlrm_v2=dict.fromkeys(_OS, _BOTH), gptj=dict.fromkeys(_OSS, _BOTH)),
    "H200_SXM_141GBx1": _table(
        resnet50=dict.fromkeys(_OS, _K99), retinanet=dict.fromkeys(_OS, _K99), bert=dict.fromkeys(_OS, _BOTH),
        unet3d={"Offline": _BOTH}, dlrm_v2=dict.fromkeys(_OS, _BOTH), gptj=dict.fromkeys(_OS, _BOTH),
        llama2=dict.fromkeys(_OS, _BOTH)),
    "L4x1": _table(
        resnet50=dict.fromkeys(_ALL, _K99), retinanet=dict.fromkeys(_ALL, _K99),
        bert=dict.fromkeys(_OSS, _BOTH), unet3d=dict.fromkeys(_O_SS, _BOTH),
        dlrm_v2=dict.fromkeys(_OS, _BOTH), gptj=dict.fromkeys(_OSS, _BOTH)),
    "A100_SXM_80GBx1": _table(
        resnet50=dict.fromkeys(_O_SS_MS, _K99), retinanet=dict.fromkeys(_O_SS_MS, _K99),
        bert={"Offline": _BOTH, "Server": ("k_99_9",), "SingleStream": _BOTH},
        unet3d=dict.fromkeys(_O_SS, _BOTH)),
    "A100_PCIe_80GBx1": _table(
        resnet50=dict.fromkeys(_O_SS_MS, _K99), retinanet=dict.fromkeys(_O_SS_MS, _K99),
        bert=dict.fromkeys(_O_SS, _BOTH), unet3d=dict.fromkeys(_O_SS, _BOTH)),
    "T4x1": _table(resnet50=dict.fromkeys(("SingleStream", "MultiStream"), _K99),
                   bert={"SingleStream": _BOTH}, unet3d={"SingleStream": _BOTH}),
}
CONFIGS = {"v4.1": CONFIGS_V41}


def profile_system(profile: str | None, count: int) -> str | None:
    """The KnownSystem a GPU profile stands for (None: a GPU NVIDIA's code does not know)."""
    prefix = PROFILE_SYSTEMS.get(profile or "")
    return f"{prefix}x{count}" if prefix else None


def has_config(version: str, system: str, benchmark: str, scenario: str, accuracy: str) -> bool | None:
    """Does NVIDIA register a config for this workload on ``system``? None: not known to this table."""
    table = CONFIGS.get(version, {}).get(system)
    if table is None:
        return None
    return accuracy in table.get((benchmark, scenario), ())


def profile_fields(gpu: str, facts: Any, benchmark: str, scenario: str) -> dict[str, Any]:
    """NVIDIA config fields a GPU profile carries outside the knob vocabulary (``nvidia_flags``:
    use_cuda_thread_per_device, graphs_max_seqlen, server_num_issue_query_threads, ...) for a generated
    config on a GPU NVIDIA does not know; none on a GPU it knows (its own config applies)."""
    from ...systems.profiles import ProfileError, get_profile, resolve_profile

    try:
        profile = resolve_profile("auto", facts)[0] if gpu == "auto" else get_profile(gpu)
    except ProfileError:
        return {}
    if profile.name in PROFILE_SYSTEMS:
        return {}
    return dict(profile.nvidia_flags(benchmark, scenario))
