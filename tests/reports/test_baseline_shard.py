"""Baselines (thresholds, storage, comparison), NVIDIA's published figures, the benchmark-action
export, and the shard plan."""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_mlperf_nv.report.baseline import (
    BaselineError,
    baseline_path,
    benchmark_action_entries,
    compare_item,
    delta_column,
    load_baseline,
    machine_id,
    parse_threshold,
    save_baseline,
)
from pytest_mlperf_nv.report.published import accelerator_of, all_figures, published_figure
from pytest_mlperf_nv.report.shard import group_of, manifest, parse_shard, plan, plan_lines, selection_digest


def _item(
    key: str,
    *,
    value: float | None = 1000.0,
    unit: str = "samples/s",
    accuracy: float | None = None,
    outcome: str = "passed",
    p99: float | None = None,
) -> dict:
    return {
        "key": key,
        "nodeid": f"suites/x.yaml::{key}",
        "outcome": outcome,
        "verdict": "PASS",
        "profile": "quick",
        "run_dir": "runs/x",
        "metric": None if value is None else {"name": "samples_per_second", "value": value, "unit": unit},
        "accuracy": None if accuracy is None else {"metric": "top1", "value": accuracy, "unit": "%"},
        "latencies_ms": {} if p99 is None else {"p99": p99},
        "telemetry": None,
    }


# -- thresholds ------------------------------------------------------------------------------


def test_threshold_parsing() -> None:
    t = parse_threshold("metric:5%")
    assert (t.figure, t.value, t.relative) == ("metric", 5.0, True)
    t = parse_threshold("accuracy:0.1")
    assert (t.figure, t.value, t.relative) == ("accuracy", 0.1, False)
    for bad, says in (
        ("metric", "expected FIGURE:AMOUNT"),
        ("speed:5%", "FIGURE one of metric"),
        ("metric:fast", "not a number or a percentage"),
        ("metric:-5%", "cannot be negative"),
    ):
        with pytest.raises(BaselineError, match=says):
            parse_threshold(bad)


@pytest.mark.parametrize(
    ("baseline", "current", "better", "allowed"),
    [
        (1000.0, 950.0, "higher", True),  # exactly 5 % lower: at the threshold, allowed
        (1000.0, 949.0, "higher", False),  # beyond it
        (1000.0, 2000.0, "higher", True),  # better is always fine
        (10.0, 10.5, "lower", True),  # a latency 5 % higher
        (10.0, 10.6, "lower", False),
        (10.0, 1.0, "lower", True),
    ],
)
def test_relative_threshold_at_the_boundary(
    baseline: float, current: float, better: str, allowed: bool
) -> None:
    assert parse_threshold("metric:5%").allows(baseline, current, better) is allowed


def test_absolute_threshold() -> None:
    t = parse_threshold("accuracy:0.1")
    assert t.allows(97.2, 97.1, "higher")
    assert not t.allows(97.2, 97.05, "higher")


# -- storage and comparison ------------------------------------------------------------------


def test_machine_ids() -> None:
    gpu = SimpleNamespace(name="NVIDIA H200")
    assert machine_id(SimpleNamespace(gpus=(gpu, gpu), cpu_model="x")) == "nvidia-h200x2"
    assert (
        machine_id(SimpleNamespace(gpus=(), cpu_model="AMD EPYC 7313P 16-Core Processor"))
        == "cpu-amd-epyc-7313p-16-core-processor"
    )


def test_save_updates_items_and_compare_fails_at_the_threshold(tmp_path: Path) -> None:
    path = baseline_path(tmp_path, "nvidia-l4x1", "main")
    assert (
        save_baseline(
            path,
            "main",
            "nvidia-l4x1",
            [
                _item("l4::resnet50::Offline::performance"),
                _item("l4::resnet50::Server::performance", outcome="failed"),
            ],
        )
        == 1
    )
    assert (
        save_baseline(
            path,
            "main",
            "nvidia-l4x1",
            [_item("l4::resnet50::SingleStream::performance", value=2.0, unit="ms", p99=3.0)],
        )
        == 1
    )
    data = load_baseline(path)
    assert sorted(data["items"]) == [
        "l4::resnet50::Offline::performance",
        "l4::resnet50::SingleStream::performance",
    ]  # the failed run is no baseline
    fail = [parse_threshold("metric:5%"), parse_threshold("p99:10%")]
    same = compare_item(_item("l4::resnet50::Offline::performance", value=950.0), data, fail)
    assert not same["regressed"] and same["figures"]["metric"]["delta_pct"] == pytest.approx(-5.0)
    worse = compare_item(_item("l4::resnet50::Offline::performance", value=940.0), data, fail)
    assert worse["regressed"]
    assert worse["regressions"] == [
        "metric regressed beyond metric:5%: 940 samples/s against 1,000.0 samples/s in the baseline (-6.0 %)"
    ]
    slow = compare_item(
        _item("l4::resnet50::SingleStream::performance", value=2.05, unit="ms", p99=3.5), data, fail
    )
    assert slow["figures"]["metric"]["better"] == "lower" and not slow["figures"]["metric"]["regressed"]
    assert slow["figures"]["p99"]["regressed"] and slow["regressed"]
    assert compare_item(_item("l4::bert::Offline::performance"), data, fail) is None
    column = delta_column([{**_item("a"), "baseline": worse}, {**_item("b"), "baseline": None}])
    assert column == {"suites/x.yaml::a": "-6.0 % REGRESSED"}


