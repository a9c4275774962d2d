"""Validation of a loaded suite document into a :class:`Suite` and its :class:`Case` list.

Every error is a SuiteError that names the file, line and column, the key, what was
expected, and a did-you-mean for near-miss names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..benchmarks.base import BenchmarkDef
from ..benchmarks.custom import ARRAYS_DATASET, METRICS, classification_benchmark
from ..benchmarks.mlperf import MLPERF_BENCHMARKS, mlperf_scenarios
from ..errors import Location, SettingsError, SuiteError
from ..registry import DEFAULT_HARNESS, Registry
from ..words import did_you_mean, kind_of
from .knobs import ALL_MODES, KNOBS, MODES, PROFILES, SCENARIOS, Knob
from .model import Case, Sourced, Suite
from .yamlload import YList, YMap, load_yaml

SUITE_VERSIONS = (1,)
SYSTEM_TYPES = ("datacenter", "edge", "datacenter,edge", "edge,datacenter")
#: top-level keys; a registered harness may add a block of its own (e.g. ``nvidia:``)
TOP_KEYS = ("mlperf_suite", "extends", "name", "description", "system", "harness", "backend",
            "backend_options", "profile", "modes", "timeout", "submission", "benchmarks")
BENCHMARK_KEYS = ("benchmark", "description", "scenarios", "modes", "expect", "dataset",
                  "accuracy_samples", "model", "metric", "accuracy_target")
#: keys only a suite-defined (custom) benchmark may use
CUSTOM_KEYS = ("model", "metric", "accuracy_target")
EXPECT_KEYS = ("min_accuracy", "min_qps", "max_latency_ms")
SYSTEM_KEYS = ("gpu", "count", "type")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


def _hint(word: str, choices: Iterable[str]) -> str:
    return did_you_mean(word, choices)


class _Doc:
    """Helpers bound to one file: positions and typed getters."""

    def __init__(self, path: Path):
        self.path = path

    def kind(self, value: Any) -> str:
        """How a value reads in a message ("a string", "nothing (null)")."""
        return _kind(value)

    def key_loc(self, mapping: YMap, key: Any) -> Location:
        return mapping.key_locations.get(key, mapping.location)

    def value_loc(self, mapping: YMap, key: Any) -> Location:
        return mapping.value_locations.get(key, mapping.location)

    def mapping(self, parent: YMap, key: str, dotted: str, *, required: bool = False) -> YMap | None:
        if key not in parent:
            if required:
                raise SuiteError("required key is missing", parent.location, key=dotted)
            return None
        value = parent[key]
        if value is None:
            return None
        if not isinstance(value, YMap):
            raise SuiteError(f"expected a mapping, got {_kind(value)}", self.value_loc(parent, key),
                             key=dotted)
        return value

    def check_keys(self, mapping: YMap, allowed: Iterable[str], where: str) -> None:
        allowed = list(allowed)
        for key in mapping:
            if key not in allowed:
                prefix = f"{where}." if where else ""
                raise SuiteError(f"unknown key{_hint(key, allowed)}", self.key_loc(mapping, key),
                                 key=f"{prefix}{key}")

    def string(self, parent: YMap, key: str, dotted: str) -> str | None:
        if key not in parent:
            return None
        value = parent[key]
        if not isinstance(value, str):
            raise SuiteError(f"expected a string, got {_kind(value)}", self.value_loc(parent, key),
                             key=dotted)
        return value

    def choice(self, parent: YMap, key: str, dotted: str, choices: Iterable[str]) -> str | None:
        value = self.string(parent, key, dotted)
        choices = list(choices)
        if value is not None and value not in choices:
            raise SuiteError(f"unknown value '{value}'{_hint(value, choices)}",
                             self.value_loc(parent, key), key=dotted)
        return value

    def safe_name(self, value: Any, loc: Location, dotted: str, what: str) -> str:
        if not isinstance(value, str):
            raise SuiteError(f"{what} must be a string, got {_kind(value)}", loc, key=dotted)
        if not _SAFE_NAME.match(value) or ".." in value:
            raise SuiteError(
                f"{what} '{value}' cannot be used in a file path (it becomes a directory of the "
                "output): use letters, digits, '_', '-', '.', '+', no '/' and no '..'", loc, key=dotted)
        return value

    def number(self, value: Any, loc: Location, dotted: str, *, integer: bool, positive: bool,
               minimum: float | None = None) -> int | float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                integer and not isinstance(value, int)):
            expected = "an integer" if integer else "a number"
            raise SuiteError(f"expected {expected}, got {_got(value)}", loc, key=dotted)
        if positive and value <= 0:
            raise SuiteError(f"must be greater than 0, got {value}", loc, key=dotted)
        if minimum is not None and value < minimum:
            raise SuiteError(f"must be at least {minimum:g}, got {value}", loc, key=dotted)
        return value


def _kind(value: Any) -> str:
    return kind_of(value, null="nothing (null)")


def _got(value: Any) -> str:
    """The kind and, where it adds something, the value, spelled as in YAML."""
    if value is None:
        return _kind(value)
    if isinstance(value, bool):
        return f"{_kind(value)} {str(value).lower()}"
    return f"{_kind(value)} {value!r}"


def is_suite_text(text: str) -> bool:
    """True when a YAML text declares itself a suite (a top-level ``mlperf_suite:`` line)."""
    return re.search(r"^mlperf_suite\s*:", text, flags=re.MULTILINE) is not None


def load_suite(path: Path, registry: Registry, harness_override: str | None = None) -> Suite:
    """Load, validate and expand one suite file. Raises SuiteError.

    ``harness_override`` (``--mlperf-harness``) runs the suite on another harness than the
    one it names: knobs that harness cannot honour are then listed in
    ``Suite.ignored_knobs`` instead of being errors, and benchmarks it cannot run skip.
    """
    raw = path.read_bytes()
    root = load_yaml(path, raw.decode("utf-8", errors="replace"))
    doc = _Doc(path)
    digest = hashlib.sha256(raw)
    if isinstance(root, YMap) and "extends" in root:
        root = _extended(doc, root, digest, [path.resolve()])
    if not isinstance(root, YMap):
        raise SuiteError(
            f"the top level must be a mapping with 'mlperf_suite: 1' and 'benchmarks:', got {_kind(root)}",
            getattr(root, "location", None) or Location(path, 1, 1))
    if "mlperf_suite" not in root:
        raise SuiteError("required key is missing: add 'mlperf_suite: 1' as the first line",
                         root.location, key="mlperf_suite")
    version = root["mlperf_suite"]
    if isinstance(version, bool) or version not in SUITE_VERSIONS:
        raise SuiteError(
            f"unknown suite format version {version!r}; this plugin reads versions "
            f"{', '.join(map(str, SUITE_VERSIONS))}", doc.value_loc(root, "mlperf_suite"),
            key="mlperf_suite")
    sections = {h.section: h for h in registry.harnesses.values() if h.section}
    doc.check_keys(root, (*TOP_KEYS, *sections), "")

    name = path.stem
    if "name" in root:
        name = doc.safe_name(root["name"], doc.value_loc(root, "name"), "name", "name")
    harness = doc.choice(root, "harness", "harness", sorted(registry.harnesses)) or DEFAULT_HARNESS
    declared = harness
    if harness_override and harness_override != harness:
        if harness_override not in registry.harnesses:
            raise SettingsError(f"--mlperf-harness {harness_override!r}: unknown harness"
                                f"{_hint(harness_override, registry.harnesses)}; registered: "
                                f"{', '.join(sorted(registry.harnesses))}")
        harness = harness_override
    parsed_sections = {}
    for key, owner in sections.items():
        block = doc.mapping(root, key, key)
        if block is not None:
            parsed_sections[key] = owner.parse_section(doc, block)
    backend = doc.choice(root, "backend", "backend", sorted(registry.backends)) or "onnxruntime"
    profile = None
    if "profile" in root:
        profile = Sourced(doc.choice(root, "profile", "profile", PROFILES),
                          f"suite {doc.value_loc(root, 'profile')}")
    timeout = None
    if "timeout" in root:
        value = doc.number(root["timeout"], doc.value_loc(root, "timeout"), "timeout",
                           integer=False, positive=True)
        timeout = Sourced(float(value), f"suite {doc.value_loc(root, 'timeout')}")
    modes = _modes(doc, root, "modes") or MODES
    system = _system(doc, root)
    from .submission import parse_submission

    submission = parse_submission(doc, root, name)

    benchmarks = doc.mapping(root, "benchmarks", "benchmarks", required=True)
    if not benchmarks:
        raise SuiteError("the benchmark list is empty: name at least one benchmark, e.g. "
                         "'benchmarks: {digits: {scenarios: [Offline]}}'",
                         doc.value_loc(root, "benchmarks"), key="benchmarks")

    suite = Suite(path=path, name=name, version=version, harness=harness, backend=backend,
                  profile=profile, timeout=timeout, modes=modes, system=system,
                  sha256=digest.hexdigest(), sections=parsed_sections,
                  declared_harness=declared, submission=submission)
    runner = registry.harnesses[harness]
    suite.honoured_knobs = frozenset(k for k, knob in KNOBS.items()
                                     if runner.knob_problem(knob, suite, registry) is None)
    suite.backend_options = _backend_options(doc, root, suite, registry)
    profile_name = profile.value if profile else None
    for bench_id in benchmarks:
        suite.cases.extend(_benchmark_cases(doc, suite, benchmarks, bench_id, registry, profile_name))
    return suite


def _extended(doc: _Doc, root: YMap, digest: Any, chain: list[Path]) -> YMap:
    """``extends: base.yaml``: the base suite's settings, overridden key by key by this file's."""
    loc = doc.value_loc(root, "extends")
    name = doc.string(root, "extends", "extends")
    if not name:
        raise SuiteError("expected the path of another suite file (relative to this one)", loc,
                         key="extends")
    base_path = (doc.path.parent / name).resolve()
    if not base_path.is_file():
        packaged = Path(__file__).resolve().parent.parent / "suites" / name
        if not packaged.is_file():
            raise SuiteError(f"suite to extend not found: {base_path} (paths are relative to this file)",
                             loc, key="extends")
        base_path = packaged
    if base_path in chain:
        cycle = " -> ".join(p.name for p in [*chain, base_path])
        raise SuiteError(f"suites extend each other in a cycle: {cycle}", loc, key="extends")
    raw = base_path.read_bytes()
    digest.update(raw)
    base = load_yaml(base_path, raw.decode("utf-8", errors="replace"))
    if not isinstance(base, YMap):
        raise SuiteError(f"{base_path.name} is not a suite (its top level is not a mapping)", loc,
                         key="extends")
    if "extends" in base:
        base = _extended(_Doc(base_path), base, digest, [*chain, base_path])
    own = YMap((k, v) for k, v in root.items() if k != "extends")
    own.location = root.location
    own.key_locations = {k: v for k, v in root.key_locations.items() if k != "extends"}
    own.value_locations = {k: v for k, v in root.value_locations.items() if k != "extends"}
    return _merge(base, own)


def _merge(base: YMap, own: YMap) -> YMap:
    """Mappings merge key by key (recursively); any other value in ``own`` replaces the base's."""
    merged = YMap(base)
    merged.location = own.location
    merged.key_locations = dict(base.key_locations)
    merged.value_locations = dict(base.value_locations)
    for key, value in own.items():
        if isinstance(value, YMap) and isinstance(merged.get(key), YMap):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
        merged.key_locations[key] = own.key_locations[key]
        merged.value_locations[key] = own.value_locations[key]
    return merged


