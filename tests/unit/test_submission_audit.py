"""Compliance audits on real LoadGen runs: audit.config text, TEST01 and TEST04 verification."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pytest_mlperf_nv.harness.logs import read_detail
from pytest_mlperf_nv.submission import audit
from pytest_mlperf_nv.submission.audit import AuditError, verify_test01, verify_test04
from pytest_mlperf_nv.submission.truncate import hash_and_truncate
from tests.submission_helpers import loadgen_runs


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return loadgen_runs(tmp_path_factory.mktemp("loadgen-runs"))


def lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


# --------------------------------------------------------------------------------------------------
# audit.config
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("bench", "target"), [
    ("resnet50", 4096), ("resnet", 4096), ("bert-99.9", 4096), ("dlrm-v2-99", 4096), ("gptj-99", 4096),
    ("rnnt", 4096), ("retinanet", 256), ("3d-unet-99", 64), ("digits", 64), ("my-own-net", 64),
])
def test_test01_config_per_benchmark(bench: str, target: int) -> None:
    text = audit.audit_config_text("TEST01", bench)
    keys = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert keys == ["*.*.mode = 2", "*.*.accuracy_log_rng_seed = 720381539243781796",
                    f"*.*.accuracy_log_sampling_target = {target}"]


def test_test04_and_test06_configs() -> None:
    keys = [line for line in audit.audit_config_text("TEST04", "resnet50").splitlines()
            if line and not line.startswith("#")]
    assert len(keys) == 16
    for scenario in ("SingleStream", "MultiStream", "Server", "Offline"):
        assert [k for k in keys if k.startswith(f"*.{scenario}.")] == [
            f"*.{scenario}.mode = 2", f"*.{scenario}.performance_issue_unique = 0",
            f"*.{scenario}.performance_issue_same = 1", f"*.{scenario}.performance_issue_same_index = 3"]
    assert "*.*.sample_concatenate_permutation = 0" in audit.audit_config_text("TEST06", "llama2-70b-99")
    with pytest.raises(ValueError, match="TEST05"):
        audit.audit_config_text("TEST05", "resnet50")


def test_loadgen_applied_the_configs(runs: dict[str, Path]) -> None:
    test01, _ = read_detail(runs["Offline/TEST01"] / "mlperf_log_detail.txt")
    assert test01["effective_accuracy_log_sampling_target"] == 4096  # resnet50
    assert test01["effective_accuracy_log_rng_seed"] == audit.TEST01_RNG_SEED
    assert test01["effective_test_mode"] == "PerformanceOnly"
    test04, _ = read_detail(runs["Offline/TEST04"] / "mlperf_log_detail.txt")
    assert test04["effective_performance_issue_same"] is True
    assert test04["effective_performance_issue_same_index"] == 3
    assert (runs["Offline/TEST01"] / "mlperf_log_accuracy.json").stat().st_size > 100


# --------------------------------------------------------------------------------------------------
# TEST01
# --------------------------------------------------------------------------------------------------


def test_deterministic_sut_passes_test01(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "TEST01"
    result = verify_test01(runs["Offline/accuracy"], runs["Offline/TEST01"], out, "int32",
                           reference_perf_dir=runs["Offline/performance"])
    assert result.passed, result.failures()
    assert result.accuracy.num_perf_log_qsl_idx_match > 10 and result.accuracy.num_perf_log_data_mismatch == 0
    assert "TEST PASS" in lines(out / "verify_accuracy.txt")
    assert "TEST PASS" in lines(out / "verify_performance.txt")
    assert lines(out / "verify_performance.txt")[:2] == ["Verifying performance.",
                                                         "Reference score = "
                                                         f"{result.performance.reference_score}"]
    assert abs(result.performance.ratio - 1) < 0.10
    assert result.failures() == [] and "accuracy PASS" in result.summary()
    assert result.as_dict()["passed"] is True


def test_test01_from_a_results_scenario_dir_and_byte_dtype(runs: dict[str, Path], tmp_path: Path) -> None:
    # the official -r form: a directory holding accuracy/ and performance/run_1/
    res = tmp_path / "res"
    copy_run(runs["Offline/accuracy"], res / "accuracy")
    copy_run(runs["Offline/performance"], res / "performance" / "run_1")
    result = verify_test01(res, runs["Offline/TEST01"], tmp_path / "out", copy_logs=True)
    assert result.passed, result.failures()
    assert result.accuracy.dtype == "byte"
    assert (tmp_path / "out" / "accuracy" / "mlperf_log_accuracy.json").is_file()
    assert (tmp_path / "out" / "performance" / "run_1" / "mlperf_log_detail.txt").is_file()


def test_nondeterministic_sut_fails_test01_accuracy(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "TEST01"
    result = verify_test01(runs["Offline/accuracy"], runs["Offline/TEST01-random"], out, "int32",
                           reference_perf_dir=runs["Offline/performance"])
    assert not result.passed and not result.accuracy_passed and result.performance_passed
    acc = result.accuracy
    assert acc.num_perf_log_data_mismatch > acc.num_perf_log_qsl_idx_match // 2
    assert lines(out / "verify_accuracy.txt")[-1] == "TEST FAIL"
    assert "TEST PASS" not in lines(out / "verify_accuracy.txt")
    [failure] = result.failures()
    assert "sampled responses differ from the accuracy run" in failure and "qsl_idx" in failure


def test_test01_performance_out_of_range(runs: dict[str, Path], tmp_path: Path) -> None:
    ref = copy_run(runs["Offline/performance"], tmp_path / "ref")
    detail = ref / "mlperf_log_detail.txt"
    value = read_detail(detail)[0]["result_samples_per_second"]
    rewrite(detail, f'"result_samples_per_second", "value": {value}', '"result_samples_per_second", '
                                                                      '"value": 2500.0')
    result = verify_test01(runs["Offline/accuracy"], runs["Offline/TEST01"], tmp_path / "out", "int32",
                           reference_perf_dir=ref)
    assert result.accuracy_passed and not result.performance_passed
    assert lines(tmp_path / "out" / "verify_performance.txt")[-1] == "TEST FAIL: Test score invalid"
    assert "reference score 2500" in result.failures()[0] and "±10 %" in result.failures()[0]


def test_test01_against_an_invalid_reference(runs: dict[str, Path], tmp_path: Path) -> None:
    result = verify_test01(runs["Offline/accuracy"], runs["Offline/TEST01"], tmp_path, "int32",
                           reference_perf_dir=runs["Offline/invalid"])
    assert not result.performance_passed
    assert lines(tmp_path / "verify_performance.txt")[-1].startswith("TEST FAIL: Invalid results in")


def test_test01_needs_full_logs_and_a_fitting_dtype(runs: dict[str, Path], tmp_path: Path) -> None:
    acc = copy_run(runs["Offline/accuracy"], tmp_path / "acc")
    (acc / "accuracy.txt").write_text("accuracy=1\n")
    hash_and_truncate(acc)
    with pytest.raises(AuditError, match="is truncated"):
        verify_test01(acc, runs["Offline/TEST01"], tmp_path / "out", "int32",
                      reference_perf_dir=runs["Offline/performance"])
    with pytest.raises(AuditError, match="not a whole number of int64"):
        verify_test01(runs["Offline/accuracy"], runs["Offline/TEST01"], tmp_path / "out", "int64",
                      reference_perf_dir=runs["Offline/performance"])
    with pytest.raises(AuditError, match="reference performance run"):
        verify_test01(runs["Offline/accuracy"], runs["Offline/TEST01"], tmp_path / "out", "int32")


def test_low_latency_threshold() -> None:
    assert audit.threshold_for("SingleStream", 150_000) == 0.20
    assert audit.threshold_for("SingleStream", 250_000) == 0.10
    assert audit.threshold_for("MultiStream", 1_600_000) == 0.20
    assert audit.threshold_for("Offline", 100.0) == 0.10


# --------------------------------------------------------------------------------------------------
# TEST04
# --------------------------------------------------------------------------------------------------


def test_test04_passes_for_an_honest_sut(runs: dict[str, Path], tmp_path: Path) -> None:
    result = verify_test04(runs["Offline/performance"], runs["Offline/TEST04"], tmp_path / "TEST04")
    assert result.passed, result.failures()
    text = lines(tmp_path / "TEST04" / "verify_performance.txt")
    assert text[0] == "Verifying performance." and text[-1] == "TEST PASS"
    assert "performance PASS" in result.summary() and result.as_dict()["test"] == "TEST04"


def test_test04_fails_when_the_audit_run_is_much_faster(runs: dict[str, Path], tmp_path: Path) -> None:
    # a reference run at half the speed: the TEST04 run (one sample over and over) looks 2x faster
    ref = copy_run(runs["Offline/performance"], tmp_path / "ref")
    summary = ref / "mlperf_log_summary.txt"
    line = next(x for x in summary.read_text().splitlines() if x.startswith("Samples per second"))
    rewrite(summary, line, f"Samples per second: {float(line.split(': ')[1]) / 2}")
    result = verify_test04(ref, runs["Offline/TEST04"], tmp_path / "TEST04")
    assert not result.passed
    assert lines(tmp_path / "TEST04" / "verify_performance.txt")[-1] == "TEST FAIL: Test score invalid"
    assert "caching" in result.failures()[0]


@pytest.mark.parametrize("scenario", ["SingleStream", "MultiStream"])
def test_test04_reads_early_stopping_estimates(runs: dict[str, Path], tmp_path: Path, scenario: str) -> None:
    run = runs[f"{scenario}/TEST04"]
    same = verify_test04(run, run, tmp_path / "same")
    assert same.passed and same.performance.threshold == 0.20
    estimate = 1e9 / same.performance.reference_score
    ref = copy_run(run, tmp_path / "slow")
    pct = "90.0th" if scenario == "SingleStream" else "99.0th"
    line = next(x for x in (ref / "mlperf_log_summary.txt").read_text().splitlines()
                if f"Early stopping {pct} percentile estimate" in x)
    rewrite(ref / "mlperf_log_summary.txt", line, f" * Early stopping {pct} percentile estimate: "
                                                  f"{estimate * 3:.0f}")
    assert not verify_test04(ref, run, tmp_path / "slow-out").passed


def test_test04_against_an_invalid_reference(runs: dict[str, Path], tmp_path: Path) -> None:
    result = verify_test04(runs["Offline/invalid"], runs["Offline/TEST04"], tmp_path)
    assert not result.passed
    assert lines(tmp_path / "verify_performance.txt")[-1] == "TEST FAIL: Reference results are invalid"
