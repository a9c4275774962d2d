"""Performance runs take turns on a device: one per device at a time, across xdist workers and sessions.

Two performance runs on one device measure each other: under ``pytest -n 2`` on a CPU runner
both would report about half their throughput, silently. So a performance or compliance run
holds a lock per device it uses, ``<out>/.locks/<device>.lock`` (a ``FileLock``: the kernel
releases it when its holder dies), for the life of its child process. Accuracy runs and
provisioning take no lock and stay parallel. ``--mlperf-share-device`` (ini
``mlperf_share_device``, ``MLPERF_NV_SHARE_DEVICE``) turns the lock off.

A device is ``cpu`` for a suite with ``system.gpu: none``, else each GPU the run can see,
named by its UUID (the same GPU under any CUDA_VISIBLE_DEVICES spelling).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

LOCK_DIR = ".locks"
#: modes whose figures another run on the device would skew
MEASURING_MODES = ("performance", "compliance")
CPU = "cpu"


def lock_devices(gpu: str | None, system: Callable[[], Any] | None = None) -> list[str]:
    """The devices a run of a suite with ``system.gpu = gpu`` uses.

    ``system``: returns the machine's facts (``MlperfSession.system``), asked only for a GPU
    suite; without facts every GPU run shares one lock, ``gpu-all``.
    """
    if gpu in (None, "", "none"):
        return [CPU]
    gpus: list[Any] = []
    if system is not None:
        try:
            gpus = list(getattr(system(), "gpus", None) or [])
        except Exception:  # noqa: BLE001 - no facts: fall back to one lock for all GPUs
            gpus = []
    names = [f"gpu-{getattr(g, 'uuid', '') or getattr(g, 'index', '')}" for g in gpus]
    return sorted(set(names)) or ["gpu-all"]


def _file_name(device: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", device).lstrip(".") + ".lock"


class DeviceLock:
    """Holds the lock of every device of a run (in sorted order, so two runs never deadlock)."""

    def __init__(self, out_dir: Path, devices: Iterable[str]):
        self.devices = sorted(set(devices))
        self.paths = [Path(out_dir) / LOCK_DIR / _file_name(d) for d in self.devices]
        self.waited_s = 0.0
        self._locks: list[Any] = []

    def __enter__(self) -> DeviceLock:
        from filelock import FileLock

        start = time.monotonic()
        try:
            for path in self.paths:
                path.parent.mkdir(parents=True, exist_ok=True)
                lock = FileLock(str(path))
                lock.acquire()
                self._locks.append(lock)
        except BaseException:
            self._release()
            raise
        self.waited_s = time.monotonic() - start
        return self

    def __exit__(self, *exc: object) -> None:
        self._release()

    def _release(self) -> None:
        while self._locks:
            self._locks.pop().release()


def device_lock(out_dir: Path, devices: Iterable[str], *, mode: str, share: bool) -> DeviceLock | None:
    """The lock a run in ``mode`` holds while its child runs, or None (accuracy runs; ``share``)."""
    if share or mode not in MEASURING_MODES:
        return None
    return DeviceLock(out_dir, devices)


def run_lock(session: Any, case: Any) -> DeviceLock | None:
    """The lock for ``case``'s run in ``session`` (an ``MlperfSession``), or None."""
    gpu = case.suite.system.get("gpu", "none")
    gpu = getattr(gpu, "value", gpu)
    devices = lock_devices(None if gpu is None else str(gpu), session.system)
    return device_lock(session.settings.get("out"), devices, mode=case.mode,
                       share=bool(session.settings.get("share_device")))
