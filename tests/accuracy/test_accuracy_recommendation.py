"""DLRM-v2 AUC: golden cases and generated logs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pytest_mlperf_nv.accuracy import AccuracyLogError, dlrm_auc, format_dlrm

from ._accuracy_helpers import command_args, expected_lines, golden_cases

pytest.importorskip("sklearn")

CASES = golden_cases("dlrm-v2")
FULL_AUC = {
    "gt_in_log_float32": 0.8936237373737372,
    "day23_trace": 0.8741830065359477,
    "gt_in_log_int32": 0.7915828303152248,
}


def run_case(case: Path, command: str):
    args = command_args(case, command)
    day23 = args.get("day-23-file")
    return dlrm_auc(
        case / args["mlperf-accuracy-file"],
        dtype=args.get("dtype", "float32"),
        day_23_file=case / day23 if day23 else None,
        aggregation_trace_file=case / args["aggregation-trace-file"] if day23 else None,
        collect_wrong="verbose" in args,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_stdout(case: Path) -> None:
    result = run_case(case, "command.txt")
    assert format_dlrm(result) == expected_lines(case)
    assert result.auc == pytest.approx(FULL_AUC[case.name], abs=1e-15)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_verbose(case: Path) -> None:
    result = run_case(case, "command_verbose.txt")
    assert format_dlrm(result, verbose=True) == expected_lines(case, "expected_stdout_verbose.txt")


def write_log(path: Path, rows: list[tuple[int, np.ndarray]]) -> Path:
    body = ",\n".join(
        f'{{ "seq_id" : {i}, "qsl_idx" : {q}, "data" : "{a.tobytes().hex().upper()}" }}'
        for i, (q, a) in enumerate(rows)
    )
    path.write_text("[\n" + body + "\n]\n")
    return path


@pytest.mark.parametrize("dtype", ["float32", "int32", "int64"])
def test_perfect_and_inverted(tmp_path: Path, dtype: str) -> None:
    rows = [(0, np.array([1, 1, 0, 0], dtype)), (1, np.array([0, 0, 1, 1, 1, 1], dtype))]
    r = dlrm_auc(write_log(tmp_path / "a.json", rows), dtype=dtype)
    assert (r.auc, r.good, r.total, r.queries) == (1.0, 5, 5, 2)
    inv = [(0, np.array([0, 1, 1, 0], dtype))]
    r = dlrm_auc(write_log(tmp_path / "b.json", inv), dtype=dtype)
    assert (r.auc, r.good, r.accuracy) == (0.0, 0, 0.0)


def test_round_half_even_and_duplicates(tmp_path: Path) -> None:
    f = lambda *v: np.array(v, "<f4")  # noqa: E731
    rows = [
        (0, f(0.5, 0, 0.5, 1, 0.5000001, 1, 0.9, 1)),
        (1, f(0.2, 0)),
        (0, f(0.0, 1)),  # duplicate, ignored
    ]
    r = dlrm_auc(write_log(tmp_path / "a.json", rows), collect_wrong=True)
    assert (r.good, r.total, r.queries, r.duplicates) == (4 - 1 + 1, 5, 2, 1)
    assert [(i, k) for i, k, _, _ in r.wrong] == [(0, 1)]
    assert format_dlrm(r, verbose=True)[2] == "0:1, expected: 1.0, found 0.0"


def test_file_mode(tmp_path: Path) -> None:
    (tmp_path / "trace.txt").write_text("0, 2, 2\n2, 3, 1\n3, 6, 3\n")
    (tmp_path / "day_23").write_text("1\ta\n0\tb\n1\tc\n0\t\n0\t\n1\t\n1\tunused\n")
    f = lambda *v: np.array(v, "<f4")  # noqa: E731
    # Log order 2, 0 (sample 1 never logged): targets 0,0,1 then 1,0.
    rows = [(2, f(0.1, 0.2, 0.9)), (0, f(0.8, 0.3))]
    r = dlrm_auc(
        write_log(tmp_path / "a.json", rows),
        day_23_file=tmp_path / "day_23",
        aggregation_trace_file=tmp_path / "trace.txt",
    )
    assert (r.auc, r.good, r.total, r.queries, r.trace_samples) == (1.0, 5, 5, 2, 3)
    assert any(line.startswith("Warning: number of samples in trace file (3)") for line in format_dlrm(r))
    with pytest.raises(AccuracyLogError, match="qsl_idx 7 is outside the 3 samples"):
        dlrm_auc(
            write_log(tmp_path / "b.json", [(7, f(0.1))]),
            day_23_file=tmp_path / "day_23",
            aggregation_trace_file=tmp_path / "trace.txt",
        )
    (tmp_path / "short").write_text("1\n0\n")
    with pytest.raises(AccuracyLogError, match="has 2 lines, the trace file needs 6"):
        dlrm_auc(
            tmp_path / "a.json", day_23_file=tmp_path / "short", aggregation_trace_file=tmp_path / "trace.txt"
        )


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(AccuracyLogError, match="not a multiple of 4"):
        dlrm_auc(write_log(tmp_path / "a.json", [(0, np.array([1], "<i2"))]))
    with pytest.raises(AccuracyLogError, match=r"holds 3 values.*\[pred, label\] pairs"):
        dlrm_auc(write_log(tmp_path / "b.json", [(0, np.array([1, 0, 1], "<f4"))]))
    # One class: AUC is undefined; the official script prints AUC=nan%, and so does the plugin.
    one = dlrm_auc(write_log(tmp_path / "c.json", [(0, np.array([0.3, 1, 0.6, 1], "<f4"))]))
    assert np.isnan(one.auc) and format_dlrm(one)[-1].startswith("AUC=nan%, accuracy=50.000%")
    (tmp_path / "e.json").write_text("[\n]\n")
    with pytest.raises(AccuracyLogError, match="no entries"):
        dlrm_auc(tmp_path / "e.json")
