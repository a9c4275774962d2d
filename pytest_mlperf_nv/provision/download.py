"""Resumable, checksum-verified downloads with urllib only.

``download(url, dest, sha256=..., staging_dir=...)`` fetches into
``staging_dir/<dest.name>.part``, resuming an existing ``.part`` with an HTTP
``Range`` request, retries transient failures (resets, truncated bodies,
timeouts, 5xx), verifies the checksum(s) of the complete file, and only then
moves it to ``dest`` with ``os.replace``. A file that fails its checksum is
deleted; any other failure keeps the ``.part`` so the next run resumes it.

``staging_dir`` should be a persistent directory (e.g. under the cache root),
not the per-build staging dir of ``Cache.get_or_build``, which is deleted when a
build fails -- resuming needs the ``.part`` to survive. Two processes downloading
the same file name into the same ``staging_dir`` are serialized by a file lock.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import os
import re
import shutil
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TextIO

from filelock import FileLock

from pytest_mlperf_nv.errors import ProvisionError
from pytest_mlperf_nv.provision.progress import Progress

CHUNK = 1 << 20
USER_AGENT = "pytest-mlperf-nv"
_CONTENT_RANGE_RE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)\s*\Z", re.IGNORECASE)
_UNSATISFIED_RANGE_RE = re.compile(r"bytes\s+\*/(\d+)\s*\Z", re.IGNORECASE)
_TRANSIENT_HTTP = {408, 429, 500, 502, 503, 504}
# Errors (or URLError reasons) meaning the host cannot be reached at all: retrying is pointless.
_UNREACHABLE_ERRNOS = {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EHOSTDOWN}
_TRANSIENT_REASONS = (TimeoutError, ConnectionResetError, ConnectionAbortedError, BrokenPipeError)


def _file_digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def file_sha256(path: Path | str) -> str:
    """Hex sha256 of the file at ``path``, read in 1 MiB chunks."""
    return _file_digest(Path(path), "sha256")


def file_md5(path: Path | str) -> str:
    """Hex md5 of the file at ``path``, read in 1 MiB chunks (for datasets published with md5 sums)."""
    return _file_digest(Path(path), "md5")


def mirror_url(url: str, mirror: str | None) -> str:
    """Return ``url`` itself, or with a mirror the same file name under the mirror.

    ``mirror`` is a base URL (``https://mirror.example/mlperf/``) or a local
    directory (a plain path or ``file://`` URL), for users behind a firewall::

        mirror_url("https://zenodo.org/record/1/files/resnet50_v1.onnx?download=1", "http://m/x")
        -> "http://m/x/resnet50_v1.onnx"
    """
    if not mirror:
        return url
    name = urllib.parse.urlsplit(url).path.rstrip("/").rpartition("/")[2]
    if not name:
        raise ValueError(f"cannot mirror {url}: the URL has no file name")
    if "://" not in mirror:  # a local directory
        mirror = Path(mirror).expanduser().absolute().as_uri()
    return mirror.rstrip("/") + "/" + name


def _expected(sha256: str | None, md5: str | None) -> list[tuple[str, str]]:
    out = []
    for algo, value in (("sha256", sha256), ("md5", md5)):
        if value is not None:
            value = value.strip().lower()
            if not re.fullmatch(r"[0-9a-f]+", value) or len(value) != hashlib.new(algo).digest_size * 2:
                raise ValueError(f"invalid {algo} checksum {value!r}")
            out.append((algo, value))
    return out


def _manual_hint(dest: Path) -> str:
    return (f"to provide the file manually, place it at {dest} "
            "or point --mlperf-data-dir at a directory holding it")


class _Transient(Exception):
    """A failure worth retrying (with a resume)."""


class _Restart(Exception):
    """The .part cannot be resumed; start over from zero."""


def _unreachable(reason: object) -> bool:
    if isinstance(reason, socket.gaierror):  # name resolution failed: unknown or unreachable host
        return True
    return isinstance(reason, OSError) and reason.errno in _UNREACHABLE_ERRNOS


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"host not found ({exc.strerror or exc})"
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, _Transient) else f"{type(exc).__name__}: {text}"


def download(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    md5: str | None = None,
    staging_dir: Path,
    progress: bool = True,
    timeout_s: float = 60,
    retries: int = 3,
    stream: TextIO | None = None,
    backoff_s: float = 1.0,
) -> Path:
    """Download ``url`` to ``dest`` (verified against ``sha256``/``md5`` when given) and return ``dest``.

    - The file is written to ``staging_dir/<dest.name>.part``; an existing ``.part``
      is resumed with ``Range: bytes=N-`` (a 206 answer is appended; a 200 answer
      means the server ignores ranges, and the download restarts from zero).
    - Transient failures (connection reset, truncated body, timeout, HTTP 5xx/408/429)
      are retried, resuming each time; ``retries`` bounds the consecutive failed
      attempts that received no data (an attempt that made progress resets the count).
      Waits ``backoff_s``, doubling, at most 30 s, between attempts.
    - The complete file's checksums are verified before ``os.replace`` moves it to
      ``dest`` (creating its parent). On a mismatch the ``.part`` is deleted and a
      ``ProvisionError`` names the URL, expected and actual checksum.
    - Other failures (HTTP 404 etc., connection refused, unknown host, retries used
      up) raise ``ProvisionError`` naming the URL, the cause and how to provide the
      file manually; the ``.part`` is kept for a later resume.
    - If ``dest`` already exists and matches the given checksum(s), it is returned
      without downloading.

    Progress goes to ``stream`` (default ``sys.stderr``) unless ``progress=False``.
    """
    dest = Path(dest)
    staging_dir = Path(staging_dir)
    expected = _expected(sha256, md5)
    try:
        staging_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProvisionError(
            f"cannot download {url}: cannot create {staging_dir} ({exc.strerror or exc})"
        ) from exc
    part = staging_dir / (dest.name + ".part")
    with FileLock(str(staging_dir / (dest.name + ".lock"))):
        # Another process may have finished this very download while we waited for the lock.
        if expected and dest.is_file() and all(_file_digest(dest, a) == v for a, v in expected):
            return dest
        prog = Progress(dest.name, None, stream=stream, quiet=not progress)
        try:
            _fetch(url, dest, part, prog, timeout_s=timeout_s, retries=retries, backoff_s=backoff_s)
        except BaseException:
            # A "stopped at 0 B" line would only add noise before the error itself.
            prog.quiet = prog.quiet or prog.done == 0
            prog.close(ok=False)
            raise
        prog.close()
        for algo, want in expected:
            got = _file_digest(part, algo)
            if got != want:
                part.unlink(missing_ok=True)
                raise ProvisionError(
                    f"checksum mismatch for {url}: expected {algo} {want}, got {got}; "
                    f"the downloaded file was deleted ({part}); {_manual_hint(dest)}"
                )
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            _move(part, dest)
        except OSError as exc:
            raise ProvisionError(
                f"downloaded {url} but cannot move it to {dest} ({exc.strerror or exc})"
            ) from exc
    return dest


def _move(src: Path, dest: Path) -> None:
    """os.replace, or across filesystems a copy next to ``dest`` renamed into place (still atomic)."""
    try:
        os.replace(src, dest)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        try:
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        src.unlink()


def _fetch(url: str, dest: Path, part: Path, prog: Progress, *, timeout_s: float, retries: int,
           backoff_s: float) -> None:
    """Fill ``part`` with the complete body of ``url``, retrying and resuming as needed."""
    failures = 0
    restarts = 0
    while True:
        before = part.stat().st_size if part.exists() else 0
        try:
            _attempt(url, part, prog, timeout_s)
            return
        except _Restart:
            # Bounded: a server that keeps answering unusable ranges is not worth looping on.
            restarts += 1
            part.unlink(missing_ok=True)
            if restarts > retries + 1:
                raise ProvisionError(
                    f"cannot download {url}: the server keeps answering unusable byte ranges; "
                    f"{_manual_hint(dest)}"
                ) from None
            continue
        except urllib.error.HTTPError as exc:
            if exc.code not in _TRANSIENT_HTTP:
                raise _fatal(url, dest, part, _describe(exc)) from exc
            cause: BaseException = exc
        except urllib.error.URLError as exc:
            # Raised by urlopen() before any response. Only a timeout or a reset is worth
            # retrying; refused, unknown host, bad scheme, missing file://, TLS errors are not.
            if not isinstance(exc.reason, _TRANSIENT_REASONS):
                raise _fatal(url, dest, part, _describe(exc)) from exc
            cause = exc
        except (_Transient, http.client.HTTPException) as exc:
            cause = exc
        except OSError as exc:  # network errors while reading; file errors are ProvisionErrors already
            if _unreachable(exc):
                raise _fatal(url, dest, part, _describe(exc)) from exc
            cause = exc
        after = part.stat().st_size if part.exists() else 0
        failures = 0 if after > before else failures + 1
        if failures > retries:
            cause_text = f"{_describe(cause)} (gave up after {failures} attempts without progress)"
            raise _fatal(url, dest, part, cause_text)
        time.sleep(min(30.0, backoff_s * 2 ** max(0, failures - 1)))


def _fatal(url: str, dest: Path, part: Path, cause: str) -> ProvisionError:
    kept = ""
    with contextlib.suppress(OSError):
        if (size := part.stat().st_size) > 0:
            kept = f"; the partial download ({size} bytes) is kept at {part} and will be resumed next time"
    return ProvisionError(f"cannot download {url}: {cause}{kept}; {_manual_hint(dest)}")


def _write_error(url: str, part: Path, exc: OSError) -> ProvisionError:
    return ProvisionError(f"cannot download {url}: cannot write {part} ({exc.strerror or exc})")


def _attempt(url: str, part: Path, prog: Progress, timeout_s: float) -> None:
    """One request: append to (or restart) ``part``; raise _Transient if the body ends early."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        resp = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            # Nothing past ``offset``: either the .part is already complete (we were
            # interrupted between finishing and renaming), or it is longer than the file.
            m = _UNSATISFIED_RANGE_RE.match(exc.headers.get("Content-Range", "") if exc.headers else "")
            exc.close()
            if m and int(m.group(1)) == offset:
                prog.reset(offset, total=offset)
                return
            raise _Restart() from exc
        exc.close()
        raise
    with resp:
        status = resp.status if resp.status is not None else 200  # file:// answers have no status
        length = resp.headers.get("Content-Length")
        body_len = int(length) if length and length.isdigit() else None
        if status == 206:
            m = _CONTENT_RANGE_RE.match(resp.headers.get("Content-Range", ""))
            if not m or int(m.group(1)) != offset:
                raise _Restart()
            total = None if m.group(3) == "*" else int(m.group(3))
            mode = "ab"
        else:
            # 200 to a Range request: the server ignores ranges, so the body is the whole file.
            offset, mode = 0, "wb"
            total = body_len
        if total is None and body_len is not None:
            total = offset + body_len
        prog.reset(offset, total=total)
        received = offset
        try:
            f = open(part, mode)  # closed by the with below
        except OSError as exc:
            raise _write_error(url, part, exc) from exc
        # read1: return what has arrived (read() would block for a full chunk, and a
        # timeout would then lose the bytes already received instead of keeping them).
        read = getattr(resp, "read1", resp.read)
        with f:
            while chunk := read(CHUNK):
                try:
                    f.write(chunk)
                except OSError as exc:  # disk full, quota, ...: retrying would not help
                    raise _write_error(url, part, exc) from exc
                received += len(chunk)
                prog.update(len(chunk))
    # http.client returns b"" (no error) when a Content-Length body is cut short.
    if total is not None and received != total:
        raise _Transient(f"connection closed after {received} of {total} bytes")
