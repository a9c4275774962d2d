"""Suite knobs -> the argument list of NVIDIA's ``python3 -m code.main``, per code version.

NVIDIA's parser ignores unknown flags, reads a field only where NVIDIA's rules apply it (rules.py) and
reads a boolean only as "on", so every knob is validated here and an argument is emitted only in the
form, and at the action, where that version reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: each scenario's mandatory target field (besides gpu_batch_size) in NVIDIA's configs
SCENARIO_TARGETS = {"Offline": "offline_expected_qps", "Server": "server_target_qps",
                    "SingleStream": "single_stream_expected_latency_ns",
                    "MultiStream": "multi_stream_expected_latency_ns"}
#: code versions this adapter knows (the inference_results round the code comes from)
VERSIONS = ("v4.1", "v5.0")

#: suite benchmark name -> (NVIDIA --benchmarks value, --gpu_batch_size component, log dir name)
BENCHMARKS = {
    "resnet50": ("resnet50", "resnet50", "resnet50"),
    "retinanet": ("retinanet", "retinanet", "retinanet"),
    "bert-99": ("bert-99", "bert", "bert-99"),
    "bert-99.9": ("bert-99.9", "bert", "bert-99.9"),
    "3d-unet-99": ("3d-unet-99", "3d-unet", "3d-unet-99"),
    "3d-unet-99.9": ("3d-unet-99.9", "3d-unet", "3d-unet-99.9"),
    "dlrm-v2-99": ("dlrm-v2-99", "dlrm-v2", "dlrm-v2-99"),
    "dlrm-v2-99.9": ("dlrm-v2-99.9", "dlrm-v2", "dlrm-v2-99.9"),
    "gptj-99": ("gptj-99", "gptj", "gptj-99"),
    "llama2-70b-99": ("llama2-70b-99", "llama2-70b", "llama2-70b-99"),
}
# (inference_results_v4.1: closed/NVIDIA/code/common/constants.py Benchmark aliases;
#  log dir names: code/common/harness.py benchmark_full)

#: benchmarks a version's code does not have (inference_results_v5.0 NVIDIA datacenter: no BERT)
ABSENT = {"v5.0": ("bert-99", "bert-99.9")}

MODES = {"performance": "PerformanceOnly", "accuracy": "AccuracyOnly", "compliance": "PerformanceOnly"}

#: knobs passed through as --<name>=<value> (the suite's names are NVIDIA's flags)
VALUE_FLAGS = ("offline_expected_qps", "server_target_qps", "server_target_latency_ns",
               "single_stream_expected_latency_ns", "multi_stream_expected_latency_ns",
               "multi_stream_samples_per_query", "min_duration", "max_duration", "min_query_count",
               "max_query_count", "performance_sample_count", "gpu_copy_streams", "gpu_inference_streams",
               "deque_timeout_usec", "workspace_size", "soft_drop", "server_target_qps_adj_factor")
#: store_true flags of NVIDIA's parser: "--name" turns them on; nothing can turn them off
BOOL_FLAGS = ("use_graphs", "use_deque_limit", "start_from_device", "end_on_device",
              "use_small_tile_gemm_plugin")
#: --test_run: NVIDIA's short run (min_duration 60 s unless given) in v4.1 and v5.0
#: (inference_results_v4.1: closed/NVIDIA/code/common/harness.py)
QUICK_FLAG = {"v4.1": "--test_run", "v5.0": "--test_run"}


class ArgumentError(ValueError):
    """A knob NVIDIA's code would ignore or misread."""


@dataclass(frozen=True)
class Invocation:
    action: str
    args: tuple[str, ...]

    def command(self, python: str = "python3") -> list[str]:
        return [python, "-m", "code.main", *self.args]


def _value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def run_harness_args(benchmark: str, scenario: str, mode: str, knobs: dict[str, Any], *,
                     version: str, profile: str, quick_duration_ms: int | None = None,
                     custom_config: bool = False) -> Invocation:
    """The ``--action=run_harness`` invocation for one case (raises ArgumentError).

    ``custom_config``: the case runs under a generated custom-system config that carries every
    knob, so a false boolean stays off the command line (the config sets it) instead of being an
    error.
    """
    if version not in VERSIONS:
        raise ArgumentError(f"NVIDIA code version {version!r} is not supported; supported: "
                            f"{', '.join(VERSIONS)}")
    if benchmark not in BENCHMARKS or benchmark in ABSENT.get(version, ()):
        have = [b for b in BENCHMARKS if b not in ABSENT.get(version, ())]
        raise ArgumentError(f"{benchmark} is not a benchmark of NVIDIA's {version} code; it has: "
                            f"{', '.join(have)}")
    args = [*_workload(benchmark, scenario), f"--test_mode={MODES[mode]}"]
    args += _knob_args(benchmark, knobs, version, custom_config, action="run_harness")
    if profile == "quick":
        args.append(QUICK_FLAG[version])
        if "min_duration" not in knobs and quick_duration_ms is not None:
            args.append(f"--min_duration={quick_duration_ms}")
    args.append("--action=run_harness")
    return Invocation("run_harness", tuple(args))


