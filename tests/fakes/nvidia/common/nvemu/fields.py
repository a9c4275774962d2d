"""RUN_ARGS flags of code.main, parsed like NVIDIA's code/common/fields.py + arguments.py do it.

- argparse with allow_abbrev=False and parse_known_args: unknown flags are silently dropped;
- booleans are store_true: a flag can switch a bool on; False counts as "unset" when merging with the
  config, so a bool a config sets cannot be switched off; ``--use_graphs=false`` is an argparse usage
  error (exit 2), as with any store_true action;
- priority when merging: RUN_ARGS > registered config value > field default.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

# (name, type, help). type: str, int, float, bool or "batch" (component:bs[,component:bs]).
MAIN_FIELDS: list[tuple[str, Any, str]] = [
    ("action", str, "generate_conf_files|generate_engines|calibrate|run_harness|run_audit_harness"),
    ("benchmarks", str, "comma-separated benchmarks (default: all)"),
    ("scenarios", str, "comma-separated scenarios (default: all)"),
    ("config_ver", str, "legacy: default,high_accuracy,triton,maxq,all,... (overrides the three below)"),
    ("harness_type", str, "auto|lwis|custom|triton|hetero|triton_unified"),
    ("accuracy_target", float, "0.99 or 0.999"),
    ("power_setting", str, "MaxP or MaxQ"),
    ("test_mode", str, "PerformanceOnly|AccuracyOnly|SubmissionRun|FindPeakPerformance"),
    ("log_dir", str, "root of the log tree (default: $LOG_DIR, else build/logs/<timestamp>)"),
    ("system_name", str, "name used in the log tree instead of <system_id>_TRT"),
    ("audit_test", str, "TEST01|TEST04|TEST05|TEST06"),
    ("no_audit_verify", bool, "skip the compliance verification step"),
    ("no_gpu", bool, "do not use GPUs"),
    ("gpu_only", bool, "do not use DLAs"),
    ("no_child_process", bool, "build engines in this process"),
    ("verbose", bool, "verbose logging"),
    ("profile", str, "profiler (internal)"),
    ("power", bool, "measure power (internal)"),
]

HARNESS_FIELDS: list[tuple[str, Any, str]] = [
    ("min_duration", int, "LoadGen min_duration (ms)"),
    ("max_duration", int, "LoadGen max_duration (ms)"),
    ("min_query_count", int, "LoadGen min_query_count"),
    ("max_query_count", int, "LoadGen max_query_count"),
    ("performance_sample_count", int, "QSL performance sample count"),
    ("performance_sample_count_override", int, "QSL performance sample count (wins)"),
    ("offline_expected_qps", float, "Offline target QPS"),
    ("server_target_qps", float, "Server target QPS"),
    ("server_target_qps_adj_factor", float, "multiplier on server_target_qps (audit runs)"),
    ("server_target_latency_ns", int, "Server latency bound (ns)"),
    ("server_target_latency_percentile", float, "Server latency percentile"),
    ("single_stream_expected_latency_ns", int, "SingleStream expected latency (ns)"),
    ("single_stream_target_latency_percentile", float, "SingleStream percentile"),
    ("multi_stream_expected_latency_ns", int, "MultiStream expected latency (ns)"),
    ("multi_stream_samples_per_query", int, "MultiStream samples per query"),
    ("multi_stream_target_latency_percentile", float, "MultiStream percentile"),
    ("qsl_rng_seed", int, "LoadGen seed"),
    ("sample_index_rng_seed", int, "LoadGen seed"),
    ("schedule_rng_seed", int, "LoadGen seed"),
    ("accuracy_log_rng_seed", int, "LoadGen seed"),
    ("user_conf_path", str, "explicit LoadGen user.conf"),
    ("mlperf_conf_path", str, "explicit LoadGen mlperf.conf (embedded in the wheel since 4.1.7)"),
]

TUNING_FIELDS: list[tuple[str, Any, str]] = [
    ("gpu_batch_size", "batch", "component:bs[,component:bs]"),
    ("dla_batch_size", "batch", "component:bs[,component:bs]"),
    ("gpu_copy_streams", int, ""),
    ("gpu_inference_streams", int, ""),
    ("use_graphs", bool, "CUDA graphs"),
    ("use_deque_limit", bool, ""),
    ("deque_timeout_usec", int, ""),
    ("use_cuda_thread_per_device", bool, ""),
    ("run_infer_on_copy_streams", bool, ""),
    ("start_from_device", bool, ""),
    ("end_on_device", bool, ""),
    ("workspace_size", int, ""),
    ("precision", str, ""),
    ("input_dtype", str, ""),
    ("input_format", str, ""),
    ("devices", str, ""),
    ("numa_config", str, ""),
    ("soft_drop", float, "BERT"),
    ("graphs_max_seqlen", int, "BERT"),
    ("use_small_tile_gemm_plugin", bool, "BERT"),
    ("embedding_weights_on_gpu_part", float, "DLRMv2"),
    ("num_staging_threads", int, "DLRMv2"),
    ("tensor_parallelism", int, "LLM"),
    ("pipeline_parallelism", int, "LLM"),
    ("use_fp8", bool, "LLM"),
    ("enable_sort", bool, "LLM"),
    ("num_sort_segments", int, "LLM"),
    ("kvcache_free_gpu_mem_frac", float, "LLM"),
    ("vboost_slider", int, "Hopper vboost"),
]

# code.common.utils batch-size string (v4.1+): one or more component:bs pairs.
_BATCH_RE = re.compile(r"^[\w.\-]+:\d+(,[\w.\-]+:\d+)*$")


def parse_batch_size(value: str | int | dict, integer_format: bool) -> dict[str, int] | int:
    if isinstance(value, dict):
        return value
    if integer_format:  # v4.0 and earlier
        return int(value)
    text = str(value)
    if not _BATCH_RE.match(text):
        raise ValueError(f"Invalid batch size string '{text}': expected <component>:<batch size>"
                         f"[,<component>:<batch size>] (e.g. resnet50:2048)")
    out: dict[str, int] = {}
    for item in text.split(","):
        comp, bs = item.split(":")
        out[comp] = int(bs)
    return out


def all_fields(test_run_flag: str) -> list[tuple[str, Any, str]]:
    return [*MAIN_FIELDS, *HARNESS_FIELDS,
            (test_run_flag, bool, "short run: min_duration 60000 ms, min_query_count 1 unless given"),
            *TUNING_FIELDS]


def build_parser(test_run_flag: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description, allow_abbrev=False,
                                     formatter_class=argparse.RawTextHelpFormatter)
    for name, typ, help_text in all_fields(test_run_flag):
        if typ is bool:
            parser.add_argument(f"--{name}", action="store_true", help=help_text)
        elif typ == "batch":
            parser.add_argument(f"--{name}", type=str, help=help_text)
        else:
            parser.add_argument(f"--{name}", type=typ, help=help_text)
    return parser


def parse_main_args(argv: list[str], test_run_flag: str, description: str) -> tuple[dict, list[str]]:
    ns, unknown = build_parser(test_run_flag, description).parse_known_args(argv)
    return vars(ns), unknown


# Where NVIDIA's code reads a field (code/common/fields.py, each Field's supported_* lists), as the
# conformance tests observed it on the v4.1 tree: (actions, benchmarks, scenarios, systems); None: any.
# Every other field the emulator knows applies everywhere. A flag for a field that does not apply is
# dropped without a word, as get_effective_values builds its parser from the applicable fields only.
_ENGINE, _HARNESS = ("generate_engines",), ("run_harness", "run_audit_harness", "generate_conf_files")
_LWIS = ("resnet50", "retinanet", "3d-unet")
START_FROM_DEVICE = ("H200_SXM_141GBx1", "H200_SXM_141GBx8", "H100_SXM_80GBx1", "H100_SXM_80GBx8")
APPLIES: dict[str, tuple] = {
    "workspace_size": (_ENGINE, None, None, None),
    "min_duration": (_HARNESS, None, None, None),
    "max_duration": (_HARNESS, None, None, None),
    "min_query_count": (_HARNESS, None, None, None),
    "max_query_count": (_HARNESS, None, None, None),
    "performance_sample_count": (_HARNESS, None, None, None),
    "server_num_issue_query_threads": (_HARNESS, None, ("Server",), None),
    "offline_expected_qps": (_HARNESS, None, ("Offline",), None),
    "server_target_qps": (_HARNESS, None, ("Server",), None),
    "server_target_qps_adj_factor": (_HARNESS, None, ("Server",), None),
    "server_target_latency_ns": (_HARNESS, None, ("Server",), None),
    "single_stream_expected_latency_ns": (_HARNESS, None, ("SingleStream",), None),
    "multi_stream_expected_latency_ns": (_HARNESS, None, ("MultiStream",), None),
    "multi_stream_samples_per_query": (_HARNESS, None, ("MultiStream",), None),
    "use_deque_limit": (_HARNESS, _LWIS, None, None),
    "use_cuda_thread_per_device": (_HARNESS, _LWIS, None, None),
    "deque_timeout_usec": (_HARNESS, (*_LWIS, "bert"), None, None),
    "soft_drop": (_HARNESS, ("bert",), None, None),
    "use_small_tile_gemm_plugin": ((*_ENGINE, *_HARNESS), ("bert",), None, None),
    "graphs_max_seqlen": (_ENGINE, ("bert",), None, None),
    "start_from_device": (_HARNESS, None, None, START_FROM_DEVICE),
    "end_on_device": (_HARNESS, ("3d-unet",), None, ()),
}


def applies(name: str, action: str | None, benchmark: str, scenario: str, system: str | None) -> bool:
    """Does NVIDIA's code read ``name`` for this action (None: in a config), benchmark, scenario, system?"""
    rule = APPLIES.get(name)
    if rule is None:
        return True
    actions, benchmarks, scenarios, systems = rule
    return ((action is None or action in actions) and (benchmarks is None or benchmark in benchmarks)
            and (scenarios is None or scenario in scenarios) and (systems is None or system in systems))


def effective_values(cli: dict, config: dict, fields: list[tuple[str, Any, str]],
                     integer_batch: bool, applicable: Any = None) -> dict:
    """RUN_ARGS > config > unset. A False bool on the command line counts as unset. ``applicable``:
    the fields NVIDIA reads here (others, from the config or the command line, are left out)."""
    out = {k: v for k, v in config.items() if applicable is None or applicable(k)}
    for name, typ, _ in fields:
        if applicable is not None and not applicable(name):
            continue
        value = cli.get(name)
        if value is None or (typ is bool and value is False):
            continue
        if typ == "batch":
            value = parse_batch_size(value, integer_batch)
        out[name] = value
    if "gpu_batch_size" in out:
        out["gpu_batch_size"] = parse_batch_size(out["gpu_batch_size"], integer_batch)
    return out
