"""Validated suites and the cases they expand into."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import Location

if TYPE_CHECKING:
    from ..benchmarks.base import BenchmarkDef


@dataclass(frozen=True)
class Sourced:
    """A resolved value and where it came from (for messages and ``--mlperf-explain``)."""

    value: Any
    source: str
    #: the suite position of the value, where it came from a suite
    location: Location | None = field(default=None, compare=False)


@dataclass
class Case:
    """One test item: a benchmark (or variant), a scenario and a mode, with resolved knobs."""

    suite: Suite
    id: str
    benchmark: str
    scenario: str
    mode: str
    knobs: dict[str, Sourced]
    expect: dict[str, Sourced]
    location: Location
    #: registered dataset the run reads (None: the benchmark cannot run on this harness)
    dataset: str | None = None
    #: score accuracy on the first N samples only (a subset score, never the official one)
    accuracy_samples: Sourced | None = None
    #: why the item is skipped at collection (e.g. only NVIDIA's harness can run it)
    skip_reason: str | None = None
    #: what the built-in harness runs (None: it cannot run this benchmark)
    definition: BenchmarkDef | None = None
    #: options handed to the dataset factory (e.g. the arrays of a suite-defined benchmark)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    #: mode compliance: the audit this item runs (TEST01, TEST04, ...)
    audit: str | None = None

    @property
    def name(self) -> str:
        """The last part of the node id: the mode, or the audit for a compliance item."""
        return self.audit if self.mode == "compliance" and self.audit else self.mode

    @property
    def nodeid_suffix(self) -> str:
        return f"{self.id}::{self.scenario}::{self.name}"

    def knob(self, name: str, default: Any = None) -> Any:
        sourced = self.knobs.get(name)
        return default if sourced is None else sourced.value


@dataclass
class Suite:
    """A validated suite file."""

    path: Path
    name: str
    version: int
    harness: str
    backend: str
    profile: Sourced | None
    timeout: Sourced | None
    modes: tuple[str, ...]
    system: dict[str, Any]
    sha256: str
    cases: list[Case] = field(default_factory=list)
    #: blocks a harness reads (e.g. ``nvidia:``), parsed by that harness: name -> key -> value
    sections: dict[str, dict[str, Sourced]] = field(default_factory=dict)
    #: ``backend_options:``, validated against what the backend declares
    backend_options: dict[str, Any] = field(default_factory=dict)
    #: the knobs the suite's harness (and backend) honour
    honoured_knobs: frozenset[str] = frozenset()
    #: the harness the file names (``harness`` differs under --mlperf-harness)
    declared_harness: str = "loadgen"
    #: knobs the harness in use cannot honour (only under --mlperf-harness), as dotted keys
    ignored_knobs: list[str] = field(default_factory=list)
    #: ``submission:`` block: round, division, submitter, system_name, status, system fields,
    #: measurements, model_mapping (see suite/submission.py)
    submission: dict[str, Any] = field(default_factory=dict)
    #: the GPU profile ``system.gpu`` resolved to (``auto``: the machine's; None: none)
    gpu_profile: str | None = None