def _backend_options(doc: _Doc, root: YMap, suite: Suite, registry: Registry) -> dict[str, Any]:
    """``backend_options: {...}``: options the suite's backend declares, each of its declared type."""
    block = doc.mapping(root, "backend_options", "backend_options")
    if block is None:
        return {}
    declared = registry.harnesses[suite.harness].backend_options(suite, registry) or {}
    if not declared:
        raise SuiteError(f"backend {suite.backend} (harness {suite.harness}) takes no options: remove this "
                         "block", doc.key_loc(root, "backend_options"), key="backend_options")
    doc.check_keys(block, declared, "backend_options")
    options: dict[str, Any] = {}
    for key in block:
        value, kind = block[key], declared[key]
        dotted = f"backend_options.{key}"
        loc = doc.value_loc(block, key)
        if kind is bool and not isinstance(value, bool):
            raise SuiteError(f"expected true or false, got {_got(value)}", loc, key=dotted)
        if kind in (int, float):
            value = doc.number(value, loc, dotted, integer=kind is int, positive=False)
            value = kind(value)
        elif kind is str and not isinstance(value, str):
            raise SuiteError(f"expected a string, got {_got(value)}", loc, key=dotted)
        elif kind in (list, tuple) and not isinstance(value, list):
            raise SuiteError(f"expected a list, got {_got(value)}", loc, key=dotted)
        options[key] = list(value) if isinstance(value, list) else value
    return options


