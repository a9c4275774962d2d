"""The NVIDIA closed/NVIDIA code emulator under tests/fakes/nvidia behaves like the real interface.

Every run is a subprocess (``python -m code.main`` with cwd = a copy of the version dir), as the plugin
will drive the real code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FAKES = Path(__file__).resolve().parents[1] / "fakes" / "nvidia"
H200 = "H200-SXM-141GBx1"
RN50_PLAN = "resnet50-Offline-gpu-resnet50-b2048-int8.lwis_k_99_MaxP.plan"
# Far above what the trivial SUT completes per second, so the one Offline query outlasts
# min_duration on any machine (a fast one finished 330,000 samples in under 300 ms).
FAST_OFFLINE = ["--min_duration=100", "--offline_expected_qps=5000000"]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of tests/fakes/nvidia (build/ stamps and engines land there, not in the repo)."""
    dest = tmp_path_factory.mktemp("nvidia") / "nvidia"
    shutil.copytree(FAKES, dest, ignore=shutil.ignore_patterns("build", "__pycache__"))
    return dest


def run(tree: Path, version: str, *args: str, system: str | None = H200, env: dict | None = None,
        timeout: float = 30) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("EMULATED_SYSTEM_ID", "EMULATED_HARDWARE", "EMULATED_FAILURE",
                             "MLPINF_CUSTOM_DEFINITION_PATH", "LOG_DIR", "MLPERF_LOADGEN_LOGS_DIR",
                             "EMULATED_ACCURACY")}
    if system:
        full_env["EMULATED_SYSTEM_ID"] = system
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "code.main", *args], cwd=tree / version, env=full_env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    proc.output = proc.stdout + proc.stderr  # type: ignore[attr-defined]
    return proc


def detail(log_dir: Path) -> dict:
    out: dict = {}
    for line in (log_dir / "mlperf_log_detail.txt").read_text().splitlines():
        if line.startswith(":::MLLOG "):
            rec = json.loads(line[len(":::MLLOG "):])
            out.setdefault(rec["key"], rec["value"])
    return out


@pytest.fixture(scope="module")
def engines(tree: Path) -> Path:
    """resnet50 Offline engines for H200 in v4.1 and v5.0 (run_harness refuses to start without them)."""
    for version in ("v4.1", "v5.0"):
        proc = run(tree, version, "--benchmarks=resnet50", "--scenarios=Offline", "--action=generate_engines")
        assert proc.returncode == 0, proc.output
    return tree


def test_generate_engines_writes_plan_named_like_nvidia(tree: Path) -> None:
    proc = run(tree, "v4.1", "--benchmarks=resnet", "--scenarios=offline", "--action=generate_engines")
    assert proc.returncode == 0, proc.output
    plan = tree / "v4.1" / "build" / "engines" / H200 / "resnet50" / "Offline" / RN50_PLAN
    record = json.loads(plan.read_text())
    assert record["args"]["gpu_batch_size"] == {"resnet50": 2048}
    assert "Detected system ID: H200-SXM-141GBx1" in proc.output


def test_unknown_flags_are_ignored(tree: Path) -> None:
    proc = run(tree, "v4.1", "--benchmarks=resnet50", "--scenarios=Offline", "--gpu_batch_size=resnet50:64",
               "--use_grpahs", "--definitely_not_a_flag=3", "--action=generate_engines")
    assert proc.returncode == 0, proc.output
    assert "--use_grpahs" in proc.stdout and "--definitely_not_a_flag=3" in proc.stdout
    plan = tree / "v4.1/build/engines" / H200 / "resnet50/Offline"
    assert (plan / "resnet50-Offline-gpu-resnet50-b64-int8.lwis_k_99_MaxP.plan").is_file()


def test_boolean_flags_cannot_be_turned_off(tree: Path) -> None:
    # The H200 Server config sets use_graphs; there is no way to unset it from RUN_ARGS.
    proc = run(tree, "v4.1", "--benchmarks=resnet50", "--scenarios=Server", "--no_use_graphs",
               "--action=generate_engines")
    assert proc.returncode == 0, proc.output
    plan = tree / "v4.1/build/engines" / H200 / "resnet50/Server" / \
        "resnet50-Server-gpu-resnet50-b256-int8.lwis_k_99_MaxP.plan"
    assert json.loads(plan.read_text())["args"]["use_graphs"] is True
    # store_true with an explicit value is an argparse usage error, like in the real parser.
    proc = run(tree, "v4.1", "--benchmarks=resnet50", "--use_graphs=false", "--action=generate_engines")
    assert proc.returncode == 2
    assert "ignored explicit argument 'false'" in proc.stderr


