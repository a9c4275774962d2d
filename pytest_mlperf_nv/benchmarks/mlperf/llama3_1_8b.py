"""Llama-3.1-8B summarization (checker dir ``llama3.1-8b``, datacenter variant)."""

from __future__ import annotations

from .rules import (
    INT,
    OFF,
    SRV,
    Accuracy,
    AccuracyMetric,
    Dataset,
    MlperfBenchmark,
    RoundInfo,
    kept_in_round,
    not_in_round,
)

# Sources: see resnet50.py ([conf], [c60], [spq], [c50], [drop]).

LLAMA3_1_8B = MlperfBenchmark(
    name="llama3.1-8b",
    checker_name="llama3.1-8b",  # [c60] "models"
    conf_model="llama3_1-8b",  # [conf]; [c60] "model_mapping" llama3_1-8b -> llama3.1-8b
    dataset=Dataset(
        name=None,  # unknown: not in the reference
        accuracy_sample_count=13368,  # [c60] "dataset-size"
        layout="the reference's processed evaluation dataset file (--dataset-file of the llama3.1-8b "
        "accuracy script) plus the Llama-3.1-8B tokenizer",
    ),
    accuracy=Accuracy(
        metrics=(
            # [c60] "accuracy-target" (reference x 0.99; GEN_LEN x 0.9),
            # [c60] "accuracy-upper-limit" (GEN_LEN x 1.1)
            AccuracyMetric("ROUGE1", 38.7792, 38.391408, None),
            AccuracyMetric("ROUGE2", 15.9075, 15.748425, None),
            AccuracyMetric("ROUGEL", 24.4957, 24.250743, None),
            AccuracyMetric("ROUGELSUM", 35.793, 35.43507, None),
            AccuracyMetric("GEN_LEN", 8167644, 7350879.6, None, upper_limit=8984408.4),
        ),
        unit="ROUGE (x100); GEN_LEN in tokens over the dataset",
        checker_line=None,  # unknown: not in the reference
        script=None,  # unknown: not in the reference
    ),
    accuracy_level=0.99,
    performance_sample_count=13368,  # [c60] "performance-sample-count"
    conf_performance_sample_count=13368,  # [conf] performance_sample_count_override
    offline_min_samples_per_query=13368,  # [spq]; [conf] Offline.min_query_count
    # [c60] "latency-constraint" 20 s. Measured: mlperf.conf sets Server.target_latency = 0 for this model;
    # the binding limits are TTFT/TPOT below.
    server_latency_bound_ns=20_000_000_000,
    equal_issue=True,  # [conf] measured: sample_concatenate_permutation = 1 for llama3_1-8b
    token_latencies=True,  # [conf] llama3_1-8b.*.use_token_latencies = 1
    server_ttft_ns=2_000_000_000,  # [conf] llama3_1-8b.Server.ttft_latency = 2000
    server_tpot_ns=100_000_000,  # [conf] llama3_1-8b.Server.tpot_latency = 100
    conf_model_interactive="llama3_1-8b-interactive",  # [conf] measured in the 6.0.17 wheel
    interactive_ttft_ns=500_000_000,  # [conf] llama3_1-8b-interactive.Server.ttft_latency = 500
    interactive_tpot_ns=30_000_000,  # [conf] llama3_1-8b-interactive.Server.tpot_latency = 30
    rounds={
        "v5.0": not_in_round("introduced after v5.0"),  # [c50] "models"
        "v6.0": RoundInfo(
            present=True,  # [c60] "models"
            required_scenarios={
                "datacenter": (OFF,),  # [c60] "required-scenarios-datacenter"
                "edge": (),  # [c60] absent from "required-scenarios-edge" (edge has llama3.1-8b-edge)
                "datacenter,edge": (OFF,),  # [c60] "required-scenarios-datacenter-edge"
            },
            optional_scenarios={
                "datacenter": (SRV, INT),  # [c60] "optional-scenarios-datacenter"
                "edge": (),
                "datacenter,edge": (SRV, INT),  # [c60] "optional-scenarios-datacenter-edge"
            },
            compliance_tests=("TEST06",),  # [c60] models_TEST06
        ),
        "v6.1": kept_in_round(),  # [drop] not among the benchmarks v6.1 drops; the rest not in the reference
    },
)
