"""Provisioning: cache hits across sessions, one build across xdist workers, corruption,
prefetch-only, strict mode, cache clearing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.helpers import digits_suite, write_suite

TWO_ITEMS = ("      Offline: {offline_expected_qps: 2000000, min_duration: 200}\n"
             "      SingleStream: {single_stream_expected_latency_ns: 20000}\n")

SLOW_ENGINE_CONFTEST = '''
import os
import time
from pathlib import Path

import pytest

from pytest_mlperf_nv.harness.loadgen.backends import OnnxRuntimeBackend
from pytest_mlperf_nv.provision.cache import Cache
from pytest_mlperf_nv.provision.provisioners import EngineProvisioner

COUNTER = Path(os.environ["ENGINE_BUILDS_DIR"])


class SlowEngineBackend(OnnxRuntimeBackend):
    @classmethod
    def build_engine(cls, model_path, staging_dir, options):
        marker = COUNTER / f"build-{os.getpid()}-{time.monotonic_ns()}"
        marker.write_text("")
        # A barrier: wait (up to 4 s) until another builder shows up. With the cache lock,
        # none does; without it, both workers build at once.
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline and len(list(COUNTER.iterdir())) < 2:
            time.sleep(0.05)
        return super().build_engine(model_path, staging_dir, options)


def pytest_mlperf_register(registry):
    registry.add_backend("slowengine", SlowEngineBackend)
'''

NO_LOCK_FIXTURE = '''

@pytest.fixture(scope="session")
def mlperf_engines(mlperf_session):
    """The same provisioner over a cache whose per-key lock is off."""
    return EngineProvisioner(mlperf_session, cache=Cache(mlperf_session.settings.get("cache_dir"),
                                                         locking=False))
'''


def _records(root: Path) -> dict[str, dict]:
    found = {}
    for path in (root / "mlperf-results/runs").glob("*/*/*/*/result.json"):
        if path.parent.name.endswith(".previous"):
            continue
        record = json.loads(path.read_text())
        found[f"{record['case']['scenario']}::{record['case']['mode']}"] = record
    return found


def test_second_session_hits_the_cache_for_every_artifact(mlperf_env: Path, pytester: pytest.Pytester,
                                                          tmp_path: Path) -> None:
    write_suite(mlperf_env, digits_suite(TWO_ITEMS))
    cache = tmp_path / "cache"
    pytester.runpytest(f"--mlperf-cache-dir={cache}").assert_outcomes(passed=2)
    first = _records(mlperf_env)
    assert {r["provisioning"]["model"]["source"] for r in first.values()} == {"built", "cache"}
    assert {r["provisioning"]["engine"]["source"] for r in first.values()} == {"built", "cache"}
    pytester.runpytest(f"--mlperf-cache-dir={cache}").assert_outcomes(passed=2)
    second = _records(mlperf_env)
    for record in second.values():
        for kind in ("model", "engine"):
            assert record["provisioning"][kind]["cache_hit"] is True, (kind, record["provisioning"])
            assert record["provisioning"][kind]["source"] == "cache"
    assert second["Offline::performance"]["provisioning"]["engine"]["path"].startswith(str(cache))


@pytest.mark.parametrize("locked", [True, False], ids=["with-lock", "lock-disabled"])
def test_two_xdist_workers_build_one_engine_once(mlperf_env: Path, pytester: pytest.Pytester,
                                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 locked: bool) -> None:
    builds = tmp_path / "builds"
    builds.mkdir()
    monkeypatch.setenv("ENGINE_BUILDS_DIR", str(builds))
    pytester.makeconftest(SLOW_ENGINE_CONFTEST + ("" if locked else NO_LOCK_FIXTURE))
    write_suite(mlperf_env, digits_suite(TWO_ITEMS, backend="slowengine"))
    result = pytester.runpytest_subprocess("-n", "2", f"--mlperf-cache-dir={tmp_path / 'cache'}")
    result.assert_outcomes(passed=2)
    workers = {r["worker"] for r in _records(mlperf_env).values()}
    assert workers == {"gw0", "gw1"}
    assert len(list(builds.iterdir())) == (1 if locked else 2)


def _engine_file(record: dict) -> Path:
    return Path(record["provisioning"]["engine"]["path"])


def test_corrupt_cache_entries_are_rebuilt_with_a_warning(mlperf_env: Path, pytester: pytest.Pytester,
                                                          tmp_path: Path) -> None:
    write_suite(mlperf_env, digits_suite("      SingleStream: {single_stream_expected_latency_ns: 20000}\n"))
    cache = f"--mlperf-cache-dir={tmp_path / 'cache'}"
    pytester.runpytest(cache).assert_outcomes(passed=1)
    engine = _engine_file(next(iter(_records(mlperf_env).values())))

    # Truncated: caught by the size check of every session.
    engine.write_bytes(engine.read_bytes()[:100])
    result = pytester.runpytest(cache)
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*CacheWarning: corrupt cache entry*model.ort-optimized.onnx*size*"])
    assert next(iter(_records(mlperf_env).values()))["provisioning"]["engine"]["cache_hit"] is False

    # Bit-flipped with size and time stamp kept: caught only by --mlperf-cache-verify.
    data = bytearray(engine.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stat = engine.stat()
    engine.write_bytes(bytes(data))
    os.utime(engine, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    pytester.runpytest(cache).assert_outcomes(passed=1)
    assert next(iter(_records(mlperf_env).values()))["provisioning"]["engine"]["cache_hit"] is True
    result = pytester.runpytest(cache, "--mlperf-cache-verify")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*CacheWarning: corrupt cache entry*sha256*"])

    # No manifest: rebuilt.
    (engine.parent / "manifest.json").unlink()
    result = pytester.runpytest(cache)
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*CacheWarning*manifest*"])


def test_prefetch_only_provisions_and_runs_nothing(mlperf_env: Path, pytester: pytest.Pytester,
                                                   tmp_path: Path) -> None:
    write_suite(mlperf_env, digits_suite(TWO_ITEMS))
    cache = f"--mlperf-cache-dir={tmp_path / 'cache'}"
    result = pytester.runpytest(cache, "--mlperf-prefetch-only", "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["SKIPPED*prefetch only: provisioned model *digits-mlp.onnx, engine *"])
    assert not (mlperf_env / "mlperf-results").exists()
    pytester.runpytest(cache).assert_outcomes(passed=2)
    for record in _records(mlperf_env).values():
        assert all(p["cache_hit"] in (True, None) for p in record["provisioning"].values())


def test_cache_clear_empties_the_cache(mlperf_env: Path, pytester: pytest.Pytester, tmp_path: Path) -> None:
    write_suite(mlperf_env, digits_suite("      SingleStream: {single_stream_expected_latency_ns: 20000}\n"))
    cache = f"--mlperf-cache-dir={tmp_path / 'cache'}"
    pytester.runpytest(cache).assert_outcomes(passed=1)
    result = pytester.runpytest(cache, "--mlperf-cache-clear")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*mlperf: cache cleared: * entries removed from *cache*"])
    assert next(iter(_records(mlperf_env).values()))["provisioning"]["model"]["cache_hit"] is False


def test_strict_turns_missing_data_skips_into_failures(mlperf_env: Path, pytester: pytest.Pytester) -> None:
    write_suite(mlperf_env, "mlperf_suite: 1\nbenchmarks:\n  resnet50:\n    dataset: imagenet\n"
                            "    scenarios: [Offline]\n    modes: [accuracy]\n")
    pytester.runpytest().assert_outcomes(skipped=1)
    result = pytester.runpytest("--mlperf-strict")
    result.assert_outcomes(failed=1)
    # An accuracy item checks its ground truth first, before anything is provisioned.
    result.stdout.fnmatch_lines(["*--mlperf-strict: resnet50 accuracy needs the ImageNet validation labels "
                                 "(val_map.txt*set --mlperf-data-dir*"])


GPU_SUITE = ("mlperf_suite: 1\nname: l4\nsystem: {gpu: l4, count: 1}\nbenchmarks:\n"
             "  digits:\n    scenarios: {SingleStream: {single_stream_expected_latency_ns: 20000}}\n"
             "    modes: [performance]\n")


def test_gpu_items_skip_on_a_machine_without_gpus_and_cpu_items_run(
        mlperf_env: Path, pytester: pytest.Pytester) -> None:
    from tests.helpers import REPO

    write_suite(mlperf_env, GPU_SUITE, "l4.yaml")
    write_suite(mlperf_env, digits_suite("      SingleStream: {single_stream_expected_latency_ns: 20000}\n"))
    snapshot = REPO / "tests/data/systems/cpu-only.json"
    result = pytester.runpytest(f"--mlperf-system-snapshot={snapshot}", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED*suite l4.yaml needs an NVIDIA GPU (system.gpu: l4) but snapshot "
                                 "*cpu-only.json has none: NVML Shared Library Not Found*"])
    result = pytester.runpytest(f"--mlperf-system-snapshot={snapshot}", "--mlperf-strict")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*--mlperf-strict: suite l4.yaml needs an NVIDIA GPU*"])
    # On the L4 machine of the other snapshot the same item runs (digits runs on its CPU).
    result = pytester.runpytest(f"--mlperf-system-snapshot={REPO / 'tests/data/systems/l4x1.json'}")
    result.assert_outcomes(passed=2)
    # Without a snapshot this machine's own NVML answers (no driver here, so: skipped).
    result = pytester.runpytest("-rs", "suites/l4.yaml")
    outcomes = result.parseoutcomes()
    assert outcomes.get("skipped", 0) + outcomes.get("passed", 0) == 1


def test_skips_name_every_missing_prerequisite_in_the_session_summary(
        mlperf_env: Path, pytester: pytest.Pytester) -> None:
    from tests.helpers import REPO

    write_suite(mlperf_env, "mlperf_suite: 1\nname: l4\nsystem: {gpu: l4, count: 1}\nharness: nvidia\n"
                            "benchmarks:\n  resnet50: {scenarios: [Offline, Server]}\n", "l4.yaml")
    snapshot = REPO / "tests/data/systems/cpu-only.json"
    result = pytester.runpytest(f"--mlperf-system-snapshot={snapshot}", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=4)
    result.stdout.fnmatch_lines([
        "*= MLPerf items skipped (4) =*",
        "4 item(s): 2 prerequisites are missing: (1) suite l4.yaml needs an NVIDIA GPU (system.gpu: l4) but "
        "snapshot *cpu-only.json has none: *; (2) NVIDIA's MLPerf code is not configured: point "
        "nvidia.code_dir*",
        "    suites/l4.yaml::resnet50::Offline::accuracy",
    ])


def test_bad_snapshot_is_a_clear_error(mlperf_env: Path, pytester: pytest.Pytester, tmp_path: Path) -> None:
    write_suite(mlperf_env, GPU_SUITE, "l4.yaml")
    bad = tmp_path / "snap.json"
    bad.write_text("{not json")
    result = pytester.runpytest(f"--mlperf-system-snapshot={bad}")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*--mlperf-system-snapshot: *snap.json: not valid JSON*"])
    assert "Traceback" not in result.stdout.str()


DOWNLOAD_CONFTEST = '''
from pytest_mlperf_nv.benchmarks.base import ModelDownload
from pytest_mlperf_nv.benchmarks.custom import classification_benchmark


def pytest_mlperf_register(registry):
    registry.add_benchmark(classification_benchmark(
        "dlmodel", dataset="digits", accuracy_target=90.0,
        model_download=ModelDownload("https://models.invalid/files/digits-dl.onnx", "digits-dl.onnx",
                                     sha256="{sha256}")))
'''
DL_SUITE = ("mlperf_suite: 1\nbenchmarks:\n  dlmodel:\n    gpu_batch_size: 32\n"
            "    scenarios: {Offline: {offline_expected_qps: 2000000, min_duration: 200}, "
            "SingleStream: {single_stream_expected_latency_ns: 20000}}\n")


@pytest.fixture
def served_model(tmp_path: Path):
    from pytest_mlperf_nv.benchmarks.digits import build_digits_model
    from pytest_mlperf_nv.provision.provisioners import file_sha256
    from tests.helpers import FileServer

    root = tmp_path / "served"
    root.mkdir()
    name = build_digits_model(root)
    (root / name).rename(root / "digits-dl.onnx")
    server = FileServer(root)
    yield server, file_sha256(root / "digits-dl.onnx")
    server.stop()


def test_models_download_from_a_mirror_and_prefetch_makes_the_next_session_offline(
        mlperf_env: Path, pytester: pytest.Pytester, tmp_path: Path, served_model) -> None:
    server, sha256 = served_model
    pytester.makeconftest(DOWNLOAD_CONFTEST.replace("{sha256}", sha256))
    write_suite(mlperf_env, DL_SUITE)
    cache = f"--mlperf-cache-dir={tmp_path / 'cache'}"
    result = pytester.runpytest(cache, f"--mlperf-mirror={server.url}", "--mlperf-prefetch-only", "-rs")
    result.assert_outcomes(skipped=4)
    result.stdout.fnmatch_lines(["SKIPPED*prefetch only: provisioned model *digits-dl.onnx, engine*"])
    server.stop()  # from here on nothing can be downloaded
    result = pytester.runpytest(cache, f"--mlperf-mirror={server.url}")
    result.assert_outcomes(passed=4)
    for record in _records(mlperf_env).values():
        for kind, artifact in record["provisioning"].items():
            assert artifact["cache_hit"] in (True, None), (kind, artifact)
        assert record["provisioning"]["model"]["path"].endswith("digits-dl.onnx")


def test_a_bad_download_checksum_fails_clearly_and_keeps_nothing(
        mlperf_env: Path, pytester: pytest.Pytester, tmp_path: Path, served_model) -> None:
    server, sha256 = served_model
    pytester.makeconftest(DOWNLOAD_CONFTEST.replace("{sha256}", "0" * 64))
    write_suite(mlperf_env, DL_SUITE)
    cache = tmp_path / "cache"
    result = pytester.runpytest(f"--mlperf-cache-dir={cache}", f"--mlperf-mirror={server.url}")
    result.assert_outcomes(errors=4)
    result.stdout.fnmatch_lines([f"*model download failed: *{server.url}/digits-dl.onnx*"
                                 f"*expected sha256 {'0' * 64}, got {sha256}*the downloaded file was deleted*"
                                 "put digits-dl.onnx in the data dir (--mlperf-data-dir*"])
    assert result.stdout.str().count("got " + sha256) >= 4  # every item says why
    assert not list(cache.glob("entries/model/*/digits-dl.onnx"))
    assert not list(cache.glob("downloads/*.part"))


def test_two_concurrent_sessions_share_one_cache_intact(mlperf_env: Path, pytester: pytest.Pytester,
                                                         tmp_path: Path) -> None:
    import subprocess
    import sys

    from pytest_mlperf_nv.provision.cache import Cache

    cache = tmp_path / "cache"
    sessions = []
    for name in ("a", "b"):
        root = tmp_path / name
        (root / "suites").mkdir(parents=True)
        (root / "suites" / "cpu.yaml").write_text(digits_suite(TWO_ITEMS))
        (root / "tox.ini").write_text("[pytest]\n")
        sessions.append(subprocess.Popen(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--mlperf-cache-dir={cache}"],
            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [p.communicate(timeout=300)[0] for p in sessions]
    assert all(p.returncode == 0 for p in sessions), outputs
    entries = list(Cache(cache).entries())
    assert {kind for kind, _, _ in entries} == {"model", "engine"}
    assert len(entries) == 2  # each artifact once, though two sessions asked for it at the same time
    for kind, key, manifest in entries:
        assert manifest is not None
        # Every file still matches its manifest checksum.
        found = Cache(cache).lookup(kind, manifest["parts"], verify=True)
        assert found is not None and found.key == key


def test_readme_conftest_override_of_mlperf_model(mlperf_env: Path, pytester: pytest.Pytester,
                                                  tmp_path: Path) -> None:
    """The fixture override shown in README runs the user's own model file."""
    from pytest_mlperf_nv.benchmarks.digits import build_digits_model

    name = build_digits_model(tmp_path)
    mine = tmp_path / "my-digits.onnx"
    (tmp_path / name).rename(mine)
    pytester.makeconftest(f'''
from pathlib import Path

import pytest

from pytest_mlperf_nv.provision.provisioners import Provisioned


@pytest.fixture
def mlperf_model(mlperf_case, mlperf_models):
    if mlperf_case.benchmark == "digits":
        path = Path({str(mine)!r})
        return Provisioned("model", path, f"file:{{path}}", None, None, "conftest")
    return mlperf_models(mlperf_case)
''')
    write_suite(mlperf_env, digits_suite("      SingleStream: {single_stream_expected_latency_ns: 20000}\n",
                                         modes="[accuracy]"))
    pytester.runpytest().assert_outcomes(passed=1)
    record = next(iter(_records(mlperf_env).values()))
    assert record["provisioning"]["model"]["path"] == str(mine)
    assert record["provisioning"]["model"]["source"] == "conftest"
    assert record["accuracy"]["value"] > 90