def _modes(doc: _Doc, parent: YMap, dotted: str) -> tuple[str, ...] | None:
    if "modes" not in parent:
        return None
    value = parent["modes"]
    loc = doc.value_loc(parent, "modes")
    if isinstance(value, str):
        value = YList([value])
        value.item_locations = [loc]
    if not isinstance(value, YList) or not value:
        raise SuiteError("expected a non-empty list of modes, e.g. [performance, accuracy]", loc,
                         key=dotted)
    for item, item_loc in zip(value, value.item_locations, strict=True):
        if item not in ALL_MODES:
            raise SuiteError(f"unknown mode {item!r}{_hint(str(item), ALL_MODES)}", item_loc, key=dotted)
    return tuple(dict.fromkeys(value))


def _system(doc: _Doc, root: YMap) -> dict[str, Any]:
    system = doc.mapping(root, "system", "system")
    if system is None:
        return {"gpu": "none", "count": 1}
    doc.check_keys(system, SYSTEM_KEYS, "system")
    result: dict[str, Any] = {"gpu": doc.string(system, "gpu", "system.gpu") or "none", "count": 1}
    if result["gpu"] not in ("none", "auto"):
        from ..systems.profiles import ProfileError, get_profile

        try:
            result["gpu"] = get_profile(result["gpu"]).name
        except ProfileError as exc:
            raise SuiteError(f"{exc}, or 'none' (CPU only)", doc.value_loc(system, "gpu"),
                             key="system.gpu") from None
    if "count" in system:
        result["count"] = doc.number(system["count"], doc.value_loc(system, "count"), "system.count",
                                     integer=True, positive=True)
    if "type" in system:
        result["type"] = doc.choice(system, "type", "system.type", SYSTEM_TYPES)
    return result


