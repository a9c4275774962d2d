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
from ..errors import Location, SettingsError, SuiteError, SuiteErrors
from ..names import NAME_RULE, component_problem, name_problem, path_problem, shown
from ..registry import DEFAULT_HARNESS, Registry
from ..words import did_you_mean, kind_of, number_problem
from ..words import shown as shown_value
from .knobs import ALL_MODES, INT32_MAX, INT64_MAX, KNOBS, MODES, PROFILES, SCENARIOS, TIMEOUT_MAX_S, Knob
from .model import Case, Sourced, Suite
from .yamlload import YList, YMap, load_yaml, read_suite_text

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
#: a suite extending a suite extending ... at most this many files deep
MAX_EXTENDS = 16
#: errors listed for one file; collection stops looking for more after this many
MAX_ERRORS = 50


def _hint(word: str, choices: Iterable[str]) -> str:
    return did_you_mean(word, choices)


class _TooManyErrors(Exception):
    """The error listing is full: stop validating the file."""


class _Doc:
    """Helpers bound to one file: positions, typed getters, and the errors found so far.

    Validation goes on after an error wherever the rest does not depend on the bad value,
    so that one collection lists every mistake of the file (``record``/``attempt``).
    """

    def __init__(self, path: Path):
        self.path = path
        self.errors: list[SuiteError] = []

    def record(self, error: SuiteError) -> None:
        seen = {(e.location and (e.location.path, e.location.line, e.location.column), e.key, e.message)
                for e in self.errors}
        if (error.location and (error.location.path, error.location.line, error.location.column),
                error.key, error.message) in seen:
            return  # one value reached twice through an alias
        self.errors.append(error)
        if len(self.errors) >= MAX_ERRORS:
            raise _TooManyErrors

    def attempt(self, validate: Any, *args: Any, default: Any = None) -> Any:
        """``validate(*args)``, or ``default`` after recording its SuiteError."""
        try:
            return validate(*args)
        except SuiteErrors as exc:
            for error in exc.errors:
                self.record(error)
        except SuiteError as exc:
            self.record(exc)
        return default

    def raise_errors(self) -> None:
        """Raise what was recorded: one SuiteError, or SuiteErrors listing all, first error first."""
        if not self.errors:
            return
        main = self.path

        def order(error: SuiteError) -> tuple[bool, int, int]:
            loc = error.location
            return (loc is None or loc.path != main, loc.line if loc else 0, loc.column if loc else 0)

        errors = sorted(self.errors, key=order)
        if len(errors) == 1:
            raise errors[0]
        raise SuiteErrors(errors, stopped=len(errors) >= MAX_ERRORS)

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

    def check_keys(self, mapping: YMap, allowed: Iterable[str], where: str) -> list[Any]:
        """Record every unknown key (with a did-you-mean); returns the known keys, in file order."""
        allowed = list(allowed)
        known = []
        for key in mapping:
            if key not in allowed:
                prefix = f"{where}." if where else ""
                self.record(SuiteError(f"unknown key{_hint(key, allowed)}", self.key_loc(mapping, key),
                                       key=f"{prefix}{_key_text(key)}"))
            else:
                known.append(key)
        return known

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
            raise SuiteError(f"unknown value '{shown(value)}'{_hint(value, choices)}",
                             self.value_loc(parent, key), key=dotted)
        return value

    def safe_name(self, value: Any, loc: Location, dotted: str, what: str) -> str:
        """The one rule for names that become directories (names.py), checked where they are given."""
        if not isinstance(value, str):
            raise SuiteError(f"{what} must be a string, got {_kind(value)}", loc, key=dotted)
        problem = name_problem(value)
        if problem is not None:
            if problem == "cannot be used in a file path":
                problem += " (it becomes a directory of the output)"
            raise SuiteError(f"{what} '{shown(value)}' {problem}: {NAME_RULE}", loc, key=dotted)
        return value

    def path_value(self, parent: YMap, key: str, dotted: str) -> str:
        """A file path the suite gives: a string without NUL or control characters, within PATH_MAX."""
        loc = self.value_loc(parent, key)
        value = parent[key]
        if not isinstance(value, str):
            raise SuiteError(f"expected a file path, got {_kind(value)}", loc, key=dotted)
        problem = path_problem(value)
        if problem is not None:
            raise SuiteError(f"the path '{shown(value)}' {problem}", loc, key=dotted)
        return value

    def resolved_path(self, parent: YMap, key: str, dotted: str) -> str:
        """A path the suite gives (``path_value``), made absolute relative to the suite file."""
        value = self.path_value(parent, key, dotted)
        try:
            return str((self.path.parent / value).resolve())
        except (OSError, ValueError, RuntimeError) as exc:
            raise SuiteError(f"cannot use the path '{shown(value)}': {getattr(exc, 'strerror', None) or exc}",
                             self.value_loc(parent, key), key=dotted) from None

    def number(self, value: Any, loc: Location, dotted: str, *, integer: bool, positive: bool,
               minimum: float | None = None, maximum: float | None = None, note: str = "") -> int | float:
        problem = number_problem(value, integer=integer, positive=positive, minimum=minimum,
                                 maximum=maximum, note=note)
        if problem is not None:
            raise SuiteError(problem, loc, key=dotted)
        return value


