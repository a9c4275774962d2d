"""ruff stays clean on the package and the tests (STYLE: lint in CI)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.helpers import REPO


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is not installed: install the test extra (pip install -e '.[test]')")
    result = subprocess.run([ruff, "check", "pytest_mlperf_nv", "tests"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
