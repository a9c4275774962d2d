"""harness: nvidia against the emulator of NVIDIA's code (tests/fakes/nvidia), which runs real LoadGen."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import REPO, write_suite

EMULATOR = REPO / "tests" / "fakes" / "nvidia"
H200 = REPO / "tests" / "data" / "systems" / "h200x1.json"


@pytest.fixture
def code_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the emulated closed/NVIDIA tree (it writes build/ beside its code)."""
    copy = tmp_path / "nvidia"
    shutil.copytree(EMULATOR, copy, ignore=shutil.ignore_patterns("build", "__pycache__"))
    monkeypatch.setenv("EMULATED_SYSTEM_ID", "H200-SXM-141GBx1")
    for name in ("EMULATED_FAILURE", "MLPERF_NV_NVIDIA_CODE_DIR", "MLPERF_NV_HARNESS", "MLPERF_SCRATCH_PATH",
                 "EMULATED_RESPONSES", "EMULATED_QSL_SIZE"):
        monkeypatch.delenv(name, raising=False)
    # The ground truth the plugin scores resnet50 against, in NVIDIA's data_maps: one label per QSL
    # sample (1024), all 0, the class the emulated model answers; NVIDIA's own check agrees.
    val_map = "".join(f"ILSVRC2012_val_{i + 1:08d}.JPEG\t0\n" for i in range(1024))
    for version in ("v4.1", "v5.0"):
        (copy / version / "data_maps" / "imagenet").mkdir(parents=True)
        (copy / version / "data_maps" / "imagenet" / "val_map.txt").write_text(val_map)
    monkeypatch.setenv("EMULATED_ACCURACY", "100")
    return copy / "v4.1"


def _suite(code_dir: Path | None, scenarios: str, modes: str = "[performance]",
           benchmark: str = "resnet50") -> str:
    nvidia = f"nvidia: {{code_dir: {code_dir}}}\n" if code_dir else ""
    return (f"mlperf_suite: 1\nname: h200\nsystem: {{gpu: h200, count: 1}}\nharness: nvidia\n{nvidia}"
            f"profile: quick\nmodes: {modes}\nbenchmarks:\n  {benchmark}:\n    scenarios:\n{scenarios}")


OFFLINE = "      Offline: {offline_expected_qps: 5000000, min_duration: 100, gpu_batch_size: 2048}\n"
# A Server latency bound no stall of a busy runner reaches: the verdict must not depend on load.
SLACK = "server_target_latency_ns: 10000000000"
SERVER = "      Server: {server_target_qps: 3000, min_duration: 500, use_graphs: true, " + SLACK + "}\n"


def _record(root: Path, scenario: str, mode: str, bench: str = "resnet50") -> dict:
    path = root / f"mlperf-results/runs/h200/{bench}/{scenario}/{mode}/result.json"
    return json.loads(path.read_text())


def _effective(record: dict) -> dict:
    from pytest_mlperf_nv.harness.logs import read_detail

    detail, _ = read_detail(Path(record["nvidia"]["log_dir"]) / "mlperf_log_detail.txt")
    return detail


