"""The shipped suites as their items run: loaded, GPU profile applied, checked for harness nvidia."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_mlperf_nv.harness.nvidia.args import check_suite
from pytest_mlperf_nv.plugin import pytest_mlperf_register
from pytest_mlperf_nv.registry import Registry
from pytest_mlperf_nv.suite.profiles import apply_profile
from pytest_mlperf_nv.suite.schema import load_suite

REPO = Path(__file__).resolve().parents[2]
SUITES = REPO / "pytest_mlperf_nv" / "suites"
SNAPSHOTS = REPO / "tests" / "data" / "systems"
GPU_SNAPSHOTS = ("h200x1", "h100x1", "l4x1", "a100-sxm80x1", "rtx4090x1", "t4x1")
#: each shipped GPU suite on the snapshot of its GPU; the auto suite on every one
SUITE_SNAPSHOTS = {"h100": ("h100x1",), "h200": ("h200x1",), "l4": ("l4x1",), "a100-sxm": ("a100-sxm80x1",),
                   "rtx_4090": ("rtx4090x1",), "t4": ("t4x1",), "auto": GPU_SNAPSHOTS}


def load_shipped(name: str, facts: Any, version: str) -> Any:
    """The shipped suite ``name`` as collection prepares it on a machine with ``facts``."""
    registry = Registry()
    pytest_mlperf_register(registry)
    suite = load_suite(SUITES / f"{name}.yaml", registry)
    if version in ("v4.1", "v5.0"):
        from pytest_mlperf_nv.suite.model import Sourced

        suite.sections.setdefault("nvidia", {})["version"] = Sourced(version, "conformance test")
    apply_profile(suite, lambda: facts)
    check_suite(suite, lambda: facts)
    return suite