def _key_text(key: Any) -> str:
    return key if isinstance(key, str) else shown_value(key)


def _kind(value: Any) -> str:
    return kind_of(value, null="nothing (null)")


def _got(value: Any) -> str:
    """The kind and, where it adds something, the value, spelled as in YAML (never long)."""
    if value is None or isinstance(value, (list, dict)):
        return _kind(value)
    if isinstance(value, bool):
        return f"{_kind(value)} {str(value).lower()}"
    return f"{_kind(value)} {shown_value(value)}"


def is_suite_text(text: str) -> bool:
    """True when a YAML text declares itself a suite (a top-level ``mlperf_suite:`` line)."""
    return re.search(r"^mlperf_suite\s*:", text, flags=re.MULTILINE) is not None


def load_suite(path: Path, registry: Registry, harness_override: str | None = None) -> Suite:
    """Load, validate and expand one suite file. Raises SuiteError.

    Every error of the file is reported at once (``SuiteErrors``, first error first) where
    validation can go on past it; a YAML syntax error, or a top level that is not a suite,
    stops at once.

    ``harness_override`` (``--mlperf-harness``) runs the suite on another harness than the
    one it names: knobs that harness cannot honour are then listed in
    ``Suite.ignored_knobs`` instead of being errors, and benchmarks it cannot run skip.
    """
    doc = _Doc(path)
    try:
        return _load_suite(doc, path, registry, harness_override)
    except _TooManyErrors:
        doc.raise_errors()
        raise AssertionError("unreachable") from None


