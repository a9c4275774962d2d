"""Suites written to break the loader: each is a SuiteError with file:line:col, never a traceback.

Suites may come from a pull request. Loading is bounded (size, nesting depth, values after
alias expansion, integer length), numbers are finite and within the range LoadGen keeps them
in, names and paths follow one rule, and every error of a file is reported at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_mlperf_nv.errors import SettingsError, SuiteError, SuiteErrors
from pytest_mlperf_nv.names import MAX_NAME_LENGTH
from pytest_mlperf_nv.options import _timeout
from pytest_mlperf_nv.plugin import pytest_mlperf_register
from pytest_mlperf_nv.registry import Registry
from pytest_mlperf_nv.suite.knobs import DURATION_MS_MAX, UINT64_MAX
from pytest_mlperf_nv.suite.overrides import parse_override
from pytest_mlperf_nv.suite.schema import load_suite
from pytest_mlperf_nv.suite.yamlload import MAX_DEPTH, MAX_SUITE_BYTES, MAX_VALUES, parse_scalar

HEAD = "mlperf_suite: 1\n"
DIGITS = "benchmarks:\n  digits:\n    scenarios: [Offline]\n"

# 9 levels of 9 aliases: 9**9 (387 million) strings from 600 bytes of YAML.
BOMB = "".join(
    f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} [" + ",".join(
        ['"lol"'] * 9 if i == 0 else [f"*{chr(ord('a') + i - 1)}"] * 9) + "]\n"
    for i in range(9))


@pytest.fixture(scope="module")
def registry() -> Registry:
    registry = Registry()
    pytest_mlperf_register(registry)
    return registry


@pytest.fixture
def load(tmp_path: Path, registry: Registry):
    def _load(text: str, name: str = "suite.yaml"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return load_suite(path, registry)

    return _load


def error_of(load, text: str, name: str = "suite.yaml") -> SuiteError:
    with pytest.raises(SuiteError) as excinfo:
        load(text, name)
    return excinfo.value


def assert_bounded(error: SuiteError, limit: int = 3000) -> str:
    text = str(error)
    assert len(text) < limit, text[:500]
    return text


# -- bounded loading -------------------------------------------------------------------------


def test_alias_bomb_as_a_value_is_refused_without_expanding_it(load) -> None:
    error = error_of(load, HEAD + BOMB + "name: *i\n" + DIGITS)
    text = assert_bounded(error)
    assert error.location.line == 7  # f: 9**6 strings, the innermost value that is too large on its own
    assert f"at most {MAX_VALUES:,}" in text and "aliases (*name)" in text
    assert "lol" not in error.message


def test_alias_bomb_in_a_knob_is_refused(load) -> None:
    error = error_of(load, HEAD + BOMB + "benchmarks:\n  digits:\n    gpu_batch_size: *i\n")
    assert "expands to" in assert_bounded(error)


def test_a_large_aliased_value_is_named_by_its_size_in_messages(load) -> None:
    # Under the expansion limit, but printing it would still be megabytes.
    big = "big: &big [" + ",".join(["xxxxxxxxxx"] * 5000) + "]\n"
    error = error_of(load, HEAD + big + "name: *big\n" + DIGITS)
    text = assert_bounded(error)
    assert "name must be a string, got a list" in text
    error = error_of(load, HEAD + big + "modes: [*big]\n" + DIGITS)
    assert "unknown mode a list of 5000 items" in assert_bounded(error)


def test_an_alias_cycle_is_refused(load) -> None:
    error = error_of(load, HEAD + "description: &a [*a]\n" + DIGITS)
    assert "contains itself through an alias" in assert_bounded(error)


@pytest.mark.parametrize("nested", [
    "[" * 300 + "]" * 300,
    "{a: " * 300 + "1" + "}" * 300,
    "\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(300)) + "  " * 301 + "v",
])
def test_deep_nesting_is_refused_before_python_recursion_runs_out(load, nested: str) -> None:
    error = error_of(load, HEAD + DIGITS + "description: " + nested + "\n")
    text = assert_bounded(error)
    assert f"nested more than {MAX_DEPTH} levels deep" in text
    assert error.location.line >= 5


def test_nesting_within_the_limit_is_read(load) -> None:
    flow = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)  # with the top-level mapping: MAX_DEPTH
    with pytest.raises(SuiteError, match="unknown key"):
        load(HEAD + DIGITS + "colour: " + flow + "\n")


def test_an_integer_of_thousands_of_digits_is_refused(load) -> None:
    error = error_of(load, HEAD + "benchmarks:\n  digits:\n    gpu_batch_size: " + "9" * 5000 + "\n")
    text = assert_bounded(error)
    assert "an integer of 5000 characters is too long" in text
    assert (error.location.line, error.location.column) == (4, 21)


def test_a_suite_over_the_size_limit_is_refused_unread(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as f:  # a sparse 50 MB file: the check must not need to read it
        f.write(HEAD.encode())
        f.truncate(50 * 1024 * 1024)
    with pytest.raises(SuiteError) as excinfo:
        load_suite(path, registry)
    assert "the file is 52,428,800 bytes; a suite is at most" in assert_bounded(excinfo.value)


def test_a_suite_just_over_the_limit_with_real_content_is_refused(load) -> None:
    filler = "# " + "x" * 98 + "\n"
    text = HEAD + DIGITS + filler * (MAX_SUITE_BYTES // len(filler) + 1)
    assert "a suite is at most" in str(error_of(load, text))


@pytest.mark.parametrize(("value", "fragment"), [
    ("2024-13-45", "month must be in 1..12"),
    ("!!int abc", "invalid literal for int()"),
    ("!!float x", "could not convert string to float"),
])
def test_values_pyyaml_cannot_construct_are_errors_at_their_position(load, value: str, fragment: str) -> None:
    error = error_of(load, HEAD + f"description: {value}\n" + DIGITS)
    assert "cannot read this value" in str(error) and fragment in str(error)
    assert (error.location.line, error.location.column) == (2, 14)


def test_nul_byte_in_the_yaml_text_is_an_error_at_its_position(load) -> None:
    error = error_of(load, HEAD + "name: a\x00b\n" + DIGITS)
    assert "character U+0000 is not allowed" in str(error)
    assert (error.location.line, error.location.column) == (2, 8)


# -- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("knob", "value", "fragment"), [
    ("offline_expected_qps", "1e309", "expected a finite number, got infinity"),
    ("offline_expected_qps", ".inf", "expected a finite number, got infinity"),
    ("offline_expected_qps", ".nan", "expected a finite number, got NaN"),
    ("offline_expected_qps", "-.inf", "got -infinity"),
    ("min_duration", ".nan", "expected an integer, got NaN"),
    ("min_duration", str(DURATION_MS_MAX + 1),
     f"must be at most {DURATION_MS_MAX:,} (LoadGen converts milliseconds to a 64-bit count of nanoseconds)"),
    ("min_query_count", str(UINT64_MAX + 1), "must be at most 18,446,744,073,709,551,615"),
    ("gpu_batch_size", str(2**31), "must be at most 2,147,483,647"),
    ("offline_expected_qps", "1" + "0" * 60, None),  # large but finite: LoadGen takes it
])
def test_numbers_are_finite_and_within_loadgens_range(load, knob: str, value: str, fragment: str | None
                                                      ) -> None:
    text = HEAD + f"benchmarks:\n  digits:\n    scenarios: [Offline]\n    {knob}: {value}\n"
    if fragment is None:
        suite = load(text)
        assert suite.cases[0].knob(knob) == float(value)
        return
    error = error_of(load, text)
    assert fragment in str(error)
    assert error.key == f"benchmarks.digits.{knob}" and error.location.line == 5


@pytest.mark.parametrize("value", [".nan", ".inf", "1e309", str(366 * 24 * 3600)])
def test_suite_timeout_must_be_finite_and_at_most_a_year(load, value: str) -> None:
    error = error_of(load, HEAD + f"timeout: {value}\n" + DIGITS)
    assert error.key == "timeout" and error.location.line == 2


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "1e309", "-inf", str(366 * 24 * 3600)])
def test_timeout_option_must_be_finite_and_at_most_a_year(value: str) -> None:
    with pytest.raises(ValueError):
        _timeout(value)


@pytest.mark.parametrize("gate", ["min_accuracy", "min_qps", "max_latency_ms"])
def test_nan_expect_gates_are_refused(load, gate: str) -> None:
    error = error_of(load, HEAD + f"benchmarks:\n  digits:\n    expect: {{{gate}: .nan}}\n")
    assert "NaN" in str(error) and error.key == f"benchmarks.digits.expect.{gate}"


@pytest.mark.parametrize(("text", "fragment"), [
    ("digits.offline_expected_qps=.nan", "expects a finite number, got NaN"),
    ("digits.offline_expected_qps=1e309", "got infinity"),
    ("digits.min_duration=99999999999999999", "must be at most 9,223,372,036,854"),
    ("digits.gpu_batch_size=" + "9" * 5000, "expects an integer"),
])
def test_overrides_follow_the_same_ranges(text: str, fragment: str) -> None:
    with pytest.raises(SettingsError) as excinfo:
        parse_override(text)
    assert fragment in str(excinfo.value) and len(str(excinfo.value)) < 400


def test_command_line_values_are_bounded_too() -> None:
    assert parse_scalar("[" * 500 + "]" * 500).startswith("[[[")  # refused as YAML: kept as text
    assert parse_scalar("1e5") == 100000.0


# -- names and paths -------------------------------------------------------------------------------


@pytest.mark.parametrize(("line", "fragment"), [
    ('name: "cpu\\n"', "contains a control character"),
    ('name: "cpu "', "starts or ends with white space"),
    (f"name: {'a' * 300}", f"is 300 characters long (at most {MAX_NAME_LENGTH})"),
    ("name: ../evil", "cannot be used in a file path"),
    ('submission: {submitter: "acme\\n"}', "contains a control character"),
    (f"submission: {{system_name: {'s' * 101}}}", "is 101 characters long"),
])
def test_one_name_rule_for_names_that_become_directories(load, line: str, fragment: str) -> None:
    error = error_of(load, HEAD + line + "\n" + DIGITS)
    assert fragment in assert_bounded(error) and error.location.line == 2


@pytest.mark.parametrize("bench_id", ['"digits\\n"', "a" * 120, '"di gits"'])
def test_benchmark_ids_follow_the_name_rule(load, bench_id: str) -> None:
    error = error_of(load, HEAD + f"benchmarks:\n  {bench_id}:\n    benchmark: digits\n")
    assert "benchmark id" in assert_bounded(error) and error.location.line == 3


@pytest.mark.parametrize("file_name", ["..yaml", "...yaml", "a\n.yaml"])
def test_a_suite_whose_stem_cannot_name_its_runs_needs_a_name(load, file_name: str) -> None:
    # Path("...yaml").stem == "..": runs/<name>/ would be the output dir itself.
    error = error_of(load, HEAD + DIGITS, name=file_name)
    assert "cannot name this suite's run directory" in str(error)
    assert "give the suite a name: key" in str(error)
    assert load(HEAD + "name: fine\n" + DIGITS, name=file_name).name == "fine"


@pytest.mark.parametrize("bad", ["a\\x00b.onnx", "x" * 300 + ".onnx", "d/" * 2100 + "m.onnx", "a\\tb.onnx"])
def test_model_paths_with_nul_bytes_or_over_long_are_errors(load, bad: str) -> None:
    text = HEAD + f'benchmarks:\n  mynet:\n    model: "{bad}"\n    dataset: {{inputs: x.npy}}\n'
    error = error_of(load, text)
    assert isinstance(error, SuiteErrors) or error.key == "benchmarks.mynet.model"
    first = error.errors[0] if isinstance(error, SuiteErrors) else error
    assert first.key == "benchmarks.mynet.model" and (first.location.line, first.location.column) == (4, 12)
    assert "the path" in first.message
    assert_bounded(error)


@pytest.mark.parametrize("bad", ["base\\x00.yaml", "b" * 300 + ".yaml", "d/" * 2100 + "base.yaml"])
def test_extends_paths_with_nul_bytes_or_over_long_are_errors(load, bad: str) -> None:
    error = error_of(load, HEAD + f'extends: "{bad}"\n' + DIGITS)
    assert error.key == "extends" and "the path" in assert_bounded(error)


@pytest.mark.parametrize("bad", ["code\\x00dir", "c" * 300, "d/" * 2100])
def test_nvidia_code_dir_with_nul_bytes_or_over_long_is_an_error(load, bad: str) -> None:
    error = error_of(load, HEAD + f'harness: nvidia\nnvidia: {{code_dir: "{bad}"}}\n'
                     "benchmarks:\n  resnet50:\n    scenarios: [Offline]\n")
    assert error.key == "nvidia.code_dir" and "the path" in assert_bounded(error)


def test_an_extends_chain_is_bounded(tmp_path: Path, registry: Registry) -> None:
    for i in range(40):
        (tmp_path / f"s{i}.yaml").write_text(HEAD + f"extends: s{i + 1}.yaml\n")
    (tmp_path / "s40.yaml").write_text(HEAD + DIGITS)
    with pytest.raises(SuiteError, match="more than 16 files deep"):
        load_suite(tmp_path / "s0.yaml", registry)


# -- every error at once -----------------------------------------------------------------------------


def test_every_error_of_a_file_is_reported_at_once_first_error_first(load) -> None:
    error = error_of(load, HEAD + "harnes: loadgen\ntimeout: .nan\n"
                     "benchmarks:\n"
                     "  digits:\n"
                     "    gpu_batch_size: big\n"
                     "    scenarios:\n"
                     "      Offline: {offline_expected_qps: .inf}\n"
                     "      Sever: {}\n"
                     "    expect: {min_qps: .nan, max_latency: 3}\n"
                     "  resnet50:\n"
                     "    dataset: imagenett\n")
    assert isinstance(error, SuiteErrors)
    where = [(e.location.line, e.location.column, e.key) for e in error.errors]
    assert where == [
        (2, 1, "harnes"), (3, 10, "timeout"), (6, 21, "benchmarks.digits.gpu_batch_size"),
        (8, 39, "benchmarks.digits.scenarios.Offline.offline_expected_qps"),
        (9, 7, "benchmarks.digits.scenarios"), (10, 23, "benchmarks.digits.expect.min_qps"),
        (10, 29, "benchmarks.digits.expect.max_latency"), (12, 14, "benchmarks.resnet50.dataset")]
    text = str(error)
    assert text.startswith("8 errors in ")
    lines = text.splitlines()
    # Each error keeps its own rendering: file:line:col: key: message, the line, the caret.
    at = next(i for i, ln in enumerate(lines) if ":9:7: benchmarks.digits.scenarios: unknown scenario" in ln)
    assert lines[at + 1] == "     9 |       Sever: {}" and lines[at + 2] == "       |       ^"
    assert "did you mean 'Server'?" in text and "did you mean 'max_latency_ms'?" in text
    # The first error is the exception's own (code that handles one SuiteError handles this).
    assert (error.location.line, error.key) == (2, "harnes")


def test_a_single_error_keeps_its_single_rendering(load) -> None:
    error = error_of(load, HEAD + "harnes: loadgen\n" + DIGITS)
    assert not isinstance(error, SuiteErrors)
    assert str(error).splitlines()[0].endswith(":2:1: harnes: unknown key; did you mean 'harness'?")


def test_the_error_listing_stops_at_a_limit(load) -> None:
    knobs = "".join(f"    knob{i}: 1\n" for i in range(200))
    error = error_of(load, HEAD + "benchmarks:\n  digits:\n" + knobs)
    assert isinstance(error, SuiteErrors) and len(error.errors) == 50
    assert str(error).startswith("50 or more errors in") and "the listing stops at 50 errors" in str(error)


def test_a_long_line_is_shown_around_the_column(load) -> None:
    error = error_of(load, HEAD + "description: " + "x" * 5000 + "\nharnes: loadgen\n" + DIGITS)
    assert "harnes" in str(error)
    error = error_of(load, HEAD + "benchmarks: {digits: {scenarios: [Offline]}, " + "a" * 3000
                     + ": {}, resnet50: {gpu_batch_size: x}}\n")
    lines = str(error).splitlines()
    assert all(len(line) < 400 for line in lines), [len(line) for line in lines]
