"""LoadGen test settings of a case: profile defaults, then the suite's knobs.

The result is a plain mapping of TestSettings attribute -> value that the child applies
after loading LoadGen's built-in mlperf.conf, plus a user.conf rendering of the same values
kept with the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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
    """How long a LoadGen run lasts by its settings alone (the suite's expected QPS or latency).

    This is only as good as the suite's expectations: a suite may set offline_expected_qps far
    above what the machine delivers, on purpose. :func:`expected_run_seconds` uses what the
    child measures instead.
    """
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


# --------------------------------------------------------------------------------------------
# The automatic timeout
#
# Before the child has measured anything, the parent allows the settings' run length plus a
# start allowance (imports, data set, model, warm-up: slow on a busy machine). After its
# warm-up the child measures its own speed, computes the expected length of its LoadGen run
# and reports a deadline; the parent moves its kill deadline out to that report (never in,
# and never past AUTO_TIMEOUT_CAP_S). A run's figures may suffer from load; its verdict must
# not, so every allowance is generous: a timeout exists to end a hung run, not a slow one.
# --------------------------------------------------------------------------------------------

#: the child's start (imports, data set, model, warm-up) before it reports
AUTO_START_ALLOWANCE_S = 120.0
#: the settings-based run length counts this many times before the child has measured
AUTO_SETTINGS_FACTOR = 2.0
#: the measured run length counts this many times: load may rise after the measurement
AUTO_MEASURED_FACTOR = 3.0
#: LoadGen's own work outside the samples: loading the performance samples, the schedule,
#: the end-of-run statistics and logs
LOADGEN_OVERHEAD_S = 60.0
#: LoadGen and SUT bookkeeping per sample, beyond the backend's own time (issue, queue,
#: response, log); measured about 4 us on an idle 16-core host and 35 us on 2 cores under a
#: load average of 12, so this leaves a wide margin
PER_SAMPLE_ALLOWANCE_S = 100e-6
#: no automatic timeout goes past this, whatever the child reports
AUTO_TIMEOUT_CAP_S = 8 * 3600.0
#: the source of every automatic timeout starts with this
AUTO_SOURCE = "auto"
#: where a timeout is raised, for messages
RAISE_TIMEOUT_HINT = ("raise the limit with 'timeout: SECONDS' in the suite, --mlperf-timeout SECONDS "
                      "or MLPERF_NV_TIMEOUT")


def auto_timeout(scenario: str, settings: dict[str, Any]) -> tuple[float, str]:
    """The automatic timeout before the child reports: (seconds, how it was computed).

    ``settings``: the TestSettings attributes the run applies (``loadgen_settings`` values).
    """
    run = expected_seconds(scenario, settings)
    seconds = AUTO_START_ALLOWANCE_S + AUTO_SETTINGS_FACTOR * run
    return seconds, (f"{AUTO_SOURCE}: {AUTO_START_ALLOWANCE_S:.0f} s to start + {AUTO_SETTINGS_FACTOR:g} x "
                     f"the settings' run length ({_seconds(run)}); then follows the child's measured "
                     "run length")


@dataclass(frozen=True)
class RunTimeout:
    """A run's time limit: ``seconds`` from its start; ``auto`` ones follow the child's report."""

    seconds: float
    source: str = "given"
    auto: bool = False

    @classmethod
    def of(cls, sourced: Sourced) -> RunTimeout:
        """From the timeout setting as ``runplan.plan_run`` resolves it."""
        source = str(sourced.source)
        return cls(float(sourced.value), source, source.startswith(AUTO_SOURCE))


@dataclass(frozen=True)
class Speed:
    """What the child measured before the run: seconds per backend call at the sizes the run uses."""

    #: one call on a full batch (``batch`` samples): Offline and Server throughput
    batch_s: float
    batch: int
    #: one call on one query's samples (SingleStream: 1, MultiStream: samples_per_query)
    query_s: float
    query: int

    @property
    def samples_per_s(self) -> float:
        return self.batch / self.batch_s if self.batch_s > 0 else math.inf


def expected_run_seconds(scenario: str, mode: str, settings: dict[str, Any], speed: Speed,
                         dataset_size: int) -> tuple[float, str]:
    """The expected length of one LoadGen run at the measured ``speed``: (seconds, how).

    ``settings``: the TestSettings attributes in effect (after LoadGen's mlperf.conf):
    min/max_duration_ms, min/max_query_count, offline_expected_qps, server_target_qps,
    multi_stream_samples_per_query. ``mode``: LoadGen's test mode name.
    """
    per_sample = speed.batch_s / max(1, speed.batch) + PER_SAMPLE_ALLOWANCE_S
    query_calls = math.ceil(max(1, speed.query) / max(1, speed.batch))
    spq = int(settings.get("multi_stream_samples_per_query") or 8) if scenario == "MultiStream" else 1
    per_query = query_calls * speed.query_s + spq * PER_SAMPLE_ALLOWANCE_S
    min_duration = float(settings.get("min_duration_ms") or 0) / 1000.0
    max_duration = float(settings.get("max_duration_ms") or 0) / 1000.0
    min_queries = int(settings.get("min_query_count") or 0)
    max_queries = int(settings.get("max_query_count") or 0)
    if mode == "AccuracyOnly":
        # every sample once
        if scenario in ("SingleStream", "MultiStream"):
            queries = math.ceil(dataset_size / spq)
            return queries * per_query, f"{queries} queries of {spq} at {_seconds(per_query)} each"
        seconds = dataset_size * per_sample
        if scenario == "Server":
            seconds = max(seconds, dataset_size / float(settings.get("server_target_qps") or 1))
        return seconds, f"{dataset_size} samples at {_rate(per_sample)}"
    if scenario == "Offline":
        qps = float(settings.get("offline_expected_qps") or 1)
        samples = max(min_queries, int(1.1 * min_duration * qps))  # LoadGen truncates
        return samples * per_sample, f"an Offline query of {samples} samples at {_rate(per_sample)}"
    if scenario == "Server":
        qps = float(settings.get("server_target_qps") or 1)
        samples = max(min_queries, math.ceil(qps * min_duration))
        seconds = max(samples / qps, samples * per_sample)
        how = f"{samples} queries at {qps:g}/s, served at {_rate(per_sample)}"
    else:
        seconds = max(min_duration, min_queries * per_query)
        how = f"at least {min_queries} queries and {_seconds(min_duration)} at {_seconds(per_query)} a query"
        if max_queries:
            seconds = min(seconds, max_queries * per_query)
    if max_duration:
        seconds = min(seconds, max_duration)
    return seconds, how


def measured_deadline_s(expected_s: float) -> float:
    """Seconds from the child's report to its deadline, for a run expected to last ``expected_s``."""
    if not math.isfinite(expected_s) or expected_s < 0:
        return AUTO_TIMEOUT_CAP_S
    return min(AUTO_TIMEOUT_CAP_S, AUTO_MEASURED_FACTOR * expected_s + LOADGEN_OVERHEAD_S)


def _seconds(value: float) -> str:
    return f"{value:.3g} s"


def _rate(per_sample: float) -> str:
    return f"{1.0 / per_sample:,.0f} samples/s" if per_sample > 0 else "an unmeasured rate"