@pytest.mark.parametrize("version", ["v4.1", "v5.0"])
def test_integer_gpu_batch_size_is_rejected(tree: Path, version: str) -> None:
    proc = run(tree, version, "--benchmarks=resnet50", "--scenarios=Offline", "--gpu_batch_size=16",
               "--action=generate_engines")
    assert proc.returncode == 1
    assert "ValueError: Invalid batch size string '16'" in proc.output


def test_run_harness_offline_log_tree_and_metadata(engines: Path, tmp_path: Path) -> None:
    log_root = tmp_path / "logs"
    proc = run(engines, "v4.1", "--benchmarks=resnet50", "--scenarios=Offline", "--test_mode=PerformanceOnly",
               "--test_run", *FAST_OFFLINE, "--performance_sample_count=512", f"--log_dir={log_root}",
               "--action=run_harness")
    assert proc.returncode == 0, proc.output
    log_dir = log_root / f"{H200}_TRT" / "resnet50" / "Offline"
    for name in ("mlperf_log_summary.txt", "mlperf_log_detail.txt", "mlperf_log_accuracy.json",
                 "mlperf_log_trace.json", "metadata.json"):
        assert (log_dir / name).is_file(), name
    d = detail(log_dir)
    assert d["result_validity"] == "VALID"
    assert d["effective_target_qps"] == 5000000
    assert d["effective_min_duration_ms"] == 100
    assert d["effective_min_query_count"] == 1  # --test_run
    assert d["effective_performance_sample_count"] == 512
    md = json.loads((log_dir / "metadata.json").read_text())
    assert md["result_validity"] == "VALID"  # copied from LoadGen, as the real harness does
    assert "Result is INVALID, 10-min runtime requirement met: False" in md["summary_string"]
    assert md["summary_string"] in proc.stderr
    assert md["scenario_key"] == "result_samples_per_second" and md["result_samples_per_second"] > 0
    assert md["config_name"] == f"{H200}_TRT-lwis_k_99_MaxP-Offline"
    assert md["benchmark_full"] == "resnet50" and md["test_mode"] == "PerformanceOnly"
    assert md["effective_min_duration_ms"] == 100 and md["early_stopping_met"] is True
    user_conf = engines / "v4.1/build/loadgen-configs" / f"{H200}_TRT" / "resnet50/Offline/user.conf"
    assert "resnet50.Offline.target_qps = 5000000" in user_conf.read_text()


def test_run_harness_accuracy_only(engines: Path, tmp_path: Path) -> None:
    proc = run(engines, "v5.0", "--benchmarks=resnet50", "--scenarios=Offline", "--test_mode=AccuracyOnly",
               f"--log_dir={tmp_path}", "--action=run_harness")
    assert proc.returncode == 0, proc.output
    log_dir = tmp_path / f"{H200}_TRT" / "resnet50" / "Offline"
    entries = json.loads((log_dir / "mlperf_log_accuracy.json").read_text())
    assert len({e["qsl_idx"] for e in entries}) == 1024
    assert entries[0]["data"] == "00000000"
    assert (log_dir / "accuracy.txt").read_text().startswith("accuracy=76.460%, good=783, total=1024")
    md = json.loads((log_dir / "metadata.json").read_text())
    assert md["accuracy_pass"] is True
    assert md["summary_string"] == "[PASSED] accuracy: 76.460 (Threshold=75.695)"
    assert md["tensorrt_version"].startswith("10.8")


def test_recorded_responses_are_what_the_emulated_model_answers(engines: Path, tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"0": "41000000", "2": "0700000008000000"}))
    proc = run(engines, "v4.1", "--benchmarks=resnet50", "--scenarios=Offline", "--test_mode=AccuracyOnly",
               f"--log_dir={tmp_path}", "--action=run_harness",
               env={"EMULATED_RESPONSES": str(answers), "EMULATED_QSL_SIZE": "3"})
    assert proc.returncode == 0, proc.output
    entries = json.loads((tmp_path / f"{H200}_TRT/resnet50/Offline/mlperf_log_accuracy.json").read_text())
    assert {e["qsl_idx"]: e["data"] for e in entries} == {0: "41000000", 1: "00000000", 2: "0700000008000000"}