def test_runs_pass_as_the_emulated_logs_say_with_the_suite_settings(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path) -> None:
    write_suite(mlperf_env, _suite(code_dir, OFFLINE + SERVER, "[performance, accuracy]"), "h200.yaml")
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}", "-n", "2")
    result.assert_outcomes(passed=4)
    offline = _record(mlperf_env, "Offline", "performance")
    assert offline["loadgen"]["validity"] == "VALID"
    # NVIDIA's own summary calls every run under 600 s INVALID; the verdict reads LoadGen's logs.
    assert "Result is INVALID" in offline["nvidia"]["metadata"]["summary_string"]
    assert "--gpu_batch_size=resnet50:2048" in offline["nvidia"]["arguments"]
    assert "--test_run" in offline["nvidia"]["arguments"]
    # The effective LoadGen settings in the emulated logs are the suite's knobs.
    detail = _effective(offline)
    assert detail["effective_target_qps"] == 5_000_000 and detail["effective_min_duration_ms"] == 100
    server = _record(mlperf_env, "Server", "performance")
    detail = _effective(server)
    assert detail["effective_target_qps"] == 3000 and detail["effective_min_duration_ms"] == 500
    assert "--use_graphs" in server["nvidia"]["arguments"]
    accuracy = _record(mlperf_env, "Offline", "accuracy")
    assert accuracy["verdict"] == "PASS" and accuracy["accuracy"]["scored_by"] == "pytest-mlperf-nv"
    assert accuracy["accuracy"]["nvidia"]["scored_by"] == "NVIDIA's accuracy check"
    assert accuracy["accuracy"]["agreement"] is True
    # Each item had its own LOG_DIR inside its run directory.
    assert Path(offline["nvidia"]["log_dir"]).is_relative_to(mlperf_env / "mlperf-results")


def test_make_stages_and_engines_are_built_once_and_reused(mlperf_env: Path, pytester: pytest.Pytester,
                                                           code_dir: Path) -> None:
    write_suite(mlperf_env, _suite(code_dir, OFFLINE, "[performance, accuracy]"), "h200.yaml")
    pytester.runpytest(f"--mlperf-system-snapshot={H200}").assert_outcomes(passed=2)
    hits = sorted(_record(mlperf_env, "Offline", m)["provisioning"]["engine"]["cache_hit"]
                  for m in ("performance", "accuracy"))
    assert hits == [False, True]
    assert list((code_dir / "build" / "engines").rglob("*.plan"))
    # NVIDIA's make targets that code.main has no action for ran once each, into NVIDIA's tree.
    assert (code_dir / "build/models/resnet50/.downloaded").is_file()
    assert (code_dir / "build/preprocessed_data/resnet50/.preprocessed").is_file()
    assert (code_dir / "build/.built").read_text().strip() == "v4.1"
    stages = [_record(mlperf_env, "Offline", m)["nvidia"]["stages"] for m in ("performance", "accuracy")]
    assert sorted(s["download_model"]["cache_hit"] for s in stages) == [False, True]
    pytester.runpytest(f"--mlperf-system-snapshot={H200}").assert_outcomes(passed=2)
    assert _record(mlperf_env, "Offline", "performance")["provisioning"]["engine"]["cache_hit"] is True


@pytest.mark.parametrize(("env", "bench", "expected"), [
    ({"EMULATED_FAILURE": "invalid"}, "resnet50", ["*LoadGen result INVALID*", "*min duration not met*"]),
    ({"EMULATED_FAILURE": "engine_build"}, "resnet50",
     ["*engine build failed*", "*NVIDIA's generate_engines failed: the child process exited with status*"]),
    ({"EMULATED_SYSTEM_ID": "Mystery-GPUx1"}, "resnet50",
     ["*NVIDIA's code does not know this machine*Detected system did not match any known systems*"]),
    ({}, "dlrm-v2-99", ["*NVIDIA's code has no config for this case (No registered config for*"]),
])
def test_failures_of_nvidia_code_fail_the_item_with_the_cause(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path, monkeypatch: pytest.MonkeyPatch,
        env: dict[str, str], bench: str, expected: list[str]) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("EMULATED_SYSTEM_ID", env.get("EMULATED_SYSTEM_ID", "L4x1" if bench != "resnet50"
                                                     else "H200-SXM-141GBx1"))
    write_suite(mlperf_env, _suite(code_dir, OFFLINE.replace(", gpu_batch_size: 2048", ""),
                                   benchmark=bench), "h200.yaml")
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}")
    result.assert_outcomes(failed=1)
    for pattern in expected:
        result.stdout.fnmatch_lines([pattern])
    assert "Traceback" not in result.stdout.str().split("MLPerf results")[0].split("FAILURES")[-1] or \
        "child stderr" in result.stdout.str()


