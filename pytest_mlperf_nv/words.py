"""Wording shared by every validator: did-you-mean hints and what kind a value is."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import Any

#: longer words are no typo of a choice (and difflib's cost grows with their length)
_MAX_WORD = 100


def did_you_mean(word: Any, choices: Iterable[str], *, ignore_case: bool = False) -> str:
    """``"; did you mean 'x'?"`` for a near miss, else ``"; expected one of: a, b"``.

    ``ignore_case`` compares case-insensitively throughout; otherwise an exact-case near
    match wins and a different-case spelling of a choice is the fallback.
    """
    choices = list(choices)
    if word is None or isinstance(word, (bool, int, float)):
        word = _scalar_text(word)
    if not isinstance(word, str) or len(word) > _MAX_WORD:
        # Not a near miss of a name (a list, a mapping, a long text): compare nothing, and
        # never format a value whose size the caller does not know.
        return f"; expected one of: {', '.join(choices)}"
    if ignore_case:
        close = difflib.get_close_matches(word.lower(), [c.lower() for c in choices], n=1, cutoff=0.6)
        close = [next(c for c in choices if c.lower() == close[0])] if close else []
    else:
        close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
        if not close:
            lowered = {c.lower(): c for c in choices}
            if word.lower() in lowered:
                close = [lowered[word.lower()]]
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; expected one of: {', '.join(choices)}"


def shown(value: Any, limit: int = 60) -> str:
    """A value as a message quotes it, never longer than about ``limit`` characters.

    Containers are described, not formatted: a suite's aliases can make a small file hold a
    value that would take gigabytes to print.
    """
    if isinstance(value, (list, dict)):
        what = "item" if isinstance(value, list) else "key"
        return f"{kind_of(value)} of {len(value)} {what}{'s' if len(value) != 1 else ''}"
    if isinstance(value, str):
        text = value if len(value) <= limit else value[:limit] + "..."
        return repr(text)
    text = _scalar_text(value) if isinstance(value, (int, float)) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def number_problem(value: Any, *, integer: bool, positive: bool = False, minimum: float | None = None,
                   maximum: float | None = None, note: str = "") -> str | None:
    """Why ``value`` is not an acceptable number (finite, in range), or None.

    ``note`` says where the maximum comes from (the type LoadGen keeps the value in).
    """
    expected = "an integer" if integer else "a finite number"
    if isinstance(value, float) and math.isnan(value):
        return f"expected {expected}, got NaN (.nan)"
    if isinstance(value, float) and math.isinf(value):
        return (f"expected {expected}, got {'-' if value < 0 else ''}infinity (a value of 1e309 or more "
                "reads as infinity)")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            integer and not isinstance(value, int)):
        got = kind_of(value, null="nothing (null)")
        if not isinstance(value, (list, dict)) and value is not None:
            got += f" {shown(value).lower() if isinstance(value, bool) else shown(value)}"
        return f"expected {'an integer' if integer else 'a number'}, got {got}"
    if positive and value <= 0:
        return f"must be greater than 0, got {shown(value)}"
    if minimum is not None and value < minimum:
        return f"must be at least {minimum:g}, got {shown(value)}"
    if maximum is not None and value > maximum:
        why = f" ({note})" if note else ""
        return f"must be at most {_grouped(maximum)}{why}, got {shown(value)}"
    return None


def _grouped(number: float) -> str:
    return f"{int(number):,}" if float(number).is_integer() else f"{number:g}"


def _scalar_text(value: Any) -> str:
    # str() of an integer of thousands of digits raises (and takes quadratic time).
    if isinstance(value, int) and not isinstance(value, bool) and abs(value).bit_length() > 256:
        return f"an integer of {abs(value).bit_length()} bits"
    return str(value)


def kind_of(value: Any, *, null: str = "null") -> str:
    """``"an integer"``, ``"a list"``, ... as a message names a value's type."""
    if value is None:
        return null
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