#: what NVIDIA's Makefile does for each audit (run_audit_testNN[_once] targets, v4.1): the Server QPS
#: adjustment factor it passes, how many times it tries, and the pause before (thermal reset)
AUDITS = {"TEST01": (0.92, 2, 0), "TEST04": (0.92, 3, 20), "TEST05": (0.96, 2, 20), "TEST06": (0.92, 1, 0)}


def audit_harness_args(harness: Invocation, test: str) -> Invocation:
    """``--action=run_audit_harness`` for an audit, from the case's run_harness invocation.

    As NVIDIA's Makefile runs it: with its Server QPS adjustment factor (unless the case sets one).
    NVIDIA's own verification is skipped (``--no_audit_verify``): it needs MLCommons' scripts in
    build/inference; the plugin verifies the audit itself, from the logs.
    """
    if test not in AUDITS:
        raise ArgumentError(f"not an audit NVIDIA's code runs: {test!r}")
    args = [a for a in harness.args if a != "--action=run_harness"]
    server = "--scenarios=server" in args
    if server and not any(a.startswith("--server_target_qps_adj_factor=") for a in args):
        args.append(f"--server_target_qps_adj_factor={AUDITS[test][0]}")
    args += [f"--audit_test={test}", "--no_audit_verify", "--action=run_audit_harness"]
    return Invocation("run_audit_harness", tuple(args))


#: knobs that shape the engine (the rest only reach LoadGen or the harness at run time)
ENGINE_KNOBS = ("gpu_batch_size", "gpu_copy_streams", "gpu_inference_streams", "workspace_size",
                "use_graphs", "use_small_tile_gemm_plugin", "end_on_device", "start_from_device")


def generate_engines_args(benchmark: str, scenario: str, knobs: dict[str, Any], *, version: str,
                          custom_config: bool = False) -> Invocation:
    """The ``--action=generate_engines`` invocation that builds the engine a case runs."""
    engine_knobs = {k: v for k, v in knobs.items() if k in ENGINE_KNOBS}
    args = [*_workload(benchmark, scenario),
            *_knob_args(benchmark, engine_knobs, version, custom_config, action="generate_engines"),
            "--action=generate_engines"]
    return Invocation("generate_engines", tuple(args))


def calibrate_args(benchmark: str, scenario: str) -> Invocation:
    """``--action=calibrate``: NVIDIA's INT8 calibration cache for the benchmark (build/calibration/)."""
    return Invocation("calibrate", (*_workload(benchmark, scenario), "--action=calibrate"))


def _workload(benchmark: str, scenario: str) -> list[str]:
    name = BENCHMARKS[benchmark][0]
    args = [f"--benchmarks={name}", f"--scenarios={scenario.lower()}"]
    # A -99.9 alias names the benchmark only; the accuracy target is its own flag.
    args.append("--accuracy_target=0.999" if benchmark.endswith("-99.9") else "--accuracy_target=0.99")
    return args


def _knob_args(benchmark: str, knobs: dict[str, Any], version: str, custom_config: bool = False,
               action: str | None = None) -> list[str]:
    from .rules import NOT_FIELDS, RULES

    component = BENCHMARKS[benchmark][1]
    args = []
    for knob in sorted(knobs):
        value = knobs[knob]
        if knob in NOT_FIELDS:
            raise ArgumentError(f"{knob}: {NOT_FIELDS[knob]}")
        rule = RULES.get(knob)
        if action is not None and rule is not None and action not in rule.actions:
            continue  # read at another action (workspace_size: the engine build), not here
        if knob == "gpu_batch_size":
            # v4.1+ reads component:batch (an integer raises ValueError there).
            args.append(f"--gpu_batch_size={component}:{int(value)}")
        elif knob in BOOL_FLAGS:
            if value is not True:
                if custom_config:
                    continue  # the generated config sets it: '<knob> = False'
                raise ArgumentError(
                    f"{knob}: false cannot be passed to NVIDIA's code (its flags can only turn a "
                    "boolean on; the system's config value would win). Remove the knob to keep "
                    "NVIDIA's config value, or set 'nvidia.custom_system: always' in the suite so that "
                    "the plugin writes it into a generated custom-system config")
            args.append(f"--{knob}")
        elif knob in VALUE_FLAGS:
            args.append(f"--{knob}={_value(value)}")
        else:
            raise ArgumentError(f"{knob} has no NVIDIA code.main flag ({version})")
    return args


def log_dir_name(benchmark: str) -> str:
    return BENCHMARKS[benchmark][2]