def test_without_nvidia_code_items_skip_saying_how_to_point_at_it(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path) -> None:
    write_suite(mlperf_env, _suite(None, OFFLINE.replace("}", ", use_graphs: true}")), "h200.yaml")
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED*NVIDIA's MLPerf code is not configured: point nvidia.code_dir in "
                                 "the suite, --mlperf-nvidia-code-dir*--mlperf-harness loadgen*"])
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}", "--mlperf-strict")
    result.assert_outcomes(failed=1)
    # The same suite on the built-in harness: NVIDIA-only knobs are listed, not errors.
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}", "--mlperf-harness=loadgen", "-rs",
                                "--junitxml=junit.xml")
    result.stdout.fnmatch_lines(["*running on harness loadgen (--mlperf-harness) instead of nvidia; knobs "
                                 "it cannot honour are ignored: "
                                 "benchmarks.resnet50.scenarios.Offline.use_graphs*"])
    # resnet50 on the built-in harness needs ImageNet: it skips and says so.
    result.assert_outcomes(skipped=1)
    # With the option pointing at the code, it runs.
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}", f"--mlperf-nvidia-code-dir={code_dir}")
    result.assert_outcomes(passed=1)


def test_the_shipped_h200_suite_runs_every_benchmark_and_scenario_on_the_emulator(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path) -> None:
    """resnet50, retinanet, bert-99, 3d-unet-99, dlrm-v2-99, gptj-99, llama2-70b-99 in their datacenter
    scenarios, both modes, two xdist workers; settings from NVIDIA's H200 configs and the command line.
    Only resnet50 has ground truth here (the data_maps of NVIDIA's code); test_accuracy_items.py scores
    each."""
    write_suite(mlperf_env, f"mlperf_suite: 1\nextends: {REPO / 'pytest_mlperf_nv/suites/h200.yaml'}\n"
                            f"nvidia: {{code_dir: {code_dir}}}\n", "h200.yaml")
    result = pytester.runpytest_subprocess(
        f"--mlperf-system-snapshot={H200}", "-n", "2", "-p", "no:cacheprovider",
        "--mlperf-set", "*.Offline.offline_expected_qps=5e6", "--mlperf-set", "*.Offline.min_duration=100",
        "--mlperf-set", "*.Server.min_duration=500", "--mlperf-set", "*.Server.server_target_qps=3000",
        "--mlperf-set", "*.Server.server_target_latency_ns=10000000000")
    # Accuracy items whose ground truth is not in NVIDIA's scratch layout skip before their run, naming it.
    result.assert_outcomes(passed=15, skipped=11)
    result.stdout.fnmatch_lines(["*bert-99 accuracy needs the SQuAD v1.1 dev set (dev-v1.1.json): not found "
                                 "at */build/data/squad/dev-v1.1.json*"])
    bert = _record(mlperf_env, "Offline", "performance", bench="bert-99")
    # On NVIDIA's own H200 system its config is the default: the h200 profile's batch size is no override.
    assert not any(a.startswith("--gpu_batch_size=") for a in bert["nvidia"]["arguments"])
    detail = _effective(_record(mlperf_env, "Server", "performance", bench="llama2-70b-99"))
    assert detail["effective_target_qps"] == 3000 and detail["effective_min_duration_ms"] == 500
    assert {_record(mlperf_env, s, "performance", bench="dlrm-v2-99")["worker"]
            for s in ("Offline", "Server")} <= {"gw0", "gw1"}


# --- machines NVIDIA's code does not know: generated custom-system definitions ----------------------------
def _unknown_machine(monkeypatch: pytest.MonkeyPatch, snapshot: Path = H200) -> None:
    """The emulator detects the hardware of ``snapshot`` (the recorded H200 VM matches no NVIDIA system)."""
    monkeypatch.delenv("EMULATED_SYSTEM_ID")
    monkeypatch.setenv("EMULATED_HARDWARE", str(snapshot))


