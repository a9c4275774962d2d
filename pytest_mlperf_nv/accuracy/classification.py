"""ImageNet top-1 accuracy (ResNet50), matching ``accuracy-imagenet.py``.

Semantics of the official script that this reproduces:

* only the first decoded element of a response is the prediction, converted
  with ``int()`` (so float predictions truncate toward zero);
* the first entry of a repeated ``qsl_idx`` counts, later ones are ignored;
* ``total`` is the number of distinct ``qsl_idx`` in the log, not the number of
  labels (a partial log is scored on what it contains - use ``expected_count``
  to insist on a full run);
* the label on line N of ``val_map.txt`` belongs to ``qsl_idx`` N.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .log import AccuracyLogError, PathLike, decode, distinct_entries

__all__ = [
    "Top1Result",
    "format_imagenet",
    "format_imagenet_verbose",
    "read_val_map",
    "read_val_map_entries",
    "top1",
]


@dataclass(frozen=True)
class Top1Result:
    """Outcome of :func:`top1`.

    Attributes:
        good: number of distinct samples predicted correctly.
        total: number of distinct ``qsl_idx`` in the log.
        accuracy: ``good / total`` as a fraction (0..1).
        duplicates: log entries ignored because their ``qsl_idx`` was seen before.
        missing: labels (dataset samples) that never appear in the log.
        wrong: ``(qsl_idx, label, prediction)`` of each wrong sample in log
            order; what the official script prints with ``--verbose``.
    """

    good: int
    total: int
    accuracy: float
    duplicates: int
    missing: int
    wrong: tuple[tuple[int, int, int], ...] = field(default=(), repr=False, compare=False)


def read_val_map_entries(path: PathLike) -> list[tuple[str, int]]:
    """Read an ImageNet ``val_map.txt`` as ``(image name, label)`` pairs.

    Blank lines are skipped (the official script would crash on them).
    """
    name = os.fspath(path)
    pairs: list[tuple[str, int]] = []
    try:
        with open(name, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                cols = line.split()
                if not cols:
                    continue
                try:
                    pairs.append((cols[0], int(cols[1])))
                except (IndexError, ValueError):
                    raise AccuracyLogError(
                        f"{name}:{lineno}: expected '<image name> <integer label>', "
                        f"got {line.rstrip()!r:.120}"
                    ) from None
    except FileNotFoundError:
        raise AccuracyLogError(f"{name}: val_map file not found") from None
    return pairs


def read_val_map(path: PathLike) -> list[int]:
    """Read the labels of an ImageNet ``val_map.txt`` (lines ``<name> <label>``).

    Element N is the label of ``qsl_idx`` N.
    """
    return [label for _, label in read_val_map_entries(path)]


def top1(
    log_path: PathLike,
    labels: Sequence[int] | npt.NDArray[np.integer],
    *,
    dtype: npt.DTypeLike = "int32",
    label_offset: int = 0,
    expected_count: int | None = None,
) -> Top1Result:
    """Score a classification accuracy log against ``labels``.

    Args:
        log_path: LoadGen ``mlperf_log_accuracy.json``.
        labels: label of each ``qsl_idx`` (e.g. from :func:`read_val_map`).
        dtype: element type of the responses (official choices: float32, int32,
            int64).
        label_offset: added to each prediction before comparing. Pass ``-1``
            for TensorFlow 1001-class models, whose class 0 is "background";
            the official script applies no correction (0).
        expected_count: if given, the number of distinct ``qsl_idx`` in the log
            must equal it (e.g. 50000 for a full ImageNet accuracy run).

    Raises:
        AccuracyLogError: bad log, empty log, a response with no elements, a
            ``qsl_idx`` outside ``labels``, or the ``expected_count`` mismatch.
    """
    name = os.fspath(log_path)
    entries, unique = distinct_entries(name, expected_count)
    n_labels = len(labels)

    good = 0
    wrong: list[tuple[int, int, int]] = []
    for idx, entry in unique.items():
        if not 0 <= idx < n_labels:
            raise AccuracyLogError(
                f"{name}: seq_id {entry.seq_id} has qsl_idx {idx}, outside the {n_labels} labels given"
            )
        values = decode(entry, dtype, source=name)
        if values.size == 0:
            raise AccuracyLogError(f"{name}: seq_id {entry.seq_id} (qsl_idx {idx}) has an empty response")
        try:
            found = int(values[0]) + label_offset
        except (ValueError, OverflowError):  # NaN / inf from a float model output
            raise AccuracyLogError(
                f"{name}: seq_id {entry.seq_id} (qsl_idx {idx}) predicts {values[0]!r}, not a class"
            ) from None
        label = int(labels[idx])
        if found == label:
            good += 1
        else:
            wrong.append((idx, label, found))

    total = len(unique)
    return Top1Result(
        good=good,
        total=total,
        accuracy=good / total,
        duplicates=len(entries) - total,
        missing=n_labels - total,
        wrong=tuple(wrong),
    )


def format_imagenet(result: Top1Result) -> str:
    """The official summary line, e.g. ``accuracy=76.456%, good=38228, total=50000``."""
    return f"accuracy={100.0 * result.good / result.total:.3f}%, good={result.good}, total={result.total}"


def format_imagenet_verbose(result: Top1Result, image_names: Sequence[str]) -> list[str]:
    """The lines ``accuracy-imagenet.py --verbose`` prints (without newlines).

    ``image_names[i]`` is the file name of ``qsl_idx`` i (first column of
    ``val_map.txt``).
    """
    lines = [f"{image_names[idx]}, expected: {label}, found {found}" for idx, label, found in result.wrong]
    lines.append(format_imagenet(result))
    lines.append(f"found and ignored {result.duplicates} dupes")
    return lines
