"""System detection (NVML, CPU, memory), CUDA_VISIBLE_DEVICES, memory buckets and snapshots."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import types
from pathlib import Path

import pytest

from pytest_mlperf_nv.errors import MlperfError
from pytest_mlperf_nv.systems import (
    GpuInfo,
    SnapshotError,
    SystemFacts,
    detect_system,
    memory_bucket_gib,
    read_snapshot,
    snapshot_main,
    summary,
    write_snapshot,
)
from pytest_mlperf_nv.systems import detect as detect_mod
from pytest_mlperf_nv.systems import snapshot as snapshot_mod
from pytest_mlperf_nv.systems.detect import _cpu_model, _memory_total_gib, _select_visible

DATA = Path(__file__).resolve().parent.parent / "data" / "systems"


def _nvml_available() -> bool:
    import pynvml

    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return False
    pynvml.nvmlShutdown()
    return True


def _gpu(index: int, uuid: str | None = None, name: str = "NVIDIA H200", mib: int = 143771) -> GpuInfo:
    return GpuInfo(
        index=index,
        name=name,
        uuid=uuid or f"GPU-{index:08x}-1111-2222-3333-444444444444",
        memory_total_mib=mib,
        compute_capability="9.0",
        pci_bus_id=f"00000000:{0x19 + index:02X}:00.0",
        power_limit_w=700.0,
    )


def _h200x2() -> SystemFacts:
    return SystemFacts(
        source="nvml",
        hostname="dgx-h200",
        os="Linux-5.15.0-122-generic-x86_64-with-glibc2.35",
        python="3.11.9",
        cpu_model="Intel(R) Xeon(R) Platinum 8480C",
        cpu_count=224,
        memory_total_gib=2015.6,
        driver_version="570.86.15",
        cuda_driver_version="12.8",
        nvml_version="12.570.86.15",
        gpus=(_gpu(0), _gpu(1)),
        gpu_error=None,
        software={"onnxruntime": "1.20.1", "mlperf_loadgen": "6.0.5", "numpy": "1.26.4"},
    )


# --------------------------------------------------------------------------- live detection


@pytest.mark.skipif(_nvml_available(), reason="this machine has an NVIDIA driver")
def test_detect_without_driver_reports_the_nvml_reason():
    facts = detect_system()
    assert facts.source == "nvml"
    assert facts.gpus == ()
    assert facts.gpu_count == 0 and not facts.has_gpus
    assert facts.gpu_name is None and facts.gpu_memory_gib is None
    assert facts.gpu_error == "NVML Shared Library Not Found"
    assert facts.driver_version is None and facts.cuda_driver_version is None and facts.nvml_version is None


def test_detect_reports_real_host_facts():
    facts = detect_system()
    assert facts.cpu_count == os.cpu_count()
    assert facts.cpu_model and facts.cpu_model != "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists() and "model name" in cpuinfo.read_text():
        line = next(x for x in cpuinfo.read_text().splitlines() if x.startswith("model name"))
        assert facts.cpu_model == line.split(":", 1)[1].strip()
    assert facts.memory_total_gib is not None and facts.memory_total_gib > 0
    assert facts.python == ".".join(map(str, sys.version_info[:3]))
    assert facts.hostname and facts.os
    assert facts.software["onnxruntime"]
    assert facts.software["mlperf_loadgen"]
    assert facts.software["numpy"]
    assert facts.has_gpus or facts.gpu_error


def test_detect_does_not_import_torch():
    had = "torch" in sys.modules
    detect_system()
    assert ("torch" in sys.modules) == had


def test_detect_survives_a_missing_driver_even_on_a_gpu_machine(monkeypatch):
    import pynvml

    def fail():
        raise pynvml.NVMLError(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)

    monkeypatch.setattr(pynvml, "nvmlInit", fail)
    facts = detect_system()
    assert facts.gpus == () and facts.gpu_error == "NVML Shared Library Not Found"


def test_cpu_model_and_memory_parsers(tmp_path, monkeypatch):
    arm = tmp_path / "cpuinfo"
    arm.write_text(
        "processor\t: 0\nBogoMIPS\t: 50.00\n\nHardware\t: BCM2835\nModel\t: Raspberry Pi 4 Model B\n"
    )
    assert _cpu_model(arm) == "Raspberry Pi 4 Model B"
    empty = tmp_path / "empty"
    empty.write_text("processor : 0\n")
    monkeypatch.setattr(detect_mod.platform, "processor", lambda: "aarch64")
    assert _cpu_model(empty) == "aarch64"
    assert _cpu_model(tmp_path / "missing") == "aarch64"
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       131891584 kB\nMemFree:        123 kB\n")
    assert _memory_total_gib(meminfo) == 125.8


# --------------------------------------------------------------------------- NVML, through a fake module


class _FakeNvmlError(Exception):
    pass


def _fake_pynvml(gpus: list[dict], calls: list[str], broken: int | None = None) -> types.ModuleType:
    m = types.ModuleType("pynvml")
    m.NVMLError = _FakeNvmlError

    def handle(i):
        if i == broken:
            raise _FakeNvmlError("GPU is lost")
        return gpus[i]

    def not_supported(h):
        raise _FakeNvmlError("Not Supported")

    m.nvmlInit = lambda: calls.append("init")
    m.nvmlShutdown = lambda: calls.append("shutdown")
    m.nvmlSystemGetDriverVersion = lambda: "570.86.15"
    m.nvmlSystemGetCudaDriverVersion = lambda: 12080
    m.nvmlSystemGetNVMLVersion = lambda: b"12.570.86.15"
    m.nvmlDeviceGetCount = lambda: len(gpus)
    m.nvmlDeviceGetHandleByIndex = handle
    m.nvmlDeviceGetName = lambda h: h["name"].encode()
    m.nvmlDeviceGetUUID = lambda h: h["uuid"]
    m.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(total=h["mib"] * 1024 * 1024, free=0, used=0)
    m.nvmlDeviceGetCudaComputeCapability = lambda h: (9, 0)
    m.nvmlDeviceGetPciInfo = lambda h: types.SimpleNamespace(busId=h["bus"].encode())
    m.nvmlDeviceGetEnforcedPowerLimit = not_supported
    m.nvmlDeviceGetPowerManagementLimit = lambda h: h["mw"] if h["mw"] else not_supported(h)
    return m


FAKE_GPUS = [
    {"name": "NVIDIA H200", "uuid": "GPU-aaaa0000-0000-0000-0000-000000000000", "mib": 143771,
     "bus": "00000000:19:00.0", "mw": 700000},
    {"name": "NVIDIA H200", "uuid": "GPU-bbbb0000-0000-0000-0000-000000000000", "mib": 143771,
     "bus": "00000000:3B:00.0", "mw": None},
]


def test_detect_reads_gpus_through_nvml(monkeypatch):
    calls: list[str] = []
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml(FAKE_GPUS, calls))
    facts = detect_system(environ={})
    assert calls == ["init", "shutdown"]
    assert facts.driver_version == "570.86.15"
    assert facts.cuda_driver_version == "12.8"
    assert facts.nvml_version == "12.570.86.15"
    assert facts.gpu_error is None
    assert facts.gpu_count == 2
    first = facts.gpus[0]
    assert first == GpuInfo(0, "NVIDIA H200", FAKE_GPUS[0]["uuid"], 143771, "9.0", "00000000:19:00.0", 700.0)
    assert facts.gpus[1].power_limit_w is None  # not supported: not an error
    assert facts.gpu_name == "NVIDIA H200"
    assert facts.gpu_memory_gib == pytest.approx(140.4, abs=0.05)
    assert summary(facts) == "2 x NVIDIA H200 (143771 MiB, sm 9.0), driver 570.86.15, CUDA 12.8"


def test_detect_honours_cuda_visible_devices(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml(FAKE_GPUS, []))
    assert [g.index for g in detect_system(environ={"CUDA_VISIBLE_DEVICES": "1"}).gpus] == [1]
    assert [g.index for g in detect_system(environ={"CUDA_VISIBLE_DEVICES": "GPU-bbbb,0"}).gpus] == [1, 0]
    hidden = detect_system(environ={"CUDA_VISIBLE_DEVICES": "-1"})
    assert hidden.gpus == ()
    assert hidden.gpu_error == "CUDA_VISIBLE_DEVICES='-1' selects none of the 2 GPUs"


def test_detect_keeps_the_gpus_it_could_read(monkeypatch):
    calls: list[str] = []
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml(FAKE_GPUS, calls, broken=0))
    facts = detect_system(environ={})
    assert [g.index for g in facts.gpus] == [1]
    assert facts.gpu_error == "GPU 0: GPU is lost"
    assert calls == ["init", "shutdown"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, [0, 1, 2, 3]),
        ("", []),
        ("2", [2]),
        ("2,0", [2, 0]),
        (" 3 , 1 ", [3, 1]),
        ("1,1,2", [1, 2]),
        ("0,7,1", [0]),  # CUDA stops at the first index that does not exist
        ("0,foo,1", [0]),
        ("-1", []),
        ("GPU-00000002-1111-2222-3333-444444444444", [2]),
        ("gpu-00000003", [3]),  # a unique prefix, any case
        ("GPU-0000000", []),  # an ambiguous prefix matches nothing
        ("GPU-00000001,0", [1, 0]),
        ("MIG-5c2b3a1e-0000-0000-0000-000000000000", [0, 1, 2, 3]),  # MIG: cannot filter, keep all
    ],
)
def test_select_visible(value, expected):
    gpus = [_gpu(i) for i in range(4)]
    assert [g.index for g in _select_visible(gpus, value)] == expected


# --------------------------------------------------------------------------- memory buckets


@pytest.mark.parametrize(
    ("mib", "bucket"),
    [
        (23034, 24),  # L4
        (40960, 40),  # A100-40GB
        (81920, 80),  # A100-80GB
        (81559, 80),  # H100-80GB
        (143771, 144),  # H200
        (24564, 24),  # RTX 4090
        (15360, 16),  # T4
        (0, 0),
    ],
)
def test_memory_bucket_gib(mib, bucket):
    assert memory_bucket_gib(mib) == bucket


@pytest.mark.parametrize("bad", [-1, 1.5, "80", True])
def test_memory_bucket_rejects_non_integers(bad):
    with pytest.raises(ValueError):
        memory_bucket_gib(bad)


# --------------------------------------------------------------------------- snapshots


def test_round_trip_equal(tmp_path):
    facts = _h200x2()
    path = write_snapshot(facts, tmp_path / "sub" / "h200.json")
    data = json.loads(path.read_text())
    assert data["format"] == 1
    assert data["created"].endswith("+00:00")
    assert data["gpus"][0]["memory_total_mib"] == 143771
    back = read_snapshot(path)
    assert back.source == f"snapshot {path}"
    assert dataclasses.replace(back, source="nvml") == facts


def test_round_trip_of_this_machine(tmp_path):
    facts = detect_system()
    back = read_snapshot(write_snapshot(facts, tmp_path / "here.json"))
    assert dataclasses.replace(back, source=facts.source) == facts
    hash(back)  # frozen and hashable, although software is a dict


def test_l4_snapshot():
    facts = read_snapshot(DATA / "l4x1.json")
    assert facts.gpu_count == 1 and facts.has_gpus
    assert facts.gpu_name == "NVIDIA L4"
    assert facts.gpus[0].compute_capability == "8.9"
    assert memory_bucket_gib(facts.gpus[0].memory_total_mib) == 24
    assert facts.cpu_model == "AMD EPYC 7313P 16-Core Processor"
    assert facts.driver_version == "550.54.15" and facts.cuda_driver_version == "12.4"
    assert facts.source == f"snapshot {DATA / 'l4x1.json'}"
    assert summary(facts) == "1 x NVIDIA L4 (23034 MiB, sm 8.9), driver 550.54.15, CUDA 12.4"


def test_cpu_only_snapshot():
    facts = read_snapshot(DATA / "cpu-only.json")
    assert facts.gpus == () and not facts.has_gpus and facts.gpu_name is None
    assert facts.gpu_error == "NVML Shared Library Not Found"
    assert summary(facts) == "no GPUs: NVML Shared Library Not Found"


def _l4() -> dict:
    return json.loads((DATA / "l4x1.json").read_text())


def _without(key: str):
    def edit(d):
        del d[key]

    return edit


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def edit(d):
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value

    return edit


def _without_gpu_field(key: str):
    def edit(d):
        del d["gpus"][0][key]

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_without("format"), "missing field 'format' (is this a system snapshot?"),
        (_set("format", 2), "snapshot format 2 is not supported (this version reads format 1)"),
        (_set("format", "1"), "snapshot format '1' is not supported"),
        (_without("hostname"), "missing field 'hostname'"),
        (_without("gpus"), "missing field 'gpus'"),
        (_without_gpu_field("uuid"), "missing field 'gpus[0].uuid'"),
        (_set("gpus", 0, "memory_total_mib", "22.5 GiB"),
         "gpus[0].memory_total_mib: expected an integer, got a string ('22.5 GiB')"),
        (_set("gpus", 0, "memory_total_mib", 23034.0),
         "gpus[0].memory_total_mib: expected an integer, got a number"),
        (_set("gpus", 0, "index", True), "gpus[0].index: expected an integer, got a boolean"),
        (_set("gpus", 0, "power_limit_w", "72 W"), "gpus[0].power_limit_w: expected a number or null"),
        (_set("gpus", 0, "compute_capability", 8.9),
         "gpus[0].compute_capability: expected a string, got a number"),
        (_set("gpus", 0, "oops"), "gpus[0]: expected an object, got a string ('oops')"),
        (_set("gpus", {}), "gpus: expected a list, got an object"),
        (_set("cpu_count", "32"), "cpu_count: expected an integer, got a string ('32')"),
        (_set("driver_version", 550), "driver_version: expected a string or null, got an integer"),
        (_set("software", "torch"), "software: expected an object"),
        (_set("software", "torch", 2.3), "software.torch: expected a string, got a number"),
    ],
)
def test_snapshot_errors_name_the_file_and_the_field(tmp_path, edit, message):
    data = _l4()
    edit(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SnapshotError) as info:
        read_snapshot(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_snapshot_not_found(tmp_path):
    with pytest.raises(SnapshotError, match=r"missing\.json: no such snapshot file"):
        read_snapshot(tmp_path / "missing.json")


def test_snapshot_not_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": 1,\n  "hostname": }\n')
    with pytest.raises(SnapshotError, match=r"broken\.json: not valid JSON \(line 2 column 15: "):
        read_snapshot(path)


def test_snapshot_not_an_object(tmp_path):
    path = tmp_path / "list.json"
    path.write_text("[1, 2]")
    with pytest.raises(SnapshotError, match=r"list\.json: expected a JSON object \(a system snapshot\)"):
        read_snapshot(path)


def test_snapshot_error_is_a_value_error_and_a_user_error():
    assert issubclass(SnapshotError, ValueError)
    assert issubclass(SnapshotError, MlperfError)


def test_extra_fields_are_ignored_and_optional_ones_may_be_absent(tmp_path):
    data = _l4()
    data["future_field"] = {"x": 1}
    for key in ("created", "source", "nvml_version", "gpu_error"):
        del data[key]
    del data["gpus"][0]["power_limit_w"]
    path = tmp_path / "lean.json"
    path.write_text(json.dumps(data))
    facts = read_snapshot(path)
    assert facts.nvml_version is None and facts.gpus[0].power_limit_w is None


# --------------------------------------------------------------------------- mlperf-nv snapshot


def test_snapshot_main_writes_a_file_and_prints_the_summary(tmp_path, capsys):
    out = tmp_path / "snap" / "here.json"
    assert snapshot_main(["-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    facts = read_snapshot(out)
    assert captured.err == f"{summary(facts)} -> {out}\n"
    if not facts.has_gpus:
        assert captured.err.startswith("no GPUs: ")


def test_snapshot_main_prints_json_to_stdout(capsys, monkeypatch):
    monkeypatch.setattr(snapshot_mod, "detect_system", _h200x2)
    assert snapshot_main([]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["format"] == 1 and len(data["gpus"]) == 2
    assert captured.err == "2 x NVIDIA H200 (143771 MiB, sm 9.0), driver 570.86.15, CUDA 12.8\n"


def test_snapshot_main_reports_an_unwritable_file(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert snapshot_main(["-o", str(blocker / "x.json")]) == 1
    assert "mlperf-nv snapshot: cannot write" in capsys.readouterr().err


def test_summary_of_mixed_gpus_and_hidden_ones():
    facts = dataclasses.replace(
        _h200x2(), gpus=(_gpu(0), _gpu(1, name="NVIDIA L4", mib=23034)), driver_version=None,
        cuda_driver_version=None,
    )
    assert summary(facts) == "1 x NVIDIA H200 (143771 MiB, sm 9.0) + 1 x NVIDIA L4 (23034 MiB, sm 9.0)"
    assert summary(dataclasses.replace(facts, gpus=(), gpu_error=None)) == "no GPUs"


def test_recorded_h200_snapshot() -> None:
    """A snapshot recorded with `mlperf-nv snapshot` on a real H200 machine (NVML, driver 580)."""
    from pathlib import Path

    from pytest_mlperf_nv.systems import memory_bucket_gib, read_snapshot

    facts = read_snapshot(Path(__file__).parent.parent / "data/systems/h200x1.json")
    assert facts.source.startswith("snapshot ") and facts.has_gpus and facts.gpu_count == 1
    assert facts.gpu_name == "NVIDIA H200" and facts.gpus[0].compute_capability == "9.0"
    assert memory_bucket_gib(facts.gpus[0].memory_total_mib) == 144
    assert facts.driver_version == "580.159.04" and facts.cuda_driver_version == "13.0"
    assert facts.cpu_model == "Intel(R) Xeon(R) Processor" and facts.cpu_count == 16
