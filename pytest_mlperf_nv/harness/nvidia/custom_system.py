"""Custom-system definitions for machines NVIDIA's MLPerf code does not know.

NVIDIA's code matches the machine's hardware against its list of known systems and, when none
matches, logs "Detected system did not match any known systems. Exiting." and does nothing (exit
status 0). Its way in for other machines is a custom definition: a directory named by the
environment variable MLPINF_CUSTOM_DEFINITION_PATH holding

- ``custom_systems/custom_list.py``: ``custom_systems = dict()`` and one ``SystemConfiguration`` per
  system (the key becomes a ``KnownSystem`` member, so it must be a Python identifier);
- ``custom_configs/<benchmark>/<Scenario>/custom.py``: configs registered with
  ``@ConfigRegistry.register(harness type, accuracy target, power setting)``.

This module writes such a directory for one case from the machine's facts (NVML or a snapshot) and
the case's knobs: the system matches any CPU and memory and the machine's GPUs (``KnownGPU.<X>.value``
for a GPU NVIDIA knows, so that the config may extend NVIDIA's config for that GPU); the config sets
the knobs as fields. Definitions are content-addressed under ``<code dir>/build/pytest-mlperf-nv/custom/``
and written atomically (a temporary directory renamed into place), so concurrent sessions and xdist
workers share them. A stamp keyed by the hardware fingerprint remembers that NVIDIA's code did not
know the machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .args import BENCHMARKS, SCENARIO_TARGETS
from .custom_hardware import (  # noqa: F401  (names of the definition, used through this module)
    CONFIG_KNOBS,
    CUSTOM_DIR,
    DEFAULT_MODE,
    ENV,
    KNOWN_GPUS,
    LWIS_BENCHMARKS,
    MODES,
    STAMPS,
    UNKNOWN_SYSTEM,
    VRAM_TOLERANCE,
    CustomSystemError,
    GpuGroup,
    KnownGpu,
    fingerprint,
    gpu_groups,
    short_gpu_name,
    system_key,
)


@dataclass(frozen=True)
class Definition:
    """One generated definition: a custom system and the config of one benchmark and scenario."""

    key: str
    system_id: str
    benchmark: str
    scenario: str
    files: tuple[tuple[str, str], ...]  # (path relative to the definition dir, text)
    #: knobs left out of the generated config, each with NVIDIA's reason
    left_out: tuple[str, ...] = ()

    @property
    def digest(self) -> str:
        sha = hashlib.sha256()
        for path, text in self.files:
            sha.update(path.encode() + b"\0" + text.encode() + b"\0")
        return sha.hexdigest()

    def text(self, suffix: str) -> str:
        return next(text for path, text in self.files if path.endswith(suffix))


def build_definition(facts: Any, benchmark: str, scenario: str, knobs: dict[str, Any], *,
                     case_id: str | None = None, system_id: str | None = None, version: str = "v4.1",
                     extra_fields: dict[str, Any] | None = None) -> Definition:
    """The definition that makes NVIDIA's code run ``benchmark`` ``scenario`` on this machine.

    ``knobs`` are the case's resolved knob values; ``system_id`` (the suite's nvidia.system_id)
    names the system in NVIDIA's logs, else the generated key does. ``extra_fields``: NVIDIA config
    fields outside the knob vocabulary (a GPU profile's ``nvidia_flags``) for a GPU NVIDIA does not
    know. v4.1 reads the system from ``custom_systems/custom_list.py``; v5.0 from NVIDIA's
    ``code/common/systems/custom_list.json`` (nvmitten's JSON, written into the code dir by run.py
    from the definition's ``custom_list.json``).
    """
    from . import rules
    from .custom_render import render_custom_config, render_custom_list

    if benchmark not in BENCHMARKS:
        raise CustomSystemError(f"{benchmark} is not a benchmark of NVIDIA's code")
    groups = gpu_groups(facts)
    if not groups:
        why = f" ({facts.gpu_error})" if getattr(facts, "gpu_error", None) else ""
        raise CustomSystemError(
            f"cannot generate a custom system definition for NVIDIA's code: the plugin sees no NVIDIA GPU on "
            f"this machine{why}; system facts from {facts.source}")
    key = system_key(groups)
    system_id = system_id or key
    component = BENCHMARKS[benchmark][1]
    known = groups[0].known if len(groups) == 1 else None
    accuracy = "k_99_9" if benchmark.endswith("-99.9") else "k_99"
    parent = f"{known.config_prefix}x{groups[0].count}" if known is not None else None
    if known is None:
        _require(knobs, benchmark, scenario, case_id or benchmark, groups)
    elif parent is not None and rules.has_config(version, parent, component, scenario, accuracy) is False:
        _require(knobs, benchmark, scenario, case_id or benchmark, groups,
                 why=f"NVIDIA's {version} code has no {benchmark} {scenario} config for {parent}")
    # A field NVIDIA does not read for this benchmark, scenario or on a custom system would make its
    # config registry refuse the config (ConfigFieldInvalidError): left out, and said so.
    fields: dict[str, Any] = {}
    left_out = []
    for name, value in {**(extra_fields or {}), **knobs}.items():
        rule = rules.inapplicable(name, component, scenario, None)
        if rule is None:
            fields[name] = value
        else:
            left_out.append(f"{name}: {rule}")
    summary = "; ".join(g.describe() for g in groups)
    config = render_custom_config(key, benchmark, scenario, fields, groups, summary)
    if version == "v5.0":
        from .custom_list_json import render_custom_list_json

        system_files = [("custom_list.json", render_custom_list_json(key, groups))]
    else:
        system_files = [("custom_systems/__init__.py", ""),
                        ("custom_systems/custom_list.py",
                         render_custom_list(key, system_id, groups, summary))]
    files = [
        *system_files,
        ("custom_configs/__init__.py", ""),
        (f"custom_configs/{component}/__init__.py", ""),
        (f"custom_configs/{component}/{scenario}/__init__.py", ""),
        (f"custom_configs/{component}/{scenario}/custom.py", config),
    ]
    return Definition(key, system_id, benchmark, scenario, tuple(files), tuple(left_out))


def _require(knobs: dict[str, Any], benchmark: str, scenario: str, case_id: str,
             groups: list[GpuGroup], why: str | None = None) -> None:
    needed = [k for k in ("gpu_batch_size", SCENARIO_TARGETS[scenario]) if knobs.get(k) is None]
    if not needed:
        return
    gpus = ", ".join(g.name for g in groups)
    first = needed[0]
    why = why or f"NVIDIA's code knows no system with this machine's GPU ({gpus})"
    raise CustomSystemError(
        f"{benchmark} {scenario}: {why}, so the "
        f"generated config starts from NVIDIA's {scenario}GPUBaseConfig, which needs "
        f"{' and '.join(needed)}: add {', '.join(needed)} to benchmarks.{case_id}.scenarios.{scenario} "
        f"in the suite (or --mlperf-set {case_id}.{scenario}.{first}=VALUE)")


def write_definition(code_dir: Path, definition: Definition) -> Path:
    """The definition's directory under ``<code dir>/build/pytest-mlperf-nv/custom/<hash>``, written once.

    A temporary directory is filled and renamed into place, so a reader never sees half a definition;
    when two writers race, the loser's copy is discarded (the content is the same).
    """
    root = Path(code_dir) / CUSTOM_DIR
    root.mkdir(parents=True, exist_ok=True)
    final = root / definition.digest[:16]
    if _complete(final, definition):
        return final
    tmp = root / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    for rel, text in definition.files:
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if final.exists() and not _complete(final, definition):
        # Changed by hand or damaged: move it aside instead of trusting it.
        final.rename(root / f".stale-{final.name}-{uuid.uuid4().hex[:8]}")
    try:
        tmp.rename(final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not _complete(final, definition):
            raise
    return final


def _complete(path: Path, definition: Definition) -> bool:
    try:
        return all((path / rel).read_text() == text for rel, text in definition.files)
    except OSError:
        return False


def unknown_stamp(code_dir: Path, facts: Any) -> Path:
    """The stamp that says NVIDIA's code in ``code_dir`` did not know this hardware."""
    return Path(code_dir) / STAMPS / f"unknown-system-{fingerprint(facts)}.json"


def mark_unknown(code_dir: Path, facts: Any, evidence: str) -> Path:
    """Remember that NVIDIA's code did not match this machine (written atomically)."""
    stamp = unknown_stamp(code_dir, facts)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    record = {"fingerprint": fingerprint(facts), "evidence": evidence, "facts_source": facts.source,
              "cpu_model": facts.cpu_model, "gpus": [g.describe() for g in gpu_groups(facts)]}
    tmp = stamp.with_name(f".{stamp.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}")
    tmp.write_text(json.dumps(record, indent=2))
    tmp.replace(stamp)
    return stamp
