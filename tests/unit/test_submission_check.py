"""The plugin's own submission checker on hand-built trees of real LoadGen logs; the official checker's
output parsing on recorded lines (and, opt-in, the real official checker)."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest

from pytest_mlperf_nv.submission import check as chk
from pytest_mlperf_nv.submission.check import SHORT_RUN_KINDS, CheckReport, Finding, check_tree
from pytest_mlperf_nv.submission.truncate import sha256_file
from tests.submission_helpers import (
    DROP,
    TreeBuilder,
    copy_logs,
    loadgen_runs,
    resnet_edge_tree,
    unet_v50_tree,
)

RESNET_EDGE = ("SingleStream", "MultiStream", "Offline")


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return loadgen_runs(tmp_path_factory.mktemp("loadgen-runs"))


@pytest.fixture
def tree(tmp_path: Path, runs: dict[str, Path]) -> TreeBuilder:
    """A good closed v6.1 resnet edge tree."""
    return resnet_edge_tree(tmp_path / "sub", runs)


def only(report: CheckReport, kind: str) -> list[Finding]:
    return [f for f in report.findings if f.kind == kind]


def avoidable_kinds(report: CheckReport) -> set[str]:
    return {f.kind for f in report.avoidable()}


# --------------------------------------------------------------------------------------------------
# good trees
# --------------------------------------------------------------------------------------------------


def test_good_v61_tree_has_only_what_a_short_run_cannot_avoid(tree: TreeBuilder) -> None:
    report = check_tree(tree.root)
    assert report.round == "v6.1" and "seeds of v6.1" in report.round_reason
    assert not report.ok and report.ok_for_short_run, report.text()
    assert report.kinds() == {"duration", "samples-per-query", "perf-sample-count", "dataset-size"}
    assert report.kinds() <= SHORT_RUN_KINDS and not report.warnings
    assert all(f.unavoidable_for_short_runs for f in report.findings)
    # run_1, TEST01 and TEST04 of each scenario are all 200 ms runs
    assert len(only(report, "duration")) == 9
    by_result = {r.scenario: r for r in report.results}
    assert set(by_result) == set(RESNET_EDGE)
    assert by_result["Offline"].metric_unit == "samples/s" and by_result["Offline"].metric_value > 1000
    assert by_result["SingleStream"].metric_unit == "ms" and by_result["SingleStream"].validity == "VALID"
    assert by_result["Offline"].accuracy == {"acc": 76.5}
    assert by_result["Offline"].mlperf_benchmark == "resnet"
    json.dumps(report.as_dict())


def test_report_text_groups_findings_per_result(tree: TreeBuilder) -> None:
    text = check_tree(tree.root).text(short_run=True)
    assert "closed/Org/sys1/resnet/Offline: 4,9" in text and "samples/s [VALID], acc=76.5" in text
    offline = text.split("closed/Org/sys1/resnet/Offline:")[1].split("closed/Org/sys1/resnet/SingleStream")[0]
    assert "ERROR samples-per-query (a short run cannot avoid it): the performance run: Offline samples " \
           "per query 1100 < 24576" in offline
    assert "at closed/Org/results/sys1/resnet/Offline/performance/run_1/mlperf_log_detail.txt" in offline
    assert "fix: " in offline
    assert text.splitlines()[-1].endswith("OK for a short run")


def test_good_v50_tree(tmp_path: Path, runs: dict[str, Path]) -> None:
    builder = unet_v50_tree(tmp_path / "sub", runs)
    report = check_tree(builder.root)
    assert report.round == "v5.0" and "v5.0 layout" in report.round_reason
    assert report.kinds() == {"duration"}, report.text()
    assert [f.path.parts[-4] for f in only(report, "duration")] == ["Offline", "TEST01"]
    assert not report.warnings, report.text()
    [result] = report.results
    assert result.accuracy == {"DICE": 0.862} and result.mlperf_benchmark == "3d-unet-99"


def test_a_submitter_dir_is_a_root_too(tree: TreeBuilder) -> None:
    report = check_tree(tree.sub)
    assert report.ok_for_short_run and len(report.results) == 3


def test_v61_tree_checked_as_v50_layout(tree: TreeBuilder) -> None:
    report = check_tree(tree.root, "v5.0")
    assert {"missing-file", "wrong-seeds"} <= report.kinds()
    assert any("measurements" in str(f.path) for f in only(report, "missing-file"))


def test_unknown_round() -> None:
    with pytest.raises(ValueError, match="did you mean 'v6.1'"):
        check_tree(Path("."), "v6.2")


def test_no_submission_here(tmp_path: Path) -> None:
    report = check_tree(tmp_path)
    assert report.kinds() == {"no-submission"}


# --------------------------------------------------------------------------------------------------
# broken trees
# --------------------------------------------------------------------------------------------------


def perf_dir(tree: TreeBuilder, scenario: str = "Offline") -> Path:
    return tree.results("resnet", scenario) / "performance" / "run_1"


def replace_run(dst: Path, run: Path) -> None:
    shutil.rmtree(dst)
    copy_logs(run, dst)


def test_invalid_run(tree: TreeBuilder, runs: dict[str, Path]) -> None:
    replace_run(perf_dir(tree), runs["Offline/invalid"])
    report = check_tree(tree.root)
    [finding] = only(report, "invalid-run")
    assert "LoadGen result INVALID: min duration not met" in finding.message
    assert "Increase expected QPS" in finding.message
    assert finding.result == "closed/Org/sys1/resnet/Offline" and not finding.unavoidable_for_short_runs
    assert avoidable_kinds(report) == {"invalid-run"}


@pytest.mark.parametrize("where", ["performance", "TEST04"])
def test_loadgen_error_line(tree: TreeBuilder, runs: dict[str, Path], where: str) -> None:
    res = tree.results("resnet", "Offline")
    target = perf_dir(tree) if where == "performance" else res / "TEST04" / "performance" / "run_1"
    replace_run(target, runs["Offline/error"])
    report = check_tree(tree.root)
    errors = only(report, "loadgen-error")
    assert len(errors) == 1 and "error_invalid_config" in errors[0].message
    assert errors[0].path == target / "mlperf_log_detail.txt"
    expected = {"loadgen-error"} | ({"not-an-audit-run"} if where == "TEST04" else set())
    assert avoidable_kinds(report) == expected


def test_loadgen_error_line_in_the_accuracy_log(tree: TreeBuilder) -> None:
    detail = tree.results("resnet", "Offline") / "accuracy" / "mlperf_log_detail.txt"
    record = {"key": "error_runtime", "value": "something broke", "time_ms": 1.0,
              "namespace": "mlperf::logging", "event_type": "POINT_IN_TIME",
              "metadata": {"is_error": True, "is_warning": False}}
    detail.write_text(detail.read_text() + ":::MLLOG " + json.dumps(record) + "\n")
    report = check_tree(tree.root)
    [finding] = only(report, "loadgen-error")
    assert "error_runtime: something broke" in finding.message and "accuracy" in finding.message


def test_wrong_seeds_for_the_round(tree: TreeBuilder) -> None:
    report = check_tree(tree.root, "v6.0")
    seeds = only(report, "wrong-seeds")
    assert len(seeds) == 9  # run_1, TEST01, TEST04 of three scenarios
    assert "logged v6.1 seeds, not v6.0's" in seeds[0].message
    assert "qsl_rng_seed 2085463073848966840 (expected 2465351861681999779)" in seeds[0].message
    assert "mlcommons-loadgen==6.0.15" in seeds[0].fix
    assert avoidable_kinds(report) == {"wrong-seeds"}


def test_missing_and_empty_system_fields(tmp_path: Path, tree: TreeBuilder) -> None:
    tree.system_json(cooling=DROP, host_networking="")
    report = check_tree(tree.root)
    [missing] = only(report, "system-field-missing")
    assert "field cooling is missing" in missing.message and missing.result == "closed/Org/sys1"
    [empty] = only(report, "system-field-empty")
    assert "host_networking" in empty.message


@pytest.mark.parametrize(("change", "kind", "words"), [
    ({"number_of_nodes": "x"}, "system-field-type", "number_of_nodes is 'x', not a whole number"),
    ({"accelerators_per_node": "2 GPUs"}, "system-field-type", "accelerators_per_node"),
    ({"is_network": False}, "system-field-type", 'the string "true" or "false"'),
    ({"is_network": "true"}, "system-field-value", "does not fit the closed division"),
    ({"is_network": "false"}, "system-field-value", "require the 12 network-mode fields"),
    ({"accelerators_per_node": 0}, "system-field-empty", "reads a number 0 as empty"),
    ({"status": "Avaliable"}, "system-field-value", "did you mean 'available'"),
    ({"system_type": "egde"}, "system-field-value", "did you mean 'edge'"),
    ({"submitter": "Other"}, "system-field-value", "the directory says 'Org'"),
])
def test_system_field_values(tree: TreeBuilder, change: dict, kind: str, words: str) -> None:
    tree.system_json(**change)
    report = check_tree(tree.root)
    found = only(report, kind)
    assert found and any(words in f.message for f in found), report.text()


def test_numbers_as_json_numbers_are_fine(tree: TreeBuilder) -> None:
    tree.system_json(number_of_nodes=1, accelerators_per_node="0")
    assert check_tree(tree.root).ok_for_short_run


def test_untruncated_accuracy_log(tmp_path: Path, runs: dict[str, Path]) -> None:
    builder = TreeBuilder(tmp_path / "sub")
    builder.system_json()
    builder.code("resnet")
    for scenario in RESNET_EDGE:
        builder.scenario("resnet", scenario, runs, truncate=False)
    report = check_tree(builder.root)
    assert avoidable_kinds(report) == {"missing-hash", "untruncated-log", "missing-file"}
    # three accuracy dirs and three TEST01/accuracy dirs
    assert len(only(report, "untruncated-log")) == 6
    assert len(only(report, "missing-hash")) == 6
    # TEST01/accuracy has no accuracy.txt at all until hash_and_truncate(create_accuracy_txt=True) writes it
    missing = {f.path.parts[-3:] for f in only(report, "missing-file")}
    assert missing == {("TEST01", "accuracy", "accuracy.txt")}


def test_hashed_but_not_cut_log_with_the_right_hash(tree: TreeBuilder, runs: dict[str, Path]) -> None:
    acc = tree.results("resnet", "Offline") / "accuracy"
    shutil.copy2(runs["Offline/accuracy"] / "mlperf_log_accuracy.json", acc)
    digest = sha256_file(acc / "mlperf_log_accuracy.json")
    (acc / "accuracy.txt").write_text(f"accuracy=76.5%\nhash={digest}\n")
    report = check_tree(tree.root)
    assert avoidable_kinds(report) == {"untruncated-log"}


def test_bad_hash_of_a_small_log(tmp_path: Path, runs: dict[str, Path]) -> None:
    builder = unet_v50_tree(tmp_path / "sub", runs)
    txt = builder.results("3d-unet-99", "Offline") / "accuracy" / "accuracy.txt"
    text = txt.read_text()
    good = text.split("hash=")[1].strip()
    txt.write_text(text.replace(good, "f" * 64))
    report = check_tree(builder.root)
    [bad] = only(report, "bad-hash")
    assert good in bad.message and "f" * 64 in bad.message
    assert avoidable_kinds(report) == {"bad-hash"}


def test_bad_hash_of_a_truncated_log_needs_the_original(tree: TreeBuilder, runs: dict[str, Path]) -> None:
    acc = tree.results("resnet", "Offline") / "accuracy"
    txt = acc / "accuracy.txt"
    txt.write_text(txt.read_text().split("hash=")[0] + "hash=" + "e" * 64 + "\n")
    assert check_tree(tree.root).ok_for_short_run  # a cut log's hash cannot be checked from the tree alone
    original = runs["Offline/accuracy"] / "mlperf_log_accuracy.json"
    report = check_tree(tree.root, originals={acc / "mlperf_log_accuracy.json": original})
    [bad] = only(report, "bad-hash")
    assert "sha256" in bad.message
    txt.write_text(txt.read_text().split("hash=")[0] + f"hash={sha256_file(original)}\n")
    log = acc / "mlperf_log_accuracy.json"
    log.write_bytes(log.read_bytes().replace(b'"data"', b'"DATA"', 1))
    relative = log.relative_to(tree.root)
    report = check_tree(tree.root, originals={relative: original})
    assert avoidable_kinds(report) == {"bad-truncation"}


def test_malformed_and_doubled_hash_lines(tree: TreeBuilder) -> None:
    txt = tree.results("resnet", "Offline") / "accuracy" / "accuracy.txt"
    txt.write_text(txt.read_text() + "hash=" + "1" * 64 + "\n")
    report = check_tree(tree.root)
    assert any("2 different hash= lines" in f.message for f in only(report, "bad-hash"))
    txt.write_text("accuracy=76.5%\nhash=xyz\n")
    assert any("not a SHA-256" in f.message for f in only(check_tree(tree.root), "bad-hash"))


@pytest.mark.parametrize(("remove", "words"), [
    ("results/sys1/resnet/Offline/user.conf", "Offline/user.conf is missing"),
    ("results/sys1/resnet/Offline/measurements.json", "measurements.json is missing"),
    ("results/sys1/resnet/Offline/accuracy/mlperf_log_summary.txt", "lacks mlperf_log_summary.txt"),
    ("results/sys1/resnet/Offline/performance/run_1/mlperf_log_detail.txt", "lacks mlperf_log_detail.txt"),
    ("results/sys1/resnet/Offline/TEST01/verify_accuracy.txt", "lacks verify_accuracy.txt"),
    ("src", "src is missing"),
    ("systems/sys1.json", "systems/sys1.json is missing"),
])
def test_missing_file(tree: TreeBuilder, remove: str, words: str) -> None:
    path = tree.sub / remove
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    report = check_tree(tree.root)
    found = only(report, "missing-file")
    assert any(words in f.message for f in found), report.text()
    assert "missing-file" in avoidable_kinds(report)


def test_empty_readme(tree: TreeBuilder) -> None:
    (tree.results("resnet", "Offline") / "README.md").write_text("")
    assert avoidable_kinds(check_tree(tree.root)) == {"empty-file"}


def test_measurements_field(tree: TreeBuilder) -> None:
    path = tree.results("resnet", "Offline") / "measurements.json"
    path.write_text(json.dumps({"input_data_types": "fp32", "retraining": ""}))
    report = check_tree(tree.root)
    assert avoidable_kinds(report) == {"measurements-field-missing"}
    assert len(only(report, "measurements-field-missing")) == 4


@pytest.mark.parametrize(("where", "name"), [
    ("accuracy", "predictions.json"),
    ("performance/run_1", "notes.txt"),
    ("TEST04/performance/run_1", "mlperf_log_trace.json.gz"),
    ("", "random.log"),
])
def test_extra_file(tree: TreeBuilder, where: str, name: str) -> None:
    (tree.results("resnet", "Offline") / where / name).write_text("x")
    report = check_tree(tree.root)
    [extra] = only(report, "extra-file")
    assert name in extra.message and extra.severity == "error"
    assert avoidable_kinds(report) == {"extra-file"}


def test_tolerated_files(tree: TreeBuilder) -> None:
    (perf_dir(tree) / "mlperf_log_trace.json").write_text("")
    (perf_dir(tree) / ".gitkeep").write_text("")
    assert check_tree(tree.root).ok_for_short_run


def test_failed_compliance(tree: TreeBuilder) -> None:
    res = tree.results("resnet", "Offline")
    (res / "TEST04" / "verify_performance.txt").write_text(
        "Verifying performance.\nreference score = 100.0\ntest score = 180.0\nTEST FAIL: Test score "
        "invalid\n")
    (res / "TEST01" / "verify_accuracy.txt").write_text("num_perf_log_data_mismatch = 7\nTEST FAIL\n\n")
    report = check_tree(tree.root)
    failed = only(report, "compliance-failed")
    assert len(failed) == 2
    assert any("TEST04 performance verification did not pass: reference score = 100.0; test score = 180.0; "
               "TEST FAIL: Test score invalid" in f.message for f in failed)
    assert any("num_perf_log_data_mismatch = 7" in f.message for f in failed)
    assert avoidable_kinds(report) == {"compliance-failed"}


def test_missing_compliance_test_and_runs_without_audit(tree: TreeBuilder, runs: dict[str, Path]) -> None:
    res = tree.results("resnet", "Offline")
    shutil.rmtree(res / "TEST04")
    replace_run(res / "TEST01" / "performance" / "run_1", runs["Offline/performance"])
    report = check_tree(tree.root)
    [missing] = only(report, "compliance-missing")
    assert "resnet needs TEST01, TEST04 in v6.1; TEST04 is missing" in missing.message
    [plain] = only(report, "not-an-audit-run")
    assert "not a TEST01 run" in plain.message


def test_missing_and_unknown_scenarios(tree: TreeBuilder) -> None:
    shutil.move(tree.results("resnet", "MultiStream"), tree.results("resnet", "Server"))
    report = check_tree(tree.root)
    [missing] = only(report, "missing-scenario")
    assert "needs SingleStream, MultiStream, Offline" in missing.message
    assert "MultiStream is missing" in missing.message
    assert any("Server is not a scenario of resnet on system_type edge" in f.message
               for f in only(report, "unknown-scenario"))


def test_accuracy_below_target(tree: TreeBuilder) -> None:
    txt = tree.results("resnet", "Offline") / "accuracy" / "accuracy.txt"
    txt.write_text(txt.read_text().replace("accuracy=76.500%", "accuracy=70.125%"))
    report = check_tree(tree.root)
    [low] = only(report, "accuracy-below-target")
    assert "acc 70.125 < target 75.6954" in low.message
    txt.write_text(txt.read_text().replace("accuracy=70.125%", "top-1 is great"))
    assert avoidable_kinds(check_tree(tree.root)) == {"accuracy-missing"}


def test_unknown_benchmark_in_closed(tmp_path: Path, runs: dict[str, Path]) -> None:
    builder = TreeBuilder(tmp_path / "sub")
    builder.system_json()
    builder.code("resnet")
    builder.scenario("resnt", "Offline", runs)
    report = check_tree(builder.root)
    [unknown] = only(report, "unknown-benchmark")
    assert "did you mean 'resnet'" in unknown.message and "open division" in unknown.fix


def test_open_division_with_model_mapping(tmp_path: Path, runs: dict[str, Path]) -> None:
    builder = TreeBuilder(tmp_path / "sub", division="open")
    builder.system_json()
    builder.code("digits")
    # one scenario only, an accuracy far below resnet's target, no compliance: all fine in open
    builder.scenario("digits", "Offline", runs, accuracy_text="accuracy=97.222%, good=350, total=360\n",
                     tests=())
    report = check_tree(builder.root)
    assert avoidable_kinds(report) == {"unknown-benchmark"}
    (builder.sub / "model_mapping.json").write_text(json.dumps({"digits": "resnet"}))
    report = check_tree(builder.root)
    assert report.kinds() == {"duration", "perf-sample-count", "dataset-size"}, report.text()
    [result] = report.results
    assert result.mlperf_benchmark == "resnet" and result.accuracy == {"acc": 97.222}
    (builder.sub / "model_mapping.json").write_text(json.dumps({"digits": "resnet-9000"}))
    assert "unknown-benchmark" in check_tree(builder.root).kinds()


def test_v6_tree_with_a_v5_directory(tree: TreeBuilder) -> None:
    (tree.sub / "measurements").mkdir()
    report = check_tree(tree.root, "v6.1")
    [wrong] = only(report, "wrong-layout")
    assert "belongs to the v5.0 layout" in wrong.message


def test_benchmark_not_in_round(tmp_path: Path, runs: dict[str, Path]) -> None:
    builder = TreeBuilder(tmp_path / "sub")
    builder.system_json(system_type="datacenter")
    builder.code("retinanet")
    builder.scenario("retinanet", "Offline", runs, tests=("TEST01",))
    report = check_tree(builder.root, "v6.1")
    assert "benchmark-not-in-round" in report.kinds()


# --------------------------------------------------------------------------------------------------
# the official checker: recorded output
# --------------------------------------------------------------------------------------------------

R = "closed/Org/results/sys1/resnet/Offline"
RECORDED = textwrap.dedent(f"""\
    [2026-11-30 10:00:00,001 main.py:160 INFO] Starting check...
    [2026-11-30 10:00:00,002 performance_check.py:312 ERROR] {R}/performance/run_1/mlperf_log_detail.txt Test duration less than 600s in user config. expected=600000, found=200
    [2026-11-30 10:00:00,003 performance_check.py:201 ERROR] {R}/performance/run_1/mlperf_log_detail.txt qsl_rng_seed is wrong, expected=2465351861681999779, found=2085463073848966840
    [2026-11-30 10:00:00,004 accuracy_check.py:230 ERROR] {R}/accuracy/mlperf_log_detail.txt accurcy run does not cover all dataset, accuracy samples: 256, dataset size: 50000
    [2026-11-30 10:00:00,005 performance_check.py:133 ERROR] {R}/performance/run_1/mlperf_log_detail.txt contains errors:
    [2026-11-30 10:00:00,006 performance_check.py:135 ERROR] Multiple conf files are used. This is not valid for official submission.
    [2026-11-30 10:00:00,007 performance_check.py:137 ERROR] {R}/performance/run_1/mlperf_log_detail.txt has loadgen errors, number of errors: 1
    [2026-11-30 10:00:00,008 system_check.py:80 ERROR] closed/Org/systems/sys1.json, field cooling is missing
    [2026-11-30 10:00:00,009 accuracy_check.py:120 WARNING] {R}/accuracy/mlperf_log_detail.txt accuracy not met: expected=75.695400, found=70.0
    [2026-11-30 10:00:00,010 compliance_check.py:360 ERROR] Compliance test performance check in {R}/TEST04 failed
    [2026-11-30 10:00:00,011 base.py:31 ERROR] {R}/performance/run_1/mlperf_log_detail.txt Checks failed
    [2026-11-30 10:00:00,012 main.py:140 ERROR] NoResults {R}/performance/run_1/mlperf_log_detail.txt
    [2026-11-30 10:00:00,013 main.py:190 INFO] Results=0, NoResults=1, Power Results=0
    [2026-11-30 10:00:00,014 main.py:195 ERROR] a message the plugin has never seen
    [2026-11-30 10:00:00,015 main.py:220 ERROR] SUMMARY: submission has errors
    """)  # noqa: E501 - recorded lines are as long as they are


def test_parse_recorded_official_output(tmp_path: Path) -> None:
    findings = chk.parse_official_output(RECORDED, root=tmp_path)
    kinds = [f.kind for f in findings]
    assert kinds == ["duration", "wrong-seeds", "dataset-size", "loadgen-error", "loadgen-error",
                     "system-field-missing", "accuracy-below-target", "compliance-failed", "checker-summary",
                     "checker-summary", "official-error", "checker-summary"]
    assert all(f.source == "official" for f in findings)
    duration = findings[0]
    assert duration.path == tmp_path / R / "performance/run_1/mlperf_log_detail.txt"
    assert duration.result == "closed/Org/sys1/resnet/Offline" and duration.unavoidable_for_short_runs
    assert "600 s" in duration.fix
    assert findings[3].message.endswith("contains errors: Multiple conf files are used. This is not valid "
                                        "for "
                                        "official submission.")
    assert findings[5].result == "closed/Org"
    assert findings[6].severity == "warning"
    assert "install the LoadGen wheel" in findings[1].fix
    assert findings[10].fix.startswith("see the official checker's output")
    assert not findings[10].unavoidable_for_short_runs
    assert str(duration).startswith("ERROR duration: ") and "; fix: " in str(duration)


def test_parse_plain_logging_format_and_a_crash() -> None:
    text = textwrap.dedent("""\
        INFO:main:Starting check...
        ERROR:main:closed/Org/results/sys1/resnet/Offline/performance/run_1 Required minimum samples per query not met by user config, Expected=24576, Found=1100
        Traceback (most recent call last):
          File "submission_checker/main.py", line 99, in main
        TypeError: 'NoneType' object is not iterable
        """)  # noqa: E501
    findings = chk.parse_official_output(text)
    assert [f.kind for f in findings] == ["samples-per-query", "checker-crashed"]
    assert "TypeError" in findings[1].message and "system_type" in findings[1].fix


def test_official_command(tmp_path: Path) -> None:
    argv, cwd = chk.official_command(tmp_path / "in", tmp_path / "inference", "v6.1", "Org",
                                     tmp_path / "s.csv", python="python3")
    assert argv == ["python3", "-m", "submission_checker.main", "--input", str(tmp_path / "in"), "--version",
                    "v6.1", "--submitter", "Org", "--csv", str(tmp_path / "s.csv")]
    assert cwd == tmp_path / "inference" / "tools" / "submission"
    argv, _ = chk.official_command(tmp_path / "in", tmp_path / "inference", "v5.0", "Org", tmp_path / "s.csv",
                                   python="python3")
    assert argv[1] == str(tmp_path / "inference" / "tools" / "submission" / "submission_checker.py")


def test_run_official_checker_plumbing_with_a_stand_in(tmp_path: Path, tree: TreeBuilder) -> None:
    """A stand-in submission_checker package: the runner's argv, cwd and parsing, no checkout needed."""
    package = tmp_path / "inference" / "tools" / "submission" / "submission_checker"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "main.py").write_text(textwrap.dedent("""\
        import os, sys
        args = sys.argv[1:]
        root = args[args.index("--input") + 1]
        sys.stderr.write(f"[t main.py:1 INFO] cwd={os.path.basename(os.getcwd())} args={' '.join(args)}\\n")
        sys.stderr.write(f"[t performance_check.py:2 ERROR] closed/Org/results/sys1/resnet/Offline/"
                         f"performance/run_1/mlperf_log_detail.txt Test duration less than 600s in user "
                         f"config. expected=600000, found=200\\n")
        sys.stderr.write("[t main.py:3 ERROR] SUMMARY: submission has errors\\n")
        sys.exit(1)
        """))
    result = chk.run_official_checker(tree.sub, tmp_path / "inference", "v6.1")
    assert result.returncode == 1
    assert "cwd=submission" in result.output and f"--input {tree.root}" in result.output
    assert "--submitter Org" in result.output and "--version v6.1" in result.output
    assert [f.kind for f in result.findings] == ["duration", "checker-summary"]
    assert result.findings[0].path == tree.root / R / "performance/run_1/mlperf_log_detail.txt"
    with pytest.raises(FileNotFoundError, match="not a checkout"):
        chk.run_official_checker(tree.sub, tmp_path / "nowhere", "v6.1")