def test_failed_accuracy_still_exits_zero(engines: Path, tmp_path: Path) -> None:
    proc = run(engines, "v4.1", "--benchmarks=resnet50", "--scenarios=Offline", "--test_mode=AccuracyOnly",
               f"--log_dir={tmp_path}", "--action=run_harness", env={"EMULATED_FAILURE": "accuracy"})
    assert proc.returncode == 0, proc.output
    md = json.loads((tmp_path / f"{H200}_TRT/resnet50/Offline/metadata.json").read_text())
    assert md["accuracy_pass"] is False and md["summary_string"].startswith("[FAILED] accuracy")


def test_unknown_system_exits_without_running(tree: Path, tmp_path: Path) -> None:
    proc = run(tree, "v4.1", "--benchmarks=resnet50", "--action=run_harness", f"--log_dir={tmp_path}",
               system="RTX4090x1")
    # The real main.py only logs and falls off the end: exit status 0, nothing run.
    assert proc.returncode == 0
    assert "Detected system did not match any known systems. Exiting." in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_missing_config_is_skipped_with_warning(tree: Path, tmp_path: Path) -> None:
    proc = run(tree, "v4.1", "--benchmarks=llama2-70b", "--scenarios=Offline", f"--log_dir={tmp_path}",
               "--action=run_harness", system="L4x1")
    assert proc.returncode == 0, proc.output
    assert "No registered config for llama2-70b.Offline.L4x1 for WorkloadSetting(custom_k_99_MaxP)" \
        in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_high_accuracy_needs_accuracy_target(tree: Path) -> None:
    base = ["--benchmarks=bert-99.9", "--scenarios=Offline", "--action=generate_engines"]
    assert run(tree, "v4.1", *base).returncode == 0
    assert run(tree, "v4.1", *base, "--accuracy_target=0.999").returncode == 0
    plans = sorted(p.name for p in (tree / "v4.1/build/engines" / H200 / "bert/Offline").iterdir())
    assert plans == ["bert-Offline-gpu-bert-b1280-fp16.custom_k_99_9_MaxP.plan",
                     "bert-Offline-gpu-bert-b1280-int8.custom_k_99_MaxP.plan"]
    proc = run(tree, "v5.0", *base)  # BERT is not a v5.0 benchmark
    assert proc.returncode == 1 and "'bert-99.9' is not a valid benchmark name." in proc.output


def test_engine_build_failure(tree: Path) -> None:
    proc = run(tree, "v4.1", "--benchmarks=resnet50", "--scenarios=Offline", "--action=generate_engines",
               env={"EMULATED_FAILURE": "engine_build"})
    assert proc.returncode == 1
    assert "Error Code 10: Internal Error" in proc.stderr and "Engine build failed" in proc.stderr


def test_missing_dataset_failure(engines: Path, tmp_path: Path) -> None:
    proc = run(engines, "v4.1", "--benchmarks=resnet50", "--scenarios=Offline", f"--log_dir={tmp_path}",
               "--action=run_harness", env={"EMULATED_FAILURE": "missing_dataset"})
    assert proc.returncode == 1
    assert "FileNotFoundError" in proc.stderr and "build/preprocessed_data/imagenet" in proc.stderr


def test_missing_engine_fails_run_harness(tree: Path, tmp_path: Path) -> None:
    proc = run(tree, "v4.1", "--benchmarks=resnet50", "--scenarios=Offline", "--gpu_batch_size=resnet50:7",
               f"--log_dir={tmp_path}", "--action=run_harness")
    assert proc.returncode == 1
    assert "resnet50-Offline-gpu-resnet50-b7-int8.lwis_k_99_MaxP.plan does not exist." in proc.stderr


