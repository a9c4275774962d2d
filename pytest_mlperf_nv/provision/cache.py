"""Content-addressed, process-safe cache for provisioned artifacts.

Everything the plugin provisions (trained models, preprocessed datasets,
compiled engines) is stored here, keyed by a hash of what produced it::

    root/entries/<kind>/<key>/        artifact files + manifest.json
    root/locks/<kind>-<key>.lock      one file lock per key
    root/tmp/<kind>-<key>-<random>/   staging dirs (same filesystem as entries)

An entry only ever appears through an atomic rename of a fully built staging
dir, so readers never see a half-written artifact, and the per-key lock makes
concurrent pytest processes (e.g. xdist workers) build a given key once.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from ..fsutil import tree_size
from .download import file_sha256

FORMAT = 1
MANIFEST = "manifest.json"
KEY_LENGTH = 24  # 96 bits: collision-free for any realistic cache, short paths
_KIND_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
# Staging/aside dirs are named "<kind>-<key>-<random>"; this recovers kind/key.
_TMP_RE = re.compile(rf"(?P<kind>.+?)-(?P<key>[0-9a-f]{{{KEY_LENGTH}}})-")


_DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)


class CacheError(Exception):
    """The cache cannot be used (bad root, lock timeout, misbehaving build)."""


class CacheWarning(UserWarning):
    """A corrupt cache entry was found and rebuilt."""


def _normalize(value: Any, where: str) -> Any:
    # Only JSON-native types: anything else (tuples, numpy scalars, Paths, ...)
    # has no single canonical JSON form, so it could silently alias or split keys.
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cache key part {where} is {value!r}; NaN/inf are not allowed")
        return value
    if isinstance(value, list):
        return [_normalize(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"cache key part {where} has non-str key {k!r}")
            out[k] = _normalize(v, f"{where}[{k!r}]")
        return out
    raise TypeError(
        f"cache key part {where} has unsupported type {type(value).__name__}; "
        "use str/int/float/bool/None or lists/dicts of them"
    )


def _check_kind(kind: str) -> None:
    # kind becomes a directory name, so keep it a single safe path component.
    if not isinstance(kind, str) or not _KIND_RE.match(kind):
        raise ValueError(f"invalid cache kind {kind!r}: use letters, digits, '_', '.', '-'")


def cache_key(kind: str, parts: Mapping[str, Any]) -> str:
    """Return the content-addressed key for an artifact of ``kind`` built from ``parts``.

    The key is the first 24 hex chars of the sha256 of the canonical JSON of
    ``{"kind": kind, "parts": parts}`` (sorted keys, no whitespace, no NaN), so it
    is independent of dict ordering and changes whenever any part changes.

    Raises TypeError naming the offending part for non-JSON types, ValueError for NaN/inf.
    """
    _check_kind(kind)
    if not isinstance(parts, Mapping):
        raise TypeError(f"cache key parts must be a mapping, got {type(parts).__name__}")
    doc = {"kind": kind, "parts": _normalize(parts, "parts")}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:KEY_LENGTH]


def _file_records(root: Path) -> list[dict[str, Any]]:
    records = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()  # deterministic manifest order
        for name in sorted(filenames):
            p = Path(dirpath, name)
            rel = p.relative_to(root).as_posix()
            st = p.stat()
            records.append(
                {"path": rel, "size": st.st_size, "sha256": file_sha256(p), "mtime_ns": st.st_mtime_ns}
            )
    return records


@dataclass
class CacheEntry:
    """A valid cache entry: ``path`` is the entry dir holding the artifact files."""

    path: Path
    kind: str
    key: str
    parts: dict[str, Any]
    hit: bool
    build_seconds: float | None = None  # time spent building now; None on a hit
    warning: str | None = None  # set when a corrupt entry was found and rebuilt

    def file(self, name: str) -> Path:
        """Return the path of artifact file ``name``; FileNotFoundError if the build did not write it."""
        p = self.path / name
        if not p.exists():
            raise FileNotFoundError(f"cache entry {self.path} has no file {name!r}")
        return p


class Cache:
    """A cache rooted at ``root``; see the module docstring for the layout.

    ``lock_timeout`` (seconds, None = wait forever) bounds the wait for another
    process building the same key. ``locking=False`` disables the per-key lock;
    it exists only so tests can prove the lock is what prevents double builds.
    """

    def __init__(self, root: Path | str, lock_timeout: float | None = None, locking: bool = True) -> None:
        # absolute() so entry paths handed out stay valid if the cwd changes.
        self.root = Path(root).expanduser().absolute()
        self.lock_timeout = lock_timeout
        self.locking = locking
        self._entries, self._locks, self._tmp = (self.root / d for d in ("entries", "locks", "tmp"))
        try:
            for d in (self._entries, self._locks, self._tmp):
                _heal_not_a_dir(d)
                d.mkdir(parents=True, exist_ok=True)
            # Probe for real: os.access() says yes to root even on read-only mounts.
            fd, probe = tempfile.mkstemp(dir=self._tmp, prefix=".probe-")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise CacheError(
                f"cannot use {self.root} as the MLPerf cache directory ({exc.strerror or exc}); "
                "pass --mlperf-cache-dir to choose a writable directory"
            ) from exc

    # -- paths -------------------------------------------------------------
    def _entry_dir(self, kind: str, key: str) -> Path:
        return self._entries / kind / key

    def _lock_path(self, kind: str, key: str) -> Path:
        return self._locks / f"{kind}-{key}.lock"

    @contextlib.contextmanager
    def _locked(self, kind: str, key: str) -> Iterator[None]:
        if not self.locking:
            yield
            return
        path = self._lock_path(kind, key)
        lock = FileLock(str(path), timeout=-1 if self.lock_timeout is None else self.lock_timeout)
        try:
            try:
                lock.acquire()
            except (IsADirectoryError, FileNotFoundError, NotADirectoryError):
                # A directory where the lock file goes, or the locks dir removed by hand: the
                # cache made neither, so it puts its own layout back and tries once more.
                _heal_lock(path, self._locks)
                lock.acquire()
        except Timeout as exc:
            raise CacheError(
                f"timed out after {self.lock_timeout}s waiting for {path}: "
                f"another process is building {kind}/{key}"
            ) from exc
        try:
            yield
        finally:
            lock.release()

    # -- validation ----------------------------------------------------------
    def _check(self, kind: str, key: str, verify: bool) -> tuple[dict[str, Any] | None, str | None]:
        """Return (manifest, None) if valid, (None, reason) if corrupt, (None, None) if absent."""
        path = self._entry_dir(kind, key)
        if not path.is_dir():
            return None, None
        try:
            text = (path / MANIFEST).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None, "manifest missing"
        except OSError as exc:
            return None, f"manifest unreadable: {exc}"
        try:
            manifest = json.loads(text)
            files = manifest["files"]
            if manifest.get("format") != FORMAT or manifest.get("kind") != kind or manifest.get("key") != key:
                return None, "manifest unreadable: wrong format/kind/key"
            checks = [(f["path"], int(f["size"]), int(f["mtime_ns"]), str(f["sha256"])) for f in files]
        except (ValueError, TypeError, KeyError) as exc:
            return None, f"manifest unreadable: {type(exc).__name__}: {exc}"
        for rel, size, mtime_ns, digest in checks:
            p = path / rel
            try:
                st = p.stat()
            except OSError:
                return None, f"{rel}: missing"
            # Cheap check every time: catches truncated/overwritten files from
            # interrupted copies or edits without reading gigabytes of weights.
            if st.st_size != size:
                return None, f"{rel}: size {st.st_size} != manifest {size}"
            if st.st_mtime_ns != mtime_ns:
                return None, f"{rel}: mtime_ns {st.st_mtime_ns} != manifest {mtime_ns}"
            if verify and (actual := file_sha256(p)) != digest:
                return None, f"{rel}: sha256 {actual[:16]} != manifest {digest[:16]}"
        return manifest, None

    def lookup(self, kind: str, parts: Mapping[str, Any], verify: bool = False) -> CacheEntry | None:
        """Return the valid entry for (kind, parts) as a hit, or None if absent or corrupt. Never builds."""
        key = cache_key(kind, parts)
        manifest, _ = self._check(kind, key, verify)
        if manifest is None:
            return None
        return CacheEntry(self._entry_dir(kind, key), kind, key, _normalize(parts, "parts"), hit=True)

    # -- building ------------------------------------------------------------
    def get_or_build(
        self,
        kind: str,
        parts: Mapping[str, Any],
        build: Callable[[Path], None],
        *,
        verify: bool = False,
    ) -> CacheEntry:
        """Return the entry for (kind, parts), building it with ``build(staging_dir)`` on a miss.

        ``build`` writes the artifact's files into an empty staging dir. A corrupt
        existing entry (``verify=True`` also checks sha256) is rebuilt; a
        CacheWarning is emitted and ``CacheEntry.warning`` says what was wrong.
        If ``build`` raises, nothing is left behind and the exception propagates.
        """
        key = cache_key(kind, parts)
        norm = _normalize(parts, "parts")
        path = self._entry_dir(kind, key)
        # Fast path without the lock: valid entries are immutable once renamed in.
        if self._check(kind, key, verify)[0] is not None:
            return CacheEntry(path, kind, key, norm, hit=True)
        with self._locked(kind, key):
            # Re-check under the lock: another process may have built it while we waited.
            manifest, reason = self._check(kind, key, verify)
            if manifest is not None:
                return CacheEntry(path, kind, key, norm, hit=True)
            warning = None
            if reason is not None:
                warning = f"corrupt cache entry {path}: {reason}; rebuilding"
                warnings.warn(warning, CacheWarning, stacklevel=2)
            kind_dir = path.parent
            if os.path.lexists(kind_dir) and not kind_dir.is_dir():
                warning = f"{kind_dir} was not a directory (the cache keeps {kind} entries there); removed it"
                warnings.warn(warning, CacheWarning, stacklevel=2)
                _remove_any(kind_dir)
            seconds = self._build_and_install(kind, key, norm, build)
            return CacheEntry(path, kind, key, norm, hit=False, build_seconds=seconds, warning=warning)

    def _build_and_install(
        self, kind: str, key: str, parts: dict[str, Any], build: Callable[[Path], None]
    ) -> float:
        staging = Path(tempfile.mkdtemp(prefix=f"{kind}-{key}-", dir=self._tmp))
        try:
            os.chmod(staging, 0o755)  # mkdtemp's 0700 would make shared caches unreadable to others
            start = time.perf_counter()
            build(staging)
            seconds = time.perf_counter() - start
            if (staging / MANIFEST).exists():
                raise CacheError(f"build for {kind}/{key} wrote {MANIFEST}, a name reserved by the cache")
            manifest = {
                "format": FORMAT,
                "kind": kind,
                "key": key,
                "parts": parts,
                "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "build_seconds": round(seconds, 3),
                "files": _file_records(staging),
            }
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
            self._install(staging, kind, key)
        except OSError as exc:
            written = tree_size(staging)
            shutil.rmtree(staging, ignore_errors=True)
            if exc.errno not in _DISK_ERRNOS:
                raise
            # A full or read-only cache: say so, with nothing half-built left behind.
            from ..fsutil import disk_error

            problem = disk_error(exc, self.root, written or None)
            raise CacheError(f"building {kind}/{key}: {problem} (the build had written {written:,} bytes "
                             "when it failed; nothing of it is kept, and the next session builds it "
                             "again)") from None
        except BaseException:
            # Also on KeyboardInterrupt: a killed build must not leave staging litter.
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return seconds

    def _install(self, staging: Path, kind: str, key: str) -> None:
        dest = self._entry_dir(kind, key)
        for _ in range(5):
            dest.parent.mkdir(parents=True, exist_ok=True)
            aside = None
            if os.path.lexists(dest):
                # rename() cannot replace a non-empty dir, so move the old
                # (corrupt) entry out of the way first and delete it afterwards.
                aside = self._tmp / f"{kind}-{key}-old-{uuid.uuid4().hex[:8]}"
                try:
                    os.replace(dest, aside)
                except FileNotFoundError:
                    aside = None
            try:
                os.replace(staging, dest)
                return
            except OSError as exc:
                # Only reachable without the lock (locking=False or a concurrent
                # clear()): someone else installed/removed in between; retry.
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                    raise
            finally:
                if aside is not None:
                    _remove_any(aside)
        raise CacheError(f"could not install {dest}: it kept being replaced concurrently")

    # -- maintenance -----------------------------------------------------------
    def entries(self) -> Iterator[tuple[str, str, dict[str, Any] | None]]:
        """Yield (kind, key, manifest) for every entry dir; manifest is None if missing/unreadable."""
        for kind_dir in sorted(p for p in self._entries.iterdir() if p.is_dir()):
            for entry in sorted(p for p in kind_dir.iterdir() if p.is_dir()):
                try:
                    manifest = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    manifest = None
                yield kind_dir.name, entry.name, manifest

    def clear(self) -> int:
        """Remove all entries, staging dirs and lock files; return the number of entries removed.

        Keys whose lock is currently held (a build in progress in some process)
        are skipped entirely, so clear() never pulls files out from under a build.
        """
        keys: set[tuple[str, str]] = {(kind, key) for kind, key, _ in self.entries()}
        for p in self._locks.glob("*.lock"):
            kind, _, key = p.stem.rpartition("-")
            keys.add((kind, key))
        keys |= {(m["kind"], m["key"]) for p in self._tmp.iterdir() if (m := _TMP_RE.match(p.name))}
        removed = 0
        for kind, key in sorted(keys):
            lock = None
            if self.locking:
                lock = FileLock(str(self._lock_path(kind, key)))
                try:
                    lock.acquire(timeout=0)
                except Timeout:
                    continue  # a build holds it; leave its entry, staging and lock alone
            try:
                entry = self._entry_dir(kind, key)
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                    removed += 1
                for p in self._tmp.glob(f"{kind}-{key}-*"):
                    shutil.rmtree(p, ignore_errors=True)
                # Unlinking while holding is safe: a waiter that then locks the
                # unlinked inode notices (filelock >= 4) and re-opens the path.
                self._lock_path(kind, key).unlink(missing_ok=True)
            finally:
                if lock is not None:
                    lock.release()
        for kind_dir in self._entries.iterdir():
            with contextlib.suppress(OSError):  # non-empty (skipped busy key) stays
                kind_dir.rmdir()
        return removed


def _remove_any(path: Path) -> None:
    """Remove a file, a symlink or a directory tree (whatever a hand edit left), ignoring errors."""
    if path.is_symlink() or (os.path.lexists(path) and not path.is_dir()):
        with contextlib.suppress(OSError):
            path.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)


def _heal_not_a_dir(path: Path) -> None:
    """One of the cache's own directories is a file (or a dangling link): remove it."""
    if os.path.lexists(path) and not path.is_dir():
        warnings.warn(f"{path} was not a directory (the cache keeps its {path.name} there); removed it",
                      CacheWarning, stacklevel=3)
        _remove_any(path)


