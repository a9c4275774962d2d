"""The submission tree with tampered inputs: nothing outside the output dir is touched, runs whose
files changed since they passed are left out with the reason, and garbage gives no traceback.

The run dirs hold real LoadGen logs (SingleStream performance and accuracy runs of a paced SUT,
generated once per session) and result.json records as the plugin writes them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pytest_mlperf_nv.cli import main as cli_main
from pytest_mlperf_nv.plugin import pytest_mlperf_register
from pytest_mlperf_nv.registry import Registry
from pytest_mlperf_nv.submission import tree as tree_module
from pytest_mlperf_nv.submission.check import check_tree
from pytest_mlperf_nv.submission.runs import read_record, record_problem
from pytest_mlperf_nv.submission.tree import MANIFEST_FILE, build_trees
from pytest_mlperf_nv.suite.schema import load_suite
from tests.submission_helpers import RunSpec, generate

SUITE = """mlperf_suite: 1
name: edge
submission: {division: open}
benchmarks:
  resnet50:
    scenarios: [SingleStream]
"""
_SS = {"min_duration_ms": 200, "single_stream_expected_latency_ns": 100_000,
       "performance_sample_count_override": 64}


@pytest.fixture(scope="session")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("tree-hostile-logs")
    return {"performance": generate(RunSpec("SingleStream", settings=_SS, latency=100e-6), base / "perf"),
            "accuracy": generate(RunSpec("SingleStream", "accuracy", settings={
                "performance_sample_count_override": 64}), base / "acc")}


@pytest.fixture(scope="module")
def registry() -> Registry:
    registry = Registry()
    pytest_mlperf_register(registry)
    return registry


def _record(name: str, log_dir: Path) -> dict:
    from pytest_mlperf_nv.benchmarks.mlperf.seeds import round_of_detail
    from pytest_mlperf_nv.harness.logs import read_detail

    detail, _ = read_detail(log_dir / "mlperf_log_detail.txt")
    record = {"format": 1, "verdict": "PASS", "reasons": [], "profile": "quick", "overrides": [],
              "round": round_of_detail(detail), "not_submittable_because": ["profile quick: short run"],
              "versions": {"loadgen": detail.get("loadgen_version"), "backend": None},
              "model": {"path": "/models/resnet50.onnx"}, "case": {"mode": name}}
    if name == "accuracy":
        entries = json.loads((log_dir / "mlperf_log_accuracy.json").read_text())
        record["accuracy"] = {"metric": "top1", "value": 76.5,
                              "total": len({e["qsl_idx"] for e in entries})}
    return record


@pytest.fixture
def project(tmp_path: Path, logs: dict[str, Path], registry: Registry):
    """(suite, out): a suite and an output dir whose runs passed, as a session leaves them."""
    suite_path = tmp_path / "project" / "edge.yaml"
    suite_path.parent.mkdir()
    suite_path.write_text(SUITE)
    out = tmp_path / "project" / "mlperf-results"
    for name, log_dir in logs.items():
        run_dir = out / "runs" / "edge" / "resnet50" / "SingleStream" / name
        shutil.copytree(log_dir, run_dir)
        (run_dir / "result.json").write_text(json.dumps(_record(name, log_dir)))
    return load_suite(suite_path, registry), out


def build(suite, out: Path):
    (report,) = build_trees(out, [(suite, "quick")], None)
    return report


def run_dir(out: Path, name: str) -> Path:
    return out / "runs" / "edge" / "resnet50" / "SingleStream" / name


def test_the_untouched_runs_are_entered(project) -> None:
    suite, out = project
    report = build(suite, out)
    assert report.included == ["resnet50 SingleStream"], report.left_out
    assert (report.root / "results" / "edge" / "resnet" / "SingleStream" / "accuracy"
            / "mlperf_log_accuracy.json").is_file()


@pytest.mark.parametrize("keyed_by", ["name", "path"])
def test_a_tampered_manifest_never_removes_anything_outside_the_tree(project, tmp_path: Path, keyed_by: str
                                                                     ) -> None:
    suite, out = project
    build(suite, out)
    victims = [tmp_path / "victim", out / "runs", out.parent / "keep"]
    for victim in victims:
        victim.mkdir(exist_ok=True)
        (victim / "precious.txt").write_text("keep me")
    key = suite.name if keyed_by == "name" else str(suite.path)  # by path: as earlier versions wrote it
    manifest = {key: ["../../victim", str(tmp_path / "victim"), "../runs", "..", "open",
                                  "open/../../keep", "open/pytest-mlperf-nv/../../../runs", None, 5,
                                  "open\\..\\..\\keep", "a\x00b"]}
    (out / MANIFEST_FILE).write_text(json.dumps(manifest))
    report = build(suite, out)
    for victim in victims:
        assert (victim / "precious.txt").read_text() == "keep me", victim
    assert report.included == ["resnet50 SingleStream"]
    assert json.loads((out / MANIFEST_FILE).read_text()) == {suite.name: report.parts}


def test_a_moved_checkout_whose_rebuild_fails_keeps_its_previous_results(project, tmp_path: Path,
                                                                         monkeypatch, registry) -> None:
    """The manifest names suites by name, not by the path of their file: after the checkout moves,
    a rebuild that fails midway still puts back everything the suite had in the tree."""
    suite, out = project
    build(suite, out)
    entered = out / "submission" / "open" / "pytest-mlperf-nv" / "results" / "edge"
    before = sorted(p.relative_to(entered) for p in entered.rglob("*"))
    moved = tmp_path / "moved"
    shutil.move(suite.path.parent, moved)
    out = moved / "mlperf-results"
    suite = load_suite(moved / "edge.yaml", registry)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug while reading the runs")

    monkeypatch.setattr(tree_module, "load_runs", broken)
    report = build(suite, out)
    assert "its results could not be written: RuntimeError: a bug while reading the runs; its previous " \
           "results are kept" in report.errors[0]
    entered = out / "submission" / "open" / "pytest-mlperf-nv" / "results" / "edge"
    assert sorted(p.relative_to(entered) for p in entered.rglob("*")) == before and before


@pytest.mark.parametrize("garbage", ["null", "[]", '"x"', '{"../": 1}', '{"a": "b"}', "{", "\x00"])
def test_a_garbage_manifest_is_ignored(project, garbage: str) -> None:
    suite, out = project
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST_FILE).write_text(garbage)
    assert build(suite, out).included == ["resnet50 SingleStream"]


def test_a_symlink_planted_in_the_tree_is_not_followed(project, tmp_path: Path) -> None:
    suite, out = project
    report = build(suite, out)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    src = report.root / "src"
    shutil.rmtree(src)
    src.symlink_to(outside, target_is_directory=True)  # the next build writes src/ again
    report = build(suite, out)
    assert sorted(p.name for p in outside.iterdir()) == ["precious.txt"]
    assert (report.root / "src").is_dir() and not (report.root / "src").is_symlink()


@pytest.mark.parametrize(("damage", "fragment"), [
    (lambda d: (d / "mlperf_log_accuracy.json").write_text(""), "mlperf_log_accuracy.json"),
    (lambda d: (d / "mlperf_log_accuracy.json").write_text("[\n{ \"seq_id\" : 0, \"qsl"), "accuracy.json"),
    (lambda d: (d / "mlperf_log_accuracy.json").write_text("[]\n"), "holds no responses"),
    (lambda d: (d / "mlperf_log_accuracy.json").write_text(
        '[\n{ "seq_id" : 0, "qsl_idx" : 1, "data" : "00" }\n]\n'), "the recorded score counted"),
    (lambda d: (d / "mlperf_log_detail.txt").write_text(":::MLLOG null\n:::MLLOG {}\n"),
     "not an MLLOG record"),
    (lambda d: (d / "mlperf_log_detail.txt").write_text(":::MLLOG [1, 2]\n:::MLLOG {}\n"),
     "not an MLLOG record"),
    (lambda d: (d / "mlperf_log_summary.txt").write_text(""), "mlperf_log_summary.txt is empty"),
])
def test_an_accuracy_run_whose_logs_changed_after_it_passed_is_left_out(project, damage, fragment: str
                                                                        ) -> None:
    suite, out = project
    damage(run_dir(out, "accuracy"))
    report = build(suite, out)
    assert report.included == []
    (label, why), = report.left_out
    assert label == "resnet50 SingleStream" and fragment in why and "rerun it" in why, why


def test_a_performance_log_that_no_longer_says_valid_is_left_out(project) -> None:
    suite, out = project
    detail = run_dir(out, "performance") / "mlperf_log_detail.txt"
    detail.write_text(detail.read_text().replace('"value": "VALID"', '"value": "INVALID"'))
    report = build(suite, out)
    assert report.included == [] and "says INVALID, the record says PASS" in report.left_out[0][1]


def test_a_log_whose_recorded_digest_differs_is_left_out(project) -> None:
    suite, out = project
    path = run_dir(out, "performance") / "result.json"
    record = json.loads(path.read_text())
    record["log_sha256"] = {"mlperf_log_summary.txt": "0" * 64}
    path.write_text(json.dumps(record))
    report = build(suite, out)
    assert "mlperf_log_summary.txt changed after the run recorded its verdict" in report.left_out[0][1]


@pytest.mark.parametrize("text", ["null", "[]", "5", '"PASS"', "{}", '{"verdict": "PASS", "reasons": 3}',
                                  '{"verdict": "PASS", "nvidia": {"log_dir": 5}}',
                                  '{"verdict": "PASS", "overrides": [1]}', "{", "[" * 100000])
def test_a_result_json_that_is_no_run_record_is_left_out_with_the_reason(project, text: str) -> None:
    suite, out = project
    (run_dir(out, "performance") / "result.json").write_text(text)
    report = build(suite, out)
    assert report.included == []
    assert "a run record cannot be used (performance:" in report.left_out[0][1]


@pytest.mark.parametrize("text", ["null", "[]",
                                  '{"format": 2, "verdict": "PASS", "accuracy": {"value": "abc"}}',
                                  '{"format": 2, "verdict": "PASS", "loadgen": {"value": "x", "unit": 1}}',
                                  '{"format": 2, "verdict": "PASS", "case": "x"}', "[" * 100000])
def test_mlperf_nv_results_skips_a_result_json_that_is_no_run_record_naming_why(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    good = tmp_path / "runs" / "s" / "digits" / "Offline" / "performance"
    bad = tmp_path / "runs" / "s" / "digits" / "Server" / "performance"
    good.mkdir(parents=True)
    bad.mkdir(parents=True)
    (good / "result.json").write_text(json.dumps({
        "format": 2, "verdict": "PASS", "suite": {"name": "s"},
        "case": {"id": "digits", "scenario": "Offline", "mode": "performance"},
        "loadgen": {"validity": "VALID", "value": 100.0, "unit": "samples/s"}}))
    (bad / "result.json").write_text(text)
    assert cli_main(["results", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "s::digits::Offline::performance" in captured.out and "100 samples/s" in captured.out
    assert f"mlperf-nv: skipping {bad / 'result.json'}" in captured.err
    assert "Traceback" not in captured.err


def test_record_problem_names_the_field() -> None:
    assert record_problem(None) == "its top level is null, not an object"
    assert record_problem({"verdict": "PASS", "versions": []}) == "'versions' is a list"
    assert record_problem({"verdict": "PASS", "model": {"path": 3}}) == "'model.path' is a number"
    assert record_problem({"verdict": "PASS", "accuracy": {"value": "76"}}) == "'accuracy.value' is text"
    assert record_problem({"verdict": "PASS"}) is None


def test_read_record_refuses_a_huge_file(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    with open(path, "wb") as f:
        f.truncate(20 * 1024 * 1024)
    record, problem = read_record(path)
    assert record is None and "larger than" in problem


def test_check_submission_reads_garbage_mllog_lines_without_a_traceback(project, capsys) -> None:
    suite, out = project
    report = build(suite, out)
    detail = report.root / "results" / "edge" / "resnet" / "SingleStream" / "performance" / "run_1" \
        / "mlperf_log_detail.txt"
    for garbage in (":::MLLOG null", ":::MLLOG [1, 2]", ':::MLLOG {"key": ["x"]}',
                    ':::MLLOG {"key": "result_validity", "value": {"a": 1}}',
                    ':::MLLOG {"key": "x", "metadata": []}', ':::MLLOG "text"'):
        detail.write_text(garbage + "\n" + ':::MLLOG {"key": "end", "value": 1}' + "\n")
        result = check_tree(out / "submission")
        assert "unreadable-log" in {f.kind for f in result.findings}, garbage
        assert cli_main(["check-submission", str(out / "submission")]) == 1
        assert "Traceback" not in capsys.readouterr().out


def test_a_failing_check_does_not_make_the_session_say_the_tree_was_not_written(project, monkeypatch
                                                                               ) -> None:
    from pytest_mlperf_nv.report import submission as session_report
    from pytest_mlperf_nv.submission import check

    suite, out = project
    report = build(suite, out)

    def broken(*args, **kwargs):
        raise RuntimeError("the checker met something it did not expect")

    monkeypatch.setattr(check, "check_tree", broken)
    session_report._check([report])
    assert report.errors and "the tree was written to" in report.errors[0]
    assert "not written" not in report.errors[0]


def test_a_suite_name_outside_the_run_root_is_refused_not_written(project) -> None:
    suite, out = project
    suite.name = ".."  # runs/<name>/ would be the output dir (collection refuses such a name)
    report = build(suite, out)
    assert report.root is None and "outside" in report.errors[0]
    assert not any((out / "submission").rglob("*.json"))


def test_build_trees_keeps_its_module_names() -> None:
    # The runs module holds the run reading; the tree module keeps its public names.
    assert set(tree_module.__all__) >= {"build_trees", "recover", "write_report"}