CALIBRATED_CONFTEST = '''
import os
from pathlib import Path

from pytest_mlperf_nv.harness.loadgen.backends import OnnxRuntimeBackend

CALLS = Path(os.environ["CALIBRATION_CALLS_DIR"])


class CalibratedBackend(OnnxRuntimeBackend):
    """Needs an int8-style calibration cache before its engine can be built."""

    @classmethod
    def calibration_key(cls, options):
        return {"method": "minmax", "version": 1}

    @classmethod
    def build_calibration(cls, model_path, samples, staging_dir, options):
        (CALLS / f"calibration-{os.getpid()}").write_text(str(len(samples)))
        lo, hi = float(samples.min()), float(samples.max())
        (staging_dir / "calibration.cache").write_text(f"{len(samples)} {lo} {hi}")
        return "calibration.cache"

    @classmethod
    def build_engine(cls, model_path, staging_dir, options):
        assert Path(options["calibration"]).read_text().startswith("100 ")
        return super().build_engine(model_path, staging_dir, options)


def pytest_mlperf_register(registry):
    registry.add_backend("calibrated", CalibratedBackend)
'''


def test_calibration_cache_is_made_once_per_model_and_samples(
        mlperf_env: Path, pytester: pytest.Pytester, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = tmp_path / "calls"
    calls.mkdir()
    monkeypatch.setenv("CALIBRATION_CALLS_DIR", str(calls))
    pytester.makeconftest(CALIBRATED_CONFTEST)
    write_suite(mlperf_env, digits_suite(TWO_ITEMS, backend="calibrated"))
    cache = f"--mlperf-cache-dir={tmp_path / 'cache'}"
    pytester.runpytest(cache, "--junitxml=junit.xml").assert_outcomes(passed=2)
    assert [p.read_text() for p in calls.iterdir()] == ["100"]
    records = _records(mlperf_env)
    sources = sorted(r["provisioning"]["calibration"]["source"] for r in records.values())
    assert sources == ["built", "cache"]
    assert "mlperf_calibration_cache" in (mlperf_env / "junit.xml").read_text()
    pytester.runpytest(cache).assert_outcomes(passed=2)
    assert len(list(calls.iterdir())) == 1
    for record in _records(mlperf_env).values():
        assert record["provisioning"]["calibration"]["cache_hit"] is True
