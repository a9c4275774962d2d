"""The reports a session leaves, end to end through pytest: summaries, JUnit facts, baselines, shards,
merge, live progress."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from junitparser.xunit2 import JUnitXml

from pytest_mlperf_nv.cli import main as cli_main
from pytest_mlperf_nv.report.summary import SCHEMA, read_summary
from tests.helpers import digits_suite, write_suite

FAST_OFFLINE = "      Offline: {offline_expected_qps: 2000000, min_duration: 200}\n"
SINGLE = "      SingleStream: {single_stream_expected_latency_ns: 10000}\n"
OUT = Path("mlperf-results")
#: two benchmark ids (two engine groups), so that two shards both get work
TWO_IDS = (
    "mlperf_suite: 1\nbackend: onnxruntime\nprofile: quick\nmodes: [performance]\n"
    "submission: {division: open, model_mapping: {digits: resnet50}}\n"
    "benchmarks:\n  digits:\n    gpu_batch_size: 32\n    modes: [performance, accuracy]\n"
    "    scenarios:\n"
    + FAST_OFFLINE
    + "  digits-b64:\n    benchmark: digits\n    gpu_batch_size: 64\n    scenarios:\n"
    + FAST_OFFLINE
)


@pytest.fixture
def digits(mlperf_env: Path) -> Path:
    write_suite(mlperf_env, digits_suite(FAST_OFFLINE + SINGLE, modes="[performance, accuracy]"))
    return mlperf_env


def external_references(page: str) -> list[str]:
    """Every reference in the page to something outside it (links to ids inside it are fine)."""
    return re.findall(r"(?:src|href)\s*=\s*[\"'](?!#)[^\"']*|url\((?!#)[^)]*\)|@import", page)


def _suite_props(xml: JUnitXml) -> list[tuple[str, str]]:
    return [(p.name, p.value) for suite in xml for p in suite.properties()]


def _case_props(xml: JUnitXml) -> dict[str, dict[str, str]]:
    return {f"{c.classname}::{c.name}": {p.name: p.value for p in c.properties()} for s in xml for c in s}


def test_session_leaves_summaries_report_and_junit_facts(digits: Path, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-p", "no:cacheprovider", "--junitxml=junit.xml")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        ["*MLPerf reports*", "*mlperf-results/summary.json*", "*mlperf-results/report.html*"]
    )
    summary = read_summary(digits / OUT / "summary.json")
    assert summary["schema"] == SCHEMA and summary["version"] == 1
    assert summary["totals"] == {"items": 4, "passed": 4, "failed": 0, "skipped": 0, "regressed": 0}
    items = {i["key"]: i for i in summary["items"]}
    offline = items["cpu::digits::Offline::performance"]
    assert offline["validity"] == "VALID" and offline["metric"]["unit"] == "samples/s"
    assert offline["target"] == {"setting": "offline_expected_qps", "value": 2000000.0, "unit": "samples/s"}
    assert offline["latencies_ms"]["p99"] > 0 and offline["loadgen_version"].startswith(("6.", "5."))
    assert offline["telemetry"] is None and offline["gpus"] == 0  # a CPU suite: no GPU to sample
    assert not (Path(offline["run_dir"]) / "telemetry.json").exists()
    # The child's progress channel: its last state is the run's end, with every sample it completed.
    progress = json.loads((Path(offline["run_dir"]) / "progress.json").read_text())
    status = json.loads((Path(offline["run_dir"]) / "child_status.json").read_text())
    assert progress["phase"] == "done" and progress["samples_completed"] == status["samples_completed"] > 0
    assert progress["samples_expected"] == int(1.1 * 0.2 * 2000000) and progress["expected_s"] == 0.2
    accuracy = items["cpu::digits::Offline::accuracy"]
    assert accuracy["accuracy"]["value"] > 90 and accuracy["accuracy"]["target"] == 90.0  # expect: absent
    assert items["cpu::digits::SingleStream::performance"]["metric"]["unit"] == "ms"

    markdown = (digits / OUT / "summary.md").read_text()
    assert markdown.startswith("## MLPerf results: PASSED\n\n4 passed, 0 failed, 0 skipped")
    assert "| suites/cpu.yaml::digits::Offline::performance | PASS | VALID |" in markdown
    # A CPU session without a baseline: no empty baseline, NVIDIA or GPU power columns.
    assert "| item | verdict | validity | metric | vs target | accuracy |\n" in markdown
    page = (digits / OUT / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count("<figure class='chart'") >= 3
    assert "<script" not in page and external_references(page) == []  # nothing to fetch: opens offline
    assert "the suites run on the CPU (system.gpu: none)" in page
    bigger = json.loads((digits / OUT / "benchmark-action" / "bigger-is-better.json").read_text())
    assert {e["name"] for e in bigger} >= {"cpu::digits::Offline::performance samples_per_second"}

    xml = JUnitXml.fromfile(str(digits / "junit.xml"))
    suite = dict(_suite_props(xml))
    assert suite["mlperf_loadgen_version"].startswith(("6.", "5.")) and suite["mlperf_profile"] == "quick"
    assert suite["mlperf_loadgen_seeds"].startswith("qsl=") and suite["mlperf_round"].startswith("v")
    assert suite["mlperf_system_gpus"].startswith(("none", "1 x", "2 x", "4 x", "8 x"))
    assert len(_suite_props(xml)) == len(suite)  # each written once
    assert all("mlperf_verdict" in props for props in _case_props(xml).values())


def test_xdist_controller_writes_reports_and_suite_properties_once(
    digits: Path, pytester: pytest.Pytester
) -> None:
    result = pytester.runpytest("-p", "no:cacheprovider", "-n", "2", "--junitxml=junit.xml")
    result.assert_outcomes(passed=4)
    summary = read_summary(digits / OUT / "summary.json")
    assert summary["totals"]["passed"] == 4
    assert all(i["metric"] or i["accuracy"] for i in summary["items"])  # contexts came from the workers
    names = [name for name, _ in _suite_props(JUnitXml.fromfile(str(digits / "junit.xml")))]
    assert len(names) == len(set(names)) and "mlperf_session_id" in names


@pytest.mark.parametrize("which", ["suite", "none"])
def test_junit_properties_switch_for_strict_consumers(
    digits: Path, pytester: pytest.Pytester, which: str
) -> None:
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "-k",
        "Offline and performance",
        "--junitxml=junit.xml",
        f"--mlperf-junit-properties={which}",
    )
    result.assert_outcomes(passed=1)
    text = (digits / "junit.xml").read_text()
    assert "<testcase" in text
    xml = JUnitXml.fromfile(str(digits / "junit.xml"))
    assert all(props == {} for props in _case_props(xml).values())
    assert bool(_suite_props(xml)) is (which == "suite")
    result.stdout.fnmatch_lines(["*MLPerf results*", "*Offline::performance*PASS*VALID*"])  # figures stay


def test_bad_report_options_are_usage_errors(digits: Path, pytester: pytest.Pytester) -> None:
    for option, says in (
        ("--mlperf-compare-fail=speed:5%", "FIGURE one of metric"),
        ("--mlperf-shard=3/2", "I must be between 1 and N"),
        ("--mlperf-junit-properties=some", "expected all"),
        ("--mlperf-progress=sometimes", "expected auto, off"),
    ):
        result = pytester.runpytest("--co", option)
        assert result.ret == pytest.ExitCode.USAGE_ERROR, option
        result.stderr.fnmatch_lines([f"*command-line option {option.split('=')[0]}=*{says}*"])
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-k", "Offline and performance", "--mlperf-compare=nightly"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--mlperf-compare: no baseline 'nightly' for machine *"])
    assert "Traceback" not in result.stderr.str()
    assert not (digits / OUT / "runs").exists()  # refused before any item ran


def test_baseline_saved_then_regression_fails_at_the_threshold(
    digits: Path, pytester: pytest.Pytester
) -> None:
    select = ("-p", "no:cacheprovider", "-k", "Offline")
    pytester.runpytest(*select, "--mlperf-save-baseline=main").assert_outcomes(passed=2)
    files = list((digits / OUT / "baselines").glob("*/main.json"))
    assert len(files) == 1
    baseline = json.loads(files[0].read_text())
    assert sorted(baseline["items"]) == [
        "cpu::digits::Offline::accuracy",
        "cpu::digits::Offline::performance",
    ]
    # Figures no machine reaches (1e12 samples/s) and none falls below (1 sample/s): the verdicts
    # below hold however fast or loaded this machine is.
    figures = baseline["items"]["cpu::digits::Offline::performance"]["figures"]
    figures["metric"]["value"] = 1e12
    files[0].write_text(json.dumps(baseline))
    result = pytester.runpytest(
        *select,
        "--mlperf-compare=main",
        "--mlperf-compare-fail=metric:50%",
        "--mlperf-compare-fail=accuracy:0.5",
        "--junitxml=junit.xml",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*digits Offline performance: regressed against baseline main*",
            "*metric regressed beyond metric:50%:*against 1,000,000,000,000.0 samples/s in "
            "the baseline (-100.0 %)",
            "*MLPerf results*",
            "item*verdict*validity*metric*accuracy*vs baseline*cache*run_dir*",
            "*Offline::accuracy *PASS*+0.0 %*",
            "*Offline::performance *PASS*VALID*-100.0 % REGRESSED*",
            "*compared with baseline main*",
            "*Offline::accuracy: +0.0 %*",
        ]
    )
    summary = read_summary(digits / OUT / "summary.json")
    assert summary["totals"]["regressed"] == 1 and summary["baseline"]["thresholds"] == [
        "metric:50%",
        "accuracy:0.5",
    ]
    props = _case_props(JUnitXml.fromfile(str(digits / "junit.xml")))
    assert any(p.get("mlperf_baseline", "").endswith("REGRESSED") for p in props.values())

    # Against a baseline it beats, the same run passes under a tight threshold; the delta is reported.
    figures["metric"]["value"] = 1.0
    files[0].write_text(json.dumps(baseline))
    result = pytester.runpytest(*select, "--mlperf-compare", str(files[0]), "--mlperf-compare-fail=metric:1%")
    result.assert_outcomes(passed=2)
    summary = read_summary(digits / OUT / "summary.json")
    offline = next(i for i in summary["items"] if i["key"] == "cpu::digits::Offline::performance")
    assert offline["baseline"]["figures"]["metric"]["delta_pct"] > 0 and not offline["baseline"]["regressed"]


def _run_shard(root: Path, pytester: pytest.Pytester, index: int, *extra: str) -> None:
    out = root / f"shard{index}"
    # The suite named: the other shard's output dir (in the same directory here) holds copies of it.
    result = pytester.runpytest(
        "suites/cpu.yaml",
        "-p",
        "no:cacheprovider",
        f"--mlperf-shard={index}/2",
        f"--mlperf-out={out}",
        f"--junitxml={out}/junit.xml",
        *extra,
    )
    result.stdout.fnmatch_lines([f"mlperf shard {index}/2: * of 3 items*"])
    assert result.ret == 0


def test_shards_run_their_part_and_merge_checks_gaps_and_overlaps(
    mlperf_env: Path, pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    write_suite(mlperf_env, TWO_IDS)
    _run_shard(mlperf_env, pytester, 1)
    _run_shard(mlperf_env, pytester, 2)
    one = json.loads((mlperf_env / "shard1" / "shard-manifest.json").read_text())
    two = json.loads((mlperf_env / "shard2" / "shard-manifest.json").read_text())
    assert one["plan"] == two["plan"] and one["selection"] == two["selection"]
    assert sorted(one["items"] + two["items"]) == sorted(i for p in one["plan"].values() for i in p["items"])
    assert {len(one["items"]), len(two["items"])} == {1, 2}  # digits (2 items) and digits-b64 apart

    assert (
        cli_main(
            [
                "merge",
                str(mlperf_env / "shard1"),
                str(mlperf_env / "shard2"),
                "--out",
                str(mlperf_env / "merged"),
            ]
        )
        == 0
    )
    merged = read_summary(mlperf_env / "merged" / "summary.json")
    assert merged["totals"]["passed"] == 3 and len(merged["merged_from"]) == 2
    xml = JUnitXml.fromfile(str(mlperf_env / "merged" / "junit.xml"))
    assert len(_case_props(xml)) == 3
    assert (mlperf_env / "merged" / "report.html").is_file() and (
        mlperf_env / "merged" / "summary.md"
    ).is_file()
    tree = mlperf_env / "merged" / "submission" / "open" / "pytest-mlperf-nv"
    assert (tree / "results" / "cpu" / "digits" / "Offline" / "performance" / "run_1").is_dir()
    capsys.readouterr()

    assert cli_main(["merge", str(mlperf_env / "shard1"), "--out", str(mlperf_env / "gap")]) == 1
    assert "gap: shard 2/2 is missing" in capsys.readouterr().err
    assert not (mlperf_env / "gap").exists()  # nothing written
    shutil.copytree(mlperf_env / "shard1", mlperf_env / "shard1-again")
    assert (
        cli_main(
            [
                "merge",
                str(mlperf_env / "shard1"),
                str(mlperf_env / "shard1-again"),
                str(mlperf_env / "shard2"),
                "--out",
                str(mlperf_env / "overlap"),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert "overlap: shard 1/2 given 2 times" in err and "overlap: suites/cpu.yaml::" in err


def test_live_progress_plain_lines_and_quiet(digits: Path, pytester: pytest.Pytester) -> None:
    select = ("-p", "no:cacheprovider", "-k", "Offline and performance", "-p", "no:xdist")
    result = pytester.runpytest(*select, "--mlperf-progress=0.05")
    result.assert_outcomes(passed=1)
    # The child's own count: the last line, written once the run ended, has the samples it completed.
    result.stdout.fnmatch_lines(["mlperf: digits Offline performance: 0:*",
                                 "mlperf: digits Offline performance: 0:*, * samples* (done)"])
    assert "\r" not in result.stdout.str() and "\x1b[" not in result.stdout.str()
    quiet = pytester.runpytest(*select, "--mlperf-progress=0.05", "-q")
    quiet.assert_outcomes(passed=1)
    assert "mlperf: digits Offline" not in quiet.stdout.str()
    off = pytester.runpytest(*select, "--mlperf-progress=off")
    assert "mlperf: digits Offline" not in off.stdout.str()


def test_a_shard_narrows_explain_and_writes_no_manifest(mlperf_env: Path, pytester: pytest.Pytester) -> None:
    write_suite(mlperf_env, TWO_IDS)
    plans = []
    for index in (1, 2):
        result = pytester.runpytest("-p", "no:cacheprovider", "--mlperf-explain", f"--mlperf-shard={index}/2")
        assert result.ret == 0
        lines = result.stdout.lines
        plans.append({line.split()[0] for line in lines if line.startswith("suites/cpu.yaml::")})
    assert plans[0] and plans[1] and not plans[0] & plans[1]  # each item explained by one shard only
    assert len(plans[0] | plans[1]) == 3
    assert not (mlperf_env / OUT / "shard-manifest.json").exists()  # explaining runs and writes nothing


def test_gpu_suite_without_a_driver_records_why_there_is_no_telemetry(mlperf_env: Path,
                                                                      pytester: pytest.Pytester) -> None:
    """A GPU suite on facts from a GPU machine's snapshot runs here (ONNX Runtime on the CPU); NVML has
    no driver here, and the run says so instead of failing."""
    from tests.helpers import REPO

    suite = digits_suite(FAST_OFFLINE).replace("profile: quick\n", "profile: quick\nsystem: {gpu: h200}\n")
    write_suite(mlperf_env, suite)
    snapshot = REPO / "tests" / "data" / "systems" / "h200x1.json"
    result = pytester.runpytest("-p", "no:cacheprovider", f"--mlperf-system-snapshot={snapshot}",
                                "--junitxml=junit.xml")
    result.assert_outcomes(passed=1)
    item = read_summary(mlperf_env / OUT / "summary.json")["items"][0]
    assert item["gpus"] == 1
    telemetry = json.loads((Path(item["run_dir"]) / "telemetry.json").read_text())
    props = _case_props(JUnitXml.fromfile(str(mlperf_env / "junit.xml")))
    (only,) = props.values()
    if telemetry["unavailable"]:  # no driver: the usual case here
        assert item["telemetry"] == {"sampled": False, "why": telemetry["unavailable"]}
        assert only["mlperf_gpu_telemetry"] == f"none: {telemetry['unavailable']}"
    else:  # a machine with a GPU: the samples are summarised
        assert item["telemetry"]["sampled"] and float(only["mlperf_gpu_power_mean_w"]) > 0


def test_gpu_run_telemetry_reaches_its_run_dir_junit_and_summary(
    mlperf_env: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case runner samples the GPU around the harness's run: NVML here is the double (readings
    of a real H200 replayed), everything else is the real session."""
    import sys

    from tests.helpers import REPO
    from tests.reports.nvml_double import NvmlDouble

    readings = [{"power_w": 300 + 10 * n, "sm_clock_mhz": 1980, "temperature_c": 40 + n,
                 "memory_used_mib": 2000, "utilization_pct": 95} for n in range(10)]
    nvml = NvmlDouble([{"name": "NVIDIA H200", "uuid": "GPU-h200", "readings": readings}])
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    suite = digits_suite(FAST_OFFLINE).replace("profile: quick\n", "profile: quick\nsystem: {gpu: h200}\n")
    write_suite(mlperf_env, suite)
    snapshot = REPO / "tests" / "data" / "systems" / "h200x1.json"
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:xdist",
                                f"--mlperf-system-snapshot={snapshot}", "--mlperf-telemetry-interval=0.05",
                                "--junitxml=junit.xml")
    result.assert_outcomes(passed=1)
    assert nvml.inits == 1 and nvml.shutdowns == 1  # opened for the run, closed after it
    item = read_summary(mlperf_env / OUT / "summary.json")["items"][0]
    stored = json.loads((Path(item["run_dir"]) / "telemetry.json").read_text())
    assert stored["unavailable"] is None and len(stored["t_s"]) >= 2  # a first and a last sample at least
    assert item["telemetry"]["sampled"] and item["telemetry"]["mean_power_w"] >= 300
    (props,) = _case_props(JUnitXml.fromfile(str(mlperf_env / "junit.xml"))).values()
    assert float(props["mlperf_gpu_power_mean_w"]) >= 300 and float(props["mlperf_gpu_energy_j"]) > 0
    assert float(props["mlperf_samples_per_joule"]) > 0  # the child's sample count over the energy


def test_live_progress_redrawn_on_a_terminal(mlperf_env: Path) -> None:
    """A real terminal (a pseudo-terminal): the line is drawn below pytest's own, redrawn in place with
    the child's count, and cleared when the item ends."""
    import os
    import pty
    import subprocess
    import sys

    # SingleStream runs queries one after another for its whole minimum duration (5 s here), so the
    # child's progress.json is there for many of the parent's redraws (every 0.5 s).
    write_suite(mlperf_env, digits_suite(
        "      SingleStream: {single_stream_expected_latency_ns: 10000, min_duration: 5000}\n"))
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist"],
                            cwd=mlperf_env, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal's other side closed: the process ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=600) == 0
    text = b"".join(chunks).decode("utf-8", "replace")
    drawn = re.findall(r"\r(digits SingleStream performance: [^\r\n\x1b]*)\x1b\[K", text)
    assert drawn, text[-3000:]
    assert any(re.search(r"\d+:\d\d of ~0:05, [\d,]+ samples", line) for line in drawn), drawn
    assert "\r\x1b[K\x1b[A" in text  # cleared at the end, the cursor back on pytest's line
    assert "mlperf: digits SingleStream" not in text  # no plain lines on a terminal
