"""Per-GPU profiles: packaged data, validation, NVML name matching, auto resolution, precedence."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from pytest_mlperf_nv.errors import MlperfError
from pytest_mlperf_nv.suite.knobs import KNOBS, SCENARIOS
from pytest_mlperf_nv.systems import GpuInfo, SystemFacts, read_snapshot
from pytest_mlperf_nv.systems.profiles import (
    NVIDIA_FLAGS,
    Profile,
    ProfileError,
    get_profile,
    load_profiles,
    resolve_profile,
)

SYSTEMS = Path(__file__).resolve().parent.parent / "data" / "systems"
PROFILE_DIR = Path(__file__).resolve().parents[2] / "pytest_mlperf_nv" / "systems" / "profiles"

EXPECTED = ("a100-sxm", "a100-pcie", "rtx_a6000", "l4", "t4", "rtx_4090", "rtx_6000_ada", "orin", "custom",
            "gpu_memory_8", "gpu_memory_16", "gpu_memory_24", "gpu_memory_32", "gpu_memory_40",
            "gpu_memory_48", "gpu_memory_80", "h100", "h200")


def facts(*gpus: tuple[str, int], error: str | None = None) -> SystemFacts:
    return SystemFacts(
        source="test", hostname="host", os="Linux", python="3.11", cpu_model="cpu", cpu_count=8,
        memory_total_gib=64.0, gpu_error=error,
        gpus=tuple(GpuInfo(index=i, name=name, uuid=f"GPU-{i}", memory_total_mib=mib,
                           compute_capability="9.0", pci_bus_id=f"0000:0{i}:00.0")
                   for i, (name, mib) in enumerate(gpus)))


# ---------------------------------------------------------------------------------------------
# the packaged data


def test_every_profile_loads_with_decisions() -> None:
    profiles = load_profiles()
    assert set(EXPECTED) <= set(profiles)
    for name, prof in profiles.items():
        assert isinstance(prof, Profile) and prof.name == name
        assert prof.decisions, f"{name} records no decisions"
        assert all(isinstance(d, str) and d for d in prof.decisions)
        for bench in prof.benchmarks:
            for scenario in SCENARIOS:
                for knob in prof.knobs(bench, scenario):
                    assert knob in KNOBS
                for flag in prof.nvidia_flags(bench, scenario):
                    assert flag in NVIDIA_FLAGS


def test_common_layer_is_not_selectable() -> None:
    assert "_common" not in load_profiles()
    with pytest.raises(ProfileError):
        get_profile("_common")


def test_every_number_names_its_source() -> None:
    value_line = re.compile(r"^\s+[\w.-]+:\s+(true|false|-?[0-9][0-9.e+]*)\s*(#.*)?$")
    files = sorted(PROFILE_DIR.glob("*.yaml"))
    assert len(files) >= len(EXPECTED) + 1
    for path in files:
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            match = value_line.match(line)
            if not match or line.lstrip().startswith("memory_gib"):
                continue
            comment = match.group(2) or ""
            source = r"# (seed: _|mlcommons/inference_results_v4\.1: closed/NVIDIA/configs/)"
            assert re.search(source, comment), \
                f"{path.name}:{lineno}: value without a source comment: {line.strip()}"


def test_seed_values_are_carried() -> None:
    p = load_profiles()
    assert p["a100-sxm"].knobs("retinanet", "Offline") == {
        "gpu_batch_size": 32, "gpu_copy_streams": 2, "gpu_inference_streams": 2,
        "workspace_size": 300000000000}
    assert p["t4"].knobs("bert-99", "Server")["use_small_tile_gemm_plugin"] is False
    assert p["t4"].nvidia_flags("bert-99", "Server") == {"graphs_max_seqlen": 240,
                                                          "server_num_issue_query_threads": 0}
    assert p["gpu_memory_16"].knobs("resnet50", "Offline") == {"gpu_batch_size": 1024, "gpu_copy_streams": 4}
    assert p["gpu_memory_48"].knobs("bert-99.9", "Offline") == {"gpu_batch_size": 1024}
    assert p["gpu_memory_80"].knobs("bert-99", "Server") == {"gpu_batch_size": 64}
    assert "gpu_batch_size" not in p["gpu_memory_80"].knobs("bert-99", "Offline")
    assert p["orin"].knobs("rnnt", "SingleStream") == {"num_warmups": 1}
    assert p["custom"].knobs("resnet50", "Offline") == {}
    assert p["gpu_memory_8"].knobs("resnet50", "Offline") == {}
    assert p["h200"].knobs("resnet50", "Server") == {"gpu_batch_size": 256, "server_target_qps": 79000}
    assert p["h100"].knobs("resnet50", "Server") == {"gpu_batch_size": 256, "server_target_qps": 73000}
    assert p["h200"].knobs("3d-unet-99", "Offline") == {"gpu_batch_size": 8, "offline_expected_qps": 6.8}


def test_gaps_are_recorded() -> None:
    p = load_profiles()
    assert any("144" in d for d in p["h200"].decisions)
    assert any("_pcie" in d for d in p["a100-pcie"].decisions)
    assert any("Server" in d for d in p["rtx_4090"].decisions)  # 3d-unet Server entry dropped
    assert any("a6000" in d for d in p["rtx_a6000"].decisions)


# ---------------------------------------------------------------------------------------------
# precedence


def test_precedence_l4_resnet50_server() -> None:
    l4 = get_profile("l4")
    knobs = l4.knobs("resnet50", "Server")
    assert knobs["gpu_batch_size"] == 16  # _l4,resnet50,server beats _resnet50,server (64)
    assert knobs == {"gpu_batch_size": 16, "gpu_copy_streams": 9, "gpu_inference_streams": 2,
                     "use_graphs": True, "use_deque_limit": True, "deque_timeout_usec": 2000,
                     "server_target_qps": 12200}
    assert l4.nvidia_flags("resnet50", "Server") == {"use_cuda_thread_per_device": True}
    assert l4.explain("resnet50", "Server")["gpu_batch_size"] == (16, "l4.yaml benchmarks.resnet50.Server")


def test_inherited_layers_fill_gaps() -> None:
    l4 = get_profile("l4")
    assert l4.knobs("resnet50", "MultiStream") == {"gpu_batch_size": 8}  # _resnet50,multistream
    assert l4.explain("bert-99", "SingleStream") == {
        "gpu_batch_size": (1, "_common.yaml scenarios.SingleStream")}
    h100 = get_profile("h100")
    assert h100.knobs("retinanet", "Offline") == {"gpu_batch_size": 8}  # from gpu_memory_80
    assert h100.knobs("resnet50", "Offline") == {"gpu_batch_size": 2048, "offline_expected_qps": 90000}
    assert [p.name for p in h100.chain()] == ["h100", "gpu_memory_80", "_common"]
    assert get_profile("t4").knobs("resnet50", "Server")["gpu_batch_size"] == 26


def test_scenario_targets_only_reach_their_scenario(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(
        "name: x\nmatch: []\nmemory_gib: 8\ndecisions: []\n"
        "knobs: {gpu_batch_size: 4, server_target_qps: 100}\n"
        "scenarios: {Offline: {gpu_batch_size: 5}}\n"
        "benchmarks: {resnet50: {gpu_copy_streams: 3, gpu_batch_size: 6, Offline: {gpu_batch_size: 7}}}\n")
    x = load_profiles(tmp_path)["x"]
    assert x.knobs("resnet50", "Offline") == {"gpu_batch_size": 7, "gpu_copy_streams": 3}
    assert x.knobs("resnet50", "Server") == {"gpu_batch_size": 6, "gpu_copy_streams": 3,
                                             "server_target_qps": 100}
    assert x.knobs("bert-99", "Offline") == {"gpu_batch_size": 5}
    assert x.knobs("bert-99", "SingleStream") == {"gpu_batch_size": 4}
    with pytest.raises(ProfileError, match="unknown scenario 'offline'; did you mean 'Offline'"):
        x.knobs("resnet50", "offline")


def test_profiles_are_frozen() -> None:
    l4 = get_profile("l4")
    with pytest.raises(dataclasses.FrozenInstanceError):
        l4.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        l4.benchmark_scenario_knobs["resnet50"]["Server"]["gpu_batch_size"] = 1  # type: ignore[index]
    assert l4 == get_profile("L4") and hash(l4) == hash(get_profile("l4"))


# ---------------------------------------------------------------------------------------------
# names, NVML matching, auto


@pytest.mark.parametrize(("nvml_name", "profile"), [
    ("NVIDIA L4", "l4"),
    ("NVIDIA H200", "h200"),
    ("NVIDIA H100 80GB HBM3", "h100"),
    ("NVIDIA A100-SXM4-80GB", "a100-sxm"),
    ("NVIDIA A100-SXM4-40GB", "a100-sxm"),
    ("NVIDIA A100 80GB PCIe", "a100-pcie"),
    ("Tesla T4", "t4"),
    ("NVIDIA GeForce RTX 4090", "rtx_4090"),
    ("NVIDIA RTX 6000 Ada Generation", "rtx_6000_ada"),
    ("NVIDIA RTX A6000", "rtx_a6000"),
    ("nvidia  l4", "l4"),  # case and spacing do not matter
])
def test_nvml_names_match(nvml_name: str, profile: str) -> None:
    matched = [p.name for p in load_profiles().values() if p.matches(nvml_name)]
    assert matched == [profile]


def test_get_profile_aliases_and_did_you_mean() -> None:
    assert get_profile("a6000").name == "rtx_a6000"
    assert get_profile("a100").name == "a100-sxm"
    assert get_profile("RTX_4090").name == "rtx_4090"
    with pytest.raises(ProfileError, match="did you mean 'rtx_4090'"):
        get_profile("rtx4090")
    with pytest.raises(ProfileError, match="did you mean 'gpu_memory_80'"):
        get_profile("gpu_memory80")
    with pytest.raises(MlperfError):
        get_profile("nonsense-gpu")


@pytest.mark.parametrize(("snapshot", "profile", "line"), [
    ("l4x1.json", "l4", "auto: NVIDIA L4 matched profile l4"),
    ("h200x1.json", "h200", "auto: NVIDIA H200 matched profile h200"),
])
def test_auto_with_snapshots(snapshot: str, profile: str, line: str) -> None:
    prof, explanation = resolve_profile("auto", read_snapshot(SYSTEMS / snapshot))
    assert prof.name == profile
    assert explanation == line


def test_auto_without_gpu_is_a_clear_error() -> None:
    cpu = read_snapshot(SYSTEMS / "cpu-only.json")
    with pytest.raises(ProfileError) as info:
        resolve_profile("auto", cpu)
    message = str(info.value)
    assert "no NVIDIA GPU found" in message and "NVML Shared Library Not Found" in message
    assert "system.gpu: <profile>" in message
    with pytest.raises(ProfileError, match="GPU is unknown"):
        resolve_profile("auto", None)
    # a named profile needs no GPU
    assert resolve_profile("l4", cpu)[0].name == "l4"


@pytest.mark.parametrize(("name", "mib", "profile", "line"), [
    ("NVIDIA H800", 81559, "gpu_memory_80", "auto: no profile matches 'NVIDIA H800'; using gpu_memory_80 "
                                            "(80 GiB bucket)"),
    ("NVIDIA A10", 23028, "gpu_memory_24", "auto: no profile matches 'NVIDIA A10'; using gpu_memory_24 "
                                           "(24 GiB bucket)"),
    ("NVIDIA A100-PCIE-40GB", 40960, "gpu_memory_40", "auto: no profile matches 'NVIDIA A100-PCIE-40GB'; "
                                                      "using gpu_memory_40 (40 GiB bucket)"),
    ("NVIDIA H100 NVL", 95830, "gpu_memory_80", "auto: no profile matches 'NVIDIA H100 NVL'; using "
                                                "gpu_memory_80 (there is no gpu_memory_96 profile; largest "
                                                "bucket below the GPU's 96 GiB)"),
    ("NVIDIA GeForce GTX 1650", 4096, "gpu_memory_8", "auto: no profile matches 'NVIDIA GeForce GTX 1650'; "
                                                      "using gpu_memory_8 (8 GiB bucket)"),
])
def test_auto_falls_back_to_memory_bucket(name: str, mib: int, profile: str, line: str) -> None:
    prof, explanation = resolve_profile("auto", facts((name, mib)))
    assert prof.name == profile
    assert explanation == line


def test_auto_uses_first_gpu_and_says_when_gpus_differ() -> None:
    prof, line = resolve_profile("auto", facts(("NVIDIA L4", 23034), ("Tesla T4", 15360)))
    assert prof.name == "l4"
    assert line == "auto: NVIDIA L4 matched profile l4 (GPU 0 of 2 mixed GPUs)"
    prof, line = resolve_profile("auto", facts(("NVIDIA L4", 23034), ("NVIDIA L4", 23034)))
    assert line == "auto: NVIDIA L4 matched profile l4"


def test_named_profile_notes_a_mismatch() -> None:
    prof, line = resolve_profile("l4", read_snapshot(SYSTEMS / "h200x1.json"))
    assert prof.name == "l4"
    assert "this machine's GPU is 'NVIDIA H200', which l4 does not match" in line
    prof, line = resolve_profile("a6000", None)
    assert prof.name == "rtx_a6000" and line == "system.gpu a6000: profile rtx_a6000"


# ---------------------------------------------------------------------------------------------
# validation


GOOD = "name: {name}\nmatch: []\nmemory_gib: 8\ndecisions: []\n"


@pytest.mark.parametrize(("body", "message"), [
    ("benchmarks: {resnet50: {Server: {gpu_bach_size: 2}}}",
     "benchmarks.resnet50.Server.gpu_bach_size: unknown knob; did you mean 'gpu_batch_size'?"),
    ("benchmarks: {resnet50: {Server: {gpu_batch_size: 2.5}}}",
     "benchmarks.resnet50.Server.gpu_batch_size: expected an integer, got a number 2.5"),
    ("benchmarks: {resnet50: {Server: {use_graphs: 'yes'}}}",
     "benchmarks.resnet50.Server.use_graphs: expected true or false"),
    ("benchmarks: {resnet50: {Offline: {server_target_qps: 5}}}",
     "benchmarks.resnet50.Offline.server_target_qps: applies to Server only, not Offline"),
    ("benchmarks: {resnet50: {Server: {gpu_batch_size: 0}}}",
     "benchmarks.resnet50.Server.gpu_batch_size: must be greater than 0"),
    ("benchmarks: {resnet-50: {Offline: {gpu_batch_size: 2}}}",
     "benchmarks.resnet-50: unknown benchmark; did you mean 'resnet50'?"),
    ("benchmarks: {3d-unet-99: {Server: {gpu_batch_size: 8}}}",
     "benchmarks.3d-unet-99.Server: 3d-unet-99 has no Server scenario"),
    ("scenarios: {Ofline: {gpu_batch_size: 2}}",
     "scenarios.Ofline: unknown scenario; did you mean 'Offline'?"),
    ("inherits: gpu_memory_88", "inherits: unknown profile 'gpu_memory_88'"),
    ("colour: red", "colour: unknown key"),
    ("memory_gib: lots", "memory_gib: expected a positive integer or null"),
])
def test_validation_names_file_and_key(tmp_path: Path, body: str, message: str) -> None:
    text = GOOD.format(name="bad")
    if body.split(":")[0] in text:
        text = "\n".join(line for line in text.splitlines() if not line.startswith(body.split(":")[0]))
    (tmp_path / "bad.yaml").write_text(text + "\n" + body + "\n")
    (tmp_path / "gpu_memory_8.yaml").write_text(GOOD.format(name="gpu_memory_8"))
    with pytest.raises(ProfileError) as info:
        load_profiles(tmp_path)
    assert str(info.value).startswith(str(tmp_path / "bad.yaml") + ": ")
    assert message in str(info.value)


def test_validation_of_whole_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: b\nmatch: []\nmemory_gib: 8\ndecisions: []\n")
    with pytest.raises(ProfileError, match=r"a\.yaml: name: must be the file name"):
        load_profiles(tmp_path)
    (tmp_path / "a.yaml").write_text("name: a\nmatch: []\nmemory_gib: 8\n")
    with pytest.raises(ProfileError, match=r"a\.yaml: decisions: required key is missing"):
        load_profiles(tmp_path)
    (tmp_path / "a.yaml").write_text("name: a\nmatch: []\nmemory_gib: 8\ndecisions: []\ninherits: b\n")
    (tmp_path / "b.yaml").write_text("name: b\nmatch: []\nmemory_gib: 8\ndecisions: []\ninherits: a\n")
    with pytest.raises(ProfileError, match="inherits: cycle"):
        load_profiles(tmp_path)
    (tmp_path / "b.yaml").write_text("name: b\nmatch: [NVIDIA L4]\nmemory_gib: 8\ndecisions: []\n")
    (tmp_path / "a.yaml").write_text("name: a\nmatch: [nvidia l4]\nmemory_gib: 8\ndecisions: []\n")
    with pytest.raises(ProfileError, match="also matched by profile"):
        load_profiles(tmp_path)
    (tmp_path / "a.yaml").write_text("name: a\nmatch: []\nmemory_gib: 8\ndecisions: []\n: [\n")
    with pytest.raises(ProfileError, match=r"a\.yaml: not valid YAML"):
        load_profiles(tmp_path)
