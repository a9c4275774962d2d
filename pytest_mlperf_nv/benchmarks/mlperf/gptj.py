"""GPT-J 6B summarization on CNN/DailyMail (checker dir ``gptj-99``); last round v5.0."""

from __future__ import annotations

from .rules import OFF, SRV, SS, Accuracy, AccuracyMetric, Dataset, MlperfBenchmark, RoundInfo, not_in_round

# Sources: see resnet50.py ([conf], [c60], [spq], [c50], [drop]).

GPTJ_99 = MlperfBenchmark(
    name="gptj-99",
    checker_name="gptj-99",  # [c50] "models"
    conf_model="gptj",  # [conf]
    dataset=Dataset(
        name="CNN/DailyMail",
        accuracy_sample_count=13368,  # [c50] "dataset-size"
        layout="cnn_eval.json (CNN/DailyMail validation set as produced by the reference download script), "
        "the --dataset-file of language/gpt-j/evaluation.py",
    ),
    accuracy=Accuracy(
        metrics=(
            AccuracyMetric("ROUGE1", 42.9865, 42.556635, 42.9865 * 0.999),  # [c50] "accuracy-target"
            AccuracyMetric("ROUGE2", 20.1235, 19.922265, 20.1235 * 0.999),  # [c50] "accuracy-target"
            AccuracyMetric("ROUGEL", 29.9881, 29.688219, 29.9881 * 0.999),  # [c50] "accuracy-target"
            # [c50] "accuracy-target" GEN_LEN 4016878 * 0.9 (same bound for both levels)
            AccuracyMetric("GEN_LEN", 4016878, 3615190.2, 3615190.2),
        ),
        unit="ROUGE (x100); GEN_LEN in tokens over the dataset",
        checker_line="{'rouge1': …, 'rouge2': …, 'rougeL': …, 'gen_len': N, …}",  # [c50] ACC_PATTERN
        script="language/gpt-j/evaluation.py",
    ),
    accuracy_level=0.99,
    performance_sample_count=13368,  # [c50] "performance-sample-count"
    conf_performance_sample_count=13368,  # [conf] performance_sample_count_override
    offline_min_samples_per_query=13368,  # [spq]; [conf] Offline.min_query_count
    server_latency_bound_ns=20_000_000_000,  # [c50] "latency-constraint"; [conf] = 20000 ms
    equal_issue=True,  # [conf] gptj.*.sample_concatenate_permutation = 1
    token_latencies=False,  # [conf] (use_token_latencies not set; token latencies are inferred)
    infer_token_latencies=True,  # [conf] gptj.*.infer_token_latencies = 1
    token_latency_scaling_factor=69,  # [conf] gptj.*.token_latency_scaling_factor = 69
    rounds={
        "v5.0": RoundInfo(
            present=True,  # [c50] "models"
            required_scenarios={
                "datacenter": (SRV, OFF),  # [c50] "required-scenarios-datacenter"
                "edge": (SS, OFF),  # [c50] "required-scenarios-edge"
                "datacenter,edge": None,  # unknown: not in the reference
            },
            optional_scenarios={"datacenter": (), "edge": (), "datacenter,edge": None},
            compliance_tests=(),  # [c50] gptj needs no compliance test
        ),
        "v6.0": not_in_round("not in v6.0"),  # [c60] "models"
        "v6.1": not_in_round("not in v6.1 (last round v5.0)"),  # [drop] "models"
    },
)
