"""The vocabulary of the original CM/MLC automation: what each script tag, variation and flag means.

Tables only: the script tags of the NVIDIA harness script and of the run-mlperf,inference front end,
the variations and flags that map to a suite setting (and how), those that only steer CM itself, and
those that cannot be translated, with why. :mod:`.cm_translate` applies them.
"""

from __future__ import annotations

import re

from .suite.knobs import SCENARIOS

#: plain (non-variation) tags of the harness script (seed: reproduce,mlcommons,mlperf,inference,
#: harness,nvidia-harness,nvidia) and of its MLC/CM successor app-mlperf-inference-nvidia
HARNESS_TAGS = {"reproduce", "mlcommons", "mlperf", "inference", "harness", "nvidia-harness", "nvidia",
                 "app", "app-mlperf-inference-nvidia", "reproduce-mlperf-inference-nvidia"}
#: plain tags of the front end (run-mlperf-inference-app, formerly generate-run-cmds)
APP_TAGS = {"run-mlperf", "run", "mlperf", "inference", "generate-run-cmds", "run-mlperf-inference-app"}

SCENARIO_VARIATIONS = {"_offline": "Offline", "_server": "Server", "_singlestream": "SingleStream",
                        "_multistream": "MultiStream"}
SCENARIO_NAMES = {s.lower(): s for s in SCENARIOS}

#: CM gpu names (variation ``_<name>`` or ``--gpu_name=<name>``) -> profile
GPU_NAMES = {"a100": "a100-sxm", "a6000": "rtx_a6000", "rtx_a6000": "rtx_a6000", "custom": "custom",
              "l4": "l4", "orin": "orin", "rtx_4090": "rtx_4090", "rtx_6000_ada": "rtx_6000_ada",
              "t4": "t4", "h100": "h100", "h200": "h200"}
GPU_MEMORY_BUCKETS = (8, 16, 24, 32, 40, 48, 80)

INTERNAL_GROUPS = {"_bert_", "_3d-unet_", "_dlrm_", "_gptj_", "_llama2-70b_", "_retinanet_"}
DEFAULT_VARIATIONS = {"_tensorrt": "TensorRT: the default", "_cuda": "CUDA: the default",
                       "_run_harness": "the default stage: run the harness"}
STAGES = {"_build_engine": "generate_engines", "_preprocess_data": "preprocess_data",
           "_download_model": "download_model", "_calibrate": "calibrate", "_prebuild": "prebuild",
           "_build": "build"}
UNSUPPORTED_VARIATIONS = {
    "_cpu": "the NVIDIA harness runs on CUDA GPUs only",
    "_maxq": "MaxQ power settings are not a suite setting (power runs are not supported)",
    "_maxn": "MaxN power mode (Jetson) is not a suite setting",
    "_use_triton": "the Triton server harness is not supported",
    "_populate-readme": "README population of a results directory is not a benchmark run",
    "_short": "CM's short run style has no suite equivalent; use profile: quick",
}
PRECISION = re.compile(r"^_(fp8|fp16|fp32|int4|int8|bf16|bfloat16|float16|float32)$")
ROUND = re.compile(r"^_r\d+\.\d+(-dev)?(_default)?$")
CODE_VERSION = re.compile(r"^_(v\d+\.\d+(-dev)?|pre5\.0|v5\.0\+)$")

#: flags that only steer CM itself: ignored, listed in the output's header
IGNORED_FLAGS = {
    "quiet", "rerun", "results_dir", "output_dir", "submission_dir", "clean", "skip_submission_generation",
    "preprocess_submission", "pull_changes", "pull_inference_changes", "use_model_from_host",
    "use_dataset_from_host", "hw_notes_extra", "log_dir", "skip_preprocess",
    "skip_preprocessing", "docker", "v", "j", "s", "run_checker", "adr.compiler.tags",
    "adr.inference-src.version", "adr.inference-src.tags", "skip_install_cuda",
}
IGNORED_PREFIXES = ("docker_",)
HARNESS_ADR = ("adr.nvidia-harness.tags", "adr.harness.tags", "adr.nvidia-original-harness.tags")

