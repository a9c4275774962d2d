"""The submission tree a session leaves, and compliance items, end to end through pytest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import CPU_SUITE, digits_suite, write_suite

TREE = Path("mlperf-results") / "submission"
#: far above any CPU's throughput, short: VALID on slow and fast machines (as in cpu.yaml)
FAST_OFFLINE = "      Offline: {offline_expected_qps: 2000000, min_duration: 200}\n"
#: for the slow repeat-cache backend (about 8000 samples/s): a query that lasts min_duration
SLOW_OFFLINE = "      Offline: {offline_expected_qps: 20000, min_duration: 200}\n"
OPEN = TREE / "open" / "pytest-mlperf-nv"
SCENARIOS = ("Offline", "Server", "SingleStream", "MultiStream")


@pytest.fixture
def cpu(mlperf_env: Path) -> Path:
    (mlperf_env / "suites").mkdir()
    shutil.copy(CPU_SUITE, mlperf_env / "suites" / "cpu.yaml")
    return mlperf_env


def _report(root: Path) -> list[dict]:
    return json.loads((root / "mlperf-results" / "submission-report.json").read_text())


def test_default_suite_leaves_an_open_division_tree(cpu: Path, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=9)
    result.stdout.fnmatch_lines([
        "*MLPerf submission*",
        "cpu: open/pytest-mlperf-nv, system cpu, round v6.1, profile quick:*",
        "*results in the tree: 4*",
        "*NOT SUBMITTABLE: profile quick*",
        "*left out: resnet50 Offline: can never be submitted: synthetic data*",
        "*(all of them are kinds a short run cannot avoid)*",
    ])
    base = cpu / OPEN
    system = json.loads((base / "systems" / "cpu.json").read_text())
    assert system["division"] == "open" and system["submitter"] == "pytest-mlperf-nv"
    assert system["system_type"] == "datacenter,edge"
    # Counts are numbers, except a 0 the checker would read as empty ("0" reads as given).
    assert isinstance(system["number_of_nodes"], int) and system["accelerators_per_node"] == "0"
    assert "is_network" not in system  # any value, even "false", switches the network fields on
    assert system["accelerator_model_name"] == "N/A"
    assert system["framework"].startswith("ONNX Runtime ")
    assert json.loads((base / "model_mapping.json").read_text()) == {"digits": "resnet"}
    assert (base / "src" / "README.md").is_file() and (base / "src" / "cpu.suite.yaml").is_file()
    for scenario in SCENARIOS:
        result_dir = base / "results" / "cpu" / "digits" / scenario
        assert sorted(p.name for p in (result_dir / "performance" / "run_1").iterdir()) == [
            "mlperf_log_detail.txt", "mlperf_log_summary.txt"]
        assert sorted(p.name for p in (result_dir / "accuracy").iterdir()) == [
            "accuracy.txt", "mlperf_log_accuracy.json", "mlperf_log_detail.txt", "mlperf_log_summary.txt"]
        accuracy = (result_dir / "accuracy" / "accuracy.txt").read_text()
        assert accuracy.startswith("accuracy=97.222%, good=350, total=360")
        assert "\nhash=" in accuracy
        measurements = json.loads((result_dir / "measurements.json").read_text())
        assert measurements["retraining"] and measurements["input_data_types"] == "fp32"
        readme = (result_dir / "README.md").read_text()
        assert f'pytest suites/cpu.yaml -k "digits and {scenario}"' in readme
        assert "## Not submittable" in readme and "profile quick" in readme
        assert (result_dir / "user.conf").read_text().strip()
    assert not (base / "results" / "cpu" / "resnet50").exists()
    # The run directories keep their full accuracy logs.
    run_log = cpu / "mlperf-results" / "runs" / "cpu" / "digits" / "Offline" / "accuracy" / "accuracy.txt"
    assert "hash=" not in run_log.read_text()
    report = _report(cpu)[0]
    assert report["included"] == [f"digits {s}" for s in SCENARIOS]
    kinds = {f["kind"] for f in report["findings"] if f["severity"] == "error"}
    assert kinds and all(f["unavoidable_for_short_runs"] for f in report["findings"]
                         if f["severity"] == "error"), report["findings"]


def test_rerun_of_a_subset_updates_those_results_and_keeps_the_others(cpu: Path,
                                                                      pytester: pytest.Pytester) -> None:
    pytester.runpytest("-p", "no:cacheprovider", "-k", "digits").assert_outcomes(passed=8)
    results = cpu / OPEN / "results" / "cpu" / "digits"
    before = {s: (results / s / "performance" / "run_1" / "mlperf_log_detail.txt").read_text()
              for s in SCENARIOS}
    pytester.runpytest("-p", "no:cacheprovider", "-k", "digits and Offline").assert_outcomes(passed=2)
    after = {s: (results / s / "performance" / "run_1" / "mlperf_log_detail.txt").read_text()
             for s in SCENARIOS}
    assert after["Offline"] != before["Offline"]
    for scenario in ("Server", "SingleStream", "MultiStream"):
        assert after[scenario] == before[scenario]
    assert sorted(p.name for p in results.iterdir()) == sorted(SCENARIOS)
    leftovers = [p.name for p in (cpu / "mlperf-results").iterdir() if p.name.startswith(".submission")]
    assert leftovers == [".submission.lock"]  # the lock file; no staged or set-aside tree


def test_a_round_the_seeds_do_not_match_is_refused_with_the_wheel_to_install(
        mlperf_env: Path, pytester: pytest.Pytester) -> None:
    write_suite(mlperf_env, digits_suite(
        FAST_OFFLINE,
        extra="submission: {round: v6.0, division: open, model_mapping: {digits: resnet50}}\n"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*left out: digits Offline: runs carry other seeds than v6.0 (performance: v6.1 seeds; "
        "LoadGen 6.0.17*install mlcommons-loadgen==6.0.15 for v6.0 seeds and rerun"])


def test_closed_division_leaves_out_what_is_not_an_mlperf_benchmark(mlperf_env: Path,
                                                                    pytester: pytest.Pytester) -> None:
    write_suite(mlperf_env, digits_suite(FAST_OFFLINE,
                                         extra="submission: {submitter: ACME}\n"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*left out: digits Offline: digits is not an MLPerf benchmark; enter it in the open division with "
        "submission.model_mapping: {digits: <MLPerf benchmark>}*",
        "*  no result entered in the tree"])


def test_tree_false_writes_no_tree(mlperf_env: Path, pytester: pytest.Pytester) -> None:
    write_suite(mlperf_env, digits_suite(FAST_OFFLINE,
                                         extra="submission: {tree: false}\n"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "MLPerf submission" not in result.stdout.str()
    assert not (mlperf_env / TREE).exists()


COMPLIANCE_CONFTEST = '''
import numpy as np

from pytest_mlperf_nv.harness.loadgen.backends import OnnxRuntimeBackend


class RandomBackend(OnnxRuntimeBackend):
    """Answers with random logits: a run never repeats another's responses."""

    def predict(self, batch):
        out = super().predict(batch)
        return np.random.default_rng().standard_normal(out.shape).astype(out.dtype)


