"""resnet50 through the plugin on real files: an ImageNet-format tree and a model in the data dir."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers import write_suite

SUITE = ("mlperf_suite: 1\nprofile: quick\nbenchmarks:\n  resnet50:\n    dataset: imagenet\n"
         "    gpu_batch_size: 4\n    expect: {min_accuracy: 0}\n"
         "    scenarios:\n      Offline: {offline_expected_qps: 100}\n")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pytest_mlperf_nv.benchmarks.resnet50_model import build_random_resnet50

    folder = tmp_path_factory.mktemp("model")
    return folder / build_random_resnet50(folder)


def _imagenet(root: Path, count: int) -> None:
    rng = np.random.default_rng(0)
    (root / "imagenet").mkdir(parents=True)
    lines = []
    for i in range(count):
        name = f"ILSVRC2012_val_{i:08d}.JPEG"
        pixels = rng.integers(0, 256, size=(300 + 7 * i, 260, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "imagenet" / name, quality=90)
        lines.append(f"{name} {i % 1000}")
    (root / "imagenet" / "val_map.txt").write_text("\n".join(lines) + "\n")


def test_resnet50_runs_on_imagenet_files_from_the_data_dir(mlperf_env: Path, pytester: pytest.Pytester,
                                                           model_file: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    _imagenet(data, 8)
    shutil.copy(model_file, data / "resnet50_v1.onnx")
    write_suite(mlperf_env, SUITE)
    result = pytester.runpytest(f"--mlperf-data-dir={data}")
    result.assert_outcomes(passed=2)
    runs = mlperf_env / "mlperf-results/runs/cpu/resnet50/Offline"
    accuracy = json.loads((runs / "accuracy/result.json").read_text())
    # Scored as the official ImageNet script does, from the data dir's val_map.txt.
    score = accuracy["accuracy"]
    assert score["scored_by"] == "pytest-mlperf-nv" and score["metric"] == "acc"
    assert score["samples"]["scored"] == 8 and score["samples"]["expected"] == 8
    val_map = str(data / "imagenet/val_map.txt")
    assert score["ground_truth"] == {"layout": "official", "files": {"val_map": val_map}}
    assert score["dtype"]["name"] == "int32" and score["target"]["source"] == "expect.min_accuracy"
    assert accuracy["model"]["path"] == str(data / "resnet50_v1.onnx")
    assert (runs / "accuracy/accuracy.txt").read_text().startswith("accuracy=")
    performance = json.loads((runs / "performance/result.json").read_text())
    assert performance["loadgen"]["validity"] == "VALID"
    assert performance["child"]["performance_sample_count_capped"] == {"from": 1024, "to": 8}
    # The automatic limit: said so, and (the child reports its expected length) followed out or kept.
    child = performance["child"]
    assert child["timeout_source"].startswith("auto")
    assert child["timeout_followed_s"] is None or child["timeout_followed_s"] >= child["timeout_s"]
    assert not any("random" in r for r in performance["not_submittable_because"])


def test_resnet50_without_data_skips_saying_what_to_provide(mlperf_env: Path, pytester: pytest.Pytester,
                                                            model_file: Path, tmp_path: Path) -> None:
    write_suite(mlperf_env, SUITE)
    result = pytester.runpytest("-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["SKIPPED*no MLPerf data directory is set. resnet50 * needs <data dir>/"
                                 "imagenet/val_map.txt and the 50,000 validation JPEGs; set --mlperf-data-dir"
                                 " (or MLPERF_NV_DATA_DIR, ini mlperf_data_dir)*dataset: synthetic*"])
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(model_file, data / "resnet50_v1.onnx")
    result = pytester.runpytest("-rs", f"--mlperf-data-dir={data}")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["SKIPPED*val_map.txt*--mlperf-data-dir*dataset: synthetic*"])