def _load_suite(doc: _Doc, path: Path, registry: Registry, harness_override: str | None) -> Suite:
    raw, text = read_suite_text(path)
    root = load_yaml(path, text)
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
    if isinstance(version, bool) or not isinstance(version, int) or version not in SUITE_VERSIONS:
        raise SuiteError(
            f"unknown suite format version {shown_value(version)}; this plugin reads versions "
            f"{', '.join(map(str, SUITE_VERSIONS))}", doc.value_loc(root, "mlperf_suite"),
            key="mlperf_suite")
    sections = {h.section: h for h in registry.harnesses.values() if h.section}
    doc.check_keys(root, (*TOP_KEYS, *sections), "")

    name = path.stem
    if "name" in root:
        name = doc.attempt(lambda: doc.safe_name(root["name"], doc.value_loc(root, "name"), "name", "name"),
                           default=path.stem)
    elif component_problem(path.stem) is not None:
        # Without name:, the stem names the suite's run directories (runs/<name>/) and its system.
        doc.record(SuiteError(f"the file name '{shown(path.name)}' cannot name this suite's run "
                              f"directory: its stem {component_problem(path.stem)}. Rename the file, or "
                              "give the suite a name: key", Location(path, 1, 1)))
    harness = doc.attempt(lambda: doc.choice(root, "harness", "harness", sorted(registry.harnesses))) \
        or DEFAULT_HARNESS
    declared = harness
    if harness_override and harness_override != harness:
        if harness_override not in registry.harnesses:
            raise SettingsError(f"--mlperf-harness {harness_override!r}: unknown harness"
                                f"{_hint(harness_override, registry.harnesses)}; registered: "
                                f"{', '.join(sorted(registry.harnesses))}")
        harness = harness_override
    parsed_sections = {}
    for key, owner in sections.items():
        block = doc.attempt(lambda key=key: doc.mapping(root, key, key))
        if block is not None:
            parsed = doc.attempt(owner.parse_section, doc, block)
            if parsed is not None:
                parsed_sections[key] = parsed
    backend = doc.attempt(lambda: doc.choice(root, "backend", "backend", sorted(registry.backends))) \
        or "onnxruntime"
    profile = None
    if "profile" in root:
        profile_name = doc.attempt(lambda: doc.choice(root, "profile", "profile", PROFILES))
        if profile_name is not None:
            profile = Sourced(profile_name, f"suite {doc.value_loc(root, 'profile')}")
    timeout = None
    if "timeout" in root:
        value = doc.attempt(lambda: doc.number(
            root["timeout"], doc.value_loc(root, "timeout"), "timeout", integer=False, positive=True,
            maximum=TIMEOUT_MAX_S, note="a year; leave timeout out for the automatic one"))
        if value is not None:
            timeout = Sourced(float(value), f"suite {doc.value_loc(root, 'timeout')}")
    modes = doc.attempt(lambda: _modes(doc, root, "modes")) or MODES
    system = doc.attempt(lambda: _system(doc, root), default={"gpu": "none", "count": 1})
    from .submission import parse_submission

    submission = doc.attempt(lambda: parse_submission(doc, root, name), default=None)
    if submission is None:
        submission = {"system": {}, "measurements": {}, "model_mapping": {}, "locations": {}, "given": True}

    benchmarks = doc.attempt(lambda: doc.mapping(root, "benchmarks", "benchmarks", required=True))
    if "benchmarks" in root and not root["benchmarks"] and isinstance(root["benchmarks"], (YMap, type(None))):
        doc.record(SuiteError("the benchmark list is empty: name at least one benchmark, e.g. "
                         "'benchmarks: {digits: {scenarios: [Offline]}}'",
                         doc.value_loc(root, "benchmarks"), key="benchmarks"))

    suite = Suite(path=path, name=name, version=version, harness=harness, backend=backend,
                  profile=profile, timeout=timeout, modes=modes, system=system,
                  sha256=digest.hexdigest(), sections=parsed_sections,
                  declared_harness=declared, submission=submission)
    runner = registry.harnesses[harness]
    suite.honoured_knobs = frozenset(k for k, knob in KNOBS.items()
                                     if runner.knob_problem(knob, suite, registry) is None)
    suite.backend_options = doc.attempt(_backend_options, doc, root, suite, registry, default={})
    profile_name = profile.value if profile else None
    for bench_id in benchmarks or ():
        suite.cases.extend(doc.attempt(
            lambda bench_id=bench_id: _benchmark_cases(doc, suite, benchmarks, bench_id, registry,
                                                       profile_name), default=[]))
    doc.raise_errors()
    return suite