def _heal_lock(path: Path, locks: Path) -> None:
    if os.path.lexists(path) and (path.is_dir() or path.is_symlink()):
        warnings.warn(f"{path} was a directory, where the cache keeps a lock file; removed it",
                      CacheWarning, stacklevel=4)
        _remove_any(path)
    _heal_not_a_dir(locks)
    locks.mkdir(parents=True, exist_ok=True)


def entry_of(path: Path | str) -> Path | None:
    """The cache entry dir holding ``path`` (``.../entries/<kind>/<key>/...`` with a manifest), or None."""
    for parent in Path(path).parents:
        if parent.parent.parent.name == "entries" and (parent / MANIFEST).is_file():
            return parent
    return None


def diagnose(path: Path | str) -> str | None:
    """Why a file the cache handed out fails to load, when it is the cache's fault, else None.

    Checks the sha256 of every file of ``path``'s entry against its manifest (the cheap check
    of size and time stamp cannot see bytes changed in place). The text names the entry and
    the flag that repairs it.
    """
    entry = entry_of(path)
    if entry is None:
        return None
    hint = ("rerun with --mlperf-cache-verify (MLPERF_NV_CACHE_VERIFY=1): it checks every cached file's "
            "sha256 and rebuilds corrupt entries")
    try:
        manifest = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))
        files = [(str(f["path"]), str(f["sha256"])) for f in manifest["files"]]
    except (OSError, ValueError, TypeError, KeyError):
        return f"the cache entry {entry} has an unreadable manifest; {hint}"
    for rel, digest in files:
        try:
            actual = file_sha256(entry / rel)
        except OSError as exc:
            return f"the cache entry {entry} lost {rel} ({exc.strerror}); {hint}"
        if actual != digest:
            return (f"the cache entry {entry} is corrupt: the bytes of {rel} changed on disk (sha256 "
                    f"{actual[:16]}..., the manifest says {digest[:16]}...) while its size and time stamp "
                    f"did not; {hint}")
    return None
