"""A whole pytest session on an output dir whose disk fills up, or that is read-only: the items fail
with a clear error naming the directory (no traceback), the finished run and the submission tree of
the session before are kept, and the next session, once there is space, recovers without cleanup.

The faults come from the kernel (a small tmpfs in a private mount namespace): see
tests/fault_helpers.py; the tests skip, saying why, where the machine does not allow it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fault_helpers import run_on_small_fs

SUITE = ("mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios: {Offline: {offline_expected_qps: 100000}}\n"
         "    modes: [performance]\n    min_duration: 100\n")

#: runs pytest on s.yaml (in CWD) with the output dir on the small file system; fills it; frees it
SESSIONS = """
import hashlib

OUT = FS / "out"
RUN = OUT / "runs" / "s" / "digits" / "Offline" / "performance"

def session():
    proc = subprocess.run([sys.executable, "-m", "pytest", "s.yaml", "-p", "no:cacheprovider",
                           "-p", "no:randomly", f"--mlperf-out={OUT}"], cwd=CWD, capture_output=True,
                          text=True, timeout=600)
    return {"ret": proc.returncode, "output": proc.stdout + proc.stderr}

def fill():
    fd = os.open(FS / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    chunk = 1 << 20
    while chunk:
        try:
            os.write(fd, b"x" * chunk)
        except OSError:
            chunk //= 2
    os.close(fd)

def files(root):
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != ".session.lock" and not path.is_relative_to(root / "runs"):
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found

def session_of(run_dir):
    try:
        return json.loads((run_dir / "result.json").read_text())["session_id"]
    except (OSError, ValueError, KeyError):
        return None
"""


@pytest.fixture
def cwd(pytester: pytest.Pytester, mlperf_env: Path) -> Path:
    pytester.makefile(".yaml", s=SUITE)
    return pytester.path


def test_a_full_disk_fails_the_run_clearly_keeps_what_was_there_and_the_next_session_recovers(
        cwd: Path, tmp_path: Path) -> None:
    code = SESSIONS + f"""
CWD = {str(cwd)!r}
first = session()
first_session = session_of(RUN)
outside_runs_before = files(OUT)
fill()
second = session()
outside_runs_during = files(OUT)
previous_during = session_of(RUN.with_name(RUN.name + ".previous"))
os.unlink(FS / "filler")
third = session()
print(json.dumps({{"first": first, "second": second, "third": third, "first_session": first_session,
                  "outside_runs_before": outside_runs_before, "outside_runs_during": outside_runs_during,
                  "previous_during": previous_during, "run_now": session_of(RUN),
                  "previous_now": session_of(RUN.with_name(RUN.name + ".previous")),
                  "tmp_left": [str(p) for p in OUT.rglob("*.tmp")]}}))
"""
    found = run_on_small_fs(tmp_path, code, size_kb=16 * 1024)
    first, second, third = found["first"], found["second"], found["third"]
    assert first["ret"] == 0, first["output"]
    assert found["first_session"], first["output"]

    # The full disk: the item fails with the directory and the reason, no traceback.
    output = second["output"]
    assert second["ret"] == pytest.ExitCode.TESTS_FAILED, output
    assert "no space is left on the device" in output, output
    assert str(Path("out") / "runs" / "s" / "digits" / "Offline" / "performance") in output, output
    assert "Traceback" not in output and "OSError" not in output, output
    assert "the tree was written" not in output, output  # this suite enters no tree: none was written
    # Nothing already produced is lost: the finished run is kept aside, the
    # session's other files (reports, a tree) are the ones before.
    assert found["previous_during"] == found["first_session"]
    assert found["outside_runs_during"] == found["outside_runs_before"]

    # Space again: the next session recovers without cleanup; the finished run before is still kept
    # (the unfinished run of the full disk never replaces it).
    assert third["ret"] == 0, third["output"]
    assert found["run_now"] not in (None, found["first_session"])
    assert found["previous_now"] == found["first_session"]
    assert found["tmp_left"] == []


def test_a_read_only_output_dir_is_one_clear_error_before_any_item(cwd: Path, tmp_path: Path) -> None:
    code = SESSIONS + f"""
CWD = {str(cwd)!r}
first = session()
subprocess.run(["mount", "-o", "remount,ro", str(FS)], check=True)
second = session()
print(json.dumps({{"first": first, "second": second, "run_now": session_of(RUN)}}))
"""
    found = run_on_small_fs(tmp_path, code, size_kb=16 * 1024)
    assert found["first"]["ret"] == 0, found["first"]["output"]
    output = found["second"]["output"]
    assert found["second"]["ret"] == pytest.ExitCode.USAGE_ERROR, output
    assert "--mlperf-out" in output and "Read-only file system" in output or "read-only" in output, output
    assert "Traceback" not in output, output
    assert found["run_now"] is not None  # the finished run is untouched
