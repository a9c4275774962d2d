"""A fresh run dir: inside <out>/runs only, the previous run moved aside, a finished run never
replaced by one that did not finish, a planted symlink removed and never followed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_mlperf_nv.errors import OutsideError
from pytest_mlperf_nv.rundir import RunLayout, prepare, run_dir_of


def layout(out: Path, suite: str = "s") -> RunLayout:
    return RunLayout(run_dir_of(out, suite, "digits", "Offline", "performance"))


def test_the_previous_run_is_moved_aside(tmp_path: Path) -> None:
    run = layout(tmp_path)
    assert prepare(run, tmp_path) is None and run.run_dir.is_dir()
    (run.run_dir / "result.json").write_text("{}")
    assert prepare(run, tmp_path) == run.previous
    assert (run.previous / "result.json").exists() and list(run.run_dir.iterdir()) == []


def test_an_unfinished_run_never_replaces_a_finished_one(tmp_path: Path) -> None:
    run = layout(tmp_path)
    prepare(run, tmp_path)
    (run.run_dir / "result.json").write_text('{"first": 1}')
    prepare(run, tmp_path)  # this run is cancelled: it leaves logs, no result.json
    (run.run_dir / "mlperf_log_detail.txt").write_text("partial")
    assert prepare(run, tmp_path) is None
    assert (run.previous / "result.json").read_text() == '{"first": 1}'
    assert list(run.run_dir.iterdir()) == []


def test_a_symlinked_run_dir_is_removed_not_followed(tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep")
    run = layout(out)
    run.run_dir.parent.mkdir(parents=True)
    run.run_dir.symlink_to(elsewhere, target_is_directory=True)
    run.previous.symlink_to(elsewhere, target_is_directory=True)
    prepare(run, out)
    assert (elsewhere / "keep.txt").read_text() == "keep"
    assert run.run_dir.is_dir() and not run.run_dir.is_symlink()


@pytest.mark.parametrize("suite", ["..", "../..", "/tmp"])
def test_a_run_dir_outside_the_runs_root_is_refused_before_anything_is_touched(tmp_path: Path,
                                                                               suite: str) -> None:
    out = tmp_path / "a" / "b" / "out"
    with pytest.raises(OutsideError):
        prepare(layout(out, suite), out)
    assert not (tmp_path / "a" / "digits").exists() and not (tmp_path / "a" / "b" / "digits").exists()
