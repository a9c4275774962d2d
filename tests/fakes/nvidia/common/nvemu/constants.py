"""Names and per-benchmark facts of NVIDIA's closed/NVIDIA code, as the emulator needs them.

Modelled on code/common/constants.py of mlcommons/inference_results_v4.1 (closed/NVIDIA): benchmark and
scenario enums with aliases, harness types, accuracy targets, power settings, actions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCENARIOS = ("Offline", "Server", "SingleStream", "MultiStream")

# Official metric key per scenario, as code.common.log_parser.get_loadgen_log_keys returns it (v4.1+:
# Server reports completed samples per second).
SCENARIO_METRIC_KEYS = {
    "Offline": "result_samples_per_second",
    "Server": "result_completed_samples_per_sec",
    "SingleStream": "result_90.00_percentile_latency_ns",
    "MultiStream": "result_99.00_percentile_per_query_latency_ns",
}
LLM_SCENARIO_METRIC_KEYS = {
    "Offline": "result_tokens_per_second",
    "Server": "result_completed_tokens_per_second",
}

# code/common/harness.py QUERY_METRIC_CONSTRAINTS (values from the submission checker's MODEL_CONFIG).
QUERY_METRIC_CONSTRAINTS = {
    "Offline": ("effective_samples_per_query", 24576),
    "Server": ("effective_min_query_count", 270336),
    "MultiStream": ("effective_min_query_count", 662),
    "SingleStream": ("effective_min_query_count", 1024),
}

HARNESS_TYPES = ("lwis", "custom", "triton", "hetero", "triton_unified")
POWER_SETTINGS = ("MaxP", "MaxQ")
ACCURACY_TARGETS = {0.99: "k_99", 0.999: "k_99_9"}
TEST_MODES = ("PerformanceOnly", "AccuracyOnly", "SubmissionRun", "FindPeakPerformance")
AUDIT_TESTS = ("TEST01", "TEST04", "TEST05", "TEST06")


@dataclass(frozen=True)
class Benchmark:
    """One member of NVIDIA's Benchmark enum."""

    name: str  # Benchmark.value.name, e.g. "resnet50"; also the dir name under build/engines
    aliases: tuple[str, ...]
    mlperf_conf_model: str  # model name inside LoadGen's mlperf.conf
    default_harness: str  # G_DEFAULT_HARNESS_TYPES
    components: tuple[str, ...]  # gpu_batch_size components (engine per component)
    precision: str
    high_accuracy: bool  # has a -99.9 variant (G_HIGH_ACC_ENABLED_BENCHMARKS)
    dataset_size: int  # QSL total count of the real dataset
    perf_sample_count: int  # performance sample count NVIDIA uses
    dataset_dir: str  # under build/preprocessed_data/
    accuracy_metric: str = "accuracy"
    accuracy_reference: float = 0.0  # FP32 reference; target = 0.99 / 0.999 of it
    llm: bool = False
    scenarios: tuple[str, ...] = SCENARIOS
    extra_aliases: tuple[str, ...] = field(default_factory=tuple)

    def full_name(self, accuracy_target: float) -> str:
        """Submission benchmark name (code/common/harness.py _get_submission_benchmark_name)."""
        if accuracy_target == 0.999:
            return f"{self.name}-99.9"
        if self.high_accuracy:
            return f"{self.name}-99"
        return self.name


