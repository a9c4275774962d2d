"""Validation of a loaded suite document into a :class:`Suite` and its :class:`Case` list:
the top level (format version, name, harness, backend, profile, system, ...) here; the
``benchmarks:`` entries in cases.py, ``extends:`` in extends.py, the getters and the error
listing in document.py.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from ..errors import Location, SettingsError, SuiteError
from ..names import component_problem, shown
from ..registry import DEFAULT_HARNESS, Registry
from ..words import did_you_mean
from ..words import shown as shown_value
from .cases import benchmark_cases, parse_modes
from .document import Document, TooManyErrors, got_text, kind_text
from .extends import extended
from .knobs import INT32_MAX, INT64_MAX, KNOBS, MODES, PROFILES, TIMEOUT_MAX_S
from .model import Sourced, Suite
from .yamlload import YMap, load_yaml, read_suite_text

SUITE_VERSIONS = (1,)
SYSTEM_TYPES = ("datacenter", "edge", "datacenter,edge", "edge,datacenter")
#: top-level keys; a registered harness may add a block of its own (e.g. ``nvidia:``)
TOP_KEYS = ("mlperf_suite", "extends", "name", "description", "system", "harness", "backend",
            "backend_options", "profile", "modes", "timeout", "submission", "benchmarks")
SYSTEM_KEYS = ("gpu", "count", "type")


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
    doc = Document(path)
    try:
        return _load_suite(doc, path, registry, harness_override)
    except TooManyErrors:
        doc.raise_errors()
        raise AssertionError("unreachable") from None


def _load_suite(doc: Document, path: Path, registry: Registry, harness_override: str | None) -> Suite:
    raw, text = read_suite_text(path)
    root = load_yaml(path, text)
    digest = hashlib.sha256(raw)
    if isinstance(root, YMap) and "extends" in root:
        root = extended(doc, root, digest, [path.resolve()])
    if not isinstance(root, YMap):
        raise SuiteError(
            "the top level must be a mapping with 'mlperf_suite: 1' and 'benchmarks:', got "
            f"{kind_text(root)}",
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
                                f"{did_you_mean(harness_override, registry.harnesses)}; registered: "
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
    modes = doc.attempt(lambda: parse_modes(doc, root, "modes")) or MODES
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
            lambda bench_id=bench_id: benchmark_cases(doc, suite, benchmarks, bench_id, registry,
                                                       profile_name), default=[]))
    doc.raise_errors()
    return suite


def _backend_options(doc: Document, root: YMap, suite: Suite, registry: Registry) -> dict[str, Any]:
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


def _backend_option(doc: Document, block: YMap, key: str, kind: Any) -> Any:
    value = block[key]
    dotted = f"backend_options.{key}"
    loc = doc.value_loc(block, key)
    if kind is bool and not isinstance(value, bool):
        raise SuiteError(f"expected true or false, got {got_text(value)}", loc, key=dotted)
    if kind in (int, float):
        value = doc.number(value, loc, dotted, integer=kind is int, positive=False,
                           maximum=INT64_MAX if kind is int else None)
        value = kind(value)
    elif kind is str and not isinstance(value, str):
        raise SuiteError(f"expected a string, got {got_text(value)}", loc, key=dotted)
    elif kind in (list, tuple) and not isinstance(value, list):
        raise SuiteError(f"expected a list, got {got_text(value)}", loc, key=dotted)
    return list(value) if isinstance(value, list) else value


def _system(doc: Document, root: YMap) -> dict[str, Any]:
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
