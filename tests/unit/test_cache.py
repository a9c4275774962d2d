"""Tests for the provisioning cache: real files, real processes, no mocks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from filelock import FileLock

from pytest_mlperf_nv.provision.cache import (
    Cache,
    CacheEntry,
    CacheError,
    CacheWarning,
    cache_key,
)

REPO = Path(__file__).resolve().parents[2]
PARTS = {"model": "resnet50", "batch": 8, "precision": "fp16", "opts": {"calib": [1, 2], "x": None}}


class Builder:
    """A build function that records how often it ran."""

    def __init__(self, payload: bytes = b"weights" * 512) -> None:
        self.calls = 0
        self.payload = payload

    def __call__(self, staging: Path) -> None:
        self.calls += 1
        assert staging.is_dir() and not any(staging.iterdir()), "staging dir must start empty"
        (staging / "model.bin").write_bytes(self.payload)
        (staging / "sub" / "deep").mkdir(parents=True)
        (staging / "sub" / "deep" / "meta.txt").write_text("meta")


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


def _build_no_warning(cache: Cache, builder: Builder, **kw: object) -> CacheEntry:
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        return cache.get_or_build("model", PARTS, builder, **kw)  # type: ignore[arg-type]


# -- keys ---------------------------------------------------------------------
def test_key_is_deterministic_and_order_independent() -> None:
    reordered = {"opts": {"x": None, "calib": [1, 2]}, "precision": "fp16", "batch": 8, "model": "resnet50"}
    key = cache_key("model", PARTS)
    assert key == cache_key("model", reordered)
    assert len(key) == 24 and int(key, 16) >= 0


@pytest.mark.parametrize(
    "change",
    [
        {"model": "resnet34"},
        {"batch": 9},
        {"batch": 8.0},  # 8 and 8.0 serialize differently: distinct keys, never silent aliasing
        {"precision": "int8"},
        {"opts": {"calib": [2, 1], "x": None}},
        {"opts": {"calib": [1, 2], "x": False}},
        {"extra": True},
    ],
)
def test_key_changes_with_each_part(change: dict) -> None:
    assert cache_key("model", {**PARTS, **change}) != cache_key("model", PARTS)


def test_key_changes_with_kind() -> None:
    assert cache_key("engine", PARTS) != cache_key("model", PARTS)


@pytest.mark.parametrize(
    ("parts", "where"),
    [
        ({"shape": (1, 2)}, "parts['shape']"),
        ({"cfg": {"path": Path("/x")}}, "parts['cfg']['path']"),
        ({"cfg": {"items": [1, {2, 3}]}}, "parts['cfg']['items'][1]"),
        ({"blob": b"x"}, "parts['blob']"),
        ({"cfg": {1: "a"}}, "parts['cfg']"),
    ],
)
def test_key_rejects_non_json_parts(parts: dict, where: str) -> None:
    with pytest.raises(TypeError) as info:
        cache_key("model", parts)
    assert where in str(info.value)


def test_key_rejects_nan_and_bad_kind() -> None:
    with pytest.raises(ValueError, match="NaN"):
        cache_key("model", {"lr": float("nan")})
    for kind in ("", "a/b", "..", "-x"):
        with pytest.raises(ValueError, match="kind"):
            cache_key(kind, {})


# -- build / hit / failure ----------------------------------------------------
def test_miss_then_hit(cache: Cache) -> None:
    builder = Builder()
    assert cache.lookup("model", PARTS) is None
    first = _build_no_warning(cache, builder)
    assert not first.hit and first.build_seconds is not None and first.warning is None
    assert first.path == cache.root / "entries" / "model" / cache_key("model", PARTS)
    assert first.file("model.bin").read_bytes() == builder.payload
    assert first.file("sub/deep/meta.txt").read_text() == "meta"
    with pytest.raises(FileNotFoundError):
        first.file("nope.bin")

    second = _build_no_warning(cache, builder, verify=True)
    assert second.hit and second.build_seconds is None and second.path == first.path
    assert builder.calls == 1
    looked = cache.lookup("model", PARTS, verify=True)
    assert looked is not None and looked.hit and looked.key == first.key
    # nothing left in staging, lock file present
    assert list((cache.root / "tmp").iterdir()) == []
    assert (cache.root / "locks" / f"model-{first.key}.lock").exists()


def test_manifest_contents(cache: Cache) -> None:
    entry = _build_no_warning(cache, Builder())
    manifest = json.loads((entry.path / "manifest.json").read_text())
    assert manifest["format"] == 1
    assert (manifest["kind"], manifest["key"], manifest["parts"]) == ("model", entry.key, PARTS)
    assert manifest["created"] and isinstance(manifest["build_seconds"], float)
    files = {f["path"]: f for f in manifest["files"]}
    assert set(files) == {"model.bin", "sub/deep/meta.txt"}
    st = (entry.path / "model.bin").stat()
    assert files["model.bin"]["size"] == st.st_size and files["model.bin"]["mtime_ns"] == st.st_mtime_ns
    assert len(files["model.bin"]["sha256"]) == 64
    assert list(cache.entries()) == [("model", entry.key, manifest)]


def test_extra_files_are_ignored(cache: Cache) -> None:
    builder = Builder()
    entry = _build_no_warning(cache, builder)
    (entry.path / "notes.txt").write_text("added later")
    assert _build_no_warning(cache, builder, verify=True).hit
    assert builder.calls == 1


def test_build_failure_leaves_nothing(cache: Cache) -> None:
    class Boom(Exception):
        pass

    def failing(staging: Path) -> None:
        (staging / "half.bin").write_bytes(b"partial")
        raise Boom("compiler exploded")

    with pytest.raises(Boom, match="compiler exploded"):
        cache.get_or_build("model", PARTS, failing)
    assert not (cache.root / "entries" / "model" / cache_key("model", PARTS)).exists()
    assert list((cache.root / "tmp").iterdir()) == []
    assert cache.lookup("model", PARTS) is None
    # and the key is still buildable afterwards
    assert not _build_no_warning(cache, Builder()).hit


def test_build_must_not_write_manifest(cache: Cache) -> None:
    with pytest.raises(CacheError, match="manifest.json"):
        cache.get_or_build("model", PARTS, lambda d: (d / "manifest.json").write_text("{}"))
    assert list((cache.root / "tmp").iterdir()) == []


# -- corruption -----------------------------------------------------------------
def _rebuild_expecting_warning(cache: Cache, builder: Builder, match: str, **kw: object) -> CacheEntry:
    with pytest.warns(CacheWarning, match=match) as record:
        entry = cache.get_or_build("model", PARTS, builder, **kw)  # type: ignore[arg-type]
    assert len(record) == 1
    assert not entry.hit and entry.warning is not None and "\n" not in entry.warning
    assert str(entry.path) in entry.warning and match.split(".*")[0] in entry.warning
    assert entry.file("model.bin").read_bytes() == builder.payload
    assert list((cache.root / "tmp").iterdir()) == []  # old corrupt entry was deleted
    return entry


def test_truncated_file_is_rebuilt(cache: Cache) -> None:
    builder = Builder()
    entry = _build_no_warning(cache, builder)
    size = len(builder.payload)
    with open(entry.path / "model.bin", "r+b") as f:
        f.truncate(120)
    rebuilt = _rebuild_expecting_warning(cache, builder, f"model.bin: size 120 != manifest {size}")
    assert builder.calls == 2
    # after the rebuild it is a plain hit again
    assert _build_no_warning(cache, builder).hit and builder.calls == 2
    assert rebuilt.path == entry.path


def test_bit_flip_needs_verify(cache: Cache) -> None:
    builder = Builder()
    entry = _build_no_warning(cache, builder)
    target = entry.path / "model.bin"
    st = target.stat()
    with open(target, "r+b") as f:
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 0x01]))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert target.stat().st_size == st.st_size and target.stat().st_mtime_ns == st.st_mtime_ns

    # cheap check cannot see it
    assert cache.lookup("model", PARTS) is not None
    assert _build_no_warning(cache, builder).hit and builder.calls == 1
    # full check does, and a corrupt entry is not returned by lookup
    assert cache.lookup("model", PARTS, verify=True) is None
    _rebuild_expecting_warning(cache, builder, "model.bin: sha256", verify=True)
    assert builder.calls == 2
    assert _build_no_warning(cache, builder, verify=True).hit


def test_missing_file_is_rebuilt(cache: Cache) -> None:
    builder = Builder()
    entry = _build_no_warning(cache, builder)
    (entry.path / "sub" / "deep" / "meta.txt").unlink()
    _rebuild_expecting_warning(cache, builder, "sub/deep/meta.txt: missing")
    assert builder.calls == 2


def test_touched_file_is_rebuilt(cache: Cache) -> None:
    builder = Builder()
    entry = _build_no_warning(cache, builder)
    st = (entry.path / "model.bin").stat()
    os.utime(entry.path / "model.bin", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    _rebuild_expecting_warning(cache, builder, "model.bin: mtime_ns")


def test_missing_manifest_is_rebuilt(cache: Cache) -> None:
    builder = Builder()
    entry = _build_no_warning(cache, builder)
    (entry.path / "manifest.json").unlink()
    assert cache.lookup("model", PARTS) is None
    _rebuild_expecting_warning(cache, builder, "manifest missing")
    assert builder.calls == 2


def test_unreadable_manifest_is_rebuilt(cache: Cache) -> None:
    builder = Builder()
    entry = _build_no_warning(cache, builder)
    (entry.path / "manifest.json").write_text('{"format": 1, "files": [')
    _rebuild_expecting_warning(cache, builder, "manifest unreadable")
    assert builder.calls == 2


# -- errors / maintenance -----------------------------------------------------------
def test_unusable_root_raises_cache_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    with pytest.raises(CacheError, match="--mlperf-cache-dir") as info:
        Cache(blocker / "cache")
    assert str(blocker / "cache") in str(info.value)


def test_lock_timeout_raises_cache_error(cache: Cache) -> None:
    timed = Cache(cache.root, lock_timeout=0.2)
    key = cache_key("model", PARTS)
    # Hold the key's lock from another process (flock is per open file, so a
    # second process is the honest way to simulate a concurrent builder).
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(cache.root / "locks" / f"model-{key}.lock")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(CacheError, match="timed out"):
            timed.get_or_build("model", PARTS, Builder())
        # clear() must leave a key alone while its lock is held
        (cache.root / "tmp" / f"model-{key}-inflight").mkdir()
        assert cache.clear() == 0
        assert (cache.root / "tmp" / f"model-{key}-inflight").exists()
    finally:
        holder.kill()
        holder.wait()


HOLD_LOCK = """
import sys, time
from filelock import FileLock
lock = FileLock(sys.argv[1]); lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_clear(cache: Cache) -> None:
    b1, b2 = Builder(), Builder()
    e1 = _build_no_warning(cache, b1)
    e2 = cache.get_or_build("engine", {"model": e1.key}, b2)
    (cache.root / "tmp" / f"model-{e1.key}-stale").mkdir()  # leftover from a killed run
    assert sorted(k for k, _, _ in cache.entries()) == ["engine", "model"]
    assert cache.clear() == 2
    assert list(cache.entries()) == []
    assert list((cache.root / "tmp").iterdir()) == []
    assert list((cache.root / "locks").iterdir()) == []
    assert not e2.path.exists()
    assert cache.lookup("model", PARTS) is None
    # usable again after clearing
    assert not _build_no_warning(cache, b1).hit and b1.calls == 2
    # clear() did not leave the lock in a held state
    lock = FileLock(str(cache.root / "locks" / f"model-{e1.key}.lock"))
    lock.acquire(timeout=0)
    lock.release()