def test_missing_or_bad_baselines_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="no baseline 'main' for machine m .*--mlperf-save-baseline"):
        load_baseline(baseline_path(tmp_path, "m", "main"))
    save_baseline(baseline_path(tmp_path, "m", "nightly"), "nightly", "m", [_item("k")])
    with pytest.raises(BaselineError, match="this machine has: nightly"):
        load_baseline(baseline_path(tmp_path, "m", "main"))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": 99}))
    with pytest.raises(BaselineError, match="not a pytest-mlperf-nv baseline"):
        load_baseline(bad)
    with pytest.raises(BaselineError, match="it becomes a file name"):
        baseline_path(tmp_path, "m", "../etc/passwd")


def test_benchmark_action_export() -> None:
    bigger, smaller = benchmark_action_entries(
        [
            _item("cpu::digits::Offline::performance"),
            _item("cpu::digits::SingleStream::performance", value=0.04, unit="ms"),
            _item("cpu::digits::Offline::accuracy", value=None, accuracy=97.2),
            _item("cpu::digits::Server::performance", outcome="failed"),
        ]
    )
    assert [(e["name"], e["unit"], e["value"]) for e in bigger] == [
        ("cpu::digits::Offline::performance samples_per_second", "samples/s", 1000.0),
        ("cpu::digits::Offline::accuracy accuracy", "%", 97.2),
    ]
    assert [(e["name"], e["unit"]) for e in smaller] == [
        ("cpu::digits::SingleStream::performance samples_per_second", "ms")
    ]
    assert all(set(e) == {"name", "unit", "value", "extra"} for e in bigger + smaller)


# -- published figures -----------------------------------------------------------------------


def test_published_figures_have_sources_and_match_nvml_names() -> None:
    assert accelerator_of("NVIDIA H200") == "H200-SXM-141GB"
    assert accelerator_of("NVIDIA H200 NVL") is None  # another part, another config
    assert accelerator_of(None) is None
    figure = published_figure("resnet50", "Offline", "NVIDIA H200")
    assert (figure.round, figure.per_gpu, figure.gpus) == ("v5.0", 95089.38, 8)
    assert figure.source.endswith(
        "H200-SXM-141GBx8_TRT/resnet50/Offline/performance/run_1/mlperf_log_summary.txt"
    )
    assert figure.describe(0.62).startswith("62 % of NVIDIA's published H200-SXM-141GB figure")
    assert published_figure("resnet50", "Offline", "NVIDIA L4").round == "v3.1"
    assert published_figure("digits", "Offline", "NVIDIA H200") is None
    for row in all_figures():
        assert row.per_gpu > 0 and row.gpus in (1, 8) and row.scenario in ("Offline", "Server")
        assert row.benchmark in row.source and row.system in row.source and row.scenario in row.source


# -- shards ----------------------------------------------------------------------------------


def _nodeids() -> list[str]:
    ids = [
        f"suites/l4.yaml::{b}::{s}::{m}"
        for b in ("resnet50", "bert-99", "retinanet", "3d-unet-99")
        for s in ("Offline", "Server")
        for m in ("performance", "accuracy")
    ]
    ids += [f"suites/l4.yaml::resnet50::{s}::TEST01" for s in ("Offline", "Server")]
    ids += ["suites/cpu.yaml::digits::Offline::performance", "tests/test_plain.py::test_one"]
    return ids


def test_shard_parsing() -> None:
    assert parse_shard("2/4") == (2, 4)
    assert parse_shard(" 1 / 1 ") == (1, 1)
    for bad in ("0/4", "5/4", "1/0", "2", "a/b"):
        with pytest.raises(ValueError):
            parse_shard(bad)


def test_plan_is_deterministic_complete_and_keeps_engine_groups_together() -> None:
    ids = _nodeids()
    shuffled = ids[:]
    random.Random(7).shuffle(shuffled)
    assert plan(ids, 3) == plan(shuffled, 3) == plan(ids + ids[:3], 3)
    shards = plan(ids, 3)
    assert sorted(n for s in shards for n in s) == sorted(ids)  # every item once
    for shard in shards:
        others = [n for s in shards if s is not shard for n in s]
        assert not {group_of(n) for n in shard} & {group_of(n) for n in others}
    assert group_of("suites/l4.yaml::resnet50::Server::TEST01") == "suites/l4.yaml::resnet50"
    sizes = sorted(len(s) for s in shards)
    assert sizes[-1] - sizes[0] <= 10  # largest group (resnet50: 10 items) bounds the imbalance
    assert plan(ids, 1) == [sorted(ids)]
    assert [len(s) for s in plan(ids[:1], 3)] == [1, 0, 0]


