"""Reading LoadGen's ``mlperf_log_accuracy.json``.

LoadGen writes one JSON array with one object per completed sample::

    [
    { "seq_id" : 0, "qsl_idx" : 48, "data" : "71000000" },
    { "seq_id" : 1, "qsl_idx" : 8, "data" : "DE010000" }
    ]

``data`` is the raw response buffer as upper-case hex (little-endian, no
separators, ``""`` for an empty response).  Entries are in completion order and
a ``qsl_idx`` may appear more than once (LoadGen may issue a sample twice), so
every evaluator dedupes; which duplicate wins differs between the official
scripts (see :func:`dedupe`).

Every problem with the file is reported as :class:`AccuracyLogError` naming the
file and, where it can be known, the entry, because the typical failure is a
harness crash that left a half-written log and the user needs to see that
quickly rather than a bare ``JSONDecodeError``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, Union

import numpy as np
import numpy.typing as npt

__all__ = [
    "AccuracyEntry",
    "AccuracyLogError",
    "decode",
    "dedupe",
    "read_accuracy_log",
]

PathLike = Union[str, "os.PathLike[str]"]
DTypeLike = npt.DTypeLike


class AccuracyLogError(ValueError):
    """The accuracy log (or a dataset file that goes with it) is unusable."""


@dataclass(frozen=True, slots=True)
class AccuracyEntry:
    """One logged response.

    Attributes:
        seq_id: LoadGen's sequence id (completion order).
        qsl_idx: index of the sample in the query sample library.
        data: the raw response bytes (already converted from hex).
    """

    seq_id: int
    qsl_idx: int
    data: bytes


def _is_int(value: object) -> bool:
    # bool is a subclass of int; a JSON ``true`` is never a valid index.
    return isinstance(value, int) and not isinstance(value, bool)


def read_accuracy_log(path: PathLike) -> list[AccuracyEntry]:
    """Parse a LoadGen accuracy log into entries, in file (completion) order.

    Raises:
        AccuracyLogError: the file is missing, unreadable, not valid JSON (the
            message says so when the closing ``]`` is missing, i.e. the writer
            was killed), its root is not a list, an entry lacks ``seq_id`` /
            ``qsl_idx`` / ``data`` or has the wrong types, or ``data`` is not
            valid hex.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise AccuracyLogError(f"{name}: accuracy log not found") from None
    except OSError as exc:
        raise AccuracyLogError(f"{name}: cannot read accuracy log: {exc}") from exc

    try:
        root = json.loads(raw)
    except RecursionError:
        # Thousands of nested brackets: no log LoadGen writes; json gives up on the depth.
        raise AccuracyLogError(f"{name}: not an accuracy log (JSON nested too deeply)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        stripped = raw.rstrip()
        if not stripped:
            raise AccuracyLogError(
                f"{name}: accuracy log is empty (0 bytes of JSON); "
                "it looks truncated - LoadGen always writes at least '[' and ']'"
            ) from None
        where = (
            f"line {exc.lineno} column {exc.colno}"
            if isinstance(exc, json.JSONDecodeError)
            else "bytes are not UTF-8"
        )
        if not stripped.endswith(b"]"):
            raise AccuracyLogError(
                f"{name}: accuracy log looks truncated (no closing ']'; "
                f"the writer probably died before LoadGen finished): "
                f"invalid JSON at {where}"
            ) from None
        raise AccuracyLogError(f"{name}: accuracy log is not valid JSON: {exc}") from None

    if not isinstance(root, list):
        raise AccuracyLogError(
            f"{name}: accuracy log root must be a JSON list of entries, got {type(root).__name__}"
        )

    entries: list[AccuracyEntry] = []
    append = entries.append
    fromhex = bytes.fromhex
    for i, item in enumerate(root):
        # The fast path stays inline (no helper call) because real logs hold
        # tens of thousands of entries.
        try:
            seq_id = item["seq_id"]
            qsl_idx = item["qsl_idx"]
            hexdata = item["data"]
        except (KeyError, TypeError):
            raise _entry_error(name, i, item) from None
        if not (_is_int(seq_id) and _is_int(qsl_idx) and isinstance(hexdata, str)):
            raise AccuracyLogError(
                f"{name}: entry {i} (seq_id {seq_id!r}): seq_id and qsl_idx must be "
                f"integers and data a hex string, got {item!r:.200}"
            )
        try:
            data = fromhex(hexdata)
        except ValueError:
            raise AccuracyLogError(
                f"{name}: entry {i} (seq_id {seq_id}, qsl_idx {qsl_idx}): "
                f"'data' is not valid hex: {hexdata[:60]!r}" + ("..." if len(hexdata) > 60 else "")
            ) from None
        append(AccuracyEntry(seq_id, qsl_idx, data))
    return entries


def _entry_error(name: str, index: int, item: object) -> AccuracyLogError:
    if isinstance(item, Mapping):
        missing = [k for k in ("seq_id", "qsl_idx", "data") if k not in item]
        seq = f" (seq_id {item['seq_id']})" if "seq_id" in item else ""
        return AccuracyLogError(f"{name}: entry {index}{seq} is missing key(s) {', '.join(missing)}")
    return AccuracyLogError(f"{name}: entry {index} must be a JSON object, got {type(item).__name__}")


def _le_dtype(dtype: DTypeLike) -> np.dtype:
    # LoadGen logs the bytes the SUT produced; every MLPerf harness is
    # little-endian, so interpret multi-byte types as little-endian explicitly.
    dt = np.dtype(dtype)
    if dt.byteorder == "=":
        dt = dt.newbyteorder("<")
    return dt


def decode(
    entry_or_bytes: AccuracyEntry | bytes | bytearray | memoryview,
    dtype: DTypeLike,
    *,
    source: PathLike | None = None,
) -> npt.NDArray:
    """Interpret a response as a flat array of ``dtype`` (little-endian).

    The returned array is a read-only view on the entry's bytes.

    Args:
        entry_or_bytes: an :class:`AccuracyEntry` or its raw bytes.
        dtype: numpy dtype (``"int32"``, ``np.float16``, ...).
        source: file name used in error messages, if known.

    Raises:
        AccuracyLogError: the byte count is not a multiple of the dtype size.
    """
    dt = _le_dtype(dtype)
    if isinstance(entry_or_bytes, AccuracyEntry):
        data = entry_or_bytes.data
        what = f"entry seq_id {entry_or_bytes.seq_id} (qsl_idx {entry_or_bytes.qsl_idx})"
    else:
        data = bytes(entry_or_bytes)
        what = "response"
    if len(data) % dt.itemsize:
        prefix = f"{os.fspath(source)}: " if source is not None else ""
        raise AccuracyLogError(
            f"{prefix}{what} holds {len(data)} bytes, not a multiple of "
            f"{dt.itemsize} ({dt.name}); wrong dtype for this log?"
        )
    return np.frombuffer(data, dtype=dt)


def dedupe(
    entries: Iterable[AccuracyEntry],
    keep: Literal["first", "last"] = "first",
) -> dict[int, AccuracyEntry]:
    """Map ``qsl_idx`` to one entry.

    ``keep="first"`` keeps the earliest logged entry, as the imagenet,
    openimages, dlrm and kits scripts do; ``keep="last"`` keeps the latest, as
    the bert (SQuAD) script does because it builds a dict by assignment.

    The dict's iteration order is the order in which each ``qsl_idx`` was
    *first* seen in the log in both modes (the dlrm script relies on log order).
    """
    if keep not in ("first", "last"):
        raise ValueError(f"keep must be 'first' or 'last', got {keep!r}")
    out: dict[int, AccuracyEntry] = {}
    if keep == "first":
        for e in entries:
            if e.qsl_idx not in out:
                out[e.qsl_idx] = e
    else:
        for e in entries:
            out[e.qsl_idx] = e  # reassignment keeps the first-seen position
    return out


def distinct_entries(name: str, expected_count: int | None = None
                     ) -> tuple[list[AccuracyEntry], dict[int, AccuracyEntry]]:
    """The log's entries, and the first entry of each ``qsl_idx`` (``dedupe(keep="first")``).

    Raises AccuracyLogError when ``expected_count`` is given and the distinct samples are not
    that many, or when the log has no entries (where the official scripts die on a division).
    """
    entries = read_accuracy_log(name)
    unique = dedupe(entries, keep="first")
    if expected_count is not None and len(unique) != expected_count:
        raise AccuracyLogError(
            f"{name}: expected {expected_count} distinct samples, "
            f"log has {len(unique)} (from {len(entries)} entries)"
        )
    if not unique:
        raise AccuracyLogError(f"{name}: accuracy log has no entries")
    return entries, unique
