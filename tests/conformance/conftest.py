"""NVIDIA's real code for the conformance tests: closed/NVIDIA trees from ``MLPERF_NV_NVIDIA_CODE``.

``MLPERF_NV_NVIDIA_CODE`` names one tree or several separated by ``:`` (the closed/NVIDIA directory of an
inference_results checkout). Without it every test here skips, saying so. NVIDIA's code is never copied
into this repository; only what needs TensorRT, CUDA or a GPU is replaced (harness/nvidia/probe.py).

Optional companions: ``MLPERF_NV_NVMITTEN`` (a checkout of NVIDIA/mitten, or its ``src``, at the hash
the tree's Makefile.build names; v5.0 reads custom systems with it) and ``MLPERF_NV_OFFICIAL_CHECKER``
(a mlcommons/inference checkout at the tree's INFERENCE_HASH; NVIDIA's harness module imports its
submission checker, needed for the log-location checks).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ENV = "MLPERF_NV_NVIDIA_CODE"
#: what NVIDIA's front end needs to run outside its container (beyond the standard library)
FRONT_END_FILES = ("code/main.py", "code/common/fields.py", "code/common/systems/system_list.py",
                   "code/common/systems/known_hardware.py", "configs/configuration.py")


@dataclass
class Tree:
    path: Path
    version: str
    missing: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.version}:{self.path}"

    def require_front_end(self) -> None:
        if self.missing:
            pytest.skip(f"{self.path} lacks NVIDIA's front end ({', '.join(self.missing)}): only parts "
                        "of the "
                        f"{self.version} tree could be obtained")
        if importlib.util.find_spec("typeguard") is None:
            pytest.skip("NVIDIA's code/common/fields.py imports typeguard (NVIDIA's container has it): "
                        "pip install typeguard")


def _trees() -> list[Tree]:
    trees = []
    for part in filter(None, os.environ.get(ENV, "").split(":")):
        path = Path(part).expanduser().resolve()
        version_file = path / "VERSION"
        version = version_file.read_text().strip() if version_file.is_file() else "unknown"
        trees.append(Tree(path, version, [f for f in FRONT_END_FILES if not (path / f).is_file()]))
    return trees


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "nvidia_tree" in metafunc.fixturenames:
        trees = _trees()
        metafunc.parametrize("nvidia_tree", trees or [None], ids=[t.id for t in trees] or ["no-tree"],
                             indirect=True, scope="session")


@pytest.fixture(scope="session")
def nvidia_tree(request: pytest.FixtureRequest) -> Tree:
    tree = request.param
    if tree is None:
        pytest.skip(f"set {ENV} to NVIDIA's closed/NVIDIA tree(s) of inference_results_v4.1 / v5.0 "
                    "(several separated by ':') to check the plugin against NVIDIA's real code")
    if not (tree.path / "VERSION").is_file() and not (tree.path / "code").is_dir():
        pytest.fail(f"{ENV} names {tree.path}, which has neither VERSION nor code/ (not a closed/NVIDIA "
                    "directory)")
    return tree


def checker_path() -> list[str]:
    """mlcommons/inference tools/submission, which NVIDIA's code/common/harness.py imports."""
    root = os.environ.get("MLPERF_NV_OFFICIAL_CHECKER")
    if not root:
        return []
    path = Path(root) / "tools" / "submission"
    return [str(path)] if (path / "submission_checker.py").is_file() else []


def nvmitten_path() -> str | None:
    root = os.environ.get("MLPERF_NV_NVMITTEN")
    if not root:
        return None
    for candidate in (Path(root) / "src", Path(root)):
        if (candidate / "nvmitten" / "json_utils.py").is_file():
            return str(candidate)
    return None
