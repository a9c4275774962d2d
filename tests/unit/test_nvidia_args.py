"""Suite knobs -> NVIDIA's code.main arguments: a hand-written golden file per profile, benchmark,
scenario, mode and version; and the knobs NVIDIA's code would ignore or misread."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pytest_mlperf_nv.harness.nvidia.args import ArgumentError, generate_engines_args, run_harness_args
from pytest_mlperf_nv.suite.knobs import KNOBS
from pytest_mlperf_nv.systems.profiles import get_profile

GOLDEN = yaml.safe_load((Path(__file__).parent.parent / "data" / "nvidia_args_golden.yaml").read_text())


@pytest.mark.parametrize("entry", GOLDEN, ids=lambda e: "-".join(
    str(e[k]) for k in ("profile", "benchmark", "scenario", "mode", "version")))
def test_golden_argument_lists(entry: dict) -> None:
    profile = get_profile(entry["profile"])
    knobs = {k: v for k, v in profile.knobs(entry["benchmark"], entry["scenario"]).items() if k in KNOBS}
    call = lambda: run_harness_args(entry["benchmark"], entry["scenario"], entry["mode"], knobs,  # noqa: E731
                                    version=entry["version"], profile="quick", quick_duration_ms=1000)
    if "error" in entry:
        with pytest.raises(ArgumentError, match=entry["error"]):
            call()
    else:
        assert list(call().args) == entry["args"]


def test_seed_precedence_l4_resnet50_server_batch_16() -> None:
    assert get_profile("l4").knobs("resnet50", "Server")["gpu_batch_size"] == 16


@pytest.mark.parametrize(("knobs", "message"), [
    ({"use_graphs": False}, "use_graphs: false cannot be passed to NVIDIA's code"),
    ({"precision_mode": 1}, "precision_mode has no NVIDIA code.main flag"),
])
def test_knobs_nvidia_would_ignore_or_misread_are_errors(knobs: dict, message: str) -> None:
    with pytest.raises(ArgumentError, match=message):
        run_harness_args("resnet50", "Offline", "performance", knobs, version="v4.1", profile="quick")


def test_engine_arguments_keep_only_what_shapes_the_engine() -> None:
    args = generate_engines_args("bert-99.9", "Offline", {"gpu_batch_size": 16, "offline_expected_qps": 5,
                                                          "use_graphs": True}, version="v4.1").args
    assert list(args) == ["--benchmarks=bert-99.9", "--scenarios=offline", "--accuracy_target=0.999",
                          "--gpu_batch_size=bert:16", "--use_graphs", "--action=generate_engines"]


def test_official_profile_passes_no_duration_override() -> None:
    args = run_harness_args("resnet50", "Offline", "performance", {"gpu_batch_size": 64}, version="v4.1",
                            profile="official").args
    assert "--test_run" not in args and not any(a.startswith("--min_duration") for a in args)


def test_values_that_reach_make_are_checked(tmp_path: Path) -> None:
    from pytest_mlperf_nv.harness.nvidia.run import ensure_make_stage

    with pytest.raises(ValueError, match="refusing to pass"):
        ensure_make_stage("download_model", code_dir=tmp_path, logs=tmp_path, timeout_s=5,
                          benchmark="resnet50; rm -rf /")
    with pytest.raises(ValueError, match="not a make stage"):
        ensure_make_stage("clean", code_dir=tmp_path, logs=tmp_path, timeout_s=5)
    assert not list(tmp_path.rglob("make-*"))
