"""The emulated ``python3 -m code.main``: actions, log tree, metadata.json, failure modes.

Each version's code/main.py calls :func:`main` with its :class:`Profile`. See ../../README.md.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import fields as F
from .constants import (
    ACCURACY_TARGETS,
    AUDIT_TESTS,
    BENCHMARKS,
    HARNESS_TYPES,
    LEGACY_CONFIG_VERS,
    LLM_SCENARIO_METRIC_KEYS,
    POWER_SETTINGS,
    QUERY_METRIC_CONSTRAINTS,
    SCENARIO_METRIC_KEYS,
    SCENARIOS,
    TEST_MODES,
    Benchmark,
    match_benchmark,
    match_scenario,
    workload_shortname,
)
from .systems import detect_system, get_config, load_configs

log = logging.getLogger("nvemu")
COMMON_DIR = Path(__file__).resolve().parent.parent
ACTIONS = ("generate_conf_files", "generate_engines", "calibrate", "run_harness", "run_audit_harness")
FAILURES = ("engine_build", "missing_dataset", "invalid", "accuracy", "harness_crash")


@dataclass(frozen=True)
class Profile:
    """What differs between emulated code versions; every difference is listed here."""

    version: str  # "v4.1"
    test_run_flag: str  # "test_run" (v4.1, v5.0) or "fast" (v4.0)
    integer_batch_size: bool  # v4.0: --gpu_batch_size=<int>; v4.1+: component:bs
    benchmarks: tuple[str, ...]  # members of this version's Benchmark enum
    tensorrt_version: str
    loadgen_series: str  # LoadGen release this round's code was built against (informational)


class HarnessError(RuntimeError):
    pass


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[%(asctime)s %(filename)s:%(lineno)d %(levelname)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def _failure() -> str | None:
    value = os.environ.get("EMULATED_FAILURE", "").strip()
    if value and value not in FAILURES:
        log.warning(f"[emulator] unknown EMULATED_FAILURE={value!r} ignored (known: {', '.join(FAILURES)})")
        return None
    return value or None


def _workload_settings(bench: Benchmark, args: dict) -> list[tuple[str, float, str]]:
    """[(harness_type, accuracy_target, power_setting)] as main.py builds WorkloadSettings."""
    config_ver = args.get("config_ver")
    if config_ver:
        names = config_ver.split(",")
        if "default" in names:
            names = ["default"] + [n for n in names if n != "default"]
        if "all" in names:
            names = list(LEGACY_CONFIG_VERS)
        out = []
        for name in names:
            if name not in LEGACY_CONFIG_VERS:
                raise ValueError(f"Invalid config_ver '{name}'")
            harness, acc, power = LEGACY_CONFIG_VERS[name]
            if acc == 0.999 and not bench.high_accuracy:
                continue
            out.append((harness or bench.default_harness, acc, power))
        return out
    harness = args.get("harness_type") or "auto"
    if harness == "auto":
        harness = bench.default_harness
    if harness not in HARNESS_TYPES:
        raise ValueError(f"Invalid harness_type '{harness}'")
    acc = args.get("accuracy_target")
    acc = 0.99 if acc is None else float(acc)
    if acc not in ACCURACY_TARGETS:
        raise ValueError(f"{acc} is not a valid AccuracyTarget")
    power = args.get("power_setting") or "MaxP"
    if power not in POWER_SETTINGS:
        raise ValueError(f"'{power}' is not a valid PowerSetting")
    return [(harness, acc, power)]


class Workload:
    """One (benchmark, scenario, workload setting) with its effective configuration."""

    def __init__(self, profile: Profile, args: dict, system_id: str, bench: Benchmark, scenario: str,
                 setting: tuple[str, float, str], config: dict):
        self.profile = profile
        self.args = args
        self.system_id = system_id
        self.bench = bench
        self.scenario = scenario
        self.harness_type, self.accuracy_target, self.power_setting = setting
        self.shortname = workload_shortname(*setting)
        fields = F.all_fields(profile.test_run_flag)
        action = args.get("action")
        system_name = system_name_of(system_id)
        self.dropped = sorted(name for name, _, _ in fields if args.get(name) not in (None, False)
                              and not F.applies(name, action, bench.name, scenario, system_name))
        self.conf = F.effective_values(
            args, config, fields, profile.integer_batch_size,
            applicable=lambda name: F.applies(name, action, bench.name, scenario, system_name_of(system_id)))
        self.conf.update({
            "benchmark": bench.name, "scenario": scenario, "system_id": system_id,
            "config_ver": self.shortname,
            "accuracy_level": "99.9%" if self.accuracy_target == 0.999 else "99%",
            "optimization_level": "plugin-enabled", "inference_server": self.harness_type,
        })
        self.conf.setdefault("precision", "fp16" if (bench.name == "bert" and self.accuracy_target == 0.999)
                             else bench.precision)
        self.conf.setdefault("input_dtype", "int8" if self.conf["precision"] == "int8" else "fp16")
        self.conf.setdefault("log_dir", args.get("log_dir") or os.environ.get("LOG_DIR")
                             or os.path.join("build", "logs", time.strftime("%Y.%m.%d-%H.%M.%S")))
        self.conf["log_dir"] = args.get("log_dir") or self.conf["log_dir"]

    # --- names -------------------------------------------------------------------------------------
    @property
    def full_name(self) -> str:
        return self.bench.full_name(self.accuracy_target)

    @property
    def system_name(self) -> str:
        override = self.args.get("system_name")
        if override:
            return override
        name = f"{self.system_id}_TRT"
        if "maxq" in self.shortname.lower():
            name += "_MaxQ"
        if "hetero" in self.shortname.lower():
            name += "_HeteroMultiUse"
        return name

    @property
    def config_name(self) -> str:
        return "-".join([self.system_name, self.shortname, self.scenario])

    def batch_sizes(self) -> dict[str, int]:
        bs = self.conf.get("gpu_batch_size")
        if bs is None:
            return {}
        if isinstance(bs, int):
            return {self.bench.components[0]: bs}
        return dict(bs)

    def engine_dir(self) -> Path:
        return Path("build") / "engines" / self.system_id / self.bench.name / self.scenario

    def engine_paths(self) -> list[Path]:
        return [self.engine_dir() / (f"{self.bench.name}-{self.scenario}-gpu-{comp}-b{bs}-"
                                     f"{self.conf['precision']}.{self.shortname}.plan")
                for comp, bs in self.batch_sizes().items()]

    def log_dir(self, root: str | None = None) -> Path:
        if os.environ.get("MLPERF_LOADGEN_LOGS_DIR"):
            return Path(os.environ["MLPERF_LOADGEN_LOGS_DIR"])
        return Path(root or self.conf["log_dir"]) / self.system_name / self.full_name / self.scenario

    # --- LoadGen settings ----------------------------------------------------------------------------
    def loadgen_values(self, failure: str | None) -> tuple[dict, dict]:
        """(values written to the generated user.conf, explicit command-line overrides)."""
        scenario_key = {"Offline": "offline_expected_qps", "Server": "server_target_qps",
                        "SingleStream": "single_stream_expected_latency_ns",
                        "MultiStream": "multi_stream_expected_latency_ns"}[self.scenario]
        if self.conf.get(scenario_key) is None:
            raise ValueError(f"Missing required key {scenario_key}")
        attr_map = {
            "min_duration": "min_duration_ms", "max_duration": "max_duration_ms",
            "min_query_count": "min_query_count", "max_query_count": "max_query_count",
            "offline_expected_qps": "offline_expected_qps", "server_target_qps": "server_target_qps",
            "server_target_latency_ns": "server_target_latency_ns",
            "server_target_latency_percentile": "server_target_latency_percentile",
            "single_stream_expected_latency_ns": "single_stream_expected_latency_ns",
            "single_stream_target_latency_percentile": "single_stream_target_latency_percentile",
            "multi_stream_expected_latency_ns": "multi_stream_expected_latency_ns",
            "multi_stream_samples_per_query": "multi_stream_samples_per_query",
            "multi_stream_target_latency_percentile": "multi_stream_target_latency_percentile",
            "qsl_rng_seed": "qsl_rng_seed", "sample_index_rng_seed": "sample_index_rng_seed",
            "schedule_rng_seed": "schedule_rng_seed", "accuracy_log_rng_seed": "accuracy_log_rng_seed",
        }
        relevant = {k: v for k, v in attr_map.items()
                    if not (k.startswith(("offline", "server", "single_stream", "multi_stream"))
                            and not k.startswith(_scenario_prefix(self.scenario)))}
        values: dict[str, Any] = {}
        overrides: dict[str, Any] = {}
        for flag, attr in relevant.items():
            value = self.conf.get(flag)
            if value is None:
                continue
            values[attr] = value
            if self.args.get(flag) is not None:
                overrides[attr] = value
        if self.scenario == "Server" and self.conf.get("server_target_qps_adj_factor"):
            values["server_target_qps"] = overrides["server_target_qps"] = (
                float(self.conf["server_target_qps"]) * float(self.conf["server_target_qps_adj_factor"]))
        # MLPINF-853: --test_run -> min_duration 60000 and min_query_count 1 (3D-UNet 129) unless given.
        if self.args.get(self.profile.test_run_flag):
            for attr, default in (("min_duration_ms", 60000),
                                  ("min_query_count", 129 if self.bench.name == "3d-unet" else 1)):
                if attr not in overrides:
                    values[attr] = overrides[attr] = default
        if failure == "invalid":  # settings LoadGen will judge INVALID with an instant SUT
            forced = {"Offline": {"offline_expected_qps": 1.0, "min_query_count": 1},
                      "Server": {"server_target_latency_ns": 1},
                      "SingleStream": {"single_stream_expected_latency_ns": 10**10},
                      "MultiStream": {"multi_stream_expected_latency_ns": 10**10}}[self.scenario]
            values.update(forced)
            overrides.update(forced)
        return values, overrides

    def qsl_sizes(self) -> tuple[int, int]:
        cap = int(os.environ.get("EMULATED_QSL_SIZE", "1024"))
        total = max(1, min(self.bench.dataset_size, cap))
        perf = (self.conf.get("performance_sample_count_override")
                or self.conf.get("performance_sample_count") or self.bench.perf_sample_count)
        return total, max(1, min(int(perf), total))


def system_name_of(system_id: str) -> str | None:
    """The KnownSystem name of a system id (the lists NVIDIA's field rules name are KnownSystem names)."""
    from .systems import known_system

    for member in known_system():
        if member.value.system_id == system_id:
            return member.name
    return None


def _scenario_prefix(scenario: str) -> str:
    return {"Offline": "offline", "Server": "server", "SingleStream": "single_stream",
            "MultiStream": "multi_stream"}[scenario]


_CONF_KEYS = {  # TestSettings attribute -> (user.conf key, scale)
    "offline_expected_qps": ("target_qps", 1), "server_target_qps": ("target_qps", 1),
    "server_target_latency_ns": ("target_latency", 1e-6),
    "server_target_latency_percentile": ("target_latency_percentile", 100),
    "single_stream_expected_latency_ns": ("target_latency", 1e-6),
    "single_stream_target_latency_percentile": ("target_latency_percentile", 100),
    "multi_stream_expected_latency_ns": ("target_latency", 1e-6),
    "multi_stream_target_latency_percentile": ("target_latency_percentile", 100),
    "multi_stream_samples_per_query": ("samples_per_query", 1),
    "min_duration_ms": ("min_duration", 1), "max_duration_ms": ("max_duration", 1),
    "min_query_count": ("min_query_count", 1), "max_query_count": ("max_query_count", 1),
}


def _user_conf_text(model: str, scenario: str, values: dict) -> str:
    lines = [f"# Generated by the NVIDIA code emulator for {model} {scenario}"]
    for attr, value in values.items():
        if attr not in _CONF_KEYS:
            continue
        key, scale = _CONF_KEYS[attr]
        scaled = value * scale if scale != 1 else value
        if isinstance(scaled, float) and scaled.is_integer():
            scaled = int(scaled)
        lines.append(f"{model}.{scenario}.{key} = {scaled}")
    return "\n".join(lines) + "\n"


def _read_detail(path: Path) -> dict:
    out: dict[str, Any] = {}
    if not path.is_file():
        return out
    for line in path.read_text(errors="replace").splitlines():
        if not line.startswith(":::MLLOG "):
            continue
        try:
            rec = json.loads(line[len(":::MLLOG "):])
        except json.JSONDecodeError:
            continue
        out.setdefault(rec.get("key"), rec.get("value"))
    return out


# --- accuracy ---------------------------------------------------------------------------------------
def _accuracy_text(bench: Benchmark, value: float, good: int, total: int) -> str:
    if bench.name == "resnet50":
        return f"accuracy={value:.3f}%, good={good}, total={total}\n"
    if bench.name == "retinanet":
        return f"Loading and preparing results...\nDONE (t=0.01s)\nmAP={value:.3f}%\n"
    if bench.name == "bert":
        return json.dumps({"exact_match": round(value - 7.2, 3), "f1": round(value, 3)}) + "\n"
    if bench.name == "3d-unet":
        return f"Accuracy: mean = {value:.5f}, kidney = 0.9347, tumor = {2 * value - 0.9347:.4f}\n"
    if bench.name == "dlrm-v2":
        return ("Assuming loadgen accuracy log does not contain ground truth labels.\n"
                f"Calculating AUC metric...\nAUC={value:.3f}%, accuracy=96.605%, good={good}, "
                f"total={total}, queries={total}\n")
    if bench.llm:
        return str({"rouge1": round(value, 4), "rouge2": 22.0, "rougeL": 28.6, "gen_len": 4 * total,
                    "gen_num": total}) + "\n"
    return f"{bench.accuracy_metric}={value:.3f}\n"


def _check_accuracy(work: Workload, log_dir: Path, failure: str | None) -> list[dict]:
    acc_log = log_dir / "mlperf_log_accuracy.json"
    try:
        entries = json.loads(acc_log.read_text())
    except (OSError, json.JSONDecodeError):
        entries = []
    total = len({e["qsl_idx"] for e in entries})
    if total == 0:
        log.info("No accuracy results in PerformanceOnly mode.")
        return []
    bench = work.bench
    ratio = 0.999 if work.accuracy_target == 0.999 else 0.99
    threshold = bench.accuracy_reference * ratio
    if os.environ.get("EMULATED_ACCURACY"):
        value = float(os.environ["EMULATED_ACCURACY"])
    elif failure == "accuracy":
        value = bench.accuracy_reference * 0.9
    else:
        value = bench.accuracy_reference
    good = round(value / 100 * total) if bench.name in ("resnet50", "dlrm-v2") else total
    (log_dir / "accuracy.txt").write_text(_accuracy_text(bench, value, good, total))
    return [{"name": bench.accuracy_metric, "value": value, "threshold": threshold,
             "pass": value >= threshold}]


# --- actions ----------------------------------------------------------------------------------------
def _print_conf(work: Workload) -> None:
    for key, value in work.conf.items():
        print(f"{key} : {value}")
    sys.stdout.flush()


def do_generate_engines(work: Workload, failure: str | None, calibrate: bool = False) -> None:
    if failure == "engine_build":
        sys.stdout.flush()
        print("[TRT] [E] 10: Could not find any implementation for node {ForeignNode[conv1...fc1000]}.\n"
              "[TRT] [E] 10: [optimizer.cpp::computeCosts::4040] Error Code 10: Internal Error "
              "(Could not find any implementation for node {ForeignNode[conv1...fc1000]}.)", file=sys.stderr)
        raise HarnessError(f"Engine build failed for {work.bench.name} {work.scenario}: "
                           "builder.build_serialized_network returned None")
    if calibrate:
        cache = Path("build") / "calibration" / work.bench.name / "calibrator.cache"
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(f"TRT-EMULATED-EntropyCalibration2 {work.bench.name}\n")
        log.info(f"Calibration cache written to {cache}")
        return
    paths = work.engine_paths()
    if not paths:
        raise HarnessError(f"No gpu_batch_size for {work.bench.name} {work.scenario}: nothing to build")
    record = {"emulated": True, "version": work.profile.version, "system_id": work.system_id,
              "config_name": work.config_name, "args": {k: v for k, v in work.conf.items()
                                                         if isinstance(v, (str, int, float, bool, dict))}}
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
        log.info(f"Building {path}")
    log.info(f"========= Built {len(paths)} engine(s) for {work.config_name} =========")


def do_generate_conf_files(work: Workload, failure: str | None) -> Path:
    values, _ = work.loadgen_values(failure)
    conf_dir = Path("build") / "loadgen-configs" / work.system_name / work.full_name / work.scenario
    conf_dir.mkdir(parents=True, exist_ok=True)
    user_conf = conf_dir / "user.conf"
    user_conf.write_text(_user_conf_text(work.bench.mlperf_conf_model, work.scenario, values))
    return user_conf


def _run_loadgen(work: Workload, failure: str | None, log_dir: Path, mode: str, audit_config: str) -> None:
    for path in work.engine_paths():
        if not path.is_file():
            raise HarnessError(f"File ./{path} does not exist.")
    if failure == "missing_dataset":
        missing = Path("build") / "preprocessed_data" / work.bench.dataset_dir / "val_map.txt"
        raise FileNotFoundError(f"[Errno 2] No such file or directory: '{missing}'")
    user_conf = do_generate_conf_files(work, failure)
    _, overrides = work.loadgen_values(failure)
    total, perf = work.qsl_sizes()
    if work.args.get("performance_sample_count_override") or work.args.get("performance_sample_count"):
        overrides["performance_sample_count_override"] = perf  # beats mlperf.conf's per-model value
    log_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "model": work.bench.mlperf_conf_model, "scenario": work.scenario, "mode": mode,
        "user_conf_path": work.args.get("user_conf_path") or str(user_conf),
        "mlperf_conf_path": work.args.get("mlperf_conf_path") or "",
        "override_settings": overrides, "outdir": str(log_dir), "qsl_total": total, "qsl_perf": perf,
        "payload": 0, "audit_config": audit_config,
    }
    spec_path = log_dir / ".emulator_harness_spec.json"
    spec_path.write_text(json.dumps(spec, indent=2))
    env = dict(os.environ)
    paths = [p for p in (os.environ.get("EMULATED_LOADGEN_PATH"), str(COMMON_DIR)) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    if failure == "harness_crash":
        env["NVEMU_CRASH"] = "1"
    sys.stdout.flush()
    timeout = float(os.environ.get("EMULATED_HARNESS_TIMEOUT", "3600"))
    proc = subprocess.run([sys.executable, "-m", "nvemu.lgrun", str(spec_path)], env=env, timeout=timeout,
                          check=False)
    spec_path.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise HarnessError(f"Harness exited with status {proc.returncode}")


def do_run_harness(work: Workload, failure: str | None) -> None:
    _print_conf(work)
    test_mode = work.conf.get("test_mode") or "PerformanceOnly"
    if test_mode not in TEST_MODES:
        raise ValueError(f"'{test_mode}' is not a valid TestMode")
    log_dir = work.log_dir()
    _run_loadgen(work, failure, log_dir, test_mode, "audit.config")
    write_metadata(work, log_dir, test_mode, failure)


def write_metadata(work: Workload, log_dir: Path, test_mode: str, failure: str | None) -> dict:
    detail = _read_detail(log_dir / "mlperf_log_detail.txt")
    scenario_key = (LLM_SCENARIO_METRIC_KEYS.get(work.scenario) if work.bench.llm else None) \
        or SCENARIO_METRIC_KEYS[work.scenario]
    query_key, query_min = QUERY_METRIC_CONSTRAINTS[work.scenario]
    result = {k: detail[k] for k in ("result_validity", scenario_key, "early_stopping_met", query_key,
                                     "effective_min_duration_ms") if k in detail}
    result.update({
        "system_name": work.system_name, "benchmark_short": work.bench.name,
        "benchmark_full": work.full_name, "scenario": work.scenario, "test_mode": test_mode,
        "tensorrt_version": work.profile.tensorrt_version,
        "detected_system": f"EmulatedSystem(id={work.system_id})", "scenario_key": scenario_key,
        "satisfies_query_constraint": float(result.get(query_key, 0.0) or 0.0) >= query_min,
        "config_name": work.config_name,
    })
    if test_mode == "AccuracyOnly":
        summary = "Accuracy run detected."
    else:
        met = (result.get("effective_min_duration_ms") or 0) >= 600000
        validity = result.get("result_validity", "UNKNOWN_VALIDITY") if met else "INVALID"
        summary = (f"{scenario_key}: {result.get(scenario_key)}, Result is {validity}, "
                   f"10-min runtime requirement met: {met}")
    result["summary_string"] = summary
    log.info(f"Result: {summary}")
    if test_mode == "AccuracyOnly":
        acc = _check_accuracy(work, log_dir, failure)
        passes = ["PASSED" if a["pass"] else "FAILED" for a in acc]
        lines = [f"[{p}] {a['name']}: {a['value']:.3f} (Threshold={a['threshold']:.3f})"
                 for p, a in zip(passes, acc, strict=True)]
        for line in lines:
            log.info(line)
        result["accuracy"] = acc
        result["accuracy_pass"] = "FAILED" not in passes
        result["summary_string"] = " | ".join(lines)
    if not os.environ.get("MLPERF_LOADGEN_LOGS_DIR"):
        (log_dir / "metadata.json").write_text(json.dumps(result, indent=4, sort_keys=True))
    return result


_AUDIT_CONFIGS = {
    "TEST01": ("*.*.mode = 2\n*.*.accuracy_log_rng_seed = 720381539243781796\n"
               "*.*.accuracy_log_sampling_target = 64\n"),
    "TEST04": "*.*.mode = 2\n*.*.performance_issue_unique = 0\n*.*.performance_issue_same = 1\n"
              "*.*.performance_issue_same_index = 3\n",
    "TEST05": "*.*.test05 = 1\n*.*.test05_qsl_rng_seed = 7975553102935885558\n"
              "*.*.test05_sample_index_rng_seed = 11403566307062068064\n"
              "*.*.test05_schedule_rng_seed = 15816800565822761601\n",
    "TEST06": "*.*.mode = 2\n*.*.accuracy_log_sampling_target = 100\n",
}


def do_run_audit_harness(work: Workload, failure: str | None) -> None:
    test = (work.args.get("audit_test") or "").upper()
    if test not in AUDIT_TESTS:
        raise ValueError(f"--audit_test must be one of {', '.join(AUDIT_TESTS)}, got {test or None!r}")
    _print_conf(work)
    audit_config = Path("audit.config")
    audit_config.write_text(_AUDIT_CONFIGS[test])
    try:
        root = Path("build") / "compliance_logs" / test
        log_dir = work.log_dir(str(root))
        _run_loadgen(work, failure, log_dir, "PerformanceOnly", str(audit_config))
        write_metadata(work, log_dir, "PerformanceOnly", failure)
    finally:
        audit_config.unlink(missing_ok=True)
    if work.args.get("no_audit_verify"):
        log.info("Skipping audit verification (--no_audit_verify).")
    else:
        log.info(f"[emulator] {test} verification (run_verification.py) is not emulated; no verdict written.")


# --- entry point ------------------------------------------------------------------------------------
def _dispatch(action: str, work: Workload, failure: str | None) -> None:
    Path("audit.config").unlink(missing_ok=True)  # auditing.cleanup()
    if action == "generate_engines":
        do_generate_engines(work, failure)
    elif action == "calibrate":
        do_generate_engines(work, failure, calibrate=True)
    elif action == "generate_conf_files":
        path = do_generate_conf_files(work, failure)
        log.info(f"Wrote {path}")
    elif action == "run_harness":
        do_run_harness(work, failure)
    elif action == "run_audit_harness":
        do_run_audit_harness(work, failure)


def _run(profile: Profile, argv: list[str]) -> int:
    # The real code detects (and loads custom systems) when code.main imports system_list.
    from .systems import set_version

    set_version(profile.version)
    match, detected = detect_system()
    if match is None:
        log.info(f"Detected system did not match any known systems. Exiting. {detected}")
        return 0
    system_id = match.system_id
    # v5.0 prints the id with '-' as '_' (DETECTED_SYSTEM.extras["id"])
    log.info(f"Detected system ID: {system_id.replace('-', '_') if profile.version == 'v5.0' else system_id}")
    args, unknown = F.parse_main_args(argv, profile.test_run_flag,
                                      f"NVIDIA code.main emulator {profile.version}")
    if unknown:
        print(f"[emulator] ignored unknown arguments (the real code.main drops them silently): "
              f"{' '.join(unknown)}")
        sys.stdout.flush()
    failure = _failure()

    benchmarks = [BENCHMARKS[b] for b in profile.benchmarks]
    if args.get("benchmarks") is not None:
        benchmarks = []
        for name in args["benchmarks"].split(","):
            bench = match_benchmark(name, profile.benchmarks)
            if bench is None:
                raise RuntimeError(f"'{name}' is not a valid benchmark name.")
            benchmarks.append(bench)
    scenarios = list(SCENARIOS)
    if args.get("scenarios") is not None:
        scenarios = []
        for name in args["scenarios"].split(","):
            scenario = match_scenario(name)
            if scenario is None:
                raise RuntimeError(f"'{name}' is not a valid scenario name.")
            scenarios.append(scenario)
    action = args.get("action")
    if action not in ACTIONS:
        log.info(f"Action {action} is not currently supported")
        raise AttributeError("'NoneType' object has no attribute 'run'")

    # populate_config_registry: every config (and custom config) is loaded and validated first.
    field_names = tuple(name for name, _, _ in (*F.HARNESS_FIELDS, *F.TUNING_FIELDS))
    for bench in benchmarks:
        for scenario in scenarios:
            if scenario in bench.scenarios:
                load_configs(bench.name, scenario, field_names)

    for bench in benchmarks:
        for scenario in scenarios:
            if scenario not in bench.scenarios:
                continue  # no configs exist for this pair in any system
            for setting in _workload_settings(bench, args):
                shortname = workload_shortname(*setting)
                config = get_config(match, bench.name, scenario, *setting)
                if config is None:
                    log.warning(f"No registered config for {bench.name}.{scenario}.{system_id} "
                                f"for WorkloadSetting({shortname})")
                    continue
                work = Workload(profile, args, system_id, bench, scenario, setting, config)
                if work.dropped:
                    print(f"[emulator] NVIDIA's code does not read these here and drops them: "
                          f"{', '.join(work.dropped)}")
                    sys.stdout.flush()
                _dispatch(action, work, failure)
    return 0


def main(profile: Profile, argv: list[str] | None = None) -> int:
    """A version's ``python3 -m code.main``. With ``EMULATED_NVIDIA_CODE`` set it becomes NVIDIA's real
    front end from that tree, only TensorRT's part emulated (realfront.py)."""
    if argv is None and os.environ.get("EMULATED_NVIDIA_CODE"):
        realfront = Path(__file__).resolve().parent / "realfront.py"
        os.execv(sys.executable, [sys.executable, str(realfront), profile.version, *sys.argv[1:]])
    _setup_logging()
    try:
        return _run(profile, sys.argv[1:] if argv is None else argv)
    except SystemExit:
        raise
    except Exception:
        sys.stdout.flush()
        traceback.print_exc()
        return 1