def test_a_checker_that_does_not_know_the_round_says_so(tmp_path: Path, tree: TreeBuilder) -> None:
    """The checker refuses --version v6.1 (a checkout older than the round): a finding, not silence."""
    package = tmp_path / "inference" / "tools" / "submission" / "submission_checker"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "main.py").write_text(textwrap.dedent("""\
        import sys
        sys.stderr.write("usage: main.py [-h] --input INPUT\\n")
        sys.stderr.write("main.py: error: argument --version: invalid choice: 'v6.1' "
                         "(choose from 'v6.0', 'v5.0', 'v5.1')\\n")
        sys.exit(2)
        """))
    result = chk.run_official_checker(tree.sub, tmp_path / "inference", "v6.1")
    assert result.returncode == 2
    [finding] = result.findings
    assert finding.kind == "checker-crashed" and "does not know round v6.1" in finding.message
    assert "update the checkout" in finding.fix


@pytest.mark.parametrize(("line", "kind", "hint"), [
    ("closed/Org/systems/sys1.json, field network_type is missing", "system-field-value",
     "leave it out"),
    ("field accelerators_per_node requires a meaningful response but is empty", "system-field-empty",
     'the string "0"'),
])
def test_hints_for_what_the_official_checker_reads_differently(line: str, kind: str, hint: str) -> None:
    [finding] = chk.parse_official_output(f"[t system_check.py:160 ERROR] {line}\n")
    assert finding.kind == kind and hint in finding.fix


@pytest.mark.skipif(not os.environ.get("MLPERF_NV_OFFICIAL_CHECKER"),
                    reason="set MLPERF_NV_OFFICIAL_CHECKER to a checkout of mlcommons/inference")
def test_official_checker_accepts_all_but_the_short_run_findings(tree: TreeBuilder) -> None:
    checkout = Path(os.environ["MLPERF_NV_OFFICIAL_CHECKER"])
    result = chk.run_official_checker(tree.root, checkout, "v6.1", "Org")
    assert "SUMMARY" in result.output, result.output[-3000:]
    unexpected = [f for f in result.findings if f.severity == "error" and not f.unavoidable_for_short_runs]
    assert not unexpected, "\n".join(f"{f.kind}: {f.message}" for f in unexpected)
    assert {f.kind for f in result.findings if f.severity == "error"} >= {"duration"}
