"""mlperf-nv doctor without NVIDIA's code: the verdicts that need none (tests/conformance runs it on
NVIDIA's real front end)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_mlperf_nv.cli import main
from tests.helpers import REPO

SYSTEMS = REPO / "tests" / "data" / "systems"


def test_no_code_dir_is_a_problem_with_its_fix(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLPERF_NV_NVIDIA_CODE_DIR", raising=False)
    status = main(["doctor", str(REPO / "pytest_mlperf_nv/suites/h200.yaml"), "--snapshot",
                   str(SYSTEMS / "h200x1.json")])
    out = capsys.readouterr().out
    assert status == 1
    assert "PROBLEM code dir: NVIDIA's MLPerf code is not configured" in out
    assert "fix: point nvidia.code_dir in the suite, --mlperf-nvidia-code-dir" in out
    assert out.rstrip().endswith("result: 1 problem(s)")


def test_a_dir_that_is_not_nvidias_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--code-dir", str(tmp_path)]) == 1
    assert f"NVIDIA's MLPerf code is not at {tmp_path} (no code/main.py there)" in capsys.readouterr().out


def test_a_machine_without_an_nvidia_gpu(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = tmp_path / "nvidia"
    (code / "code").mkdir(parents=True)
    (code / "code" / "main.py").write_text("")
    (code / "VERSION").write_text("v4.1\n")
    assert main(["doctor", "--code-dir", str(code), "--snapshot", str(SYSTEMS / "cpu-only.json")]) == 1
    out = capsys.readouterr().out
    assert "ok      code dir:" in out and "(NVIDIA's v4.1 code)" in out
    assert "PROBLEM hardware: no NVIDIA GPU" in out and "docker --gpus" in out


def test_suites_that_do_not_run_on_nvidias_code_need_nothing_of_it(capsys: pytest.CaptureFixture[str],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLPERF_NV_NVIDIA_CODE_DIR", raising=False)
    assert main(["doctor", str(REPO / "suites/cpu.yaml")]) == 0
    assert "runs on harness loadgen: nothing to check before a run" in capsys.readouterr().out


def test_a_suite_error_is_a_problem_naming_the_line(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text("mlperf_suite: 1\nharness: nvidia\nsystem: {gpu: h100}\nbenchmarks:\n  resnet50:\n"
                     "    scenarios:\n      Offline: {soft_drop: 0.9}\n")
    assert main(["doctor", str(suite), "--snapshot", str(SYSTEMS / "h100x1.json")]) == 1
    out = capsys.readouterr().out
    assert f"PROBLEM {suite}: {suite}:7:" in out and "soft_drop: does not apply to resnet50 Offline" in out


def test_bad_invocations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", str(tmp_path / "nope.yaml")]) == 2
    assert "no such suite file" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert main(["doctor", "--snapshot", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_mlperf_doctor_stops_the_session_on_a_problem(mlperf_env: Path, pytester: pytest.Pytester,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers import write_suite

    monkeypatch.delenv("MLPERF_NV_NVIDIA_CODE_DIR", raising=False)
    write_suite(mlperf_env, "mlperf_suite: 1\nharness: nvidia\nsystem: {gpu: h100}\nbenchmarks:\n"
                            "  resnet50: {scenarios: [Offline]}\n", "h100.yaml")
    result = pytester.runpytest("suites/h100.yaml", "--mlperf-doctor",
                                f"--mlperf-system-snapshot={SYSTEMS / 'h100x1.json'}")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*PROBLEM code dir: NVIDIA's MLPerf code is not configured*",
                                 "*--mlperf-doctor: fix the problems above, then run again*"])
    assert "passed" not in result.stdout.str()


def test_code_of_a_round_the_plugin_does_not_drive(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code = tmp_path / "nvidia"
    (code / "code").mkdir(parents=True)
    (code / "code" / "main.py").write_text("")
    (code / "VERSION").write_text("v5.1\n")
    assert main(["doctor", "--code-dir", str(code)]) == 1
    out = capsys.readouterr().out
    assert f"PROBLEM code dir: NVIDIA's code at {code} is v5.1 (its VERSION file)" in out
    assert "inference_results_v4.1 or v5.0 checkout" in out and "set nvidia.version" not in out


def test_each_harness_reports_through_its_own_doctor(tmp_path: Path) -> None:
    """The doctor asks the harness a suite names (Harness.doctor); a harness without suites named is
    asked only when no suite is."""
    from pytest_mlperf_nv.doctor import DoctorCheck, diagnose
    from pytest_mlperf_nv.harness.api import Harness
    from pytest_mlperf_nv.registry import Registry, register_builtins

    class Remote(Harness):
        name = "remote"

        def doctor(self, suites: list, check: DoctorCheck) -> None:
            check.report.add("problem", "remote", f"{len(suites)} suite(s), no endpoint", "set REMOTE_URL")

    registry = Registry()
    register_builtins(registry)
    registry.add_harness(Remote())
    suite = tmp_path / "remote.yaml"
    suite.write_text("mlperf_suite: 1\nharness: remote\nbenchmarks:\n  resnet50: {scenarios: [Offline]}\n")
    report = diagnose([suite], registry=registry)
    assert [(f.subject, f.message, f.fix) for f in report.problems] == [
        ("remote", "1 suite(s), no endpoint", "set REMOTE_URL")]
    assert "result: 1 problem(s)" in report.text()
