"""The knob vocabulary: every per-benchmark/per-scenario setting a suite may give.

Names follow NVIDIA's harness flags (the seed's flag list), so one suite reads the same on
both harnesses. Each knob says its type, its allowed range, the scenarios it applies to,
and whether MLPerf's rules fix its value for a submittable run. Which knobs a harness honours is
the harness's to say (``Harness.knob_problem``): every harness honours the LoadGen settings.
"""

from __future__ import annotations

from dataclasses import dataclass

SCENARIOS = ("Offline", "Server", "SingleStream", "MultiStream")
#: run profiles: quick (CI-length runs, not submittable) and official (LoadGen's mlperf.conf)
PROFILES = ("quick", "official")
MODES = ("performance", "accuracy")
#: every mode a suite may list; compliance adds the audit items (TEST01, TEST04, ...) of the round
ALL_MODES = (*MODES, "compliance")


@dataclass(frozen=True)
class Knob:
    name: str
    type: type  # int, float or bool
    minimum: float | None = None  # inclusive
    positive: bool = False  # strictly greater than zero
    scenarios: tuple[str, ...] = SCENARIOS
    #: the TestSettings attribute this knob sets (None: not a LoadGen setting)
    loadgen_attr: str | None = None
    #: MLPerf's rules fix this value; the official profile refuses to change it
    rule: str | None = None
    doc: str = ""


_RULE_DURATION = "every performance run must last at least 600 s (mlperf.conf min_duration)"
_RULE_QUERIES = "query counts are fixed by mlperf.conf and early stopping"
_RULE_PSC = "performance_sample_count is fixed per benchmark by mlperf.conf"

_KNOBS = [
    # LoadGen scenario targets: tuning knobs, allowed in every profile.
    Knob("offline_expected_qps", float, positive=True, scenarios=("Offline",),
         loadgen_attr="offline_expected_qps", doc="expected Offline throughput (samples/s)"),
    Knob("server_target_qps", float, positive=True, scenarios=("Server",),
         loadgen_attr="server_target_qps", doc="Server arrival rate (queries/s)"),
    Knob("single_stream_expected_latency_ns", int, positive=True, scenarios=("SingleStream",),
         loadgen_attr="single_stream_expected_latency_ns", doc="expected SingleStream latency (ns)"),
    Knob("multi_stream_expected_latency_ns", int, positive=True, scenarios=("MultiStream",),
         loadgen_attr="multi_stream_expected_latency_ns", doc="expected MultiStream latency (ns)"),
    # LoadGen settings that MLPerf's rules fix.
    Knob("server_target_latency_ns", int, positive=True, scenarios=("Server",),
         loadgen_attr="server_target_latency_ns",
         rule="the Server latency bound is fixed per benchmark by mlperf.conf",
         doc="Server latency bound (ns)"),
    Knob("multi_stream_samples_per_query", int, positive=True, scenarios=("MultiStream",),
         loadgen_attr="multi_stream_samples_per_query",
         rule="MultiStream queries hold 8 samples (mlperf.conf)"),
    Knob("min_duration", int, positive=True, loadgen_attr="min_duration_ms", rule=_RULE_DURATION,
         doc="minimum run duration (ms)"),
    Knob("max_duration", int, minimum=0, loadgen_attr="max_duration_ms", rule=_RULE_DURATION,
         doc="maximum run duration (ms, 0 = none)"),
    Knob("min_query_count", int, positive=True, loadgen_attr="min_query_count", rule=_RULE_QUERIES),
    Knob("max_query_count", int, minimum=0, loadgen_attr="max_query_count", rule=_RULE_QUERIES),
    Knob("performance_sample_count", int, positive=True,
         loadgen_attr="performance_sample_count_override", rule=_RULE_PSC),
    # Harness knobs.
    Knob("gpu_batch_size", int, positive=True, doc="samples per inference call"),
    Knob("num_warmups", int, minimum=0, doc="inference calls before LoadGen starts"),
    # Knobs of a GPU harness's SUT (NVIDIA's flag names): a harness or backend says which it honours.
    Knob("gpu_copy_streams", int, positive=True),
    Knob("gpu_inference_streams", int, positive=True),
    Knob("use_graphs", bool),
    Knob("use_deque_limit", bool),
    Knob("deque_timeout_usec", int, positive=True),
    Knob("start_from_device", bool),
    Knob("end_on_device", bool),
    Knob("soft_drop", float, positive=True),
    Knob("workspace_size", int, positive=True),
    Knob("use_small_tile_gemm_plugin", bool),
    Knob("server_target_qps_adj_factor", float, positive=True, scenarios=("Server",),
         doc="factor NVIDIA's harness multiplies server_target_qps by (its audits use 0.92)"),
]

KNOBS: dict[str, Knob] = {k.name: k for k in _KNOBS}
