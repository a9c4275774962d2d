"""backend: torch through the plugin on the CPU: real LoadGen, real children, real files.

Needs torch (``pip install pytest-mlperf-nv[torch]``); skips without it. The GPU paths run in
tests/integration/test_torch_gpu.py on a machine with a GPU.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="backend: torch needs torch: pip install pytest-mlperf-nv[torch]")

from tests.helpers import digits_suite, write_suite  # noqa: E402
from tests.integration.test_resnet50_suite import _imagenet  # noqa: E402

# Server's latency bound far above any scheduling delay of a busy machine: the test checks that
# every scenario runs and completes through the backend, not how fast this machine is.
SCENARIOS = ("      Offline: {offline_expected_qps: 200000, min_duration: 200}\n"
             "      Server: {server_target_qps: 1000, server_target_latency_ns: 2000000000}\n"
             "      SingleStream: {single_stream_expected_latency_ns: 10000}\n")


def _record(root: Path, suite: str, bench: str, scenario: str, mode: str) -> dict:
    path = root / f"mlperf-results/runs/{suite}/{bench}/{scenario}/{mode}/result.json"
    return json.loads(path.read_text())


def test_digits_on_torch_passes_in_every_scenario_with_its_accuracy(mlperf_env: Path,
                                                                     pytester: pytest.Pytester) -> None:
    write_suite(mlperf_env, digits_suite(SCENARIOS, backend="torch", modes="[performance, accuracy]"))
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=6)
    record = _record(mlperf_env, "cpu", "digits", "Offline", "accuracy")
    assert record["accuracy"]["value"] > 90.0
    backend = record["versions"]["backend"]
    assert backend["backend"] == "torch" and backend["options"]["device"] == "cpu"
    assert backend["devices"][0]["name"] == "cpu"
    server = _record(mlperf_env, "cpu", "digits", "Server", "performance")
    assert server["loadgen"]["validity"] == "VALID"


def test_resnet50_on_torch_predicts_what_onnxruntime_predicts_on_imagenet_files(
        mlperf_env: Path, pytester: pytest.Pytester, tmp_path: Path) -> None:
    """The same model file and images through both backends: the torch backend moves the 8-bit
    pixels and subtracts the means itself, and must give the same classes."""
    from pytest_mlperf_nv.accuracy.log import read_accuracy_log
    from pytest_mlperf_nv.benchmarks.resnet50_model import build_random_resnet50

    data = tmp_path / "data"
    _imagenet(data, 6)
    shutil.copy(data / build_random_resnet50(data), data / "resnet50_v1.onnx")
    predictions = {}
    for backend in ("onnxruntime", "torch"):
        write_suite(mlperf_env, f"mlperf_suite: 1\nname: {backend}\nbackend: {backend}\nprofile: quick\n"
                                "modes: [accuracy]\nbenchmarks:\n  resnet50:\n    dataset: imagenet\n"
                                "    gpu_batch_size: 4\n    expect: {min_accuracy: 0}\n"
                                "    scenarios:\n      Offline: {offline_expected_qps: 100}\n",
                    name=f"{backend}.yaml")
        result = pytester.runpytest(f"suites/{backend}.yaml", f"--mlperf-data-dir={data}")
        result.assert_outcomes(passed=1)
        log = mlperf_env / f"mlperf-results/runs/{backend}/resnet50/Offline/accuracy/mlperf_log_accuracy.json"
        predictions[backend] = {e.qsl_idx: e.data for e in read_accuracy_log(log)}
    assert len(predictions["torch"]) == 6 and predictions["torch"] == predictions["onnxruntime"]


def test_bert_on_onnxruntime_skips_naming_the_backend_that_runs_it(mlperf_env: Path,
                                                                   pytester: pytest.Pytester) -> None:
    write_suite(mlperf_env, "mlperf_suite: 1\nbackend: onnxruntime\nmodes: [performance]\nbenchmarks:\n"
                            "  bert-99: {dataset: synthetic, scenarios: [Offline]}\n")
    result = pytester.runpytest("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*bert-99 runs on the built-in harness with backend torch only, not "
                                 "onnxruntime; set 'backend: torch'*"])