class SteadyBackend(OnnxRuntimeBackend):
    """A fixed 4 ms per batch: the time per sample does not depend on which samples come.

    (digits on ONNX Runtime is so small that one sample issued over and over is measurably
    faster than varied samples, and TEST04 calls that caching.)"""

    def predict(self, batch):
        import time

        time.sleep(0.004)
        return super().predict(batch)


class RepeatCacheBackend(SteadyBackend):
    """Steady, except for a batch equal to the one before, which it answers from a cache."""

    last = None

    def predict(self, batch):
        key = batch.tobytes()
        if RepeatCacheBackend.last is not None and RepeatCacheBackend.last[0] == key:
            return RepeatCacheBackend.last[1]
        out = super().predict(batch)
        RepeatCacheBackend.last = (key, out)
        return out


def pytest_mlperf_register(registry):
    registry.add_backend("random", RandomBackend)
    registry.add_backend("repeat-cache", RepeatCacheBackend)
    registry.add_backend("steady", SteadyBackend)
'''

OPEN_DIGITS = "submission: {division: open, model_mapping: {digits: resnet50}}\n"


def _compliance_suite(backend: str = "steady", offline: str = SLOW_OFFLINE) -> str:
    return digits_suite(offline, modes="[performance, accuracy, compliance]", backend=backend,
                        extra=OPEN_DIGITS)


def test_compliance_items_run_last_and_pass_and_land_in_the_tree(mlperf_env: Path,
                                                                pytester: pytest.Pytester) -> None:
    pytester.makeconftest(COMPLIANCE_CONFTEST)
    write_suite(mlperf_env, _compliance_suite())
    collected = pytester.runpytest("--co", "-q", "-p", "no:cacheprovider")
    assert [line for line in collected.outlines if "::" in line] == [
        "suites/cpu.yaml::digits::Offline::performance", "suites/cpu.yaml::digits::Offline::accuracy",
        "suites/cpu.yaml::digits::Offline::TEST01", "suites/cpu.yaml::digits::Offline::TEST04"]
    marked = pytester.runpytest("--co", "-q", "-p", "no:cacheprovider", "-m", "compliance")
    assert [line for line in marked.outlines if "::" in line] == [
        "suites/cpu.yaml::digits::Offline::TEST01", "suites/cpu.yaml::digits::Offline::TEST04"]

    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=4)
    result_dir = mlperf_env / OPEN / "results" / "cpu" / "digits" / "Offline"
    assert "TEST PASS" in (result_dir / "TEST01" / "verify_accuracy.txt").read_text()
    assert "TEST PASS" in (result_dir / "TEST01" / "verify_performance.txt").read_text()
    assert "TEST PASS" in (result_dir / "TEST04" / "verify_performance.txt").read_text()
    assert sorted(p.name for p in (result_dir / "TEST04" / "performance" / "run_1").iterdir()) == [
        "mlperf_log_detail.txt", "mlperf_log_summary.txt"]
    assert (result_dir / "TEST01" / "accuracy" / "mlperf_log_accuracy.json").is_file()
    audit = mlperf_env / "mlperf-results" / "runs" / "cpu" / "digits" / "Offline" / "TEST01"
    assert "accuracy_log_sampling_target" in (audit / "audit.config").read_text()
    record = json.loads((audit / "result.json").read_text())
    assert record["case"]["audit"] == "TEST01" and record["verdict"] == "PASS"
    assert "mismatches: 0" in (result_dir / "TEST01" / "accuracy" / "accuracy.txt").read_text()
    explained = pytester.runpytest("-p", "no:cacheprovider", "--mlperf-explain", "-k", "TEST01")
    explained.stdout.fnmatch_lines(["*audit TEST01: a performance run under this audit.config, verified "
                                    "against the accuracy and performance items of digits Offline:",
                                    "*[*].[*].accuracy_log_rng_seed = 720381539243781796"])


def test_compliance_under_xdist_waits_for_its_references(mlperf_env: Path, pytester: pytest.Pytester) -> None:
    pytester.makeconftest(COMPLIANCE_CONFTEST)
    write_suite(mlperf_env, _compliance_suite())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=4)


def test_a_nondeterministic_backend_fails_test01(mlperf_env: Path, pytester: pytest.Pytester) -> None:
    pytester.makeconftest(COMPLIANCE_CONFTEST)
    # Random answers score about 10 %: a low gate lets the accuracy run pass, so only TEST01 can catch it.
    write_suite(mlperf_env, _compliance_suite("random", FAST_OFFLINE).replace(
        "    scenarios:", "    expect: {min_accuracy: 1.0}\n    scenarios:"))
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "not TEST04")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*digits Offline TEST01: TEST01 FAIL*"])
    verify = mlperf_env / "mlperf-results" / "runs" / "cpu" / "digits" / "Offline" / "TEST01"
    assert "TEST FAIL" in (verify / "verify_accuracy.txt").read_text()


def test_a_repeat_caching_backend_fails_test04(mlperf_env: Path, pytester: pytest.Pytester) -> None:
    pytester.makeconftest(COMPLIANCE_CONFTEST)
    write_suite(mlperf_env, _compliance_suite("repeat-cache"))
    result = pytester.runpytest("-k", "not TEST01")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*digits Offline TEST04: TEST04 FAIL*"])
    # The result still goes into the (quick) tree, without TEST04 and saying why.
    report = _report(mlperf_env)[0]
    assert report["included"] == ["digits Offline"]
    assert any(r.startswith("TEST04 did not pass") for r in report["not_submittable"]["digits Offline"])
    result_dir = mlperf_env / OPEN / "results" / "cpu" / "digits" / "Offline"
    assert not (result_dir / "TEST04").exists()
    # --lf reruns only TEST04: its reference comes from disk at once (no waiting on a deselected item).
    rerun = pytester.runpytest("--lf")
    rerun.assert_outcomes(failed=1, deselected=3)
    rerun.stdout.fnmatch_lines(["*digits Offline TEST04: TEST04 FAIL*"])
    assert "gave up waiting" not in rerun.stdout.str()


def test_a_compliance_item_without_its_reference_run_says_what_to_run(mlperf_env: Path,
                                                                       pytester: pytest.Pytester) -> None:
    pytester.makeconftest(COMPLIANCE_CONFTEST)
    write_suite(mlperf_env, _compliance_suite())
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "TEST04")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*TEST04 needs the performance run of digits Offline, and there is none in*"])


class _InterruptingFacts:
    """System facts whose reading is interrupted (as by Ctrl-C) while the new tree is staged."""

    def __getattr__(self, name: str):
        raise KeyboardInterrupt


def test_an_interrupted_rebuild_leaves_the_previous_tree(cpu: Path, pytester: pytest.Pytester) -> None:
    from pytest_mlperf_nv.plugin import pytest_mlperf_register
    from pytest_mlperf_nv.registry import Registry
    from pytest_mlperf_nv.submission.tree import build_trees, recover
    from pytest_mlperf_nv.suite.schema import load_suite

    pytester.runpytest("-p", "no:cacheprovider", "-k", "digits").assert_outcomes(passed=8)
    out = cpu / "mlperf-results"
    before = {p.relative_to(out): p.read_bytes() for p in (out / "submission").rglob("*") if p.is_file()}
    registry = Registry()
    pytest_mlperf_register(registry)
    suite = load_suite(cpu / "suites" / "cpu.yaml", registry)
    with pytest.raises(KeyboardInterrupt):
        build_trees(out, [(suite, "quick")], _InterruptingFacts())
    after = {p.relative_to(out): p.read_bytes() for p in (out / "submission").rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in out.iterdir() if p.name.startswith(".submission")] == [".submission.lock"]

    # A swap cut between its two renames: the old tree was moved aside, the new one never arrived.
    (out / "submission").rename(out / ".submission.old-4242")
    recover(out)
    restored = {p.relative_to(out): p.read_bytes() for p in (out / "submission").rglob("*") if p.is_file()}
    assert restored == before


def _suite_and_registry(path: Path):
    from pytest_mlperf_nv.harness.loadgen.backends import OnnxRuntimeBackend
    from pytest_mlperf_nv.plugin import pytest_mlperf_register
    from pytest_mlperf_nv.registry import Registry
    from pytest_mlperf_nv.suite.schema import load_suite

    registry = Registry()
    pytest_mlperf_register(registry)
    registry.add_backend("steady", OnnxRuntimeBackend)  # the name the compliance suites use
    return load_suite(path, registry)


def test_check_submission_command_reports_per_result(cpu: Path, pytester: pytest.Pytester,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_mlperf_nv.cli import main

    pytester.runpytest("-p", "no:cacheprovider", "-k", "digits and Offline").assert_outcomes(passed=2)
    capsys.readouterr()
    assert main(["check-submission", str(cpu / TREE)]) == 1  # a quick run's tree is never OK
    out = capsys.readouterr().out
    assert "open/pytest-mlperf-nv/cpu/digits/Offline" in out
    assert "ERROR duration: " in out and "fix: " in out
    assert "OK for a short run" in out
    assert main(["check-submission", str(cpu / "nowhere")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert main(["check-submission", str(cpu / TREE), "--checker", str(cpu)]) == 2
    assert "is not a checkout of mlcommons/inference" in capsys.readouterr().err


def test_an_official_tree_never_takes_a_non_submittable_run(cpu: Path, pytester: pytest.Pytester) -> None:
    from pytest_mlperf_nv.submission.tree import build_trees
    from pytest_mlperf_nv.systems.snapshot import read_snapshot

    pytester.runpytest("-p", "no:cacheprovider", "-k", "digits and Offline").assert_outcomes(passed=2)
    suite = _suite_and_registry(cpu / "suites" / "cpu.yaml")
    facts = read_snapshot(Path(__file__).parents[1] / "data" / "systems" / "cpu-only.json")
    out = cpu / "official-out"
    shutil.copytree(cpu / "mlperf-results" / "runs", out / "runs")
    # The tree goes by the profile each run was made under; these runs say official (an official
    # run takes 10 minutes), while their reasons still say why they are not submittable.
    for path in (out / "runs").rglob("result.json"):
        path.write_text(json.dumps({**json.loads(path.read_text()), "profile": "official"}))
    (report,) = build_trees(out, [(suite, "official")], facts)
    assert report.included == []
    assert ("digits Offline", "not submittable under the official profile: profile quick: shortened LoadGen "
            "settings") in report.left_out
    assert any(e.startswith("digits Offline: left out of the official tree") for e in report.errors)


def test_official_description_lists_the_fields_still_missing(cpu: Path) -> None:
    from pytest_mlperf_nv.harness.loadgen.harness import LoadgenHarness
    from pytest_mlperf_nv.submission import systemdesc
    from pytest_mlperf_nv.submission.layout import Layout
    from pytest_mlperf_nv.systems.snapshot import read_snapshot

    facts = read_snapshot(Path(__file__).parents[1] / "data" / "systems" / "h200x1.json")
    layout = Layout("v6.1", "open", "ACME", "cpu", "impl")
    # A CPU suite on a GPU host: the GPU is not part of the system under test.
    cpu_suite = _suite_and_registry(cpu / "suites" / "cpu.yaml")
    harness = LoadgenHarness()
    desc, _ = systemdesc.describe(cpu_suite, facts, layout, "datacenter", [], harness, official=True)
    assert desc["accelerators_per_node"] == "0" and desc["accelerator_model_name"] == "N/A"
    path = write_suite(cpu, digits_suite("      Offline: {offline_expected_qps: 1000}\n",
                                         extra="system: {gpu: h200, count: 1}\n"), "gpu.yaml")
    suite = _suite_and_registry(path)
    desc, missing = systemdesc.describe(suite, facts, layout, "datacenter", [], harness, official=True)
    assert missing == ["host_memory_configuration", "host_storage_capacity", "host_storage_type",
                       "host_networking", "host_networking_topology", "accelerator_host_interconnect",
                       "accelerator_memory_configuration", "accelerator_interconnect", "cooling"]
    assert desc["accelerator_model_name"] == "NVIDIA H200" and desc["accelerators_per_node"] == 1
    assert desc["host_processor_model_name"] == "Intel(R) Xeon(R) Processor"
    assert "NVIDIA driver 580.159.04" in desc["other_software_stack"]
    quick, _ = systemdesc.describe(suite, facts, layout, "datacenter", [], harness, official=False)
    assert quick["cooling"] == "unknown (set submission.system.cooling)"


def test_v50_layout_has_separate_measurements_compliance_and_code(mlperf_env: Path,
                                                                 pytester: pytest.Pytester) -> None:
    from pytest_mlperf_nv.submission.check import check_tree
    from pytest_mlperf_nv.submission.tree import build_trees

    pytester.makeconftest(COMPLIANCE_CONFTEST)
    path = write_suite(mlperf_env, _compliance_suite().replace(
        OPEN_DIGITS, "submission: {round: v5.0, division: open, model_mapping: {digits: resnet50}}\n"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*left out: digits Offline: runs carry other seeds than v5.0*"
                                 "install mlcommons-loadgen==5.0.21 for v5.0 seeds and rerun"])
    # The layout itself, from these runs with their round relabelled (the check then sees the seeds).
    for record_path in (mlperf_env / "mlperf-results" / "runs").rglob("result.json"):
        record = json.loads(record_path.read_text())
        record_path.write_text(json.dumps({**record, "round": "v5.0"}))
    suite = _suite_and_registry(path)
    (report,) = build_trees(mlperf_env / "mlperf-results", [(suite, "quick")], None)
    base = mlperf_env / TREE / "open" / "pytest-mlperf-nv"
    impl = "pytest-mlperf-nv-steady"
    assert (base / "measurements" / "cpu" / "digits" / "Offline" / f"cpu_{impl}_Offline.json").is_file()
    assert (base / "measurements" / "cpu" / "digits" / "Offline" / "user.conf").is_file()
    assert (base / "code" / "digits" / impl / "README.md").is_file()
    compliance = base / "compliance" / "cpu" / "digits" / "Offline"
    assert "TEST PASS" in (compliance / "TEST01" / "verify_accuracy.txt").read_text()
    assert (compliance / "TEST04" / "performance" / "run_1" / "mlperf_log_summary.txt").is_file()
    assert sorted(p.name for p in (base / "results" / "cpu" / "digits" / "Offline").iterdir()) == [
        "accuracy", "performance"]
    check = check_tree(mlperf_env / TREE, "v5.0")
    kinds = check.kinds()
    assert "wrong-seeds" in kinds
    assert kinds - {"wrong-seeds"} <= {"duration", "samples-per-query", "perf-sample-count", "dataset-size",
                                       "early-stopping"}, check.text()


def test_a_changed_division_moves_the_results_instead_of_copying_them(cpu: Path, pytester: pytest.Pytester
                                                                      ) -> None:
    pytester.runpytest("-p", "no:cacheprovider", "-k", "digits and Offline").assert_outcomes(passed=2)
    assert (cpu / OPEN / "results" / "cpu").is_dir()
    suite = cpu / "suites" / "cpu.yaml"
    suite.write_text(suite.read_text().replace("division: open", "division: open\n  submitter: ACME"))
    pytester.runpytest("-p", "no:cacheprovider", "-k", "digits and Offline").assert_outcomes(passed=2)
    assert (cpu / TREE / "open" / "ACME" / "results" / "cpu" / "digits" / "Offline").is_dir()
    # The suite's results under the old submitter are gone, not left behind as a second entry.
    assert not (cpu / OPEN / "results" / "cpu").exists()
    assert not (cpu / OPEN / "systems" / "cpu.json").exists()
