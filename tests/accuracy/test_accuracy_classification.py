"""ImageNet top-1: golden cases from the official script, plus generated logs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pytest_mlperf_nv.accuracy import (
    AccuracyLogError,
    format_imagenet,
    format_imagenet_verbose,
    read_val_map,
    read_val_map_entries,
    top1,
)

from ._accuracy_helpers import command_args, expected_lines, golden_cases

CASES = golden_cases("resnet50")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_stdout(case: Path) -> None:
    args = command_args(case)
    labels = read_val_map(case / args["imagenet-val-file"])
    result = top1(case / args["mlperf-accuracy-file"], labels, dtype=args["dtype"])
    assert [format_imagenet(result)] == expected_lines(case)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_verbose(case: Path) -> None:
    args = command_args(case, "command_verbose.txt")
    entries = read_val_map_entries(case / args["imagenet-val-file"])
    result = top1(
        case / args["mlperf-accuracy-file"],
        [label for _, label in entries],
        dtype=args["dtype"],
    )
    lines = format_imagenet_verbose(result, [name for name, _ in entries])
    assert lines == expected_lines(case, "expected_stdout_verbose.txt")


def test_golden_counts() -> None:
    case = next(c for c in CASES if c.name == "int64_subset_offbyone")
    labels = read_val_map(case / "val_map.txt")
    r = top1(case / "mlperf_log_accuracy.json", labels, dtype="int64")
    assert (r.good, r.total, r.duplicates, r.missing) == (13, 37, 2, 63)
    assert r.accuracy == pytest.approx(13 / 37)
    # The 24 wrong predictions there are label + 1 (uncorrected 1001-class
    # output); the -1 offset turns them right.
    fixed = top1(case / "mlperf_log_accuracy.json", labels, dtype="int64", label_offset=-1)
    assert fixed.good == 24


def write_log(path: Path, rows: list[tuple[int, bytes]]) -> Path:
    """Write a log exactly as LoadGen lays it out."""
    body = ",\n".join(
        f'{{ "seq_id" : {i}, "qsl_idx" : {q}, "data" : "{d.hex().upper()}" }}'
        for i, (q, d) in enumerate(rows)
    )
    path.write_text("[\n" + body + ("\n" if rows else "") + "]\n")
    return path


@pytest.mark.parametrize("dtype", ["int32", "int64", "float32", "float64", "int16", "uint8"])
@pytest.mark.parametrize("k", [0, 3, 7])
def test_k_of_n_right(tmp_path: Path, dtype: str, k: int) -> None:
    n = 7
    labels = [5, 17, 200, 0, 99, 42, 250]
    order = [3, 0, 6, 1, 5, 2, 4]
    rows = []
    for pos, idx in enumerate(order):
        pred = labels[idx] if pos < k else labels[idx] + 1
        rows.append((idx, np.array([pred, 1], dtype=dtype).tobytes()))
    r = top1(write_log(tmp_path / "log.json", rows), labels, dtype=dtype)
    assert (r.good, r.total, r.duplicates, r.missing) == (k, n, 0, 0)
    assert r.accuracy == k / n
    assert format_imagenet(r) == f"accuracy={100 * k / n:.3f}%, good={k}, total={n}"


def test_duplicates_first_wins(tmp_path: Path) -> None:
    labels = [1, 2, 3]
    i32 = lambda v: np.array([v], "<i4").tobytes()  # noqa: E731
    rows = [(0, i32(1)), (1, i32(9)), (0, i32(9)), (1, i32(2)), (2, i32(3))]
    r = top1(write_log(tmp_path / "log.json", rows), labels)
    assert (r.good, r.total, r.duplicates) == (2, 3, 2)


def test_float_truncates_toward_zero(tmp_path: Path) -> None:
    f32 = lambda v: np.array([v], "<f4").tobytes()  # noqa: E731
    rows = [(0, f32(-0.5)), (1, f32(6.99)), (2, f32(7.0))]
    r = top1(write_log(tmp_path / "log.json", rows), [0, 7, 7], dtype="float32")
    assert r.good == 2  # 6.99 -> 6 is wrong


def test_partial_log_and_expected_count(tmp_path: Path) -> None:
    i32 = lambda v: np.array([v], "<i4").tobytes()  # noqa: E731
    log = write_log(tmp_path / "log.json", [(0, i32(1)), (2, i32(3))])
    r = top1(log, [1, 2, 3, 4])
    assert (r.good, r.total, r.missing) == (2, 2, 2)
    assert top1(log, [1, 2, 3, 4], expected_count=2).good == 2
    with pytest.raises(AccuracyLogError, match=r"expected 4 distinct samples, log has 2"):
        top1(log, [1, 2, 3, 4], expected_count=4)


def test_qsl_idx_out_of_range(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.json", [(5, np.array([1], "<i4").tobytes())])
    with pytest.raises(AccuracyLogError, match=r"qsl_idx 5, outside the 3 labels"):
        top1(log, [1, 2, 3])


def test_empty_log(tmp_path: Path) -> None:
    with pytest.raises(AccuracyLogError, match="no entries"):
        top1(write_log(tmp_path / "log.json", []), [1])


def test_wrong_dtype_size(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.json", [(0, np.array([1], "<i4").tobytes())])
    with pytest.raises(AccuracyLogError, match=r"4 bytes, not a multiple of 8 \(int64\)"):
        top1(log, [1], dtype="int64")


def test_labels_as_ndarray(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.json", [(1, np.array([7], "<i8").tobytes())])
    assert top1(log, np.array([0, 7]), dtype="int64").good == 1


def test_val_map_errors(tmp_path: Path) -> None:
    with pytest.raises(AccuracyLogError, match="not found"):
        read_val_map(tmp_path / "nope.txt")
    bad = tmp_path / "val_map.txt"
    bad.write_text("a.JPEG 1\n\nb.JPEG x\n")
    with pytest.raises(AccuracyLogError, match=r"val_map.txt:3"):
        read_val_map(bad)


def test_large_log_is_fast(tmp_path: Path) -> None:
    import time

    n = 50_000
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 1000, n)
    preds = labels.copy()
    preds[: n // 4] += 1
    rows = [(int(i), np.array([p], "<i4").tobytes()) for i, p in enumerate(preds)]
    log = write_log(tmp_path / "log.json", rows)
    t0 = time.perf_counter()
    r = top1(log, labels, expected_count=n)
    assert time.perf_counter() - t0 < 5.0
    assert (r.good, r.total) == (n - n // 4, n)
    json.loads(log.read_text())  # sanity: the writer produced valid JSON


def test_nan_prediction(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.json", [(0, np.array([np.nan], "<f4").tobytes())])
    with pytest.raises(AccuracyLogError, match="predicts .*nan"):
        top1(log, [1], dtype="float32")
