"""DLRM-v2 on Criteo 1TB click logs (checker dirs ``dlrm-v2-99`` and ``dlrm-v2-99.9``)."""

from __future__ import annotations

from .rules import OFF, SRV, Accuracy, AccuracyMetric, Dataset, MlperfBenchmark, RoundInfo, not_in_round

# Sources: see resnet50.py ([conf], [c60], [spq], [c50], [drop]).

_DATASET = Dataset(
    name="Criteo 1TB Click Logs, day 23",
    accuracy_sample_count=330067,  # [c60] "dataset-size"
    layout="Criteo 1TB day 23 preprocessed by the reference (day_23 dense/sparse/labels numpy files) "
    "plus the sample-aggregation trace (--day-23-file, --aggregation-trace-file of accuracy-dlrm.py)",
)

_ACCURACY = Accuracy(
    metrics=(
        AccuracyMetric(
            name="AUC",
            reference=80.31,  # [c60] "accuracy-target": 80.31 * 0.99
            threshold_99=79.5069,  # [c60] "accuracy-target" dlrm-v2-99 (80.31 * 0.99)
            threshold_99_9=80.22969,  # [c60] "accuracy-target" dlrm-v2-99.9 (80.31 * 0.999)
        ),
    ),
    unit="% ROC AUC",
    checker_line="AUC=80.310%, …",  # [c60] ACC_PATTERN "AUC"
    script="recommendation/dlrm_v2/pytorch/tools/accuracy-dlrm.py",
)


def _rounds() -> dict[str, RoundInfo]:
    return {
        "v5.0": RoundInfo(
            present=True,  # [c50] "models"
            required_scenarios={
                "datacenter": (SRV, OFF),  # [c50] "required-scenarios-datacenter"
                "edge": (),  # [c50] absent from "required-scenarios-edge"
                "datacenter,edge": None,  # unknown: not in the reference
            },
            optional_scenarios={"datacenter": (), "edge": (), "datacenter,edge": None},
            compliance_tests=("TEST01",),  # [c50] models_TEST01
        ),
        # [c60] not accepted: absent from "models" and the scenario tables (a closed tree crashes the
        # checker), although models_TEST01 still lists it.
        "v6.0": not_in_round("not accepted in v6.0", compliance_tests=("TEST01",)),
        "v6.1": not_in_round("dropped in v6.1", compliance_tests=None),  # [drop]
    }


def _dlrm(name: str, level: float) -> MlperfBenchmark:
    return MlperfBenchmark(
        name=name,
        checker_name=name,  # [c50] "models"
        conf_model="dlrm-v2",  # [conf]
        dataset=_DATASET,
        accuracy=_ACCURACY,
        accuracy_level=level,
        performance_sample_count=204800,  # [c60] "performance-sample-count"
        conf_performance_sample_count=204800,  # [conf] performance_sample_count_override
        offline_min_samples_per_query=24576,  # [spq]; [conf] Offline.min_query_count
        server_latency_bound_ns=60_000_000,  # [c60] "latency-constraint"; [conf] Server.target_latency = 60
        equal_issue=False,  # [conf]
        token_latencies=False,  # [conf]
        rounds=_rounds(),
    )


DLRM_V2_99 = _dlrm("dlrm-v2-99", 0.99)
DLRM_V2_99_9 = _dlrm("dlrm-v2-99.9", 0.999)
