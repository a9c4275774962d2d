"""harness: nvidia against the emulator of NVIDIA's code (tests/fakes/nvidia), which runs real LoadGen."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import REPO, write_suite

EMULATOR = REPO / "tests" / "fakes" / "nvidia"
H200 = REPO / "tests" / "data" / "systems" / "h200x1.json"


@pytest.fixture
def code_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the emulated closed/NVIDIA tree (it writes build/ beside its code)."""
    copy = tmp_path / "nvidia"
    shutil.copytree(EMULATOR, copy, ignore=shutil.ignore_patterns("build", "__pycache__"))
    monkeypatch.setenv("EMULATED_SYSTEM_ID", "H200-SXM-141GBx1")
    for name in ("EMULATED_FAILURE", "MLPERF_NV_NVIDIA_CODE_DIR", "MLPERF_NV_HARNESS"):
        monkeypatch.delenv(name, raising=False)
    return copy / "v4.1"


def _suite(code_dir: Path | None, scenarios: str, modes: str = "[performance]",
           benchmark: str = "resnet50") -> str:
    nvidia = f"nvidia: {{code_dir: {code_dir}}}\n" if code_dir else ""
    return (f"mlperf_suite: 1\nname: h200\nsystem: {{gpu: h200, count: 1}}\nharness: nvidia\n{nvidia}"
            f"profile: quick\nmodes: {modes}\nbenchmarks:\n  {benchmark}:\n    scenarios:\n{scenarios}")


OFFLINE = "      Offline: {offline_expected_qps: 5000000, min_duration: 100, gpu_batch_size: 2048}\n"
SERVER = "      Server: {server_target_qps: 3000, min_duration: 500, use_graphs: true}\n"


def _record(root: Path, scenario: str, mode: str, bench: str = "resnet50") -> dict:
    path = root / f"mlperf-results/runs/h200/{bench}/{scenario}/{mode}/result.json"
    return json.loads(path.read_text())


def _effective(record: dict) -> dict:
    from pytest_mlperf_nv.harness.logs import read_detail

    detail, _ = read_detail(Path(record["nvidia"]["log_dir"]) / "mlperf_log_detail.txt")
    return detail


def test_runs_pass_as_the_emulated_logs_say_with_the_suite_settings(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path) -> None:
    write_suite(mlperf_env, _suite(code_dir, OFFLINE + SERVER, "[performance, accuracy]"), "h200.yaml")
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}", "-n", "2")
    result.assert_outcomes(passed=4)
    offline = _record(mlperf_env, "Offline", "performance")
    assert offline["loadgen"]["validity"] == "VALID"
    # NVIDIA's own summary calls every run under 600 s INVALID; the verdict reads LoadGen's logs.
    assert "Result is INVALID" in offline["nvidia"]["metadata"]["summary_string"]
    assert "--gpu_batch_size=resnet50:2048" in offline["nvidia"]["arguments"]
    assert "--test_run" in offline["nvidia"]["arguments"]
    # The effective LoadGen settings in the emulated logs are the suite's knobs.
    detail = _effective(offline)
    assert detail["effective_target_qps"] == 5_000_000 and detail["effective_min_duration_ms"] == 100
    server = _record(mlperf_env, "Server", "performance")
    detail = _effective(server)
    assert detail["effective_target_qps"] == 3000 and detail["effective_min_duration_ms"] == 500
    assert "--use_graphs" in server["nvidia"]["arguments"]
    accuracy = _record(mlperf_env, "Offline", "accuracy")
    assert accuracy["verdict"] == "PASS" and accuracy["accuracy"]["scored_by"] == "NVIDIA's accuracy check"
    # Each item had its own LOG_DIR inside its run directory.
    assert Path(offline["nvidia"]["log_dir"]).is_relative_to(mlperf_env / "mlperf-results")


def test_make_stages_and_engines_are_built_once_and_reused(mlperf_env: Path, pytester: pytest.Pytester,
                                                           code_dir: Path) -> None:
    write_suite(mlperf_env, _suite(code_dir, OFFLINE, "[performance, accuracy]"), "h200.yaml")
    pytester.runpytest(f"--mlperf-system-snapshot={H200}").assert_outcomes(passed=2)
    hits = sorted(_record(mlperf_env, "Offline", m)["provisioning"]["engine"]["cache_hit"]
                  for m in ("performance", "accuracy"))
    assert hits == [False, True]
    assert list((code_dir / "build" / "engines").rglob("*.plan"))
    # NVIDIA's make targets that code.main has no action for ran once each, into NVIDIA's tree.
    assert (code_dir / "build/models/resnet50/.downloaded").is_file()
    assert (code_dir / "build/preprocessed_data/resnet50/.preprocessed").is_file()
    assert (code_dir / "build/.built").read_text().strip() == "v4.1"
    stages = [_record(mlperf_env, "Offline", m)["nvidia"]["stages"] for m in ("performance", "accuracy")]
    assert sorted(s["download_model"]["cache_hit"] for s in stages) == [False, True]
    pytester.runpytest(f"--mlperf-system-snapshot={H200}").assert_outcomes(passed=2)
    assert _record(mlperf_env, "Offline", "performance")["provisioning"]["engine"]["cache_hit"] is True


