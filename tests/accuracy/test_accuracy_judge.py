"""What an accuracy item checks before its run: ground truth, tokenizer, the evaluator's packages."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from pytest_mlperf_nv.accuracy.judge import ScoringInputs, ground_truth_problem

from ._minidata import make


def _inputs(benchmark: str, data_dir: Path | None) -> ScoringInputs:
    return ScoringInputs(benchmark, "loadgen", data_dir, None, None, None, None)


def test_present_ground_truth_is_no_problem(tmp_path: Path) -> None:
    make("resnet50", tmp_path)
    assert ground_truth_problem(_inputs("resnet50", tmp_path / "data")) is None


def test_missing_ground_truth_names_the_file(tmp_path: Path) -> None:
    problem = ground_truth_problem(_inputs("resnet50", tmp_path))
    assert problem is not None and f"not found at {tmp_path}/imagenet/val_map.txt" in problem


def test_a_missing_package_names_its_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pycocotools" else
                        real(name, *a))
    problem = ground_truth_problem(_inputs("retinanet", tmp_path))
    assert problem == ("retinanet accuracy needs the Python package(s) pycocotools: "
                       "pip install 'pytest-mlperf-nv[accuracy]'")