def _extended(doc: _Doc, root: YMap, digest: Any, chain: list[Path]) -> YMap:
    """``extends: base.yaml``: the base suite's settings, overridden key by key by this file's."""
    loc = doc.value_loc(root, "extends")
    name = doc.path_value(root, "extends", "extends") if root.get("extends") is not None else None
    if not name:
        raise SuiteError("expected the path of another suite file (relative to this one)", loc,
                         key="extends")
    if len(chain) > MAX_EXTENDS:
        raise SuiteError(f"suites extend each other more than {MAX_EXTENDS} files deep", loc, key="extends")
    try:
        base_path = (doc.path.parent / name).resolve()
        found = base_path.is_file()
    except (OSError, ValueError) as exc:
        raise SuiteError(f"cannot use the path '{shown(name)}': {getattr(exc, 'strerror', None) or exc}",
                         loc, key="extends") from None
    if not found:
        packaged = Path(__file__).resolve().parent.parent / "suites" / name
        if component_problem(name) is not None or not packaged.is_file():
            raise SuiteError(f"suite to extend not found: {shown(str(base_path), 300)} (paths are relative "
                             "to this file)", loc, key="extends")
        base_path = packaged
    if base_path in chain:
        cycle = " -> ".join(p.name for p in [*chain, base_path])
        raise SuiteError(f"suites extend each other in a cycle: {cycle}", loc, key="extends")
    raw, text = read_suite_text(base_path)
    digest.update(raw)
    base = load_yaml(base_path, text)
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
    options: dict[str, Any] = {}
    for key in doc.check_keys(block, declared, "backend_options"):
        value = doc.attempt(_backend_option, doc, block, key, declared[key])
        if value is not None:
            options[key] = value
    return options


def _backend_option(doc: _Doc, block: YMap, key: str, kind: Any) -> Any:
    value = block[key]
    dotted = f"backend_options.{key}"
    loc = doc.value_loc(block, key)
    if kind is bool and not isinstance(value, bool):
        raise SuiteError(f"expected true or false, got {_got(value)}", loc, key=dotted)
    if kind in (int, float):
        value = doc.number(value, loc, dotted, integer=kind is int, positive=False,
                           maximum=INT64_MAX if kind is int else None)
        value = kind(value)
    elif kind is str and not isinstance(value, str):
        raise SuiteError(f"expected a string, got {_got(value)}", loc, key=dotted)
    elif kind in (list, tuple) and not isinstance(value, list):
        raise SuiteError(f"expected a list, got {_got(value)}", loc, key=dotted)
    return list(value) if isinstance(value, list) else value


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
        if not isinstance(item, str) or item not in ALL_MODES:
            raise SuiteError(f"unknown mode {shown_value(item)}{_hint(item, ALL_MODES)}", item_loc,
                             key=dotted)
    return tuple(dict.fromkeys(value))


def _system(doc: _Doc, root: YMap) -> dict[str, Any]:
    system = doc.mapping(root, "system", "system")
    if system is None:
        return {"gpu": "none", "count": 1}
    doc.check_keys(system, SYSTEM_KEYS, "system")
    result: dict[str, Any] = {"gpu": doc.attempt(lambda: doc.string(system, "gpu", "system.gpu")) or "none",
                              "count": 1}
    if result["gpu"] not in ("none", "auto"):
        from ..systems.profiles import ProfileError, get_profile

        try:
            result["gpu"] = get_profile(result["gpu"]).name
        except ProfileError as exc:
            doc.record(SuiteError(f"{str(exc)[:300]}, or 'none' (CPU only)", doc.value_loc(system, "gpu"),
                                  key="system.gpu"))
            result["gpu"] = "none"
    if "count" in system:
        result["count"] = doc.attempt(lambda: doc.number(
            system["count"], doc.value_loc(system, "count"), "system.count", integer=True, positive=True,
            maximum=INT32_MAX, note="a count of accelerators"), default=1)
    if "type" in system:
        kind = doc.attempt(lambda: doc.choice(system, "type", "system.type", SYSTEM_TYPES))
        if kind is not None:
            result["type"] = kind
    return result


