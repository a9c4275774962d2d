"""Hash and truncate an accuracy log, as MLCommons' ``truncate_accuracy_log.py`` does.

For one ``accuracy/`` directory (mlcommons/inference: tools/submission/truncate_accuracy_log.py,
``truncate_results_dir`` and ``truncate_file``):

* ``accuracy.txt`` already has a ``hash=`` line and the log is under 10 KiB: nothing to do (the
  official skip condition, which makes a second pass a no-op);
* otherwise the SHA-256 of the full ``mlperf_log_accuracy.json`` is appended to ``accuracy.txt``
  as ``"\\nhash=<hex>\\n"``, and the log is cut to its first 4096 bytes, ``"\\n\\n...\\n\\n"`` and its
  last 4096 bytes. A log under 4096 bytes stays as it is (its hash is still written).

The official script reads and writes text; LoadGen's logs are ASCII, for which that is the same as
the byte-wise cut here. Run it on the tree's copies only: it refuses a plugin run directory (one
with ``result.json`` or ``run_spec.json``), because the compliance audits need the full logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..provision.download import file_sha256 as sha256_file
from .rules import (
    ACCURACY_LOG,
    ACCURACY_TXT,
    HASH_LINE,
    MAX_ACCURACY_LOG_SIZE,
    TRUNCATION_MARK,
    VIEWABLE_SIZE,
)

#: files that mark a directory as one of the plugin's run directories (rundir.py)
_RUN_DIR_MARKERS = ("result.json", "run_spec.json")
#: size of a log the official cut produced from a log of at least 4096 bytes
TRUNCATED_SIZE = 2 * VIEWABLE_SIZE + len(TRUNCATION_MARK)


class TruncationError(Exception):
    """The accuracy directory cannot be hashed and truncated (with what to do about it)."""


@dataclass(frozen=True)
class TruncationResult:
    """What :func:`hash_and_truncate` did to one accuracy directory."""

    accuracy_dir: Path
    action: str  # "truncated" | "hashed" (log under 4096 B: hash written, log kept) | "skipped"
    hash: str | None  # the hash accuracy.txt carries now (the first hash= line)
    original_size: int  # bytes of the log before
    size: int  # bytes of the log after

    def as_dict(self) -> dict[str, object]:
        return {"accuracy_dir": str(self.accuracy_dir), "action": self.action, "hash": self.hash,
                "original_size": self.original_size, "size": self.size}


def read_hash(accuracy_txt: Path) -> str | None:
    """The first ``hash=`` line's value, as the truncation script and the checker read it."""
    try:
        text = accuracy_txt.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    for line in text.splitlines():
        match = HASH_LINE.match(line)
        if match:
            return match.group(1)
    return None


def read_hashes(accuracy_txt: Path) -> list[str]:
    """Every ``hash=`` value of ``accuracy.txt``, in order."""
    try:
        text = accuracy_txt.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return [m.group(1) for m in map(HASH_LINE.match, text.splitlines()) if m]


def truncated_bytes(data: bytes) -> bytes:
    """The official cut of a log's bytes: unchanged below 4096 bytes, else head + mark + tail."""
    if len(data) < VIEWABLE_SIZE:
        return data
    return data[:VIEWABLE_SIZE] + TRUNCATION_MARK + data[len(data) - VIEWABLE_SIZE:]


def looks_truncated(data: bytes) -> bool:
    """Whether ``data`` has the exact shape the official cut produces from a log of >= 4096 bytes."""
    return len(data) == TRUNCATED_SIZE and data[VIEWABLE_SIZE:VIEWABLE_SIZE + len(TRUNCATION_MARK)] == \
        TRUNCATION_MARK


def hash_and_truncate(accuracy_dir: Path, *, create_accuracy_txt: bool = False) -> TruncationResult:
    """Hash ``accuracy_dir/mlperf_log_accuracy.json`` into ``accuracy.txt``, then truncate it.

    Idempotent. ``create_accuracy_txt``: write ``accuracy.txt`` holding only the hash when there is
    none (a compliance ``TEST01/accuracy`` dir); otherwise a missing ``accuracy.txt`` is an error, as
    in the official script ("accuracy.txt missing, generate to continue").

    Raises:
        TruncationError: no accuracy log, no accuracy.txt, or ``accuracy_dir`` is a run directory.
    """
    accuracy_dir = Path(accuracy_dir)
    log = accuracy_dir / ACCURACY_LOG
    txt = accuracy_dir / ACCURACY_TXT
    markers = [m for m in _RUN_DIR_MARKERS if (accuracy_dir / m).exists()]
    if markers:
        raise TruncationError(
            f"{accuracy_dir} is a run directory (it has {', '.join(markers)}): truncate only the copies in "
            "a submission tree; the compliance audits need the full accuracy logs")
    if not log.is_file():
        raise TruncationError(f"{log} is missing: copy the run's {ACCURACY_LOG} there first")
    if not txt.is_file() and not create_accuracy_txt:
        raise TruncationError(f"{txt} is missing: write the accuracy script's output there first "
                              "(the hash is appended to it)")
    size = log.stat().st_size
    existing = read_hash(txt)
    if existing and size < MAX_ACCURACY_LOG_SIZE:
        return TruncationResult(accuracy_dir, "skipped", existing, size, size)
    digest = sha256_file(log)
    if txt.is_file():
        with open(txt, "a", encoding="utf-8") as f:
            f.write(f"\nhash={digest}\n")
    else:
        txt.write_text(f"hash={digest}\n", encoding="utf-8")
    if size < VIEWABLE_SIZE:
        return TruncationResult(accuracy_dir, "hashed", existing or digest, size, size)
    data = log.read_bytes()
    cut = truncated_bytes(data)
    tmp = log.with_name(log.name + ".truncating")
    tmp.write_bytes(cut)
    tmp.replace(log)
    return TruncationResult(accuracy_dir, "truncated", existing or digest, size, len(cut))


def verify_truncation(tree_log: Path, accuracy_txt: Path, original_log: Path) -> list[tuple[str, str]]:
    """Problems of a tree's (truncated) log against the full original, as (kind, message) pairs.

    Kinds: ``missing-hash`` (no hash= line), ``bad-hash`` (it is not the original's SHA-256),
    ``bad-truncation`` (the tree's log is neither the original nor its official cut).
    """
    problems = []
    digest = sha256_file(original_log)
    found = read_hash(accuracy_txt)
    if found is None:
        problems.append(("missing-hash", f"{accuracy_txt} has no hash= line"))
    elif found != digest:
        problems.append(("bad-hash", f"{accuracy_txt} says hash={found}, but the sha256 of {original_log} is "
                                     f"{digest}"))
    full = original_log.read_bytes()
    expected = truncated_bytes(full)
    actual = tree_log.read_bytes()
    if actual != expected and actual != full:
        problems.append(("bad-truncation", f"{tree_log} ({len(actual)} B) is neither {original_log} nor its "
                                           f"official cut ({len(expected)} B)"))
    return problems
