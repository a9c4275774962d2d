"""Per-GPU profiles: the harness settings the original CM script chose for each GPU, as package data.

One YAML file per profile in ``pytest_mlperf_nv/systems/profiles/`` (every number carries a comment
naming its source). A profile gives knob values at four levels, most specific first::

    benchmarks.<benchmark>.<Scenario>.<knob>   benchmark + scenario
    benchmarks.<benchmark>.<knob>              the whole benchmark
    scenarios.<Scenario>.<knob>                every benchmark in that scenario
    knobs.<knob>                               everything

and may ``inherits:`` another profile, whose four levels all sit below its own (``_common`` holds the
seed's GPU-independent entries and is not selectable). ``Profile.knobs(benchmark, scenario)`` merges
them. Knob names are the suite's (``suite/knobs.py``); a few NVIDIA harness flags outside that
vocabulary (``NVIDIA_FLAGS``) are kept apart and come from ``Profile.nvidia_flags``.

``resolve_profile("auto", facts)`` picks a profile by the GPU name NVML reports, else by the seed's
memory bucket (GiB rounded up to a multiple of 8).
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from ..errors import MlperfError
from ..suite.knobs import KNOBS, SCENARIOS
from ..words import did_you_mean, kind_of
from .detect import SystemFacts, memory_bucket_gib

PROFILE_KEYS = ("name", "description", "match", "aliases", "memory_gib", "inherits", "knobs",
                "scenarios", "benchmarks", "decisions")
REQUIRED_KEYS = ("name", "match", "memory_gib", "decisions")
BUCKET_PREFIX = "gpu_memory_"


@dataclass(frozen=True)
class NvidiaFlag:
    """A setting of NVIDIA's harness that the seed sets per GPU but the suite's knobs do not name."""

    name: str
    type: type
    minimum: int = 0


#: NVIDIA harness flags a profile may carry besides the suite knobs (seed variable in the doc)
NVIDIA_FLAGS: dict[str, NvidiaFlag] = {f.name: f for f in (
    NvidiaFlag("use_cuda_thread_per_device", bool),  # CM_MLPERF_NVIDIA_HARNESS_USE_CUDA_THREAD_PER_DEVICE
    NvidiaFlag("graphs_max_seqlen", int, 1),  # CM_MLPERF_NVIDIA_HARNESS_GRAPHS_MAX_SEQLEN
    NvidiaFlag("server_num_issue_query_threads", int, 0),  # ..._SERVER_NUM_ISSUE_QUERY_THREADS
    NvidiaFlag("audio_batch_size", int, 1),  # CM_MLPERF_NVIDIA_HARNESS_AUDIO_BATCH_SIZE
    NvidiaFlag("audio_buffer_num_lines", int, 1),  # CM_MLPERF_NVIDIA_HARNESS_AUDIO_BUFFER_NUM_LINES
    NvidiaFlag("disable_encoder_plugin", bool),  # CM_MLPERF_NVIDIA_HARNESS_DISABLE_ENCODER_PLUGIN
)}


class ProfileError(MlperfError, ValueError):
    """A profile file that does not validate, or a profile that cannot be found or chosen."""


_Layer = Mapping[str, Any]


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, eq=False)
class Profile:
    """One GPU profile. Compare by ``name``; the mappings are read-only."""

    name: str
    match: tuple[str, ...]
    memory_gib: int | None
    decisions: tuple[str, ...]
    description: str = ""
    aliases: tuple[str, ...] = ()
    #: the profile this one sits on (already resolved), or None
    parent: Profile | None = None
    #: file the profile was read from (for messages)
    path: str = ""
    profile_knobs: _Layer = field(default_factory=dict)
    scenario_knobs: Mapping[str, _Layer] = field(default_factory=dict)
    benchmark_knobs: Mapping[str, _Layer] = field(default_factory=dict)
    benchmark_scenario_knobs: Mapping[str, Mapping[str, _Layer]] = field(default_factory=dict)

    @property
    def is_bucket(self) -> bool:
        return self.name.startswith(BUCKET_PREFIX)

    @property
    def benchmarks(self) -> tuple[str, ...]:
        """Benchmarks this profile or one it inherits gives values for."""
        names: dict[str, None] = {}
        for prof in self.chain():
            names.update(dict.fromkeys(prof.benchmark_knobs))
            names.update(dict.fromkeys(prof.benchmark_scenario_knobs))
        return tuple(names)

    def chain(self) -> tuple[Profile, ...]:
        """This profile, then the one it inherits, and so on."""
        out: list[Profile] = []
        prof: Profile | None = self
        while prof is not None:
            out.append(prof)
            prof = prof.parent
        return tuple(out)

    def matches(self, gpu_name: str) -> bool:
        """True when NVML's GPU name is one of ``match`` (case and spacing ignored; ``*`` globs)."""
        wanted = _norm(gpu_name)
        return any(fnmatch.fnmatchcase(wanted, _norm(p)) if "*" in p else wanted == _norm(p)
                   for p in self.match)

    def explain(self, benchmark: str, scenario: str) -> dict[str, tuple[Any, str]]:
        """Every setting for ``benchmark`` in ``scenario`` (knobs and NVIDIA flags) with where it
        comes from, e.g. ``{"gpu_batch_size": (16, "l4.yaml benchmarks.resnet50.Server")}``."""
        if scenario not in SCENARIOS:
            raise ProfileError(f"unknown scenario {scenario!r}{_hint(scenario, SCENARIOS)}")
        found: dict[str, tuple[Any, str]] = {}
        for prof in self.chain():
            layers = (
                (prof.benchmark_scenario_knobs.get(benchmark, {}).get(scenario, {}),
                 f"benchmarks.{benchmark}.{scenario}"),
                (prof.benchmark_knobs.get(benchmark, {}), f"benchmarks.{benchmark}"),
                (prof.scenario_knobs.get(scenario, {}), f"scenarios.{scenario}"),
                (prof.profile_knobs, "knobs"),
            )
            for layer, where in layers:
                for key, value in layer.items():
                    if key in found:
                        continue
                    if key in KNOBS and scenario not in KNOBS[key].scenarios:
                        continue  # e.g. a profile-wide server_target_qps applies to Server only
                    found[key] = (value, f"{Path(prof.path).name or prof.name} {where}")
        return found

    def knobs(self, benchmark: str, scenario: str) -> dict[str, Any]:
        """The suite knobs this profile sets for ``benchmark`` in ``scenario``, most specific level
        first: benchmark+scenario, benchmark, scenario, profile-wide; then the inherited profile."""
        return {k: v for k, (v, _) in self.explain(benchmark, scenario).items() if k in KNOBS}

    def nvidia_flags(self, benchmark: str, scenario: str) -> dict[str, Any]:
        """The NVIDIA harness flags outside the knob vocabulary (``NVIDIA_FLAGS``), same precedence."""
        return {k: v for k, (v, _) in self.explain(benchmark, scenario).items() if k in NVIDIA_FLAGS}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Profile) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"Profile({self.name!r})"


