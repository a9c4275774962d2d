"""Wording shared by every validator: did-you-mean hints and what kind a value is."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


def did_you_mean(word: Any, choices: Iterable[str], *, ignore_case: bool = False) -> str:
    """``"; did you mean 'x'?"`` for a near miss, else ``"; expected one of: a, b"``.

    ``ignore_case`` compares case-insensitively throughout; otherwise an exact-case near
    match wins and a different-case spelling of a choice is the fallback.
    """
    choices = list(choices)
    word = str(word)
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
