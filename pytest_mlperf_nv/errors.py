"""Domain errors. Each carries a message meant for a user; none is shown with a traceback."""

from __future__ import annotations

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

    def render(self) -> str:
        where = str(self.location) if self.location else "suite"
        head = f"{where}: "
        if self.key:
            head += f"{self.key}: "
        text = head + self.message
        snippet = self.snippet()
        return text + ("\n" + snippet if snippet else "")

    def snippet(self) -> str:
        if not self.location or self.location.line < 1:
            return ""
        try:
            lines = self.location.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        if self.location.line > len(lines):
            return ""
        text = lines[self.location.line - 1]
        caret = " " * (max(self.location.column, 1) - 1) + "^"
        return f"  {self.location.line:>4} | {text}\n       | {caret}"


class SettingsError(MlperfError):
    """A bad value for a setting; the message names where the value came from."""


class ProvisionError(MlperfError):
    """A model, dataset or engine could not be provided."""


class HarnessError(MlperfError):
    """A harness could not run (as opposed to a run whose verdict is a failure)."""
