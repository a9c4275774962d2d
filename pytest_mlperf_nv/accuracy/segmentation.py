"""KiTS19 mean DICE (3D-UNet), matching ``accuracy_kits.py``.

Semantics reproduced:

* the log must hold exactly one entry per case (the official script asserts
  this; duplicates are an error, not deduped);
* a response is the predicted label volume in C order with the case's
  ``image_shape`` (``(1, D, H, W)``) as ``output_dtype``; the official script
  writes it to NIfTI and reads it back with ``get_fdata().astype(uint8)``, so
  values are converted through float64 to uint8 here too (floats truncate);
* per case and class c in (kidney=1, tumour=2):
  ``(2|P=c & G=c| + 1e-6) / (|P=c| + |G=c| + 1e-6)``; composite = mean of the
  two; the summary row is the column mean over cases in ``file_list`` order;
* output: ``Accuracy: mean = <composite .5f>, kidney = <.4f>, tumor = <.4f>``.

pandas is not needed; nibabel (for the ground-truth NIfTI files) is imported
lazily.  The prediction NIfTI files the official script writes are not written
(they are an intermediate, not part of ``accuracy.txt``).
"""

from __future__ import annotations

import io
import json
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .log import AccuracyLogError, PathLike, decode, read_accuracy_log

__all__ = [
    "CaseDice",
    "KitsResult",
    "format_kits",
    "format_kits_summary_csv",
    "kits_dice",
    "read_preprocessed_files",
]

SMOOTH = 1e-6  # numerator and denominator smoothing of the official DICE
CLASSES = (1, 2)  # kidney, tumour (0 is background and not scored)


@dataclass(frozen=True)
class CaseDice:
    """DICE of one case."""

    case: str
    kidney: float
    tumor: float
    composite: float


@dataclass(frozen=True)
class KitsResult:
    """Outcome of :func:`kits_dice`: per-case scores and their column means."""

    mean: float  # mean composite: the number the checker compares
    kidney: float
    tumor: float
    cases: tuple[CaseDice, ...]


