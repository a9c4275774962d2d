"""Llama-2-70B on OpenOrca (checker dir ``llama2-70b-99``); dropped in v6.1."""

from __future__ import annotations

from .rules import INT, OFF, SRV, Accuracy, AccuracyMetric, Dataset, MlperfBenchmark, RoundInfo, not_in_round

# Sources: see resnet50.py ([conf], [c60], [spq], [c50], [drop]).

LLAMA2_70B_99 = MlperfBenchmark(
    name="llama2-70b-99",
    checker_name="llama2-70b-99",  # [c60] "models"
    conf_model="llama2-70b",  # [conf]
    dataset=Dataset(
        name="OpenOrca (MLPerf sample)",
        accuracy_sample_count=24576,  # [c60] "dataset-size"
        layout="the reference's processed OpenOrca pickle "
        "(open_orca_gpt4_tokenized_llama.sampled_24576.pkl), "
        "the --dataset-file of language/llama2-70b/evaluate-accuracy.py, plus the Llama-2-70B tokenizer",
    ),
    accuracy=Accuracy(
        metrics=(
            # [c60] "accuracy-target" llama2-70b-99 (x 0.99) and llama2-70b-99.9 (x 0.999)
            AccuracyMetric("ROUGE1", 44.4312, 43.986888, 44.386769),
            AccuracyMetric("ROUGE2", 22.0352, 21.814848, 22.013165),
            AccuracyMetric("ROUGEL", 28.6162, 28.330038, 28.587584),
            # [c60] "accuracy-target" 294.45 * 0.9 and "accuracy-upper-limit" 294.45 * 1.1
            AccuracyMetric("TOKENS_PER_SAMPLE", 294.45, 265.005, 265.005, upper_limit=323.895),
        ),
        unit="ROUGE (x100); tokens per sample",
        # [c60] ACC_PATTERN
        checker_line="{'rouge1': …, 'rouge2': …, 'rougeL': …, 'tokens_per_sample': 294.4}",
        script="language/llama2-70b/evaluate-accuracy.py",
    ),
    accuracy_level=0.99,
    performance_sample_count=24576,  # [c60] "performance-sample-count"
    conf_performance_sample_count=24576,  # [conf] performance_sample_count_override
    offline_min_samples_per_query=24576,  # [spq]; [conf] Offline.min_query_count
    # [c60] "latency-constraint" 20 s. Measured: mlperf.conf sets llama2-70b Server.target_latency = 0;
    # the binding limits are TTFT/TPOT below.
    server_latency_bound_ns=20_000_000_000,
    equal_issue=True,  # [conf] llama2-70b.*.sample_concatenate_permutation = 1
    token_latencies=True,  # [conf] llama2-70b.*.use_token_latencies = 1
    server_ttft_ns=2_000_000_000,  # [conf] llama2-70b.Server.ttft_latency = 2000
    server_tpot_ns=200_000_000,  # [conf] llama2-70b.Server.tpot_latency = 200
    conf_model_interactive="llama2-70b-interactive",  # [conf]
    interactive_ttft_ns=450_000_000,  # [conf] llama2-70b-interactive.Server.ttft_latency = 450
    interactive_tpot_ns=40_000_000,  # [conf] llama2-70b-interactive.Server.tpot_latency = 40
    rounds={
        "v5.0": RoundInfo(
            present=True,  # [c50] "models"
            required_scenarios={
                "datacenter": (SRV, OFF),  # [c50] "required-scenarios-datacenter"
                "edge": (),  # [c50] absent from "required-scenarios-edge"
                "datacenter,edge": None,  # unknown: not in the reference
            },
            optional_scenarios={"datacenter": (), "edge": (), "datacenter,edge": None},
            compliance_tests=("TEST06",),  # [c50] models_TEST06
            note="interactive variants are separate benchmarks (llama2-70b-interactive-99) in v5.0",
        ),
        "v6.0": RoundInfo(
            present=True,  # [c60] "models"
            required_scenarios={
                "datacenter": (OFF,),  # [c60] "required-scenarios-datacenter"
                "edge": (),  # [c60] absent from "required-scenarios-edge"
                "datacenter,edge": (OFF,),  # [c60] "required-scenarios-datacenter-edge"
            },
            optional_scenarios={
                "datacenter": (SRV, INT),  # [c60] "optional-scenarios-datacenter" (one of them required)
                "edge": (),
                "datacenter,edge": (SRV, INT),  # [c60] "optional-scenarios-datacenter-edge"
            },
            compliance_tests=("TEST06",),  # [c60] models_TEST06
        ),
        "v6.1": not_in_round("dropped in v6.1 (commit 44cc3a35)", compliance_tests=None),  # [drop]
    },
)