def test_invalid_failure_mode_gives_invalid_run_and_exit_zero(engines: Path, tmp_path: Path) -> None:
    proc = run(engines, "v4.1", "--benchmarks=resnet50", "--scenarios=Offline", "--min_duration=200",
               f"--log_dir={tmp_path}", "--action=run_harness", env={"EMULATED_FAILURE": "invalid"})
    assert proc.returncode == 0, proc.output
    log_dir = tmp_path / f"{H200}_TRT/resnet50/Offline"
    assert detail(log_dir)["result_validity"] == "INVALID"
    assert json.loads((log_dir / "metadata.json").read_text())["result_validity"] == "INVALID"


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_make_targets(tmp_path: Path) -> None:
    root = tmp_path / "nvidia"
    shutil.copytree(FAKES, root, ignore=shutil.ignore_patterns("build", "__pycache__"))
    cwd = root / "v4.1"

    def make(*args: str, **env: str) -> subprocess.CompletedProcess:
        full_env = {**os.environ, **env}
        return subprocess.run(["make", *args, f"PYTHON3_CMD={sys.executable}"], cwd=cwd, env=full_env,
                              capture_output=True, text=True, timeout=30, check=False)

    for target in ("download_model", "download_data", "preprocess_data"):
        assert make(target, "BENCHMARKS=resnet50,bert").returncode == 0
    assert make("build").returncode == 0
    assert (cwd / "build/models/resnet50/.downloaded").is_file()
    assert (cwd / "build/models/bert/.downloaded").is_file()
    assert (cwd / "build/data/resnet50/.downloaded").is_file()
    assert (cwd / "build/preprocessed_data/bert/.preprocessed").is_file()
    assert not (cwd / "build/models/retinanet").exists()
    assert (cwd / "build/.built").read_text().strip() == "v4.1"
    run_args = "RUN_ARGS=--benchmarks=resnet50 --scenarios=Offline --min_duration=300 " \
               "--offline_expected_qps=1000000"
    proc = make("run", run_args, f"LOG_DIR={tmp_path / 'logs'}", EMULATED_SYSTEM_ID="L4x1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Result is INVALID" in (tmp_path / "logs" / "stdout.txt").read_text()
    assert (tmp_path / "logs/L4x1_TRT/resnet50/Offline/metadata.json").is_file()
    proc = make("run_harness", run_args, f"LOG_DIR={tmp_path / 'logs2'}", EMULATED_SYSTEM_ID="L4x1",
                EMULATED_FAILURE="missing_dataset")
    assert proc.returncode != 0  # pipefail: the tee does not hide the failure


def test_server_scenario_metric_and_case_insensitive_scenarios(tree: Path, tmp_path: Path) -> None:
    base = ["--benchmarks=resnet50", "--scenarios=sErVeR"]
    assert run(tree, "v4.1", *base, "--action=generate_engines", system="L4x1").returncode == 0
    proc = run(tree, "v4.1", *base, "--min_duration=300", "--server_target_qps=2000", f"--log_dir={tmp_path}",
               "--action=run_harness", system="L4x1")
    assert proc.returncode == 0, proc.output
    log_dir = tmp_path / "L4x1_TRT/resnet50/Server"
    d = detail(log_dir)
    assert d["effective_target_qps"] == 2000 and d["effective_scenario"] == "Server"
    md = json.loads((log_dir / "metadata.json").read_text())
    assert md["scenario_key"] == "result_completed_samples_per_sec"
    assert md["result_validity"] == d["result_validity"]
    assert "use_graphs : True" in proc.stdout  # the benchmark_conf dump the real handler prints


def test_run_audit_harness_writes_compliance_logs(engines: Path) -> None:
    proc = run(engines, "v4.1", "--benchmarks=resnet50", "--scenarios=Offline", "--audit_test=TEST04",
               *FAST_OFFLINE, "--no_audit_verify", "--action=run_audit_harness")
    assert proc.returncode == 0, proc.output
    log_dir = engines / "v4.1/build/compliance_logs/TEST04" / f"{H200}_TRT" / "resnet50/Offline"
    assert detail(log_dir)["effective_performance_issue_same"] is True
    assert not (engines / "v4.1/audit.config").exists()


# --- hardware detection and custom system definitions (MLPINF_CUSTOM_DEFINITION_PATH) -----------------
SNAPSHOTS = Path(__file__).resolve().parents[1] / "data" / "systems"
UNKNOWN = "Detected system did not match any known systems. Exiting."


def hardware(tmp_path: Path, base: str = "h200x1.json", name: str = "hw.json", **changes: object) -> Path:
    """A snapshot file (the plugin's format) with some facts changed; gpu_* keys change every GPU."""
    data = json.loads((SNAPSHOTS / base).read_text())
    for key, value in changes.items():
        if key.startswith("gpu_"):
            for gpu in data["gpus"]:
                gpu[key[4:]] = value
        else:
            data[key] = value
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(("base", "changes", "expected"), [
    ("h200x1.json", {}, None),  # the recorded H200 VM: CPU "Intel(R) Xeon(R) Processor", not NVIDIA's 8480C
    ("h200x1.json", {"cpu_model": "Intel(R) Xeon(R) Platinum 8480C"}, "H200-SXM-141GBx1"),
    ("h200x1.json", {"cpu_model": "Intel(R) Xeon(R) Platinum 8480C", "gpu_memory_total_mib": 120000}, None),
    ("h200x1.json", {"cpu_model": "Intel(R) Xeon(R) Platinum 8480C", "gpu_name": "NVIDIA H100 80GB HBM3",
                     "gpu_memory_total_mib": 81559, "gpu_pci_device_id": "0x233010DE"},
     "DGX-H100_H100-SXM-80GBx1"),
    # NVIDIA compares the PCI id, not the name, where both have one; and the board's maximum power limit.
    ("h200x1.json", {"cpu_model": "Intel(R) Xeon(R) Platinum 8480C", "gpu_name": "NVIDIA Graphics Device"},
     "H200-SXM-141GBx1"),
    ("h200x1.json", {"cpu_model": "Intel(R) Xeon(R) Platinum 8480C", "gpu_power_max_limit_w": 1000.0}, None),
    ("l4x1.json", {}, "L4x1"),
    ("l4x1.json", {"gpu_name": "NVIDIA GeForce RTX 4090", "gpu_pci_device_id": "0x268410DE"}, None),
])
def test_hardware_detection_matches_nvidia_system_list(tree: Path, tmp_path: Path, base: str, changes: dict,
                                                       expected: str | None) -> None:
    env = {"EMULATED_HARDWARE": str(hardware(tmp_path, base, **changes))}
    proc = run(tree, "v4.1", "--benchmarks=resnet50", "--scenarios=Offline", "--action=generate_conf_files",
               system=None, env=env)
    assert proc.returncode == 0, proc.output
    if expected is None:
        assert UNKNOWN in proc.stderr
        assert "accelerators=1x NVIDIA" in proc.stderr  # the detected hardware, as the real message shows it
    else:
        assert f"Detected system ID: {expected}" in proc.stderr


def test_two_gpus_do_not_match_a_one_gpu_system(tree: Path, tmp_path: Path) -> None:
    path = hardware(tmp_path, "l4x1.json")
    data = json.loads(path.read_text())
    data["gpus"].append(dict(data["gpus"][0], index=1))
    path.write_text(json.dumps(data))
    proc = run(tree, "v4.1", "--action=generate_conf_files", system=None,
               env={"EMULATED_HARDWARE": str(path)})
    assert UNKNOWN in proc.stderr and "2x NVIDIA L4" in proc.stderr


CUSTOM_LIST = '''
from code.common.constants import AcceleratorType, ByteSuffix, Memory
from code.common.systems.accelerator import AcceleratorConfiguration, GPU
from code.common.systems.base import MATCH_ANY
from code.common.systems.known_hardware import KnownGPU, match_float_approximate, min_memory_requirement
from code.common.systems.systems import SystemConfiguration

custom_systems = dict()
custom_systems["RTX4090x1"] = SystemConfiguration(
    host_cpu_conf=MATCH_ANY,
    host_mem_conf=MATCH_ANY,
    accelerator_conf=AcceleratorConfiguration(layout={
        GPU(name="NVIDIA GeForce RTX 4090", accelerator_type=AcceleratorType.Discrete,
            vram=match_float_approximate(Memory(quantity=22.5, byte_suffix=ByteSuffix.GiB)),
            max_power_limit=450.0, pci_id=MATCH_ANY, compute_sm=89): 1}),
    numa_conf=None,
    system_id="RTX4090x1",
)
custom_systems["My_H200x1"] = SystemConfiguration(
    host_cpu_conf=MATCH_ANY,
    host_mem_conf=min_memory_requirement(Memory(quantity=1, byte_suffix=ByteSuffix.KiB)),
    accelerator_conf=AcceleratorConfiguration(layout={KnownGPU.H200_SXM_141GB.value: 1}),
    numa_conf=None, system_id="My-H200x1")
'''
# As NVIDIA's KnownSystem Enum does with a member equal to one of its own systems: an alias, never matched.
ALIASED_LIST = CUSTOM_LIST.replace("min_memory_requirement(Memory(quantity=1, byte_suffix=ByteSuffix.KiB))",
                                   "MATCH_ANY")


def definition(root: Path, configs: dict[str, str], custom_list: str = CUSTOM_LIST) -> Path:
    """An MLPINF_CUSTOM_DEFINITION_PATH dir: custom_systems/custom_list.py, custom_configs/<b>/<S>/..."""
    (root / "custom_systems").mkdir(parents=True)
    (root / "custom_systems" / "custom_list.py").write_text(custom_list)
    for where, text in configs.items():
        path = root / "custom_configs" / where / "custom.py"
        path.parent.mkdir(parents=True)
        path.write_text(text)
    return root


RTX_OFFLINE = '''
from configs.resnet50.Offline import *

@ConfigRegistry.register(HarnessType.LWIS, AccuracyTarget.k_99, PowerSetting.MaxP)
class RTX4090x1(OfflineGPUBaseConfig):
    system = KnownSystem.RTX4090x1
    gpu_batch_size = {'resnet50': 64}
    offline_expected_qps = 900000
    min_duration = 300
'''


def test_custom_system_and_config_are_loaded_as_python(tree: Path, tmp_path: Path) -> None:
    root = definition(tmp_path / "def", {"resnet50/Offline": RTX_OFFLINE})
    env = {"MLPINF_CUSTOM_DEFINITION_PATH": str(root),
           "EMULATED_HARDWARE": str(hardware(tmp_path, "l4x1.json", gpu_name="NVIDIA GeForce RTX 4090",
                                             gpu_pci_device_id="0x268410DE", gpu_power_max_limit_w=450.0))}
    args = ["--benchmarks=resnet50", "--scenarios=Offline"]
    proc = run(tree, "v4.1", *args, "--action=generate_engines", system=None, env=env)
    assert proc.returncode == 0, proc.output
    assert "Detected system ID: RTX4090x1" in proc.stderr
    assert (tree / "v4.1/build/engines/RTX4090x1/resnet50/Offline" /
            "resnet50-Offline-gpu-resnet50-b64-int8.lwis_k_99_MaxP.plan").is_file()
    proc = run(tree, "v4.1", *args, f"--log_dir={tmp_path / 'logs'}", "--action=run_harness", system=None,
               env=env)
    assert proc.returncode == 0, proc.output
    d = detail(tmp_path / "logs" / "RTX4090x1_TRT" / "resnet50" / "Offline")
    assert d["effective_target_qps"] == 900000 and d["effective_min_duration_ms"] == 300
    # EMULATED_SYSTEM_ID may name a custom system too; other benchmarks have no config for it.
    proc = run(tree, "v4.1", "--benchmarks=bert", "--scenarios=Offline", "--action=generate_engines",
               system="RTX4090x1", env={"MLPINF_CUSTOM_DEFINITION_PATH": str(root)})
    assert "No registered config for bert.Offline.RTX4090x1 for WorkloadSetting(custom_k_99_MaxP)" \
        in proc.stderr


def test_a_custom_config_extends_a_known_systems_config_and_sets_a_boolean_false(tree: Path,
                                                                                 tmp_path: Path) -> None:
    server = '''
from configs.resnet50.Server import *

@ConfigRegistry.register(HarnessType.LWIS, AccuracyTarget.k_99, PowerSetting.MaxP)
class My_H200x1(H200_SXM_141GBx1):
    system = KnownSystem.My_H200x1
    use_graphs = False
'''
    env = {"MLPINF_CUSTOM_DEFINITION_PATH": str(definition(tmp_path / "def", {"resnet50/Server": server})),
           "EMULATED_HARDWARE": str(hardware(tmp_path))}
    proc = run(tree, "v4.1", "--benchmarks=resnet50", "--scenarios=Server", "--action=generate_engines",
               system=None, env=env)
    assert proc.returncode == 0, proc.output
    assert "Detected system ID: My-H200x1" in proc.stderr
    # gpu_batch_size comes from NVIDIA's H200 config, use_graphs from the custom one.
    plan = tree / "v4.1/build/engines/My-H200x1/resnet50/Server" / \
        "resnet50-Server-gpu-resnet50-b256-int8.lwis_k_99_MaxP.plan"
    record = json.loads(plan.read_text())["args"]
    # (server_target_qps is no field of generate_engines: NVIDIA's effective config there has none)
    assert record["use_graphs"] is False and record["gpu_batch_size"] == {"resnet50": 256}
    assert "server_target_qps" not in record


def test_a_custom_system_equal_to_an_nvidia_one_is_its_alias_and_never_matched(tree: Path,
                                                                               tmp_path: Path) -> None:
    env = {"MLPINF_CUSTOM_DEFINITION_PATH": str(definition(tmp_path / "def", {}, ALIASED_LIST)),
           "EMULATED_HARDWARE": str(hardware(tmp_path))}
    proc = run(tree, "v4.1", "--benchmarks=resnet50", "--action=generate_conf_files", system=None, env=env)
    assert proc.returncode == 0, proc.output
    assert UNKNOWN in proc.stderr


def test_fields_nvidia_does_not_read_here_are_dropped(tree: Path, tmp_path: Path) -> None:
    args = ["--benchmarks=resnet50", "--scenarios=Offline", "--soft_drop=0.99", "--use_deque_limit",
            "--num_warmups=3", "--action=generate_conf_files"]
    proc = run(tree, "v4.1", *args, system="L4x1")
    assert proc.returncode == 0, proc.output
    assert "[emulator] ignored unknown arguments (the real code.main drops them silently): --num_warmups=3" \
        in proc.stdout
    assert "[emulator] NVIDIA's code does not read these here and drops them: soft_drop" in proc.stdout


def test_the_emulators_field_rules_are_the_ones_checked_against_nvidias_code() -> None:
    """fields.APPLIES (the emulator) and harness/nvidia/rules.py (the plugin, checked against the real code
    by tests/conformance) say the same."""
    import importlib.util

    from pytest_mlperf_nv.harness.nvidia import rules

    spec = importlib.util.spec_from_file_location("nvemu_fields", FAKES / "common" / "nvemu" / "fields.py")
    fields = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fields)
    for name in rules.RULES:
        for bench in ("resnet50", "retinanet", "bert", "3d-unet", "dlrm-v2", "gptj"):
            for scenario in ("Offline", "Server", "SingleStream", "MultiStream"):
                for system in ("H200_SXM_141GBx1", "L4x1", None):
                    for action in ("generate_engines", "run_harness"):
                        ours = rules.inapplicable(name, bench, scenario, system, action) is None
                        emulated = fields.applies(name, action, bench, scenario, system)
                        assert ours == emulated, (name, bench, scenario, system, action)


