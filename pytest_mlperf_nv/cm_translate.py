"""A parsed CM/MLC command -> what the suite must say, each value with the command item it came from.

:func:`translate` applies the vocabulary (:mod:`.cm_vocabulary`) to every tag and flag, resolves the
defaults of the CM scripts (benchmark, scenarios, modes, ``_all-scenarios`` per category) and checks
the result against the benchmarks' scenarios; every item it cannot map is collected and raised
together as one :class:`.cm_parse.CmTranslationError`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .cm_parse import CmTranslationError, Flag, parse_command, split_tags
from .cm_vocabulary import (
    APP_TAGS,
    CODE_VERSION,
    DEFAULT_VARIATIONS,
    GPU_MEMORY_BUCKETS,
    GPU_NAMES,
    HARNESS_ADR,
    HARNESS_TAGS,
    IGNORED_FLAGS,
    IGNORED_PREFIXES,
    INTERNAL_GROUPS,
    KNOB_FLAGS,
    NVIDIA_VERSIONS,
    PRECISION,
    ROUND,
    SCENARIO_NAMES,
    SCENARIO_VARIATIONS,
    STAGES,
    SUBMISSION_FLAGS,
    TARGETS,
    UNSUPPORTED_FLAGS,
    UNSUPPORTED_VARIATIONS,
)
from .suite.knobs import KNOBS, SCENARIOS


@dataclass
class Translation:
    """What the command says the suite holds, each value with the command item(s) it came from; what
    was ignored, noted, or cannot be translated."""

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


def _number(text: str | None, source: str, suite: Translation, *, integer: bool, factor: int | None = None):
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


def _boolean(text: str | None, source: str, suite: Translation) -> bool | None:
    if text is None or text.lower() in ("yes", "true", "1", "on"):
        return True
    if text.lower() in ("no", "false", "0", "off"):
        return False
    suite.problems.append(f"{source}: expected yes or no")
    return None


def _variation(tag: str, suite: Translation, app: bool) -> None:
    from .benchmarks.mlperf import MLPERF_BENCHMARKS

    low = tag.lower()
    if tag[1:] in MLPERF_BENCHMARKS:
        suite.set("benchmark", tag[1:], tag)
    elif low in SCENARIO_VARIATIONS:
        suite.scenarios.append((SCENARIO_VARIATIONS[low], tag))
    elif low.startswith("_batch_size."):
        value = tag.split(".", 1)[1]
        if ":" in value:  # MLC v5.0+ form: _batch_size.<model>:<n>
            model, _, value = value.rpartition(":")
            if model and model in MLPERF_BENCHMARKS:
                suite.set("benchmark", model, tag)
        number = _number(value, tag, suite, integer=True)
        if number is not None:
            suite.knob("gpu_batch_size", number, tag)
    elif low[1:] in GPU_NAMES:
        suite.set("gpu", GPU_NAMES[low[1:]], tag)
    elif low in ("_sxm", "_pcie"):
        suite.set("connection", low[1:], tag)
    elif low.startswith("_gpu_memory."):
        size = tag.split(".", 1)[1]
        if size.isdigit() and int(size) in GPU_MEMORY_BUCKETS:
            suite.set("gpu", f"gpu_memory_{size}", tag)
        else:
            suite.problems.append(f"{tag}: no such memory bucket; the seed has "
                                  f"{', '.join(map(str, GPU_MEMORY_BUCKETS))}")
    elif low in INTERNAL_GROUPS:
        suite.ignored.append(f"{tag} (internal group of the model)")
    elif low in DEFAULT_VARIATIONS:
        suite.ignored.append(f"{tag} ({DEFAULT_VARIATIONS[low]})")
    elif low in STAGES:
        suite.problems.append(f"{tag}: runs only NVIDIA's 'make {STAGES[low]}' stage; the plugin prepares "
                              "engines and data as part of a run, so translate the _run_harness command")
    elif low in UNSUPPORTED_VARIATIONS:
        suite.problems.append(f"{tag}: {UNSUPPORTED_VARIATIONS[low]}")
    elif PRECISION.match(low):
        suite.problems.append(f"{tag}: the suite has no precision setting; NVIDIA's harness uses its "
                              "config's precision")
    elif CODE_VERSION.match(low):
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
    elif app and ROUND.match(low):
        _code_version(tag, low[2:].split("_")[0], suite)
    else:
        suite.problems.append(f"{tag}: unknown variation")


def _code_version(tag: str, version: str | None, suite: Translation) -> None:
    """``_r4.1-dev`` (front end round) or ``_v5.0`` (harness code version) -> nvidia.version."""
    if version is None or version in ("pre5.0", "v5.0+"):
        suite.ignored.append(f"{tag} (batch-size format group of the CM wrapper)")
        return
    base = version.removeprefix("v").removesuffix("-dev")
    if base in NVIDIA_VERSIONS:
        suite.set("nvidia_version", NVIDIA_VERSIONS[base], tag)
        if version.endswith("-dev"):
            suite.notes.append(f"{tag}: CM's -dev code versions ran a development branch of NVIDIA's "
                               "code; the "
                               f"suite runs NVIDIA's published {NVIDIA_VERSIONS[base]} code")
    else:
        suite.problems.append(f"{tag}: NVIDIA's code of round {base} is not one this plugin drives (it "
                              "drives "
                              f"{' and '.join(NVIDIA_VERSIONS.values())}: their configs, flags and "
                              "system lists "
                              "are checked against NVIDIA's code); use an inference_results_v4.1 or "
                              "v5.0 checkout")


def _flag(flag: Flag, suite: Translation, app: bool) -> None:
    from .benchmarks.mlperf import MLPERF_BENCHMARKS

    key, value, text = flag.key, flag.value, flag.text
    if key in IGNORED_FLAGS or key.startswith(IGNORED_PREFIXES):
        suite.ignored.append(text)
    elif key in SUBMISSION_FLAGS:
        if key == "division" and value not in ("closed", "open"):
            suite.problems.append(f"{text}: expected closed or open")
        elif value:
            old = suite.submission.get(SUBMISSION_FLAGS[key])
            if old is not None and old[0] != value:
                suite.problems.append(f"{text}: conflicts with {old[1]}")
            else:
                suite.submission[SUBMISSION_FLAGS[key]] = (value, text)
    elif key in HARNESS_ADR and value:
        for tag in split_tags(value):
            _variation(tag, suite, app=False)
    elif key in UNSUPPORTED_FLAGS:
        if key == "power" and value is not None and value.lower() in ("no", "false", "0"):
            suite.ignored.append(text)
        else:
            suite.problems.append(f"{text}: {UNSUPPORTED_FLAGS[key]}")
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
        scenario = SCENARIO_NAMES.get((value or "").lower())
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
        if value is not None and value.lower() in GPU_NAMES:
            suite.set("gpu", GPU_NAMES[value.lower()], text)
        else:
            suite.problems.append(f"{text}: unknown GPU name; the seed knows {', '.join(sorted(GPU_NAMES))}")
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
    elif key in TARGETS:
        scenarios, factor = TARGETS[key]
        number = _number(value, text, suite, integer=False, factor=factor)
        if number is not None:
            for scenario in scenarios:
                suite.targets.append((key, scenario, number, text))
    elif key in KNOB_FLAGS:
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


def translate(command: str | list[str]) -> Translation:
    from .benchmarks.mlperf import mlperf_scenarios

    parsed = parse_command(command)
    text = command if isinstance(command, str) else shlex.join(command)
    text = re.sub(r"\\\r?\n", " ", text)
    suite = Translation(command=text)
    plain = [t for t in parsed.tags if not t.startswith("_")]
    app = bool({"run-mlperf", "generate-run-cmds", "run-mlperf-inference-app"} & set(plain))
    known = APP_TAGS if app else HARNESS_TAGS
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


__all__ = ["Translation", "translate"]
