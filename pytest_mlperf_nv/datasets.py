"""The dataset interface the built-in harness's QSL reads from, and an in-memory one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class DatasetContext:
    """What a dataset factory gets: where user data and the plugin's cache live."""

    data_dir: Path | None
    cache_dir: Path
    options: dict
    #: check cached files' checksums, not just their size and time stamp
    verify: bool = False


@dataclass(frozen=True)
class RawInput:
    """How a dataset's samples follow from compact 8-bit data: ``(raw - mean) * scale``, per channel.

    A dataset that has it offers ``raw_input`` (this) and ``raw(indices) -> uint8 array``, and
    ``get(indices)`` equals the raw samples converted to float32, minus ``mean`` along the
    last axis, times ``scale``, then transposed from channels-last when ``channels_first``.
    A backend may then move the 8-bit data (a quarter of float32's bytes) and do this step on
    its device. The MLPerf ResNet50 preprocessing is such a case: 8-bit pixels minus channel means.
    """

    mean: tuple[float, ...]
    scale: float = 1.0
    #: ``get`` is channels-first (N, C, H, W) while ``raw`` is channels-last (N, H, W, C)
    channels_first: bool = True


class Dataset(Protocol):
    """A QSL source: ``total_count`` samples, of which ``performance_count`` fit in memory."""

    total_count: int
    performance_count: int

    def load(self, indices: list[int]) -> None: ...

    def unload(self, indices: list[int]) -> None: ...

    def get(self, indices: list[int]) -> np.ndarray:
        """Stack the (loaded) samples at ``indices`` into one batch."""
        ...

    def labels(self) -> np.ndarray | None:
        """Ground truth per sample index, where the dataset has it."""
        ...


class ArrayDataset:
    """A dataset that lives in memory as one array (small data sets, synthetic data)."""

    def __init__(self, inputs: np.ndarray, labels: np.ndarray | None = None,
                 performance_count: int | None = None):
        self.inputs = np.ascontiguousarray(inputs)
        self._labels = labels
        self.total_count = len(inputs)
        self.performance_count = performance_count or self.total_count

    def load(self, indices: list[int]) -> None:
        pass  # already in memory

    def unload(self, indices: list[int]) -> None:
        pass

    def get(self, indices: list[int]) -> np.ndarray:
        return self.inputs[indices]

    def labels(self) -> np.ndarray | None:
        return self._labels