def test_a_built_in_system_matches_before_a_custom_one(tree: Path, tmp_path: Path) -> None:
    env = {"MLPINF_CUSTOM_DEFINITION_PATH": str(definition(tmp_path / "def", {})),
           "EMULATED_HARDWARE": str(hardware(tmp_path, cpu_model="Intel(R) Xeon(R) Platinum 8480C"))}
    proc = run(tree, "v4.1", "--benchmarks=resnet50", "--action=generate_conf_files", system=None, env=env)
    assert "Detected system ID: H200-SXM-141GBx1" in proc.stderr


@pytest.mark.parametrize(("body", "error"), [
    ("    gpu_batch_size = {'resnet50': 64}\n    offline_expected_qps = 1000\n    use_graphz = True\n",
     "ConfigFieldInvalidError: <config 'RTX4090x1'> contains unsupported Field 'use_graphz'"),
    ("    gpu_batch_size = {'resnet50': 64}\n    server_target_qps = 1000\n",
     "ConfigFieldInvalidError: <config 'RTX4090x1'> contains unsupported Field 'server_target_qps'"),
    ("    gpu_batch_size = {'resnet50': 64}\n",
     "ConfigFieldMissingError: <config 'RTX4090x1'> is missing mandatory Field 'offline_expected_qps'"),
])
def test_invalid_custom_configs_are_errors(tree: Path, tmp_path: Path, body: str, error: str) -> None:
    text = ("from configs.resnet50.Offline import *\n\n"
            "@ConfigRegistry.register(HarnessType.LWIS, AccuracyTarget.k_99, PowerSetting.MaxP)\n"
            "class RTX4090x1(OfflineGPUBaseConfig):\n    system = KnownSystem.RTX4090x1\n" + body)
    env = {"MLPINF_CUSTOM_DEFINITION_PATH": str(definition(tmp_path / "def", {"resnet50/Offline": text})),
           "EMULATED_HARDWARE": str(hardware(tmp_path, "l4x1.json", gpu_name="NVIDIA GeForce RTX 4090",
                                             gpu_pci_device_id="0x268410DE", gpu_power_max_limit_w=450.0))}
    proc = run(tree, "v4.1", "--benchmarks=resnet50", "--scenarios=Offline", "--action=generate_engines",
               system=None, env=env)
    assert proc.returncode == 1
    assert error in proc.stderr and "Traceback" in proc.stderr