def test_manifest_and_plan_lines() -> None:
    ids = _nodeids()
    data = manifest(2, 3, ids)
    assert data["shard"] == 2 and data["of"] == 3 and data["selection"] == selection_digest(ids)
    assert data["items"] == data["plan"]["2"]["items"]
    assert sum(len(p["items"]) for p in data["plan"].values()) == len(ids)
    lines = plan_lines(data)
    assert lines[0].startswith(f"mlperf shard 2/3: {len(data['items'])} of {len(ids)} items")
    assert lines[2].startswith(" * shard 2:") and lines[1].startswith("   shard 1:")


# -- merging submission trees ----------------------------------------------------------------


def _shard_dir(root: Path, index: int, files: dict[str, str]) -> Path:
    from pytest_mlperf_nv.report.shard import manifest, write_manifest
    from pytest_mlperf_nv.report.summary import ItemOutcome, build_summary, write_json

    ids = ["suites/x.yaml::a::Offline::performance", "suites/x.yaml::b::Offline::performance"]
    directory = root / f"shard{index}"
    data = manifest(index, 2, ids)
    write_manifest(directory, data)
    write_json(
        directory / "summary.json",
        build_summary(
            [ItemOutcome(n, "passed") for n in data["items"]], session={"id": str(index)}, system=None
        ),
    )
    for rel, text in files.items():
        path = directory / "submission" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory


def test_tree_merge_takes_each_result_from_its_shard_and_refuses_conflicts(tmp_path: Path) -> None:
    from pytest_mlperf_nv.report.merge import MergeError, merge

    base = "open/acme"
    one = _shard_dir(
        tmp_path,
        1,
        {
            f"{base}/results/sys/resnet50/Offline/performance/run_1/log.txt": "1",
            f"{base}/systems/sys.json": "{}",
            f"{base}/model_mapping.json": '{"a": "resnet50"}',
        },
    )
    two = _shard_dir(
        tmp_path,
        2,
        {
            f"{base}/results/sys/retinanet/Offline/performance/run_1/log.txt": "2",
            f"{base}/systems/sys.json": "{}",
            f"{base}/model_mapping.json": '{"b": "retinanet"}',
        },
    )
    result = merge([one, two], tmp_path / "merged")
    tree = tmp_path / "merged" / "submission" / base
    assert result.tree == tmp_path / "merged" / "submission"
    assert (tree / "results/sys/resnet50/Offline/performance/run_1/log.txt").read_text() == "1"
    assert (tree / "results/sys/retinanet/Offline/performance/run_1/log.txt").read_text() == "2"
    assert json.loads((tree / "model_mapping.json").read_text()) == {"a": "resnet50", "b": "retinanet"}
    assert "no JUnit file in the shard dirs" in " ".join(result.notes)

    (two / "submission" / base / "results/sys/resnet50/Offline/performance/run_1").mkdir(parents=True)
    (two / "submission" / base / "results/sys/resnet50/Offline/performance/run_1/log.txt").write_text("2")
    (two / "submission" / base / "systems/sys.json").write_text('{"host_memory_capacity": "1 TB"}')
    with pytest.raises(MergeError) as caught:
        merge([one, two], tmp_path / "again")
    text = str(caught.value)
    assert "overlap: the result open/acme/results/sys/resnet50/Offline is in the trees of" in text
    assert "conflict: open/acme/systems/sys.json differs between" in text
    assert not (tmp_path / "again").exists()


def test_a_result_reads_as_a_share_of_nvidias_figure_only_on_that_gpu() -> None:
    from pytest_mlperf_nv.report.summary import _published

    item = {
        "benchmark": "resnet50",
        "scenario": "Offline",
        "gpus": 1,
        "metric": {"name": "samples_per_second", "value": 59000.0, "unit": "samples/s"},
    }
    found = _published(item, "NVIDIA H200", published_figure)
    assert found["fraction"] == pytest.approx(59000 / 95089.38, abs=1e-4)
    assert found["text"].startswith("62 % of NVIDIA's published H200-SXM-141GB figure (95,089.4 per GPU; ")
    assert _published({**item, "gpus": 2, "metric": {**item["metric"], "value": 118000.0}}, "NVIDIA H200",
                      published_figure)["fraction"] == found["fraction"]  # per GPU
    assert _published({**item, "gpus": 0}, "NVIDIA H200", published_figure) is None  # a CPU suite
    assert _published(item, "NVIDIA A100-SXM4-80GB", published_figure) is None  # no figure shipped