@pytest.mark.parametrize(("env", "benchmark", "expected"), [
    ({"EMULATED_FAILURE": "invalid"}, "resnet50", ["*LoadGen result INVALID*", "*min duration not met*"]),
    ({"EMULATED_FAILURE": "engine_build"}, "resnet50",
     ["*engine build failed*", "*NVIDIA's generate_engines failed: the child process exited with status*"]),
    ({"EMULATED_SYSTEM_ID": "Mystery-GPUx1"}, "resnet50",
     ["*NVIDIA's code does not know this machine*Detected system did not match any known systems*"]),
    ({}, "dlrm-v2-99", ["*NVIDIA's code has no config for this case (No registered config for*"]),
])
def test_failures_of_nvidia_code_fail_the_item_with_the_cause(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path, monkeypatch: pytest.MonkeyPatch,
        env: dict[str, str], benchmark: str, expected: list[str]) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("EMULATED_SYSTEM_ID", env.get("EMULATED_SYSTEM_ID", "L4x1" if benchmark != "resnet50"
                                                     else "H200-SXM-141GBx1"))
    write_suite(mlperf_env, _suite(code_dir, OFFLINE.replace(", gpu_batch_size: 2048", ""),
                                   benchmark=benchmark), "h200.yaml")
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}")
    result.assert_outcomes(failed=1)
    for pattern in expected:
        result.stdout.fnmatch_lines([pattern])
    assert "Traceback" not in result.stdout.str().split("MLPerf results")[0].split("FAILURES")[-1] or \
        "child stderr" in result.stdout.str()


def test_without_nvidia_code_items_skip_saying_how_to_point_at_it(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path) -> None:
    write_suite(mlperf_env, _suite(None, OFFLINE.replace("}", ", use_graphs: true}")), "h200.yaml")
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED*NVIDIA's MLPerf code is not configured: point nvidia.code_dir in "
                                 "the suite, --mlperf-nvidia-code-dir*--mlperf-harness loadgen*"])
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}", "--mlperf-strict")
    result.assert_outcomes(failed=1)
    # The same suite on the built-in harness: NVIDIA-only knobs are listed, not errors.
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}", "--mlperf-harness=loadgen", "-rs",
                                "--junitxml=junit.xml")
    result.stdout.fnmatch_lines(["*running on harness loadgen (--mlperf-harness) instead of nvidia; knobs "
                                 "it cannot honour are ignored: "
                                 "benchmarks.resnet50.scenarios.Offline.use_graphs*"])
    # resnet50 on the built-in harness needs ImageNet: it skips and says so.
    result.assert_outcomes(skipped=1)
    # With the option pointing at the code, it runs.
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}", f"--mlperf-nvidia-code-dir={code_dir}")
    result.assert_outcomes(passed=1)


def test_the_shipped_h200_suite_runs_every_benchmark_and_scenario_on_the_emulator(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path) -> None:
    """resnet50, retinanet, bert-99, 3d-unet-99, dlrm-v2-99, gptj-99, llama2-70b-99 in their datacenter
    scenarios, both modes, two xdist workers; settings from the h200 profile and the command line."""
    write_suite(mlperf_env, f"mlperf_suite: 1\nextends: {REPO / 'pytest_mlperf_nv/suites/h200.yaml'}\n"
                            f"nvidia: {{code_dir: {code_dir}}}\n", "h200.yaml")
    result = pytester.runpytest_subprocess(
        f"--mlperf-system-snapshot={H200}", "-n", "2", "-p", "no:cacheprovider",
        "--mlperf-set", "*.Offline.offline_expected_qps=5e6", "--mlperf-set", "*.Offline.min_duration=100",
        "--mlperf-set", "*.Server.min_duration=500", "--mlperf-set", "*.Server.server_target_qps=3000")
    result.assert_outcomes(passed=26)
    bert = _record(mlperf_env, "Offline", "performance", bench="bert-99")
    assert any(a.startswith("--gpu_batch_size=bert:") for a in bert["nvidia"]["arguments"])  # h200 profile
    detail = _effective(_record(mlperf_env, "Server", "performance", bench="llama2-70b-99"))
    assert detail["effective_target_qps"] == 3000 and detail["effective_min_duration_ms"] == 500
    assert {_record(mlperf_env, s, "performance", bench="dlrm-v2-99")["worker"]
            for s in ("Offline", "Server")} <= {"gw0", "gw1"}
