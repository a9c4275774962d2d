"""Generated custom-system definitions for NVIDIA's code (harness/nvidia/custom_system.py): what they say,
that they are valid, deterministic Python, and that NVIDIA's flow (the emulator) loads and runs them."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pytest_mlperf_nv.errors import SuiteError
from pytest_mlperf_nv.harness.nvidia.args import ArgumentError, generate_engines_args, run_harness_args
from pytest_mlperf_nv.harness.nvidia.custom_system import (
    MODES,
    CustomSystemError,
    build_definition,
    fingerprint,
    mark_unknown,
    unknown_stamp,
    write_definition,
)
from pytest_mlperf_nv.harness.nvidia.settings import CUSTOM_SYSTEM_MODES as NVIDIA_CUSTOM_SYSTEM
from pytest_mlperf_nv.plugin import pytest_mlperf_register
from pytest_mlperf_nv.registry import Registry
from pytest_mlperf_nv.suite.schema import load_suite
from pytest_mlperf_nv.systems.detect import SystemFacts
from pytest_mlperf_nv.systems.snapshot import read_snapshot

REPO = Path(__file__).resolve().parents[2]
SYSTEMS = REPO / "tests" / "data" / "systems"
FAKES = REPO / "tests" / "fakes" / "nvidia"
OFFLINE = {"gpu_batch_size": 2048, "offline_expected_qps": 5e6, "min_duration": 100}


def facts(snapshot: str = "h200x1.json", count: int = 1, **gpu: object) -> SystemFacts:
    base = read_snapshot(SYSTEMS / snapshot)
    gpus = tuple(dataclasses.replace(base.gpus[0], index=i, uuid=f"GPU-{i}", **gpu) for i in range(count))
    return dataclasses.replace(base, gpus=gpus)


def rtx4090() -> SystemFacts:
    return read_snapshot(SYSTEMS / "rtx4090x1.json")


def compile_all(definition) -> None:
    for path, text in definition.files:
        if path.endswith(".py"):
            compile(text, path, "exec")


def test_the_recorded_h200_gets_a_known_gpu_system_and_extends_nvidias_h200_config() -> None:
    d = build_definition(facts(), "resnet50", "Offline", OFFLINE)
    assert (d.key, d.system_id) == ("Custom_H200x1", "Custom_H200x1")
    compile_all(d)
    system = d.text("custom_list.py")
    assert "custom_systems['Custom_H200x1'] = SystemConfiguration(" in system
    assert "host_cpu_conf=MATCH_ANY" in system
    # Not MATCH_ANY: a member equal to NVIDIA's H200_SXM_141GBx1 would become its alias in KnownSystem.
    assert "host_mem_conf=min_memory_requirement(Memory(quantity=1, byte_suffix=ByteSuffix.KiB))," in system
    assert "from code.common.systems.known_hardware import KnownGPU, min_memory_requirement" in system
    assert "KnownGPU.H200_SXM_141GB.value: 1," in system and "system_id='Custom_H200x1'" in system
    config = d.text("custom_configs/resnet50/Offline/custom.py")
    assert "from configs.resnet50.Offline import *" in config
    assert "@ConfigRegistry.register(HarnessType.LWIS, AccuracyTarget.k_99, PowerSetting.MaxP)" in config
    assert "_PARENT = next((globals()[name] for name in ('H200_SXM_141GBx1',) if name in globals()), " \
           "OfflineGPUBaseConfig)" in config
    # start_from_device / end_on_device of NVIDIA's H200 config are not allowed on a custom system.
    assert "class Custom_H200x1(_PARENT):\n    system = KnownSystem.Custom_H200x1\n" \
           "    start_from_device = None\n    end_on_device = None\n" \
           "    gpu_batch_size = {'resnet50': 2048}\n    min_duration = 100\n" \
           "    offline_expected_qps = 5000000.0\n" in config
    # Deterministic: the same facts and knobs give the same text and the same directory name.
    again = build_definition(facts(), "resnet50", "Offline", dict(reversed(OFFLINE.items())))
    assert again.files == d.files and again.digest == d.digest
    # The host name and GPU UUIDs are no part of it.
    other_host = dataclasses.replace(facts(), hostname="elsewhere")
    assert build_definition(other_host, "resnet50", "Offline", OFFLINE).digest == d.digest
    assert fingerprint(other_host) == fingerprint(facts())


def test_the_suite_system_id_names_the_system() -> None:
    d = build_definition(facts(count=2), "resnet50", "Server", {"use_graphs": True}, system_id="lab-h200-2")
    assert (d.key, d.system_id) == ("Custom_H200x2", "lab-h200-2")
    assert "KnownGPU.H200_SXM_141GB.value: 2," in d.text("custom_list.py")
    config = d.text("Server/custom.py")
    # No x2 config in NVIDIA's code for every benchmark: fall back to the 1-GPU one, then the base config.
    assert "('H200_SXM_141GBx2', 'H200_SXM_141GBx1')" in config and "ServerGPUBaseConfig)" in config
    assert "    use_graphs = True\n" in config
    compile_all(d)


def test_high_accuracy_benchmarks_on_nvidias_custom_harness() -> None:
    d = build_definition(facts("l4x1.json"), "bert-99.9", "Offline", {"gpu_batch_size": 16})
    config = d.text("custom_configs/bert/Offline/custom.py")
    assert "@ConfigRegistry.register(HarnessType.Custom, AccuracyTarget.k_99_9, PowerSetting.MaxP)" in config
    assert "class Custom_L4x1_HighAccuracy(_PARENT):" in config
    assert "('L4x1_HighAccuracy', 'L4x1')" in config
    assert "gpu_batch_size = {'bert': 16}" in config


def test_a_benchmark_whose_module_is_no_identifier_is_imported_by_name() -> None:
    d = build_definition(facts(), "3d-unet-99", "SingleStream", {"single_stream_expected_latency_ns": 10**6,
                                                                 "gpu_batch_size": 1})
    config = d.text("custom_configs/3d-unet/SingleStream/custom.py")
    assert "_BASE = importlib.import_module('configs.3d-unet.SingleStream')" in config
    assert "from configs" not in config
    compile_all(d)


def test_a_gpu_nvidia_does_not_know_gets_a_gpu_entry_and_the_base_config() -> None:
    knobs = {"gpu_batch_size": 64, "offline_expected_qps": 5000.0, "use_graphs": False}
    d = build_definition(rtx4090(), "resnet50", "Offline", knobs)
    assert d.key == "Custom_GeForce_RTX_4090x1"
    compile_all(d)
    system = d.text("custom_list.py")
    assert "name='NVIDIA GeForce RTX 4090'," in system
    assert "Memory(quantity=24.0, byte_suffix=ByteSuffix.GiB))," in system
    # NVIDIA compares the maximum power limit (600 W here), not the enforced one (450 W): not pinned.
    assert "max_power_limit=MATCH_ANY," in system and "compute_sm=89," in system
    assert "pci_id='0x268410DE'," in system
    config = d.text("custom.py")
    assert "class Custom_GeForce_RTX_4090x1(OfflineGPUBaseConfig):" in config and "_PARENT" not in config
    assert "    use_graphs = False\n" in config


@pytest.mark.parametrize(("knobs", "missing"), [
    ({"gpu_batch_size": 64}, "offline_expected_qps"),
    ({"offline_expected_qps": 5000.0}, "gpu_batch_size"),
])
def test_a_gpu_nvidia_does_not_know_needs_the_batch_size_and_the_target(knobs: dict, missing: str) -> None:
    with pytest.raises(CustomSystemError) as info:
        build_definition(rtx4090(), "resnet50", "Offline", knobs, case_id="rn50")
    message = str(info.value)
    assert "NVIDIA's code knows no system with this machine's GPU (NVIDIA GeForce RTX 4090)" in message
    assert f"needs {missing}: add {missing} to benchmarks.rn50.scenarios.Offline in the suite" in message
    assert f"--mlperf-set rn50.Offline.{missing}=VALUE" in message


def test_a_known_gpu_without_nvidias_config_for_the_workload_needs_the_knobs_too() -> None:
    with pytest.raises(CustomSystemError, match="NVIDIA's v4.1 code has no 3d-unet-99 SingleStream "
                                                "config for "
                                                "H200_SXM_141GBx1, so the generated config starts from"):
        build_definition(facts(), "3d-unet-99", "SingleStream", {"single_stream_expected_latency_ns": 10**6})


def test_no_gpu_no_definition() -> None:
    with pytest.raises(CustomSystemError, match="the plugin sees no NVIDIA GPU on this machine "
                                                r"\(NVML Shared Library Not Found\)"):
        build_definition(read_snapshot(SYSTEMS / "cpu-only.json"), "resnet50", "Offline", OFFLINE)


def test_definitions_are_written_once_atomically_and_shared(tmp_path: Path) -> None:
    d = build_definition(facts(), "resnet50", "Offline", OFFLINE)
    paths: list[Path] = []
    threads = [threading.Thread(target=lambda: paths.append(write_definition(tmp_path, d))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(paths)) == 1
    root = tmp_path / "build" / "pytest-mlperf-nv" / "custom"
    assert [p.name for p in root.iterdir()] == [d.digest[:16]]  # no temporary directories left behind
    custom = paths[0] / "custom_configs/resnet50/Offline/custom.py"
    assert custom.read_text() == d.text("Offline/custom.py")
    # A definition changed by hand is not trusted: it is moved aside and written again.
    custom.write_text("broken")
    assert write_definition(tmp_path, d) == paths[0]
    assert custom.read_text() == d.text("Offline/custom.py")
    assert any(p.name.startswith(".stale-") for p in root.iterdir())


def test_the_unknown_machine_stamp(tmp_path: Path) -> None:
    assert not unknown_stamp(tmp_path, facts()).exists()
    stamp = mark_unknown(tmp_path, facts(), "generate_engines")
    assert stamp == unknown_stamp(tmp_path, facts()) and stamp.is_file()
    assert json.loads(stamp.read_text())["evidence"] == "generate_engines"
    assert not unknown_stamp(tmp_path, facts("l4x1.json")).exists()


def test_false_booleans_stay_off_the_command_line_under_a_generated_config() -> None:
    knobs = {"use_graphs": False, "gpu_batch_size": 64, "use_deque_limit": True}
    with pytest.raises(ArgumentError, match="set 'nvidia.custom_system: always' in the suite"):
        run_harness_args("resnet50", "Server", "performance", knobs, version="v4.1", profile="quick")
    args = run_harness_args("resnet50", "Server", "performance", knobs, version="v4.1", profile="quick",
                            custom_config=True).args
    assert "--use_deque_limit" in args and not any("use_graphs" in a for a in args)
    args = generate_engines_args("resnet50", "Server", knobs, version="v4.1", custom_config=True).args
    assert not any("use_graphs" in a for a in args)
    config = build_definition(facts(), "resnet50", "Server", knobs).text("custom.py")
    assert "    use_graphs = False\n" in config


def test_suite_option_values(tmp_path: Path) -> None:
    assert NVIDIA_CUSTOM_SYSTEM == MODES
    registry = Registry()
    pytest_mlperf_register(registry)
    path = tmp_path / "s.yaml"
    head = "mlperf_suite: 1\nharness: nvidia\n"
    tail = "benchmarks:\n  resnet50:\n    scenarios: [Offline]\n"
    path.write_text(head + "nvidia: {custom_system: always}\n" + tail)
    assert load_suite(path, registry).sections["nvidia"]["custom_system"].value == "always"
    path.write_text(head + "nvidia:\n  custom_system: allways\n" + tail)
    with pytest.raises(SuiteError) as info:
        load_suite(path, registry)
    assert str(info.value).startswith(f"{path}:4:18: nvidia.custom_system: unknown value 'allways'")
    assert "did you mean 'always'" in str(info.value)
    path.write_text(head + "nvidia:\n  custom_system: true\n" + tail)
    with pytest.raises(SuiteError, match="nvidia.custom_system: expected a string, got a boolean"):
        load_suite(path, registry)


# --- loaded through the emulator of NVIDIA's code -----------------------------------------------------------
@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("nvidia") / "nvidia"
    shutil.copytree(FAKES, dest, ignore=shutil.ignore_patterns("build", "__pycache__"))
    return dest / "v4.1"


def nvidia(code: Path, definition: Path, hardware: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMULATED_", "MLPINF_", "LOG_DIR"))}
    env.update({"MLPINF_CUSTOM_DEFINITION_PATH": str(definition), "EMULATED_HARDWARE": str(hardware)})
    return subprocess.run([sys.executable, "-m", "code.main", *args], cwd=code, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def detail(log_dir: Path) -> dict:
    from pytest_mlperf_nv.harness.logs import read_detail

    return read_detail(log_dir / "mlperf_log_detail.txt")[0]


@pytest.mark.parametrize(("snapshot", "bench", "scenario", "knobs", "logs"), [
    ("h200", "resnet50", "Offline", {**OFFLINE, "use_graphs": False}, "Custom_H200x1_TRT/resnet50/Offline"),
    ("h200", "bert-99.9", "Server", {"server_target_qps": 300, "min_duration": 100},
     "Custom_H200x1_TRT/bert-99.9/Server"),
    ("rtx4090", "3d-unet-99", "SingleStream",
     {"gpu_batch_size": 1, "single_stream_expected_latency_ns": 2_000_000, "min_duration": 100},
     "Custom_GeForce_RTX_4090x1_TRT/3d-unet-99/SingleStream"),
])
def test_generated_definitions_run_on_nvidias_flow(code: Path, tmp_path: Path, snapshot: str, bench: str,
                                                   scenario: str, knobs: dict, logs: str) -> None:
    machine = facts() if snapshot == "h200" else rtx4090()
    hardware = tmp_path / "hardware.json"
    from pytest_mlperf_nv.systems.snapshot import write_snapshot

    write_snapshot(machine, hardware)
    d = build_definition(machine, bench, scenario, knobs)
    where = write_definition(tmp_path, d)
    accuracy = "--accuracy_target=0.999" if bench.endswith("-99.9") else "--accuracy_target=0.99"
    short = {"bert-99.9": "bert", "3d-unet-99": "3d-unet"}.get(bench, bench)
    workload = [f"--benchmarks={short}", f"--scenarios={scenario}", accuracy]
    proc = nvidia(code, where, hardware, *workload, "--action=generate_engines")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"Detected system ID: {d.system_id}" in proc.stderr
    # As the plugin does: a short run from the command line; the target comes from the config alone.
    proc = nvidia(code, where, hardware, *workload, "--test_run", "--min_duration=100",
                  f"--log_dir={tmp_path / 'logs'}", "--action=run_harness")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    effective = detail(tmp_path / "logs" / logs)
    assert effective["effective_min_duration_ms"] == 100
    target = {"Offline": "offline_expected_qps", "Server": "server_target_qps"}.get(scenario)
    if target:
        assert effective["effective_target_qps"] == knobs[target]
    else:
        # LoadGen logs a SingleStream expected latency as its rate: 1e9 / latency.
        assert effective["effective_target_qps"] == 1e9 / knobs["single_stream_expected_latency_ns"]
    if "use_graphs" in knobs:
        assert "use_graphs : False" in proc.stdout  # the config's value reached NVIDIA's effective config


def test_a_gpu_is_known_as_nvidia_matches_it_by_pci_id_and_maximum_power() -> None:
    from pytest_mlperf_nv.harness.nvidia.custom_system import gpu_groups

    assert gpu_groups(facts())[0].known.member == "H200_SXM_141GB"
    # Another board maximum than NVIDIA's KnownGPU entry: NVIDIA's code does not know the GPU.
    assert gpu_groups(facts(power_max_limit_w=1000.0))[0].known is None
    # A PCI id is compared instead of the name, as NVIDIA does.
    assert gpu_groups(facts(name="NVIDIA Graphics Device"))[0].known.member == "H200_SXM_141GB"
    assert gpu_groups(facts(pci_device_id="0x233010DE"))[0].known is None


def test_knobs_nvidia_does_not_read_are_left_out_of_the_generated_config() -> None:
    d = build_definition(facts(), "resnet50", "Server", {"soft_drop": 0.99, "use_deque_limit": True,
                                                         "start_from_device": True})
    config = d.text("custom.py")
    assert "soft_drop" not in config and "    use_deque_limit = True\n" in config
    assert config.count("start_from_device") == 1  # only the unset line
    assert [line.split(":")[0] for line in d.left_out] == ["soft_drop", "start_from_device"]
    assert "only for bert" in d.left_out[0] and "start_from_device_enabled" in d.left_out[1]


def test_nvidias_v50_reads_its_custom_system_from_nvmitten_json() -> None:
    d = build_definition(facts(), "resnet50", "Offline", OFFLINE, version="v5.0")
    assert not any(path.startswith("custom_systems/") for path, _ in d.files)
    data = json.loads(d.text("custom_list.json"))
    system = data["Custom_H200x1"]
    assert system["__obj_class__"] == "<class 'nvmitten.system.component.Description'>"
    fields = system["data"]["fields"]
    assert fields["extras"] == {}  # NVIDIA's loader adds its tags there and expects the key
    gpus = fields["accelerators"]["data"][0]["value"]
    assert len(gpus) == 1 and gpus[0]["data"]["fields"]["pci_id"] == "0x233510DE"
    assert gpus[0]["data"]["fields"]["compute_sm"] == {
        "__obj_class__": "<class 'nvmitten.nvidia.constants.ComputeSM'>", "data": 90}


def test_the_v50_custom_list_is_installed_but_never_over_a_users_own(tmp_path: Path) -> None:
    from pytest_mlperf_nv.errors import HarnessError
    from pytest_mlperf_nv.harness.nvidia.custom_list_json import PATH, install

    d = build_definition(facts(), "resnet50", "Offline", OFFLINE, version="v5.0")
    where = write_definition(tmp_path, d)
    install(tmp_path, where)
    target = tmp_path / PATH
    assert target.read_text() == d.text("custom_list.json")
    other = build_definition(facts(count=2), "resnet50", "Offline", OFFLINE, version="v5.0")
    install(tmp_path, write_definition(tmp_path, other))  # the plugin's own file: replaced
    assert "Custom_H200x2" in target.read_text()
    target.write_text('{"mine": {}}')
    with pytest.raises(HarnessError, match="was not written by pytest-mlperf-nv"):
        install(tmp_path, where)
    assert target.read_text() == '{"mine": {}}'
