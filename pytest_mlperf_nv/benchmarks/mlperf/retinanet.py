"""RetinaNet on the MLPerf OpenImages subset (checker dir ``retinanet``)."""

from __future__ import annotations

from .rules import (
    MS,
    OFF,
    SRV,
    SS,
    Accuracy,
    AccuracyMetric,
    Dataset,
    MlperfBenchmark,
    RoundInfo,
    not_in_round,
)

# Sources: see resnet50.py ([conf], [c60], [spq], [c50], [drop]).

RETINANET = MlperfBenchmark(
    name="retinanet",
    checker_name="retinanet",  # [c60] "models"
    conf_model="retinanet",  # [conf]
    dataset=Dataset(
        name="OpenImages (MLPerf subset)",
        accuracy_sample_count=24781,  # [c60] "dataset-size"
        layout="OpenImages MLPerf validation subset: validation/data/*.jpg and "
        "annotations/openimages-mlperf.json (COCO-format), the --openimages-dir of accuracy-openimages.py",
    ),
    accuracy=Accuracy(
        metrics=(
            AccuracyMetric(
                name="mAP",
                reference=37.55,  # [c60] "accuracy-target": 37.55 * 0.99
                threshold_99=37.1745,  # [c60] "accuracy-target" (37.55 * 0.99)
                threshold_99_9=None,  # no 99.9 % variant ([c60] "models")
            ),
        ),
        unit="% mAP",
        checker_line="mAP=37.552%",  # [c60] ACC_PATTERN "mAP"
        script="vision/classification_and_detection/tools/accuracy-openimages.py",
    ),
    accuracy_level=0.99,
    performance_sample_count=64,  # [c60] "performance-sample-count"
    conf_performance_sample_count=64,  # [conf] performance_sample_count_override
    offline_min_samples_per_query=24576,  # [spq]; [conf] Offline.min_query_count
    server_latency_bound_ns=100_000_000,  # [c60] "latency-constraint"; [conf] Server.target_latency = 100
    equal_issue=False,  # [conf]
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
            compliance_tests=("TEST01",),  # [c50] models_TEST01
        ),
        "v6.0": RoundInfo(
            present=True,  # [c60] "models"
            required_scenarios={
                "datacenter": (),  # [c60] absent from "required-scenarios-datacenter"
                "edge": (),  # [c60] absent from "required-scenarios-edge"
                "datacenter,edge": (SS, MS, SRV, OFF),  # [c60] "required-scenarios-datacenter-edge"
            },
            optional_scenarios={"datacenter": (), "edge": (), "datacenter,edge": ()},  # [c60]
            compliance_tests=("TEST01",),  # [c60] models_TEST01
        ),
        "v6.1": not_in_round("dropped in v6.1", compliance_tests=None),  # [drop]
    },
)
