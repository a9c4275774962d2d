"""KiTS19 DICE (3d-unet): golden cases and generated volumes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from pytest_mlperf_nv.accuracy import (
    AccuracyLogError,
    format_kits,
    format_kits_summary_csv,
    kits_dice,
    read_preprocessed_files,
)

from ._accuracy_helpers import GOLDEN, command_args, expected_lines, golden_cases

nib = pytest.importorskip("nibabel")

CASES = golden_cases("3d-unet")


def run_case(case: Path):
    args = command_args(case)
    return kits_dice(
        case / args["log_file"],
        case / args["preprocessed_data_dir"],
        output_dtype=args.get("output_dtype", "uint8"),
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_stdout(case: Path) -> None:
    assert format_kits(run_case(case)) == expected_lines(case)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_summary_csv(case: Path) -> None:
    # Full precision: every per-case and mean value equals the official CSV.
    assert format_kits_summary_csv(run_case(case)) == (case / "expected_summary.csv").read_text()


def test_json_metadata_equals_pickle(tmp_path: Path) -> None:
    src = GOLDEN / "3d-unet" / "uint8_three_cases" / "preprocessed_data"
    assert read_preprocessed_files(src)[0] == ["case_00000", "case_00001", "case_00002"]
    dst = tmp_path / "pre"
    shutil.copytree(src, dst)
    (dst / "preprocessed_files.pkl").unlink()
    pkl_files, pkl_cases = read_preprocessed_files(src)
    json_files, json_cases = read_preprocessed_files(dst)
    assert pkl_files == json_files
    assert {k: list(v["image_shape"]) for k, v in pkl_cases.items()} == {
        k: v["image_shape"] for k, v in json_cases.items()
    }


# --- generated inputs --------------------------------------------------------


def make_dataset(tmp_path: Path, gts: dict[str, np.ndarray]) -> Path:
    root = tmp_path / "pre"
    cases = {}
    for name, gt in gts.items():
        (root / "nifti" / name).mkdir(parents=True)
        nib.save(
            nib.Nifti1Image(gt.astype(np.uint8), np.eye(4)), root / "nifti" / name / "segmentation.nii.gz"
        )
        cases[name] = {"case": name, "image_shape": [1, *gt.shape], "reshaped_affine": np.eye(4).tolist()}
    (root / "preprocessed_files.json").write_text(json.dumps({"file_list": list(gts), "cases": cases}))
    return root


def write_log(path: Path, rows: list[tuple[int, bytes]]) -> Path:
    body = ",\n".join(
        f'{{ "seq_id" : {i}, "qsl_idx" : {q}, "data" : "{d.hex().upper()}" }}'
        for i, (q, d) in enumerate(rows)
    )
    path.write_text("[\n" + body + "\n]\n")
    return path


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64", "float32", "float64"])
def test_dtypes_and_formula(tmp_path: Path, dtype: str) -> None:
    gt = np.zeros((2, 3, 4), np.uint8)
    gt[0, :, :2] = 1  # 6 kidney voxels
    gt[1, 0, 0] = 2  # 1 tumour voxel
    pred = gt.copy()
    pred[0, 0, :2] = 0  # 4 of 6 kidney voxels found
    pred[1, 0, 0] = 0
    pred[1, 2, 3] = 2  # tumour in the wrong place
    root = make_dataset(tmp_path, {"c0": gt, "c1": np.zeros((2, 3, 4), np.uint8)})
    rows = [(1, np.zeros(24, dtype).tobytes()), (0, pred.astype(dtype).tobytes())]
    r = kits_dice(write_log(tmp_path / "log.json", rows), root, output_dtype=dtype)
    kidney = (2 * 4 + 1e-6) / (6 + 4 + 1e-6)
    tumor = (0 + 1e-6) / (1 + 1 + 1e-6)
    assert [c.case for c in r.cases] == ["c0", "c1"]  # file_list order, not log order
    assert r.cases[0].kidney == pytest.approx(kidney, rel=1e-15)
    assert r.cases[0].tumor == pytest.approx(tumor, rel=1e-15)
    assert (r.cases[1].kidney, r.cases[1].tumor) == (1.0, 1.0)  # both classes absent
    assert r.kidney == pytest.approx((kidney + 1) / 2)
    assert r.mean == pytest.approx(((kidney + tumor) / 2 + 1) / 2)


def test_errors(tmp_path: Path) -> None:
    gt = np.zeros((2, 2, 2), np.uint8)
    root = make_dataset(tmp_path, {"a": gt, "b": gt})
    ok = gt.tobytes()
    with pytest.raises(AccuracyLogError, match="has 3 entries, the validation set has 2 cases"):
        kits_dice(write_log(tmp_path / "l1.json", [(0, ok), (1, ok), (1, ok)]), root)
    with pytest.raises(AccuracyLogError, match=r"qsl_idx 1 \(b\) is logged more than once"):
        kits_dice(write_log(tmp_path / "l2.json", [(1, ok), (1, ok)]), root)
    with pytest.raises(AccuracyLogError, match="qsl_idx 5, outside the 2 cases"):
        kits_dice(write_log(tmp_path / "l3.json", [(0, ok), (5, ok)]), root)
    with pytest.raises(AccuracyLogError, match=r"holds 4 values, shape \(1, 2, 2, 2\) needs 8"):
        kits_dice(write_log(tmp_path / "l4.json", [(0, ok), (1, ok[:4])]), root)
    bad = np.full(8, 3, np.uint8).tobytes()
    with pytest.raises(AccuracyLogError, match="holds label 3"):
        kits_dice(write_log(tmp_path / "l5.json", [(0, ok), (1, bad)]), root)
    with pytest.raises(AccuracyLogError, match="no preprocessed_files"):
        kits_dice(tmp_path / "l5.json", tmp_path)
