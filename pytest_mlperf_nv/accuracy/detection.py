"""OpenImages mAP (RetinaNet), matching ``accuracy-openimages.py``.

A response is float32 records of 7 values
``[image_idx, ymin, xmin, ymax, xmax, score, label]`` with coordinates
normalised to 0..1.  Semantics of the official script reproduced here:

* first entry of a repeated ``qsl_idx`` wins;
* ``qsl_idx`` is a *position* in the annotation file's ``images`` list;
* boxes are scaled to pixels in float32 arithmetic (y by height, x by width)
  and written as COCO ``[x, y, w, h]``;
* a response shorter than 7 floats is an image without detections, which is
  still evaluated (its ground truth counts as missed); images never logged
  are not evaluated at all;
* a record whose ``image_idx`` disagrees with ``qsl_idx`` only prints an
  ``ERROR:`` line, its boxes still go to the ``qsl_idx`` image;
* ``use_inv_map``: label k -> k-th category id of the file (1-based), 0 -> 0; a negative
  label k (padding detections carry -1) is Python-indexed from the end, so -1 is scored as the
  last category - reproduced and counted in ``wrapped_labels``, because the checker reads the
  official number; labels beyond the map are an error (the official script crashes);
* pycocotools COCOeval ``bbox`` with default parameters; mAP = ``stats[0]``.

pycocotools is imported lazily so the rest of the package works without it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .log import AccuracyLogError, PathLike, decode, dedupe, read_accuracy_log

__all__ = ["DetectionResult", "format_openimages", "openimages_map"]

ANNOTATIONS_RELPATH = os.path.join("annotations", "openimages-mlperf.json")


@dataclass(frozen=True)
class DetectionResult:
    """Outcome of :func:`openimages_map`.

    Attributes:
        mAP: COCO AP@[.50:.95] over all areas (fraction; -1.0 if no GT).
        stats: the 12 COCOeval summary numbers, in pycocotools order.
        entries: log entries (including duplicates).
        images: evaluated images (distinct ``qsl_idx``).
        no_results: evaluated images whose response had no detection.
        duplicates: ignored duplicate entries.
        mismatched_records: records whose ``image_idx`` differed from ``qsl_idx``.
        wrapped_labels: records with a negative label (padding, usually -1) that the inverse
            map turned into the last categories, as the official script's indexing does.
        detections: the COCO result records handed to pycocotools (what the
            official script writes to ``openimages-results.json``).
        transcript: ``(line, verbose_only)`` pairs: everything the official
            script prints, in order, including pycocotools' own progress lines
            (whose ``t=...s`` timings vary between runs).
    """

    mAP: float
    stats: tuple[float, ...]
    entries: int
    images: int
    no_results: int
    duplicates: int
    mismatched_records: int
    wrapped_labels: int
    detections: list[dict[str, Any]] = field(repr=False, compare=False)
    transcript: tuple[tuple[str, bool], ...] = field(repr=False, compare=False)


def _captured(lines: list[tuple[str, bool]], fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a pycocotools call, keeping what it prints for the transcript.

    pycocotools prints progress with ``print``; capturing it keeps the test
    output clean and lets :func:`format_openimages` reproduce the official
    stdout (where those lines are interleaved with the script's own).
    """
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        value = fn(*args, **kwargs)
    lines.extend((line, False) for line in buf.getvalue().splitlines())
    return value


