"""Real runs that fail: LoadGen's own reasons, crashing and hanging backends, timeouts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from junitparser.xunit2 import JUnitXml

from tests.helpers import digits_suite, write_suite

BACKENDS_CONFTEST = '''
import threading

from pytest_mlperf_nv.harness.loadgen.backends import OnnxRuntimeBackend


class ExplodingBackend(OnnxRuntimeBackend):
    """Works for a dozen batches (the child's speed measurement takes at most ten), then raises
    inside the LoadGen run."""

    calls = 0

    def predict(self, batch):
        ExplodingBackend.calls += 1
        if ExplodingBackend.calls > 12:
            raise RuntimeError("backend exploded on purpose")
        return super().predict(batch)


class SilentBackend(OnnxRuntimeBackend):
    """Never answers: the SUT never completes a sample."""

    def predict(self, batch):
        threading.Event().wait()


def pytest_mlperf_register(registry):
    registry.add_backend("exploding", ExplodingBackend)
    registry.add_backend("silent", SilentBackend)
'''


def _failure_text(result: pytest.RunResult, node_part: str) -> list[str]:
    """The failure section of one item, as printed."""
    text = result.stdout.str()
    start = text.index(f"_ {node_part}") if f"_ {node_part}" in text else text.index(node_part)
    block = text[start:].split("\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if line.startswith("_____") or line.startswith("====="):
            break
        lines.append(line)
    return [line for line in lines if line.strip()]


@pytest.mark.parametrize(("scenario", "expected"), [
    ("      Offline: {offline_expected_qps: 10}\n",
     ["*LoadGen result INVALID*",
      "*min duration not met: the Offline query of * samples (expected 10 samples/s) finished in *"
      "needs at least 1000 ms*",
      "*LoadGen recommends: Increase expected QPS*", "*logs: *runs/cpu/digits/Offline/performance*"]),
    ("      Server: {server_target_qps: 500, server_target_latency_ns: 1000}\n",
     ["*LoadGen result INVALID*",
      "*latency constraint not met: p99 latency * ms > bound 0.001 ms at 500* queries/s*",
      "*logs: *runs/cpu/digits/Server/performance*"]),
    ("      MultiStream: {multi_stream_expected_latency_ns: 50000, max_query_count: 100}\n",
     ["*LoadGen result INVALID*", "*min query count not met: 100 queries, needs at least 662*",
      "*early stopping not met: Only processed 100 queries.; Need to process at least 662 queries*",
      "*logs: *runs/cpu/digits/MultiStream/performance*"]),
])
def test_invalid_runs_fail_with_loadgen_reasons(mlperf_env: Path, pytester: pytest.Pytester,
                                                scenario: str, expected: list[str]) -> None:
    write_suite(mlperf_env, digits_suite(scenario))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(expected)
    name = scenario.split(":")[0].strip()
    section = _failure_text(result, f"cpu.yaml::digits::{name}::performance")
    assert len(section) <= 10, section
    assert "Traceback" not in result.stdout.str()
    record = json.loads(next((mlperf_env / "mlperf-results/runs/cpu/digits").glob(
        "*/performance/result.json")).read_text())
    assert record["verdict"] == "FAIL" and record["loadgen"]["validity"] == "INVALID"
    assert record["reasons"]


def test_expect_gates_show_target_and_measured(mlperf_env: Path, pytester: pytest.Pytester) -> None:
    write_suite(mlperf_env, digits_suite(
        "      SingleStream: {single_stream_expected_latency_ns: 20000}\n"
        "      Offline: {offline_expected_qps: 2000000, min_duration: 200}\n",
        modes="[performance, accuracy]").replace(
        "    gpu_batch_size: 32\n",
        "    gpu_batch_size: 32\n"
        "    expect: {min_qps: 1.0e9, max_latency_ms: 0.000001, min_accuracy: 99.9}\n"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=4)
    for pattern in ("*expect.min_qps not met: measured * samples/s, target 1,000,000,000.0*",
                    "*expect.max_latency_ms not met: measured * ms, target 1e-06 ms*",
                    "*accuracy top1 9*% is below the target 99.900% (*/360 right)*"):
        result.stdout.fnmatch_lines([pattern])


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def test_crashing_and_hanging_backends_fail_only_their_items(mlperf_env: Path,
                                                             pytester: pytest.Pytester) -> None:
    pytester.makeconftest(BACKENDS_CONFTEST)
    offline = "      Offline: {offline_expected_qps: 1000000, min_duration: 50}\n"
    write_suite(mlperf_env, digits_suite(offline, backend="exploding"), "a_explode.yaml")
    # Only the hanging suite has a short timeout: the others keep the automatic one, which no
    # busy machine comes near, so only the hang can time out.
    write_suite(mlperf_env, digits_suite(offline, backend="silent", extra="timeout: 5\n"), "b_hang.yaml")
    write_suite(mlperf_env, digits_suite("      SingleStream: {single_stream_expected_latency_ns: 20000}\n"),
                "c_good.yaml")
    result = pytester.runpytest("-p", "no:cacheprovider", "--junitxml=junit.xml")
    result.assert_outcomes(failed=2, passed=1)
    result.stdout.fnmatch_lines([
        "*digits::Offline::performance (a_explode.yaml)*",  # the failure's header: pytest's domain
        "*the run did not complete*",
        "*the run failed: RuntimeError: backend exploded on purpose*",
        "*child stderr (last lines):*",
        "*RuntimeError: backend exploded on purpose*",
    ])
    result.stdout.fnmatch_lines([
        "*digits::Offline::performance (b_hang.yaml)*",
        "*the run did not finish within its timeout of 5 s and was killed; "
        "timeout from suite *b_hang.yaml:5:10; raise the limit with 'timeout: SECONDS' in the suite, "
        "--mlperf-timeout SECONDS or MLPERF_NV_TIMEOUT*",
        "*child state when killed: warming up*",
    ])
    xml = JUnitXml.fromfile(str(mlperf_env / "junit.xml"))
    assert len([c for s in xml for c in s]) == 3
    runs = mlperf_env / "mlperf-results/runs"
    hang = json.loads((runs / "b_hang/digits/Offline/performance/result.json").read_text())
    crash = json.loads((runs / "a_explode/digits/Offline/performance/result.json").read_text())
    assert hang["child"]["timed_out"] is True and hang["verdict"] == "FAIL"
    # Where the limit came from, and that a fixed one never follows the child's report.
    source = hang["child"]["timeout_source"]
    assert source.startswith("suite ") and "b_hang.yaml:5:10" in source
    assert hang["child"]["timeout_followed_s"] is None and hang["child"]["device_wait_s"] >= 0
    # The crash ended the run at once: its child exited by itself, long before any timeout.
    assert crash["child"]["timed_out"] is False and crash["child"]["returncode"] != 0
    # The hung child and its process group are gone.
    status = json.loads((runs / "b_hang/digits/Offline/performance/child_status.json").read_text())
    assert _gone(status["pid"])


def test_stray_audit_config_does_not_change_a_run(mlperf_env: Path, pytester: pytest.Pytester) -> None:
    (mlperf_env / "audit.config").write_text("*.*.mode = 2\n*.*.min_query_count = 123456\n")
    write_suite(mlperf_env, digits_suite("      SingleStream: {single_stream_expected_latency_ns: 20000}\n"))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    run_dir = mlperf_env / "mlperf-results/runs/cpu/digits/SingleStream/performance"
    detail = (run_dir / "mlperf_log_detail.txt").read_text()
    assert '"effective_min_query_count", "value": 123456' not in detail
    assert "audit" not in detail.lower()


def test_an_unusable_cache_dir_is_a_clear_error(mlperf_env: Path, pytester: pytest.Pytester) -> None:
    blocker = mlperf_env / "a-file"
    blocker.write_text("not a directory")
    write_suite(mlperf_env, digits_suite("      SingleStream: {single_stream_expected_latency_ns: 20000}\n"))
    result = pytester.runpytest("-p", "no:cacheprovider", f"--mlperf-cache-dir={blocker}/sub")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) + outcomes.get("errors", 0) == 1
    result.stdout.fnmatch_lines(["*model: cannot use *a-file/sub as the MLPerf cache directory (Not a "
                                 "directory); pass --mlperf-cache-dir to choose a writable directory*"])
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]])
def test_an_unwritable_output_dir_is_one_usage_error_before_any_item(
        mlperf_env: Path, pytester: pytest.Pytester, xdist: list[str]) -> None:
    blocker = mlperf_env / "a-file"
    blocker.write_text("not a directory")
    scenarios = ("      Offline: {offline_expected_qps: 1000}\n"
                 "      SingleStream: {single_stream_expected_latency_ns: 20000}\n")
    suite = write_suite(mlperf_env, digits_suite(scenarios))
    result = pytester.runpytest_subprocess(str(suite), "-p", "no:cacheprovider",
                                           f"--mlperf-out={blocker}/sub", *xdist)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: cannot write the output directory *a-file/sub "
                                 "(Not a directory*a-file; from command-line option --mlperf-out=*): "
                                 "choose a writable directory with --mlperf-out, MLPERF_NV_OUT or the ini "
                                 "key mlperf_out"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert not (mlperf_env / "mlperf-results").exists()


def _default_sigint() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_names_the_interrupted_item_and_marks_its_run(mlperf_env: Path,
                                                             pytester: pytest.Pytester) -> None:
    import signal
    import subprocess
    import sys

    pytester.makeconftest(BACKENDS_CONFTEST)
    write_suite(mlperf_env, digits_suite("      Offline: {offline_expected_qps: 1000}\n", backend="silent"))
    run_dir = mlperf_env / "mlperf-results" / "runs" / "cpu" / "digits" / "Offline" / "performance"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--mlperf-timeout=600"]
    # SIGINT's default disposition for the session under test: a CI step or shell that started this
    # test run in the background (`cmd &` without job control) leaves SIGINT ignored, and an
    # ignored disposition is inherited across exec, so Python would never raise KeyboardInterrupt.
    proc = subprocess.Popen(command, cwd=mlperf_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, preexec_fn=_default_sigint)
    # Generous waits: on a busy machine provisioning (training the digits model) and the session's
    # end (tree, reports) are slow; what is asserted is the mechanism, never a time.
    deadline = time.monotonic() + 1200
    while not (run_dir / "child_status.json").is_file() and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        time.sleep(0.2)  # the run has started: its child wrote its status
    started = (run_dir / "child_status.json").is_file()
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=900)
    assert started, f"the run never started within 20 minutes:\n{output}"
    item = "suites/cpu.yaml::digits::Offline::performance"
    assert f"{item} was running when the session was interrupted" in output, output
    record = json.loads((run_dir / "result.json").read_text())
    assert record["verdict"] == "FAIL" and record["reasons"][0].startswith("interrupted:"), (record, output)