def _benchmark_cases(doc: _Doc, suite: Suite, benchmarks: YMap, bench_id: Any,
                     registry: Registry, profile: str | None) -> list[Case]:
    key_loc = doc.key_loc(benchmarks, bench_id)
    dotted = f"benchmarks.{bench_id}"
    bench_id = doc.safe_name(bench_id, key_loc, dotted, "benchmark id")
    body = benchmarks[bench_id]
    if body is None:
        body = YMap()
        body.location, body.key_locations, body.value_locations = key_loc, {}, {}
    if not isinstance(body, YMap):
        raise SuiteError(f"expected a mapping of benchmark settings, got {_kind(body)}",
                         doc.value_loc(benchmarks, bench_id), key=dotted)
    known = sorted(set(registry.benchmarks) | set(MLPERF_BENCHMARKS))
    name = bench_id
    custom = "model" in body
    if custom:
        if "benchmark" in body:
            raise SuiteError("a benchmark defined here with 'model:' cannot also name another benchmark",
                             doc.key_loc(body, "benchmark"), key=f"{dotted}.benchmark")
        definition, dataset_options = _custom_definition(doc, suite, body, dotted, bench_id)
    else:
        for key in CUSTOM_KEYS:
            if key in body:
                raise SuiteError(f"'{key}' belongs to a benchmark defined in the suite: add "
                                 "'model: <file.onnx>' and 'dataset: {inputs: <x.npy>, labels: <y.npy>}', "
                                 "or remove it",
                                 doc.key_loc(body, key), key=f"{dotted}.{key}")
        if "benchmark" in body:
            name = doc.string(body, "benchmark", f"{dotted}.benchmark") or bench_id
            if name not in known:
                raise SuiteError(f"unknown benchmark '{name}'{_hint(name, known)}",
                                 doc.value_loc(body, "benchmark"), key=f"{dotted}.benchmark")
        elif name not in known:
            raise SuiteError(
                f"unknown benchmark '{name}'{_hint(name, known)} (a variant with its own id names its "
                "benchmark with 'benchmark: <name>'; a benchmark of your own gives 'model:' and "
                "'dataset:')", key_loc, key=dotted)
        definition = registry.benchmarks.get(name)
        dataset_options = {}
    support = registry.harnesses[suite.harness].supports(name, definition, suite)
    if support.error:
        raise SuiteError(support.error, key_loc, key=dotted)
    skip_reason = support.skip_reason
    supported = support.scenarios or (definition.scenarios if definition else mlperf_scenarios(name))

    allowed = list(BENCHMARK_KEYS) + list(KNOBS)
    doc.check_keys(body, allowed, dotted)
    modes = _modes(doc, body, f"{dotted}.modes") or suite.modes
    expect = _expect(doc, body, dotted)

    scenario_map = _scenarios(doc, body, dotted, supported, name)
    dataset = definition.dataset if custom else _dataset(doc, body, dotted, definition)
    accuracy_samples = None
    if "accuracy_samples" in body:
        loc = doc.value_loc(body, "accuracy_samples")
        accuracy_samples = Sourced(doc.number(body["accuracy_samples"], loc, f"{dotted}.accuracy_samples",
                                              integer=True, positive=True), f"suite {loc}")
    # Validate every benchmark-level knob, also one that applies to none of the scenarios.
    common_knobs = {k: _knob_value(doc, suite, KNOBS[k], body[k], doc.value_loc(body, k),
                                   f"{dotted}.{k}", profile, registry) for k in body if k in KNOBS}
    common_knobs = {k: v for k, v in common_knobs.items() if v is not None}
    cases: list[Case] = []
    for scenario, (scen_body, scen_loc) in scenario_map.items():
        knobs: dict[str, Sourced] = {}
        for knob_name, sourced in common_knobs.items():
            if scenario not in KNOBS[knob_name].scenarios:
                continue  # a benchmark-level scenario target applies to its own scenario only
            knobs[knob_name] = sourced
        if scen_body is not None:
            where = f"{dotted}.scenarios.{scenario}"
            for knob_name in scen_body:
                kloc = doc.key_loc(scen_body, knob_name)
                if knob_name not in KNOBS:
                    raise SuiteError(f"unknown knob{_hint(knob_name, list(KNOBS))}", kloc,
                                     key=f"{where}.{knob_name}")
                knob = KNOBS[knob_name]
                if scenario not in knob.scenarios:
                    raise SuiteError(f"applies to {', '.join(knob.scenarios)} only, not {scenario}",
                                     kloc, key=f"{where}.{knob_name}")
                value = _knob_value(doc, suite, knob, scen_body[knob_name],
                                    doc.value_loc(scen_body, knob_name), f"{where}.{knob_name}", profile,
                                    registry)
                if value is not None:
                    knobs[knob_name] = value
        for mode in modes:
            audits: tuple[str | None, ...] = (None,)
            if mode == "compliance":
                from ..submission.rounds import audits_for

                audits = audits_for(suite, bench_id, name)
            for audit in audits:
                reason = skip_reason
                if reason is None and (mode == "accuracy" or audit == "TEST01") and definition \
                        and definition.is_synthetic(dataset):
                    reason = (f"{name} {audit or mode} needs real data with labels; dataset "
                              f"'{_choice_of(definition, dataset)}' is synthetic (performance only). "
                              f"Choose one of: {', '.join(_real_choices(definition))}")
                if reason is None and audit is not None and audit not in ("TEST01", "TEST04"):
                    reason = f"{audit} is not implemented yet (TEST01 and TEST04 are)"
                cases.append(Case(suite=suite, id=bench_id, benchmark=name, scenario=scenario, mode=mode,
                                  knobs=knobs, expect=expect, location=scen_loc, dataset=dataset,
                                  accuracy_samples=accuracy_samples, skip_reason=reason,
                                  definition=definition, dataset_options=dataset_options, audit=audit))
    return cases