# -- concurrency ----------------------------------------------------------------
WORKER = """
import json, os, sys, time
from pathlib import Path
from pytest_mlperf_nv.provision.cache import Cache

root, counter, barrier, name, locking = sys.argv[1:6]
# Barrier: both processes start get_or_build together, after interpreter startup.
Path(barrier, name).touch()
deadline = time.monotonic() + 300
while len(os.listdir(barrier)) < 2:
    if time.monotonic() > deadline:
        sys.exit("barrier timeout")
    time.sleep(0.005)

def build(staging):
    Path(counter, f"{name}-{os.getpid()}").touch()  # one file per build run
    if locking == "1":
        time.sleep(1.0)  # the other process waits on the lock meanwhile
    else:
        # Without the lock the other process finds no entry while this build waits for it to
        # start its own, however late a busy machine runs it.
        deadline = time.monotonic() + 300
        while len(os.listdir(counter)) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
    (staging / "model.bin").write_bytes(b"slow" * 1000)

entry = Cache(Path(root), locking=locking == "1").get_or_build("model", {"name": "slow"}, build)
print(json.dumps({"path": str(entry.path), "hit": entry.hit}))
"""


def _run_two_builders(tmp_path: Path, locking: bool) -> tuple[list[str], list[dict]]:
    root, counter, barrier = tmp_path / "cache", tmp_path / "counter", tmp_path / "barrier"
    counter.mkdir()
    barrier.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    args = [str(root), str(counter), str(barrier)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, *args, name, "1" if locking else "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name in ("a", "b")
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    return sorted(os.listdir(counter)), results


def test_two_processes_build_once(tmp_path: Path) -> None:
    builds, results = _run_two_builders(tmp_path, locking=True)
    assert len(builds) == 1, builds
    assert results[0]["path"] == results[1]["path"]
    assert sorted(r["hit"] for r in results) == [False, True]
    entry = Cache(tmp_path / "cache").lookup("model", {"name": "slow"}, verify=True)
    assert entry is not None and entry.file("model.bin").read_bytes() == b"slow" * 1000


def test_without_lock_both_build(tmp_path: Path) -> None:
    # Control experiment: proves the test above would catch a missing lock.
    builds, results = _run_two_builders(tmp_path, locking=False)
    assert len(builds) == 2, builds
    assert results[0]["path"] == results[1]["path"]
    assert Cache(tmp_path / "cache").lookup("model", {"name": "slow"}, verify=True) is not None
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []
