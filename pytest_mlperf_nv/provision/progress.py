"""A tiny progress reporter for long provisioning steps (downloads, preprocessing, builds).

On a terminal it redraws one line with ``\\r`` (at most ~10 times a second)::

    resnet50_v1.onnx:  45% 12.3 MB of 27.3 MB, 5.1 MB/s, ETA 0:03

Anywhere else (CI logs, pytest's captured output, files) it writes plain lines at
most once every ``interval_s`` seconds, plus a final line, and never a ``\\r``::

    resnet50_v1.onnx: 45% (12.3 MB of 27.3 MB, 5.1 MB/s)
    resnet50_v1.onnx: done, 27.3 MB in 5.4 s (5.1 MB/s)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

TTY_INTERVAL_S = 0.1  # redraw rate on a terminal: ~10/s is smooth and cheap
_UNSET = object()


def format_amount(n: float, unit: str = "B") -> str:
    """``12345678`` -> ``"12.3 MB"`` for bytes (decimal prefixes); ``"1234 items"`` for other units."""
    if unit != "B":
        return f"{n:.0f} {unit}" if unit else f"{n:.0f}"
    for prefix in ("", "k", "M", "G", "T"):
        if abs(n) < 1000 or prefix == "T":
            return f"{n:.0f} {prefix}B" if prefix == "" else f"{n:.1f} {prefix}B"
        n /= 1000
    raise AssertionError("unreachable")


def format_duration(seconds: float) -> str:
    """``75`` -> ``"1:15"``, ``3725`` -> ``"1:02:05"``."""
    s = max(0, round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Report progress of a step that processes ``total`` units (None: unknown).

    ``update(n)`` adds ``n`` units done; ``close()`` writes the final state (and is
    idempotent). ``quiet=True`` disables all output. ``stream`` defaults to
    ``sys.stderr`` as it is at construction time (so pytest's capture sees it).
    ``clock`` exists for tests. Use as a context manager to close on exit; if the
    block raises, the final line says ``stopped`` instead of ``done``.
    """

    def __init__(
        self,
        label: str,
        total: int | None,
        *,
        stream: TextIO | None = None,
        unit: str = "B",
        interval_s: float = 10.0,
        quiet: bool = False,
        initial: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.interval_s = interval_s
        self.quiet = quiet
        self.stream = sys.stderr if stream is None else stream
        self._clock = clock
        try:
            self.tty = bool(self.stream.isatty())
        except (AttributeError, ValueError):  # no isatty, or a closed stream
            self.tty = False
        self.done = initial
        now = clock()
        self._started = now
        self._rate_base = (now, initial)  # rate counts only what was done in this run
        self._last_draw = now
        self._last_width = 0
        self._drawn = False
        self.closed = False

    # -- state ------------------------------------------------------------------
    def update(self, n: int) -> None:
        """Add ``n`` units done; redraw if enough time has passed."""
        self.done += n
        if self.quiet or self.closed:
            return
        now = self._clock()
        if self.tty:
            if now - self._last_draw >= TTY_INTERVAL_S or not self._drawn:
                self._draw(now)
        elif now - self._last_draw >= self.interval_s:
            self._line(self._summary(now))
            self._last_draw = now

    def reset(self, done: int = 0, total: int | None | object = _UNSET) -> None:
        """Start counting again from ``done`` (e.g. a resumed or restarted download)."""
        self.done = done
        if total is not _UNSET:
            self.total = total  # type: ignore[assignment]
        self._rate_base = (self._clock(), done)

    def rate(self, now: float | None = None) -> float | None:
        """Units per second since the start (or the last reset); None before any time has passed."""
        now = self._clock() if now is None else now
        t0, n0 = self._rate_base
        if now - t0 <= 0:
            return None
        return (self.done - n0) / (now - t0)

    # -- output -----------------------------------------------------------------
    def _amounts(self) -> str:
        done = format_amount(self.done, self.unit)
        if self.total is None:
            return done
        return f"{done} of {format_amount(self.total, self.unit)}"

    def _percent(self) -> str | None:
        if not self.total:
            return None
        return f"{min(100, int(100 * self.done / self.total))}%"

    def _rate_text(self, rate: float | None) -> str | None:
        return None if rate is None else f"{format_amount(rate, self.unit)}/s"

    def _summary(self, now: float) -> str:
        """The non-TTY periodic line: ``label: 45% (12.3 MB of 27.3 MB, 5.1 MB/s)``."""
        amounts, rate, pct = self._amounts(), self._rate_text(self.rate(now)), self._percent()
        if pct:
            return f"{self.label}: {pct} ({amounts}, {rate})" if rate else f"{self.label}: {pct} ({amounts})"
        return f"{self.label}: {amounts} ({rate})" if rate else f"{self.label}: {amounts}"

    def _draw(self, now: float) -> None:
        rate = self.rate(now)
        parts = [self._amounts()]
        if (rt := self._rate_text(rate)) is not None:
            parts.append(rt)
        if self.total and rate:
            parts.append(f"ETA {format_duration(max(0, self.total - self.done) / rate)}")
        pct = self._percent()
        text = f"{self.label}: {pct + ' ' if pct else ''}{', '.join(parts)}"
        # Pad over the previous, possibly longer, line instead of emitting escape codes.
        pad = " " * max(0, self._last_width - len(text))
        self._write("\r" + text + pad)
        self._last_width = len(text)
        self._last_draw = now
        self._drawn = True

    def _line(self, text: str) -> None:
        self._write(text + "\n")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed/broken stream must never break the step being reported

    def close(self, ok: bool = True) -> None:
        """Write the final state (``done`` if ``ok``, else ``stopped``); later calls do nothing."""
        if self.closed:
            return
        self.closed = True
        if self.quiet:
            return
        now = self._clock()
        elapsed = now - self._started
        avg = self._rate_text(self.rate(now))
        if self.tty:
            self._draw(now)
            self._write("\n")
        if ok:
            details = f" ({avg})" if avg else ""
            final = f"{self.label}: done, {format_amount(self.done, self.unit)} in {elapsed:.1f} s{details}"
        else:
            final = f"{self.label}: stopped at {self._amounts()} after {elapsed:.1f} s"
        if not self.tty or not ok:
            self._line(final)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(ok=exc_type is None)
