"""``--mlperf-set ID[.Scenario].knob=value``: knob overrides from the command line.

Overrides are validated like suite knobs (type, range, scenario, harness) and win over the
suite (command line > suite). A rule-bound knob under the official profile is refused, for
overrides and for suite knobs alike, once the session's profile is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import SettingsError, SuiteError
from ..names import shown
from ..words import did_you_mean as _hint
from ..words import number_problem
from .knobs import KNOBS, SCENARIOS
from .model import Case, Sourced, Suite
from .yamlload import parse_scalar


@dataclass(frozen=True)
class Override:
    text: str
    target: str  # a benchmark id, a benchmark name, or "*"
    scenario: str | None
    knob: str
    value: Any

    @property
    def source(self) -> str:
        return f"command-line option --mlperf-set {self.text}"

    def matches(self, case: Case) -> bool:
        return (self.target in ("*", case.id, case.benchmark)
                and self.scenario in (None, case.scenario))


def parse_override(text: str) -> Override:
    """Parse and type-check one ``--mlperf-set`` value. Raises SettingsError."""
    where = f"--mlperf-set '{shown(text, 120)}'"
    left, sep, raw = text.partition("=")
    if not sep or not raw.strip():
        raise SettingsError(f"{where}: expected ID[.Scenario].knob=value, e.g. "
                            "resnet50.Server.server_target_qps=12500")
    target, _, knob = left.strip().rpartition(".")
    if not target:
        raise SettingsError(f"{where}: name the benchmark id (or '*') before the knob, e.g. "
                            f"digits.{knob}=...")
    scenario = None
    head, _, last = target.rpartition(".")
    if head and last in SCENARIOS:
        target, scenario = head, last
    elif head and last.lower() in (s.lower() for s in SCENARIOS):
        raise SettingsError(f"{where}: unknown scenario {last!r}{_hint(last, SCENARIOS)} (names are exact)")
    if knob not in KNOBS:
        raise SettingsError(f"{where}: unknown knob {knob!r}{_hint(knob, list(KNOBS))}")
    spec = KNOBS[knob]
    if scenario and scenario not in spec.scenarios:
        raise SettingsError(f"{where}: {knob} applies to {', '.join(spec.scenarios)} only, not {scenario}")

    value = parse_scalar(raw)
    if spec.type is bool:
        if not isinstance(value, bool):
            raise SettingsError(f"{where}: {knob} expects true or false, got {shown(raw)!r}")
    else:
        problem = number_problem(value, integer=spec.type is int, positive=spec.positive,
                                 minimum=spec.minimum, maximum=spec.maximum, note=spec.range_note)
        if problem is not None:
            if problem.startswith("expected ") and not isinstance(value, (int, float)):
                kind = "an integer" if spec.type is int else "a number"
                problem = f"expected {kind}, got {shown(raw)!r}"
            raise SettingsError(f"{where}: {knob} {problem.replace('expected ', 'expects ', 1)}")
        value = float(value) if spec.type is float else value
    return Override(text, target, scenario, knob, value)


def apply_overrides(suite: Suite, overrides: list[Override]) -> set[Override]:
    """Apply matching overrides to the suite's cases; returns the overrides that matched."""
    used: set[Override] = set()
    for case in suite.cases:
        for override in overrides:
            if not override.matches(case):
                continue
            knob = KNOBS[override.knob]
            if case.scenario not in knob.scenarios:
                continue
            if override.knob not in suite.honoured_knobs:
                raise SettingsError(f"--mlperf-set {override.text!r}: knob {override.knob} is not honoured "
                                    f"by harness '{suite.harness}' ({suite.path.name})")
            case.knobs = {**case.knobs, override.knob: Sourced(override.value, override.source)}
            used.add(override)
    return used


def check_profile_rules(suite: Suite, profile: Sourced) -> None:
    """Under the official profile, refuse every knob that MLPerf's rules fix."""
    if profile.value != "official":
        return
    for case in suite.cases:
        for name, sourced in case.knobs.items():
            rule = KNOBS[name].rule
            if not rule:
                continue
            message = (f"profile 'official' ({profile.source}) keeps this at LoadGen's mlperf.conf "
                       f"value: {rule}. Remove it, or use profile quick for a non-submittable run")
            if sourced.location is not None:
                raise SuiteError(message, sourced.location, key=name)
            raise SettingsError(f"{sourced.source}: {message}")