def _junit_properties(path: Path) -> list[dict[str, str]]:
    import xml.etree.ElementTree as ET

    return [{p.get("name"): p.get("value") for p in case.iter("property")}
            for case in ET.parse(path).getroot().iter("testcase")]


def test_an_unknown_system_gets_a_custom_definition_and_proceeds(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _unknown_machine(monkeypatch)
    write_suite(mlperf_env, _suite(code_dir, OFFLINE, "[performance, accuracy]"), "h200.yaml")
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}", "--junitxml=junit.xml")
    result.assert_outcomes(passed=2)
    performance, accuracy = (_record(mlperf_env, "Offline", m) for m in ("performance", "accuracy"))
    custom = performance["nvidia"]["custom_system"]
    assert custom["system_id"] == "Custom_H200x1" and custom["mode"] == "auto"
    assert custom["reason"] == ("NVIDIA's code answered \"Detected system did not match any known systems\" "
                                "on generate_engines")
    definition = Path(custom["definition"])
    assert definition.parent == code_dir / "build" / "pytest-mlperf-nv" / "custom"
    assert "KnownGPU.H200_SXM_141GB.value: 1" in (definition / "custom_systems/custom_list.py").read_text()
    # NVIDIA's code ran as the custom system: its logs are under Custom_H200x1_TRT.
    assert Path(performance["nvidia"]["log_dir"]).parent.parent.name == "Custom_H200x1_TRT"
    assert performance["loadgen"]["validity"] == "VALID"
    assert accuracy["verdict"] == "PASS" and accuracy["accuracy"]["scored_by"] == "pytest-mlperf-nv"
    # The machine is remembered as unknown: the second item went straight to the definition.
    assert accuracy["nvidia"]["custom_system"]["reason"].startswith(
        "NVIDIA's code did not know this machine on an earlier run (stamp ")
    assert accuracy["nvidia"]["custom_system"]["definition"] == str(definition)
    assert len(list((code_dir / "build/pytest-mlperf-nv").glob("unknown-system-*.json"))) == 1
    assert {p.get("mlperf_nvidia_custom_system") for p in _junit_properties(mlperf_env / "junit.xml")} \
        == {"Custom_H200x1"}
    # A later session: no unknown-system detour, and the engine built under the definition is reused.
    pytester.runpytest(f"--mlperf-system-snapshot={H200}").assert_outcomes(passed=2)
    again = _record(mlperf_env, "Offline", "performance")
    assert again["nvidia"]["custom_system"]["reason"].startswith("NVIDIA's code did not know this machine on")
    assert again["provisioning"]["engine"]["cache_hit"] is True
    assert not (again["run_dir"] and (Path(again["run_dir"]) / "unknown-system").exists())


def test_custom_system_never_keeps_the_failure_and_names_the_option(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _unknown_machine(monkeypatch)
    suite = _suite(code_dir, OFFLINE).replace(f"nvidia: {{code_dir: {code_dir}}}",
                                              f"nvidia: {{code_dir: {code_dir}, custom_system: never}}")
    write_suite(mlperf_env, suite, "h200.yaml")
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*NVIDIA's code does not know this machine (\"Detected system did not match "
                                 "any known systems\"), and nvidia.custom_system is never: set "
                                 "nvidia.custom_system to auto (the default) or always*"])
    assert _record(mlperf_env, "Offline", "performance")["nvidia"]["custom_system"] is None
    assert not (code_dir / "build/pytest-mlperf-nv/custom").exists()


