"""System snapshots: ``SystemFacts`` written to / read from a JSON file, and ``mlperf-nv snapshot``.

A snapshot lets a machine without the GPU (a laptop, CI) reason about the one that has it.
The file is a JSON object with ``"format": 1``, ``"created"`` (ISO time) and every field of
``SystemFacts`` (``gpus`` as a list of objects). Reading it gives ``source="snapshot <path>"``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import MlperfError
from ..words import kind_of
from .detect import GpuInfo, SystemFacts, detect_system

FORMAT = 1


class SnapshotError(MlperfError, ValueError):
    """A snapshot file that cannot be read; the message names the file and the problem."""


def facts_to_dict(facts: SystemFacts, created: datetime | None = None) -> dict[str, Any]:
    created = created or datetime.now(timezone.utc)
    data: dict[str, Any] = {"format": FORMAT, "created": created.isoformat(timespec="seconds")}
    data.update(dataclasses.asdict(facts))
    data["software"] = dict(sorted(facts.software.items()))
    data["derived"] = list(facts.derived)
    return data


def write_snapshot(facts: SystemFacts, path: str | Path) -> Path:
    """Write ``facts`` as a snapshot file (parent directories are created). Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(facts_to_dict(facts), indent=2) + "\n")
    return path


# ---------------------------------------------------------------------------------------------
# reading, with messages that say where and what


class _Reader:
    def __init__(self, path: Path):
        self.path = path

    def fail(self, message: str) -> SnapshotError:
        return SnapshotError(f"{self.path}: {message}")

    def get(self, obj: dict, key: str, where: str, kind: str, optional: bool = False) -> Any:
        name = f"{where}.{key}" if where else key
        if key not in obj:
            if optional:
                return None
            raise self.fail(f"missing field {name!r}")
        value = obj[key]
        if value is None and optional:
            return None
        ok = {
            "string": lambda v: isinstance(v, str),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            "list": lambda v: isinstance(v, list),
            "object": lambda v: isinstance(v, dict),
        }[kind](value)
        if not ok:
            article = "an" if kind[0] in "aeiou" else "a"
            null = " or null" if optional else ""
            raise self.fail(f"{name}: expected {article} {kind}{null}, got {_json_type(value)}")
        return value

    def gpu(self, obj: Any, where: str) -> GpuInfo:
        if not isinstance(obj, dict):
            raise self.fail(f"{where}: expected an object, got {_json_type(obj)}")
        power = self.get(obj, "power_limit_w", where, "number", optional=True)
        max_power = self.get(obj, "power_max_limit_w", where, "number", optional=True)
        return GpuInfo(
            index=self.get(obj, "index", where, "integer"),
            name=self.get(obj, "name", where, "string"),
            uuid=self.get(obj, "uuid", where, "string"),
            memory_total_mib=self.get(obj, "memory_total_mib", where, "integer"),
            compute_capability=self.get(obj, "compute_capability", where, "string"),
            pci_bus_id=self.get(obj, "pci_bus_id", where, "string"),
            power_limit_w=None if power is None else float(power),
            power_max_limit_w=None if max_power is None else float(max_power),
            pci_device_id=self.get(obj, "pci_device_id", where, "string", optional=True),
        )

    def facts(self, data: Any) -> SystemFacts:
        if not isinstance(data, dict):
            raise self.fail(f"expected a JSON object (a system snapshot), got {_json_type(data)}")
        if "format" not in data:
            raise self.fail("missing field 'format' (is this a system snapshot? "
                            "write one with `mlperf-nv snapshot -o FILE`)")
        fmt = data["format"]
        if fmt != FORMAT or isinstance(fmt, bool):
            raise self.fail(f"snapshot format {fmt!r} is not supported (this version reads format {FORMAT})")
        self.get(data, "created", "", "string", optional=True)
        memory = self.get(data, "memory_total_gib", "", "number", optional=True)
        gpus = self.get(data, "gpus", "", "list")
        software = self.get(data, "software", "", "object")
        for key, value in software.items():
            if not isinstance(value, str):
                raise self.fail(f"software.{key}: expected a string, got {_json_type(value)}")
        topology = self.get(data, "cpu_topology", "", "object", optional=True) or {}
        derived = self.get(data, "derived", "", "list", optional=True) or []
        if not all(isinstance(d, str) for d in derived):
            raise self.fail("derived: expected a list of field names (strings)")
        return SystemFacts(
            source=f"snapshot {self.path}",
            hostname=self.get(data, "hostname", "", "string"),
            os=self.get(data, "os", "", "string"),
            python=self.get(data, "python", "", "string"),
            cpu_model=self.get(data, "cpu_model", "", "string"),
            cpu_count=self.get(data, "cpu_count", "", "integer"),
            memory_total_gib=None if memory is None else float(memory),
            driver_version=self.get(data, "driver_version", "", "string", optional=True),
            cuda_driver_version=self.get(data, "cuda_driver_version", "", "string", optional=True),
            nvml_version=self.get(data, "nvml_version", "", "string", optional=True),
            gpus=tuple(self.gpu(g, f"gpus[{i}]") for i, g in enumerate(gpus)),
            gpu_error=self.get(data, "gpu_error", "", "string", optional=True),
            software=dict(software),
            cpu_topology=dict(topology),
            derived=tuple(derived),
        )


