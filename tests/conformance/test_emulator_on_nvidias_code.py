"""The plugin end to end on NVIDIA's real front end: the emulator in its delegating mode
(``EMULATED_NVIDIA_CODE``) runs NVIDIA's own code.main from the tree for detection, configs and
arguments, and emulates only TensorRT's part (engine files, a LoadGen run writing real logs).

The same items the emulator-only tests run (tests/integration/test_nvidia_harness.py) must pass here
too: where both run, they agree.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import REPO, write_suite

from .conftest import Tree, checker_path

EMULATOR = REPO / "tests" / "fakes" / "nvidia"
SNAPSHOTS = REPO / "tests" / "data" / "systems"


@pytest.fixture
def emulated(nvidia_tree: Tree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    nvidia_tree.require_front_end()
    if nvidia_tree.version not in ("v4.1", "v5.0"):
        pytest.skip(f"the emulator has no {nvidia_tree.version} tree")
    extra = checker_path()
    if not extra:
        pytest.skip("NVIDIA's harness module imports MLCommons' submission checker: set "
                    "MLPERF_NV_OFFICIAL_CHECKER")
    copy = tmp_path / "nvidia"
    shutil.copytree(EMULATOR, copy, ignore=shutil.ignore_patterns("build", "__pycache__"))
    monkeypatch.setenv("EMULATED_NVIDIA_CODE", str(nvidia_tree.path))
    monkeypatch.setenv("PYTHONPATH", ":".join(extra))
    for name in ("EMULATED_SYSTEM_ID", "EMULATED_FAILURE", "MLPERF_NV_NVIDIA_CODE_DIR", "MLPERF_NV_HARNESS",
                 "LOG_DIR"):
        monkeypatch.delenv(name, raising=False)
    return copy / nvidia_tree.version


@pytest.mark.parametrize(("snapshot", "system"), [("h100x1", "DGX-H100_H100-SXM-80GBx1"),
                                                  ("h200x1", "Custom_H200x1")])
def test_a_shipped_style_item_runs_on_nvidias_front_end(emulated: Path, mlperf_env: Path,
                                                        pytester: pytest.Pytester,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        snapshot: str, system: str) -> None:
    """On a machine NVIDIA knows (H100) NVIDIA's own config runs; on the recorded H200 VM, which NVIDIA's
    v4.1 code does not match, the plugin's generated custom system and config do."""
    facts = SNAPSHOTS / f"{snapshot}.json"
    monkeypatch.setenv("EMULATED_HARDWARE", str(facts))
    gpu = "h100" if snapshot == "h100x1" else "h200"
    suite = (f"mlperf_suite: 1\nname: {gpu}\nsystem: {{gpu: {gpu}, count: 1}}\nharness: nvidia\n"
             f"nvidia: {{code_dir: {emulated}}}\nprofile: quick\nmodes: [performance]\nbenchmarks:\n"
             "  resnet50:\n    scenarios:\n      Offline: {offline_expected_qps: 5000000, min_duration: "
             "100}\n")
    write_suite(mlperf_env, suite, f"{gpu}.yaml")
    result = pytester.runpytest(f"--mlperf-system-snapshot={facts}", "-p", "no:randomly")
    result.assert_outcomes(passed=1)
    record = json.loads((mlperf_env / f"mlperf-results/runs/{gpu}/resnet50/Offline/performance/result.json")
                        .read_text())
    assert record["loadgen"]["validity"] == "VALID"
    assert Path(record["nvidia"]["log_dir"]).parts[-3] == f"{system}_TRT"
