"""Where the running pytest-mlperf-nv came from, and how to install exactly that again.

A result's README must give a recipe that works: no package index serves pytest-mlperf-nv, so
``pip install pytest-mlperf-nv==<version>`` would not. The installer's record (PEP 610
``direct_url.json``) says whether it came from a git URL at a commit, a local directory or an
archive; a local directory that is a git checkout gives its commit, its remote and whether it
had uncommitted changes.
"""

from __future__ import annotations

import functools
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from . import __version__

DIST = "pytest-mlperf-nv"


@dataclass(frozen=True)
class Source:
    """How this copy of the plugin was installed."""

    version: str
    #: a pip requirement that installs exactly this source, where one exists
    requirement: str | None
    #: what the requirement cannot say (local changes, an unknown revision)
    note: str = ""
    #: the commit, when known
    commit: str | None = None

    def install_line(self, *extra: str) -> str:
        target = self.requirement or f"<a copy of pytest-mlperf-nv {self.version}>"
        return " ".join(["pip install", _quote(target), *extra])


def _quote(text: str) -> str:
    return f'"{text}"' if any(c in text for c in " +@#") else text


def _direct_url() -> dict[str, Any] | None:
    """The installer's record of where the package came from (PEP 610), if it wrote one."""
    from importlib.metadata import PackageNotFoundError, distributions

    try:
        found = list(distributions(name=DIST))
    except PackageNotFoundError:  # pragma: no cover - the plugin itself is running
        return None
    for dist in found:
        text = dist.read_text("direct_url.json")
        if text:
            try:
                data = json.loads(text)
            except ValueError:
                continue
            if isinstance(data, dict):
                return data
    return None


def _git(directory: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True,
                              timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def source_of(direct_url: dict[str, Any] | None, package_dir: Path, version: str = __version__,
              git: Callable[..., str | None] = _git) -> Source:
    """The :class:`Source` from an installer record and the package's own directory."""
    url = str((direct_url or {}).get("url") or "")
    vcs = (direct_url or {}).get("vcs_info") or {}
    if url and vcs.get("vcs") == "git" and vcs.get("commit_id"):
        commit = str(vcs["commit_id"])
        return Source(version, f"git+{url}@{commit}", commit=commit)
    if url.startswith("file://") and (direct_url or {}).get("dir_info") is not None:
        return _checkout(Path(unquote(urlparse(url).path)), version, git)
    if url and (direct_url or {}).get("archive_info") is not None:
        return Source(version, url, note="installed from this archive")
    # No record (run from a source tree, or an old installer): the directory above the package.
    root = package_dir.parent
    if (root / "pyproject.toml").is_file():
        return _checkout(root, version, git)
    return Source(version, None, note=f"installed from an unknown source at {package_dir}")


def _checkout(root: Path, version: str, git: Callable[..., str | None]) -> Source:
    commit = git(root, "rev-parse", "HEAD")
    if not commit:
        return Source(version, str(root), note=f"the local directory {root}, not under git: its files may "
                                              "have changed since")
    dirty = bool(git(root, "status", "--porcelain", "--untracked-files=no"))
    remote = git(root, "remote", "get-url", "origin")
    where = remote if remote and "://" in remote else (remote and _scp_to_url(remote)) or root.as_uri()
    if dirty:
        return Source(version, str(root), commit=commit,
                      note=f"installed from the local checkout {root}, which had uncommitted changes: the "
                           "commit alone does not reproduce it")
    note = "" if remote else (f"installed from the local checkout {root}, which has no remote: publish the "
                              "commit for others to install it")
    return Source(version, f"git+{where}@{commit}", note=note, commit=commit)


def _scp_to_url(remote: str) -> str | None:
    """git@host:owner/repo.git -> ssh://git@host/owner/repo.git (pip takes only URLs)."""
    if ":" in remote and "@" in remote.split(":", 1)[0]:
        user_host, path = remote.split(":", 1)
        return f"ssh://{user_host}/{path}"
    if Path(remote).is_absolute():
        return Path(remote).as_uri()
    return None


@functools.lru_cache(maxsize=1)
def this_source() -> Source:
    """The :class:`Source` of the running plugin (asked once per process)."""
    return source_of(_direct_url(), Path(__file__).resolve().parent)


def reproduce_lines(loadgen_version: str | None) -> list[str]:
    """The install part of a result's reproduce recipe: comment lines, then the pip command."""
    source = this_source()
    extra = [f"mlcommons-loadgen=={loadgen_version}"] if loadgen_version else []
    lines = [f"# pytest-mlperf-nv {source.version}" + (f" at commit {source.commit}" if source.commit else "")
             + (f"; {source.note}" if source.note else "")]
    lines.append(source.install_line(*extra))
    return lines