#: seed flags mapped straight to a knob of the same name
KNOB_FLAGS = ("gpu_batch_size", "gpu_copy_streams", "gpu_inference_streams", "workspace_size",
               "num_warmups", "deque_timeout_usec", "soft_drop", "use_graphs", "use_deque_limit",
               "start_from_device", "end_on_device", "use_small_tile_gemm_plugin",
               "performance_sample_count")
#: scenario targets: flag -> (scenarios, knob, factor applied to the value)
TARGETS = {
    "offline_target_qps": (("Offline",), None),
    "server_target_qps": (("Server",), None),
    "target_qps": (("Offline", "Server"), None),
    "singlestream_target_latency": (("SingleStream",), 1_000_000),
    "multistream_target_latency": (("MultiStream",), 1_000_000),
    "target_latency": (("SingleStream", "MultiStream"), 1_000_000),
}
TARGET_KNOB = {"Offline": "offline_expected_qps", "Server": "server_target_qps",
                "SingleStream": "single_stream_expected_latency_ns",
                "MultiStream": "multi_stream_expected_latency_ns"}
#: NVIDIA code versions of the CM wrapper (variation _vX.Y / round _rX.Y of the front end) -> nvidia.version
NVIDIA_VERSIONS = {"4.1": "v4.1", "5.0": "v5.0"}
#: suite `submission:` keys the CM front end's flags fill
SUBMISSION_FLAGS = {"division": "division", "submitter": "submitter", "hw_name": "system_name"}
UNSUPPORTED_FLAGS = {
    "power": "power measurement is not supported",
    "power_setting": "power settings (MaxQ) are not a suite setting: NVIDIA's MaxQ configs set GPU "
                     "power limits "
                     "this plugin does not manage",
    "config_ver": "NVIDIA's legacy --config_ver picks MaxQ / Triton / high-accuracy configs; the suite "
                  "picks the "
                  "accuracy by benchmark name (bert-99.9) and runs NVIDIA's default harness at MaxP only",
    "precision": "the suite has no precision setting; NVIDIA's harness uses its config's precision",
    "devices": "GPU selection belongs to CUDA_VISIBLE_DEVICES (the plugin passes it to NVIDIA's code), not "
               "the suite",
    "input_format": "no suite knob: NVIDIA's config value applies (its config registry sets the input format "
                    "per benchmark and GPU)",
    "run_infer_on_copy_streams": "no suite knob: NVIDIA's config value applies",
    "user_conf_path": "user.conf is generated from the suite's knobs",
    "dla_batch_size": "DLA settings apply to NVIDIA's Jetson (Orin) systems only, which this plugin "
                      "does not drive",
    "dla_copy_streams": "DLA settings apply to NVIDIA's Jetson (Orin) systems only",
    "dla_inference_streams": "DLA settings apply to NVIDIA's Jetson (Orin) systems only",
    "all_models": "one suite benchmark per translated command; list the benchmarks in the suite",
    "extra_run_options": "free-form harness options cannot be checked; use suite knobs",
    "build_engine_options": "free-form engine-build options cannot be checked",
    "make_cmd": "the make target is chosen by the harness",
    "mlperf_conf": "mlperf.conf comes from the LoadGen wheel",
    "user_conf": "user.conf is generated from the suite's knobs",
    "max_batchsize": "LoadGen max batch size of reference implementations; not an NVIDIA setting",
}


__all__ = [
    "APP_TAGS",
    "CODE_VERSION",
    "DEFAULT_VARIATIONS",
    "GPU_MEMORY_BUCKETS",
    "GPU_NAMES",
    "HARNESS_ADR",
    "HARNESS_TAGS",
    "IGNORED_FLAGS",
    "IGNORED_PREFIXES",
    "INTERNAL_GROUPS",
    "KNOB_FLAGS",
    "NVIDIA_VERSIONS",
    "PRECISION",
    "ROUND",
    "SCENARIO_NAMES",
    "SCENARIO_VARIATIONS",
    "STAGES",
    "SUBMISSION_FLAGS",
    "TARGETS",
    "TARGET_KNOB",
    "UNSUPPORTED_FLAGS",
    "UNSUPPORTED_VARIATIONS",
]
