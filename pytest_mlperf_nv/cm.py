"""``mlperf-nv from-cm``: turn a command line of the original CM/MLC automation into a suite.

Understood forms (the CM script "reproduce-mlperf-inference-nvidia" / "app-mlperf-inference-nvidia",
and the "run-mlperf,inference" / "generate-run-cmds" front end that calls it)::

    cm run script --tags=reproduce,mlperf,inference,nvidia,harness,_l4,_resnet50,_server --scenario=Server
    cmr "reproduce mlperf inference nvidia harness _run_harness _l4 _resnet50 _offline"
    cmr "generate-run-cmds inference _find-performance _all-scenarios" --model=resnet50 ...
    mlcr run-mlperf,inference,_find-performance,_full,_r5.0-dev --model=resnet50 --implementation=nvidia
    mlc run script --tags=... / cm docker script ... / cmx run script ...

Every variation (``_x``) and flag (``--x``) is either mapped to the suite, ignored because it only
steers CM itself (``--quiet``, ``--results_dir``...; listed in the output's header), or reported:
``from_cm`` raises ``CmTranslationError`` listing every item it cannot map, not just the first.
The suite names what the command stated; per-GPU defaults come from the GPU profile at run time.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .errors import MlperfError
from .suite.knobs import KNOBS, SCENARIOS

# ---------------------------------------------------------------------------------------------
# vocabulary of the original system


class CmTranslationError(MlperfError, ValueError):
    """A CM/MLC command with items that cannot be translated; ``problems`` lists every one."""

    def __init__(self, problems: list[str], command: str = ""):
        self.problems = list(problems)
        self.command = command
        head = (f"cannot translate {len(self.problems)} item(s) of the CM command"
                if len(self.problems) != 1 else "cannot translate 1 item of the CM command")
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


#: launchers: word(s) -> tool name. "cmr"/"mlcr" already mean "run script --tags=".
_LAUNCHERS = {
    ("cm", "run", "script"): "cm", ("cmx", "run", "script"): "cm", ("cm", "docker", "script"): "cm",
    ("cmr",): "cm", ("cmx", "run"): "cm", ("mlc", "run", "script"): "mlc",
    ("mlc", "docker", "script"): "mlc", ("mlcr",): "mlc", ("mlcd",): "mlc",
}
_REMOTE_LAUNCHERS = ("mlcrr", "cmrr")

#: plain (non-variation) tags of the harness script (seed: reproduce,mlcommons,mlperf,inference,
#: harness,nvidia-harness,nvidia) and of its MLC/CM successor app-mlperf-inference-nvidia
_HARNESS_TAGS = {"reproduce", "mlcommons", "mlperf", "inference", "harness", "nvidia-harness", "nvidia",
                 "app", "app-mlperf-inference-nvidia", "reproduce-mlperf-inference-nvidia"}
#: plain tags of the front end (run-mlperf-inference-app, formerly generate-run-cmds)
_APP_TAGS = {"run-mlperf", "run", "mlperf", "inference", "generate-run-cmds", "run-mlperf-inference-app"}

_SCENARIO_VARIATIONS = {"_offline": "Offline", "_server": "Server", "_singlestream": "SingleStream",
                        "_multistream": "MultiStream"}
_SCENARIO_NAMES = {s.lower(): s for s in SCENARIOS}

#: CM gpu names (variation ``_<name>`` or ``--gpu_name=<name>``) -> profile
_GPU_NAMES = {"a100": "a100-sxm", "a6000": "rtx_a6000", "rtx_a6000": "rtx_a6000", "custom": "custom",
              "l4": "l4", "orin": "orin", "rtx_4090": "rtx_4090", "rtx_6000_ada": "rtx_6000_ada",
              "t4": "t4", "h100": "h100", "h200": "h200"}
_GPU_MEMORY_BUCKETS = (8, 16, 24, 32, 40, 48, 80)

_INTERNAL_GROUPS = {"_bert_", "_3d-unet_", "_dlrm_", "_gptj_", "_llama2-70b_", "_retinanet_"}
_DEFAULT_VARIATIONS = {"_tensorrt": "TensorRT: the default", "_cuda": "CUDA: the default",
                       "_run_harness": "the default stage: run the harness"}
_STAGES = {"_build_engine": "generate_engines", "_preprocess_data": "preprocess_data",
           "_download_model": "download_model", "_calibrate": "calibrate", "_prebuild": "prebuild",
           "_build": "build"}
_UNSUPPORTED_VARIATIONS = {
    "_cpu": "the NVIDIA harness runs on CUDA GPUs only",
    "_maxq": "MaxQ power settings are not a suite setting (power runs are not supported)",
    "_maxn": "MaxN power mode (Jetson) is not a suite setting",
    "_use_triton": "the Triton server harness is not supported",
    "_populate-readme": "README population of a results directory is not a benchmark run",
    "_short": "CM's short run style has no suite equivalent; use profile: quick",
}
_PRECISION = re.compile(r"^_(fp8|fp16|fp32|int4|int8|bf16|bfloat16|float16|float32)$")
_ROUND = re.compile(r"^_r\d+\.\d+(-dev)?(_default)?$")
_CODE_VERSION = re.compile(r"^_(v\d+\.\d+(-dev)?|pre5\.0|v5\.0\+)$")

#: flags that only steer CM itself: ignored, listed in the output's header
_IGNORED_FLAGS = {
    "quiet", "rerun", "results_dir", "output_dir", "submission_dir", "clean", "skip_submission_generation",
    "preprocess_submission", "pull_changes", "pull_inference_changes", "use_model_from_host",
    "use_dataset_from_host", "hw_notes_extra", "log_dir", "skip_preprocess",
    "skip_preprocessing", "docker", "v", "j", "s", "run_checker", "adr.compiler.tags",
    "adr.inference-src.version", "adr.inference-src.tags", "skip_install_cuda",
}
_IGNORED_PREFIXES = ("docker_",)
_HARNESS_ADR = ("adr.nvidia-harness.tags", "adr.harness.tags", "adr.nvidia-original-harness.tags")

#: seed flags mapped straight to a knob of the same name
_KNOB_FLAGS = ("gpu_batch_size", "gpu_copy_streams", "gpu_inference_streams", "workspace_size",
               "num_warmups", "deque_timeout_usec", "soft_drop", "use_graphs", "use_deque_limit",
               "start_from_device", "end_on_device", "use_small_tile_gemm_plugin",
               "performance_sample_count")
#: scenario targets: flag -> (scenarios, knob, factor applied to the value)
_TARGETS = {
    "offline_target_qps": (("Offline",), None),
    "server_target_qps": (("Server",), None),
    "target_qps": (("Offline", "Server"), None),
    "singlestream_target_latency": (("SingleStream",), 1_000_000),
    "multistream_target_latency": (("MultiStream",), 1_000_000),
    "target_latency": (("SingleStream", "MultiStream"), 1_000_000),
}
_TARGET_KNOB = {"Offline": "offline_expected_qps", "Server": "server_target_qps",
                "SingleStream": "single_stream_expected_latency_ns",
                "MultiStream": "multi_stream_expected_latency_ns"}
#: NVIDIA code versions of the CM wrapper (variation _vX.Y / round _rX.Y of the front end) -> nvidia.version
_NVIDIA_VERSIONS = {"4.1": "v4.1", "5.0": "v5.0"}
#: suite `submission:` keys the CM front end's flags fill
_SUBMISSION_FLAGS = {"division": "division", "submitter": "submitter", "hw_name": "system_name"}
_UNSUPPORTED_FLAGS = {
    "power": "power measurement is not supported",
    "power_setting": "power settings (MaxQ) are not a suite setting: NVIDIA's MaxQ configs set GPU "
                     "power limits "
                     "this plugin does not manage",
    "config_ver": "NVIDIA's legacy --config_ver picks MaxQ / Triton / high-accuracy configs; the suite "
                  "picks the "
                  "accuracy by benchmark name (bert-99.9) and runs NVIDIA's default harness at MaxP only",
    "precision": "the suite has no precision setting; NVIDIA's harness uses its config's precision",
    "devices": "GPU selection belongs to CUDA_VISIBLE_DEVICES (the plugin passes it to NVIDIA's code), not "
               "the suite",
    "input_format": "no suite knob: NVIDIA's config value applies (its config registry sets the input format "
                    "per benchmark and GPU)",
    "run_infer_on_copy_streams": "no suite knob: NVIDIA's config value applies",
    "user_conf_path": "user.conf is generated from the suite's knobs",
    "dla_batch_size": "DLA settings apply to NVIDIA's Jetson (Orin) systems only, which this plugin "
                      "does not drive",
    "dla_copy_streams": "DLA settings apply to NVIDIA's Jetson (Orin) systems only",
    "dla_inference_streams": "DLA settings apply to NVIDIA's Jetson (Orin) systems only",
    "all_models": "one suite benchmark per translated command; list the benchmarks in the suite",
    "extra_run_options": "free-form harness options cannot be checked; use suite knobs",
    "build_engine_options": "free-form engine-build options cannot be checked",
    "make_cmd": "the make target is chosen by the harness",
    "mlperf_conf": "mlperf.conf comes from the LoadGen wheel",
    "user_conf": "user.conf is generated from the suite's knobs",
    "max_batchsize": "LoadGen max batch size of reference implementations; not an NVIDIA setting",
}


# ---------------------------------------------------------------------------------------------
# parsing


@dataclass
class _Flag:
    key: str  # normalised: CM turns '-' into '_' in input keys
    value: str | None
    text: str  # as written


@dataclass
class _Command:
    tool: str
    tags: list[str]
    flags: list[_Flag]


def _tokens(command: str | list[str]) -> list[str]:
    if isinstance(command, list):
        return list(command)
    text = re.sub(r"\\\r?\n", " ", command)  # shell line continuations
    try:
        return shlex.split(text, comments=False)
    except ValueError as exc:
        raise CmTranslationError([f"cannot split the command line: {exc}"], str(command)) from None


def _split_tags(text: str) -> list[str]:
    return [t for t in re.split(r"[,\s]+", text.strip()) if t]


def _norm_key(key: str) -> str:
    return key if "." in key else key.replace("-", "_")


def _parse(command: str | list[str]) -> _Command:
    words = _tokens(command)
    text = command if isinstance(command, str) else shlex.join(command)
    if not words:
        raise CmTranslationError(["empty command"], text)
    if words[0] in _REMOTE_LAUNCHERS:
        raise CmTranslationError([f"{words[0]}: remote runs are not supported; translate the command "
                                  "you would run on the GPU machine"], text)
    tool = None
    for size in (3, 2, 1):
        key = tuple(words[:size])
        if key in _LAUNCHERS:
            tool, rest = _LAUNCHERS[key], words[size:]
            break
    if tool is None:
        raise CmTranslationError([f"not a CM/MLC command: it starts with {' '.join(words[:3])!r}; expected "
                                  "'cm run script', 'cmr', 'mlc run script' or 'mlcr'"], text)
    tags: list[str] = []
    flags: list[_Flag] = []
    for word in rest:
        if word.startswith("-"):
            body = word.lstrip("-")
            name, sep, value = body.partition("=")
            flags.append(_Flag(_norm_key(name), value if sep else None, word))
            if _norm_key(name) == "tags" and sep:
                tags.extend(_split_tags(value))
                flags.pop()
        else:
            tags.extend(_split_tags(word))
    return _Command(tool=tool, tags=tags, flags=flags)


# ---------------------------------------------------------------------------------------------
# translation


@dataclass
class _Suite:
    command: str
    benchmark: tuple[str, str] | None = None
    scenarios: list[tuple[str, str]] = field(default_factory=list)
    all_scenarios: str | None = None
    modes: tuple[list[str], str] | None = None
    profile: tuple[str, str] | None = None
    gpu: tuple[str, str] | None = None
    connection: tuple[str, str] | None = None
    category: tuple[str, str] | None = None
    knobs: dict[str, tuple[Any, str]] = field(default_factory=dict)
    targets: list[tuple[str, str, Any, str]] = field(default_factory=list)  # flag, scenario, value, src
    nvidia_version: tuple[str, str] | None = None
    submission: dict[str, tuple[str, str]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def set(self, attr: str, value: Any, source: str) -> None:
        old = getattr(self, attr)
        if old is not None and old[0] != value:
            self.problems.append(f"{source}: conflicts with {old[1]}")
            return
        setattr(self, attr, (value, source) if old is None else (value, f"{old[1]}, {source}"))

    def knob(self, name: str, value: Any, source: str) -> None:
        old = self.knobs.get(name)
        if old is not None and old[0] != value:
            self.problems.append(f"{source}: conflicts with {old[1]}")
            return
        self.knobs[name] = (value, source if old is None else f"{old[1]}, {source}")


def _number(text: str | None, source: str, suite: _Suite, *, integer: bool, factor: int | None = None):
    try:
        value = Decimal(str(text))
        if not value.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        suite.problems.append(f"{source}: expected a number")
        return None
    if factor:
        value *= factor
        integer = True
        value = value.to_integral_value()
    if integer and value != value.to_integral_value():
        suite.problems.append(f"{source}: expected an integer")
        return None
    if value <= 0:
        suite.problems.append(f"{source}: must be greater than 0")
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _boolean(text: str | None, source: str, suite: _Suite) -> bool | None:
    if text is None or text.lower() in ("yes", "true", "1", "on"):
        return True
    if text.lower() in ("no", "false", "0", "off"):
        return False
    suite.problems.append(f"{source}: expected yes or no")
    return None


def _variation(tag: str, suite: _Suite, app: bool) -> None:
    from .benchmarks.mlperf import MLPERF_BENCHMARKS

    low = tag.lower()
    if tag[1:] in MLPERF_BENCHMARKS:
        suite.set("benchmark", tag[1:], tag)
    elif low in _SCENARIO_VARIATIONS:
        suite.scenarios.append((_SCENARIO_VARIATIONS[low], tag))
    elif low.startswith("_batch_size."):
        value = tag.split(".", 1)[1]
        if ":" in value:  # MLC v5.0+ form: _batch_size.<model>:<n>
            model, _, value = value.rpartition(":")
            if model and model in MLPERF_BENCHMARKS:
                suite.set("benchmark", model, tag)
        number = _number(value, tag, suite, integer=True)
        if number is not None:
            suite.knob("gpu_batch_size", number, tag)
    elif low[1:] in _GPU_NAMES:
        suite.set("gpu", _GPU_NAMES[low[1:]], tag)
    elif low in ("_sxm", "_pcie"):
        suite.set("connection", low[1:], tag)
    elif low.startswith("_gpu_memory."):
        size = tag.split(".", 1)[1]
        if size.isdigit() and int(size) in _GPU_MEMORY_BUCKETS:
            suite.set("gpu", f"gpu_memory_{size}", tag)
        else:
            suite.problems.append(f"{tag}: no such memory bucket; the seed has "
                                  f"{', '.join(map(str, _GPU_MEMORY_BUCKETS))}")
    elif low in _INTERNAL_GROUPS:
        suite.ignored.append(f"{tag} (internal group of the model)")
    elif low in _DEFAULT_VARIATIONS:
        suite.ignored.append(f"{tag} ({_DEFAULT_VARIATIONS[low]})")
    elif low in _STAGES:
        suite.problems.append(f"{tag}: runs only NVIDIA's 'make {_STAGES[low]}' stage; the plugin prepares "
                              "engines and data as part of a run, so translate the _run_harness command")
    elif low in _UNSUPPORTED_VARIATIONS:
        suite.problems.append(f"{tag}: {_UNSUPPORTED_VARIATIONS[low]}")
    elif _PRECISION.match(low):
        suite.problems.append(f"{tag}: the suite has no precision setting; NVIDIA's harness uses its "
                              "config's precision")
    elif _CODE_VERSION.match(low):
        _code_version(tag, low[2:] if low.startswith("_v") else None, suite)
    elif low.startswith(("_dla_batch_size.", "_build_engine_options.")):
        suite.problems.append(f"{tag}: not a suite setting (DLA / free-form engine options)")
    elif app and low == "_find-performance":
        suite.set("profile", "quick", tag)
        suite.set("modes", ["performance"], tag)
    elif app and low == "_submission":
        suite.set("modes", ["performance", "accuracy", "compliance"], tag)
    elif app and low == "_performance-only":
        suite.set("modes", ["performance"], tag)
    elif app and low == "_accuracy-only":
        suite.set("modes", ["accuracy"], tag)
    elif app and low == "_all-scenarios":
        suite.all_scenarios = tag
    elif app and low == "_full":
        suite.ignored.append(f"{tag} (full dataset: the default)")
    elif app and _ROUND.match(low):
        _code_version(tag, low[2:].split("_")[0], suite)
    else:
        suite.problems.append(f"{tag}: unknown variation")


def _code_version(tag: str, version: str | None, suite: _Suite) -> None:
    """``_r4.1-dev`` (front end round) or ``_v5.0`` (harness code version) -> nvidia.version."""
    if version is None or version in ("pre5.0", "v5.0+"):
        suite.ignored.append(f"{tag} (batch-size format group of the CM wrapper)")
        return
    base = version.removeprefix("v").removesuffix("-dev")
    if base in _NVIDIA_VERSIONS:
        suite.set("nvidia_version", _NVIDIA_VERSIONS[base], tag)
        if version.endswith("-dev"):
            suite.notes.append(f"{tag}: CM's -dev code versions ran a development branch of NVIDIA's "
                               "code; the "
                               f"suite runs NVIDIA's published {_NVIDIA_VERSIONS[base]} code")
    else:
        suite.problems.append(f"{tag}: NVIDIA's code of round {base} is not one this plugin drives (it "
                              "drives "
                              f"{' and '.join(_NVIDIA_VERSIONS.values())}: their configs, flags and "
                              "system lists "
                              "are checked against NVIDIA's code); use an inference_results_v4.1 or "
                              "v5.0 checkout")


def _flag(flag: _Flag, suite: _Suite, app: bool) -> None:
    from .benchmarks.mlperf import MLPERF_BENCHMARKS

    key, value, text = flag.key, flag.value, flag.text
    if key in _IGNORED_FLAGS or key.startswith(_IGNORED_PREFIXES):
        suite.ignored.append(text)
    elif key in _SUBMISSION_FLAGS:
        if key == "division" and value not in ("closed", "open"):
            suite.problems.append(f"{text}: expected closed or open")
        elif value:
            old = suite.submission.get(_SUBMISSION_FLAGS[key])
            if old is not None and old[0] != value:
                suite.problems.append(f"{text}: conflicts with {old[1]}")
            else:
                suite.submission[_SUBMISSION_FLAGS[key]] = (value, text)
    elif key in _HARNESS_ADR and value:
        for tag in _split_tags(value):
            _variation(tag, suite, app=False)
    elif key in _UNSUPPORTED_FLAGS:
        if key == "power" and value is not None and value.lower() in ("no", "false", "0"):
            suite.ignored.append(text)
        else:
            suite.problems.append(f"{text}: {_UNSUPPORTED_FLAGS[key]}")
    elif key.startswith("adr.") and "power" in key:
        suite.problems.append(f"{text}: power measurement is not supported")
    elif key.startswith("env.") or key.startswith("adr."):
        suite.problems.append(f"{text}: CM environment/dependency overrides cannot be translated")
    elif key == "model":
        if value in MLPERF_BENCHMARKS:
            suite.set("benchmark", value, text)
        else:
            suite.problems.append(f"{text}: not a benchmark this plugin knows; it knows "
                                  f"{', '.join(MLPERF_BENCHMARKS)}")
    elif key == "implementation":
        if value in ("nvidia", "nvidia-original", "nvidia_original"):
            suite.ignored.append(f"{text} (harness: nvidia)")
        else:
            suite.problems.append(f"{text}: only NVIDIA's implementation translates to a suite")
    elif key == "device":
        if value in ("cuda", "gpu"):
            suite.ignored.append(f"{text} (NVIDIA GPU)")
        else:
            suite.problems.append(f"{text}: the NVIDIA harness runs on CUDA GPUs only")
    elif key in ("backend", "framework"):
        if (value or "").lower() == "tensorrt":
            suite.ignored.append(f"{text} (TensorRT: the NVIDIA harness)")
        else:
            suite.problems.append(f"{text}: the NVIDIA harness uses TensorRT")
    elif key == "category":
        kind = (value or "").replace("-", ",")
        if kind in ("edge", "datacenter", "datacenter,edge", "edge,datacenter"):
            suite.set("category", kind, text)
        else:
            suite.problems.append(f"{text}: expected edge, datacenter or datacenter,edge")
    elif key == "execution_mode":
        profiles = {"test": "quick", "fast": "quick", "valid": "official"}
        if value in profiles:
            if suite.profile and suite.profile[0] != profiles[value]:
                suite.notes.append(f"{text} overrides {suite.profile[1]}")
                suite.profile = None
            suite.set("profile", profiles[value], text)
        else:
            suite.problems.append(f"{text}: expected test, fast or valid")
    elif key == "scenario":
        scenario = _SCENARIO_NAMES.get((value or "").lower())
        if scenario:
            suite.scenarios.append((scenario, text))
        else:
            suite.problems.append(f"{text}: unknown scenario; expected {', '.join(SCENARIOS)}")
    elif key == "mode":
        if value in ("performance", "accuracy", "compliance"):
            suite.set("modes", [value], text)
        else:
            suite.problems.append(f"{text}: expected performance, accuracy or compliance")
    elif key == "gpu_name":
        if value is not None and value.lower() in _GPU_NAMES:
            suite.set("gpu", _GPU_NAMES[value.lower()], text)
        else:
            suite.problems.append(f"{text}: unknown GPU name; the seed knows {', '.join(sorted(_GPU_NAMES))}")
    elif key == "batch_size":  # front end; MLC v5.0+ also accepts <model>:<n>
        size = value or ""
        if ":" in size:
            model, _, size = size.rpartition(":")
            if model in MLPERF_BENCHMARKS:
                suite.set("benchmark", model, text)
        number = _number(size, text, suite, integer=True)
        if number is not None:
            suite.knob("gpu_batch_size", number, text)
    elif key in ("test_query_count", "count"):
        number = _number(value, text, suite, integer=True)
        if number is not None:  # CM's user.conf for test runs uses it as min and max query count
            suite.knob("min_query_count", number, text)
            suite.knob("max_query_count", number, text)
    elif key in _TARGETS:
        scenarios, factor = _TARGETS[key]
        number = _number(value, text, suite, integer=False, factor=factor)
        if number is not None:
            for scenario in scenarios:
                suite.targets.append((key, scenario, number, text))
    elif key in _KNOB_FLAGS:
        knob = KNOBS[key]
        if knob.type is bool:
            parsed = _boolean(value, text, suite)
        else:
            parsed = _number(value, text, suite, integer=knob.type is int)
        if parsed is not None:
            suite.knob(key, parsed, text)
    else:
        suite.problems.append(f"{text}: unknown or unsupported flag")


def _all_scenarios(benchmark: str, category: str) -> list[str]:
    """What CM's front end runs for _all-scenarios: edge Offline + SingleStream (+ MultiStream for
    resnet50 and retinanet), datacenter Offline + Server; both categories: the union."""
    found: list[str] = []
    if "edge" in category:
        found += ["Offline", "SingleStream"]
        if benchmark in ("resnet50", "retinanet"):
            found.append("MultiStream")
    if "datacenter" in category:
        found += ["Offline", "Server"]
    return [s for s in SCENARIOS if s in found]


def _translate(command: str | list[str]) -> _Suite:
    from .benchmarks.mlperf import mlperf_scenarios

    parsed = _parse(command)
    text = command if isinstance(command, str) else shlex.join(command)
    text = re.sub(r"\\\r?\n", " ", text)
    suite = _Suite(command=text)
    plain = [t for t in parsed.tags if not t.startswith("_")]
    app = bool({"run-mlperf", "generate-run-cmds", "run-mlperf-inference-app"} & set(plain))
    known = _APP_TAGS if app else _HARNESS_TAGS
    if not app and not ({"nvidia", "nvidia-harness", "app-mlperf-inference-nvidia",
                         "reproduce-mlperf-inference-nvidia"} & set(plain)):
        raise CmTranslationError([f"tags {','.join(plain) or '(none)'}: not the NVIDIA harness script "
                                  "(reproduce,mlperf,inference,nvidia,harness) or the run-mlperf,inference "
                                  "front end"], text)
    for tag in plain:
        if tag not in known:
            suite.problems.append(f"{tag}: unknown script tag")
    for tag in (t for t in parsed.tags if t.startswith("_")):
        _variation(tag, suite, app)
    for flag in parsed.flags:
        _flag(flag, suite, app)

    if suite.benchmark is None:
        if app and not any(f.key == "model" for f in parsed.flags):
            suite.problems.append("no --model given")
        elif not app:
            suite.benchmark = ("resnet50", "default variation _resnet50 of the seed")
    if suite.gpu and suite.gpu[0] == "a100-sxm" and suite.connection:
        name = "a100-pcie" if suite.connection[0] == "pcie" else "a100-sxm"
        suite.gpu = (name, f"{suite.gpu[1]}, {suite.connection[1]}")
    elif suite.connection and not (suite.gpu and suite.gpu[0].startswith("a100")):
        suite.ignored.append(f"_{suite.connection[0]} (no effect without _a100)")
    benchmark = suite.benchmark[0] if suite.benchmark else None

    # scenarios
    if suite.all_scenarios:
        if suite.scenarios:
            suite.problems.append(f"{suite.all_scenarios}: conflicts with {suite.scenarios[0][1]}")
        if suite.category is None:
            suite.category = ("edge", "default --category=edge of the CM front end")
        if benchmark:
            wanted = _all_scenarios(benchmark, suite.category[0])
            supported = mlperf_scenarios(benchmark)
            dropped = [s for s in wanted if s not in supported]
            if dropped:
                suite.notes.append(f"{benchmark} has no {', '.join(dropped)} scenario: dropped")
            src = f"{suite.all_scenarios} ({suite.category[0]})"
            suite.scenarios = [(s, src) for s in wanted if s in supported]
    elif not suite.scenarios:
        suite.scenarios = [("Offline", "default scenario of the CM scripts")]
    names = list(dict.fromkeys(s for s, _ in suite.scenarios))
    if benchmark:
        for scenario in names:
            if scenario not in mlperf_scenarios(benchmark):
                src = next(src for s, src in suite.scenarios if s == scenario)
                suite.problems.append(f"{src}: {benchmark} has no {scenario} scenario")
    if suite.modes is None and not app:
        suite.modes = (["performance"], "default --mode=performance of the seed")
    if suite.problems:
        raise CmTranslationError(suite.problems, text)
    return suite


# ---------------------------------------------------------------------------------------------
# rendering


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _yaml_string(value: str) -> str:
    """A YAML scalar that reads back as this string (quoted where YAML would read something else)."""
    import yaml

    return value if yaml.safe_load(value) == value and "#" not in value else json.dumps(value)


def _wrap(text: str, width: int = 96) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


def _line(indent: int, body: str, source: str | None) -> str:
    text = " " * indent + body
    if source:
        text = f"{text:<34} # {source}"
    return text


def _render(suite: _Suite) -> str:
    out = ["# Suite translated from a CM/MLC command by `mlperf-nv from-cm`. The command:"]
    out += [f"#   {line}" for line in _wrap(" ".join(suite.command.split()))]
    if suite.ignored:
        out.append("# Not carried over (they only steer CM itself or restate a default):")
        out += [f"#   {line}" for line in _wrap(", ".join(dict.fromkeys(suite.ignored)))]
    for note in suite.notes:
        out += [f"# Note: {line}" if i == 0 else f"#   {line}" for i, line in enumerate(_wrap(note, 88))]
    out.append("mlperf_suite: 1")
    out.append("harness: nvidia")
    if suite.nvidia_version:
        out.append("nvidia:")
        out.append(_line(2, f"version: {suite.nvidia_version[0]}", suite.nvidia_version[1]))
    if suite.submission:
        out.append("submission:")
        for key in ("division", "submitter", "system_name"):
            if key in suite.submission:
                value, src = suite.submission[key]
                out.append(_line(2, f"{key}: {_yaml_string(value)}", src))
    if suite.profile:
        out.append(_line(0, f"profile: {suite.profile[0]}", suite.profile[1]))
    if suite.modes:
        out.append(_line(0, f"modes: [{', '.join(suite.modes[0])}]", suite.modes[1]))
    out.append("system:")
    gpu = suite.gpu or ("auto", "no GPU named: the profile follows the GPU found (memory bucket)")
    out.append(_line(2, f"gpu: {gpu[0]}", gpu[1]))
    if suite.category:
        out.append(_line(2, f"type: {suite.category[0]}", suite.category[1]))
    assert suite.benchmark is not None
    benchmark, bench_src = suite.benchmark
    out.append("benchmarks:")
    out.append(_line(2, f"{benchmark}:", bench_src))
    for name, (value, src) in suite.knobs.items():
        out.append(_line(4, f"{name}: {_scalar(value)}", src))
    names = list(dict.fromkeys(s for s, _ in suite.scenarios))
    per: dict[str, list[tuple[str, Any, str]]] = {s: [] for s in names}
    elsewhere: list[tuple[str, Any, str]] = []
    chosen: dict[tuple[str, str], tuple[Any, str, bool]] = {}
    for key, scenario, value, src in suite.targets:
        specific = len(_TARGETS[key][0]) == 1  # offline_target_qps beats target_qps, as in CM
        knob = _TARGET_KNOB[scenario]
        old = chosen.get((scenario, knob))
        if old is None or (specific and not old[2]):
            chosen[(scenario, knob)] = (value, src, specific)
    for (scenario, knob), (value, src, specific) in chosen.items():
        if scenario in per:
            per[scenario].append((knob, value, src))
        elif specific:  # a generic --target_qps only concerns the scenarios that run
            elsewhere.append((knob, value, f"{src} (for {scenario}, which this command does not run)"))
    for knob, value, src in elsewhere:
        out.append(_line(4, f"{knob}: {_scalar(value)}", src))
    sources = {s: src for s, src in reversed(suite.scenarios)}
    if any(per.values()):
        out.append("    scenarios:")
        for scenario in names:
            if per[scenario]:
                out.append(_line(6, f"{scenario}:", sources[scenario]))
                for knob, value, src in per[scenario]:
                    out.append(_line(8, f"{knob}: {_scalar(value)}", src))
            else:
                out.append(_line(6, f"{scenario}: {{}}", sources[scenario]))
    else:
        out.append(_line(4, f"scenarios: [{', '.join(names)}]",
                         "; ".join(dict.fromkeys(sources[s] for s in names))))
    return "\n".join(out) + "\n"


def from_cm(command: str | list[str]) -> str:
    """Suite YAML text for one CM/MLC command line (a string, or its words already split).

    Raises CmTranslationError listing every variation and flag that cannot be translated.
    """
    return _render(_translate(command))


def cm_main(argv: list[str] | None = None) -> int:
    """``mlperf-nv from-cm "<command>" [-o suite.yaml]``. Returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="mlperf-nv from-cm",
        description="Translate a command line of the CM/MLC MLPerf automation (NVIDIA implementation) "
                    "into a pytest-mlperf-nv suite.")
    parser.add_argument("command", nargs="+",
                        help="the CM command, quoted as one argument (or its words after '--')")
    parser.add_argument("-o", "--output", help="write the suite to this file instead of stdout")
    args = parser.parse_args(argv)
    command: str | list[str] = args.command[0] if len(args.command) == 1 else args.command
    try:
        text = from_cm(command)
    except CmTranslationError as exc:
        print(f"mlperf-nv from-cm: {exc}", file=sys.stderr)
        return 2
    if args.output:
        Path(args.output).write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


__all__ = ["CmTranslationError", "cm_main", "from_cm"]
