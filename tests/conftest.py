"""Shared helpers for the project's tests."""

from __future__ import annotations

from pathlib import Path

# In-process pytester runs drop the modules they imported when they end; numpy and the
# libraries below cannot be imported twice in one process, so import them here, once.
import numpy  # noqa: F401, E402
import onnx  # noqa: F401, E402
import onnx.checker  # noqa: F401, E402
import onnx.helper  # noqa: F401, E402
import onnx.numpy_helper  # noqa: F401, E402
import PIL.Image  # noqa: F401, E402
import pytest
import sklearn.datasets  # noqa: F401, E402
import sklearn.exceptions  # noqa: F401, E402
import sklearn.model_selection  # noqa: F401, E402
import sklearn.neural_network  # noqa: F401, E402

import pytest_mlperf_nv.caserun  # noqa: F401, E402
import pytest_mlperf_nv.harness.loadgen.backends  # noqa: F401, E402
import pytest_mlperf_nv.plugin  # noqa: F401, E402

# Test data holds suite files (from-cm goldens) and the NVIDIA emulator: data, not tests.
collect_ignore_glob = ["data/*", "fakes/*"]


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One model cache for every pytester run of this test session (the digits model builds once)."""
    return tmp_path_factory.mktemp("mlperf-cache")


@pytest.fixture
def mlperf_env(pytester: pytest.Pytester, shared_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A pytester directory whose runs use the shared cache and write results locally."""
    monkeypatch.setenv("MLPERF_NV_CACHE_DIR", str(shared_cache))
    for name in ("MLPERF_NV_OUT", "MLPERF_NV_PROFILE", "MLPERF_NV_TIMEOUT", "MLPERF_NV_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini("[pytest]\n")
    return pytester.path
