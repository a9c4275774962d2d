"""mlperf-nv doctor on NVIDIA's real front end: the verdict for each recorded machine and shipped suite."""

from __future__ import annotations

import pytest

from pytest_mlperf_nv.doctor import diagnose
from pytest_mlperf_nv.systems.snapshot import read_snapshot

from .conftest import Tree
from .shipped import SNAPSHOTS, SUITES

#: (snapshot, shipped suite, the NVIDIA system NVIDIA's code matches or None)
CASES = [("h100x1", "h100", "H100_SXM_80GBx1"), ("l4x1", "l4", "L4x1"),
         ("a100-sxm80x1", "a100-sxm", "A100_SXM_80GBx1"), ("h200x1", "h200", None),
         ("rtx4090x1", "rtx_4090", None), ("t4x1", "t4", None)]


@pytest.mark.parametrize(("snapshot", "suite", "system"), CASES, ids=[c[0] for c in CASES])
def test_doctor_verdicts_on_the_recorded_machines_and_shipped_suites(nvidia_tree: Tree, snapshot: str,
                                                                     suite: str, system: str | None) -> None:
    nvidia_tree.require_front_end()
    report = diagnose([SUITES / f"{suite}.yaml"], code_dir=nvidia_tree.path, version=nvidia_tree.version,
                      facts=read_snapshot(SNAPSHOTS / f"{snapshot}.json"), snapshot=True)
    text = report.text()
    assert report.ok, text
    if system:
        assert f"NVIDIA's code matches this machine as {system}" in text
    else:
        assert "NVIDIA's code matches none of its systems" in text
    assert "PROBLEM" not in text and "ok      " in text


def test_doctor_finds_what_nvidia_would_not_run(nvidia_tree: Tree) -> None:
    """The h100 suite on the L4 machine: NVIDIA's L4 system, and no problem (L4 configures the same
    items); the h200 suite (llama2-70b) on the L4: NVIDIA has no L4 llama2 config: a problem."""
    nvidia_tree.require_front_end()
    facts = read_snapshot(SNAPSHOTS / "l4x1.json")
    report = diagnose([SUITES / "h200.yaml"], code_dir=nvidia_tree.path, version=nvidia_tree.version,
                      facts=facts, snapshot=True)
    problems = [f for f in report.problems if "llama2-70b-99" in f.subject]
    assert problems, report.text()
    assert "No registered config for llama2-70b.Offline.L4x1" in problems[0].message
