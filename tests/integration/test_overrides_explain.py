"""--mlperf-set, --mlperf-explain, MLPerf benchmarks the built-in harness cannot run, subsets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import digits_suite, write_suite

OFFLINE = "      Offline: {offline_expected_qps: 2000000, min_duration: 200}\n"


def test_explain_shows_every_setting_with_its_source_and_runs_nothing(
        mlperf_env: Path, pytester: pytest.Pytester) -> None:
    write_suite(mlperf_env, digits_suite(OFFLINE))
    result = pytester.runpytest("--mlperf-explain", "--mlperf-set", "digits.Offline.offline_expected_qps=5e5",
                                "--mlperf-set", "*.min_duration=2000", "-n", "2")
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "suites/cpu.yaml::digits::Offline::performance",
        "*profile*quick*<- suite *cpu.yaml:3:10",
        "*timeout_s*<- auto: 2 x expected run length + 60 s",
        "*gpu_batch_size*32*<- suite *cpu.yaml:*",
        "*LoadGen settings (over LoadGen's built-in mlperf.conf for digits/Offline):",
        "*min_duration_ms*2000*<- command-line option --mlperf-set [*].min_duration=2000",
        "*min_query_count*1*<- profile quick",
        "*offline_expected_qps*500000.0*<- command-line option --mlperf-set "
        "digits.Offline.offline_expected_qps=5e5",
        "*user.conf:",
        "*digits.Offline.target_qps = 500000*",
        "--mlperf-explain: 1 item(s) explained, nothing was run",
    ])
    assert not (mlperf_env / "mlperf-results").exists()


def test_set_overrides_the_suite_in_the_run(mlperf_env: Path, pytester: pytest.Pytester) -> None:
    write_suite(mlperf_env, digits_suite(OFFLINE))
    result = pytester.runpytest("--mlperf-set", "digits.Offline.offline_expected_qps=10")
    result.assert_outcomes(failed=1)  # 10 samples/s finishes too early: INVALID
    record = json.loads((mlperf_env / "mlperf-results/runs/cpu/digits/Offline/performance/result.json")
                        .read_text())
    setting = record["settings"]["offline_expected_qps"]
    assert setting == {"value": 10.0, "source": "command-line option --mlperf-set "
                                                "digits.Offline.offline_expected_qps=10"}
    conf = (mlperf_env / "mlperf-results/runs/cpu/digits/Offline/performance/user.conf").read_text()
    assert "digits.Offline.target_qps = 10  # command-line option --mlperf-set" in conf


@pytest.mark.parametrize(("value", "expected"), [
    ("digits.Offline.offline_expected_qps", "expected ID[.Scenario].knob=value"),
    ("offline_expected_qps=5", "name the benchmark id (or '*') before the knob"),
    ("digits.offline.offline_expected_qps=5", "unknown scenario 'offline'; did you mean 'Offline'?"),
    ("digits.gpu_batch_siz=5", "unknown knob 'gpu_batch_siz'; did you mean 'gpu_batch_size'?"),
    ("digits.Offline.server_target_qps=5", "server_target_qps applies to Server only, not Offline"),
    ("digits.gpu_batch_size=0", "gpu_batch_size must be greater than 0, got 0"),
    ("digits.gpu_batch_size=big", "gpu_batch_size expects an integer, got 'big'"),
])
def test_bad_set_values_are_usage_errors(mlperf_env: Path, pytester: pytest.Pytester, value: str,
                                         expected: str) -> None:
    write_suite(mlperf_env, digits_suite(OFFLINE))
    result = pytester.runpytest("--mlperf-set", value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"ERROR: --mlperf-set '{value}': {expected}" in result.stderr.str()


def test_official_profile_refuses_rule_bound_values_from_any_source(
        mlperf_env: Path, pytester: pytest.Pytester) -> None:
    write_suite(mlperf_env, digits_suite(OFFLINE.replace("min_duration: 200", "min_duration: 1000")))
    result = pytester.runpytest("--co", "--mlperf-profile=official")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([
        "*cpu.yaml:9:*: min_duration: profile 'official' (command-line option --mlperf-profile='official') "
        "keeps this at LoadGen's mlperf.conf value: every performance run must last at least 600 s*"])
    write_suite(mlperf_env, digits_suite("      Offline: {offline_expected_qps: 2000000}\n"))
    result = pytester.runpytest("--co", "--mlperf-profile=official", "--mlperf-set", "digits.min_duration=5")
    result.stdout.fnmatch_lines(["*command-line option --mlperf-set digits.min_duration=5: profile "
                                 "'official'*600 s*"])
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]])
def test_set_naming_no_benchmark_of_the_suites_is_a_usage_error(mlperf_env: Path, pytester: pytest.Pytester,
                                                                 xdist: list[str]) -> None:
    suite = write_suite(mlperf_env, digits_suite(OFFLINE))
    result = pytester.runpytest_subprocess(str(suite), "--mlperf-set", "digit.Offline.gpu_batch_size=4",
                                           *xdist)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --mlperf-set 'digit.Offline.gpu_batch_size=4': no benchmark id or "
                                 "name 'digit' in cpu.yaml; did you mean 'digits'? (the suites have: "
                                 "digits)"])
    assert not (mlperf_env / "mlperf-results").exists()


def test_set_matching_no_scenario_of_a_known_benchmark_is_a_warning(mlperf_env: Path,
                                                                     pytester: pytest.Pytester) -> None:
    write_suite(mlperf_env, digits_suite(OFFLINE))
    result = pytester.runpytest("--co", "--mlperf-set", "digits.Server.server_target_qps=4")
    result.stdout.fnmatch_lines(["*--mlperf-set matched no collected item: "
                                 "digits.Server.server_target_qps=4*"])


def test_mlperf_benchmarks_the_builtin_harness_cannot_run_skip_naming_the_harness(
        mlperf_env: Path, pytester: pytest.Pytester) -> None:
    write_suite(mlperf_env, "mlperf_suite: 1\nbenchmarks:\n  bert-99: {scenarios: [Offline, SingleStream]}\n"
                            "  3d-unet-99.9: {scenarios: [Offline]}\n")
    result = pytester.runpytest("-rs")
    result.assert_outcomes(skipped=6)
    result.stdout.fnmatch_lines([
        "SKIPPED*bert-99 cannot run on the built-in harness (harness: loadgen) yet; NVIDIA's MLPerf code "
        "runs it with 'harness: nvidia'"])
    write_suite(mlperf_env, "mlperf_suite: 1\nbenchmarks:\n  3d-unet-99: {scenarios: [Server]}\n")
    result = pytester.runpytest("--co")
    result.stdout.fnmatch_lines(["*3d-unet-99.scenarios: benchmark 3d-unet-99 does not support scenario "
                                 "Server; it supports Offline, SingleStream*"])


def test_accuracy_on_a_subset_is_labelled_and_never_official(mlperf_env: Path,
                                                              pytester: pytest.Pytester) -> None:
    write_suite(mlperf_env, digits_suite(OFFLINE, modes="[accuracy]").replace(
        "    gpu_batch_size: 32\n", "    gpu_batch_size: 32\n    accuracy_samples: 100\n"))
    result = pytester.runpytest("--junitxml=junit.xml")
    result.assert_outcomes(passed=1)
    run_dir = mlperf_env / "mlperf-results/runs/cpu/digits/Offline/accuracy"
    record = json.loads((run_dir / "result.json").read_text())
    assert record["accuracy"]["total"] == 100 and record["accuracy"]["subset"] is True
    assert record["accuracy"]["dataset_size"] == 360
    assert any("subset of 100 of 360" in r for r in record["not_submittable_because"])
    assert (run_dir / "accuracy.txt").read_text().startswith("accuracy=")
    assert "mlperf_accuracy_subset" in (mlperf_env / "junit.xml").read_text()


def test_accuracy_txt_and_round_are_recorded(mlperf_env: Path, pytester: pytest.Pytester) -> None:
    import mlperf_loadgen  # noqa: F401

    from pytest_mlperf_nv.benchmarks.mlperf.seeds import round_of_loadgen_version

    write_suite(mlperf_env, digits_suite(OFFLINE, modes="[accuracy]"))
    pytester.runpytest().assert_outcomes(passed=1)
    run_dir = mlperf_env / "mlperf-results/runs/cpu/digits/Offline/accuracy"
    text = (run_dir / "accuracy.txt").read_text()
    assert text.startswith("accuracy=97.222%, good=350, total=360")
    record = json.loads((run_dir / "result.json").read_text())
    assert record["round"] == round_of_loadgen_version(record["versions"]["loadgen"])
    assert record["round"] is not None


def _classifier_files(root: Path, tmp: Path) -> None:
    """An ONNX classifier (the digits model) and .npy arrays for a suite-defined benchmark."""
    import numpy as np

    from pytest_mlperf_nv.benchmarks.digits import build_digits_model, digits_dataset

    (root / "models").mkdir()
    name = build_digits_model(root / "models")
    (root / "models" / name).rename(root / "models" / "mine.onnx")
    data = digits_dataset(None)
    (root / "data").mkdir()
    np.save(root / "data" / "x.npy", data.inputs[:200])
    labels = data.labels()[:200].copy()
    labels[:50] = (labels[:50] + 1) % 10  # 50 of 200 labels are wrong: accuracy <= 75 %
    np.save(root / "data" / "y.npy", labels)


def test_a_suite_defines_its_own_benchmark(mlperf_env: Path, pytester: pytest.Pytester,
                                           tmp_path: Path) -> None:
    _classifier_files(mlperf_env, tmp_path)
    write_suite(mlperf_env, (
        "mlperf_suite: 1\nprofile: quick\nbenchmarks:\n  mine:\n"
        "    model: ../models/mine.onnx\n"
        "    dataset: {inputs: ../data/x.npy, labels: ../data/y.npy}\n"
        "    metric: top1\n    accuracy_target: 70.0\n    gpu_batch_size: 16\n"
        "    scenarios:\n      Offline: {offline_expected_qps: 2000000, min_duration: 200}\n"))
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
    record = json.loads((mlperf_env / "mlperf-results/runs/cpu/mine/Offline/accuracy/result.json")
                        .read_text())
    assert record["accuracy"]["total"] == 200
    assert 70.0 <= record["accuracy"]["value"] <= 75.0
    assert record["model"]["path"].endswith("models/mine.onnx")
    assert "mine is not an MLPerf benchmark" in record["not_submittable_because"]
    # A green session whose benchmark cannot enter an MLPerf tree says so, without an ERROR.
    summary = result.stdout.str().split("MLPerf submission")[1]
    assert "ERROR" not in summary and "no result entered in the tree" in summary
    assert "left out: mine Offline" in summary


@pytest.mark.parametrize(("body", "expected"), [
    ("    model: ../models/none.onnx\n    dataset: {inputs: ../data/x.npy}\n",
     "*cpu.yaml:4:12: benchmarks.mine.model: file not found: *none.onnx (paths are relative to the "
     "suite file)"),
    ("    model: ../models/mine.onnx\n    dataset: {inputs: ../data/x.npy, label: ../data/y.npy}\n",
     "*benchmarks.mine.dataset.label: unknown key; did you mean 'labels'?"),
    ("    model: ../models/mine.onnx\n    dataset: {inputs: ../data/x.npy}\n    metric: top5\n",
     "*benchmarks.mine.metric: unknown value 'top5'*"),
    ("    benchmark: digits\n    metric: top1\n",
     "*benchmarks.mine.metric: 'metric' belongs to a benchmark defined in the suite*"),
])
def test_suite_defined_benchmark_errors(mlperf_env: Path, pytester: pytest.Pytester, tmp_path: Path,
                                        body: str, expected: str) -> None:
    _classifier_files(mlperf_env, tmp_path)
    write_suite(mlperf_env, "mlperf_suite: 1\nbenchmarks:\n  mine:\n" + body)
    result = pytester.runpytest("--co")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([expected])
