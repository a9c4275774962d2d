"""The submission tree's staging and its manifest: how a rebuild replaces the tree atomically.

The tree is staged next to the old one (``<out>/.submission.new-<pid>``) and swapped in with
renames; :func:`recover` finishes a swap an interrupted session left. The manifest
(``<out>/submission-manifest.json``) records which tree parts each suite wrote, so that a rebuild
clears them; its entries are read as untrusted (only plain paths inside the tree count).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ..fsutil import atomic_write_json, inside, is_inside, remove

if TYPE_CHECKING:
    from ..suite.model import Suite

TREE_DIR = "submission"
MANIFEST_FILE = "submission-manifest.json"


def drop_symlinks(stage: Path) -> None:
    """The plugin writes no symlinks into a tree: one found there (put in by hand) could lead a
    write out of the output dir, so it is removed from the stage, never followed."""
    for dirpath, dirnames, filenames in os.walk(stage):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath, name)
            if path.is_symlink():
                path.unlink()


def restore(stage: Path, tree: Path, parts: list[str]) -> None:
    """Put a suite's parts back as the previous tree has them (after its rebuild failed midway)."""
    for part in parts:
        staged, old = inside(stage, part), tree / part
        remove(stage, staged)
        if not is_inside(tree, old):
            continue
        if old.is_dir():
            shutil.copytree(old, staged, symlinks=True)
        elif old.is_file():
            staged.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(old, staged)


def manifest_key(suite: Suite) -> str:
    """A suite's manifest entry: its name (unique in a session, and the name of its run dirs), so that
    a checkout moved elsewhere still finds what its suites wrote."""
    return suite.name


def earlier_parts(out: Path, suite: Suite) -> list[str]:
    """What the suite wrote into the tree last time (by name; by path as earlier versions kept it)."""
    manifest = read_manifest(out)
    return manifest.get(manifest_key(suite)) or manifest.get(str(suite.path), [])


def recover(out: Path) -> None:
    """Finish an interrupted swap: a tree moved aside but never replaced is put back."""
    tree = out / TREE_DIR
    for old in sorted(out.glob(f".{TREE_DIR}.old-*")):
        if not tree.exists():
            old.rename(tree)
        else:
            shutil.rmtree(old, ignore_errors=True)
    for new in out.glob(f".{TREE_DIR}.new-*"):
        shutil.rmtree(new, ignore_errors=True)  # callers hold the output dir's lock: no one builds there


def swap(stage: Path, tree: Path) -> None:
    old = tree.parent / f".{TREE_DIR}.old-{os.getpid()}"
    if tree.exists():
        tree.rename(old)
    stage.rename(tree)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def read_manifest(out: Path) -> dict[str, list[str]]:
    """suite path -> the tree parts (systems/<sys>.json, results/<sys>/, ...) it last wrote.

    The file lies in the output dir, where anyone may edit it: an entry that is not a plain
    relative path within the tree (``..``, an absolute path, not text) is ignored, so that no
    manifest can make a rebuild remove anything outside the tree.
    """
    try:
        data = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    manifest: dict[str, list[str]] = {}
    for suite, parts in data.items():
        if isinstance(parts, list):
            manifest[suite] = [p for p in parts if _plain_part(p)]
    return manifest


def _plain_part(part: Any) -> bool:
    if not isinstance(part, str) or not part or len(part) > 4096 or "\x00" in part or "\\" in part:
        return False
    pure = PurePosixPath(part)
    return not pure.is_absolute() and all(p not in ("", ".", "..") for p in pure.parts) \
        and len(pure.parts) >= 2  # at least <division>/<submitter>: never a whole division


def write_manifest(out: Path, manifest: dict[str, list[str]]) -> None:
    atomic_write_json(out / MANIFEST_FILE, manifest, root=out)
