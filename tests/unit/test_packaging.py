"""What the package declares: what README's commands rely on is installed by `pip install -e .`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is in the standard library from 3.11")
def test_xdist_is_a_dependency_of_the_plugin_not_only_of_the_tests() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = [d.split(">")[0].split("=")[0].split("<")[0].strip() for d in project["dependencies"]]
    assert "pytest-xdist" in names  # README teaches `pytest suites/cpu.yaml -n 2` after `pip install -e .`
