"""NVIDIA's own front end, asked from outside: what it detects, which config it picks, what it reads.

``ask()`` runs ``probe.py`` in a fresh process against a closed/NVIDIA tree (see that file for what is
replaced: only the hardware probes and the TensorRT action handlers). With ``facts`` the machine is a
recorded one (a snapshot, turned into the tool output NVIDIA's detection parses: ``lscpu`` fields,
``/proc/meminfo``, ``nvidia-smi --query-gpu`` fields); without, NVIDIA's code probes this machine.

The working directory of the probe is a scratch directory holding a copy of the tree's VERSION file,
so NVIDIA's code writes nothing into the tree (its ``auditing.cleanup()`` deletes files in the working
directory).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

PROBE = Path(__file__).with_name("probe.py")
MARKER = "PROBE-RESULT "


class FrontEndError(RuntimeError):
    """The probe could not give an answer (it crashed, timed out or printed none)."""


def _fmt_w(value: float | None) -> str:
    return "[N/A]" if value is None else f"{float(value):.2f} W"


def hardware_fields(facts: Any) -> dict[str, Any]:
    """The tool output NVIDIA's v4.1 detection reads, from the plugin's system facts.

    Fields a snapshot does not record are derived and listed under ``derived`` (one socket, one
    thread per core, an ``[N/A]`` maximum power limit, no PCI device id), since NVIDIA compares some
    of them: a snapshot without ``power_max_limit_w`` or ``pci_device_id`` cannot match a system whose
    GPU NVIDIA describes by them.
    """
    topo = dict(getattr(facts, "cpu_topology", None) or {})
    derived: list[str] = []
    arch = topo.get("architecture") or "x86_64"
    if "architecture" not in topo:
        derived.append("architecture")
    sockets = int(topo.get("sockets") or 1)
    threads = int(topo.get("threads_per_core") or 1)
    cores = int(topo.get("cores_per_socket") or max(1, int(facts.cpu_count) // (sockets * threads)))
    derived += [k for k in ("sockets", "threads_per_core", "cores_per_socket") if k not in topo]
    lscpu = {"Architecture": arch, "Model name": facts.cpu_model, "Core(s) per socket": str(cores),
             "Thread(s) per core": str(threads), "Socket(s)": str(sockets)}
    if topo.get("vendor"):
        lscpu["Vendor ID"] = topo["vendor"]
    kib = int(round(float(facts.memory_total_gib or 0) * 1024 * 1024))
    if getattr(facts, "memory_total_kib", None):
        kib = int(facts.memory_total_kib)
    gpus = []
    for i, gpu in enumerate(facts.gpus):
        max_w = getattr(gpu, "power_max_limit_w", None)
        pci = getattr(gpu, "pci_device_id", None)
        if max_w is None:
            derived.append(f"gpus[{i}].power_max_limit_w")
        if pci is None:
            derived.append(f"gpus[{i}].pci_device_id")
        sm = str(gpu.compute_capability).replace(".", "")
        gpus.append({"gpu_name": gpu.name, "pci.device_id": pci, "uuid": gpu.uuid,
                     "memory.total": f"{int(gpu.memory_total_mib)} MiB",
                     "power.limit": _fmt_w(gpu.power_limit_w), "power.max_limit": _fmt_w(max_w),
                     "mig.mode.current": "Disabled", "pci_index": i,
                     "compute_sm": int(sm) if sm.isdigit() else None})
    return {"lscpu": lscpu, "meminfo": {"MemTotal": f"{kib} kB"}, "gpus": gpus, "derived": derived}


def _python_path(extra: Iterable[str | Path]) -> str:
    parts = [str(p) for p in extra]
    if os.environ.get("PYTHONPATH"):
        parts.append(os.environ["PYTHONPATH"])
    return os.pathsep.join(parts)


def ask(code_dir: str | Path, *, facts: Any = None, custom_definition: str | Path | None = None,
        custom_systems: Sequence[str] = (), queries: Sequence[dict[str, Any]] = (),
        fields: Sequence[dict[str, Any]] = (), registered: Sequence[dict[str, Any]] = (),
        python: str | None = None, timeout_s: float = 600, extra_path: Sequence[str | Path] = (),
        scratch: str | Path | None = None) -> dict[str, Any]:
    """Ask NVIDIA's front end at ``code_dir`` (a closed/NVIDIA directory).

    ``queries``: ``{"id": ..., "argv": [...]}``, each run through NVIDIA's ``code.main.main`` (the
    answer lists what reached each action handler, NVIDIA's warnings and errors, and the flags it
    dropped). ``fields``: ``{"benchmark", "scenario", "accuracy", "system"}`` (system: a KnownSystem
    name, or None for the detected one): the fields NVIDIA's rules allow. ``registered``:
    ``{"benchmark", "scenario"}``: every system with a config. ``custom_systems``: KnownSystem names to
    check for being members of their own (and which NVIDIA systems compare equal to them).
    """
    code_dir = Path(code_dir).resolve()
    own_scratch = scratch is None
    work = Path(tempfile.mkdtemp(prefix="mlperf-nv-probe-")) if scratch is None else Path(scratch)
    try:
        work.mkdir(parents=True, exist_ok=True)
        if (code_dir / "VERSION").is_file():
            shutil.copyfile(code_dir / "VERSION", work / "VERSION")
        request = {"code_dir": str(code_dir), "cwd": str(work),
                   "hardware": hardware_fields(facts) if facts is not None else None,
                   "custom_definition": str(custom_definition) if custom_definition else None,
                   "custom_systems": list(custom_systems), "queries": list(queries),
                   "fields": list(fields), "registered": list(registered)}
        path = work / "probe-request.json"
        path.write_text(json.dumps(request))
        env = dict(os.environ)
        env["PYTHONPATH"] = _python_path(extra_path)
        env.pop("MLPINF_CUSTOM_DEFINITION_PATH", None)
        try:
            proc = subprocess.run([python or sys.executable, str(PROBE), str(path)], cwd=work, env=env,
                                  capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise FrontEndError(f"NVIDIA's front end at {code_dir} gave no answer in {timeout_s:g} "
                                "s") from None
        line = next((ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith(MARKER)), None)
        if line is None:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
            raise FrontEndError(f"NVIDIA's front end at {code_dir} gave no answer (exit {proc.returncode}):\n"
                                f"{tail}")
        answer = json.loads(line[len(MARKER):])
        answer["stderr"] = proc.stderr[-4000:]
        return answer
    finally:
        if own_scratch:
            shutil.rmtree(work, ignore_errors=True)
