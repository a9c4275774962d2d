"""OpenImages mAP (retinanet): golden cases and generated logs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from pytest_mlperf_nv.accuracy import AccuracyLogError, format_openimages, openimages_map

from ._accuracy_helpers import command_args, expected_lines, golden_cases

pytest.importorskip("pycocotools")

CASES = golden_cases("retinanet")
TIMING = re.compile(r"\(t=\d+\.\d+s\)")


def normalise(lines: list[str]) -> list[str]:
    """Blank out pycocotools' timings, the only non-deterministic text."""
    return [TIMING.sub("(t=X)", line) for line in lines]


def run_case(case: Path, command: str, tmp_path: Path):
    args = command_args(case, command)
    return openimages_map(
        case / args["mlperf-accuracy-file"],
        case / args["openimages-dir"],
        use_inv_map=bool(args.get("use-inv-map", False)),
        output_file=tmp_path / "openimages-results.json",
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_stdout(case: Path, tmp_path: Path) -> None:
    result = run_case(case, "command.txt", tmp_path)
    assert normalise(format_openimages(result)) == normalise(expected_lines(case))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_verbose(case: Path, tmp_path: Path) -> None:
    result = run_case(case, "command_verbose.txt", tmp_path)
    got = normalise(format_openimages(result, verbose=True))
    assert got == normalise(expected_lines(case, "expected_stdout_verbose.txt"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_results_file(case: Path, tmp_path: Path) -> None:
    result = run_case(case, "command.txt", tmp_path)
    ours = json.loads((tmp_path / "openimages-results.json").read_text())
    theirs = json.loads((case / "expected_openimages-results.json").read_text())
    # image_loc embeds the dataset dir as given on the command line.
    for d in ours + theirs:
        d["image_loc"] = Path(d["image_loc"]).name
    assert ours == theirs  # exact floats: the float32 scaling matches
    assert len(result.detections) == len(theirs)


def test_golden_numbers(tmp_path: Path) -> None:
    basic = run_case(next(c for c in CASES if c.name == "basic"), "command.txt", tmp_path)
    assert basic.mAP == pytest.approx(0.3941969196919691, abs=1e-12)
    assert (basic.entries, basic.images, basic.no_results, basic.duplicates) == (6, 5, 0, 1)
    edge = run_case(next(c for c in CASES if c.name == "edge_nonpositional_ids"), "command.txt", tmp_path)
    assert edge.mAP == pytest.approx(0.5234323432343234, abs=1e-12)
    assert (edge.images, edge.no_results, edge.mismatched_records) == (4, 1, 2)
    assert edge.stats[3] == -1.0 and edge.stats[4] == -1.0


# --- generated inputs --------------------------------------------------------


def make_dataset(tmp_path: Path) -> Path:
    root = tmp_path / "openimages"
    (root / "annotations").mkdir(parents=True)
    gt = {
        "images": [
            {"id": 10, "file_name": "a.jpg", "height": 100, "width": 200, "coco_url": None},
            {"id": 11, "file_name": "b.jpg", "height": 100, "width": 100, "coco_url": None},
        ],
        "categories": [{"id": 3, "name": "x"}, {"id": 8, "name": "y"}],
        "annotations": [
            {
                "id": 1,
                "image_id": 10,
                "category_id": 3,
                "bbox": [20, 10, 100, 50],
                "area": 5000,
                "iscrowd": 0,
            },
            {"id": 2, "image_id": 11, "category_id": 8, "bbox": [10, 10, 50, 50], "area": 2500, "iscrowd": 0},
        ],
    }
    (root / "annotations" / "openimages-mlperf.json").write_text(json.dumps(gt))
    return root


def rec(idx: int, box: tuple[float, float, float, float], score: float, label: float) -> list[float]:
    return [idx, *box, score, label]


def write_log(path: Path, rows: list[tuple[int, list[float]]]) -> Path:
    body = ",\n".join(
        f'{{ "seq_id" : {i}, "qsl_idx" : {q}, "data" : "{np.array(v, "<f4").tobytes().hex().upper()}" }}'
        for i, (q, v) in enumerate(rows)
    )
    path.write_text("[\n" + body + "\n]\n")
    return path


def test_perfect_and_missed(tmp_path: Path) -> None:
    root = make_dataset(tmp_path)
    perfect = [
        (0, rec(0, (0.1, 0.1, 0.6, 0.6), 0.9, 3)),
        (1, rec(1, (0.1, 0.1, 0.6, 0.6), 0.8, 8)),
    ]
    r = openimages_map(write_log(tmp_path / "p.json", perfect), root)
    assert r.mAP == pytest.approx(1.0)
    # Image 1 logged with an empty response: its GT is missed -> category 8 AP 0.
    half = [perfect[0], (1, [])]
    r = openimages_map(write_log(tmp_path / "h.json", half), root)
    assert r.mAP == pytest.approx(0.5) and r.no_results == 1
    # Only image 0 logged: image 1 is not evaluated at all.
    r = openimages_map(write_log(tmp_path / "o.json", perfect[:1]), root)
    assert r.mAP == pytest.approx(1.0) and r.images == 1
    # Inverse map: labels 1/2 are the 1st/2nd category ids (3, 8).
    inv = [(0, rec(0, (0.1, 0.1, 0.6, 0.6), 0.9, 1)), (1, rec(1, (0.1, 0.1, 0.6, 0.6), 0.9, 2))]
    r = openimages_map(write_log(tmp_path / "i.json", inv), root, use_inv_map=True)
    assert r.mAP == pytest.approx(1.0)


def test_no_detections_at_all(tmp_path: Path) -> None:
    root = make_dataset(tmp_path)
    r = openimages_map(write_log(tmp_path / "e.json", [(0, []), (1, [])]), root)
    assert r.mAP == 0.0 and r.no_results == 2


def test_errors(tmp_path: Path) -> None:
    root = make_dataset(tmp_path)
    with pytest.raises(AccuracyLogError, match="no entries"):
        (tmp_path / "empty.json").write_text("[\n]\n")
        openimages_map(tmp_path / "empty.json", root)
    with pytest.raises(AccuracyLogError, match="qsl_idx 5, outside the 2 images"):
        openimages_map(write_log(tmp_path / "r.json", [(5, rec(5, (0, 0, 1, 1), 1, 3))]), root)
    with pytest.raises(AccuracyLogError, match="not a multiple of 7"):
        openimages_map(write_log(tmp_path / "m.json", [(0, rec(0, (0, 0, 1, 1), 1, 3) + [1.0])]), root)
    with pytest.raises(AccuracyLogError, match="label 7, outside the inverse map of 2"):
        openimages_map(
            write_log(tmp_path / "l.json", [(0, rec(0, (0, 0, 1, 1), 1, 7))]), root, use_inv_map=True
        )
    with pytest.raises(AccuracyLogError, match="annotation file not found"):
        openimages_map(tmp_path / "r.json", tmp_path / "nowhere")


def test_inverse_map_wraps_padding_labels_like_the_official_script(tmp_path: Path) -> None:
    """Label -1 (padding) indexes the inverse map from the end: scored as the last category (8)."""
    pytest.importorskip("pycocotools")
    root = make_dataset(tmp_path)
    rows = [(0, rec(0, (0.1, 0.1, 0.6, 0.6), 0.9, 1) + rec(0, (0.0, 0.0, 0.2, 0.2), 0.0, -1)),
            (1, rec(1, (0.1, 0.1, 0.6, 0.6), 0.8, -1))]
    r = openimages_map(write_log(tmp_path / "w.json", rows), root, use_inv_map=True)
    assert r.wrapped_labels == 2
    assert [d["category_id"] for d in r.detections] == [3, 8, 8]
    assert r.mAP == pytest.approx(1.0)  # the wrapped detection on image 1 is category 8's true box
    with pytest.raises(AccuracyLogError, match="label -4, outside the inverse map of 2"):
        openimages_map(write_log(tmp_path / "x.json", [(0, rec(0, (0, 0, 1, 1), 1, -4))]), root,
                       use_inv_map=True)
