"""LoadGen test settings of a case: profile defaults, then the suite's knobs.

The result is a plain mapping of TestSettings attribute -> value that the child applies
after loading LoadGen's built-in mlperf.conf, plus a user.conf rendering of the same values
kept with the run.
"""

from __future__ import annotations

from typing import Any

from ..suite.knobs import KNOBS
from ..suite.model import Case, Sourced

#: the quick profile: short runs that still give a real LoadGen verdict (not submittable).
#: Offline's query is sized by its expected QPS alone (not the rules' minimum samples per
#: query, e.g. 24,576 for resnet50); the other scenarios keep the query counts early
#: stopping needs.
QUICK_DEFAULTS: dict[str, Any] = {"min_duration_ms": 1000}
QUICK_SCENARIO_DEFAULTS: dict[str, dict[str, Any]] = {"Offline": {"min_query_count": 1}}

_CONF_KEYS = {
    "offline_expected_qps": ("target_qps", 1),
    "server_target_qps": ("target_qps", 1),
    "server_target_latency_ns": ("target_latency", 1e-6),
    "single_stream_expected_latency_ns": ("target_latency", 1e-6),
    "multi_stream_expected_latency_ns": ("target_latency", 1e-6),
    "multi_stream_samples_per_query": ("samples_per_query", 1),
    "min_duration_ms": ("min_duration", 1),
    "max_duration_ms": ("max_duration", 1),
    "min_query_count": ("min_query_count", 1),
    "max_query_count": ("max_query_count", 1),
    "performance_sample_count_override": ("performance_sample_count_override", 1),
}


def loadgen_settings(case: Case, profile: str) -> dict[str, Sourced]:
    """TestSettings attributes for ``case`` under ``profile``, each with its source."""
    settings: dict[str, Sourced] = {}
    if profile == "quick":
        defaults = {**QUICK_DEFAULTS, **QUICK_SCENARIO_DEFAULTS.get(case.scenario, {})}
        for attr, value in defaults.items():
            settings[attr] = Sourced(value, "profile quick")
    for name, sourced in case.knobs.items():
        knob = KNOBS[name]
        if knob.loadgen_attr is None:
            continue
        settings[knob.loadgen_attr] = sourced
    return settings


def _conf_number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0")


def render_user_conf(model: str, scenario: str, settings: dict[str, Sourced]) -> str:
    """The user.conf lines equivalent to ``settings`` (LoadGen's ``model.Scenario.key = v``)."""
    lines = [f"# user.conf for {model} {scenario}, written by pytest-mlperf-nv"]
    for attr, sourced in sorted(settings.items()):
        if attr not in _CONF_KEYS:
            continue
        key, scale = _CONF_KEYS[attr]
        lines.append(f"{model}.{scenario}.{key} = {_conf_number(sourced.value * scale)}"
                     f"  # {sourced.source}")
    return "\n".join(lines) + "\n"


def expected_seconds(scenario: str, settings: dict[str, Any]) -> float:
    """A generous estimate of how long a LoadGen run takes, for its timeout."""
    min_duration = settings.get("min_duration_ms", 600000) / 1000.0
    max_duration = settings.get("max_duration_ms", 0) / 1000.0
    if scenario in ("SingleStream", "MultiStream"):
        # LoadGen pre-generates queries for twice the minimum duration.
        estimate = 2 * min_duration
    elif scenario == "Offline":
        estimate = 1.1 * min_duration
    else:
        estimate = min_duration * 1.5
    if max_duration:
        estimate = min(estimate, max_duration)
    return estimate