def _custom_definition(doc: _Doc, suite: Suite, body: YMap, dotted: str, bench_id: str
                       ) -> tuple[BenchmarkDef, dict[str, Any]]:
    """A benchmark the suite defines: an ONNX classifier and .npy arrays (paths from the suite)."""
    base = suite.path.parent

    def path_of(parent: YMap, key: str, where: str) -> Path:
        value = doc.string(parent, key, where)
        if not value:
            raise SuiteError("expected a file path", doc.value_loc(parent, key), key=where)
        path = (base / value).resolve()
        if not path.is_file():
            raise SuiteError(f"file not found: {path} (paths are relative to the suite file)",
                             doc.value_loc(parent, key), key=where)
        return path

    model = path_of(body, "model", f"{dotted}.model")
    data = doc.mapping(body, "dataset", f"{dotted}.dataset", required=True)
    if data is None:
        raise SuiteError("expected {inputs: <x.npy>, labels: <y.npy>}", doc.value_loc(body, "dataset"),
                         key=f"{dotted}.dataset")
    doc.check_keys(data, ("inputs", "labels"), f"{dotted}.dataset")
    if "inputs" not in data:
        raise SuiteError("required key is missing", data.location, key=f"{dotted}.dataset.inputs")
    options = {"inputs": str(path_of(data, "inputs", f"{dotted}.dataset.inputs"))}
    if "labels" in data:
        options["labels"] = str(path_of(data, "labels", f"{dotted}.dataset.labels"))
    if "metric" in body:
        doc.choice(body, "metric", f"{dotted}.metric", METRICS)
    target = 0.0
    if "accuracy_target" in body:
        target = float(doc.number(body["accuracy_target"], doc.value_loc(body, "accuracy_target"),
                                  f"{dotted}.accuracy_target", integer=False, positive=False, minimum=0))
    definition = classification_benchmark(bench_id, dataset=ARRAYS_DATASET, accuracy_target=target,
                                          model_file=model, description=f"defined in {suite.path.name}")
    return definition, options


