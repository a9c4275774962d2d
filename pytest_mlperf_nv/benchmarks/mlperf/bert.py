"""BERT-Large on SQuAD v1.1 (checker dirs ``bert-99`` and ``bert-99.9``)."""

from __future__ import annotations

from .rules import OFF, SS, Accuracy, AccuracyMetric, Dataset, MlperfBenchmark, RoundInfo, kept_in_round

# Sources: see resnet50.py ([conf], [c60], [spq], [c50], [drop]).

_DATASET = Dataset(
    name="SQuAD v1.1 dev",
    accuracy_sample_count=10833,  # [c60] "dataset-size"
    layout="dev-v1.1.json (SQuAD v1.1 dev set) and vocab.txt (BERT-Large uncased WordPiece vocabulary)",
)

_ACCURACY = Accuracy(
    metrics=(
        AccuracyMetric(
            name="F1",
            reference=90.874,  # [c60] "accuracy-target": 90.874 * 0.99
            threshold_99=89.96526,  # [c60] "accuracy-target" bert-99 (90.874 * 0.99)
            threshold_99_9=90.783126,  # [c60] "accuracy-target" bert-99.9 (90.874 * 0.999)
        ),
    ),
    unit="F1 (%)",
    checker_line='{"exact_match": …, "f1": 90.874…}',  # [c60] ACC_PATTERN "F1"
    script="language/bert/accuracy-squad.py",
)


def _rounds() -> dict[str, RoundInfo]:
    return {
        "v5.0": RoundInfo(
            present=True,  # [c50] "models"
            required_scenarios={
                "datacenter": (),  # [c50] bert not allowed on datacenter
                "edge": (SS, OFF),  # [c50] "required-scenarios-edge"
                "datacenter,edge": None,  # unknown: not in the reference
            },
            optional_scenarios={"datacenter": (), "edge": (), "datacenter,edge": None},
            compliance_tests=("TEST01",),  # [c50] models_TEST01
        ),
        "v6.0": RoundInfo(
            present=True,  # [c60] "models"
            required_scenarios={
                "datacenter": (),  # [c60] absent from "required-scenarios-datacenter"
                "edge": (SS, OFF),  # [c60] "required-scenarios-edge"
                "datacenter,edge": (SS, OFF),  # [c60] "required-scenarios-datacenter-edge"
            },
            optional_scenarios={"datacenter": (), "edge": (), "datacenter,edge": ()},  # [c60]
            compliance_tests=("TEST01",),  # [c60] models_TEST01
        ),
        "v6.1": kept_in_round(),  # [drop] not among the benchmarks v6.1 drops; the rest not in the reference
    }


def _bert(name: str, level: float) -> MlperfBenchmark:
    return MlperfBenchmark(
        name=name,
        checker_name=name,  # [c60] "models"
        conf_model="bert",  # [conf] one model name for both accuracy levels
        dataset=_DATASET,
        accuracy=_ACCURACY,
        accuracy_level=level,
        performance_sample_count=10833,  # [c60] "performance-sample-count"
        conf_performance_sample_count=10833,  # [conf] performance_sample_count_override
        offline_min_samples_per_query=10833,  # [spq]; [conf] Offline.min_query_count
        # [conf] Server.target_latency = 130 (ms). Server is no scenario of bert in v5.0/v6.0 ([c50], [c60]);
        # the value is kept for the (older) rounds that had it.
        server_latency_bound_ns=130_000_000,
        equal_issue=False,  # [conf]
        token_latencies=False,  # [conf]
        rounds=_rounds(),
    )


BERT_99 = _bert("bert-99", 0.99)
BERT_99_9 = _bert("bert-99.9", 0.999)
