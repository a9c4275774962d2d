"""What the plugin takes from NVIDIA's Makefile, read from the real one: the environment its recipes get,
how audits run, which per-benchmark data and model scripts exist."""

from __future__ import annotations

import platform
import re

import pytest

from pytest_mlperf_nv.harness.nvidia.args import AUDITS, BENCHMARKS
from pytest_mlperf_nv.harness.nvidia.run import ENV_PROBLEMS, audit_recipe, make_environment, stage_missing

from .conftest import Tree


def _makefile(tree: Tree) -> str:
    path = tree.path / "Makefile"
    if not path.is_file():
        pytest.skip(f"{tree.path} has no Makefile (only parts of the {tree.version} tree could be obtained)")
    return path.read_text()


def test_runs_get_the_environment_nvidias_makefile_exports(nvidia_tree: Tree) -> None:
    _makefile(nvidia_tree)
    # Outside NVIDIA's container: Debian's `uname -p` says "unknown" (NVIDIA's Makefile.const wants the
    # architecture) and there is no driver for its version check; inside, neither is needed.
    make_vars = (f"ARCH={platform.machine()}", "SKIP_DRIVER_CHECK=1")
    env = make_environment(nvidia_tree.path, make_vars)
    assert str(nvidia_tree.path) not in ENV_PROBLEMS, ENV_PROBLEMS.get(str(nvidia_tree.path))
    assert env["CUDA_DEVICE_MAX_CONNECTIONS"] == "32"
    assert env["HARNESS_LD_LIBRARY_PATH"].strip() == env["LD_LIBRARY_PATH"]
    for name in ("DATA_DIR", "PREPROCESSED_DATA_DIR", "MODEL_DIR", "NUMBA_CACHE_DIR", "LOG_DIR"):
        assert env.get(name), name


def test_audits_run_as_nvidias_makefile_runs_them(nvidia_tree: Tree) -> None:
    text = _makefile(nvidia_tree)
    for test, (factor, tries, pause) in AUDITS.items():
        pattern = rf"^run_audit_{test.lower()}(_once)?:.*?--server_target_qps_adj_factor=([\d.]+)"
        once = re.search(pattern, text, re.M | re.S)
        assert once and float(once.group(2)) == factor, test
        assert audit_recipe(nvidia_tree.path, test) == (tries, float(pause)), test


def test_the_data_and_model_scripts_the_plugin_runs_exist_where_it_runs_them(nvidia_tree: Tree) -> None:
    if not (nvidia_tree.path / "code").is_dir():
        pytest.skip(f"{nvidia_tree.path} has no code/")
    missing: dict[str, list[str]] = {}
    for component in sorted({component for _, component, _ in BENCHMARKS.values()}):
        for stage in ("download_data", "download_model", "preprocess_data"):
            if stage_missing(nvidia_tree.path, stage, component):
                missing.setdefault(component, []).append(stage)
    if nvidia_tree.version == "v4.1":
        # NVIDIA's README sets dlrm-v2's data and model up by hand; every other benchmark has its scripts
        assert missing == {"dlrm-v2": ["download_data", "download_model", "preprocess_data"]}
