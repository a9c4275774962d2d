"""3D-UNet on KiTS19 (checker dirs ``3d-unet-99`` and ``3d-unet-99.9``)."""

from __future__ import annotations

from .rules import OFF, SS, Accuracy, AccuracyMetric, Dataset, MlperfBenchmark, RoundInfo, kept_in_round

# Sources: see resnet50.py ([conf], [c60], [spq], [c50], [drop]).

_DATASET = Dataset(
    name="KiTS19",
    accuracy_sample_count=43,  # [c60] "dataset-size"
    layout="KiTS19 inference cases preprocessed by the reference (preprocessed_data_dir with the "
    "per-case pickles and preprocessed_files.pkl) plus the ground-truth nifti files for accuracy",
)

_ACCURACY = Accuracy(
    metrics=(
        AccuracyMetric(
            name="DICE",
            # [c60] "accuracy-target" 0.86170 * 0.99; mlcommons/inference_policies: inference_rules.adoc
            # states 0.86330, the checker enforces 0.86170.
            reference=0.86170,
            threshold_99=0.853083,  # [c60] "accuracy-target" 3d-unet-99 (0.86170 * 0.99)
            threshold_99_9=0.860838,  # [c60] "accuracy-target" 3d-unet-99.9 (0.86170 * 0.999)
        ),
    ),
    unit="mean DICE (kidney, tumor)",
    checker_line="Accuracy: mean = 0.86170, …",  # [c60] ACC_PATTERN "DICE"
    script="vision/medical_imaging/3d-unet-kits19/accuracy_kits.py",
)


def _rounds() -> dict[str, RoundInfo]:
    return {
        "v5.0": RoundInfo(
            present=True,  # [c50] "models"
            required_scenarios={
                "datacenter": (OFF,),  # [c50] "required-scenarios-datacenter"
                "edge": (SS, OFF),  # [c50] "required-scenarios-edge"
                "datacenter,edge": None,  # unknown: not in the reference
            },
            optional_scenarios={"datacenter": (), "edge": (), "datacenter,edge": None},
            compliance_tests=("TEST01",),  # [c50] models_TEST01
        ),
        "v6.0": RoundInfo(
            present=True,  # [c60] "models"
            required_scenarios={
                "datacenter": (OFF,),  # [c60] "required-scenarios-datacenter"
                "edge": (SS, OFF),  # [c60] "required-scenarios-edge"
                "datacenter,edge": (SS, OFF),  # [c60] "required-scenarios-datacenter-edge"
            },
            optional_scenarios={"datacenter": (), "edge": (), "datacenter,edge": ()},  # [c60]
            compliance_tests=("TEST01",),  # [c60] models_TEST01
        ),
        "v6.1": kept_in_round(),  # [drop] not among the benchmarks v6.1 drops; the rest not in the reference
    }


def _unet(name: str, level: float) -> MlperfBenchmark:
    return MlperfBenchmark(
        name=name,
        checker_name=name,  # [c60] "models"
        conf_model="3d-unet",  # [conf]
        dataset=_DATASET,
        accuracy=_ACCURACY,
        accuracy_level=level,
        performance_sample_count=43,  # [c60] "performance-sample-count" (effective value must be >= 43)
        conf_performance_sample_count=0,  # [conf] 3d-unet.*.performance_sample_count_override = 0: QSL size
        offline_min_samples_per_query=43,  # [spq]; [conf] Offline.min_query_count
        server_latency_bound_ns=None,  # no Server scenario ([c60] "latency-constraint" has no 3d-unet)
        equal_issue=True,  # [conf] 3d-unet.*.sample_concatenate_permutation = 1
        token_latencies=False,  # [conf]
        rounds=_rounds(),
    )


UNET3D_99 = _unet("3d-unet-99", 0.99)
UNET3D_99_9 = _unet("3d-unet-99.9", 0.999)
