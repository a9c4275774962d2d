"""What a submission tree must look like, per round: layout, files, system and measurements fields.

Plain data for :mod:`.check` (and anyone else who writes or reads a tree). Every number and list names
its source:

* [c]    mlcommons/inference: tools/submission/submission_checker/constants.py (the v6.0/v6.1 checker
         package; master b66003e1)
* [chk]  mlcommons/inference: tools/submission/submission_checker/checks/{performance_check,
         accuracy_check,compliance_check,measurements_checks,system_check}.py
* [c50]  mlcommons/inference@5e903956: tools/submission/submission_checker.py (the v5.0 checker)
* [trunc] mlcommons/inference: tools/submission/truncate_accuracy_log.py
* [facts] the project's reference notes on measured checker behaviour (facts §3.1-§3.5)

Per-benchmark rules (scenarios, compliance tests, sample counts, targets) are in
:mod:`pytest_mlperf_nv.benchmarks.mlperf`; this module only adds the round fallback for values the
registry marks unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from ..benchmarks.mlperf import MlperfBenchmark

#: the rounds :func:`.check.check_tree` knows, newest first
ROUNDS = ("v6.1", "v6.0", "v5.0")
#: division directories of a tree ([c] VALID_DIVISIONS)
DIVISIONS = ("closed", "open", "network")
#: scenario directory names ([c] SCENARIO_MAPPING values)
SCENARIOS = ("SingleStream", "MultiStream", "Server", "Offline", "Interactive")

# --------------------------------------------------------------------------------------------------
# layout
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundLayout:
    """Where a result's parts live, relative to ``<division>/<submitter>``.

    Templates take ``system``, ``benchmark`` and ``scenario``.
    """

    round: str
    results: str  # performance/run_1 and accuracy/ live here
    measurements: str  # measurements json, user.conf, README.md
    compliance: str  # the TESTxx directories live here
    code: str  # the code directory that must exist
    measurements_json: str  # file name of the measurements json ("{system}" prefix for v5.0)

    @property
    def v6(self) -> bool:
        return self.round.startswith("v6")

    def _fill(self, template: str, system: str, benchmark: str, scenario: str) -> PurePosixPath:
        return PurePosixPath(template.format(system=system, benchmark=benchmark, scenario=scenario))

    def results_dir(self, system: str, benchmark: str, scenario: str) -> PurePosixPath:
        return self._fill(self.results, system, benchmark, scenario)

    def measurements_dir(self, system: str, benchmark: str, scenario: str) -> PurePosixPath:
        return self._fill(self.measurements, system, benchmark, scenario)

    def compliance_dir(self, system: str, benchmark: str, scenario: str) -> PurePosixPath:
        return self._fill(self.compliance, system, benchmark, scenario)


_V6 = dict(
    results="results/{system}/{benchmark}/{scenario}",  # [c] PERFORMANCE_LOG_PATH["v6.0"]
    measurements="results/{system}/{benchmark}/{scenario}",  # [c] MEASUREMENTS_PATH["v6.0"]
    compliance="results/{system}/{benchmark}/{scenario}",  # [c] COMPLIANCE_PATH["v6.0"]
    code="src",  # [c] SRC_PATH["v6.0"]; [facts] §3.1 "src directory does not exist"
    measurements_json="measurements.json",  # [c] MEASUREMENTS_PATH["v6.0"]
)
LAYOUTS: dict[str, RoundLayout] = {
    "v6.1": RoundLayout("v6.1", **_V6),  # [c] "default" path tables (= v6.0); [facts] §3.1 "also v6.1"
    "v6.0": RoundLayout("v6.0", **_V6),
    "v5.0": RoundLayout(
        "v5.0",
        results="results/{system}/{benchmark}/{scenario}",  # [c] PERFORMANCE_LOG_PATH["v5.0"]
        measurements="measurements/{system}/{benchmark}/{scenario}",  # [c] MEASUREMENTS_PATH["v5.0"]
        compliance="compliance/{system}/{benchmark}/{scenario}",  # [c] COMPLIANCE_PATH["v5.0"]
        code="code",  # [c] SRC_PATH["v5.0"]; [c50] check_measurement_dir: code/<model>/<impl>
        # [c50] check_measurement_dir: a file starting with <system> and ending with _<Scenario>.json
        # (or .json); the implementation name is what lies between
        measurements_json="{system}_<implementation>_{scenario}.json",
    ),
}

#: where the round's layout puts things it alone has: a submitter dir with either is a v5.0 tree
V5_ONLY_DIRS = ("measurements", "compliance", "code")  # [c50]; [facts] §3.5

# --------------------------------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------------------------------

SUMMARY = "mlperf_log_summary.txt"
DETAIL = "mlperf_log_detail.txt"
ACCURACY_LOG = "mlperf_log_accuracy.json"
ACCURACY_TXT = "accuracy.txt"

#: performance/run_1 ([c] REQUIRED_PERF_FILES, OPTIONAL_PERF_FILES)
PERF_FILES = (SUMMARY, DETAIL)
PERF_OPTIONAL = (ACCURACY_LOG,)
#: accuracy/ ([c] REQUIRED_ACC_FILES)
ACCURACY_FILES = (SUMMARY, DETAIL, ACCURACY_TXT, ACCURACY_LOG)
#: tolerated in any of those directories ([c50] files_diff: optional + trace, results.json, .gitkeep)
TOLERATED = ("mlperf_log_trace.json", "results.json", ".gitkeep")
#: performance/ may hold run_1 and, for power submissions, power/ and ranging/ ([facts] §3.1)
PERFORMANCE_DIRS = ("run_1", "power", "ranging")
#: measurements files besides the json ([c] REQUIRED_MEASURE_FILES; mlperf.conf optional, [facts] §3.1)
MEASURE_FILES = ("user.conf", "README.md")
MEASURE_OPTIONAL = ("mlperf.conf",)
#: the results scenario directory itself: v6.x holds everything ([facts] §3.1); v5.0 only the logs
SCENARIO_DIRS_V6 = ("performance", "accuracy", "TEST01", "TEST04", "TEST06")
SCENARIO_DIRS_V5 = ("performance", "accuracy")

#: compliance test directories ([c] REQUIRED_COMP_PER_FILES; REQUIRED_TEST01_ACC_FILES(_1);
#: [chk] compliance_check.dir_exists_check)
COMPLIANCE_PERF_FILES = (SUMMARY, DETAIL)
COMPLIANCE_PERF_OPTIONAL = (ACCURACY_LOG,)
#: TEST01/accuracy: the sampled log plus accuracy.txt, which carries its hash after truncation
#: ([c] REQUIRED_TEST01_ACC_FILES_1; [trunc] writes hash= into accuracy.txt)
TEST01_ACCURACY_FILES = (ACCURACY_LOG, ACCURACY_TXT)
#: when TEST01's accuracy check fails (non-deterministic SUT): also the two scored files
TEST01_ACCURACY_FALLBACK_FILES = ("baseline_accuracy.txt", "compliance_accuracy.txt")
TEST_DIR_ENTRIES = {
    "TEST01": ("verify_accuracy.txt", "verify_performance.txt", "accuracy", "performance"),
    "TEST04": ("verify_performance.txt", "performance"),
    "TEST06": ("verify_accuracy.txt", "accuracy"),
}
#: the accuracy tolerance of TEST01's non-deterministic fallback, in percent, by accuracy level
#: ([chk] compliance_check.accuracy_check: |1 - baseline/compliance| * 100 <= delta; [facts] §3.2)
TEST01_DELTA_PERC = {0.99: 1.0, 0.999: 0.1}

# --------------------------------------------------------------------------------------------------
# accuracy log truncation
# --------------------------------------------------------------------------------------------------

MAX_ACCURACY_LOG_SIZE = 10 * 1024  # [c] MAX_ACCURACY_LOG_SIZE; [trunc]
VIEWABLE_SIZE = 4096  # [trunc] VIEWABLE_SIZE
TRUNCATION_MARK = b"\n\n...\n\n"  # [trunc] truncate_file
HASH_LINE = re.compile(r"^hash=([\w\d]+)$")  # [trunc]; [chk] accuracy_check.accuracy_result_check

# --------------------------------------------------------------------------------------------------
# performance rules that hold for every benchmark
# --------------------------------------------------------------------------------------------------

MIN_DURATION_MS = 600_000  # [c] TEST_DURATION_MS
#: scenarios whose validity includes early stopping ([chk] performance_check.latency_check via
#: Config.uses_early_stopping; [facts] §1.9)
EARLY_STOPPING_SCENARIOS = ("SingleStream", "MultiStream", "Server", "Interactive")

# --------------------------------------------------------------------------------------------------
# accuracy.txt
# --------------------------------------------------------------------------------------------------

#: how the checker finds each accuracy metric in accuracy.txt ([c] ACC_PATTERN; keys are the metric
#: names of the registry's AccuracyMetric, which follow MODEL_CONFIG["accuracy-target"])
ACC_PATTERN: dict[str, str] = {
    "acc": r"^(?:\{\"accuracy|accuracy)[\": ]*=?\s*([\d\.]+).*",
    "AUC": r"^AUC=([\d\.]+).*",
    "mAP": r".*(?:mAP=|'Total':)\s*([\d.]+)",
    "F1": r"^{[\"\']exact_match[\"\']\:\s*[\d\.]+,\s*[\"\']f1[\"\']\:\s*([\d\.]+)}",
    "WER": r"Word Error Rate\:.*, accuracy=([0-9\.]+)%",  # [c50] ACC_PATTERN "WER" (rnnt)
    "ACCURACY": r"Word Error Rate\:.*, accuracy=([0-9\.]+)%",
    "DICE": r"Accuracy\:\s*mean\s*=\s*([\d\.]+).*",
    "ROUGE1": r".*'rouge1':\s+'?([\d.]+)'?.*",
    "ROUGE2": r".*'rouge2':\s+'?([\d.]+)'?.*",
    "ROUGEL": r".*'rougeL':\s+'?([\d.]+)'?.*",
    "ROUGELSUM": r".*'rougeLsum':\s+'?([\d.]+)'?.*",
    "GEN_LEN": r".*'gen_len':\s([\d.]+).*",
    "TOKENS_PER_SAMPLE": r".*'tokens_per_sample':\s([\d.]+).*",
    "exact_match": r".*'exact_match':\s([\d.]+).*",
}

# --------------------------------------------------------------------------------------------------
# systems/<system>.json
# --------------------------------------------------------------------------------------------------

#: the 35 required keys ([c] SYSTEM_DESC_REQUIRED_FIELDS; [facts] §3.1)
SYSTEM_REQUIRED_FIELDS = (
    "division", "submitter", "status", "system_name", "number_of_nodes", "host_processor_model_name",
    "host_processors_per_node", "host_processor_core_count", "host_memory_capacity",
    "host_storage_capacity", "host_storage_type", "accelerators_per_node", "accelerator_model_name",
    "accelerator_memory_capacity", "framework", "operating_system", "system_type",
    "other_software_stack", "host_processor_frequency", "host_processor_caches",
    "host_memory_configuration", "host_processor_interconnect", "host_networking",
    "host_networking_topology", "accelerator_frequency", "accelerator_host_interconnect",
    "accelerator_interconnect", "accelerator_interconnect_topology", "accelerator_memory_configuration",
    "accelerator_on-chip_memories", "cooling", "hw_notes", "sw_notes", "host_network_card_count",
    "system_type_detail",
)
#: required keys that must also be non-empty ([c] SYSTEM_DESC_MEANINGFUL_RESPONSE_REQUIRED_FIELDS)
SYSTEM_NON_EMPTY_FIELDS = (
    "division", "submitter", "system_type", "status", "system_name", "number_of_nodes",
    "host_processor_model_name", "host_processors_per_node", "host_processor_core_count",
    "host_memory_capacity", "host_memory_configuration", "host_storage_capacity", "host_storage_type",
    "host_networking", "host_network_card_count", "host_networking_topology", "accelerators_per_node",
    "accelerator_model_name", "accelerator_memory_capacity", "accelerator_host_interconnect",
    "accelerator_memory_configuration", "accelerator_interconnect", "cooling", "framework",
    "operating_system", "other_software_stack",
)
#: fields the checker's CSV export multiplies: not int-convertible = a traceback ([facts] §3.1
#: "Crash hazards", measured; [c] results.py total_accelerators)
SYSTEM_INT_FIELDS = ("number_of_nodes", "accelerators_per_node")
#: status values, compared case-insensitively ([c] VALID_AVAILABILITIES; [chk] system_check)
SYSTEM_STATUSES = ("available", "preview", "rdi")
#: system_type values ([chk] system_check.system_type_check)
SYSTEM_TYPES = ("datacenter", "edge", "datacenter,edge", "edge,datacenter")
#: optional key; network division only, as the string "true". Elsewhere leave it out: network_check
#: calls .lower() on it (so not a JSON bool), and system_check's `if is_network:` turns the network
#: fields on for any non-empty string, "false" included (measured with the official checker)
#: ([c] SYSTEM_DESC_IS_NETWORK_MODE; [chk] system_check.network_check, required-fields check)
IS_NETWORK = "is_network"
NETWORK_BY_DIVISION = {"closed": False, "network": True}  # [chk] network_check

# --------------------------------------------------------------------------------------------------
# measurements json
# --------------------------------------------------------------------------------------------------

#: the 5 required non-empty keys ([c] SYSTEM_IMP_REQUIRED_FILES; [chk] measurements_checks)
MEASUREMENTS_FIELDS = (
    "input_data_types", "retraining", "starting_weights_filename", "weight_data_types",
    "weight_transformations",
)

# --------------------------------------------------------------------------------------------------
# per-benchmark round data, with the fallback for what the registry marks unknown
# --------------------------------------------------------------------------------------------------

#: where a round's table is unknown to the registry, the checker of that round copied it from the
#: previous one except for the benchmarks it dropped, which the registry marks ``present=False``
#: ([facts] §2.2 "v6.1 (master) drops retinanet, dlrm-v2, llama2-70b-99, ...; resnet keeps ...";
#: measured: a v6.1 resnet edge tree with TEST01 + TEST04 passes the v6.1 checker, facts §3.3)
ROUND_FALLBACK = {"v6.1": "v6.0"}


def _round_chain(round_: str) -> list[str]:
    chain = [round_]
    while chain[-1] in ROUND_FALLBACK:
        chain.append(ROUND_FALLBACK[chain[-1]])
    return chain


def _normalized_type(system_type: str) -> str:
    return ",".join(sorted(part.strip().lower() for part in system_type.split(",")))


def scenario_rules(bench: MlperfBenchmark, round_: str, system_type: str
                   ) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None, str | None]:
    """(required scenarios, optional scenarios, the round the values come from) for a closed result.

    ``None`` values: not known for this round (nor a fallback round).
    """
    kind = _normalized_type(system_type)
    for candidate in _round_chain(round_):
        info = bench.rounds.get(candidate)
        if info is None:
            continue
        required = info.required_scenarios.get(kind)
        if required is not None:
            optional = info.optional_scenarios.get(kind)
            return required, (optional if optional is not None else ()), candidate
    return None, None, None


def compliance_tests(bench: MlperfBenchmark, round_: str) -> tuple[tuple[str, ...] | None, str | None]:
    """(the compliance tests a closed result needs, the round the list comes from); None: unknown."""
    for candidate in _round_chain(round_):
        info = bench.rounds.get(candidate)
        if info is not None and info.compliance_tests is not None:
            return info.compliance_tests, candidate
    return None, None


def accepted(bench: MlperfBenchmark, round_: str) -> bool | None:
    """Whether the benchmark is part of the round (None: unknown)."""
    info = bench.rounds.get(round_)
    return None if info is None else info.present