def _norm(text: str) -> str:
    return " ".join(str(text).split()).lower()


def _hint(word: str, choices) -> str:
    return did_you_mean(word, choices, ignore_case=True)


# ---------------------------------------------------------------------------------------------
# loading and validation


class _Check:
    """Validation helpers bound to one file: every error names the file and the key."""

    def __init__(self, path: str):
        self.path = path

    def fail(self, key: str, message: str) -> ProfileError:
        where = f"{key}: " if key else ""
        return ProfileError(f"{self.path}: {where}{message}")

    def mapping(self, value: Any, key: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {_kind(value)}")
        return value

    def strings(self, value: Any, key: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(key, f"expected a list of non-empty strings, got {_kind(value)}")
        return tuple(value)

    def setting(self, name: Any, value: Any, key: str, scenario: str | None) -> Any:
        if name in KNOBS:
            knob = KNOBS[name]
            if scenario is not None and scenario not in knob.scenarios:
                raise self.fail(key, f"applies to {', '.join(knob.scenarios)} only, not {scenario}")
            return self._typed(value, key, knob.type, knob.minimum, knob.positive)
        if name in NVIDIA_FLAGS:
            flag = NVIDIA_FLAGS[name]
            return self._typed(value, key, flag.type, flag.minimum, False)
        raise self.fail(key, f"unknown knob{_hint(str(name), list(KNOBS) + list(NVIDIA_FLAGS))}")

    def _typed(self, value: Any, key: str, kind: type, minimum: float | None, positive: bool) -> Any:
        if kind is bool:
            if not isinstance(value, bool):
                raise self.fail(key, f"expected true or false, got {_kind(value)} {value!r}")
            return value
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if kind is int and not (is_number and isinstance(value, int)):
            raise self.fail(key, f"expected an integer, got {_kind(value)} {value!r}")
        if kind is float and not is_number:
            raise self.fail(key, f"expected a number, got {_kind(value)} {value!r}")
        if positive and value <= 0:
            raise self.fail(key, f"must be greater than 0, got {value}")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be at least {minimum:g}, got {value}")
        return value

    def layer(self, raw: Any, key: str, scenario: str | None) -> _Layer:
        body = self.mapping(raw, key)
        return _frozen({name: self.setting(name, value, f"{key}.{name}", scenario)
                        for name, value in body.items()})


def _kind(value: Any) -> str:
    return kind_of(value)


def _parse(path: str, text: str) -> tuple[dict, dict]:
    """Validate one file. Returns the profile's fields (without ``parent``) and the raw document."""
    check = _Check(path)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise check.fail("", f"the top level must be a mapping, got {_kind(doc)}")
    for key in doc:
        if key not in PROFILE_KEYS:
            raise check.fail(str(key), f"unknown key{_hint(str(key), PROFILE_KEYS)}")
    for key in REQUIRED_KEYS:
        if key not in doc:
            raise check.fail(key, "required key is missing")
    name = doc["name"]
    stem = Path(path).stem
    if not isinstance(name, str) or name != stem:
        raise check.fail("name", f"must be the file name without .yaml ({stem!r}), got {name!r}")
    memory = doc["memory_gib"]
    if memory is not None and (isinstance(memory, bool) or not isinstance(memory, int) or memory <= 0):
        raise check.fail("memory_gib", f"expected a positive integer or null, got {_kind(memory)} {memory!r}")
    decisions = check.strings(doc["decisions"], "decisions")
    inherits = doc.get("inherits")
    if inherits is not None and not isinstance(inherits, str):
        raise check.fail("inherits", f"expected a profile name or null, got {_kind(inherits)}")
    description = doc.get("description") or ""
    if not isinstance(description, str):
        raise check.fail("description", f"expected a string, got {_kind(description)}")

    scenario_knobs: dict[str, _Layer] = {}
    for scenario, body in check.mapping(doc.get("scenarios"), "scenarios").items():
        if scenario not in SCENARIOS:
            raise check.fail(f"scenarios.{scenario}", f"unknown scenario{_hint(str(scenario), SCENARIOS)}")
        scenario_knobs[scenario] = check.layer(body, f"scenarios.{scenario}", scenario)

    from ..benchmarks.mlperf import (
        MLPERF_BENCHMARKS,  # not at import time: keep this module light
        mlperf_scenarios,
    )

    bench_knobs: dict[str, _Layer] = {}
    bench_scen: dict[str, Mapping[str, _Layer]] = {}
    for bench, body in check.mapping(doc.get("benchmarks"), "benchmarks").items():
        where = f"benchmarks.{bench}"
        if bench not in MLPERF_BENCHMARKS:
            raise check.fail(where, f"unknown benchmark{_hint(str(bench), list(MLPERF_BENCHMARKS))}")
        body = check.mapping(body, where)
        supported = mlperf_scenarios(bench)
        wide = {k: v for k, v in body.items() if k not in SCENARIOS}
        per: dict[str, _Layer] = {}
        for scenario in (k for k in body if k in SCENARIOS):
            if scenario not in supported:
                raise check.fail(f"{where}.{scenario}",
                                 f"{bench} has no {scenario} scenario; it has {', '.join(supported)}")
            per[scenario] = check.layer(body[scenario], f"{where}.{scenario}", scenario)
        if wide:
            bench_knobs[bench] = check.layer(wide, where, None)
        if per:
            bench_scen[bench] = _frozen(per)

    fields = dict(
        name=name, match=check.strings(doc["match"], "match"), memory_gib=memory, decisions=decisions,
        description=description, aliases=check.strings(doc.get("aliases"), "aliases"), path=path,
        profile_knobs=check.layer(doc.get("knobs"), "knobs", None),
        scenario_knobs=_frozen(scenario_knobs), benchmark_knobs=_frozen(bench_knobs),
        benchmark_scenario_knobs=_frozen(bench_scen),
    )
    return fields, {"inherits": inherits}


def _default_files() -> list[tuple[str, str]]:
    root = resources.files("pytest_mlperf_nv.systems").joinpath("profiles")
    files = sorted((entry for entry in root.iterdir() if entry.name.endswith(".yaml")),
                   key=lambda entry: entry.name)
    return [(str(entry), entry.read_text(encoding="utf-8")) for entry in files]


def _build(files: list[tuple[str, str]]) -> dict[str, Profile]:
    parsed: dict[str, tuple[dict, dict]] = {}
    for path, text in files:
        fields, extra = _parse(path, text)
        if fields["name"] in parsed:
            raise ProfileError(f"{path}: name: profile {fields['name']!r} is defined twice")
        parsed[fields["name"]] = (fields, extra)

    built: dict[str, Profile] = {}

    def build(name: str, trail: tuple[str, ...]) -> Profile:
        if name in built:
            return built[name]
        fields, extra = parsed[name]
        parent_name = extra["inherits"]
        parent = None
        if parent_name is not None:
            if parent_name not in parsed:
                raise ProfileError(f"{fields['path']}: inherits: unknown profile "
                                   f"{parent_name!r}{_hint(parent_name, list(parsed))}")
            if parent_name in trail:
                raise ProfileError(f"{fields['path']}: inherits: cycle {' -> '.join(trail + (parent_name,))}")
            parent = build(parent_name, trail + (parent_name,))
        built[name] = Profile(parent=parent, **fields)
        return built[name]

    for name in parsed:
        build(name, (name,))

    owners: dict[str, str] = {}
    for prof in built.values():
        for word in (prof.name, *prof.aliases):
            key = word.lower()
            if key in owners and owners[key] != prof.name:
                raise ProfileError(f"{prof.path}: aliases: {word!r} already names profile {owners[key]!r}")
            owners[key] = prof.name
        for pattern in prof.match:
            key = "match:" + _norm(pattern)
            if key in owners:
                raise ProfileError(f"{prof.path}: match: {pattern!r} is also matched by profile "
                                   f"{owners[key]!r}")
            owners[key] = prof.name
    return built


@functools.lru_cache(maxsize=1)
def _packaged() -> dict[str, Profile]:
    return _build(_default_files())


def load_profiles(directory: str | Path | None = None) -> dict[str, Profile]:
    """Every selectable profile by name (``_common`` and other ``_`` files are layers, not profiles).

    ``directory`` reads another set of files instead of the packaged ones (tests, experiments).
    Raises ProfileError naming the file and key of the first problem.
    """
    if directory is None:
        built = _packaged()
    else:
        paths = sorted(Path(directory).glob("*.yaml"))
        built = _build([(str(p), p.read_text(encoding="utf-8")) for p in paths])
    return {name: prof for name, prof in built.items() if not name.startswith("_")}


def get_profile(name: str, profiles: Mapping[str, Profile] | None = None) -> Profile:
    """The profile called ``name`` or one of its aliases (case-insensitive), with a did-you-mean."""
    profiles = load_profiles() if profiles is None else profiles
    wanted = str(name).strip().lower()
    for prof in profiles.values():
        if wanted == prof.name.lower() or wanted in (a.lower() for a in prof.aliases):
            return prof
    words = sorted(profiles) + sorted(a for p in profiles.values() for a in p.aliases)
    raise ProfileError(f"unknown GPU profile {name!r}{_hint(str(name), words)} "
                       "(or 'auto' to pick by the GPU this machine has)")


def _bucket_profile(bucket: int, profiles: Mapping[str, Profile]) -> tuple[Profile, str] | None:
    exact = profiles.get(f"{BUCKET_PREFIX}{bucket}")
    if exact is not None:
        return exact, f"{bucket} GiB bucket"
    below = sorted((p.memory_gib, p) for p in profiles.values()
                   if p.is_bucket and p.memory_gib is not None and p.memory_gib < bucket)
    if not below:
        return None
    size, prof = below[-1]
    return prof, (f"there is no {BUCKET_PREFIX}{bucket} profile; largest bucket below the GPU's "
                  f"{bucket} GiB")


def resolve_profile(gpu: str, facts: SystemFacts | None,
                    profiles: Mapping[str, Profile] | None = None) -> tuple[Profile, str]:
    """Choose the profile for a suite's ``system.gpu`` value. Returns it and a one-line explanation.

    ``gpu`` is a profile name (or alias) or ``"auto"``. ``auto`` matches the GPU name NVML reports
    for the first visible GPU against each profile's ``match`` list, and otherwise falls back to the
    memory bucket profile ``gpu_memory_<bucket>`` (the largest one below when that bucket has none).
    ``auto`` without facts or on a machine without GPUs raises ProfileError.
    """
    profiles = load_profiles() if profiles is None else profiles
    if str(gpu).strip().lower() != "auto":
        prof = get_profile(gpu, profiles)
        line = f"system.gpu {gpu}: profile {prof.name}"
        if facts is not None and facts.gpu_name and prof.match and not prof.matches(facts.gpu_name):
            line += f" (note: this machine's GPU is '{facts.gpu_name}', which {prof.name} does not match)"
        return prof, line
    if facts is None:
        raise ProfileError("system.gpu auto: the machine's GPU is unknown; run on the machine or give a "
                           "system snapshot, or name a profile: " + ", ".join(sorted(profiles)))
    if not facts.gpus:
        why = f" ({facts.gpu_error})" if facts.gpu_error else ""
        raise ProfileError(f"system.gpu auto: no NVIDIA GPU found on {facts.hostname or 'this machine'}"
                           f"{why}; name a profile with system.gpu: <profile> (one of "
                           f"{', '.join(sorted(profiles))}) or run on a GPU machine")
    first = facts.gpus[0]
    mixed = len({g.name for g in facts.gpus}) > 1
    suffix = f" (GPU {first.index} of {len(facts.gpus)} mixed GPUs)" if mixed else ""
    matched = [p for p in profiles.values() if p.matches(first.name)]
    if len(matched) > 1:
        raise ProfileError(f"system.gpu auto: '{first.name}' matches several profiles: "
                           f"{', '.join(p.name for p in matched)}; name one with system.gpu")
    if matched:
        return matched[0], f"auto: {first.name} matched profile {matched[0].name}{suffix}"
    bucket = memory_bucket_gib(first.memory_total_mib)
    fallback = _bucket_profile(bucket, profiles)
    if fallback is None:
        raise ProfileError(f"system.gpu auto: no profile matches '{first.name}' and no memory bucket "
                           f"profile fits {bucket} GiB; name a profile with system.gpu")
    prof, why = fallback
    return prof, f"auto: no profile matches '{first.name}'; using {prof.name} ({why}){suffix}"


__all__ = [
    "NVIDIA_FLAGS",
    "Profile",
    "ProfileError",
    "get_profile",
    "load_profiles",
    "resolve_profile",
]