def test_registering_twice_and_extending_another_gpus_config_are_errors(tree: Path, tmp_path: Path) -> None:
    twice = RTX_OFFLINE + '''
@ConfigRegistry.register(HarnessType.LWIS, AccuracyTarget.k_99, PowerSetting.MaxP)
class RTX4090x1_again(RTX4090x1):
    pass
'''
    env = {"MLPINF_CUSTOM_DEFINITION_PATH": str(definition(tmp_path / "a", {"resnet50/Offline": twice})),
           "EMULATED_HARDWARE": str(hardware(tmp_path, "l4x1.json", gpu_name="NVIDIA GeForce RTX 4090",
                                             gpu_pci_device_id="0x268410DE", gpu_power_max_limit_w=450.0))}
    proc = run(tree, "v4.1", "--benchmarks=resnet50", "--scenarios=Offline", "--action=generate_engines",
               system=None, env=env)
    assert proc.returncode == 1
    assert "KeyError: 'Config for Benchmark.ResNet50/Scenario.Offline/KnownSystem.RTX4090x1/" \
        "WorkloadSetting(HarnessType.LWIS, AccuracyTarget.k_99, PowerSetting.MaxP) is already registered.'" \
        in proc.stderr
    other_gpu = RTX_OFFLINE.replace("(OfflineGPUBaseConfig)", "(H200_SXM_141GBx1)")
    env["MLPINF_CUSTOM_DEFINITION_PATH"] = str(definition(tmp_path / "b", {"resnet50/Offline": other_gpu}))
    proc = run(tree, "v4.1", "--benchmarks=resnet50", "--scenarios=Offline", "--action=generate_engines",
               system=None, env=env)
    assert proc.returncode == 1
    assert "ConfigFieldInheritanceError" in proc.stderr and "system.gpu" in proc.stderr


