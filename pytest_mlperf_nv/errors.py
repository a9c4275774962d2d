"""Domain errors. Each carries a message meant for a user; none is shown with a traceback."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


class MlperfError(Exception):
    """Base class of every error the plugin reports to a user without a traceback."""


@dataclass
class Location:
    """A place in a suite file (1-based line and column)."""

    path: Path
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


class SuiteError(MlperfError):
    """A suite file that cannot be loaded or validated.

    The message names the file, line and column, the key, and what was expected; the
    offending line of the file is shown under it.
    """

    def __init__(self, message: str, location: Location | None = None, key: str | None = None):
        self.message = message
        self.location = location
        self.key = key
        super().__init__(self.render())

    def render(self, sources: dict[Path, list[str] | None] | None = None) -> str:
        where = str(self.location) if self.location else "suite"
        head = f"{where}: "
        if self.key:
            head += f"{_cut(self.key, _MAX_KEY)}: "
        text = head + _cut(self.message, _MAX_MESSAGE)
        snippet = self.snippet(sources)
        return text + ("\n" + snippet if snippet else "")

    def snippet(self, sources: dict[Path, list[str] | None] | None = None) -> str:
        if not self.location or self.location.line < 1:
            return ""
        path = self.location.path
        sources = {} if sources is None else sources
        if path not in sources:
            sources[path] = _source_lines(path)
        lines = sources[path]
        if lines is None or self.location.line > len(lines):
            return ""
        text = lines[self.location.line - 1]
        column = max(self.location.column, 1)
        if len(text) > _MAX_LINE:
            # A very long line: show the part around the column.
            start = max(0, column - 1 - _MAX_LINE // 2)
            end = start + _MAX_LINE
            column -= start - (3 if start else 0)
            text = ("..." if start else "") + text[start:end] + ("..." if end < len(text) else "")
        caret = " " * (column - 1) + "^"
        return f"  {self.location.line:>4} | {text}\n       | {caret}"


class SuiteErrors(SuiteError):
    """Every error found in one suite file, first error first (``errors``).

    Attributes ``message``, ``location`` and ``key`` are the first error's, so code that
    handles one SuiteError handles this too; the rendering lists them all.
    """

    def __init__(self, errors: list[SuiteError], stopped: bool = False):
        self.errors = list(errors)
        #: validation stopped at the listing's limit: there may be more
        self.stopped = stopped
        first = self.errors[0]
        super().__init__(first.message, first.location, first.key)

    def render(self, sources: dict[Path, list[str] | None] | None = None) -> str:
        sources = {} if sources is None else sources
        where = self.errors[0].location.path if self.errors[0].location else "the suite"
        count = f"{len(self.errors)}{' or more' if self.stopped else ''}"
        parts = [f"{count} errors in {where} (first error first):"]
        parts += [SuiteError.render(error, sources) for error in self.errors]
        if self.stopped:
            parts.append(f"(the listing stops at {len(self.errors)} errors: fix these and collect again)")
        return "\n".join(parts)


#: what an error message shows at most of a key, a message and a source line
_MAX_KEY = 160
_MAX_MESSAGE = 2000
_MAX_LINE = 160
#: files larger than this get no source snippet (a suite that big is refused anyway)
_MAX_SNIPPET_FILE = 16 * 1024 * 1024
_LINE_BREAK = re.compile(r"\r\n|[\n\r\x85\u2028\u2029]")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _source_lines(path: Path) -> list[str] | None:
    """The file's lines as YAML counts them (its marks count these breaks), or None."""
    try:
        if path.stat().st_size > _MAX_SNIPPET_FILE:
            return None
        text = path.read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        return None
    return _LINE_BREAK.split(text)


class SettingsError(MlperfError):
    """A bad value for a setting; the message names where the value came from."""


class ProvisionError(MlperfError):
    """A model, dataset or engine could not be provided."""


class ModelError(ProvisionError):
    """A model file that cannot be loaded (not the format the backend reads, or damaged)."""


class HarnessError(MlperfError):
    """A harness could not run (as opposed to a run whose verdict is a failure)."""


class OutputError(MlperfError):
    """A file or directory of the output or the cache could not be written or removed.

    The message names the directory, what the system said (no space left, read-only, no
    permission, quota exceeded) and, where known, the space needed.
    """

    def __init__(self, message: str, directory: Path | None = None, needed: int | None = None):
        self.directory = directory
        self.needed = needed
        super().__init__(message)


class OutsideError(MlperfError):
    """A path built from names would leave its root directory (the output or the cache)."""
