"""The cache after hand edits and damage: its own layout is put back, a model whose bytes changed is
named with the flag that repairs it, and a file that is no model is a clear error."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from pytest_mlperf_nv.errors import ModelError
from pytest_mlperf_nv.harness.loadgen.backends import OnnxRuntimeBackend
from pytest_mlperf_nv.provision.cache import Cache, CacheWarning, diagnose, entry_of


def _build(staging: Path) -> None:
    (staging / "a.bin").write_bytes(b"abc")


def test_an_entry_kind_turned_into_a_file_heals(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    (tmp_path / "entries" / "model").write_text("not a directory")
    with pytest.warns(CacheWarning, match="was not a directory"):
        entry = cache.get_or_build("model", {"x": 1}, _build)
    assert (entry.path / "a.bin").read_bytes() == b"abc"
    assert cache.get_or_build("model", {"x": 1}, _build).hit


def test_a_lock_turned_into_a_directory_heals(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    from pytest_mlperf_nv.provision.cache import cache_key

    (tmp_path / "locks" / f"model-{cache_key('model', {'x': 1})}.lock" / "junk").mkdir(parents=True)
    with pytest.warns(CacheWarning, match="where the cache keeps a lock file"):
        entry = cache.get_or_build("model", {"x": 1}, _build)
    assert (entry.path / "a.bin").is_file()
    assert (tmp_path / "locks" / f"model-{entry.key}.lock").is_file()


@pytest.mark.parametrize("part", ["entries", "locks", "tmp"])
def test_a_cache_layout_dir_turned_into_a_file_heals(tmp_path: Path, part: str) -> None:
    (tmp_path / part).write_text("oops")
    with pytest.warns(CacheWarning, match=f"keeps its {part} there"):
        cache = Cache(tmp_path)
    assert cache.get_or_build("model", {"x": 1}, _build).path.is_dir()


def test_the_locks_dir_removed_during_a_session_heals(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    os.rmdir(tmp_path / "locks")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn about: the dir is just made again
        assert cache.get_or_build("model", {"x": 1}, _build).path.is_dir()


def test_an_entry_that_is_a_file_is_rebuilt_without_litter(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    from pytest_mlperf_nv.provision.cache import cache_key

    key = cache_key("model", {"x": 1})
    (tmp_path / "entries" / "model").mkdir(parents=True)
    (tmp_path / "entries" / "model" / key).write_text("a file where the entry goes")
    entry = cache.get_or_build("model", {"x": 1}, _build)
    assert entry.path.is_dir() and list((tmp_path / "tmp").iterdir()) == []


# -- models that do not load ----------------------------------------------------------------------


def _onnx_model(path: Path) -> Path:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((4, 2), dtype=np.float32), name="w")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_a_model_that_is_no_onnx_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "model.onnx"
    bad.write_text("this is a text file, not a model")
    with pytest.raises(ModelError) as excinfo:
        OnnxRuntimeBackend(bad, {})
    text = str(excinfo.value)
    assert f"cannot load the model {bad}: it is not an ONNX model" in text
    assert "give the path of an .onnx model file" in text and "\n" not in text
    with pytest.raises(ModelError, match="it is not an ONNX model"):
        OnnxRuntimeBackend.build_engine(bad, tmp_path, {})


def test_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="the file does not exist"):
        OnnxRuntimeBackend(tmp_path / "missing.onnx", {})


def test_a_cached_model_whose_bytes_changed_names_the_repair(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    entry = cache.get_or_build("engine", {"x": 1}, lambda s: _onnx_model(s / "model.onnx"))
    model = entry.path / "model.onnx"
    OnnxRuntimeBackend(model, {})  # loads
    assert diagnose(model) is None and entry_of(model) == entry.path
    # Same size, same time stamp, other bytes: the cheap check cannot see it.
    stat = model.stat()
    model.write_bytes(b"\x00" * stat.st_size)
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert cache.get_or_build("engine", {"x": 1}, lambda s: _onnx_model(s / "model.onnx")).hit
    with pytest.raises(ModelError) as excinfo:
        OnnxRuntimeBackend(model, {})
    text = str(excinfo.value)
    assert f"the cache entry {entry.path} is corrupt: the bytes of model.onnx changed on disk" in text
    assert "--mlperf-cache-verify" in text
    # What the flag does: the sha256 check finds it and rebuilds.
    with pytest.warns(CacheWarning, match="sha256"):
        rebuilt = cache.get_or_build("engine", {"x": 1}, lambda s: _onnx_model(s / "model.onnx"), verify=True)
    OnnxRuntimeBackend(rebuilt.path / "model.onnx", {})


def test_diagnose_says_nothing_for_files_outside_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_text("x")
    assert diagnose(path) is None and entry_of(path) is None