class _PlainUnpickler(pickle.Unpickler):
    """Unpickler for ``preprocessed_files.pkl`` that cannot run arbitrary code.

    The file is plain dicts/lists/tuples, possibly with numpy arrays for the
    affine; anything else is refused because pickle can execute code.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("builtins", "tuple"),
        ("builtins", "list"),
        ("builtins", "dict"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def read_preprocessed_files(preprocessed_data_dir: PathLike) -> tuple[list[str], dict[str, Any]]:
    """``(file_list, cases)`` from ``preprocessed_files.pkl`` (or ``.json``).

    Reads the reference's layout (``file_list``) and NVIDIA's
    (``$MLPERF_SCRATCH_PATH/preprocessed_data/KiTS19/reference``, ``eval_list``).

    The pickle is what the official script reads; the JSON twin is used when
    there is no pickle.
    """
    root = os.fspath(preprocessed_data_dir)
    pkl = os.path.join(root, "preprocessed_files.pkl")
    jsn = os.path.join(root, "preprocessed_files.json")
    try:
        if os.path.isfile(pkl):
            with open(pkl, "rb") as f:
                content = _PlainUnpickler(io.BytesIO(f.read())).load()
        elif os.path.isfile(jsn):
            with open(jsn, encoding="utf-8") as f:
                content = json.load(f)
        else:
            raise AccuracyLogError(f"{root}: no preprocessed_files.pkl or preprocessed_files.json")
        # The reference names the case list 'file_list'; NVIDIA's preprocessing 'eval_list'.
        key = "file_list" if "file_list" in content else "eval_list"
        return list(content[key]), dict(content["cases"])
    except (pickle.UnpicklingError, json.JSONDecodeError, KeyError, TypeError, EOFError) as exc:
        raise AccuracyLogError(f"{root}: unreadable preprocessed_files metadata: {exc!r}") from None


def _dice(prediction: npt.NDArray[np.uint8], target: npt.NDArray[np.uint8]) -> tuple[float, float]:
    """Kidney and tumour DICE, with the official smoothing, in float64."""
    scores = []
    for c in CLASSES:
        p = prediction == c
        t = target == c
        inter = float(np.count_nonzero(p & t))
        scores.append(
            (2.0 * inter + SMOOTH) / (float(np.count_nonzero(t)) + float(np.count_nonzero(p)) + SMOOTH)
        )
    return scores[0], scores[1]


def _as_labels(values: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    # Mirrors the NIfTI round trip: float64, then a C cast to uint8.
    with np.errstate(invalid="ignore"):
        return np.asarray(values, dtype=np.float64).astype(np.uint8)


def kits_dice(
    log_path: PathLike,
    preprocessed_data_dir: PathLike,
    *,
    output_dtype: npt.DTypeLike = "uint8",
) -> KitsResult:
    """Score a 3D-UNet accuracy log against the KiTS19 ground truth.

    Args:
        log_path: LoadGen ``mlperf_log_accuracy.json``.
        preprocessed_data_dir: holds ``preprocessed_files.pkl`` (case list and
            shapes) and ``nifti/<case>/segmentation.nii.gz``.
        output_dtype: element type of the responses (official default uint8).

    Raises:
        AccuracyLogError: entry count differs from the number of cases, a
            duplicate or out-of-range ``qsl_idx``, a response of the wrong size
            for its case, a label outside 0..2, or a missing/mismatched
            ground-truth file.
    """
    import nibabel as nib

    name = os.fspath(log_path)
    root = os.fspath(preprocessed_data_dir)
    file_list, aux = read_preprocessed_files(root)
    entries = read_accuracy_log(name)
    if len(entries) != len(aux):
        raise AccuracyLogError(
            f"{name}: has {len(entries)} entries, the validation set has {len(aux)} cases; "
            "3D-UNet needs exactly one entry per case"
        )
    predictions: dict[str, npt.NDArray[np.uint8]] = {}
    for e in entries:
        if not 0 <= e.qsl_idx < len(file_list):
            raise AccuracyLogError(
                f"{name}: seq_id {e.seq_id} has qsl_idx {e.qsl_idx}, outside the {len(file_list)} cases"
            )
        case = file_list[e.qsl_idx]
        if case in predictions:
            raise AccuracyLogError(
                f"{name}: qsl_idx {e.qsl_idx} ({case}) is logged more than once "
                f"(seq_id {e.seq_id}); 3D-UNet needs exactly one entry per case"
            )
        shape = tuple(int(s) for s in aux[case]["image_shape"])
        values = decode(e, output_dtype, source=name)
        if values.size != int(np.prod(shape)):
            raise AccuracyLogError(
                f"{name}: seq_id {e.seq_id} ({case}) holds {values.size} values, "
                f"shape {shape} needs {int(np.prod(shape))}"
            )
        volume = values.reshape(shape)
        if volume.ndim == 4 and volume.shape[0] == 1:
            volume = volume[0]  # the batch axis the official script squeezes
        predictions[case] = _as_labels(volume)

    scores: list[CaseDice] = []
    for case in file_list:
        if case not in predictions:
            continue  # only reachable if file_list and cases disagree
        gt_path = os.path.join(root, "nifti", case, "segmentation.nii.gz")
        try:
            target = _as_labels(nib.load(gt_path).get_fdata())  # type: ignore[attr-defined]
        except FileNotFoundError:
            raise AccuracyLogError(f"{gt_path}: ground truth not found") from None
        pred = predictions[case]
        if target.shape != pred.shape:
            raise AccuracyLogError(
                f"{case}: ground truth shape {target.shape} != prediction shape {pred.shape}"
            )
        if pred.max(initial=0) > 2:
            raise AccuracyLogError(
                f"{name}: {case} prediction holds label {int(pred.max())}; KiTS19 labels are 0, 1, 2"
            )
        kidney, tumor = _dice(pred, target)
        scores.append(CaseDice(case, kidney, tumor, float(np.mean([kidney, tumor]))))

    if not scores:
        raise AccuracyLogError(f"{name}: no cases to score")
    columns = np.array([[s.kidney, s.tumor, s.composite] for s in scores], dtype=np.float64)
    # Column-wise contiguous sums, as pandas' DataFrame.mean does.
    kid_mean, tum_mean, comp_mean = (float(np.mean(np.ascontiguousarray(col))) for col in columns.T)
    return KitsResult(mean=comp_mean, kidney=kid_mean, tumor=tum_mean, cases=tuple(scores))


def format_kits(result: KitsResult) -> list[str]:
    """The lines ``accuracy_kits.py`` prints."""
    return [
        "Loading necessary metadata...",
        "Loading loadgen accuracy log...",
        "Running postprocessing...",
        "Saving predictions...",
        "Running evaluation...",
        "Processing evaluation summary...",
        f"Accuracy: mean = {result.mean:.5f}, kidney = {result.kidney:.4f}, tumor = {result.tumor:.4f}",
        "Done!",
    ]


def format_kits_summary_csv(result: KitsResult) -> str:
    """The ``summary.csv`` the official script writes (full-precision floats)."""
    rows: Sequence[tuple[str, float, float, float]] = [
        *((c.case, c.kidney, c.tumor, c.composite) for c in result.cases),
        ("mean", result.kidney, result.tumor, result.mean),
    ]
    return "case,kidney,tumor,composite\n" + "".join(f"{case},{k!r},{t!r},{m!r}\n" for case, k, t, m in rows)