def test_a_custom_definition_path_that_does_not_exist_is_an_error(tree: Path, tmp_path: Path) -> None:
    proc = run(tree, "v4.1", "--benchmarks=resnet50", "--action=generate_engines",
               env={"MLPINF_CUSTOM_DEFINITION_PATH": str(tmp_path / "nowhere")})
    assert proc.returncode == 1
    assert f"FileNotFoundError: MLPINF_CUSTOM_DEFINITION_PATH {tmp_path / 'nowhere'} does not exist." \
        in proc.stderr


# --- v5.0: what differs (observed in v5.0's system_list.py / configuration.py and NVIDIA's nvmitten) --------
def test_v50_matches_the_h200_vm_by_cpu_vendor_where_v41_does_not(tree: Path, tmp_path: Path) -> None:
    env = {"EMULATED_HARDWARE": str(hardware(tmp_path))}
    args = ["--benchmarks=resnet50", "--scenarios=Offline", "--action=generate_conf_files"]
    assert UNKNOWN in run(tree, "v4.1", *args, system=None, env=env).stderr
    proc = run(tree, "v5.0", *args, system=None, env=env)
    assert "Detected system ID: H200_SXM_141GBx1" in proc.stderr, proc.output


def test_v50_reads_custom_systems_from_custom_list_json_only(tree: Path, tmp_path: Path) -> None:
    from pytest_mlperf_nv.harness.nvidia.custom_list_json import PATH
    from pytest_mlperf_nv.harness.nvidia.custom_system import build_definition
    from pytest_mlperf_nv.systems.snapshot import read_snapshot

    rtx = FAKES.parents[1] / "data" / "systems" / "rtx4090x1.json"
    knobs = {"gpu_batch_size": 64, "offline_expected_qps": 900000, "min_duration": 300}
    d = build_definition(read_snapshot(rtx), "resnet50", "Offline", knobs, version="v5.0")
    root = definition(tmp_path / "def", {"resnet50/Offline": d.text("custom.py")})
    env = {"MLPINF_CUSTOM_DEFINITION_PATH": str(root), "EMULATED_HARDWARE": str(rtx)}
    args = ["--benchmarks=resnet50", "--scenarios=Offline", "--action=generate_engines"]
    # custom_systems/custom_list.py under the definition path is not where v5.0 looks
    assert UNKNOWN in run(tree, "v5.0", *args, system=None, env=env).stderr
    target = tree / "v5.0" / PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(d.text("custom_list.json"))
    try:
        proc = run(tree, "v5.0", *args, system=None, env=env)
        assert proc.returncode == 0, proc.output
        assert f"Detected system ID: {d.key}" in proc.stderr
        # A name NVIDIA already uses is refused.
        target.write_text(d.text("custom_list.json").replace(d.key, "L4x1"))
        proc = run(tree, "v5.0", *args, system=None, env=env)
        assert proc.returncode == 1 and "SystemEnum member L4x1 already exists" in proc.stderr
    finally:
        target.unlink()