def _benchmark_cases(doc: _Doc, suite: Suite, benchmarks: YMap, bench_id: Any,
                     registry: Registry, profile: str | None) -> list[Case]:
    key_loc = doc.key_loc(benchmarks, bench_id)
    dotted = f"benchmarks.{_key_text(bench_id)}"
    body = benchmarks[bench_id]
    bench_id = doc.safe_name(bench_id, key_loc, dotted, "benchmark id")
    if body is None:
        body = YMap()
        body.location, body.key_locations, body.value_locations = key_loc, {}, {}
    if not isinstance(body, YMap):
        raise SuiteError(f"expected a mapping of benchmark settings, got {_kind(body)}",
                         doc.value_loc(benchmarks, bench_id), key=dotted)
    known = sorted(set(registry.benchmarks) | set(MLPERF_BENCHMARKS))
    name = bench_id
    custom = "model" in body
    allowed = list(BENCHMARK_KEYS) + list(KNOBS)
    doc.check_keys(body, allowed, dotted)
    definition: BenchmarkDef | None
    if custom:
        if "benchmark" in body:
            raise SuiteError("a benchmark defined here with 'model:' cannot also name another benchmark",
                             doc.key_loc(body, "benchmark"), key=f"{dotted}.benchmark")
        definition, dataset_options = _custom_definition(doc, suite, body, dotted, bench_id)
    else:
        for key in CUSTOM_KEYS:
            if key in body:
                doc.record(SuiteError(
                    f"'{key}' belongs to a benchmark defined in the suite: add 'model: <file.onnx>' and "
                    "'dataset: {inputs: <x.npy>, labels: <y.npy>}', or remove it",
                    doc.key_loc(body, key), key=f"{dotted}.{key}"))
        if "benchmark" in body:
            name = doc.string(body, "benchmark", f"{dotted}.benchmark") or bench_id
            if name not in known:
                raise SuiteError(f"unknown benchmark '{shown(name)}'{_hint(name, known)}",
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

    modes = doc.attempt(lambda: _modes(doc, body, f"{dotted}.modes")) or suite.modes
    expect = _expect(doc, body, dotted)

    scenario_map = doc.attempt(lambda: _scenarios(doc, body, dotted, supported, name), default={})
    dataset = (definition.dataset if custom and definition is not None
               else doc.attempt(lambda: _dataset(doc, body, dotted, definition)))
    accuracy_samples = None
    if "accuracy_samples" in body:
        loc = doc.value_loc(body, "accuracy_samples")
        count = doc.attempt(lambda: doc.number(body["accuracy_samples"], loc, f"{dotted}.accuracy_samples",
                                               integer=True, positive=True, maximum=INT64_MAX,
                                               note="a count of samples"))
        if count is not None:
            accuracy_samples = Sourced(count, f"suite {loc}")
    # Validate every benchmark-level knob, also one that applies to none of the scenarios.
    common_knobs = {k: doc.attempt(_knob_value, doc, suite, KNOBS[k], body[k], doc.value_loc(body, k),
                                   f"{dotted}.{k}", profile, registry)
                    for k in body if k in KNOBS}
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
                value = doc.attempt(_scenario_knob, doc, suite, scen_body, knob_name, scenario, where,
                                    profile, registry)
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


def _scenario_knob(doc: _Doc, suite: Suite, scen_body: YMap, knob_name: Any, scenario: str, where: str,
                   profile: str | None, registry: Registry) -> Sourced | None:
    kloc = doc.key_loc(scen_body, knob_name)
    if knob_name not in KNOBS:
        raise SuiteError(f"unknown knob{_hint(knob_name, list(KNOBS))}", kloc,
                         key=f"{where}.{_key_text(knob_name)}")
    knob = KNOBS[knob_name]
    if scenario not in knob.scenarios:
        raise SuiteError(f"applies to {', '.join(knob.scenarios)} only, not {scenario}",
                         kloc, key=f"{where}.{knob_name}")
    return _knob_value(doc, suite, knob, scen_body[knob_name], doc.value_loc(scen_body, knob_name),
                       f"{where}.{knob_name}", profile, registry)


def _custom_definition(doc: _Doc, suite: Suite, body: YMap, dotted: str, bench_id: str
                       ) -> tuple[BenchmarkDef, dict[str, Any]]:
    """A benchmark the suite defines: an ONNX classifier and .npy arrays (paths from the suite)."""
    base = suite.path.parent

    def path_of(parent: YMap, key: str, where: str) -> Path:
        value = doc.path_value(parent, key, where)
        try:
            path = (base / value).resolve()
            found = path.is_file()
        except (OSError, ValueError) as exc:
            raise SuiteError(f"cannot use the path '{shown(value)}': {getattr(exc, 'strerror', None) or exc}",
                             doc.value_loc(parent, key), key=where) from None
        if not found:
            raise SuiteError(f"file not found: {shown(str(path), 300)} (paths are relative to the suite "
                             "file)", doc.value_loc(parent, key), key=where)
        return path

    model = doc.attempt(lambda: path_of(body, "model", f"{dotted}.model"))
    data = doc.attempt(lambda: doc.mapping(body, "dataset", f"{dotted}.dataset", required=True))
    options: dict[str, str] = {}
    if data is None:
        if "dataset" in body and body["dataset"] is None:
            doc.record(SuiteError("expected {inputs: <x.npy>, labels: <y.npy>}",
                                  doc.value_loc(body, "dataset"), key=f"{dotted}.dataset"))
    else:
        doc.check_keys(data, ("inputs", "labels"), f"{dotted}.dataset")
        if "inputs" not in data:
            doc.record(SuiteError("required key is missing", data.location, key=f"{dotted}.dataset.inputs"))
        for key in ("inputs", "labels"):
            if key in data:
                found = doc.attempt(lambda key=key: path_of(data, key, f"{dotted}.dataset.{key}"))
                if found is not None:
                    options[key] = str(found)
    if "metric" in body:
        doc.attempt(lambda: doc.choice(body, "metric", f"{dotted}.metric", METRICS))
    target = 0.0
    if "accuracy_target" in body:
        target = float(doc.attempt(lambda: doc.number(
            body["accuracy_target"], doc.value_loc(body, "accuracy_target"), f"{dotted}.accuracy_target",
            integer=False, positive=False, minimum=0), default=0.0))
    if model is None or "inputs" not in options:
        doc.raise_errors()  # what the definition needs is missing: its errors are recorded
        raise SuiteError("the benchmark's model or dataset is missing", body.location, key=dotted)
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
                           minimum=knob.minimum, maximum=knob.maximum, note=knob.range_note)
        if knob.type is float:
            value = float(value)
    if profile == "official" and knob.rule:
        raise SuiteError(f"profile 'official' keeps this at LoadGen's mlperf.conf value: {knob.rule}. "
                         "Remove the key, or use 'profile: quick' for a non-submittable run",
                         loc, key=dotted)
    return Sourced(value, f"suite {loc}", loc)