def test_a_false_boolean_reaches_nvidias_code_through_a_generated_config(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _unknown_machine(monkeypatch)
    server = "      Server: {server_target_qps: 3000, min_duration: 500, use_graphs: false, " + SLACK + "}\n"
    suite = _suite(code_dir, server)
    # Without a generated definition a false boolean cannot reach NVIDIA's code: a collection error at
    # the knob, naming the way out.
    write_suite(mlperf_env, suite, "h200.yaml")
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*h200.yaml:*:*: use_graphs: false cannot be passed to NVIDIA's "
                                 "code*set 'nvidia.custom_system: always' in the suite*"])
    assert "Traceback" not in result.stdout.str()
    always = suite.replace(f"nvidia: {{code_dir: {code_dir}}}",
                           f"nvidia: {{code_dir: {code_dir}, custom_system: always}}")
    write_suite(mlperf_env, always, "h200.yaml")
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}")
    result.assert_outcomes(passed=1)
    record = _record(mlperf_env, "Server", "performance")
    assert record["nvidia"]["custom_system"]["reason"] == "nvidia.custom_system is always"
    assert not any("use_graphs" in a for a in record["nvidia"]["arguments"])
    # NVIDIA's H200 Server config turns CUDA graphs on; the generated config (extending it) turns them off.
    assert "use_graphs : False" in (Path(record["run_dir"]) / "stdout.txt").read_text()
    definition = Path(record["nvidia"]["custom_system"]["definition"])
    assert "    use_graphs = False\n" in (definition / "custom_configs/resnet50/Server/custom.py").read_text()
    assert _effective(record)["effective_target_qps"] == 3000


def test_always_on_a_machine_nvidia_knows_fails_saying_its_own_system_won(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path) -> None:
    """NVIDIA's code matches its known systems before custom ones: the generated config is not used."""
    suite = _suite(code_dir, OFFLINE).replace(f"nvidia: {{code_dir: {code_dir}}}",
                                              f"nvidia: {{code_dir: {code_dir}, custom_system: always}}")
    write_suite(mlperf_env, suite, "h200.yaml")
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*NVIDIA's code matched its own system H200-SXM-141GBx1 before the "
                                 "generated custom system Custom_H200x1*leave nvidia.custom_system at auto*"])


