"""ResNet50-v1.5 on ImageNet 2012 (checker dir ``resnet``)."""

from __future__ import annotations

from .rules import MS, OFF, SRV, SS, Accuracy, AccuracyMetric, Dataset, MlperfBenchmark, RoundInfo

# Sources:
#   [conf]  mlcommons/inference: loadgen/mlperf.conf (as embedded in mlcommons-loadgen 6.0.17, measured)
#   [c60]   mlcommons/inference: tools/submission/submission_checker/constants.py MODEL_CONFIG["v6.0"]
#   [spq]   mlcommons/inference: tools/submission/submission_checker/constants.py OFFLINE_MIN_SPQ_SINCE_V4
#   [c50]   mlcommons/inference@5e903956: tools/submission/submission_checker.py MODEL_CONFIG["v5.0"]
#   [drop]  mlcommons/inference@master: tools/submission/submission_checker/constants.py (v6.1)

RESNET50 = MlperfBenchmark(
    name="resnet50",
    checker_name="resnet",  # [c60] "model_mapping": resnet50 -> resnet
    conf_model="resnet50",  # [conf]
    dataset=Dataset(
        name="ImageNet 2012 validation",
        accuracy_sample_count=50000,  # [c60] "dataset-size"
        layout="ILSVRC2012 validation images (ILSVRC2012_val_*.JPEG) plus val_map.txt "
        "('<file> <label>' per line, 0-based labels)",
    ),
    accuracy=Accuracy(
        metrics=(
            AccuracyMetric(
                name="acc",
                reference=76.46,  # [c60] "accuracy-target": 76.46 * 0.99
                threshold_99=75.6954,  # [c60] "accuracy-target" (76.46 * 0.99)
                threshold_99_9=None,  # no 99.9 % variant ([c60] "models")
            ),
        ),
        unit="% top-1",
        checker_line="accuracy=76.456%, good=…, total=…",  # [c60] ACC_PATTERN "acc"
        script="vision/classification_and_detection/tools/accuracy-imagenet.py",
    ),
    accuracy_level=0.99,
    performance_sample_count=1024,  # [c60] "performance-sample-count"
    conf_performance_sample_count=1024,  # [conf] performance_sample_count_override
    offline_min_samples_per_query=24576,  # [spq]; [conf] Offline.min_query_count
    server_latency_bound_ns=15_000_000,  # [c60] "latency-constraint"; [conf] Server.target_latency = 15
    equal_issue=False,  # [conf] no sample_concatenate_permutation
    token_latencies=False,  # [conf]
    rounds={
        "v5.0": RoundInfo(
            present=True,  # [c50] "models"
            required_scenarios={
                "datacenter": (SRV, OFF),  # [c50] "required-scenarios-datacenter"
                "edge": (SS, MS, OFF),  # [c50] "required-scenarios-edge"
                "datacenter,edge": None,  # unknown: not in the reference
            },
            optional_scenarios={"datacenter": (), "edge": (), "datacenter,edge": None},
            compliance_tests=("TEST01", "TEST04"),  # [c50] models_TEST01, models_TEST04
        ),
        "v6.0": RoundInfo(
            present=True,  # [c60] "models"
            required_scenarios={
                "datacenter": (),  # [c60] absent from "required-scenarios-datacenter"
                "edge": (SS, MS, OFF),  # [c60] "required-scenarios-edge"
                "datacenter,edge": (SS, MS, SRV, OFF),  # [c60] "required-scenarios-datacenter-edge"
            },
            optional_scenarios={"datacenter": (), "edge": (), "datacenter,edge": ()},  # [c60]
            compliance_tests=("TEST01", "TEST04"),  # [c60] models_TEST01, models_TEST04
        ),
        "v6.1": RoundInfo(
            present=True,  # [drop] resnet kept
            required_scenarios={
                "datacenter": None,  # unknown: not in the reference
                "edge": (SS, MS, OFF),  # [drop] "required-scenarios-edge"
                "datacenter,edge": None,  # unknown: not in the reference
            },
            optional_scenarios={"datacenter": None, "edge": None, "datacenter,edge": None},  # unknown
            compliance_tests=None,  # unknown: not in the reference
        ),
    },
)
