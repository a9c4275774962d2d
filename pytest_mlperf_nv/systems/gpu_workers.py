"""One GPU per pytest-xdist worker, and items that share an engine kept on one worker.

Under ``pytest -n N`` each worker runs its items on one GPU of the caller's own visible list:
worker ``gwK`` gets the K-th entry of ``CUDA_VISIBLE_DEVICES`` as the caller set it (or GPU K
when it is unset), and the worker's ``CUDA_VISIBLE_DEVICES`` becomes that one entry, so NVML
detection, the engine key and every LoadGen child of the worker see that GPU alone. More
workers than visible GPUs is a usage error (two workers on one GPU would halve each other's
results without saying so).

A suite whose system has several GPUs runs, without xdist, as one LoadGen test spread over every
visible GPU; that is the SUT's business, not this module's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any

from ..errors import MlperfError

#: where a pinned worker keeps the caller's own CUDA_VISIBLE_DEVICES (unset: the variable was unset)
OUTER_ENV = "MLPERF_NV_OUTER_CUDA_VISIBLE_DEVICES"
_UNSET = "<unset>"
_WORKER_RE = re.compile(r"gw(\d+)\Z")


class GpuAssignmentError(MlperfError):
    """xdist workers cannot each have a GPU of their own."""


def visible_devices(value: str | None, gpu_count: int) -> list[str]:
    """The caller's visible GPUs, as ``CUDA_VISIBLE_DEVICES`` entries, in CUDA's order.

    ``value`` unset: GPUs ``0 .. gpu_count-1``. Otherwise its entries (indices, ``GPU-<uuid>``
    or ``MIG-<uuid>``), up to the first one CUDA would stop at (an invalid entry such as ``-1``),
    repeats dropped; an empty value hides every GPU.
    """
    if value is None:
        return [str(i) for i in range(gpu_count)]
    out: list[str] = []
    for token in (t.strip() for t in value.split(",")):
        if not (token.isdigit() or token.upper().startswith(("GPU-", "MIG-"))):
            break
        if token not in out:
            out.append(token)
    return out


def worker_of(environ: Mapping[str, str]) -> tuple[int, int] | None:
    """(worker index, worker count) of this xdist worker process, or None outside a worker."""
    match = _WORKER_RE.match(environ.get("PYTEST_XDIST_WORKER", ""))
    if match is None:
        return None
    return int(match.group(1)), int(environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)


def check_worker_count(workers: int, visible: list[str], outer: str | None) -> None:
    """Raise GpuAssignmentError when ``workers`` GPU-using workers cannot each get a GPU."""
    if workers <= len(visible):
        return
    where = f"CUDA_VISIBLE_DEVICES={outer!r}" if outer is not None else "this machine"
    listing = ", ".join(visible) if visible else "none"
    fix = f"use -n {len(visible)} or fewer" if visible else "run without -n, on a machine with a GPU"
    raise GpuAssignmentError(
        f"pytest-xdist starts {workers} workers but {where} has {len(visible)} GPU(s) ({listing}); each "
        f"worker running GPU items needs a GPU of its own: {fix}, or list more GPUs in CUDA_VISIBLE_DEVICES")


def worker_device(worker: int, workers: int, visible: list[str], outer: str | None = None) -> str:
    """The ``CUDA_VISIBLE_DEVICES`` entry of xdist worker ``worker`` (of ``workers``)."""
    check_worker_count(workers, visible, outer)
    return visible[worker]


def pin_worker(environ: MutableMapping[str, str], gpu_count: Callable[[], int]) -> str | None:
    """In an xdist worker: narrow ``CUDA_VISIBLE_DEVICES`` to this worker's GPU and return its entry.

    ``gpu_count`` is asked (NVML) only when the caller left ``CUDA_VISIBLE_DEVICES`` unset.
    Outside a worker, or when this worker has no GPU of its own (more workers than GPUs), the
    environment is left alone and None returned: the usage error is the controller's to raise
    (:func:`check_worker_count`), and only when GPU items are selected. Calling it again in the
    same process keeps the first assignment.
    """
    me = worker_of(environ)
    if me is None:
        return None
    if OUTER_ENV in environ:
        return environ.get("CUDA_VISIBLE_DEVICES")
    outer = environ.get("CUDA_VISIBLE_DEVICES")
    visible = visible_devices(outer, gpu_count() if outer is None else 0)
    index, count = me
    if index >= len(visible) or count > len(visible):
        return None
    environ[OUTER_ENV] = _UNSET if outer is None else outer
    environ["CUDA_VISIBLE_DEVICES"] = visible[index]
    return visible[index]


def outer_visible(environ: Mapping[str, str]) -> str | None:
    """The caller's own ``CUDA_VISIBLE_DEVICES`` (before a worker pinned itself)."""
    if OUTER_ENV in environ:
        value = environ[OUTER_ENV]
        return None if value == _UNSET else value
    return environ.get("CUDA_VISIBLE_DEVICES")


def needs_gpu(case: Any) -> bool:
    """Whether a case runs on a GPU: its suite names one (``system.gpu`` other than none)."""
    return str(case.suite.system.get("gpu", "none")) != "none"


def engine_group(case: Any) -> str:
    """Items with the same group share an engine (model, backend, options): xdist keeps them on one worker."""
    definition = getattr(case, "definition", None)
    benchmark = getattr(definition, "name", None) or case.benchmark
    dataset = case.dataset or ""
    return f"mlperf-engine:{case.suite.harness}:{case.suite.backend}:{benchmark}:{dataset}"


def add_engine_groups(items: Iterable[Any], case_of: Callable[[Any], Any | None]) -> int:
    """Mark GPU items with ``xdist_group(engine_group(case))``; returns how many were marked.

    pytest-xdist honours the marks under ``--dist loadgroup``.
    """
    import pytest

    marked = 0
    for item in items:
        case = case_of(item)
        if case is None or not needs_gpu(case):
            continue
        item.add_marker(pytest.mark.xdist_group(engine_group(case)))
        marked += 1
    return marked
