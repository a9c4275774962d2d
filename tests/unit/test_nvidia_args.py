"""Suite knobs -> NVIDIA's code.main arguments: a golden file per shipped suite, benchmark, scenario, mode
and version (what NVIDIA's code receives for a case of a shipped per-GPU suite); and the knobs NVIDIA's
code would ignore or misread."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pytest_mlperf_nv.errors import SuiteError
from pytest_mlperf_nv.harness.nvidia.args import (
    ArgumentError,
    audit_harness_args,
    generate_engines_args,
    run_harness_args,
)
from pytest_mlperf_nv.systems.profiles import get_profile
from pytest_mlperf_nv.systems.snapshot import read_snapshot
from tests.conformance.shipped import SNAPSHOTS, SUITE_SNAPSHOTS, load_shipped

GOLDEN = yaml.safe_load((Path(__file__).parent.parent / "data" / "nvidia_args_golden.yaml").read_text())


def _case(suite_name: str, benchmark: str, scenario: str, mode: str, version: str):
    facts = read_snapshot(SNAPSHOTS / f"{SUITE_SNAPSHOTS[suite_name][0]}.json")
    suite = load_shipped(suite_name, facts, version)
    return next(c for c in suite.cases if (c.benchmark, c.scenario, c.mode) == (benchmark, scenario, mode))


@pytest.mark.parametrize("entry", GOLDEN, ids=lambda e: "-".join(
    str(e[k]) for k in ("suite", "benchmark", "scenario", "mode", "version")))
def test_golden_argument_lists(entry: dict) -> None:
    case = _case(entry["suite"], entry["benchmark"], entry["scenario"], entry["mode"], entry["version"])
    knobs = {name: sourced.value for name, sourced in case.knobs.items()}
    call = lambda: run_harness_args(entry["benchmark"], entry["scenario"], entry["mode"], knobs,  # noqa: E731
                                    version=entry["version"], profile="quick", quick_duration_ms=1000)
    if "error" in entry:
        with pytest.raises(ArgumentError, match=entry["error"]):
            call()
    else:
        assert list(call().args) == entry["args"]


def test_on_a_gpu_nvidia_knows_its_config_is_the_default_and_profile_knobs_are_not_overrides() -> None:
    # The h100 profile says retinanet Offline batch 8 (the seed's 80 GiB bucket); NVIDIA's H100 config 48.
    assert get_profile("h100").knobs("retinanet", "Offline")["gpu_batch_size"] != 48
    assert _case("h100", "retinanet", "Offline", "performance", "v4.1").knobs == {}
    # The l4 profile turns use_graphs on for resnet50 Server, which NVIDIA's L4 config leaves off.
    assert get_profile("l4").knobs("resnet50", "Server")["use_graphs"] is True
    assert "use_graphs" not in _case("l4", "resnet50", "Server", "performance", "v4.1").knobs
    # On a GPU NVIDIA does not know, the profile's values are the generated config's.
    assert _case("rtx_4090", "resnet50", "Offline", "performance", "v4.1").knobs["gpu_batch_size"].value == 64


def test_seed_precedence_l4_resnet50_server_batch_16() -> None:
    assert get_profile("l4").knobs("resnet50", "Server")["gpu_batch_size"] == 16


@pytest.mark.parametrize(("knobs", "message"), [
    ({"use_graphs": False}, "use_graphs: false cannot be passed to NVIDIA's code"),
    ({"precision_mode": 1}, "precision_mode has no NVIDIA code.main flag"),
    ({"num_warmups": 4}, "num_warmups is no field of NVIDIA's v4.1 code"),
])
def test_knobs_nvidia_would_ignore_or_misread_are_errors(knobs: dict, message: str) -> None:
    with pytest.raises(ArgumentError, match=message):
        run_harness_args("resnet50", "Offline", "performance", knobs, version="v4.1", profile="quick")


def test_engine_arguments_keep_only_what_shapes_the_engine() -> None:
    args = generate_engines_args("bert-99.9", "Offline", {"gpu_batch_size": 16, "offline_expected_qps": 5,
                                                          "use_graphs": True}, version="v4.1").args
    assert list(args) == ["--benchmarks=bert-99.9", "--scenarios=offline", "--accuracy_target=0.999",
                          "--gpu_batch_size=bert:16", "--use_graphs", "--action=generate_engines"]


def test_flags_go_to_the_action_that_reads_them() -> None:
    knobs = {"gpu_batch_size": 8, "workspace_size": 2**30, "offline_expected_qps": 10.0}
    run = run_harness_args("retinanet", "Offline", "performance", knobs, version="v4.1",
                           profile="official").args
    engines = generate_engines_args("retinanet", "Offline", knobs, version="v4.1").args
    # NVIDIA reads workspace_size at generate_engines only (code/common/fields.py Fields.workspace_size).
    assert not any(a.startswith("--workspace_size") for a in run)
    assert f"--workspace_size={2**30}" in engines


def test_audits_run_as_nvidias_makefile_runs_them() -> None:
    server = run_harness_args("resnet50", "Server", "performance", {"gpu_batch_size": 8}, version="v4.1",
                              profile="quick")
    assert "--server_target_qps_adj_factor=0.92" in audit_harness_args(server, "TEST01").args
    assert "--server_target_qps_adj_factor=0.96" in audit_harness_args(server, "TEST05").args
    offline = run_harness_args("resnet50", "Offline", "performance", {}, version="v4.1", profile="quick")
    assert not any("adj_factor" in a for a in audit_harness_args(offline, "TEST01").args)
    own = run_harness_args("resnet50", "Server", "performance", {"server_target_qps_adj_factor": 0.9},
                           version="v4.1", profile="quick")
    assert [a for a in audit_harness_args(own, "TEST04").args if "adj_factor" in a] == [
        "--server_target_qps_adj_factor=0.9"]


def test_official_profile_passes_no_duration_override() -> None:
    args = run_harness_args("resnet50", "Offline", "performance", {"gpu_batch_size": 64}, version="v4.1",
                            profile="official").args
    assert "--test_run" not in args and not any(a.startswith("--min_duration") for a in args)


def _suite(tmp_path: Path, body: str, gpu: str = "h100") -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(f"mlperf_suite: 1\nharness: nvidia\nsystem: {{gpu: {gpu}}}\nbenchmarks:\n{body}")
    return path


def _load(path: Path):
    from pytest_mlperf_nv.harness.nvidia.args import check_suite
    from pytest_mlperf_nv.plugin import pytest_mlperf_register
    from pytest_mlperf_nv.registry import Registry
    from pytest_mlperf_nv.suite.profiles import apply_profile
    from pytest_mlperf_nv.suite.schema import load_suite

    registry = Registry()
    pytest_mlperf_register(registry)
    suite = load_suite(path, registry)
    apply_profile(suite, lambda: None)
    check_suite(suite)
    return suite


@pytest.mark.parametrize(("body", "where", "rule"), [
    ("  resnet50:\n    scenarios:\n      Server: {soft_drop: 0.99}\n", "7:", "only for bert"),
    ("  bert-99:\n    scenarios:\n      Server: {use_deque_limit: true}\n", "7:",
     "only for resnet50, retinanet, 3d-unet"),
    ("  resnet50:\n    scenarios:\n      Offline: {end_on_device: true}\n", "7:", "only for 3d-unet"),
])
def test_a_knob_nvidia_does_not_read_is_refused_at_collection_with_nvidias_rule(
        tmp_path: Path, body: str, where: str, rule: str) -> None:
    with pytest.raises(SuiteError) as info:
        _load(_suite(tmp_path, body))
    message = str(info.value)
    assert f"{tmp_path / 's.yaml'}:{where}" in message and rule in message
    assert "code/common/fields.py" in message and "would drop it without a word" in message


def test_start_from_device_only_on_the_systems_nvidia_lists(tmp_path: Path) -> None:
    body = "  resnet50:\n    scenarios:\n      Offline: {start_from_device: true}\n"
    assert _load(_suite(tmp_path, body, gpu="h100")).cases[0].knob("start_from_device") is True
    with pytest.raises(SuiteError, match="start_from_device_enabled lists.*L4x1 is not one of them"):
        _load(_suite(tmp_path, body, gpu="l4"))


def test_a_case_nvidia_has_no_config_for_is_skipped_with_the_reason(tmp_path: Path) -> None:
    suite = _load(_suite(tmp_path, "  llama2-70b-99:\n    scenarios: [Offline]\n"))
    assert all("registers no llama2-70b-99 Offline config for H100_SXM_80GBx1" in c.skip_reason
               for c in suite.cases)


def test_values_that_reach_make_are_checked(tmp_path: Path) -> None:
    from pytest_mlperf_nv.harness.nvidia.run import ensure_make_stage

    with pytest.raises(ValueError, match="refusing to pass"):
        ensure_make_stage("download_model", code_dir=tmp_path, logs=tmp_path, timeout_s=5,
                          benchmark="resnet50; rm -rf /")
    with pytest.raises(ValueError, match="not a make stage"):
        ensure_make_stage("clean", code_dir=tmp_path, logs=tmp_path, timeout_s=5)
    assert not list(tmp_path.rglob("make-*"))


def test_a_stage_nvidia_ships_no_script_for_is_not_run_and_says_why(tmp_path: Path) -> None:
    from pytest_mlperf_nv.harness.nvidia.run import ensure_make_stage, stage_missing

    why = stage_missing(tmp_path, "download_model", "dlrm-v2")
    assert "no code/dlrm-v2/tensorrt/download_model.sh" in why and "by hand" in why
    assert ensure_make_stage("download_model", code_dir=tmp_path, logs=tmp_path, timeout_s=5,
                             benchmark="dlrm-v2") == (False, None)
    assert stage_missing(tmp_path, "build", None) is None


def test_on_a_gpu_nvidia_does_not_know_a_case_without_the_generated_configs_knobs_is_skipped(
        tmp_path: Path) -> None:
    suite = _load(_suite(tmp_path, "  resnet50:\n    scenarios: [Offline]\n", gpu="rtx_4090"))
    reason = suite.cases[0].skip_reason
    assert "the generated config needs offline_expected_qps" in reason
    assert "--mlperf-set resnet50.Offline.offline_expected_qps=VALUE" in reason
    body = "  resnet50:\n    scenarios:\n      Offline: {offline_expected_qps: 900}\n"
    assert _load(_suite(tmp_path, body, gpu="rtx_4090")).cases[0].skip_reason is None


def test_gpu_auto_on_a_gpu_nvidia_knows_keeps_nvidias_config_as_the_default(tmp_path: Path) -> None:
    """``system.gpu: auto`` resolved to h100 on an H100 machine: as with ``gpu: h100``, the profile's
    knobs are no overrides of NVIDIA's H100 config (collection calls check_suite without the machine)."""
    from pytest_mlperf_nv.harness.nvidia.args import check_suite
    from pytest_mlperf_nv.plugin import pytest_mlperf_register
    from pytest_mlperf_nv.registry import Registry
    from pytest_mlperf_nv.suite.profiles import apply_profile
    from pytest_mlperf_nv.suite.schema import load_suite

    registry = Registry()
    pytest_mlperf_register(registry)
    facts = read_snapshot(SNAPSHOTS / "h100x1.json")
    suite = load_suite(_suite(tmp_path, "  retinanet: {scenarios: [Offline]}\n", gpu="auto"), registry)
    apply_profile(suite, lambda: facts)
    assert suite.gpu_profile == "h100"
    assert any(str(s.source).startswith("GPU profile h100") for s in suite.cases[0].knobs.values())
    check_suite(suite)
    assert suite.cases[0].knobs == {} and suite.cases[0].skip_reason is None
