"""The one rule for names and paths that come from suites and become files.

A suite's name, benchmark ids, the submitter and the system name become directories of the
output and of the submission tree; a suite file's stem becomes a run directory. Each is
checked once, at collection, with the rules below, and checked again (``inside`` in
fsutil.py) wherever a path is built from them before anything is written or removed.
"""

from __future__ import annotations

import re
from typing import Any

#: the longest name a suite may give (it becomes a path component, joined with others)
MAX_NAME_LENGTH = 100
#: file-system limits of Linux: one path component, one whole path (bytes)
NAME_MAX = 255
PATH_MAX = 4096

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NAME_RULE = ("use letters, digits, '_', '-', '.', '+' (starting with a letter or digit), no '/' and "
             f"no '..', at most {MAX_NAME_LENGTH} characters")


def shown(text: str, limit: int = 60) -> str:
    """``text`` as a message quotes it: control characters escaped, long text cut."""
    text = str(text)
    if len(text) > limit:
        text = text[:limit] + "..."
    return repr(text)[1:-1]


def name_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a name that becomes a directory, or None when it can."""
    if not isinstance(value, str):
        return "is not a string"
    if not value:
        return "is empty"
    if len(value) > MAX_NAME_LENGTH:
        return f"is {len(value)} characters long (at most {MAX_NAME_LENGTH})"
    if _CONTROL.search(value):
        return "contains a control character (a newline, a tab, a NUL byte, ...)"
    if value.strip() != value:
        return "starts or ends with white space"
    if not _NAME.fullmatch(value) or ".." in value:
        return "cannot be used in a file path"
    return None


def component_problem(value: str) -> str | None:
    """Why ``value`` cannot be one path component the plugin writes (a suite file's stem, ...)."""
    if value in ("", ".", ".."):
        return f"'{value}' names a directory itself, not an entry in it"
    if "/" in value or "\\" in value:
        return "contains a path separator"
    if _CONTROL.search(value):
        return "contains a control character (a newline, a tab, a NUL byte, ...)"
    if value.strip() != value:
        return "starts or ends with white space"
    if len(value.encode("utf-8", errors="surrogateescape")) > NAME_MAX:
        return f"is longer than {NAME_MAX} bytes"
    return None


def path_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a file path a suite gives (model:, extends:, nvidia.code_dir), or None."""
    if not isinstance(value, str):
        return "is not a string"
    if not value.strip():
        return "is empty"
    if "\x00" in value:
        return "contains a NUL byte"
    if _CONTROL.search(value):
        return "contains a control character (a newline, a tab, ...)"
    encoded = value.encode("utf-8", errors="surrogateescape")
    if len(encoded) > PATH_MAX:
        return f"is {len(encoded)} bytes long; paths are at most {PATH_MAX} bytes"
    longest = max((len(p) for p in encoded.split(b"/")), default=0)
    if longest > NAME_MAX:
        return f"has a component of {longest} bytes; a file or directory name is at most {NAME_MAX} bytes"
    return None
