"""Compliance audits' ``audit.config`` files (TEST01, TEST04, TEST06), as MLCommons ships them.

All paths are mlcommons/inference (master).
"""

from __future__ import annotations

#: accuracy_log_rng_seed of TEST01 (compliance/nvidia/TEST01/<model>/audit.config, e.g. dlrm-v2)
TEST01_RNG_SEED = 720381539243781796
#: accuracy_log_sampling_target of TEST01 per mlperf.conf model (compliance/nvidia/TEST01/<model>/
#: audit.config; facts §3.3: 4096 resnet50, bert, dlrm-v2, gpt-j, rnnt; 256 retinanet; 64 3d-unet)
TEST01_SAMPLING_TARGET = {
    "resnet50": 4096,
    "bert": 4096,
    "dlrm-v2": 4096,
    "gptj": 4096,
    "rnnt": 4096,
    "retinanet": 256,
    "3d-unet": 64,
}
#: for a benchmark with no official TEST01 config (the project's ``digits``, a plugin's own
#: benchmark): 64 samples, 3d-unet's value and the smallest official one, which a small QSL can
#: still fill and which keeps the sampled accuracy log small. A project choice, not an MLCommons rule.
TEST01_DEFAULT_SAMPLING_TARGET = 64
#: TEST04's per-scenario keys (compliance/TEST04/audit.config). That file also has
#: stable-diffusion-xl / wan2.2 min_query_count lines, left out here: LoadGen applies an audit.config
#: with model "*", so model-specific lines never match (facts §1.5).
TEST04_SCENARIOS = ("MultiStream", "Offline", "SingleStream", "Server")
#: TEST06 (compliance/TEST06/audit.config), for LLMs
TEST06_LINES = ("*.*.mode = 2", f"*.*.accuracy_log_rng_seed = {TEST01_RNG_SEED}",
                "*.*.accuracy_log_sampling_target = 100", "*.*.min_query_count = 100",
                "*.*.min_duration = 0", "# Turn off equal issue mode for TEST06",
                "*.*.sample_concatenate_permutation = 0")
_HEADER = ("# The format of this config file is 'key = value'.\n"
           "# The key has the format 'model.scenario.key'. Value is mostly int64_t.\n"
           "# Model maybe '*' as wildcard. In that case the value applies to all models.\n"
           "# All times are in milli seconds\n")
_MODE = "# mode dictionary (0 = submission, 1 = accuracy, 2 = performance, 3 = find peak perf)\n"


def _conf_model(benchmark: str) -> str:
    from ..benchmarks import mlperf

    try:
        return mlperf.get(benchmark).conf_model
    except KeyError:
        return benchmark


def sampling_target(benchmark: str) -> int:
    """TEST01's accuracy_log_sampling_target for a benchmark (suite, checker or mlperf.conf name)."""
    return TEST01_SAMPLING_TARGET.get(_conf_model(benchmark), TEST01_DEFAULT_SAMPLING_TARGET)


def audit_config_text(test: str, benchmark: str) -> str:
    """The audit.config of ``test`` (TEST01, TEST04, TEST06) for ``benchmark``."""
    if test == "TEST01":
        return (_HEADER + "\n" + _MODE + "*.*.mode = 2\n"
                f"*.*.accuracy_log_rng_seed = {TEST01_RNG_SEED}\n"
                f"*.*.accuracy_log_sampling_target = {sampling_target(benchmark)}\n")
    if test == "TEST04":
        lines = []
        for scenario in TEST04_SCENARIOS:
            lines += [f"*.{scenario}.mode = 2", f"*.{scenario}.performance_issue_unique = 0",
                      f"*.{scenario}.performance_issue_same = 1",
                      f"*.{scenario}.performance_issue_same_index = 3"]
        return _HEADER + "\n".join(lines) + "\n"
    if test == "TEST06":
        return _HEADER + "\n" + _MODE + "\n".join(TEST06_LINES) + "\n"
    raise ValueError(f"no audit.config for {test!r}; known: TEST01, TEST04, TEST06")