def openimages_map(
    log_path: PathLike,
    openimages_dir: PathLike | None = None,
    *,
    annotations_file: PathLike | None = None,
    use_inv_map: bool = False,
    output_file: PathLike | None = None,
) -> DetectionResult:
    """Compute the OpenImages-MLPerf mAP of a RetinaNet accuracy log.

    Args:
        log_path: LoadGen ``mlperf_log_accuracy.json``.
        openimages_dir: dataset root; the annotations are read from
            ``<dir>/annotations/openimages-mlperf.json`` unless
            ``annotations_file`` is given (the official script's
            ``DATASET_ANNOTATIONS_FILE_PATH``).
        use_inv_map: the model's labels are 1-based positions in the category
            list instead of category ids (``--use-inv-map``).
        output_file: if given, write the COCO detections there exactly as the
            official script writes ``openimages-results.json``.

    Raises:
        AccuracyLogError: bad or empty log, ``qsl_idx`` outside the image
            list, a response whose length is not a multiple of 7 floats, or a
            label outside the inverse map.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if annotations_file is None:
        if openimages_dir is None:
            raise ValueError("give openimages_dir or annotations_file")
        annotations_file = os.path.join(os.fspath(openimages_dir), ANNOTATIONS_RELPATH)
    ann_name = os.fspath(annotations_file)
    if not os.path.isfile(ann_name):
        raise AccuracyLogError(f"{ann_name}: annotation file not found")
    image_root = os.path.join(os.fspath(openimages_dir or ""), "validation", "data")

    name = os.fspath(log_path)
    entries = read_accuracy_log(name)
    if not entries:
        # The official script dies inside pycocotools (IndexError) here.
        raise AccuracyLogError(f"{name}: accuracy log has no entries")

    lines: list[tuple[str, bool]] = []
    gt = _captured(lines, COCO, ann_name)
    images = gt.dataset["images"]
    inv_map = [0] + list(gt.getCatIds()) if use_inv_map else None

    detections: list[dict[str, Any]] = []
    image_ids: set[int] = set()
    unique = dedupe(entries, keep="first")
    no_results = mismatched = wrapped = 0
    for idx, entry in unique.items():
        if not 0 <= idx < len(images):
            raise AccuracyLogError(
                f"{name}: seq_id {entry.seq_id} has qsl_idx {idx}, outside the "
                f"{len(images)} images of {ann_name}"
            )
        image = images[idx]
        data = decode(entry, np.float32, source=name)
        if len(data) < 7:
            image_ids.add(image["id"])  # evaluated, with no detections
            no_results += 1
            lines.append((f"no results: {image.get('coco_url')}, idx={idx}", True))
            continue
        if len(data) % 7:
            raise AccuracyLogError(
                f"{name}: seq_id {entry.seq_id} (qsl_idx {idx}) holds {len(data)} "
                "floats, not a multiple of 7 [image_idx, ymin, xmin, ymax, xmax, score, label]"
            )
        recs = data.reshape(-1, 7)
        # float32 on purpose: the official script scales numpy float32 scalars,
        # and the rounding shows in the IoUs.
        h = np.float32(image["height"])
        w = np.float32(image["width"])
        ymin, xmin, ymax, xmax = recs[:, 1] * h, recs[:, 2] * w, recs[:, 3] * h, recs[:, 4] * w
        loc = os.path.join(image_root, image["file_name"])
        for r in range(recs.shape[0]):
            image_idx = int(recs[r, 0])
            if image_idx != idx:
                mismatched += 1
                lines.append((f"ERROR: loadgen({idx}) and payload({image_idx}) disagree on image_idx", False))
            label = int(recs[r, 6])
            if inv_map is not None:
                if not -len(inv_map) <= label < len(inv_map):
                    # The official script dies with an IndexError here.
                    raise AccuracyLogError(
                        f"{name}: seq_id {entry.seq_id} (qsl_idx {idx}) has label {label}, "
                        f"outside the inverse map of {len(inv_map) - 1} categories"
                    )
                if label < 0:
                    # Python indexing in the official script: -1 (a padding detection) becomes the
                    # last category and is scored as a detection of it. Reproduced, and counted.
                    wrapped += 1
                label = inv_map[label]
            detections.append(
                {
                    "image_id": image["id"],
                    "image_loc": loc,
                    "category_id": label,
                    "bbox": [
                        float(xmin[r]),
                        float(ymin[r]),
                        float(xmax[r] - xmin[r]),
                        float(ymax[r] - ymin[r]),
                    ],
                    "score": float(recs[r, 5]),
                }
            )
        image_ids.add(image["id"])

    if output_file is not None:
        with open(output_file, "w") as fp:
            json.dump(detections, fp, sort_keys=True, indent=4)

    if detections:
        # loadRes mutates its input (adds id/area); give it copies.
        dt = _captured(lines, gt.loadRes, [dict(d, bbox=list(d["bbox"])) for d in detections])
    else:
        # pycocotools cannot load an empty result list; an empty result set
        # scores 0 AP for every category with GT, which is the right answer.
        dt = COCO()
        dt.dataset = {"images": list(images), "categories": list(gt.dataset["categories"]), "annotations": []}
        _captured(lines, dt.createIndex)
    ev = COCOeval(gt, dt, iouType="bbox")
    ev.params.imgIds = sorted(image_ids)
    _captured(lines, ev.evaluate)
    _captured(lines, ev.accumulate)
    _captured(lines, ev.summarize)

    stats = tuple(float(s) for s in ev.stats)
    lines.append((f"mAP={100.0 * stats[0]:.3f}%", False))
    lines.extend(
        [
            (f"found {len(entries)} results", True),
            (f"found {len(image_ids)} images", True),
            (f"found {no_results} images with no results", True),
            (f"ignored {len(entries) - len(unique)} dupes", True),
        ]
    )
    return DetectionResult(
        mAP=stats[0],
        stats=stats,
        entries=len(entries),
        images=len(image_ids),
        no_results=no_results,
        duplicates=len(entries) - len(unique),
        mismatched_records=mismatched,
        wrapped_labels=wrapped,
        detections=detections,
        transcript=tuple(lines),
    )


def format_openimages(result: DetectionResult, *, verbose: bool = False) -> list[str]:
    """The lines the official script prints (``--verbose`` adds its extras).

    pycocotools' ``Done (t=...s)`` lines carry timings, so this is byte-exact
    only up to those numbers.
    """
    return [line for line, verbose_only in result.transcript if verbose or not verbose_only]
