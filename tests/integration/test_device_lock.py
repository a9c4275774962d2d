"""Performance runs take turns per device under xdist; accuracy runs and the opt-out do not wait."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_mlperf_nv.harness.devicelock import LOCK_DIR, DeviceLock, device_lock, lock_devices
from tests.helpers import digits_suite, write_suite

TIMED_CONFTEST = '''
import json
import os
import time
from pathlib import Path

from pytest_mlperf_nv.harness.loadgen.backends import OnnxRuntimeBackend

LOG = Path(os.environ["TIMED_BACKEND_LOG"])


class TimedBackend(OnnxRuntimeBackend):
    """Records when this process started and last answered (one line per call)."""

    def __init__(self, model_path, options):
        self.started = time.time()
        super().__init__(model_path, options)

    def predict(self, batch):
        out = super().predict(batch)
        with open(LOG / f"{os.getpid()}.json", "w") as f:
            json.dump({"start": self.started, "last": time.time()}, f)
        return out


def pytest_mlperf_register(registry):
    registry.add_backend("timed", TimedBackend)
'''
#: Offline's query sized like the default suite's: VALID on any machine up to 1.1 M samples/s
SCENARIOS = ("      Offline: {offline_expected_qps: 1000000, min_duration: 50}\n"
             "      SingleStream: {single_stream_expected_latency_ns: 20000}\n"
             "      MultiStream: {multi_stream_expected_latency_ns: 50000}\n")


def _intervals(log: Path) -> list[tuple[float, float]]:
    spans = [json.loads(p.read_text()) for p in log.glob("*.json")]
    return sorted((s["start"], s["last"]) for s in spans)


def test_performance_runs_take_turns_under_xdist(mlperf_env: Path, pytester: pytest.Pytester,
                                                 monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    log = tmp_path / "spans"
    log.mkdir()
    monkeypatch.setenv("TIMED_BACKEND_LOG", str(log))
    pytester.makeconftest(TIMED_CONFTEST)
    write_suite(mlperf_env, digits_suite(SCENARIOS, backend="timed"))
    result = pytester.runpytest("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=3)
    spans = _intervals(log)
    assert len(spans) == 3
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert end <= start, spans  # one run's child ends before the next one's starts
    assert (mlperf_env / "mlperf-results" / LOCK_DIR / "cpu.lock").exists()


def test_lock_devices_names_the_cpu_or_each_gpu_by_uuid() -> None:
    facts = SimpleNamespace(gpus=[SimpleNamespace(uuid="GPU-b", index=1),
                                  SimpleNamespace(uuid="GPU-a", index=0)])
    assert lock_devices("none") == ["cpu"]
    assert lock_devices(None) == ["cpu"]
    assert lock_devices("h200", lambda: facts) == ["gpu-GPU-a", "gpu-GPU-b"]
    assert lock_devices("auto", None) == ["gpu-all"]

    def no_nvml() -> None:
        raise RuntimeError("no driver")

    assert lock_devices("l4", no_nvml) == ["gpu-all"]


@pytest.mark.parametrize(("mode", "share", "locked"), [
    ("performance", False, True), ("compliance", False, True), ("accuracy", False, False),
    ("performance", True, False)])
def test_only_measuring_runs_lock_unless_shared(tmp_path: Path, mode: str, share: bool, locked: bool) -> None:
    lock = device_lock(tmp_path, ["cpu"], mode=mode, share=share)
    assert (lock is not None) == locked


def test_a_held_device_lock_blocks_a_second_holder(tmp_path: Path) -> None:
    from filelock import FileLock, Timeout

    with DeviceLock(tmp_path, ["gpu-GPU-a", "cpu"]) as held:
        assert [p.name for p in held.paths] == ["cpu.lock", "gpu-GPU-a.lock"]
        with pytest.raises(Timeout):
            FileLock(str(tmp_path / LOCK_DIR / "cpu.lock")).acquire(timeout=0.1)
    FileLock(str(tmp_path / LOCK_DIR / "cpu.lock")).acquire(timeout=0.1)


@pytest.mark.parametrize(("args", "env", "ini"), [
    (["--mlperf-share-device"], {}, ""), ([], {"MLPERF_NV_SHARE_DEVICE": "1"}, ""),
    ([], {}, "mlperf_share_device = true\n")])
def test_share_device_from_flag_env_or_ini(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                           args: list[str], env: dict[str, str], ini: str) -> None:
    from pytest_mlperf_nv.session import SESSION_KEY

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pytester.makeini("[pytest]\n" + ini)
    config = pytester.parseconfigure(*args)
    assert config.stash[SESSION_KEY].settings.get("share_device") is True
