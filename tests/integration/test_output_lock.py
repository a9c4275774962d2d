"""A second pytest session on an output dir that a session holds: a usage error, nothing written."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pytest_mlperf_nv.outlock import LOCK_FILE, holder
from tests.unit.test_outlock import held_by_another_process

SUITE = ("mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios: {Offline: {offline_expected_qps: 100000}}\n"
         "    modes: [performance]\n    min_duration: 100\n")


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["no-xdist", "xdist"])
def test_pytest_on_a_held_output_dir_is_a_usage_error_and_writes_nothing(
        pytester: pytest.Pytester, mlperf_env: Path, workers: list[str]) -> None:
    pytester.makefile(".yaml", s=SUITE)
    out = pytester.path / "mlperf-results"
    with held_by_another_process(out) as proc:
        result = pytester.runpytest_subprocess("s.yaml", "-p", "no:cacheprovider", *workers)
        output = result.stdout.str() + result.stderr.str()
        assert result.ret == pytest.ExitCode.USAGE_ERROR, output
        assert f"is in use by another pytest session (pid {proc.pid}" in output
        assert "Traceback" not in output
        assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]  # no run dirs, no tree
        # Collecting writes nothing and needs no lock.
        assert pytester.runpytest_subprocess("s.yaml", "--co", "-q").ret == pytest.ExitCode.OK


def test_a_session_waits_for_the_output_dir_when_asked(pytester: pytest.Pytester, mlperf_env: Path) -> None:
    import signal
    import subprocess
    import sys

    pytester.makefile(".yaml", s=SUITE)
    out = pytester.path / "mlperf-results"
    with held_by_another_process(out) as holder_proc:
        proc = subprocess.Popen([sys.executable, "-m", "pytest", "s.yaml", "-p", "no:cacheprovider",
                                 "--mlperf-out-wait=900"], cwd=pytester.path, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        lines = []
        for line in proc.stdout:  # the holder ends only once the session said that it waits
            lines.append(line)
            if "waiting up to 900 s for it to end (--mlperf-out-wait)" in line:
                break
        holder_proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=900)
    output = "".join(lines) + rest
    assert proc.returncode == pytest.ExitCode.OK, output
    assert f"is in use by another pytest session (pid {holder_proc.pid}" in output
    assert "1 passed" in output


def test_a_session_holds_its_output_dir_and_releases_it(pytester: pytest.Pytester, mlperf_env: Path) -> None:
    pytester.makefile(".yaml", s=SUITE)
    pytester.makeconftest(textwrap.dedent("""
        from pytest_mlperf_nv.outlock import holder

        def pytest_runtest_call(item):
            found = holder(item.config.rootpath / "mlperf-results")
            assert found is not None and found["session_id"], found
    """))
    result = pytester.runpytest("s.yaml", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert holder(pytester.path / "mlperf-results") is None
