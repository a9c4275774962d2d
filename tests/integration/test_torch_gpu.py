"""backend: torch on a CUDA GPU: the shipped GPU suite's resnet50 items through the plugin.

Runs only where torch sees a CUDA GPU (skips elsewhere, saying so); the CPU paths are covered by
test_torch_suite.py. Figures are not judged here (benchmarks/torch_gpu.py prints them): only
LoadGen's verdicts at targets far below what any supported GPU delivers, and what result.json
records about the device.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="backend: torch needs torch: pip install pytest-mlperf-nv[torch]")
if not torch.cuda.is_available():
    pytest.skip(f"no CUDA GPU visible to torch {torch.__version__}: the GPU paths of backend: torch "
                "(streams, CUDA graphs, pinned copies) need one", allow_module_level=True)

from tests.helpers import REPO  # noqa: E402


def test_the_gpu_suite_runs_resnet50_on_the_gpu(mlperf_env: Path, pytester: pytest.Pytester) -> None:
    (mlperf_env / "suites").mkdir(exist_ok=True)
    shutil.copy(REPO / "suites" / "gpu.yaml", mlperf_env / "suites" / "gpu.yaml")
    result = pytester.runpytest("suites/gpu.yaml", "-k", "resnet50 and (Offline or SingleStream)",
                                "--mlperf-strict", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
    record = json.loads((mlperf_env / "mlperf-results/runs/gpu/resnet50/Offline/performance/result.json")
                        .read_text())
    backend = record["versions"]["backend"]
    assert backend["options"]["device"] == "cuda" and backend["options"]["precision"] == "fp16"
    device = backend["devices"][0]
    assert device["graphs"] and device["name"] == torch.cuda.get_device_name(0)
    assert "random model weights: performance only" in record["not_submittable_because"]
