"""Writing and removing files only inside the output and cache dirs, whole or not at all.

Every path the plugin builds from names (suite stems, benchmark ids, submitters, systems,
manifest entries) goes through ``inside`` before anything is written or removed there:
a name that escapes its root (``..``, an absolute path, a symlink pointing out) is an
``OutsideError``, never a write or a delete somewhere else.

Writes are atomic (a temporary file in the same directory, then a rename), and the errors a
full, read-only or foreign file system gives (ENOSPC, EDQUOT, EROFS, EACCES, EPERM) become
an ``OutputError`` that names the directory, what the system said and the space needed,
with nothing half-written left behind.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import OutputError, OutsideError

#: errno -> what it means for the directory, and what to do
_DISK_ERRORS = {
    errno.ENOSPC: ("no space is left on the device", "free space there, or choose another directory"),
    errno.EDQUOT: ("the disk quota is exceeded", "free space within the quota, or choose another directory"),
    errno.EROFS: ("the file system is read-only", "choose a writable directory"),
    errno.EACCES: ("permission is denied", "choose a directory you may write to, or change its permissions"),
    errno.EPERM: ("the operation is not permitted", "choose a directory you may write to"),
}
DISK_ERRNOS = frozenset(_DISK_ERRORS)


def inside(root: Path, path: Path | str, *, allow_root: bool = False) -> Path:
    """``path`` resolved, after checking it stays within ``root`` (symlinks followed); else OutsideError.

    ``path`` may be relative (to ``root``) or absolute. The root itself is refused unless
    ``allow_root``: nothing removes or replaces a whole output dir by accident.
    """
    root_resolved = Path(root).resolve()
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = Path(root) / candidate
    try:
        resolved = candidate.resolve()
    except (OSError, ValueError, RuntimeError) as exc:  # a NUL byte, a symlink loop
        raise OutsideError(f"{_shown(path)} cannot be used under {root}: {exc}") from None
    if resolved == root_resolved:
        if allow_root:
            return resolved
        raise OutsideError(f"{_shown(path)} is {root} itself, not a path inside it")
    if root_resolved not in resolved.parents:
        raise OutsideError(f"{_shown(path)} resolves to {resolved}, outside {root}; nothing is written or "
                           "removed there")
    return resolved


def is_inside(root: Path, path: Path | str) -> bool:
    """True when ``path`` is strictly within ``root`` (see ``inside``)."""
    try:
        inside(root, path)
    except OutsideError:
        return False
    return True


def disk_error(exc: OSError, directory: Path, needed: int | None = None, what: str = "write to"
               ) -> OutputError:
    """The OutputError for an OSError of writing in ``directory`` (any errno; known ones explained)."""
    meaning, fix = _DISK_ERRORS.get(exc.errno or 0, (exc.strerror or str(exc), "check the directory"))
    space = ""
    if needed is not None and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        free = free_bytes(directory)
        space = f"; {_size(needed)} needed" + (f", {_size(free)} free" if free is not None else "")
    return OutputError(f"cannot {what} {directory}: {meaning}{space}; {fix}", directory, needed)


@contextlib.contextmanager
def writing(directory: Path, needed: int | None = None, what: str = "write to") -> Iterator[None]:
    """Turn a file-system error of the block into an OutputError naming ``directory``."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, (FileNotFoundError, IsADirectoryError, NotADirectoryError, FileExistsError)):
            raise  # a problem of the path, not of the disk: the caller knows what it means
        raise disk_error(exc, directory, needed, what) from None


def free_bytes(directory: Path) -> int | None:
    """Bytes available to this user on ``directory``'s file system (its nearest existing parent)."""
    probe = Path(directory)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None


def atomic_write_bytes(path: Path, data: bytes, *, root: Path | None = None) -> Path:
    """Write ``data`` to ``path`` whole or not at all (temp file + rename); returns the path.

    With ``root``, ``path`` must stay inside it. A full, read-only or forbidden directory
    is an OutputError naming it and the bytes needed; the temp file never stays behind.
    """
    if root is not None:
        path = inside(root, path)
    path = Path(path)
    directory = path.parent
    with writing(directory, len(data)):
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    return path


def atomic_write_text(path: Path, text: str, *, root: Path | None = None) -> Path:
    """``atomic_write_bytes`` of UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"), root=root)


def atomic_write_json(path: Path, data: Any, *, root: Path | None = None) -> Path:
    """``atomic_write_text`` of ``data`` as indented JSON (non-JSON values written with str())."""
    return atomic_write_text(path, json.dumps(data, indent=2, default=str) + "\n", root=root)


def remove(root: Path, path: Path | str) -> bool:
    """Remove ``path`` (a file, a symlink or a directory tree) if it lies strictly inside ``root``.

    A symlink is removed itself, never what it points to. Returns whether something was
    removed; a path outside ``root`` raises OutsideError and nothing is touched.
    """
    candidate = Path(path) if Path(path).is_absolute() else Path(root) / path
    # Check the link itself, not its target: the parent must resolve inside, the name must be plain.
    parent = inside(root, candidate.parent, allow_root=True)
    if candidate.name in ("", ".", ".."):
        raise OutsideError(f"{_shown(path)} does not name an entry inside {root}")
    target = parent / candidate.name
    if not os.path.lexists(target):
        return False
    with writing(parent, what="remove from"):
        if target.is_symlink() or not target.is_dir():
            target.unlink()
        else:
            shutil.rmtree(target)
    return True


def tree_size(path: Path) -> int:
    """Bytes of the files under ``path`` (what copying it needs); unreadable entries count 0."""
    total = 0
    for dirpath, _, filenames in os.walk(path):
        for name in filenames:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def _size(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{count:,} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} TiB"  # pragma: no cover


def _shown(path: Path | str) -> str:
    text = str(path)
    return repr(text if len(text) <= 200 else text[:200] + "...")


__all__ = ["DISK_ERRNOS", "atomic_write_bytes", "atomic_write_json", "atomic_write_text", "disk_error",
           "free_bytes", "inside", "is_inside", "remove", "tree_size", "writing"]
