"""Unit tests of suite loading: validation and expansion of a suite into cases."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pytest_mlperf_nv.benchmarks import digits
from pytest_mlperf_nv.benchmarks.base import BenchmarkDef
from pytest_mlperf_nv.benchmarks.custom import argmax_response
from pytest_mlperf_nv.errors import Location, SuiteError
from pytest_mlperf_nv.plugin import pytest_mlperf_register
from pytest_mlperf_nv.registry import Registry
from pytest_mlperf_nv.suite.knobs import MODES, SCENARIOS
from pytest_mlperf_nv.suite.model import Case, Sourced
from pytest_mlperf_nv.suite.schema import is_suite_text, load_suite
from pytest_mlperf_nv.suite.yamlload import YList, YMap, load_yaml

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def registry() -> Registry:
    registry = Registry()
    pytest_mlperf_register(registry)
    # A second benchmark that supports Offline only.
    registry.add_benchmark(BenchmarkDef(name="digits_offline", loadgen_name="digits", dataset="digits",
                                        postprocess=argmax_response,
                                        build_model=digits.build_digits_model,
                                        scenarios=("Offline",)))
    return registry


@pytest.fixture
def load(tmp_path: Path, registry: Registry):
    """Write a suite file and load it: ``load(text, name="suite.yaml") -> Suite``."""

    def _load(text: str, name: str = "suite.yaml"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return load_suite(path, registry)

    return _load


def by_key(cases: list[Case]) -> dict[tuple[str, str, str], Case]:
    return {(c.id, c.scenario, c.mode): c for c in cases}


def knob_values(case: Case) -> dict[str, object]:
    return {name: sourced.value for name, sourced in case.knobs.items()}


# -- the embedded suite -------------------------------------------------------------------------


def test_embedded_cpu_suite_expands_into_nine_cases(registry: Registry) -> None:
    path = REPO / "suites" / "cpu.yaml"
    suite = load_suite(path, registry)
    assert suite.name == "cpu"
    assert (suite.version, suite.harness, suite.backend) == (1, "loadgen", "onnxruntime")
    assert suite.profile is not None and suite.profile.value == "quick"
    assert suite.modes == ("performance", "accuracy")
    assert suite.system == {"gpu": "none", "count": 1}
    assert suite.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert [c.nodeid_suffix for c in suite.cases] == [
        f"digits::{s}::{m}" for s in SCENARIOS for m in ("performance", "accuracy")] + [
        "resnet50::Offline::performance"]
    resnet = suite.cases[-1]
    assert resnet.dataset == "synthetic-imagenet" and resnet.skip_reason is None
    cases = by_key(suite.cases)
    offline = cases["digits", "Offline", "performance"]
    assert knob_values(offline) == {"gpu_batch_size": 32, "offline_expected_qps": 1000000.0,
                                    "min_duration": 50}
    assert knob_values(cases["digits", "Server", "accuracy"]) == {"gpu_batch_size": 32,
                                                                 "server_target_qps": 1000.0,
                                                                 "server_target_latency_ns": 100000000}
    assert offline.expect == {"min_accuracy": Sourced(90.0, offline.expect["min_accuracy"].source)}
    assert all(c.suite is suite for c in suite.cases)


# -- defaults -----------------------------------------------------------------------------------


def test_minimal_suite_takes_defaults(load) -> None:
    suite = load("mlperf_suite: 1\nbenchmarks:\n  digits:\n", name="nightly.yaml")
    assert suite.name == "nightly"  # the file's stem
    assert (suite.harness, suite.backend, suite.profile, suite.timeout) == ("loadgen", "onnxruntime",
                                                                            None, None)
    assert suite.modes == MODES
    assert suite.system == {"gpu": "none", "count": 1}
    # no scenarios: every scenario the benchmark supports; no modes: every mode
    assert [(c.scenario, c.mode) for c in suite.cases] == [(s, m) for s in SCENARIOS for m in MODES]
    assert all(c.knobs == {} and c.expect == {} for c in suite.cases)


def test_no_scenarios_means_the_benchmarks_own_scenarios(load) -> None:
    suite = load("mlperf_suite: 1\nbenchmarks:\n  digits_offline: {}\n")
    assert {c.scenario for c in suite.cases} == {"Offline"}


def test_unsupported_scenario_names_what_the_benchmark_supports(load) -> None:
    with pytest.raises(SuiteError) as info:
        load("mlperf_suite: 1\nbenchmarks:\n  digits_offline:\n    scenarios: [Offline, Server]\n")
    err = info.value
    assert (err.location.line, err.location.column) == (4, 26)
    assert err.key == "benchmarks.digits_offline.scenarios"
    assert "does not support scenario Server; it supports Offline" in err.message


def test_suite_level_settings_are_sourced(load, tmp_path: Path) -> None:
    suite = load("mlperf_suite: 1\nname: nightly-gpu.1\nprofile: official\ntimeout: 90\n"
                 "system: {gpu: H200, count: 2, type: datacenter}\nbenchmarks:\n  digits: {}\n")
    path = tmp_path / "suite.yaml"
    assert suite.name == "nightly-gpu.1"
    assert suite.profile == Sourced("official", f"suite {path}:3:10")
    assert suite.timeout == Sourced(90.0, f"suite {path}:4:10")
    assert suite.system == {"gpu": "h200", "count": 2, "type": "datacenter"}


# -- variants -----------------------------------------------------------------------------------


def test_variants_of_one_benchmark_are_separate_cases_with_their_own_ids(load) -> None:
    suite = load("""\
