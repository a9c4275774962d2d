"""How figures read wherever the plugin shows them: the session table and ``mlperf-nv results``.

One place, so that a metric reads the same in the terminal at the end of a session and when
listed later from the result files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def metric_text(value: Any, unit: Any) -> str:
    """A headline metric: latencies in ms with three decimals, rates with one (``1,032.2 samples/s``)."""
    number = _number(value)
    if number is None:
        return ""
    unit = str(unit or "")
    text = f"{number:,.3f}" if unit == "ms" else f"{number:,.1f}"
    return f"{text} {unit}".rstrip()


def accuracy_text(value: Any) -> str:
    """An accuracy in percent: ``97.222%``."""
    number = _number(value)
    return "" if number is None else f"{number:.3f}%"


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def table(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> list[str]:
    """Rows under a header, every column as wide as its widest cell; no trailing blanks."""
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) if rows else len(c) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip()]
    for row in rows:
        lines.append("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns).rstrip())
    return lines
