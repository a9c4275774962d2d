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
    #: inclusive; every number must also be finite (no NaN, no infinity)
    maximum: float | None = None
    #: why the maximum is what it is (the type LoadGen or NVIDIA's harness keeps the value in)
    range_note: str = ""
    scenarios: tuple[str, ...] = SCENARIOS
    #: the TestSettings attribute this knob sets (None: not a LoadGen setting)
    loadgen_attr: str | None = None
    #: MLPerf's rules fix this value; the official profile refuses to change it
    rule: str | None = None
    doc: str = ""


INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1
#: LoadGen keeps durations as milliseconds and compares them with nanosecond clocks: more than
#: this many milliseconds overflows its 64-bit nanosecond count
DURATION_MS_MAX = INT64_MAX // 1_000_000
#: the longest ``timeout:`` a run may have (a year): a longer one means no timeout at all
TIMEOUT_MAX_S = 365 * 24 * 3600.0

_NS = "LoadGen keeps it as a 64-bit count of nanoseconds"
_U64 = "LoadGen's TestSettings field is a uint64"
_MS = "LoadGen converts milliseconds to a 64-bit count of nanoseconds"
_I32 = "the harnesses read it as a 32-bit int"
_I64 = "NVIDIA's harness reads it as a 64-bit int"
_QPS = "LoadGen's TestSettings field is a double; it must be finite"

_RULE_DURATION = "every performance run must last at least 600 s (mlperf.conf min_duration)"
_RULE_QUERIES = "query counts are fixed by mlperf.conf and early stopping"
_RULE_PSC = "performance_sample_count is fixed per benchmark by mlperf.conf"

_KNOBS = [
    # LoadGen scenario targets: tuning knobs, allowed in every profile.
    Knob("offline_expected_qps", float, positive=True, scenarios=("Offline",), range_note=_QPS,
         loadgen_attr="offline_expected_qps", doc="expected Offline throughput (samples/s)"),
    Knob("server_target_qps", float, positive=True, scenarios=("Server",), range_note=_QPS,
         loadgen_attr="server_target_qps", doc="Server arrival rate (queries/s)"),
    Knob("single_stream_expected_latency_ns", int, positive=True, scenarios=("SingleStream",),
         maximum=INT64_MAX, range_note=_NS,
         loadgen_attr="single_stream_expected_latency_ns", doc="expected SingleStream latency (ns)"),
    Knob("multi_stream_expected_latency_ns", int, positive=True, scenarios=("MultiStream",),
         maximum=INT64_MAX, range_note=_NS,
         loadgen_attr="multi_stream_expected_latency_ns", doc="expected MultiStream latency (ns)"),
    # LoadGen settings that MLPerf's rules fix.
    Knob("server_target_latency_ns", int, positive=True, scenarios=("Server",),
         maximum=INT64_MAX, range_note=_NS,
         loadgen_attr="server_target_latency_ns",
         rule="the Server latency bound is fixed per benchmark by mlperf.conf",
         doc="Server latency bound (ns)"),
    Knob("multi_stream_samples_per_query", int, positive=True, scenarios=("MultiStream",),
         maximum=UINT64_MAX, range_note=_U64,
         loadgen_attr="multi_stream_samples_per_query",
         rule="MultiStream queries hold 8 samples (mlperf.conf)"),
    Knob("min_duration", int, positive=True, loadgen_attr="min_duration_ms", rule=_RULE_DURATION,
         maximum=DURATION_MS_MAX, range_note=_MS,
         doc="minimum run duration (ms)"),
    Knob("max_duration", int, minimum=0, loadgen_attr="max_duration_ms", rule=_RULE_DURATION,
         maximum=DURATION_MS_MAX, range_note=_MS,
         doc="maximum run duration (ms, 0 = none)"),
    Knob("min_query_count", int, positive=True, loadgen_attr="min_query_count", rule=_RULE_QUERIES,
         maximum=UINT64_MAX, range_note=_U64),
    Knob("max_query_count", int, minimum=0, loadgen_attr="max_query_count", rule=_RULE_QUERIES,
         maximum=UINT64_MAX, range_note=_U64),
    Knob("performance_sample_count", int, positive=True, maximum=UINT64_MAX, range_note=_U64,
         loadgen_attr="performance_sample_count_override", rule=_RULE_PSC),
    # Harness knobs.
    Knob("gpu_batch_size", int, positive=True, maximum=INT32_MAX, range_note=_I32,
         doc="samples per inference call"),
    Knob("num_warmups", int, minimum=0, maximum=INT32_MAX, range_note=_I32,
         doc="inference calls before LoadGen starts"),
    # Knobs of a GPU harness's SUT (NVIDIA's flag names): a harness or backend says which it honours.
    Knob("gpu_copy_streams", int, positive=True, maximum=INT32_MAX, range_note=_I32),
    Knob("gpu_inference_streams", int, positive=True, maximum=INT32_MAX, range_note=_I32),
    Knob("use_graphs", bool),
    Knob("use_deque_limit", bool),
    Knob("deque_timeout_usec", int, positive=True, maximum=INT64_MAX, range_note=_I64),
    Knob("start_from_device", bool),
    Knob("end_on_device", bool),
    Knob("soft_drop", float, positive=True),
    Knob("workspace_size", int, positive=True, maximum=INT64_MAX, range_note=_I64),
    Knob("use_small_tile_gemm_plugin", bool),
    Knob("server_target_qps_adj_factor", float, positive=True, scenarios=("Server",),
         doc="factor NVIDIA's harness multiplies server_target_qps by (its audits use 0.92)"),
]

KNOBS: dict[str, Knob] = {k.name: k for k in _KNOBS}
