"""One suite file under validation: positions, typed getters, and the errors found so far.

Every error is a SuiteError that names the file, line and column, the key, what was
expected, and a did-you-mean for near-miss names.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import Location, SuiteError, SuiteErrors
from ..names import NAME_RULE, name_problem, path_problem, shown
from ..words import did_you_mean, kind_of, number_problem
from ..words import shown as shown_value
from .yamlload import YMap

#: errors listed for one file; collection stops looking for more after this many
MAX_ERRORS = 50


class TooManyErrors(Exception):
    """The error listing is full: stop validating the file."""


class Document:
    """Helpers bound to one file: positions, typed getters, and the errors found so far.

    Validation goes on after an error wherever the rest does not depend on the bad value,
    so that one collection lists every mistake of the file (``record``/``attempt``).
    """

    def __init__(self, path: Path):
        self.path = path
        self.errors: list[SuiteError] = []

    def record(self, error: SuiteError) -> None:
        seen = {(e.location and (e.location.path, e.location.line, e.location.column), e.key, e.message)
                for e in self.errors}
        if (error.location and (error.location.path, error.location.line, error.location.column),
                error.key, error.message) in seen:
            return  # one value reached twice through an alias
        self.errors.append(error)
        if len(self.errors) >= MAX_ERRORS:
            raise TooManyErrors

    def attempt(self, validate: Any, *args: Any, default: Any = None) -> Any:
        """``validate(*args)``, or ``default`` after recording its SuiteError."""
        try:
            return validate(*args)
        except SuiteErrors as exc:
            for error in exc.errors:
                self.record(error)
        except SuiteError as exc:
            self.record(exc)
        return default

    def raise_errors(self) -> None:
        """Raise what was recorded: one SuiteError, or SuiteErrors listing all, first error first."""
        if not self.errors:
            return
        main = self.path

        def order(error: SuiteError) -> tuple[bool, int, int]:
            loc = error.location
            return (loc is None or loc.path != main, loc.line if loc else 0, loc.column if loc else 0)

        errors = sorted(self.errors, key=order)
        if len(errors) == 1:
            raise errors[0]
        raise SuiteErrors(errors, stopped=len(errors) >= MAX_ERRORS)

    def kind(self, value: Any) -> str:
        """How a value reads in a message ("a string", "nothing (null)")."""
        return kind_text(value)

    def key_loc(self, mapping: YMap, key: Any) -> Location:
        return mapping.key_locations.get(key, mapping.location)

    def value_loc(self, mapping: YMap, key: Any) -> Location:
        return mapping.value_locations.get(key, mapping.location)

    def mapping(self, parent: YMap, key: str, dotted: str, *, required: bool = False) -> YMap | None:
        if key not in parent:
            if required:
                raise SuiteError("required key is missing", parent.location, key=dotted)
            return None
        value = parent[key]
        if value is None:
            return None
        if not isinstance(value, YMap):
            raise SuiteError(f"expected a mapping, got {kind_text(value)}", self.value_loc(parent, key),
                             key=dotted)
        return value

    def check_keys(self, mapping: YMap, allowed: Iterable[str], where: str) -> list[Any]:
        """Record every unknown key (with a did-you-mean); returns the known keys, in file order."""
        allowed = list(allowed)
        known = []
        for key in mapping:
            if key not in allowed:
                prefix = f"{where}." if where else ""
                self.record(SuiteError(f"unknown key{did_you_mean(key, allowed)}", self.key_loc(mapping, key),
                                       key=f"{prefix}{key_text(key)}"))
            else:
                known.append(key)
        return known

    def string(self, parent: YMap, key: str, dotted: str) -> str | None:
        if key not in parent:
            return None
        value = parent[key]
        if not isinstance(value, str):
            raise SuiteError(f"expected a string, got {kind_text(value)}", self.value_loc(parent, key),
                             key=dotted)
        return value

    def choice(self, parent: YMap, key: str, dotted: str, choices: Iterable[str]) -> str | None:
        value = self.string(parent, key, dotted)
        choices = list(choices)
        if value is not None and value not in choices:
            raise SuiteError(f"unknown value '{shown(value)}'{did_you_mean(value, choices)}",
                             self.value_loc(parent, key), key=dotted)
        return value

    def safe_name(self, value: Any, loc: Location, dotted: str, what: str) -> str:
        """The one rule for names that become directories (names.py), checked where they are given."""
        if not isinstance(value, str):
            raise SuiteError(f"{what} must be a string, got {kind_text(value)}", loc, key=dotted)
        problem = name_problem(value)
        if problem is not None:
            if problem == "cannot be used in a file path":
                problem += " (it becomes a directory of the output)"
            raise SuiteError(f"{what} '{shown(value)}' {problem}: {NAME_RULE}", loc, key=dotted)
        return value

    def path_value(self, parent: YMap, key: str, dotted: str) -> str:
        """A file path the suite gives: a string without NUL or control characters, within PATH_MAX."""
        loc = self.value_loc(parent, key)
        value = parent[key]
        if not isinstance(value, str):
            raise SuiteError(f"expected a file path, got {kind_text(value)}", loc, key=dotted)
        problem = path_problem(value)
        if problem is not None:
            raise SuiteError(f"the path '{shown(value)}' {problem}", loc, key=dotted)
        return value

    def resolved_path(self, parent: YMap, key: str, dotted: str) -> str:
        """A path the suite gives (``path_value``), made absolute relative to the suite file."""
        value = self.path_value(parent, key, dotted)
        return str(self.resolved(value, self.value_loc(parent, key), dotted)[0])

    def resolved(self, value: str, loc: Location, dotted: str, *, check_file: bool = False
                 ) -> tuple[Path, bool]:
        """``value``, a path the suite gives, made absolute relative to the suite file, and (with
        ``check_file``) whether a file is there. A path the system cannot resolve (a symlink loop,
        a directory it may not search) is a SuiteError at ``loc``."""
        try:
            path = (self.path.parent / value).resolve()
            return path, check_file and path.is_file()
        except (OSError, ValueError, RuntimeError) as exc:
            # RuntimeError: Python 3.11's resolve() on a symlink loop
            raise SuiteError(f"cannot use the path '{shown(value)}': {getattr(exc, 'strerror', None) or exc}",
                             loc, key=dotted) from None

    def number(self, value: Any, loc: Location, dotted: str, *, integer: bool, positive: bool,
               minimum: float | None = None, maximum: float | None = None, note: str = "") -> int | float:
        problem = number_problem(value, integer=integer, positive=positive, minimum=minimum,
                                 maximum=maximum, note=note)
        if problem is not None:
            raise SuiteError(problem, loc, key=dotted)
        return value


def key_text(key: Any) -> str:
    return key if isinstance(key, str) else shown_value(key)


def kind_text(value: Any) -> str:
    return kind_of(value, null="nothing (null)")


def got_text(value: Any) -> str:
    """The kind and, where it adds something, the value, spelled as in YAML (never long)."""
    if value is None or isinstance(value, (list, dict)):
        return kind_text(value)
    if isinstance(value, bool):
        return f"{kind_text(value)} {str(value).lower()}"
    return f"{kind_text(value)} {shown_value(value)}"