def _dataset(doc: _Doc, body: YMap, dotted: str, definition: BenchmarkDef | None) -> str | None:
    if definition is None:
        return None
    if "dataset" not in body:
        return definition.dataset
    choices = sorted(definition.datasets) or [definition.dataset]
    choice = doc.choice(body, "dataset", f"{dotted}.dataset", choices)
    return definition.dataset_for(choice)


def _choice_of(definition: BenchmarkDef, dataset: str | None) -> str:
    return next((k for k, v in definition.datasets.items() if v == dataset), str(dataset))


def _real_choices(definition: BenchmarkDef) -> list[str]:
    return [k for k, v in definition.datasets.items() if not definition.is_synthetic(v)]


def _knob_value(doc: _Doc, suite: Suite, knob: Knob, value: Any, loc: Location, dotted: str,
                profile: str | None, registry: Registry) -> Sourced | None:
    if knob.name not in suite.honoured_knobs:
        if suite.declared_harness != suite.harness:
            if dotted not in suite.ignored_knobs:
                suite.ignored_knobs.append(dotted)
            return None  # run on another harness (--mlperf-harness): listed, not an error
        problem = registry.harnesses[suite.harness].knob_problem(knob, suite, registry)
        others = [h.name for h in registry.harnesses.values() if h.name != suite.harness
                  and h.knob_problem(knob, suite, registry) is None]
        elsewhere = f"; it is a knob of harness '{', '.join(others)}'" if others else ""
        raise SuiteError(f"{problem}{elsewhere}. Remove it from this suite", loc, key=dotted)
    if knob.type is bool:
        if not isinstance(value, bool):
            raise SuiteError(f"expected true or false, got {_got(value)}", loc, key=dotted)
    else:
        value = doc.number(value, loc, dotted, integer=knob.type is int, positive=knob.positive,
                           minimum=knob.minimum)
        if knob.type is float:
            value = float(value)
    if profile == "official" and knob.rule:
        raise SuiteError(f"profile 'official' keeps this at LoadGen's mlperf.conf value: {knob.rule}. "
                         "Remove the key, or use 'profile: quick' for a non-submittable run",
                         loc, key=dotted)
    return Sourced(value, f"suite {loc}", loc)


