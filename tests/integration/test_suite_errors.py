"""A bad suite file is a collection error that says where, what and what was expected.

Each test writes a suite into a pytester directory, runs ``pytest --co`` (collection only,
no LoadGen run) and checks the error: ``bad.yaml:<line>:<col>: <key>: <message>``, the
offending line of the file with a caret under the column, a did-you-mean for near-miss
names, and no Python traceback anywhere in the output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GOOD_SUITE = (REPO / "suites" / "cpu.yaml").read_text(encoding="utf-8")
GOOD_ITEMS = [
    *(f"digits::{scenario}::{mode}"
      for scenario in ("Offline", "Server", "SingleStream", "MultiStream")
      for mode in ("performance", "accuracy")),
    "resnet50::Offline::performance",
]

# Most suites below start like this; line numbers in the cases count these two lines.
HEAD = "mlperf_suite: 1\n"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """An empty project whose rootdir is pytester.path (so 'suites/*.yaml' is relative to it)."""
    pytester.makeini("[pytest]\n")
    return pytester


def write(pytester: pytest.Pytester, relative: str, text: str) -> Path:
    path = pytester.path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def collect(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("--co", "-p", "no:cacheprovider", *args)


def assert_no_traceback(output: str) -> None:
    assert "Traceback" not in output, output
    assert 'File "' not in output, output
    assert not re.search(r"\braise ", output), output
    assert "pytest_mlperf_nv/" not in output, output
    assert "_pytest/" not in output, output
    # pytest's own exception lines start with "E   "
    assert not re.search(r"^E\s", output, flags=re.MULTILINE), output


def assert_suite_error(result: pytest.RunResult, name: str, line: int, column: int, key: str | None,
                       *fragments: str, snippet: bool = True) -> str:
    """One collection error for ``name`` at line:column, naming ``key``; returns the output."""
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, output
    assert result.parseoutcomes().get("errors") == 1, output
    head = f"{name}:{line}:{column}: " + (f"{key}: " if key else "")
    assert head in output, f"expected {head!r} in:\n{output}"
    for fragment in fragments:
        assert fragment in output, f"expected {fragment!r} in:\n{output}"
    if snippet:
        # The file's line, then a caret under the column.
        header = next(ln for ln in output.splitlines() if head in ln)
        source = Path(header.split(f":{line}:{column}: ", 1)[0]).read_text(encoding="utf-8")
        quoted = f"  {line:>4} | {source.splitlines()[line - 1]}"
        caret = "       | " + " " * (column - 1) + "^"
        lines = output.splitlines()
        at = lines.index(header)
        assert lines[at + 1:at + 3] == [quoted, caret], output
    assert_no_traceback(output)
    return output


@dataclass
class Bad:
    """A bad suite and the error it must give."""

    id: str
    text: str
    line: int
    column: int
    key: str | None
    fragments: tuple[str, ...] = ()
    snippet: bool = True
    absent: tuple[str, ...] = field(default=())


BAD_SUITES = [
    # -- malformed YAML -----------------------------------------------------------------
    Bad("yaml-unclosed-bracket",
        HEAD + "benchmarks:\n  digits:\n    scenarios: [Offline, Server\n    modes: [performance]\n",
        5, 10, None, ("malformed YAML", "expected ',' or ']'",
                      "flow sequence that starts at line 4, column 16")),
    Bad("yaml-unclosed-bracket-at-end-of-file",
        HEAD + "benchmarks:\n  digits:\n    scenarios: [Offline, Server\n",
        4, 16, None, ("malformed YAML", "expected ',' or ']'", "while parsing a flow sequence")),
    Bad("yaml-unclosed-quote-at-end-of-file",
        HEAD + 'name: "cpu\nbenchmarks:\n  digits: {}\n',
        2, 7, None, ("malformed YAML", "while scanning a quoted scalar")),
    Bad("yaml-bad-indentation",
        HEAD + "benchmarks:\n  digits:\n    gpu_batch_size: 8\n   scenarios: [Offline]\n",
        5, 4, None, ("malformed YAML", "expected <block end>",
                     "while parsing a block mapping that starts at line 3, column 3")),
    Bad("yaml-tab-indentation",
        HEAD + "benchmarks:\n\tdigits: {}\n",
        3, 1, None, ("malformed YAML", "cannot start any token")),
    Bad("yaml-two-documents",
        HEAD + "benchmarks:\n  digits: {}\n---\nname: other\n",
        4, 1, None,
        ("malformed YAML: expected a single document in the stream, but found another document",)),
    Bad("yaml-undefined-alias",
        HEAD + "benchmarks:\n  digits: *common\n",
        3, 11, None, ("malformed YAML", "found undefined alias 'common'")),
    # -- the top level is not a mapping ---------------------------------------------------
    Bad("root-is-a-list",
        "- mlperf_suite: 1\n- benchmarks: {digits: {}}\n",
        1, 1, None, ("the top level must be a mapping with 'mlperf_suite: 1' and 'benchmarks:'",
                     "got a list")),
    Bad("root-is-a-scalar",
        "digits\n",
        1, 1, None, ("the top level must be a mapping", "got a string")),
    Bad("root-is-empty",
        "# nothing here yet\n",
        1, 1, None, ("the top level must be a mapping", "got nothing (null)")),
    # -- mlperf_suite version ---------------------------------------------------------------
    Bad("version-missing",
        "name: cpu\nbenchmarks:\n  digits: {}\n",
        1, 1, "mlperf_suite", ("required key is missing", "add 'mlperf_suite: 1'")),
    Bad("version-unknown-2",
        "mlperf_suite: 2\nbenchmarks:\n  digits: {}\n",
        1, 15, "mlperf_suite", ("unknown suite format version 2", "reads versions 1")),
    Bad("version-is-a-string",
        'mlperf_suite: "1"\nbenchmarks:\n  digits: {}\n',
        1, 15, "mlperf_suite", ("unknown suite format version '1'", "reads versions 1")),
    # -- duplicate keys (the message names the line of the first one) ------------------------
    Bad("duplicate-top-level-key",
        HEAD + "name: cpu\nname: gpu\nbenchmarks:\n  digits: {}\n",
        3, 1, "name", ("duplicate key (first defined at line 2)", "remove or rename one of them")),
    Bad("duplicate-nested-key",
        HEAD + "benchmarks:\n  digits:\n    gpu_batch_size: 8\n    scenarios: [Offline]\n"
               "    gpu_batch_size: 16\n",
        6, 5, "gpu_batch_size", ("duplicate key (first defined at line 4)",)),
    Bad("duplicate-benchmark-id",
        HEAD + "benchmarks:\n  digits: {}\n  digits:\n    gpu_batch_size: 4\n",
        4, 3, "digits", ("duplicate key (first defined at line 3)",)),
    Bad("duplicate-scenario-in-flow-mapping",
        HEAD + "benchmarks:\n  digits:\n    scenarios: {Offline: {}, Offline: {}}\n",
        4, 30, "Offline", ("duplicate key (first defined at line 4)",)),
    # -- wrong types --------------------------------------------------------------------------
    Bad("modes-is-a-number",
        HEAD + "modes: 3\nbenchmarks:\n  digits: {}\n",
        2, 8, "modes", ("expected a non-empty list of modes, e.g. [performance, accuracy]",)),
    Bad("gpu-batch-size-is-a-string",
        HEAD + 'benchmarks:\n  digits:\n    gpu_batch_size: "32"\n',
        4, 21, "benchmarks.digits.gpu_batch_size", ("expected an integer, got a string '32'",)),
    Bad("gpu-batch-size-is-empty",
        HEAD + "benchmarks:\n  digits:\n    gpu_batch_size:\n",
        4, 20, "benchmarks.digits.gpu_batch_size", ("expected an integer, got nothing (null)",),
        absent=("None",)),
    Bad("gpu-batch-size-is-a-boolean",
        HEAD + "benchmarks:\n  digits:\n    scenarios:\n      Offline: {gpu_batch_size: true}\n",
        5, 33, "benchmarks.digits.scenarios.Offline.gpu_batch_size",
        ("expected an integer, got a boolean true",), absent=("True",)),
    Bad("min-accuracy-is-a-word",
        HEAD + "benchmarks:\n  digits:\n    expect:\n      min_accuracy: high\n",
        5, 21, "benchmarks.digits.expect.min_accuracy", ("expected a number, got a string 'high'",)),
    Bad("scenarios-is-a-string",
        HEAD + "benchmarks:\n  digits:\n    scenarios: Offline\n",
        4, 16, "benchmarks.digits.scenarios", ("expected a list or mapping of scenarios, got a string",)),
    Bad("scenario-body-is-a-list",
        HEAD + "benchmarks:\n  digits:\n    scenarios:\n      Offline: [gpu_batch_size]\n",
        5, 7, "benchmarks.digits.scenarios.Offline", ("expected a mapping of knobs, got a list",)),
    Bad("system-count-is-fractional",
        HEAD + "system:\n  gpu: none\n  count: 1.5\nbenchmarks:\n  digits: {}\n",
        4, 10, "system.count", ("expected an integer, got a number 1.5",)),
    Bad("benchmarks-is-a-list",
        HEAD + "benchmarks:\n  - digits\n",
        3, 3, "benchmarks", ("expected a mapping, got a list",)),
    Bad("harness-is-a-number",
        HEAD + "harness: 1\nbenchmarks:\n  digits: {}\n",
        2, 10, "harness", ("expected a string, got an integer",)),
    # -- unknown names ------------------------------------------------------------------------
    Bad("unknown-top-level-key",
        HEAD + "harnes: loadgen\nbenchmarks:\n  digits: {}\n",
        2, 1, "harnes", ("unknown key; did you mean 'harness'?",)),
    Bad("unknown-top-level-key-benchmark-singular",
        HEAD + "benchmark:\n  digits: {}\n",
        2, 1, "benchmark", ("unknown key; did you mean 'benchmarks'?",)),
    Bad("unknown-top-level-key-far-from-any",
        HEAD + "colour: blue\nbenchmarks:\n  digits: {}\n",
        2, 1, "colour", ("unknown key; expected one of: mlperf_suite, extends, name,", "benchmarks")),
    Bad("unknown-benchmark",
        HEAD + "benchmarks:\n  digit:\n    scenarios: [Offline]\n",
        3, 3, "benchmarks.digit", ("unknown benchmark 'digit'; did you mean 'digits'?",
                                   "'benchmark: <name>'")),
    Bad("unknown-benchmark-of-a-variant",
        HEAD + "benchmarks:\n  digits-small:\n    benchmark: digit\n",
        4, 16, "benchmarks.digits-small.benchmark", ("unknown benchmark 'digit'; did you mean 'digits'?",)),
    Bad("unknown-scenario-in-a-list",
        HEAD + "benchmarks:\n  digits:\n    scenarios: [Server, offline]\n",
        4, 25, "benchmarks.digits.scenarios", ("unknown scenario 'offline'; did you mean 'Offline'?",
                                               "names are exact")),
    Bad("unknown-scenario-in-a-mapping",
        HEAD + "benchmarks:\n  digits:\n    scenarios:\n      offline: {gpu_batch_size: 8}\n",
        5, 7, "benchmarks.digits.scenarios", ("unknown scenario 'offline'; did you mean 'Offline'?",)),
    Bad("unknown-mode",
        HEAD + "modes: [perfromance]\nbenchmarks:\n  digits: {}\n",
        2, 9, "modes", ("unknown mode 'perfromance'; did you mean 'performance'?",)),
    Bad("unknown-mode-of-a-benchmark",
        HEAD + "benchmarks:\n  digits:\n    modes: [performance, acuracy]\n",
        4, 26, "benchmarks.digits.modes", ("unknown mode 'acuracy'; did you mean 'accuracy'?",)),
    Bad("mode-misspelled-compliance",
        HEAD + "modes: [performance, complance]\nbenchmarks:\n  digits: {}\n",
        2, 22, "modes", ("unknown mode 'complance'", "did you mean 'compliance'")),
    # -- submission block ---------------------------------------------------------------
    Bad("submission-unknown-key",
        HEAD + "submission: {divison: open}\nbenchmarks:\n  digits: {}\n",
        2, 14, "submission.divison", ("unknown key", "did you mean 'division'")),
    Bad("submission-bad-round",
        HEAD + "submission: {round: v6.2}\nbenchmarks:\n  digits: {}\n",
        2, 21, "submission.round", ("unknown value 'v6.2'", "did you mean 'v6.1'")),
    Bad("submission-non-numeric-number-of-nodes",
        HEAD + "submission:\n  system: {number_of_nodes: x}\nbenchmarks:\n  digits: {}\n",
        3, 29, "submission.system.number_of_nodes", ("expected an integer, got a string 'x'",)),
    Bad("submission-unknown-system-field",
        HEAD + "submission:\n  system: {coolling: air}\nbenchmarks:\n  digits: {}\n",
        3, 12, "submission.system.coolling", ("unknown key", "did you mean 'cooling'")),
    Bad("submission-division-inside-system",
        HEAD + "submission:\n  system: {division: open}\nbenchmarks:\n  digits: {}\n",
        3, 12, "submission.system.division", ("set division as submission.division",)),
    Bad("submission-mapping-to-unknown-benchmark",
        HEAD + "submission:\n  model_mapping: {digits: resnet}\nbenchmarks:\n  digits: {}\n",
        3, 27, "submission.model_mapping.digits",
        ("expected the MLPerf benchmark this model is entered for", "did you mean 'resnet50'")),
    Bad("submission-submitter-with-slash",
        HEAD + "submission: {submitter: a/b}\nbenchmarks:\n  digits: {}\n",
        2, 25, "submission.submitter", ("cannot be used in a file path",)),
    Bad("unknown-harness",
        HEAD + "harness: loadgn\nbenchmarks:\n  digits: {}\n",
        2, 10, "harness", ("unknown value 'loadgn'; did you mean 'loadgen'?",)),
    Bad("non-mlperf-benchmark-on-harness-nvidia",
        HEAD + "harness: nvidia\nbenchmarks:\n  digits: {}\n",
        4, 3, "benchmarks.digits", ("digits is not an MLPerf benchmark, so NVIDIA's code cannot run it",
                                    "use 'harness: loadgen'")),
    Bad("unknown-backend-near-miss",
        HEAD + "backend: onnxruntim\nbenchmarks:\n  digits: {}\n",
        2, 10, "backend", ("unknown value 'onnxruntim'; did you mean 'onnxruntime'?",)),
    Bad("unknown-backend",
        HEAD + "backend: tensorrt\nbenchmarks:\n  digits: {}\n",
        2, 10, "backend", ("unknown value 'tensorrt'; expected one of: onnxruntime",)),
    Bad("unknown-profile",
        HEAD + "profile: offical\nbenchmarks:\n  digits: {}\n",
        2, 10, "profile", ("unknown value 'offical'; did you mean 'official'?",)),
    Bad("unknown-knob-in-a-scenario",
        HEAD + "benchmarks:\n  digits:\n    scenarios:\n      Offline: {gpu_batch_siz: 32}\n",
        5, 17, "benchmarks.digits.scenarios.Offline.gpu_batch_siz",
        ("unknown knob; did you mean 'gpu_batch_size'?",)),
    Bad("unknown-key-of-a-benchmark",
        HEAD + "benchmarks:\n  digits:\n    gpu_batch_siz: 32\n",
        4, 5, "benchmarks.digits.gpu_batch_siz", ("unknown key; did you mean 'gpu_batch_size'?",)),
    Bad("unknown-expect-key",
        HEAD + "benchmarks:\n  digits:\n    expect: {min_acuracy: 90}\n",
        4, 14, "benchmarks.digits.expect.min_acuracy", ("unknown key; did you mean 'min_accuracy'?",)),
    Bad("knob-in-the-wrong-scenario",
        HEAD + "benchmarks:\n  digits:\n    scenarios:\n      Offline:\n        server_target_qps: 100\n",
        6, 9, "benchmarks.digits.scenarios.Offline.server_target_qps",
        ("applies to Server only, not Offline",)),
    Bad("gpu-only-knob-on-harness-loadgen",
        HEAD + "harness: loadgen\nbenchmarks:\n  digits:\n    scenarios:\n"
               "      Offline: {use_graphs: true}\n",
        6, 29, "benchmarks.digits.scenarios.Offline.use_graphs",
        ("knob 'use_graphs' is not honoured by harness 'loadgen'", "harness 'nvidia'",
         "Remove it from this suite")),
    Bad("gpu-only-knob-on-a-benchmark",
        HEAD + "benchmarks:\n  digits:\n    gpu_inference_streams: 2\n",
        4, 28, "benchmarks.digits.gpu_inference_streams",
        ("knob 'gpu_inference_streams' is not honoured by harness 'loadgen'",)),
    Bad("benchmark-level-knob-of-an-unselected-scenario-is-still-checked",
        HEAD + "benchmarks:\n  digits:\n    server_target_qps: fast\n    scenarios: [Offline]\n",
        4, 24, "benchmarks.digits.server_target_qps", ("expected a number, got a string 'fast'",)),
    # -- zero and negative values ------------------------------------------------------------
    Bad("gpu-batch-size-zero",
        HEAD + "benchmarks:\n  digits:\n    gpu_batch_size: 0\n",
        4, 21, "benchmarks.digits.gpu_batch_size", ("must be greater than 0, got 0",)),
    Bad("gpu-batch-size-negative",
        HEAD + "benchmarks:\n  digits:\n    scenarios:\n      Offline:\n        gpu_batch_size: -4\n",
        6, 25, "benchmarks.digits.scenarios.Offline.gpu_batch_size", ("must be greater than 0, got -4",)),
    Bad("server-qps-zero",
        HEAD + "benchmarks:\n  digits:\n    scenarios:\n      Server: {server_target_qps: 0}\n",
        5, 35, "benchmarks.digits.scenarios.Server.server_target_qps", ("must be greater than 0, got 0",)),
    Bad("offline-qps-negative",
        HEAD + "benchmarks:\n  digits:\n    offline_expected_qps: -1.5\n",
        4, 27, "benchmarks.digits.offline_expected_qps", ("must be greater than 0, got -1.5",)),
    Bad("num-warmups-negative",
        HEAD + "benchmarks:\n  digits:\n    num_warmups: -1\n",
        4, 18, "benchmarks.digits.num_warmups", ("must be at least 0, got -1",)),
    Bad("timeout-negative",
        HEAD + "timeout: -5\nbenchmarks:\n  digits: {}\n",
        2, 10, "timeout", ("must be greater than 0, got -5",)),
    # -- empty lists --------------------------------------------------------------------------
    Bad("benchmarks-empty-mapping",
        HEAD + "benchmarks: {}\n",
        2, 13, "benchmarks", ("the benchmark list is empty", "name at least one benchmark")),
    Bad("benchmarks-with-nothing",
        HEAD + "benchmarks:\n",
        2, 12, "benchmarks", ("the benchmark list is empty",)),
    Bad("benchmarks-missing",
        HEAD + "name: cpu\n",
        1, 1, "benchmarks", ("required key is missing",)),
    Bad("scenarios-empty-list",
        HEAD + "benchmarks:\n  digits:\n    scenarios: []\n",
        4, 16, "benchmarks.digits.scenarios", ("the scenario list is empty",)),
    # -- names that would escape the output directory -----------------------------------------
    Bad("benchmark-id-with-dot-dot",
        HEAD + "benchmarks:\n  ../x:\n    benchmark: digits\n",
        3, 3, "benchmarks.../x", ("benchmark id '../x' cannot be used in a file path",
                                  "no '/' and no '..'")),
    Bad("benchmark-id-with-slash",
        HEAD + "benchmarks:\n  a/b:\n    benchmark: digits\n",
        3, 3, "benchmarks.a/b", ("benchmark id 'a/b' cannot be used in a file path",)),
    Bad("suite-name-with-dot-dot",
        HEAD + "name: ../evil\nbenchmarks:\n  digits: {}\n",
        2, 7, "name", ("name '../evil' cannot be used in a file path",)),
    # -- the official profile and MLPerf's rules ----------------------------------------------
    Bad("official-profile-with-min-duration",
        HEAD + "profile: official\nbenchmarks:\n  digits:\n    scenarios:\n      Offline:\n"
               "        min_duration: 1000\n",
        7, 23, "benchmarks.digits.scenarios.Offline.min_duration",
        ("profile 'official' keeps this at LoadGen's mlperf.conf value",
         "every performance run must last at least 600 s", "use 'profile: quick'")),
    Bad("official-profile-with-a-benchmark-level-query-count",
        HEAD + "profile: official\nbenchmarks:\n  digits:\n    min_query_count: 10\n",
        5, 22, "benchmarks.digits.min_query_count",
        ("profile 'official'", "query counts are fixed by mlperf.conf")),
]


@pytest.mark.parametrize("bad", BAD_SUITES, ids=[b.id for b in BAD_SUITES])
def test_bad_suite_is_a_collection_error_without_traceback(project: pytest.Pytester, bad: Bad) -> None:
    write(project, "suites/bad.yaml", bad.text)
    result = collect(project)
    output = assert_suite_error(result, "bad.yaml", bad.line, bad.column, bad.key, *bad.fragments,
                                snippet=bad.snippet)
    message = next(ln for ln in output.splitlines() if f"bad.yaml:{bad.line}:{bad.column}:" in ln)
    for text in bad.absent:
        assert text not in message, message


def test_empty_file_under_suites_is_an_error(project: pytest.Pytester) -> None:
    write(project, "suites/bad.yaml", "")
    result = collect(project)
    # An empty file has no line to quote, so there is no snippet.
    assert_suite_error(result, "bad.yaml", 1, 1, None, "the top level must be a mapping",
                       "got nothing (null)", snippet=False)


def test_one_bad_suite_does_not_stop_a_good_suite(project: pytest.Pytester) -> None:
    write(project, "suites/good.yaml", GOOD_SUITE)
    write(project, "suites/bad.yaml", HEAD + "benchmarks:\n  digit: {}\n")
    result = collect(project, "-q", "suites/")
    output = result.stdout.str()
    listed = [ln for ln in output.splitlines() if ln.startswith("suites/good.yaml::")]
    assert listed == [f"suites/good.yaml::{item}" for item in GOOD_ITEMS], output
    assert result.parseoutcomes() == {"tests": 9, "errors": 1}, output
    assert "ERROR suites/bad.yaml" in output
    assert_suite_error(result, "bad.yaml", 3, 3, "benchmarks.digit", "did you mean 'digits'?")


def test_yaml_under_suites_without_mlperf_suite_says_the_key_is_missing(project: pytest.Pytester) -> None:
    write(project, "suites/settings.yaml", "colour: blue\nsize: 3\n")
    result = collect(project)
    assert_suite_error(result, "settings.yaml", 1, 1, "mlperf_suite", "required key is missing",
                       "add 'mlperf_suite: 1' as the first line")


def test_plain_yaml_elsewhere_is_ignored(project: pytest.Pytester) -> None:
    write(project, "config/other.yaml", "colour: blue\nbenchmarks: [not, a, suite]\n")
    write(project, "config/broken.yaml", "key: [unclosed\n")
    result = collect(project, "-q")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED, output
    assert "other.yaml" not in output and "broken.yaml" not in output
    assert "error" not in output.lower()


def test_yaml_elsewhere_marked_mlperf_suite_is_collected(project: pytest.Pytester) -> None:
    write(project, "config/other.yaml", "colour: blue\n")
    write(project, "config/mine.yaml",
          "# my own suite\nmlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios: [Offline]\n")
    result = collect(project, "-q")
    output = result.stdout.str()
    assert result.ret == pytest.ExitCode.OK, output
    listed = [ln for ln in output.splitlines() if "::" in ln]
    assert listed == ["config/mine.yaml::digits::Offline::performance",
                      "config/mine.yaml::digits::Offline::accuracy"], output
    assert "other.yaml" not in output


def test_yaml_elsewhere_marked_mlperf_suite_over_the_size_limit_is_refused(project: pytest.Pytester) -> None:
    """Collection reads a YAML file no further than a suite may hold; one that says it is a suite
    and is larger is still collected, and refused for its size."""
    write(project, "config/huge.yaml", "mlperf_suite: 1\n" + "# padding\n" * 500_000)
    result = collect(project)
    assert_suite_error(result, "huge.yaml", 1, 1, None, "a suite is at most 4,194,304 bytes", snippet=False)


def test_yaml_elsewhere_marked_mlperf_suite_is_validated(project: pytest.Pytester) -> None:
    write(project, "config/mine.yaml",
          "mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios: [Offline]\n    modes: [perfromance]\n")
    result = collect(project)
    assert_suite_error(result, "mine.yaml", 5, 13, "benchmarks.digits.modes",
                       "did you mean 'performance'?")


def test_bad_suite_named_on_the_command_line(project: pytest.Pytester) -> None:
    write(project, "elsewhere/bad.yaml",
          "mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios: [offline]\n")
    result = collect(project, "elsewhere/bad.yaml")
    assert_suite_error(result, "bad.yaml", 4, 17, "benchmarks.digits.scenarios",
                       "did you mean 'Offline'?")


def test_bad_suite_in_a_subprocess_run_has_no_traceback(project: pytest.Pytester) -> None:
    """The same rendering when pytest runs as its own process (as a user runs it)."""
    write(project, "suites/bad.yaml",
          HEAD + "benchmarks:\n  digits:\n    scenarios:\n      Offline: {gpu_batch_siz: 32}\n")
    result = project.runpytest_subprocess("--co", "-p", "no:cacheprovider")
    assert_suite_error(result, "bad.yaml", 5, 17, "benchmarks.digits.scenarios.Offline.gpu_batch_siz",
                       "unknown knob; did you mean 'gpu_batch_size'?")