def _expect(doc: _Doc, body: YMap, dotted: str) -> dict[str, Sourced]:
    expect = doc.attempt(lambda: doc.mapping(body, "expect", f"{dotted}.expect"))
    if expect is None:
        return {}
    result = {}
    for key in doc.check_keys(expect, EXPECT_KEYS, f"{dotted}.expect"):
        loc = doc.value_loc(expect, key)
        value = doc.attempt(lambda key=key, loc=loc: doc.number(
            expect[key], loc, f"{dotted}.expect.{key}", integer=False, positive=key != "min_accuracy",
            minimum=0))
        if value is not None:
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
        if not isinstance(scenario, str) or scenario not in SCENARIOS:
            doc.record(SuiteError(f"unknown scenario {shown_value(scenario)}{_hint(scenario, SCENARIOS)} "
                                  "(names are exact)", item_loc, key=where))
        elif scenario not in supported:
            doc.record(SuiteError(f"benchmark {name} does not support scenario {scenario}; it supports "
                                  f"{', '.join(supported)}", item_loc, key=where))
        elif scen_body is not None and not isinstance(scen_body, YMap):
            doc.record(SuiteError(f"expected a mapping of knobs, got {_kind(scen_body)}", item_loc,
                                  key=f"{where}.{scenario}"))
        else:
            result[scenario] = (scen_body, item_loc)
    return result
