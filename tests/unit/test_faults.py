"""Disk full, read-only and permission faults, for real: each is a clear error naming the directory
(and the space needed), nothing is left half-written, and the next attempt recovers.

The faults come from the kernel (a small tmpfs in a private mount namespace, a read-only remount,
a process without write permission): see tests/fault_helpers.py.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from pytest_mlperf_nv.errors import OutputError, OutsideError
from pytest_mlperf_nv.fsutil import atomic_write_text, disk_error, inside, is_inside, remove
from tests.fault_helpers import run_on_small_fs, run_without_write_permission

# -- inside / remove ---------------------------------------------------------------------------------


def test_inside_accepts_paths_within_the_root(tmp_path: Path) -> None:
    assert inside(tmp_path, "a/b") == (tmp_path / "a" / "b").resolve()
    assert inside(tmp_path, tmp_path / "a") == (tmp_path / "a").resolve()
    assert inside(tmp_path, ".", allow_root=True) == tmp_path.resolve()


@pytest.mark.parametrize("escape", ["..", "../x", "a/../../x", "/etc", "."])
def test_inside_refuses_paths_that_leave_the_root(tmp_path: Path, escape: str) -> None:
    with pytest.raises(OutsideError):
        inside(tmp_path / "root", escape)
    assert not is_inside(tmp_path / "root", escape)


def test_inside_follows_symlinks(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "link").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(OutsideError, match="outside"):
        inside(tmp_path / "root", "link/x")


def test_inside_refuses_a_nul_byte(tmp_path: Path) -> None:
    with pytest.raises(OutsideError):
        inside(tmp_path, "a\x00b")


def test_remove_deletes_only_inside_and_never_follows_a_link(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "d").mkdir(parents=True)
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    (root / "link").symlink_to(outside, target_is_directory=True)
    assert remove(root, "link") is True
    assert (outside / "keep.txt").read_text() == "keep" and not (root / "link").exists()
    assert remove(root, "d") is True and not (root / "d").exists()
    assert remove(root, "missing") is False
    for escape in ("..", "../outside", str(outside), "."):
        with pytest.raises(OutsideError):
            remove(root, escape)
    assert (outside / "keep.txt").exists()


def test_atomic_write_refuses_a_path_outside_its_root(tmp_path: Path) -> None:
    with pytest.raises(OutsideError):
        atomic_write_text(tmp_path / "root" / ".." / "x.json", "{}", root=tmp_path / "root")
    assert not (tmp_path / "x.json").exists()


def test_disk_errors_name_the_directory_and_what_to_do(tmp_path: Path) -> None:
    quota = disk_error(OSError(errno.EDQUOT, "Disk quota exceeded"), tmp_path, needed=5 * 1024 * 1024)
    assert str(tmp_path) in str(quota) and "the disk quota is exceeded; 5.0 MiB needed" in str(quota)
    assert quota.directory == tmp_path and quota.needed == 5 * 1024 * 1024
    other = disk_error(OSError(errno.EIO, "Input/output error"), tmp_path)
    assert "Input/output error" in str(other)


# -- real faults -------------------------------------------------------------------------------------


def test_atomic_write_on_a_full_disk_leaves_nothing_half_written(tmp_path: Path) -> None:
    found = run_on_small_fs(tmp_path, size_kb=64, prepare="""
        (FS / "out").mkdir()
        (FS / "out" / "result.json").write_text("previous")
    """, code="""
        from pytest_mlperf_nv.errors import OutputError
        from pytest_mlperf_nv.fsutil import atomic_write_text
        try:
            atomic_write_text(FS / "out" / "result.json", "x" * 200_000, root=FS / "out")
            message = None
        except OutputError as exc:
            message = str(exc)
        print(json.dumps({"message": message, "left": sorted(p.name for p in (FS / "out").iterdir()),
                          "previous": (FS / "out" / "result.json").read_text()}))
    """)
    assert found["message"] is not None, found
    assert f"cannot write to {tmp_path / 'fs' / 'out'}: no space is left on the device" in found["message"]
    assert "195.3 KiB needed" in found["message"] and "free" in found["message"]
    assert found["left"] == ["result.json"] and found["previous"] == "previous"


def test_atomic_write_on_a_read_only_file_system(tmp_path: Path) -> None:
    found = run_on_small_fs(tmp_path, read_only=True, prepare='(FS / "out").mkdir()', code="""
        from pytest_mlperf_nv.errors import OutputError
        from pytest_mlperf_nv.fsutil import atomic_write_text
        try:
            atomic_write_text(FS / "out" / "result.json", "{}")
            message = None
        except OutputError as exc:
            message = str(exc)
        print(json.dumps({"message": message}))
    """)
    assert "the file system is read-only; choose a writable directory" in found["message"]


def test_atomic_write_without_permission(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    found = run_without_write_permission("""
        from pytest_mlperf_nv.errors import OutputError
        from pytest_mlperf_nv.fsutil import atomic_write_text
        try:
            atomic_write_text(OUT / "result.json", "{}")
            message = None
        except OutputError as exc:
            message = str(exc)
        print(json.dumps({"message": message}))
    """, OUT=out)
    assert f"cannot write to {out}: permission is denied" in found["message"]
    assert list(out.iterdir()) == []


def test_a_cache_build_on_a_full_disk_is_a_clear_error_and_the_next_build_recovers(tmp_path: Path) -> None:
    found = run_on_small_fs(tmp_path, size_kb=128, code="""
        from pytest_mlperf_nv.provision.cache import Cache, CacheError
        cache = Cache(FS / "cache")

        def big(staging):
            (staging / "model.bin").write_bytes(b"x" * 400_000)

        try:
            cache.get_or_build("model", {"n": 1}, big)
            message = None
        except CacheError as exc:
            message = str(exc)
        left = sorted(p.name for p in (FS / "cache" / "tmp").iterdir())
        entries = sorted(str(p.relative_to(FS)) for p in (FS / "cache" / "entries").rglob("*"))
        # The next session: a build that fits.
        entry = Cache(FS / "cache").get_or_build("model", {"n": 1},
                                                 lambda s: (s / "model.bin").write_bytes(b"y" * 1000))
        print(json.dumps({"message": message, "left": left, "entries": entries,
                          "rebuilt": (entry.path / "model.bin").stat().st_size, "hit": entry.hit}))
    """)
    assert found["message"] is not None and "no space is left on the device" in found["message"]
    assert "nothing of it is kept, and the next session builds it again" in found["message"]
    assert found["left"] == [] and found["entries"] == []
    assert found["rebuilt"] == 1000 and found["hit"] is False


def test_the_tree_on_a_read_only_output_dir_is_a_clear_error(tmp_path: Path) -> None:
    suite = tmp_path / "edge.yaml"
    suite.write_text("mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios: [Offline]\n")
    found = run_on_small_fs(tmp_path, read_only=True, prepare='(FS / "out").mkdir()', code=f"""
        from pytest_mlperf_nv.errors import OutputError
        from pytest_mlperf_nv.plugin import pytest_mlperf_register
        from pytest_mlperf_nv.registry import Registry
        from pytest_mlperf_nv.suite.schema import load_suite
        from pytest_mlperf_nv.submission.tree import build_trees
        registry = Registry()
        pytest_mlperf_register(registry)
        suite = load_suite(Path({str(suite)!r}), registry)
        try:
            build_trees(FS / "out", [(suite, "quick")], None)
            message = None
        except OutputError as exc:
            message = str(exc)
        print(json.dumps({{"message": message}}))
    """)
    assert found["message"] is not None and "the file system is read-only" in found["message"]


def test_the_output_lock_on_a_read_only_output_dir_is_a_clear_error(tmp_path: Path) -> None:
    found = run_on_small_fs(tmp_path, read_only=True, prepare='(FS / "out").mkdir()', code="""
        from pytest_mlperf_nv.errors import OutputError
        from pytest_mlperf_nv.outlock import acquire
        try:
            acquire(FS / "out", "s1")
            message = None
        except OutputError as exc:
            message = str(exc)
        print(json.dumps({"message": message}))
    """)
    assert "the file system is read-only" in found["message"]


def test_outputerror_is_a_domain_error() -> None:
    from pytest_mlperf_nv.errors import MlperfError

    assert issubclass(OutputError, MlperfError) and issubclass(OutsideError, MlperfError)