mlperf_suite: 1
modes: [performance]
benchmarks:
  digits-b8:
    benchmark: digits
    gpu_batch_size: 8
    scenarios: [Offline]
  digits-b64:
    benchmark: digits
    gpu_batch_size: 64
    scenarios: [Offline]
""")
    assert [c.nodeid_suffix for c in suite.cases] == ["digits-b8::Offline::performance",
                                                      "digits-b64::Offline::performance"]
    small, large = suite.cases
    assert (small.benchmark, large.benchmark) == ("digits", "digits")
    assert (small.knob("gpu_batch_size"), large.knob("gpu_batch_size")) == (8, 64)
    # each variant has its own knob dict
    assert small.knobs is not large.knobs


def test_a_variant_and_the_plain_benchmark_side_by_side(load) -> None:
    suite = load("""\
mlperf_suite: 1
benchmarks:
  digits:
    scenarios: [SingleStream]
  digits-big:
    benchmark: digits
    scenarios:
      SingleStream: {gpu_batch_size: 128}
""")
    cases = by_key(suite.cases)
    assert cases["digits", "SingleStream", "accuracy"].knobs == {}
    assert cases["digits-big", "SingleStream", "accuracy"].knob("gpu_batch_size") == 128
    assert {c.benchmark for c in suite.cases} == {"digits"}


# -- knobs --------------------------------------------------------------------------------------


def test_benchmark_level_knobs_apply_only_to_their_own_scenario(load) -> None:
    suite = load("""\
mlperf_suite: 1
modes: [performance]
benchmarks:
  digits:
    gpu_batch_size: 16
    offline_expected_qps: 5000
    server_target_qps: 200
    single_stream_expected_latency_ns: 100000
    scenarios: [Offline, Server, SingleStream, MultiStream]
""")
    cases = {c.scenario: knob_values(c) for c in suite.cases}
    assert cases == {
        "Offline": {"gpu_batch_size": 16, "offline_expected_qps": 5000.0},
        "Server": {"gpu_batch_size": 16, "server_target_qps": 200.0},
        "SingleStream": {"gpu_batch_size": 16, "single_stream_expected_latency_ns": 100000},
        "MultiStream": {"gpu_batch_size": 16},
    }


def test_scenario_knob_overrides_benchmark_knob_and_names_its_own_line(load, tmp_path: Path) -> None:
    suite = load("""\
mlperf_suite: 1
benchmarks:
  digits:
    gpu_batch_size: 16
    scenarios:
      Offline: {gpu_batch_size: 64}
      Server:
""")
    path = tmp_path / "suite.yaml"
    cases = by_key(suite.cases)
    assert cases["digits", "Offline", "performance"].knobs["gpu_batch_size"] == Sourced(
        64, f"suite {path}:6:33")
    assert cases["digits", "Server", "performance"].knobs["gpu_batch_size"] == Sourced(
        16, f"suite {path}:4:21")


def test_knob_source_names_file_line_and_column(load, tmp_path: Path) -> None:
    suite = load("mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios:\n      Server:\n"
                 "        server_target_qps: 250.5\n        min_duration: 2000\n"
                 "    expect:\n      min_accuracy: 95\n      max_latency_ms: 3\n")
    path = tmp_path / "suite.yaml"
    case = suite.cases[0]
    assert case.knobs == {
        "server_target_qps": Sourced(250.5, f"suite {path}:6:28"),
        "min_duration": Sourced(2000, f"suite {path}:7:23"),
    }
    assert case.expect == {
        "min_accuracy": Sourced(95.0, f"suite {path}:9:21"),
        "max_latency_ms": Sourced(3.0, f"suite {path}:10:23"),
    }
    assert case.knob("gpu_batch_size", "default") == "default"


def test_knob_types_are_normalised(load) -> None:
    suite = load("mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios:\n"
                 "      Offline: {offline_expected_qps: 100, num_warmups: 0, max_duration: 0}\n")
    knobs = knob_values(suite.cases[0])
    assert knobs == {"offline_expected_qps": 100.0, "num_warmups": 0, "max_duration": 0}
    assert isinstance(knobs["offline_expected_qps"], float)
    assert isinstance(knobs["num_warmups"], int)


def test_rule_bound_knob_is_allowed_in_the_quick_profile_only(load) -> None:
    text = "mlperf_suite: 1\nprofile: {}\nbenchmarks:\n  digits:\n    min_duration: 1000\n"
    assert load(text.format("quick")).cases[0].knob("min_duration") == 1000
    with pytest.raises(SuiteError) as info:
        load(text.format("official"))
    assert info.value.key == "benchmarks.digits.min_duration"
    assert "600 s" in info.value.message
    # a tuning knob is fine in the official profile
    official = load("mlperf_suite: 1\nprofile: official\nbenchmarks:\n  digits:\n"
                    "    offline_expected_qps: 900\n")
    assert official.cases[0].knob("offline_expected_qps") == 900.0


def test_benchmark_level_knob_of_an_unselected_scenario_is_still_validated(load) -> None:
    with pytest.raises(SuiteError) as info:
        load("mlperf_suite: 1\nbenchmarks:\n  digits:\n    server_target_qps: -1\n"
             "    scenarios: [Offline]\n")
    assert info.value.key == "benchmarks.digits.server_target_qps"
    assert (info.value.location.line, info.value.location.column) == (4, 24)
    assert "must be greater than 0" in info.value.message


# -- modes --------------------------------------------------------------------------------------


def test_modes_per_benchmark_override_the_suite_modes(load) -> None:
    suite = load("""\
mlperf_suite: 1
modes: [performance]
benchmarks:
  digits:
    scenarios: [Offline]
  digits-acc:
    benchmark: digits
    modes: [accuracy]
    scenarios: [Offline]
  digits-both:
    benchmark: digits
    modes: [accuracy, performance, accuracy]
    scenarios: [Offline]
""")
    assert suite.modes == ("performance",)
    assert [c.nodeid_suffix for c in suite.cases] == [
        "digits::Offline::performance",
        "digits-acc::Offline::accuracy",
        "digits-both::Offline::accuracy",  # the order given, duplicates dropped
        "digits-both::Offline::performance",
    ]


def test_modes_may_be_a_single_name(load) -> None:
    suite = load("mlperf_suite: 1\nmodes: accuracy\nbenchmarks:\n  digits: {scenarios: [Server]}\n")
    assert suite.modes == ("accuracy",)
    assert [c.nodeid_suffix for c in suite.cases] == ["digits::Server::accuracy"]


# -- scenarios: list or mapping -----------------------------------------------------------------


def test_scenario_list_and_mapping_give_the_same_cases(load) -> None:
    as_list = load("mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios: [Server, Offline]\n",
                   name="a.yaml")
    as_map = load("mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios:\n      Server:\n"
                  "      Offline: {}\n", name="b.yaml")
    assert [c.nodeid_suffix for c in as_list.cases] == [c.nodeid_suffix for c in as_map.cases] == [
        "digits::Server::performance", "digits::Server::accuracy",
        "digits::Offline::performance", "digits::Offline::accuracy",
    ]
    assert all(c.knobs == {} for c in as_list.cases + as_map.cases)


def test_case_location_is_the_scenario_entry(load) -> None:
    listed = load("mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios: [Server, Offline]\n",
                  name="a.yaml")
    assert {(c.scenario, c.location.line, c.location.column) for c in listed.cases} == {
        ("Server", 4, 17), ("Offline", 4, 25)}
    mapped = load("mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios:\n      Server: {}\n"
                  "      Offline: {}\n", name="b.yaml")
    assert {(c.scenario, c.location.line, c.location.column) for c in mapped.cases} == {
        ("Server", 5, 7), ("Offline", 6, 7)}
    assert all(c.location.path.name == "b.yaml" for c in mapped.cases)


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "where", "key", "message"), [
    ("mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios: [offline]\n",
     (4, 17), "benchmarks.digits.scenarios", "did you mean 'Offline'?"),
    ("mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios:\n      Offline: {gpu_batch_siz: 1}\n",
     (5, 17), "benchmarks.digits.scenarios.Offline.gpu_batch_siz", "did you mean 'gpu_batch_size'?"),
    ("mlperf_suite: 1\nbenchmarks:\n  digit: {}\n",
     (3, 3), "benchmarks.digit", "did you mean 'digits'?"),
    ("mlperf_suite: 1\nmodes: [perfromance]\nbenchmarks:\n  digits: {}\n",
     (2, 9), "modes", "did you mean 'performance'?"),
    ("mlperf_suite: 1\nbenchmarks:\n  digits:\n    gpu_batch_size:\n",
     (4, 20), "benchmarks.digits.gpu_batch_size", "expected an integer, got nothing (null)"),
], ids=["scenario", "knob", "benchmark", "mode", "null-value"])
def test_suite_error_has_location_key_and_message(load, tmp_path: Path, text, where, key, message) -> None:
    with pytest.raises(SuiteError) as info:
        load(text)
    err = info.value
    assert (err.location.path, err.location.line, err.location.column) == (tmp_path / "suite.yaml", *where)
    assert err.key == key
    assert message in err.message
    first, quoted, caret = str(err).splitlines()
    assert first == f"{tmp_path / 'suite.yaml'}:{where[0]}:{where[1]}: {key}: {err.message}"
    assert quoted == f"  {where[0]:>4} | {text.splitlines()[where[0] - 1]}"
    assert caret == "       | " + " " * (where[1] - 1) + "^"


def test_suite_error_without_location_or_key() -> None:
    err = SuiteError("something is off")
    assert str(err) == "suite: something is off"
    assert str(SuiteError("bad", Location(Path("/nonexistent/x.yaml"), 3, 1), key="k")) == (
        "/nonexistent/x.yaml:3:1: k: bad")


# -- YAML loading and suite detection ------------------------------------------------------------


def test_yaml_loader_records_positions(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    doc = load_yaml(path, "top:\n  key: [a, b]\n  other: 1\n")
    assert isinstance(doc, YMap) and isinstance(doc["top"], YMap)
    top = doc["top"]
    assert (top.key_locations["other"].line, top.key_locations["other"].column) == (3, 3)
    assert (top.value_locations["other"].line, top.value_locations["other"].column) == (3, 10)
    assert isinstance(top["key"], YList) and top["key"] == ["a", "b"]
    assert [(loc.line, loc.column) for loc in top["key"].item_locations] == [(2, 9), (2, 12)]


def test_yaml_loader_refuses_duplicate_keys(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("a: 1\nb:\n  c: 1\n  c: 2\n")
    with pytest.raises(SuiteError) as info:
        load_yaml(path)
    assert (info.value.location.line, info.value.location.column, info.value.key) == (4, 3, "c")
    assert "first defined at line 3" in info.value.message


@pytest.mark.parametrize(("text", "expected"), [
    ("mlperf_suite: 1\nbenchmarks: {}\n", True),
    ("# a comment\n\nmlperf_suite: 1\n", True),
    ("mlperf_suite:1\n", True),
    ("name: x\n  mlperf_suite: 1\n", False),  # indented: not a top-level key
    ("# mlperf_suite: 1\n", False),
    ("colour: blue\n", False),
])
def test_is_suite_text(text: str, expected: bool) -> None:
    assert is_suite_text(text) is expected


@pytest.mark.parametrize("text, key", [
    ("mlperf_suite: 1\nbenchmarks:\n  mine:\n    model: loop.onnx\n    dataset: {inputs: loop.onnx}\n",
     "benchmarks.mine.model"),
    ("mlperf_suite: 1\nextends: loop.onnx\nbenchmarks: {digits: {}}\n", "extends"),
])
def test_a_path_in_a_symlink_loop_is_an_error_at_its_key(tmp_path: Path, load, text: str, key: str) -> None:
    """Resolving a symlink loop raises RuntimeError on Python 3.11: the suite's error, never a traceback."""
    (tmp_path / "loop.onnx").symlink_to("loop.onnx")
    with pytest.raises(SuiteError) as info:
        load(text)
    assert f"{key}: cannot use the path 'loop.onnx'" in str(info.value)
