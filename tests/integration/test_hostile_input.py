"""Hostile input through a whole pytest session: a collection error lists every mistake of a file
(file:line:col each, no traceback), bounded inputs fail fast, bad options are usage errors, and a
cached engine whose bytes changed fails its item with the flag that repairs it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.test_suite_errors import assert_no_traceback, collect, write

BOMB = "".join(
    f"{c}: &{c} [" + ",".join([f"*{chr(ord(c) - 1)}"] * 9 if c != "a" else ['"lol"'] * 9) + "]\n"
    for c in "abcdefghi")


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\n")
    return pytester


def test_a_collection_error_lists_every_mistake_of_the_file(project: pytest.Pytester) -> None:
    write(project, "suites/bad.yaml", "mlperf_suite: 1\nharnes: loadgen\ntimeout: .nan\nbenchmarks:\n"
                                      "  digits:\n    gpu_batch_size: big\n    scenarios: [Offline, Sever]\n")
    result = collect(project)
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert result.parseoutcomes().get("errors") == 1, output
    assert "4 errors in " in output and "(first error first):" in output
    heads = [line for line in output.splitlines() if "bad.yaml:" in line and ": " in line and "|" not in line
             and "errors in" not in line and "ERROR" not in line]
    assert [h.split("bad.yaml:", 1)[1].split(": ", 1)[0] for h in heads] == ["2:1", "3:10", "6:21", "7:26"]
    assert "did you mean 'harness'?" in output and "did you mean 'Server'?" in output
    assert_no_traceback(output)


def test_an_alias_bomb_fails_collection_at_once_and_the_good_suite_is_still_collected(
        project: pytest.Pytester) -> None:
    write(project, "suites/bomb.yaml", "mlperf_suite: 1\n" + BOMB + "name: *i\nbenchmarks: {digits: {}}\n")
    write(project, "suites/good.yaml", "mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios: [Offline]\n")
    result = collect(project, "--continue-on-collection-errors")
    output = result.stdout.str()
    assert "bomb.yaml:7:4: this value expands to" in output and "lol" not in output
    assert "<SuiteFile good.yaml>" in output and "<MlperfItem performance>" in output
    assert_no_traceback(output)


@pytest.mark.parametrize("value", ["nan", "inf", "1e400"])
def test_a_timeout_option_that_is_not_finite_is_a_usage_error(project: pytest.Pytester, value: str) -> None:
    write(project, "suites/s.yaml", "mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios: [Offline]\n")
    result = collect(project, f"--mlperf-timeout={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--mlperf-timeout" in result.stderr.str() and "Traceback" not in result.stderr.str()


def test_a_nan_override_is_a_usage_error(project: pytest.Pytester) -> None:
    write(project, "suites/s.yaml", "mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios: [Offline]\n")
    result = collect(project, "--mlperf-set", "digits.offline_expected_qps=.nan")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "expects a finite number, got NaN" in result.stderr.str()


SUITE = ("mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios: {Offline: {offline_expected_qps: 100000}}\n"
         "    modes: [performance]\n    min_duration: 100\n")


def test_a_cached_engine_whose_bytes_changed_fails_with_the_repair_flag(
        pytester: pytest.Pytester, mlperf_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "own-cache"  # this test damages an entry: not the shared cache
    monkeypatch.setenv("MLPERF_NV_CACHE_DIR", str(cache))
    pytester.makefile(".yaml", s=SUITE)
    first = pytester.runpytest("s.yaml", "-p", "no:cacheprovider")
    assert first.ret == pytest.ExitCode.OK, first.stdout.str()
    (engine,) = (cache / "entries" / "engine").glob("*/model.ort-optimized.onnx")
    stat = engine.stat()
    engine.write_bytes(b"\x00" * stat.st_size)  # bytes changed, size and time stamp kept
    os.utime(engine, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = pytester.runpytest("s.yaml", "-p", "no:cacheprovider")
    output = second.stdout.str()
    assert second.ret == pytest.ExitCode.TESTS_FAILED, output
    assert "is corrupt: the bytes of model.ort-optimized.onnx changed on disk" in output
    assert "rerun with --mlperf-cache-verify" in output
    third = pytester.runpytest("s.yaml", "-p", "no:cacheprovider", "--mlperf-cache-verify")
    assert third.ret == pytest.ExitCode.OK, third.stdout.str()


#: the issue's hostile suites: (file name, text, words of its error, with file:line:col)
DIGITS = "mlperf_suite: 1\nbenchmarks:\n  digits:\n"
OFFLINE_QPS = DIGITS + "    scenarios:\n      Offline: {offline_expected_qps: %s}\n"
QPS_KNOB = ":5:39: benchmarks.digits.scenarios.Offline.offline_expected_qps: expected a finite"
HOSTILE = {
    "stem_dotdot": ("..yaml", DIGITS + "    scenarios: [Offline]\n",
                    "..yaml:1:1: the file name '..yaml' cannot name this suite's run directory"),
    "name_newline": ("newline.yaml", 'mlperf_suite: 1\nname: "edge\\n"\nbenchmarks: {digits: {}}\n',
                     "newline.yaml:2:7: name: name 'edge\\n' contains a control character"),
    "name_long": ("long.yaml", f"mlperf_suite: 1\nname: {'a' * 300}\nbenchmarks: {{digits: {{}}}}\n",
                  "is 300 characters long (at most 100)"),
    "deep": ("deep.yaml", "mlperf_suite: 1\nx: " + "[" * 400 + "]" * 400 + "\nbenchmarks: {digits: {}}\n",
             "are nested more than 32 levels deep"),
    "long_int": ("longint.yaml", DIGITS + "    min_duration: " + "9" * 5000 + "\n",
                 "longint.yaml:4:19: an integer of 5000 characters is too long"),
    "huge_float": ("hugefloat.yaml", OFFLINE_QPS % "1e309", "hugefloat.yaml" + QPS_KNOB),
    "nan_qps": ("nanqps.yaml", OFFLINE_QPS % ".nan", "nanqps.yaml" + QPS_KNOB),
    "nan_timeout": ("nantimeout.yaml", "mlperf_suite: 1\ntimeout: .nan\nbenchmarks: {digits: {}}\n",
                    "nantimeout.yaml:2:10: timeout: expected a finite number, got NaN"),
    "nan_gate": ("nangate.yaml", DIGITS + "    expect: {min_qps: .nan}\n",
                 "nangate.yaml:4:23: benchmarks.digits.expect.min_qps: expected a finite number, got NaN"),
    "nul_model": ("nulmodel.yaml", DIGITS + '    model: "m\\0.onnx"\n',
                  "nulmodel.yaml:4:12: benchmarks.digits.model: the path 'm\\x00.onnx' contains a NUL byte"),
    "long_extends": ("longextends.yaml", f"mlperf_suite: 1\nextends: {'x' * 5000}.yaml\n",
                     "longextends.yaml:2:10: extends: the path"),
    "nul_code_dir": ("nulcode.yaml", 'mlperf_suite: 1\nharness: nvidia\nnvidia: {code_dir: "a\\0b"}\n'
                                     "benchmarks: {resnet50: {}}\n",
                     "nulcode.yaml:3:20: nvidia.code_dir: the path 'a\\x00b' contains a NUL byte"),
}


def test_every_hostile_suite_of_a_session_is_one_clear_collection_error(project: pytest.Pytester) -> None:
    """One collection of all of them: each suite is its own error with file:line:col and no traceback,
    and the well-formed suite beside them is still collected."""
    for stem, (name, text, _) in HOSTILE.items():
        write(project, f"suites/{stem}/{name}", text)
    write(project, "suites/good.yaml", "mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios: [Offline]\n")
    result = collect(project, "--continue-on-collection-errors", "suites")
    output = result.stdout.str() + result.stderr.str()
    assert result.parseoutcomes().get("errors") == len(HOSTILE), output
    for stem, (_, _, words) in HOSTILE.items():
        assert words in output, f"{stem}: {words!r} not in\n{output}"
    assert "<SuiteFile good.yaml>" in output and "<MlperfItem performance>" in output
    assert_no_traceback(output)


def test_a_model_path_to_a_file_that_is_no_onnx_model_is_a_clear_error_without_a_traceback(
        pytester: pytest.Pytester, mlperf_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    monkeypatch.setenv("MLPERF_NV_CACHE_DIR", str(tmp_path / "own-cache"))
    (pytester.path / "m.onnx").write_text("not a model\n")
    np.save(pytester.path / "x.npy", np.zeros((4, 8), dtype=np.float32))
    np.save(pytester.path / "y.npy", np.zeros(4, dtype=np.int64))
    pytester.makefile(".yaml", s="mlperf_suite: 1\nbenchmarks:\n  mine:\n    model: m.onnx\n"
                                 "    dataset: {inputs: x.npy, labels: y.npy}\n    scenarios: [Offline]\n"
                                 "    modes: [performance]\n    min_duration: 100\n")
    result = pytester.runpytest("s.yaml", "-p", "no:cacheprovider")
    output = result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output
    assert f"cannot load the model {pytester.path / 'm.onnx'}: it is not an ONNX model" in output
    assert "give the path of an .onnx model file" in output
    assert "Traceback" not in output and "backends.py" not in output and "\nE " not in output, output
