"""The MLPerf rules registry: literal values with their sources, and agreement with the installed LoadGen."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_mlperf_nv.benchmarks import mlperf
from pytest_mlperf_nv.benchmarks.mlperf import seeds
from pytest_mlperf_nv.harness.logs import read_detail

B = mlperf.MLPERF_BENCHMARKS
SS, MS, SRV, OFF, INT = "SingleStream", "MultiStream", "Server", "Offline", "Interactive"
DC, EDGE, BOTH = "datacenter", "edge", "datacenter,edge"

# --------------------------------------------------------------------------------------------------
# 1. literal values. Sources: mlcommons/inference: tools/submission/submission_checker/constants.py
#    (performance-sample-count, OFFLINE_MIN_SPQ_SINCE_V4, latency-constraint, accuracy-target,
#    required-scenarios-*, models_TEST0x) and loadgen/mlperf.conf.
# --------------------------------------------------------------------------------------------------

# name: (checker_name, conf_model, psc, min SPQ, Server bound ns, equal issue, token latencies)
IDENTITY = {
    "resnet50": ("resnet", "resnet50", 1024, 24576, 15_000_000, False, False),
    "retinanet": ("retinanet", "retinanet", 64, 24576, 100_000_000, False, False),
    "bert-99": ("bert-99", "bert", 10833, 10833, 130_000_000, False, False),
    "bert-99.9": ("bert-99.9", "bert", 10833, 10833, 130_000_000, False, False),
    "3d-unet-99": ("3d-unet-99", "3d-unet", 43, 43, None, True, False),
    "3d-unet-99.9": ("3d-unet-99.9", "3d-unet", 43, 43, None, True, False),
    "rnnt": ("rnnt", "rnnt", 2513, 2513, 1_000_000_000, False, False),
    "dlrm-v2-99": ("dlrm-v2-99", "dlrm-v2", 204800, 24576, 60_000_000, False, False),
    "dlrm-v2-99.9": ("dlrm-v2-99.9", "dlrm-v2", 204800, 24576, 60_000_000, False, False),
    "gptj-99": ("gptj-99", "gptj", 13368, 13368, 20_000_000_000, True, False),
    "llama2-70b-99": ("llama2-70b-99", "llama2-70b", 24576, 24576, 20_000_000_000, True, True),
    "llama3.1-8b": ("llama3.1-8b", "llama3_1-8b", 13368, 13368, 20_000_000_000, True, True),
}

# name: (dataset accuracy sample count, {metric: threshold at the benchmark's level})
ACCURACY = {
    "resnet50": (50000, {"acc": 75.6954}),
    "retinanet": (24781, {"mAP": 37.1745}),
    "bert-99": (10833, {"F1": 89.96526}),
    "bert-99.9": (10833, {"F1": 90.783126}),
    "3d-unet-99": (43, {"DICE": 0.853083}),
    "3d-unet-99.9": (43, {"DICE": 0.860838}),
    "rnnt": (2513, {"WER": 91.62252}),
    "dlrm-v2-99": (330067, {"AUC": 79.5069}),
    "dlrm-v2-99.9": (330067, {"AUC": 80.22969}),
    "gptj-99": (13368, {"ROUGE1": 42.556635, "ROUGE2": 19.922265, "ROUGEL": 29.688219, "GEN_LEN": 3615190.2}),
    "llama2-70b-99": (
        24576,
        {"ROUGE1": 43.986888, "ROUGE2": 21.814848, "ROUGEL": 28.330038, "TOKENS_PER_SAMPLE": 265.005},
    ),
    "llama3.1-8b": (
        13368,
        {
            "ROUGE1": 38.391408,
            "ROUGE2": 15.748425,
            "ROUGEL": 24.250743,
            "ROUGELSUM": 35.43507,
            "GEN_LEN": 7350879.6,
        },
    ),
}

# (name, round) -> (present, {system type: required scenarios}, compliance tests)
# v5.0 from mlcommons/inference@5e903956 submission_checker.py; v6.0 from constants.py MODEL_CONFIG["v6.0"];
# v6.1 from master constants.py (drops retinanet, dlrm-v2, llama2-70b-99; resnet keeps edge SS/MS/Off).
ROUND_RULES = {
    ("resnet50", "v5.0"): (True, {DC: (SRV, OFF), EDGE: (SS, MS, OFF), BOTH: None}, ("TEST01", "TEST04")),
    ("resnet50", "v6.0"): (
        True,
        {DC: (), EDGE: (SS, MS, OFF), BOTH: (SS, MS, SRV, OFF)},
        ("TEST01", "TEST04"),
    ),
    ("resnet50", "v6.1"): (True, {DC: None, EDGE: (SS, MS, OFF), BOTH: None}, None),
    ("retinanet", "v5.0"): (True, {DC: (SRV, OFF), EDGE: (SS, MS, OFF), BOTH: None}, ("TEST01",)),
    ("retinanet", "v6.0"): (True, {DC: (), EDGE: (), BOTH: (SS, MS, SRV, OFF)}, ("TEST01",)),
    ("retinanet", "v6.1"): (False, {DC: (), EDGE: (), BOTH: ()}, None),
    ("bert-99", "v5.0"): (True, {DC: (), EDGE: (SS, OFF), BOTH: None}, ("TEST01",)),
    ("bert-99", "v6.0"): (True, {DC: (), EDGE: (SS, OFF), BOTH: (SS, OFF)}, ("TEST01",)),
    ("bert-99.9", "v6.0"): (True, {DC: (), EDGE: (SS, OFF), BOTH: (SS, OFF)}, ("TEST01",)),
    ("bert-99", "v6.1"): (True, {DC: None, EDGE: None, BOTH: None}, None),
    ("3d-unet-99", "v5.0"): (True, {DC: (OFF,), EDGE: (SS, OFF), BOTH: None}, ("TEST01",)),
    ("3d-unet-99.9", "v6.0"): (True, {DC: (OFF,), EDGE: (SS, OFF), BOTH: (SS, OFF)}, ("TEST01",)),
    ("3d-unet-99", "v6.1"): (True, {DC: None, EDGE: None, BOTH: None}, None),
    ("rnnt", "v5.0"): (False, {DC: (), EDGE: (), BOTH: ()}, ()),
    ("rnnt", "v6.0"): (False, {DC: (), EDGE: (), BOTH: ()}, ()),
    ("rnnt", "v6.1"): (False, {DC: (), EDGE: (), BOTH: ()}, ()),
    ("dlrm-v2-99", "v5.0"): (True, {DC: (SRV, OFF), EDGE: (), BOTH: None}, ("TEST01",)),
    ("dlrm-v2-99.9", "v6.0"): (False, {DC: (), EDGE: (), BOTH: ()}, ("TEST01",)),
    ("dlrm-v2-99", "v6.1"): (False, {DC: (), EDGE: (), BOTH: ()}, None),
    ("gptj-99", "v5.0"): (True, {DC: (SRV, OFF), EDGE: (SS, OFF), BOTH: None}, ()),
    ("gptj-99", "v6.0"): (False, {DC: (), EDGE: (), BOTH: ()}, ()),
    ("gptj-99", "v6.1"): (False, {DC: (), EDGE: (), BOTH: ()}, ()),
    ("llama2-70b-99", "v5.0"): (True, {DC: (SRV, OFF), EDGE: (), BOTH: None}, ("TEST06",)),
    ("llama2-70b-99", "v6.0"): (True, {DC: (OFF,), EDGE: (), BOTH: (OFF,)}, ("TEST06",)),
    ("llama2-70b-99", "v6.1"): (False, {DC: (), EDGE: (), BOTH: ()}, None),
    ("llama3.1-8b", "v5.0"): (False, {DC: (), EDGE: (), BOTH: ()}, ()),
    ("llama3.1-8b", "v6.0"): (True, {DC: (OFF,), EDGE: (), BOTH: (OFF,)}, ("TEST06",)),
    ("llama3.1-8b", "v6.1"): (True, {DC: None, EDGE: None, BOTH: None}, None),
}


def test_registry_lists_exactly_the_requested_benchmarks():
    assert set(B) == set(IDENTITY)
    for name, bench in B.items():
        assert bench.name == name
        assert set(bench.rounds) == {"v5.0", "v6.0", "v6.1"}
        for info in bench.rounds.values():
            assert set(info.required_scenarios) == set(mlperf.SYSTEM_TYPES)


@pytest.mark.parametrize("name", sorted(IDENTITY))
def test_identity_and_run_rules(name):
    checker, conf, psc, spq, bound, equal_issue, token = IDENTITY[name]
    b = mlperf.get(name)
    assert (b.checker_name, b.conf_model) == (checker, conf)
    assert b.performance_sample_count == psc
    assert b.offline_min_samples_per_query == spq
    assert b.server_latency_bound_ns == bound
    assert b.equal_issue is equal_issue
    assert b.token_latencies is token


@pytest.mark.parametrize("name", sorted(ACCURACY))
def test_accuracy_thresholds(name):
    count, thresholds = ACCURACY[name]
    b = B[name]
    assert b.dataset.accuracy_sample_count == count
    got = b.thresholds()
    assert set(got) == set(thresholds)
    for metric, value in thresholds.items():
        assert got[metric] == pytest.approx(value, rel=1e-9), metric


def test_accuracy_reference_times_level_gives_threshold():
    # constants.py writes each target as reference * 0.99 (or 0.999; GEN_LEN/TOKENS_PER_SAMPLE * 0.9)
    for b in B.values():
        for m in b.accuracy.metrics:
            if m.reference is None:
                continue
            factor = 0.9 if m.name in ("GEN_LEN", "TOKENS_PER_SAMPLE") else 0.99
            assert m.threshold_99 == pytest.approx(m.reference * factor, rel=1e-6), (b.name, m.name)
            if m.threshold_99_9 is not None and factor == 0.99:
                assert m.threshold_99_9 == pytest.approx(m.reference * 0.999, rel=1e-6), (b.name, m.name)


def test_upper_limits_and_token_limits():
    assert B["llama2-70b-99"].accuracy.metric("TOKENS_PER_SAMPLE").upper_limit == pytest.approx(323.895)
    assert B["llama3.1-8b"].accuracy.metric("GEN_LEN").upper_limit == pytest.approx(8984408.4)
    l2, l3 = B["llama2-70b-99"], B["llama3.1-8b"]
    assert (l2.server_ttft_ns, l2.server_tpot_ns) == (2_000_000_000, 200_000_000)  # mlperf.conf
    assert (l2.interactive_ttft_ns, l2.interactive_tpot_ns) == (450_000_000, 40_000_000)  # mlperf.conf
    assert (l3.server_ttft_ns, l3.server_tpot_ns) == (2_000_000_000, 100_000_000)  # mlperf.conf
    assert (l3.interactive_ttft_ns, l3.interactive_tpot_ns) == (500_000_000, 30_000_000)  # mlperf.conf
    gptj = B["gptj-99"]
    assert gptj.infer_token_latencies and gptj.token_latency_scaling_factor == 69  # mlperf.conf
    assert B["3d-unet-99"].conf_performance_sample_count == 0  # mlperf.conf: 0 = the QSL size
    assert B["3d-unet-99"].accuracy.metric("DICE").reference == 0.86170  # checker, not the policy's 0.86330


@pytest.mark.parametrize(("name", "round_"), sorted(ROUND_RULES))
def test_round_rules(name, round_):
    present, required, compliance = ROUND_RULES[(name, round_)]
    b = B[name]
    assert b.accepted_in(round_) is present
    for system_type, scenarios in required.items():
        assert b.required_scenarios(round_, system_type) == scenarios, system_type
    assert b.round(round_).compliance_tests == compliance


def test_optional_scenarios_for_llms():
    for name in ("llama2-70b-99", "llama3.1-8b"):
        assert B[name].optional_scenarios("v6.0", DC) == (SRV, INT)
        assert B[name].optional_scenarios("v6.0", "edge,datacenter") == (SRV, INT)
    assert B["resnet50"].optional_scenarios("v6.0", DC) == ()
    assert B["retinanet"].optional_scenarios("v6.1", EDGE) == ()


def test_accepted_in_round():
    assert {b.name for b in mlperf.accepted_in("v6.0")} == {
        "resnet50", "retinanet", "bert-99", "bert-99.9", "3d-unet-99", "3d-unet-99.9", "llama2-70b-99",
        "llama3.1-8b",
    }  # fmt: skip
    assert {b.name for b in mlperf.accepted_in("v6.1")} == {
        "resnet50", "bert-99", "bert-99.9", "3d-unet-99", "3d-unet-99.9", "llama3.1-8b",
    }  # fmt: skip
    assert "gptj-99" in {b.name for b in mlperf.accepted_in("v5.0")}


def test_lookups_and_did_you_mean():
    assert mlperf.get("resnet") is B["resnet50"]  # a checker name works too
    assert mlperf.by_checker_name("resnet") is B["resnet50"]
    assert [b.name for b in mlperf.by_conf_model("bert")] == ["bert-99", "bert-99.9"]
    assert [b.name for b in mlperf.by_conf_model("3d-unet")] == ["3d-unet-99", "3d-unet-99.9"]
    with pytest.raises(KeyError, match="did you mean 'bert-99'"):
        mlperf.get("bert99")
    with pytest.raises(KeyError, match="did you mean 'llama3_1-8b'"):
        mlperf.by_conf_model("llama3.1-8b")
    with pytest.raises(KeyError, match="unknown MLPerf checker name"):
        mlperf.by_checker_name("nothing-like-it")
    with pytest.raises(ValueError, match="system_type"):
        B["resnet50"].required_scenarios("v6.0", "cloud")
    with pytest.raises(KeyError, match="no data for round"):
        B["resnet50"].round("v4.0")


def test_benchmarks_are_frozen():
    with pytest.raises(AttributeError):
        B["resnet50"].performance_sample_count = 1  # type: ignore[misc]


# --------------------------------------------------------------------------------------------------
# seeds
# --------------------------------------------------------------------------------------------------


def test_seed_table_and_wheels():
    assert seeds.SEEDS["v6.0"].as_tuple() == (2465351861681999779, 14276810075590677512, 3936089224930324775)
    assert seeds.SEEDS["v6.1"].as_tuple() == (2085463073848966840, 2747215439041700203, 16159082839903944936)
    assert seeds.round_of_seeds(6023615788873153749, 15036839855038426416, 9933818062894767841) == "v5.0"
    assert seeds.round_of_seeds(1, 2, 3) is None
    assert seeds.round_of_loadgen_version("6.0.17 @ d6147c7eb7") == "v6.1"
    assert seeds.round_of_loadgen_version("6.0.15") == "v6.0"
    assert seeds.round_of_loadgen_version("6.0.4") == "v5.1"
    assert seeds.round_of_loadgen_version("5.0.9") == "v5.0"
    assert seeds.round_of_loadgen_version("4.1.7") == "v4.1"
    assert seeds.round_of_loadgen_version("4.0.1") is None
    assert seeds.install_hint("v6.0") == "install mlcommons-loadgen==6.0.15 for v6.0 seeds"
    assert seeds.install_hint("v5.1") == "install mlcommons-loadgen==6.0.4 for v5.1 seeds"


def test_round_of_detail_mapping():
    s = seeds.SEEDS["v6.0"]
    detail = {
        "effective_qsl_rng_seed": s.qsl,
        "effective_sample_index_rng_seed": str(s.sample_index),
        "effective_schedule_rng_seed": s.schedule,
        "loadgen_version": "6.0.15 @ 3546c66b9e",
    }
    assert seeds.round_of_detail(detail) == "v6.0"
    assert seeds.seed_mismatch_message(detail, "v6.0") is None
    assert seeds.round_of_detail({}) is None
    zeros = {f"effective_{k}": 0 for k in seeds.SEED_KEYS}
    assert seeds.round_of_detail(zeros) is None  # no FromConfig call: seeds are 0
    message = seeds.seed_mismatch_message({**detail, "loadgen_version": "6.0.17"}, "v6.1")
    assert message is not None and "install mlcommons-loadgen==6.0.17 for v6.1 seeds" in message


# --------------------------------------------------------------------------------------------------
# 2. agreement with the mlperf.conf compiled into the installed LoadGen (conf_type 0 only: no
#    once-per-process user.conf counter is involved, so one child process reads every model).
# --------------------------------------------------------------------------------------------------

_READ_CONF = textwrap.dedent(
    """
    import json, sys
    import mlperf_loadgen as lg

    def read(model, scenario):
        s = lg.TestSettings()
        rc = s.FromConfig("", model, scenario, 0)
        return {
            "rc": rc,
            "psc": s.performance_sample_count_override,
            "min_query_count": s.min_query_count,
            "server_target_latency_ns": s.server_target_latency_ns,
            "equal_issue": bool(s.sample_concatenate_permutation),
            "use_token_latencies": bool(s.use_token_latencies),
            "infer_token_latencies": bool(s.infer_token_latencies),
            "token_latency_scaling_factor": s.token_latency_scaling_factor,
            "ttft_latency": s.ttft_latency,
            "tpot_latency": s.tpot_latency,
        }

    models = json.loads(sys.argv[1])
    bare = lg.TestSettings()
    out = {"default_min_query_count": bare.min_query_count,
           "default_server_target_latency_ns": bare.server_target_latency_ns}
    for m in models:
        out[m] = {sc: read(m, sc) for sc in ("Offline", "Server")}
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def conf_values():
    pytest.importorskip("mlperf_loadgen")
    models = sorted(
        {b.conf_model for b in B.values()} | {b.conf_model_interactive for b in B.values()} - {None}
    )
    proc = subprocess.run(
        [sys.executable, "-c", _READ_CONF, json.dumps(models)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    values = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps(values, indent=1))  # what LoadGen read back, for the record (-s shows it)
    return values


def _known(values, model):
    """LoadGen applies no key for a model it does not know: every value stays at its default."""
    off = values[model]["Offline"]
    return off["psc"] != 0 or off["min_query_count"] != values["default_min_query_count"]


@pytest.mark.parametrize("name", sorted(IDENTITY))
def test_registry_matches_installed_mlperf_conf(conf_values, name):
    b = B[name]
    if not _known(conf_values, b.conf_model):
        pytest.skip(f"installed LoadGen's mlperf.conf has no model {b.conf_model!r}")
    off, srv = conf_values[b.conf_model]["Offline"], conf_values[b.conf_model]["Server"]
    assert off["rc"] == 0 and srv["rc"] == 0
    # psc: mlperf.conf 0 means "use the QSL's own performance count" (3d-unet: 43 cases)
    assert off["psc"] == b.conf_performance_sample_count
    effective_psc = off["psc"] or b.dataset.accuracy_sample_count
    assert effective_psc == b.performance_sample_count
    assert off["min_query_count"] == b.offline_min_samples_per_query
    assert off["equal_issue"] is b.equal_issue
    assert off["use_token_latencies"] is b.token_latencies
    assert off["infer_token_latencies"] is b.infer_token_latencies
    if b.token_latency_scaling_factor is not None:
        assert off["token_latency_scaling_factor"] == b.token_latency_scaling_factor
    if b.token_latencies:
        # Measured (6.0.17): token-latency LLMs have Server.target_latency = 0 in mlperf.conf; the bound
        # is TTFT/TPOT. The registry's server_latency_bound_ns is the checker's latency-constraint.
        assert srv["server_target_latency_ns"] == 0
        assert (srv["ttft_latency"], srv["tpot_latency"]) == (b.server_ttft_ns, b.server_tpot_ns)
        inter = conf_values[b.conf_model_interactive]["Server"]
        assert (inter["ttft_latency"], inter["tpot_latency"]) == (
            b.interactive_ttft_ns,
            b.interactive_tpot_ns,
        )
    elif b.server_latency_bound_ns is not None:
        assert srv["server_target_latency_ns"] == b.server_latency_bound_ns
    else:
        # no Server for this model: the global default (*.Server.target_latency = 10 ms) applies
        assert srv["server_target_latency_ns"] == 10_000_000


# --------------------------------------------------------------------------------------------------
# 3. the installed LoadGen logs the seeds of the round its version says (6.0.17: v6.1)
# --------------------------------------------------------------------------------------------------

_TINY_RUN = textwrap.dedent(
    """
    import sys
    import mlperf_loadgen as lg

    outdir, audit = sys.argv[1], sys.argv[2]
    settings = lg.TestSettings()
    assert settings.FromConfig("", "resnet50", "Offline", 0) == 0
    settings.scenario = lg.TestScenario.Offline
    settings.mode = lg.TestMode.PerformanceOnly
    settings.min_duration_ms = 50
    settings.min_query_count = 100
    settings.offline_expected_qps = 1000

    def issue(samples):
        lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0) for s in samples])

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(16, 16, lambda idx: None, lambda idx: None)
    log_output = lg.LogOutputSettings()
    log_output.outdir = outdir
    log_settings = lg.LogSettings()
    log_settings.log_output = log_output
    log_settings.enable_trace = False
    lg.StartTestWithLogSettings(sut, qsl, settings, log_settings, audit)
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)
    """
)


def test_installed_loadgen_logs_its_rounds_seeds(tmp_path: Path):
    lg = pytest.importorskip("mlperf_loadgen")
    del lg
    outdir = tmp_path / "logs"
    outdir.mkdir()  # LoadGen does not create it
    proc = subprocess.run(
        [sys.executable, "-c", _TINY_RUN, str(outdir), str(tmp_path / "no-audit.config")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    detail, _records = read_detail(outdir / "mlperf_log_detail.txt")
    version = str(detail["loadgen_version"])
    expected = seeds.round_of_loadgen_version(version)
    assert seeds.round_of_detail(detail) == expected, version
    if version.startswith("6.0.17 "):
        assert expected == "v6.1"
        assert seeds.seed_mismatch_message(detail, "v6.0") == (
            f"LoadGen {version} logged v6.1 seeds, the v6.0 checker needs other seeds: "
            "install mlcommons-loadgen==6.0.15 for v6.0 seeds"
        )