def _expect(doc: _Doc, body: YMap, dotted: str) -> dict[str, Sourced]:
    expect = doc.mapping(body, "expect", f"{dotted}.expect")
    if expect is None:
        return {}
    doc.check_keys(expect, EXPECT_KEYS, f"{dotted}.expect")
    result = {}
    for key in expect:
        loc = doc.value_loc(expect, key)
        value = doc.number(expect[key], loc, f"{dotted}.expect.{key}", integer=False,
                           positive=key != "min_accuracy", minimum=0)
        result[key] = Sourced(float(value), f"suite {loc}")
    return result


def _scenarios(doc: _Doc, body: YMap, dotted: str, supported: tuple[str, ...], name: str
               ) -> dict[str, tuple[YMap | None, Location]]:
    where = f"{dotted}.scenarios"
    if "scenarios" not in body:
        return {s: (None, body.location) for s in supported}
    value = body["scenarios"]
    loc = doc.value_loc(body, "scenarios")
    result: dict[str, tuple[YMap | None, Location]] = {}
    if isinstance(value, YList):
        if not value:
            raise SuiteError("the scenario list is empty", loc, key=where)
        items = [(item, item_loc, None) for item, item_loc in zip(value, value.item_locations, strict=True)]
    elif isinstance(value, YMap):
        if not value:
            raise SuiteError("the scenario mapping is empty", loc, key=where)
        items = [(k, doc.key_loc(value, k), value[k]) for k in value]
    else:
        raise SuiteError(f"expected a list or mapping of scenarios, got {_kind(value)}", loc, key=where)
    for scenario, item_loc, scen_body in items:
        if scenario not in SCENARIOS:
            raise SuiteError(f"unknown scenario {scenario!r}{_hint(str(scenario), SCENARIOS)} "
                             "(names are exact)", item_loc, key=where)
        if scenario not in supported:
            raise SuiteError(f"benchmark {name} does not support scenario {scenario}; it supports "
                             f"{', '.join(supported)}", item_loc, key=where)
        if scen_body is not None and not isinstance(scen_body, YMap):
            raise SuiteError(f"expected a mapping of knobs, got {_kind(scen_body)}", item_loc,
                             key=f"{where}.{scenario}")
        result[scenario] = (scen_body, item_loc)
    return result
