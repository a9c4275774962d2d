"""``mlperf-nv results``, ``suites`` and ``run``: what a user reads and where results go."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_mlperf_nv.cli import SUITES, main
from pytest_mlperf_nv.report.format import accuracy_text, metric_text, table
from pytest_mlperf_nv.report.shipped import run_arguments, shipped_suites

REPO = Path(__file__).resolve().parents[2]


def _result(out: Path, where: str, record: object) -> Path:
    run_dir = out / "runs" / where
    run_dir.mkdir(parents=True)
    (run_dir / "result.json").write_text(record if isinstance(record, str) else json.dumps(record))
    return run_dir


def _record(verdict: str, **loadgen: object) -> dict:
    reasons = [] if verdict == "PASS" else ["latency constraint not met: p99 latency 11.5 ms > bound 10 ms",
                                            "early stopping not met"]
    return {"format": 2, "verdict": verdict, "reasons": reasons,
            "loadgen": {"validity": "VALID" if verdict == "PASS" else "INVALID", **loadgen}}


def test_results_are_aligned_formatted_like_the_session_table_and_say_why(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    _result(out, "cpu/digits/Offline/performance", _record("PASS", value=51328.14, unit="samples/s"))
    _result(out, "cpu/digits/SingleStream/performance", _record("PASS", value=0.0512, unit="ms"))
    _result(out, "cpu/digits/Server/performance", _record("FAIL", value=1032.2, unit="samples/s"))
    accuracy = {"format": 2, "verdict": "PASS", "loadgen": {"validity": "VALID"},
                "accuracy": {"metric": "top1", "value": 97.2222}}
    _result(out, "cpu/digits/Offline/accuracy", accuracy)
    assert main(["results", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header, rows = lines[0], lines[1:]
    assert header.split() == ["item", "verdict", "validity", "metric", "accuracy", "run_dir", "why"]
    for column in ("verdict", "validity", "run_dir"):
        at = header.index(column)
        assert all(row[at - 2:at] == "  " for row in rows), (column, lines)  # every row starts it there
    assert {row[header.index("verdict"):].split()[0] for row in rows} == {"PASS", "FAIL"}
    assert {row[header.index("run_dir"):].split()[0].split("/")[-2] for row in rows} == {
        "Offline", "SingleStream", "Server"}
    text = "\n".join(rows)
    assert "51,328.1 samples/s" in text and "0.051 ms" in text and "97.222%" in text
    server = next(r for r in rows if "Server" in r)
    assert "FAIL" in server and "latency constraint not met: p99 latency 11.5 ms > bound 10 ms" in server
    assert "(+1 more in result.json)" in server


@pytest.mark.parametrize("content", ["null", "[]", "{not json", '"a string"', "42", '{"verdict": "PASS"}',
                                     '{"format": 2, "verdict": 3, "loadgen": "x", "accuracy": [1]}',
                                     '{"format": 2, "verdict": "FAIL", "case": "x"}'])
def test_results_skip_what_is_not_a_result_record_without_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str) -> None:
    out = tmp_path / "out"
    _result(out, "cpu/digits/Offline/performance", _record("PASS", value=10.0, unit="samples/s"))
    _result(out, "cpu/digits/Server/performance", content)
    assert main(["results", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert "cpu::digits::Offline::performance" in captured.out
    assert "Server" not in captured.out
    assert "mlperf-nv: skipping " in captured.err and "Server/performance/result.json" in captured.err


def test_formatting_helpers() -> None:
    assert metric_text(1032.21, "samples/s") == "1,032.2 samples/s"
    assert metric_text(0.05123, "ms") == "0.051 ms"
    assert metric_text(None, "ms") == metric_text("x", "ms") == metric_text(float("nan"), "ms") == ""
    assert accuracy_text(97.22222) == "97.222%" and accuracy_text(True) == ""
    assert table(("a", "bb"), [{"a": "xxx", "bb": "1"}, {"a": "y", "bb": ""}]) == ["a    bb", "xxx  1", "y"]


def test_suites_hides_the_shared_base_lists_the_default_and_keeps_whole_sentences(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suites"]) == 0
    out = capsys.readouterr().out
    names = [line.split()[0] for line in out.splitlines() if line and not line.startswith((" ", "("))]
    assert "nvidia-datacenter" not in names
    assert {"cpu", "l4", "h200"} <= set(names)
    listed = " ".join(out.split())
    assert "real verdicts, accuracy scored from LoadGen's accuracy log." in listed


def test_the_shipped_default_suite_is_the_repositorys() -> None:
    # `mlperf-nv run cpu` works without a clone: the package carries the same file.
    assert (SUITES / "cpu.yaml").read_text() == (REPO / "suites" / "cpu.yaml").read_text()
    assert "cpu" in [s.name for s in shipped_suites(SUITES)]


def test_run_names_the_shipped_suites_for_an_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "nvidia-datacenter"]) == 2
    err = capsys.readouterr().err
    assert "no shipped suite named 'nvidia-datacenter'" in err and "cpu" in err


def test_run_arguments_put_results_and_pytests_cache_in_the_working_directory(tmp_path: Path) -> None:
    suite = SUITES / "l4.yaml"
    args = run_arguments(suite, ["-k", "server"], tmp_path, env={})
    assert args[-3:] == [str(suite), "-k", "server"]
    assert f"--mlperf-out={tmp_path / 'mlperf-results'}" in args
    assert f"cache_dir={tmp_path / '.pytest_cache'}" in args
    assert args[args.index("-c") + 1] == os.devnull  # no ini file from the package's location
    (tmp_path / "tox.ini").write_text("[pytest]\nmlperf_out = elsewhere\n")
    args = run_arguments(suite, [], tmp_path, env={})
    assert args[args.index("-c") + 1] == str(tmp_path / "tox.ini")
    assert not any(a.startswith("--mlperf-out") for a in args)  # the user's ini says where
    assert not any(a.startswith("--mlperf-out") for a in run_arguments(suite, [], tmp_path,
                                                                       env={"MLPERF_NV_OUT": "x"}))
    assert run_arguments(suite, ["--mlperf-out=mine"], tmp_path, env={}).count("--mlperf-out=mine") == 1


def test_run_writes_results_in_the_directory_it_is_run_from(tmp_path: Path, shared_cache: Path) -> None:
    env = {**os.environ, "MLPERF_NV_CACHE_DIR": str(shared_cache)}
    env.pop("MLPERF_NV_OUT", None)
    proc = subprocess.run([sys.executable, "-m", "pytest_mlperf_nv.cli", "run", "cpu", "-q",
                           "-k", "digits and SingleStream and accuracy"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "mlperf-results/runs/cpu/digits/SingleStream/accuracy/result.json").is_file()
    assert not (SUITES / "mlperf-results").exists() and not (SUITES.parent / "mlperf-results").exists()
    assert "cpu.yaml::digits::SingleStream::accuracy" in proc.stdout
