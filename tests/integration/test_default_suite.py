"""The embedded default suite, end to end: items, selection, artifacts, JUnit, xdist."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from junitparser.xunit2 import JUnitXml

from tests.helpers import CPU_SUITE, digits_suite, write_suite

DIGITS = [f"suites/cpu.yaml::digits::{s}::{m}"
          for s in ("Offline", "Server", "SingleStream", "MultiStream")
          for m in ("performance", "accuracy")]
RESNET50 = "suites/cpu.yaml::resnet50::Offline::performance"
ITEMS = [*DIGITS, RESNET50]


@pytest.fixture
def cpu(mlperf_env: Path) -> Path:
    (mlperf_env / "suites").mkdir()
    shutil.copy(CPU_SUITE, mlperf_env / "suites" / "cpu.yaml")
    return mlperf_env


def _collected(pytester: pytest.Pytester, *args: str) -> list[str]:
    result = pytester.runpytest("--co", "-q", "-p", "no:cacheprovider", *args)
    return [line for line in result.outlines if "::" in line]


def test_collects_nine_readable_items(cpu: Path, pytester: pytest.Pytester) -> None:
    assert sorted(_collected(pytester)) == sorted(ITEMS)


@pytest.mark.parametrize(("args", "expected"), [
    (["-k", "server"], ["suites/cpu.yaml::digits::Server::performance",
                        "suites/cpu.yaml::digits::Server::accuracy"]),
    (["-m", "accuracy"], [i for i in ITEMS if i.endswith("accuracy")]),
    (["-m", "performance"], [i for i in ITEMS if i.endswith("performance")]),
    (["-k", "offline and accuracy"], ["suites/cpu.yaml::digits::Offline::accuracy"]),
    (["-k", "offline and performance"], ["suites/cpu.yaml::digits::Offline::performance", RESNET50]),
    (["-k", "digits"], DIGITS),
    (["-k", "resnet50"], [RESNET50]),
    (["suites/cpu.yaml::digits::MultiStream::performance"],
     ["suites/cpu.yaml::digits::MultiStream::performance"]),
    (["suites/cpu.yaml::digits::Server"], ["suites/cpu.yaml::digits::Server::performance",
                                           "suites/cpu.yaml::digits::Server::accuracy"]),
])
def test_selection(cpu: Path, pytester: pytest.Pytester, args: list[str], expected: list[str]) -> None:
    assert sorted(_collected(pytester, *args)) == sorted(expected)


def test_k_perf_selects_performance_items_only(cpu: Path, pytester: pytest.Pytester) -> None:
    assert sorted(_collected(pytester, "-k", "perf")) == sorted(i for i in ITEMS if i.endswith("performance"))


def test_verbose_lines_show_node_ids_that_select_the_item_again(cpu: Path, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-v", "-p", "no:cacheprovider", "-k", "SingleStream and performance")
    line = next(line for line in result.outlines if "SingleStream" in line and ("PASSED" in line
                                                                                 or "FAILED" in line))
    nodeid = line.split(" ")[0]
    assert nodeid == "suites/cpu.yaml::digits::SingleStream::performance"
    assert _collected(pytester, nodeid) == [nodeid]


def _run_results(root: Path) -> dict[str, dict]:
    results = {}
    for path in sorted((root / "mlperf-results" / "runs").glob("cpu/*/*/*/result.json")):
        if path.parent.name.endswith(".previous"):
            continue
        record = json.loads(path.read_text())
        case = record["case"]
        results[f"{case['id']}::{case['scenario']}::{case['mode']}"] = record
    return results


def test_default_suite_passes_with_artifacts_and_junit(cpu: Path, pytester: pytest.Pytester) -> None:
    # Warnings are errors here, to show the plugin emits none; pytest-benchmark (common on GPU hosts)
    # warns on its own under xdist, so it is switched off (harmless where it is not installed).
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:benchmark", "--junitxml=junit.xml",
                                "-W", "error::pytest.PytestWarning")
    result.assert_outcomes(passed=9)
    result.stdout.fnmatch_lines(["*MLPerf results*", "*digits::Offline::performance*PASS*VALID*samples/s*"])
    assert "PytestWarning" not in result.stdout.str()

    records = _run_results(cpu)
    assert len(records) == 9
    for key, record in records.items():
        run_dir = cpu / record["run_dir"] if not Path(record["run_dir"]).is_absolute() \
            else Path(record["run_dir"])
        names = {p.name for p in run_dir.iterdir()}
        assert {"mlperf_log_summary.txt", "mlperf_log_detail.txt", "mlperf_log_accuracy.json",
                "stdout.txt", "stderr.txt", "run_spec.json", "user.conf", "result.json"} <= names, key
        assert record["verdict"] == "PASS"
        assert record["profile"] == "quick" and record["submittable"] is False
        assert record["suite"]["sha256"] and record["session_id"]
        assert record["versions"]["loadgen"].startswith(("6.", "5."))
        if key.endswith("performance"):
            assert record["loadgen"]["validity"] == "VALID"
            assert record["loadgen"]["value"] > 0
        else:
            assert record["accuracy"]["total"] == 360 and record["accuracy"]["value"] > 90
    assert len({r["session_id"] for r in records.values()}) == 1
    resnet = records["resnet50::Offline::performance"]
    assert "synthetic data (synthetic-imagenet): performance only" in resnet["not_submittable_because"]
    assert "random model weights: performance only" in resnet["not_submittable_because"]

    xml = JUnitXml.fromfile(str(cpu / "junit.xml"))
    cases = {case.name: case for suite in xml for case in suite}
    assert set(cases) == {"performance", "accuracy"} or len(cases) <= 8
    props = {}
    for suite in xml:
        for case in suite:
            props[f"{case.classname}::{case.name}"] = {p.name: p.value for p in case.properties()}
    assert len(props) == 9
    offline = next(v for k, v in props.items() if "Offline" in k and k.endswith("performance"))
    assert offline["mlperf_verdict"] == "PASS" and offline["mlperf_validity"] == "VALID"
    assert offline["mlperf_metric"] == "samples_per_second" and float(offline["mlperf_metric_value"]) > 0
    assert offline["mlperf_metric_unit"] == "samples/s" and "mlperf_latency_p99_ms" in offline
    assert "mlperf_run_dir" in offline
    accuracy = next(v for k, v in props.items() if k.endswith("accuracy"))
    assert float(accuracy["mlperf_accuracy"]) > 90


def test_xdist_matches_serial_and_uses_both_workers(cpu: Path, pytester: pytest.Pytester) -> None:
    serial = pytester.runpytest("-p", "no:cacheprovider", "-m", "accuracy or performance")
    serial.assert_outcomes(passed=9)
    before = _run_results(cpu)
    parallel = pytester.runpytest("-p", "no:cacheprovider", "-n", "2")
    parallel.assert_outcomes(passed=9)
    after = _run_results(cpu)
    assert {k: r["verdict"] for k, r in before.items()} == {k: r["verdict"] for k, r in after.items()}
    for key in before:
        if key.endswith("accuracy"):
            assert before[key]["accuracy"] == after[key]["accuracy"]
    assert {r["worker"] for r in after.values()} == {"gw0", "gw1"}
    assert {r["worker"] for r in before.values()} == {"main"}
    # The controller prints one table for all workers.
    assert parallel.stdout.str().count("MLPerf results") == 1


def test_rerun_moves_previous_run_aside(cpu: Path, pytester: pytest.Pytester) -> None:
    node = "suites/cpu.yaml::digits::SingleStream::accuracy"
    pytester.runpytest("-p", "no:cacheprovider", node).assert_outcomes(passed=1)
    run_dir = cpu / "mlperf-results/runs/cpu/digits/SingleStream/accuracy"
    first = json.loads((run_dir / "result.json").read_text())["started"]
    pytester.runpytest("-p", "no:cacheprovider", node).assert_outcomes(passed=1)
    previous = run_dir.with_name("accuracy.previous")
    assert json.loads((previous / "result.json").read_text())["started"] == first
    assert json.loads((run_dir / "result.json").read_text())["started"] != first


def test_last_failed_reruns_only_the_failure(mlperf_env: Path, pytester: pytest.Pytester) -> None:
    write_suite(mlperf_env, digits_suite(
        "      Offline: {offline_expected_qps: 10}\n"
        "      SingleStream: {single_stream_expected_latency_ns: 20000}\n"))
    first = pytester.runpytest()
    first.assert_outcomes(passed=1, failed=1)
    again = pytester.runpytest("--lf")
    again.assert_outcomes(failed=1)
    again.stdout.fnmatch_lines(["*digits::Offline::performance*"])


def test_second_session_reuses_the_cached_model(mlperf_env: Path, pytester: pytest.Pytester,
                                                tmp_path: Path) -> None:
    cache = tmp_path / "fresh-cache"
    write_suite(mlperf_env, digits_suite("      SingleStream: {single_stream_expected_latency_ns: 20000}\n",
                                         modes="[accuracy]"))
    record_path = mlperf_env / "mlperf-results/runs/cpu/digits/SingleStream/accuracy/result.json"
    hits = []
    for _ in range(2):
        result = pytester.runpytest(f"--mlperf-cache-dir={cache}", "--junitxml=junit.xml")
        result.assert_outcomes(passed=1)
        record = json.loads(record_path.read_text())
        hits.append(record["model"]["cache_hit"])
        props = {p.name: p.value for s in JUnitXml.fromfile(str(mlperf_env / "junit.xml"))
                 for c in s for p in c.properties()}
        assert props["mlperf_model_cache"] == ("hit" if hits[-1] else "miss")
    assert hits == [False, True]
    assert record["model"]["path"].startswith(str(cache))
