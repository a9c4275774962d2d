"""RNN-T on LibriSpeech (checker dir ``rnnt``); retired, last round v4.0."""

from __future__ import annotations

from .rules import Accuracy, AccuracyMetric, Dataset, MlperfBenchmark, not_in_round

# Sources: see resnet50.py ([conf], [c60], [spq], [c50], [drop]).
#   [c40]  mlcommons/inference: tools/submission/submission_checker/constants.py MODEL_CONFIG["v4.0"]

RNNT = MlperfBenchmark(
    name="rnnt",
    checker_name="rnnt",  # [c40]
    conf_model="rnnt",  # [conf]
    dataset=Dataset(
        name="LibriSpeech dev-clean",
        accuracy_sample_count=2513,  # [c40] "dataset-size"
        layout="LibriSpeech dev-clean converted by the reference (dev-clean-wav.json manifest and the "
        "wav files it names), the --dataset_dir/--manifest of accuracy_eval.py",
    ),
    accuracy=Accuracy(
        metrics=(
            AccuracyMetric(
                name="WER",
                reference=100 - 7.452,  # [c40] "accuracy-target": (100 - 7.452) * 0.99
                threshold_99=91.62252,  # [c40] "accuracy-target"
                threshold_99_9=None,  # no 99.9 % variant
            ),
        ),
        unit="% (100 - word error rate)",
        checker_line="Word Error Rate: …, accuracy=92.54%",  # [c40] ACC_PATTERN "WER"
        script="retired_benchmarks/speech_recognition/rnnt/accuracy_eval.py",
    ),
    accuracy_level=0.99,
    performance_sample_count=2513,  # [c40] "performance-sample-count"
    conf_performance_sample_count=2513,  # [conf] performance_sample_count_override
    offline_min_samples_per_query=2513,  # [spq]; [conf] Offline.min_query_count
    server_latency_bound_ns=1_000_000_000,  # [conf] Server.target_latency = 1000; [c40] "latency-constraint"
    equal_issue=False,  # [conf]
    token_latencies=False,  # [conf]
    rounds={
        "v5.0": not_in_round("retired: last round v4.0"),  # [c50] "models"
        "v6.0": not_in_round("retired: last round v4.0"),  # [c60] "models"
        "v6.1": not_in_round("retired: last round v4.0"),  # [drop]
    },
)
