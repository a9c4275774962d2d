"""MLPerf Inference benchmark rules as plain, frozen data.

Every number in the per-benchmark modules carries a trailing comment naming its source as
``repo: path``. Where no source was available to this project the value is ``None`` with the
comment ``unknown: not in the reference``; never a guess.

Conventions used throughout:

* ``required_scenarios[system_type]``: ``None`` = unknown, ``()`` = the benchmark is absent from
  that round's table for that system type (not accepted; the v6.0 checker even crashes on it).
* ``RoundInfo.present``: ``True`` accepted in the round, ``False`` not accepted, ``None`` unknown.
* Latencies are nanoseconds, like LoadGen's ``TestSettings`` attributes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: the ``system_type`` values of a system description that select a required-scenario table
#: (mlcommons/inference: tools/submission/submission_checker/constants.py
#: ``required-scenarios-{datacenter,edge,datacenter-edge}``)
SYSTEM_TYPES = ("datacenter", "edge", "datacenter,edge")
SCENARIOS = ("SingleStream", "MultiStream", "Server", "Offline", "Interactive")
ROUNDS = ("v5.0", "v6.0", "v6.1")

# Short aliases keep the per-benchmark tables readable.
SS, MS, SRV, OFF, INT = SCENARIOS

Scenarios = tuple[str, ...]


@dataclass(frozen=True)
class Dataset:
    name: str | None
    accuracy_sample_count: int  # the whole dataset, which an accuracy run must cover
    layout: str  # what the user must provide under the data dir


@dataclass(frozen=True)
class AccuracyMetric:
    name: str  # as the checker names it in MODEL_CONFIG["accuracy-target"]
    reference: float | None
    threshold_99: float | None  # lower bound of the 99 % variant (None: no such variant)
    threshold_99_9: float | None  # lower bound of the 99.9 % variant (None: no such variant)
    upper_limit: float | None = None  # checker "accuracy-upper-limit", where there is one


@dataclass(frozen=True)
class Accuracy:
    metrics: tuple[AccuracyMetric, ...]
    unit: str
    checker_line: str | None  # shape of the accuracy.txt line the checker's ACC_PATTERN matches
    script: str | None  # mlcommons/inference path of the reference accuracy script

    def metric(self, name: str) -> AccuracyMetric:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(f"no accuracy metric {name!r}; known: {[m.name for m in self.metrics]}")


@dataclass(frozen=True)
class RoundInfo:
    present: bool | None
    required_scenarios: dict[str, Scenarios | None] = field(default_factory=dict)
    optional_scenarios: dict[str, Scenarios | None] = field(default_factory=dict)
    compliance_tests: tuple[str, ...] | None = None
    note: str = ""


def not_in_round(note: str, compliance_tests: tuple[str, ...] | None = ()) -> RoundInfo:
    """A round the benchmark is not accepted in: no system type has required scenarios."""
    return RoundInfo(
        present=False,
        required_scenarios={t: () for t in SYSTEM_TYPES},
        optional_scenarios={t: () for t in SYSTEM_TYPES},
        compliance_tests=compliance_tests,
        note=note,
    )


def kept_in_round() -> RoundInfo:
    """A round the benchmark is kept in, whose scenarios and compliance tests the reference does not
    list yet: every requirement unknown (None)."""
    return RoundInfo(
        present=True,
        required_scenarios={t: None for t in SYSTEM_TYPES},
        optional_scenarios={t: None for t in SYSTEM_TYPES},
        compliance_tests=None,
    )


@dataclass(frozen=True)
class MlperfBenchmark:
    name: str  # suite name, e.g. "bert-99"
    checker_name: str  # results/<sys>/<checker_name>/ and MODEL_CONFIG key, e.g. "resnet"
    conf_model: str  # model name in LoadGen's mlperf.conf, e.g. "bert"
    dataset: Dataset
    accuracy: Accuracy
    accuracy_level: float  # 0.99 or 0.999: which threshold column applies to this benchmark
    performance_sample_count: int  # checker minimum for effective_performance_sample_count
    conf_performance_sample_count: int  # mlperf.conf performance_sample_count_override (0 = QSL size)
    offline_min_samples_per_query: int
    server_latency_bound_ns: int | None  # None where the benchmark never had a Server bound
    equal_issue: bool  # mlperf.conf sample_concatenate_permutation
    token_latencies: bool  # mlperf.conf use_token_latencies
    rounds: dict[str, RoundInfo]
    infer_token_latencies: bool = False
    token_latency_scaling_factor: int | None = None
    server_ttft_ns: int | None = None
    server_tpot_ns: int | None = None
    conf_model_interactive: str | None = None  # mlperf.conf model carrying the Interactive limits
    interactive_ttft_ns: int | None = None
    interactive_tpot_ns: int | None = None

    def round(self, round_: str) -> RoundInfo:
        try:
            return self.rounds[round_]
        except KeyError:
            known = sorted(self.rounds)
            raise KeyError(f"{self.name}: no data for round {round_!r}; known: {known}") from None

    def accepted_in(self, round_: str) -> bool | None:
        return self.round(round_).present

    def required_scenarios(self, round_: str, system_type: str) -> Scenarios | None:
        return self.round(round_).required_scenarios.get(_system_type(system_type))

    def optional_scenarios(self, round_: str, system_type: str) -> Scenarios | None:
        info = self.round(round_)
        return info.optional_scenarios.get(_system_type(system_type), () if info.present is False else None)

    def thresholds(self) -> dict[str, float | None]:
        """metric name -> the lower bound that applies to this benchmark's accuracy level."""
        pick = "threshold_99_9" if self.accuracy_level == 0.999 else "threshold_99"
        return {m.name: getattr(m, pick) for m in self.accuracy.metrics}


def _system_type(system_type: str) -> str:
    normalized = ",".join(sorted(part.strip().lower() for part in system_type.split(",")))
    if normalized not in SYSTEM_TYPES:
        raise ValueError(f"unknown system_type {system_type!r}; expected one of {SYSTEM_TYPES}")
    return normalized
