"""A harness registered from a user's conftest.py runs a suite end to end, like the built-in ones:
items, verdicts, JUnit properties, result.json, and its results in the submission tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from junitparser.xunit2 import JUnitXml

from tests.helpers import write_suite

CONFTEST = '''
import os
import sys

from pytest_mlperf_nv.harness.api import Harness, HarnessRun, Support
from pytest_mlperf_nv.harness.runner import run_process
from pytest_mlperf_nv.verdict import judge_accuracy

# The system under test: a separate process that answers every sample at once with its index.
SUT = """
import sys
import time
import numpy as np
import mlperf_loadgen as lg

scenario, mode, outdir = sys.argv[1:4]
settings = lg.TestSettings()
settings.FromConfig("", "resnet50", scenario, 0)
settings.scenario = getattr(lg.TestScenario, scenario)
settings.mode = getattr(lg.TestMode, mode)
settings.min_duration_ms = 200
settings.min_query_count = 1
settings.offline_expected_qps = 200000
settings.performance_sample_count_override = 64
answers = np.arange(64, dtype=np.int32)

def issue(samples):
    time.sleep(0.3)  # longer than min_duration, however fast the machine: the run is always VALID
    lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, answers[s.index:].ctypes.data, 4)
                             for s in samples])

sut = lg.ConstructSUT(issue, lambda: None)
qsl = lg.ConstructQSL(64, 64, lambda i: None, lambda i: None)
log = lg.LogSettings()
log.log_output.outdir = outdir
log.enable_trace = False
lg.StartTestWithLogSettings(sut, qsl, settings, log, outdir + "/no-audit.config")
lg.DestroyQSL(qsl)
lg.DestroySUT(sut)
"""


class EchoHarness(Harness):
    name = "echo"

    def supports(self, benchmark, definition, suite):
        return Support(scenarios=("Offline",))

    def run(self, ctx):
        script = ctx.run_dir / "sut.py"
        script.write_text(SUT)
        mode = "AccuracyOnly" if ctx.case.mode == "accuracy" else "PerformanceOnly"
        child = run_process([sys.executable, str(script), ctx.case.scenario, mode, str(ctx.run_dir)],
                            cwd=ctx.run_dir, run_dir=ctx.run_dir, timeout_s=ctx.plan.timeout_s,
                            env=dict(os.environ))
        return HarnessRun(child, ctx.run_dir, section={"script": script.name},
                          properties=[("mlperf_echo", "answered")], framework="Echo 1.0")

    def judge_accuracy(self, ctx, run, result):
        import json as _json

        logged = _json.loads((run.log_dir / "mlperf_log_accuracy.json").read_text())
        right = sum(1 for e in logged if int.from_bytes(bytes.fromhex(e["data"]), "little") == e["qsl_idx"])
        score = {"metric": "echo", "value": 100.0 * right / 64, "good": right, "total": 64,
                 "duplicates": 0, "missing": 64 - len(logged), "expected": 64}
        return judge_accuracy(result, score, 99.0, None)


def pytest_mlperf_register(registry):
    registry.add_harness(EchoHarness())
'''

SUITE = """mlperf_suite: 1
name: echobox
harness: echo
modes: [performance, accuracy]
submission: {division: open, model_mapping: {digits: resnet50}}
benchmarks:
  digits: {}
"""


def test_a_harness_from_a_conftest_runs_a_suite_end_to_end(mlperf_env: Path,
                                                            pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    write_suite(mlperf_env, SUITE, "echobox.yaml")
    result = pytester.runpytest("-p", "no:cacheprovider", "--junitxml=junit.xml", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["suites/echobox.yaml::digits::Offline::performance PASSED*",
                                 "suites/echobox.yaml::digits::Offline::accuracy PASSED*"])
    runs = mlperf_env / "mlperf-results" / "runs" / "echobox" / "digits" / "Offline"
    performance = json.loads((runs / "performance" / "result.json").read_text())
    assert performance["harness"] == "echo" and performance["verdict"] == "PASS"
    assert performance["loadgen"]["validity"] == "VALID"
    assert performance["echo"] == {"script": "sut.py"} and performance["framework"] == "Echo 1.0"
    accuracy = json.loads((runs / "accuracy" / "result.json").read_text())
    assert accuracy["accuracy"]["value"] == 100.0
    props = {f"{case.classname}::{case.name}": {p.name: p.value for p in case.properties()}
             for suite in JUnitXml.fromfile(str(mlperf_env / "junit.xml")) for case in suite}
    perf_props = props["suites.echobox.yaml.digits.Offline::performance"]
    assert perf_props["mlperf_verdict"] == "PASS" and perf_props["mlperf_validity"] == "VALID"
    assert perf_props["mlperf_echo"] == "answered"
    report = json.loads((mlperf_env / "mlperf-results" / "submission-report.json").read_text())
    (entry,) = [r for r in report if r["suite"] == "echobox"]
    assert entry["included"] == ["digits Offline"]
    code = mlperf_env / "mlperf-results" / "submission" / "open" / entry["submitter"] / "src"
    assert "harness echo" in (code / "README.md").read_text()
    system = json.loads((mlperf_env / "mlperf-results" / "submission" / "open" / entry["submitter"]
                         / "systems" / "echobox.json").read_text())
    assert system["framework"] == "Echo 1.0"


def test_a_suite_naming_an_unknown_harness_is_a_collection_error(mlperf_env: Path,
                                                                pytester: pytest.Pytester) -> None:
    write_suite(mlperf_env, SUITE.replace("harness: echo", "harness: ehco"), "echobox.yaml")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*echobox.yaml:3:10: harness: unknown value 'ehco'*"])
    assert "Traceback" not in result.stdout.str()