def check_suite(suite: Any, system: Any = None) -> None:
    """Collection-time check of every case's knobs against NVIDIA's code (harness nvidia).

    - A knob NVIDIA's code would drop or misread (no such field, a field that does not apply to the
      benchmark, scenario or system under NVIDIA's rules, a false boolean) is a SuiteError at the
      knob's line naming NVIDIA's rule (a --mlperf-set value: a SettingsError naming it).
    - On a GPU NVIDIA's code knows, NVIDIA's config is the default and the suite's own knobs are the
      only overrides: knobs that come from the GPU profile are dropped (NVIDIA tuned its own values).
      On another GPU the profile's knobs become the generated config's values; those NVIDIA would not
      read there are dropped.
    - A case NVIDIA registers no config for on that system is skipped with the reason (unless the
      suite runs it under a generated config: nvidia.custom_system: always).

    ``system``: a callable giving the machine's facts, used for ``system.gpu: auto``.
    """
    from ...errors import SettingsError, SuiteError
    from . import rules

    mode = suite.sections.get("nvidia", {}).get("custom_system")
    custom = mode is not None and mode.value == "always"
    version_setting = suite.sections.get("nvidia", {}).get("version")
    version = version_setting.value if version_setting is not None else VERSIONS[0]
    nv_system = _nvidia_system(suite, system)
    for case in suite.cases:
        if case.skip_reason or case.benchmark not in BENCHMARKS:
            continue
        if case.benchmark in ABSENT.get(version, ()):
            case.skip_reason = f"{case.benchmark} is not a benchmark of NVIDIA's {version} code"
            continue
        component = BENCHMARKS[case.benchmark][1]
        target_system = None if custom else nv_system
        kept = {}
        for name, sourced in case.knobs.items():
            from_profile = str(sourced.source).startswith("GPU profile")
            if from_profile and nv_system is not None:
                continue  # NVIDIA's own config for its own system is the default
            if from_profile and (rules.inapplicable(name, component, case.scenario, target_system)
                                 or (name in BOOL_FLAGS and sourced.value is False and not custom)):
                continue
            kept[name] = sourced
        case.knobs = kept
        for name, sourced in sorted(case.knobs.items()):
            try:
                why = rules.inapplicable(name, component, case.scenario, target_system)
                if why is not None and name not in rules.NOT_FIELDS:
                    raise ArgumentError(f"{name}: does not apply to {case.benchmark} {case.scenario}"
                                        f"{'' if nv_system is None else ' on ' + nv_system}: {why}; NVIDIA's "
                                        "code would drop it without a word. Remove it from the suite")
                _knob_args(case.benchmark, {name: sourced.value}, version, custom)
            except ArgumentError as exc:
                message = str(exc).removeprefix(f"{name}: ")
                if sourced.location is not None:
                    raise SuiteError(message, sourced.location, key=name) from None
                raise SettingsError(f"{sourced.source}: {message}") from None
        accuracy = "k_99_9" if case.benchmark.endswith("-99.9") else "k_99"
        no_config = nv_system is not None \
            and rules.has_config(version, nv_system, component, case.scenario, accuracy) is False
        if mode_value(mode) != "never" and (nv_system is None or (custom and no_config)):
            # A generated config with no NVIDIA config to extend starts from the scenario's base config.
            missing = [k for k in ("gpu_batch_size", SCENARIO_TARGETS[case.scenario]) if k not in case.knobs]
            if missing:
                gpu = suite.system.get("gpu", "none")
                case.skip_reason = (
                    f"NVIDIA's {version} code has no config to start from for {case.benchmark} "
                    f"{case.scenario} on this GPU (profile {gpu}), so the generated config needs "
                    f"{' and '.join(missing)}: add {', '.join(missing)} to "
                    f"benchmarks.{case.id}.scenarios.{case.scenario} in the suite (or "
                    f"--mlperf-set {case.id}.{case.scenario}.{missing[0]}=VALUE)")
                continue
        if not custom and no_config:
            case.skip_reason = (f"NVIDIA's {version} code registers no {case.benchmark} {case.scenario} "
                                "config "
                                f"for {nv_system} (configs/{component}/{case.scenario}/__init__.py): it "
                                "would "
                                "skip the case and run nothing; set nvidia.custom_system: always with "
                                "gpu_batch_size and the scenario's target to run it under a generated config")


def mode_value(mode: Any) -> str:
    """The suite's nvidia.custom_system value (auto when not set)."""
    return mode.value if mode is not None else "auto"


def _nvidia_system(suite: Any, system: Any) -> str | None:
    """The KnownSystem the suite's GPU profile stands for (None: NVIDIA's code does not know the GPU)."""
    from .rules import profile_system

    gpu = str(suite.system.get("gpu", "none"))
    count = int(suite.system.get("count", 1) or 1)
    if gpu == "auto" and getattr(suite, "gpu_profile", None):
        gpu = suite.gpu_profile  # resolved on this machine by apply_profile
    elif gpu == "auto":
        if system is None:
            return None
        from ...systems.profiles import ProfileError, resolve_profile

        try:
            profile, _ = resolve_profile("auto", system())
        except ProfileError:
            return None
        gpu = profile.name
    return profile_system(gpu, count)
