"""Hooks through which the plugin and its users extend it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .registry import Registry

hookspec = pytest.hookspec


@hookspec
def pytest_mlperf_register(registry: Registry) -> None:
    """Register backends, datasets and benchmarks.

    Called once per session. Implement it in a conftest.py or a plugin::

        def pytest_mlperf_register(registry):
            registry.add_backend("mybackend", MyBackend)
            registry.add_dataset("mydata", make_my_dataset)

    Backend classes and dataset factories must be defined at module level: LoadGen runs in a
    child process, which imports them again.
    """