def _json_type(value: Any) -> str:
    """A value's type in JSON's words (a short string quoted)."""
    if isinstance(value, str) and len(value) <= 40:
        return f"a string ({value!r})"
    if isinstance(value, dict):
        return "an object"
    return kind_of(value)


def read_snapshot(path: str | Path) -> SystemFacts:
    """Read a snapshot file; raises ``SnapshotError`` naming the file and the problem."""
    reader = _Reader(Path(path))
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise reader.fail("no such snapshot file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise reader.fail(f"cannot be read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise reader.fail(f"not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from None
    return reader.facts(data)


# ---------------------------------------------------------------------------------------------
# mlperf-nv snapshot


def summary(facts: SystemFacts) -> str:
    """One line: "2 x NVIDIA H200 (143771 MiB, sm 9.0), driver 570.86.15, CUDA 12.8"."""
    if not facts.gpus:
        return f"no GPUs: {facts.gpu_error}" if facts.gpu_error else "no GPUs"
    groups = Counter((g.name, g.memory_total_mib, g.compute_capability) for g in facts.gpus)
    parts = [f"{n} x {name} ({mib} MiB, sm {cc})" for (name, mib, cc), n in groups.items()]
    line = " + ".join(parts)
    if facts.driver_version:
        line += f", driver {facts.driver_version}"
    if facts.cuda_driver_version:
        line += f", CUDA {facts.cuda_driver_version}"
    if facts.gpu_error:
        line += f" (warning: {facts.gpu_error})"
    return line


def snapshot_main(argv: list[str] | None = None) -> int:
    """``mlperf-nv snapshot [-o FILE]``: detect this machine and print or write its snapshot."""
    parser = argparse.ArgumentParser(
        prog="mlperf-nv snapshot",
        description="Record this machine's CPU, memory, NVIDIA GPUs, driver and software versions as JSON.",
    )
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write the snapshot to FILE (default: print it to stdout)")
    args = parser.parse_args(argv)
    facts = detect_system()
    if args.output and args.output != "-":
        try:
            path = write_snapshot(facts, args.output)
        except OSError as exc:
            print(f"mlperf-nv snapshot: cannot write {args.output}: {exc}", file=sys.stderr)
            return 1
        print(f"{summary(facts)} -> {path}", file=sys.stderr)
    else:
        print(json.dumps(facts_to_dict(facts), indent=2))
        print(summary(facts), file=sys.stderr)
    return 0
