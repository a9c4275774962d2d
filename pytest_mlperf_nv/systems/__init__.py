"""The machine under test: live detection (NVML) and JSON snapshots of it."""

from __future__ import annotations

from .detect import GpuInfo, SystemFacts, detect_system, memory_bucket_gib
from .snapshot import SnapshotError, read_snapshot, snapshot_main, summary, write_snapshot

__all__ = [
    "GpuInfo",
    "SnapshotError",
    "SystemFacts",
    "detect_system",
    "memory_bucket_gib",
    "read_snapshot",
    "snapshot_main",
    "summary",
    "write_snapshot",
]
