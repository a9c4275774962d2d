"""One session at a time per output dir: the lock on its own, and what a second session sees."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pytest_mlperf_nv.outlock import LOCK_FILE, OutputInUse, acquire, holder, is_suite_nodeid

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def held_by_another_process(out: Path, session_id: str = "other-session") -> Iterator[subprocess.Popen]:
    """A real second process that holds ``out`` until the block ends (then it is killed, not released)."""
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from pathlib import Path
        from pytest_mlperf_nv.outlock import acquire
        acquire(Path({str(out)!r}), {session_id!r}, command="pytest suites/l4.yaml -k server")
        print("held", flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def test_a_second_session_is_refused_naming_the_holder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with held_by_another_process(out) as proc:
        with pytest.raises(OutputInUse) as excinfo:
            acquire(out, "this-session")
        text = str(excinfo.value)
        assert f"the output dir {out} is in use by another pytest session (pid {proc.pid}, on " \
               f"{socket.gethostname()}" in text
        assert "session other-session; it runs: pytest suites/l4.yaml -k server" in text
        assert "--mlperf-out DIR (or MLPERF_NV_OUT)" in text
        # The refused session did not erase the holder's record.
        assert holder(out)["pid"] == proc.pid
    # The holder was killed: the kernel released its lock, nothing stale remains.
    assert holder(out) is None
    lock = acquire(out, "this-session")
    try:
        assert json.loads((out / LOCK_FILE).read_text())["session_id"] == "this-session"
    finally:
        lock.release()


def test_acquiring_twice_in_one_session_is_one_lock(tmp_path: Path) -> None:
    first = acquire(tmp_path / "out", "s1")
    try:
        assert acquire(tmp_path / "out", "s1") is first
        assert holder(tmp_path / "out")["pid"] == os.getpid()
    finally:
        first.release()
    assert holder(tmp_path / "out") is None
    acquire(tmp_path / "out", "s2").release()


def test_the_lock_is_not_inherited_by_child_processes(tmp_path: Path) -> None:
    lock = acquire(tmp_path / "out", "s1")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], close_fds=False)
    try:
        lock.release()
        # The child (a LoadGen run, say) does not keep the output dir held after the session ends.
        assert holder(tmp_path / "out") is None
    finally:
        child.kill()
        child.wait()


def test_suite_node_ids() -> None:
    assert is_suite_nodeid("suites/cpu.yaml::digits::Offline::performance")
    assert not is_suite_nodeid("tests/test_x.py::test_y")


def test_a_second_session_may_wait_for_the_holder_to_end(tmp_path: Path) -> None:
    out = tmp_path / "out"
    waited: list[dict] = []
    with held_by_another_process(out) as proc:
        def holder_ends(record: dict) -> None:  # told once the wait began: the holder ends then
            waited.append(record)
            proc.send_signal(signal.SIGKILL)  # killed: the kernel releases its lock

        lock = acquire(out, "this-session", wait_s=600, on_wait=holder_ends)
    try:
        assert holder(out)["session_id"] == "this-session"
        assert [w["pid"] for w in waited] == [proc.pid]  # told once, naming the holder
    finally:
        lock.release()


def test_a_wait_that_runs_out_says_how_long_it_waited(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with held_by_another_process(out):
        with pytest.raises(OutputInUse) as excinfo:
            acquire(out, "this-session", wait_s=0.3)
    text = str(excinfo.value)
    assert "still in use after waiting 0.3 s" in text
    assert "--mlperf-out-wait SECONDS" in text
