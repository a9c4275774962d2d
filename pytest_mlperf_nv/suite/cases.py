"""A suite's ``benchmarks:`` entries, each validated into its :class:`Case` list
(scenarios x modes x compliance audits), with knobs, expectations and datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..benchmarks.base import BenchmarkDef
from ..benchmarks.custom import ARRAYS_DATASET, METRICS, classification_benchmark
from ..benchmarks.mlperf import MLPERF_BENCHMARKS, mlperf_scenarios
from ..errors import Location, SuiteError
from ..names import shown
from ..registry import Registry
from ..words import did_you_mean
from ..words import shown as shown_value
from .document import Document, got_text, key_text, kind_text
from .knobs import ALL_MODES, INT64_MAX, KNOBS, SCENARIOS, Knob
from .model import Case, Sourced, Suite
from .yamlload import YList, YMap

BENCHMARK_KEYS = ("benchmark", "description", "scenarios", "modes", "expect", "dataset",
                  "accuracy_samples", "model", "metric", "accuracy_target")
#: keys only a suite-defined (custom) benchmark may use
CUSTOM_KEYS = ("model", "metric", "accuracy_target")
EXPECT_KEYS = ("min_accuracy", "min_qps", "max_latency_ms")


def parse_modes(doc: Document, parent: YMap, dotted: str) -> tuple[str, ...] | None:
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
            raise SuiteError(f"unknown mode {shown_value(item)}{did_you_mean(item, ALL_MODES)}", item_loc,
                             key=dotted)
    return tuple(dict.fromkeys(value))


def benchmark_cases(doc: Document, suite: Suite, benchmarks: YMap, bench_id: Any,
                     registry: Registry, profile: str | None) -> list[Case]:
    key_loc = doc.key_loc(benchmarks, bench_id)
    dotted = f"benchmarks.{key_text(bench_id)}"
    body = benchmarks[bench_id]
    bench_id = doc.safe_name(bench_id, key_loc, dotted, "benchmark id")
    if body is None:
        body = YMap()
        body.location, body.key_locations, body.value_locations = key_loc, {}, {}
    if not isinstance(body, YMap):
        raise SuiteError(f"expected a mapping of benchmark settings, got {kind_text(body)}",
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
                raise SuiteError(f"unknown benchmark '{shown(name)}'{did_you_mean(name, known)}",
                                 doc.value_loc(body, "benchmark"), key=f"{dotted}.benchmark")
        elif name not in known:
            raise SuiteError(
                f"unknown benchmark '{name}'{did_you_mean(name, known)} (a variant with its own id names its "
                "benchmark with 'benchmark: <name>'; a benchmark of your own gives 'model:' and "
                "'dataset:')", key_loc, key=dotted)
        definition = registry.benchmarks.get(name)
        dataset_options = {}
    support = registry.harnesses[suite.harness].supports(name, definition, suite)
    if support.error:
        raise SuiteError(support.error, key_loc, key=dotted)
    skip_reason = support.skip_reason
    supported = support.scenarios or (definition.scenarios if definition else mlperf_scenarios(name))

    modes = doc.attempt(lambda: parse_modes(doc, body, f"{dotted}.modes")) or suite.modes
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


def _scenario_knob(doc: Document, suite: Suite, scen_body: YMap, knob_name: Any, scenario: str, where: str,
                   profile: str | None, registry: Registry) -> Sourced | None:
    kloc = doc.key_loc(scen_body, knob_name)
    if knob_name not in KNOBS:
        raise SuiteError(f"unknown knob{did_you_mean(knob_name, list(KNOBS))}", kloc,
                         key=f"{where}.{key_text(knob_name)}")
    knob = KNOBS[knob_name]
    if scenario not in knob.scenarios:
        raise SuiteError(f"applies to {', '.join(knob.scenarios)} only, not {scenario}",
                         kloc, key=f"{where}.{knob_name}")
    return _knob_value(doc, suite, knob, scen_body[knob_name], doc.value_loc(scen_body, knob_name),
                       f"{where}.{knob_name}", profile, registry)


def _custom_definition(doc: Document, suite: Suite, body: YMap, dotted: str, bench_id: str
                       ) -> tuple[BenchmarkDef, dict[str, Any]]:
    """A benchmark the suite defines: an ONNX classifier and .npy arrays (paths from the suite)."""

    def path_of(parent: YMap, key: str, where: str) -> Path:
        value = doc.path_value(parent, key, where)
        path, found = doc.resolved(value, doc.value_loc(parent, key), where, check_file=True)
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


def _dataset(doc: Document, body: YMap, dotted: str, definition: BenchmarkDef | None) -> str | None:
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


def _knob_value(doc: Document, suite: Suite, knob: Knob, value: Any, loc: Location, dotted: str,
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
            raise SuiteError(f"expected true or false, got {got_text(value)}", loc, key=dotted)
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


def _expect(doc: Document, body: YMap, dotted: str) -> dict[str, Sourced]:
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


def _scenarios(doc: Document, body: YMap, dotted: str, supported: tuple[str, ...], name: str
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
        raise SuiteError(f"expected a list or mapping of scenarios, got {kind_text(value)}", loc, key=where)
    for scenario, item_loc, scen_body in items:
        if not isinstance(scenario, str) or scenario not in SCENARIOS:
            doc.record(SuiteError(f"unknown scenario {shown_value(scenario)}"
                                  f"{did_you_mean(scenario, SCENARIOS)} (names are exact)", item_loc,
                                  key=where))
        elif scenario not in supported:
            doc.record(SuiteError(f"benchmark {name} does not support scenario {scenario}; it supports "
                                  f"{', '.join(supported)}", item_loc, key=where))
        elif scen_body is not None and not isinstance(scen_body, YMap):
            doc.record(SuiteError(f"expected a mapping of knobs, got {kind_text(scen_body)}", item_loc,
                                  key=f"{where}.{scenario}"))
        else:
            result[scenario] = (scen_body, item_loc)
    return result