def test_an_unknown_gpu_without_a_target_knob_is_a_clear_error(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    snapshot = H200.parent / "rtx4090x1.json"
    _unknown_machine(monkeypatch, snapshot)
    suite = _suite(code_dir, "      Offline: {gpu_batch_size: 64, min_duration: 100}\n").replace(
        "gpu: h200", "gpu: custom")
    write_suite(mlperf_env, suite, "h200.yaml")
    # Known at collection: NVIDIA has no config for this GPU, so the case cannot run without the target.
    result = pytester.runpytest(f"--mlperf-system-snapshot={snapshot}", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines([
        "*NVIDIA's v4.1 code has no config to start from for resnet50 Offline on this GPU (profile custom), "
        "so the generated config needs offline_expected_qps: add offline_expected_qps to "
        "benchmarks.resnet50.scenarios.Offline in the suite*"])
    # With the knob, the run proceeds on the generated GPU entry.
    suite = suite.replace("min_duration: 100", "min_duration: 100, offline_expected_qps: 5e6")
    write_suite(mlperf_env, suite, "h200.yaml")
    pytester.runpytest(f"--mlperf-system-snapshot={snapshot}").assert_outcomes(passed=1)
    record = _record(mlperf_env, "Offline", "performance")
    assert record["nvidia"]["custom_system"]["system_id"] == "Custom_GeForce_RTX_4090x1"
    assert Path(record["nvidia"]["log_dir"]).parent.parent.name == "Custom_GeForce_RTX_4090x1_TRT"


def test_two_xdist_workers_share_one_definition(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _unknown_machine(monkeypatch)
    write_suite(mlperf_env, _suite(code_dir, OFFLINE, "[performance, accuracy]"), "h200.yaml")
    result = pytester.runpytest_subprocess(f"--mlperf-system-snapshot={H200}", "-n", "2", "-p",
                                           "no:cacheprovider")
    result.assert_outcomes(passed=2)
    records = [_record(mlperf_env, "Offline", m) for m in ("performance", "accuracy")]
    assert {r["worker"] for r in records} == {"gw0", "gw1"}
    custom = code_dir / "build/pytest-mlperf-nv/custom"
    assert len(list(custom.iterdir())) == 1  # one definition, no temporary directory left
    assert {r["nvidia"]["custom_system"]["definition"] for r in records} == {str(next(custom.iterdir()))}


def test_edge_scenarios_run_with_the_suite_settings(mlperf_env: Path, pytester: pytest.Pytester,
                                                    code_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SingleStream and MultiStream on the emulated H100 (NVIDIA's H200 system has no configs for them):
    the LoadGen settings in the logs are the knobs."""
    monkeypatch.setenv("EMULATED_SYSTEM_ID", "DGX-H100_H100-SXM-80GBx1")
    # Expected latencies below what the trivial SUT takes, so LoadGen never runs out of queries; a
    # query count that early stopping accepts, so a busy machine's few queries in min_duration do not
    # decide the verdict.
    scenarios = ("      SingleStream: {single_stream_expected_latency_ns: 1000, min_duration: 100,\n"
                 "                     min_query_count: 1024}\n"
                 "      MultiStream: {multi_stream_expected_latency_ns: 4000, min_duration: 100,\n"
                 "                    multi_stream_samples_per_query: 8, min_query_count: 1024}\n")
    suite = _suite(code_dir, scenarios) + ("  3d-unet-99:\n    scenarios:\n      SingleStream: "
                                           "{single_stream_expected_latency_ns: 1000, min_duration: 50,\n"
                                           "                     min_query_count: 1024}\n")
    write_suite(mlperf_env, suite.replace("gpu: h200", "gpu: h100"), "h200.yaml")
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200.parent / 'h100x1.json'}")
    result.assert_outcomes(passed=3)
    single = _effective(_record(mlperf_env, "SingleStream", "performance"))
    assert single["effective_scenario"] == "SingleStream"
    assert single["effective_target_qps"] == 1e9 / 1000  # LoadGen logs the expected latency as a rate
    assert single["effective_min_duration_ms"] == 100
    multi = _effective(_record(mlperf_env, "MultiStream", "performance"))
    assert multi["effective_scenario"] == "MultiStream"
    assert multi["effective_target_qps"] == 1e9 / 4000
    assert multi["effective_samples_per_query"] == 8 and multi["effective_min_duration_ms"] == 100
    unet = _record(mlperf_env, "SingleStream", "performance", bench="3d-unet-99")
    assert Path(unet["nvidia"]["log_dir"]).parts[-2:] == ("3d-unet-99", "SingleStream")
    detail = _effective(unet)
    assert detail["effective_target_qps"] == 1e9 / 1000 and detail["effective_min_duration_ms"] == 50


def test_compliance_audits_and_the_submission_tree_come_from_nvidias_logs(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_mlperf_nv.submission.check import check_tree

    # A steady emulated device (1,000 samples/s): the audits compare throughputs within 10 %, so the
    # device's time must dwarf LoadGen's own per-sample work, which a busy machine slows (35 us a
    # sample under load would be 70 % of a 50 us device, 3.5 % of this one).
    monkeypatch.setenv("EMULATED_SAMPLE_US", "1000")
    offline = "      Offline: {offline_expected_qps: 1000, min_duration: 1000, gpu_batch_size: 2048}\n"
    suite = _suite(code_dir, offline, modes="[performance, accuracy, compliance]").replace(
        "profile: quick\n", "profile: quick\nsubmission: {submitter: ACME, system: {system_type: edge}}\n")
    write_suite(mlperf_env, suite, "h200.yaml")
    result = pytester.runpytest("-p", "no:cacheprovider", f"--mlperf-system-snapshot={H200}")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["suites/h200.yaml::resnet50::Offline::TEST01 *PASS*VALID*",
                                 "suites/h200.yaml::resnet50::Offline::TEST04 *PASS*VALID*"])
    test01 = _record(mlperf_env, "Offline", "TEST01")
    assert "--action=run_audit_harness" in test01["nvidia"]["arguments"]
    assert "--audit_test=TEST01" in test01["nvidia"]["arguments"]
    assert "/TEST01/" in test01["nvidia"]["log_dir"] and test01["audit"]["verification"]
    # NVIDIA's compliance_logs were moved into the item's run dir: nothing is left to be overwritten.
    assert not list((code_dir / "build" / "compliance_logs").rglob("mlperf_log_detail.txt"))

    base = mlperf_env / "mlperf-results" / "submission" / "closed" / "ACME"
    result_dir = base / "results" / "h200" / "resnet" / "Offline"
    system = json.loads((base / "systems" / "h200.json").read_text())
    assert system["accelerator_model_name"] == "NVIDIA H200" and system["accelerators_per_node"] == 1
    assert system["framework"].startswith("TensorRT ")
    assert (result_dir / "accuracy" / "accuracy.txt").read_text().startswith("accuracy=100.000%")
    assert "resnet50.Offline.target_qps = 1000" in (result_dir / "user.conf").read_text()
    assert "TEST PASS" in (result_dir / "TEST01" / "verify_accuracy.txt").read_text()
    assert "TEST PASS" in (result_dir / "TEST04" / "verify_performance.txt").read_text()
    readme = (result_dir / "README.md").read_text()
    assert "harness `nvidia`" in readme and 'pytest suites/h200.yaml -k "resnet50 and Offline"' in readme
    # The plugin's own check: besides what a short run cannot avoid, only that a closed edge system
    # also needs SingleStream and MultiStream results for resnet.
    check = check_tree(mlperf_env / "mlperf-results" / "submission")
    avoidable = check.avoidable()
    assert {f.kind for f in avoidable} == {"missing-scenario"}, check.text()
    assert sorted(f.message.rsplit("; ", 1)[1] for f in avoidable) == [
        "MultiStream is missing", "SingleStream is missing"]


def test_a_false_default_from_a_gpu_profile_is_left_to_nvidias_config(mlperf_env: Path,
                                                                       pytester: pytest.Pytester) -> None:
    # t4's profile says use_small_tile_gemm_plugin: false for bert Server (the seed's "no"); NVIDIA's
    # flags cannot say false, so the knob is left out and NVIDIA's T4 config applies.
    write_suite(mlperf_env, "mlperf_suite: 1\nextends: t4.yaml\n", "my-t4.yaml")
    result = pytester.runpytest("--mlperf-explain", "-k", "bert-99 and Server and performance")
    result.stdout.fnmatch_lines(["*python3 -m code.main --benchmarks=bert-99 --scenarios=server*"])
    assert "use_small_tile_gemm_plugin" not in result.stdout.str()
    assert "cannot pass" not in result.stdout.str()


def _era_loadgen(version: str) -> Path:
    """mlcommons-loadgen ``version`` pip-installed once into a per-user test cache (skip without PyPI)."""
    import os
    import subprocess
    import sys
    import tempfile

    # Not under HOME: pytester points HOME at each test's own directory.
    target = Path(tempfile.gettempdir()) / f"pytest-mlperf-nv-tests-{os.getuid()}" / f"loadgen-{version}"
    if not (target / ".complete").is_file():
        staging = target.with_name(target.name + ".staging")
        shutil.rmtree(staging, ignore_errors=True)
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                               "--only-binary=:all:", "--target", str(staging),
                               f"mlcommons-loadgen=={version}"], capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            pytest.skip(f"mlcommons-loadgen=={version} cannot be installed here (no PyPI?): "
                        f"{proc.stderr.strip()[-300:]}")
        staging.mkdir(parents=True, exist_ok=True)
        (staging / ".complete").write_text(version)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target


def test_v50_code_with_its_eras_loadgen_gives_a_v50_tree(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NVIDIA's v5.0 code with LoadGen 5.0.21 (v5.0 seeds): the round is v5.0 and so is the tree."""
    from pytest_mlperf_nv.submission.check import check_tree

    monkeypatch.setenv("EMULATED_LOADGEN_PATH", str(_era_loadgen("5.0.21")))
    v50 = code_dir.parent / "v5.0"
    suite = _suite(v50, OFFLINE, modes="[performance, accuracy]").replace(
        "profile: quick\n", "profile: quick\nsubmission: {round: v5.0, submitter: ACME, "
                            "system: {system_type: datacenter}}\n")
    write_suite(mlperf_env, suite, "h200.yaml")
    result = pytester.runpytest("-p", "no:cacheprovider", f"--mlperf-system-snapshot={H200}")
    result.assert_outcomes(passed=2)
    record = _record(mlperf_env, "Offline", "performance")
    assert record["versions"]["loadgen"].startswith("5.0.21")
    assert record["round"] == "v5.0"
    base = mlperf_env / "mlperf-results" / "submission" / "closed" / "ACME"
    assert (base / "results" / "h200" / "resnet" / "Offline" / "performance" / "run_1").is_dir()
    assert list((base / "measurements" / "h200" / "resnet" / "Offline").glob("h200_*_Offline.json"))
    check = check_tree(mlperf_env / "mlperf-results" / "submission")
    assert check.round == "v5.0"
    assert "wrong-seeds" not in check.kinds(), check.text()


def test_explain_shows_the_audit_action_for_a_compliance_item(mlperf_env: Path, pytester: pytest.Pytester,
                                                               code_dir: Path) -> None:
    write_suite(mlperf_env, _suite(code_dir, OFFLINE, modes="[performance, compliance]"), "h200.yaml")
    result = pytester.runpytest("--mlperf-explain", "-k", "TEST04")
    result.stdout.fnmatch_lines(["*h200.yaml::resnet50::Offline::TEST04",
                                 "*python3 -m code.main *--audit_test=TEST04 --no_audit_verify "
                                 "--action=run_audit_harness"])


def test_calibrate_runs_once_before_the_engines_when_asked(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite = _suite(code_dir, OFFLINE).replace(f"code_dir: {code_dir}}}",
                                              f"code_dir: {code_dir}, calibrate: true}}")
    write_suite(mlperf_env, suite, "h200.yaml")
    result = pytester.runpytest("-p", "no:cacheprovider", f"--mlperf-system-snapshot={H200}")
    result.assert_outcomes(passed=1)
    assert (code_dir / "build" / "calibration" / "resnet50" / "calibrator.cache").is_file()
    stages = _record(mlperf_env, "Offline", "performance")["nvidia"]["stages"]
    assert stages["calibrate"]["cache_hit"] is False
    pytester.runpytest("-p", "no:cacheprovider", f"--mlperf-system-snapshot={H200}").assert_outcomes(passed=1)
    assert _record(mlperf_env, "Offline", "performance")["nvidia"]["stages"]["calibrate"]["cache_hit"] is True
    # A failing calibration fails the item with NVIDIA's error, and builds no engine.
    monkeypatch.setenv("EMULATED_FAILURE", "engine_build")
    write_suite(mlperf_env, suite.replace("resnet50", "retinanet").replace(", gpu_batch_size: 2048", ""),
                "h200.yaml")
    result = pytester.runpytest("-p", "no:cacheprovider", f"--mlperf-system-snapshot={H200}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*NVIDIA's calibrate failed*"])
    bad = suite.replace("calibrate: true", "calibrate: yes please")
    write_suite(mlperf_env, bad, "h200.yaml")
    result = pytester.runpytest("-p", "no:cacheprovider", "--co")
    result.stdout.fnmatch_lines(["*h200.yaml:*: nvidia.calibrate: expected true or false, got a string*"])