_ALL_BENCHMARKS = [
    Benchmark("resnet50", ("resnet", "resnet50", "resnet-50"), "resnet50", "lwis", ("resnet50",), "int8",
              False, 50000, 2048, "imagenet", "accuracy", 76.46),
    Benchmark("retinanet", ("retinanet", "ssd-retinanet", "ssdretinanet"), "retinanet", "lwis",
              ("retinanet",), "int8", False, 24781, 64, "open-images-v6-mlperf", "mAP", 37.55),
    Benchmark("bert", ("bert", "bert-99", "bert-99.9"), "bert", "custom", ("bert",), "int8", True,
              10833, 10833, "squad_tokenized", "F1", 90.874),
    Benchmark("3d-unet", ("3d-unet", "3dunet", "3d-unet-99", "3d-unet-99.9", "unet", "unet3d"), "3d-unet",
              "custom", ("3d-unet",), "int8", True, 43, 43, "KiTS19", "DICE", 0.86170,
              scenarios=("Offline", "SingleStream")),
    Benchmark("dlrm-v2", ("dlrm-v2", "dlrmv2", "dlrm_v2", "dlrm-v2-99", "dlrm-v2-99.9"), "dlrm-v2", "custom",
              ("dlrm-v2",), "int8", True, 204800, 204800, "criteo", "AUC", 80.31,
              scenarios=("Offline", "Server")),
    Benchmark("gptj", ("gptj", "gpt-j", "gptj6b", "gptj-99", "gptj-99.9"), "gptj", "custom", ("gptj",), "fp8",
              True, 13368, 13368, "cnn_dailymail_tokenized_gptj", "ROUGE1", 42.9865, llm=True,
              scenarios=("Offline", "Server")),
    Benchmark("llama2-70b", ("llama2", "llama2-70b", "llama2-70b-99", "llama2-70b-99.9"), "llama2-70b",
              "custom", ("llama2-70b",), "fp8", True, 24576, 24576, "open_orca", "ROUGE1", 44.4312,
              llm=True, scenarios=("Offline", "Server")),
    Benchmark("stable-diffusion-xl", ("stable-diffusion-xl", "sdxl", "stable_diffusion_xl"),
              "stable-diffusion-xl", "custom", ("clip1", "clip2", "unet", "vae"), "int8", False, 5000, 5000,
              "coco2014-tokenized-sdxl", "CLIP_SCORE", 31.68631873, scenarios=("Offline", "Server")),
    Benchmark("mixtral-8x7b", ("mixtral-8x7b", "mixtral", "moe"), "mixtral-8x7b", "custom",
              ("mixtral-8x7b",), "fp8", False, 15000, 15000, "moe", "ROUGE1", 45.4911, llm=True,
              scenarios=("Offline", "Server")),
    Benchmark("llama2-70b-interactive", ("llama2-70b-interactive", "llama2-interactive",
                                         "llama2-70b-interactive-99", "llama2-70b-interactive-99.9"),
              "llama2-70b-interactive", "custom", ("llama2-70b-interactive",), "fp8", True, 24576, 24576,
              "open_orca", "ROUGE1", 44.4312, llm=True, scenarios=("Offline", "Server")),
    Benchmark("llama3_1-405b", ("llama3.1-405b", "llama3_1-405b", "llama3-405b", "llama3.1"), "llama3_1-405b",
              "custom", ("llama3_1-405b",), "fp8", False, 8313, 8313, "llama3.1-405b", "ROUGEL", 21.6666,
              llm=True,
              scenarios=("Offline", "Server")),
    Benchmark("rgat", ("rgat", "r-gat"), "rgat", "custom", ("rgat",), "fp16", False, 788379, 788379,
              "igbh", "accuracy", 72.86, scenarios=("Offline",)),
]
BENCHMARKS = {b.name: b for b in _ALL_BENCHMARKS}


def match_benchmark(name: str, allowed: tuple[str, ...]) -> Benchmark | None:
    """Benchmark.get_match: case-insensitive name or alias; only members of this version's enum."""
    key = name.strip().lower()
    for short in allowed:
        bench = BENCHMARKS[short]
        if key == bench.name or key in bench.aliases:
            return bench
    return None


def match_scenario(name: str) -> str | None:
    key = name.strip().lower()
    for scenario in SCENARIOS:
        if key == scenario.lower():
            return scenario
    return None


def workload_shortname(harness_type: str, accuracy_target: float, power_setting: str) -> str:
    """WorkloadSetting.shortname(), e.g. lwis_k_99_MaxP; also the config_ver in engine file names."""
    return f"{harness_type}_{ACCURACY_TARGETS[accuracy_target]}_{power_setting}"


# Legacy --config_ver values -> (harness override or None for the benchmark default, accuracy, power).
LEGACY_CONFIG_VERS = {
    "default": (None, 0.99, "MaxP"),
    "high_accuracy": (None, 0.999, "MaxP"),
    "triton": ("triton", 0.99, "MaxP"),
    "high_accuracy_triton": ("triton", 0.999, "MaxP"),
    "maxq": (None, 0.99, "MaxQ"),
    "high_accuracy_maxq": (None, 0.999, "MaxQ"),
    "hetero": ("hetero", 0.99, "MaxP"),
}
