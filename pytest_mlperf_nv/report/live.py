"""Live progress of a running item: the child writes ``progress.json``, the parent renders it.

The channel is one small file in the run dir, rewritten whole (temp file + rename) by the child at
most about once a second, so the parent never reads half a file::

    {"format": 1, "phase": "running", "started": 1765000000.0, "updated": 1765000012.3,
     "samples_completed": 45000, "samples_expected": 110000, "expected_s": 60.0, "rate": 3200.5}

``ProgressWriter`` is the child's side (the SUT calls ``update`` after each completed batch);
``watch_progress`` is the parent's (a context manager around the child run). On a terminal it
keeps one line below pytest's own, redrawn in place::

    digits Offline performance: 0:12 of ~1:00, 45,000 of 110,000 samples, 3,200 samples/s

elsewhere (CI logs) it writes a plain line every ``plain_interval_s`` seconds, and nothing for
runs shorter than that. A harness without a writer (NVIDIA's) still gets elapsed and expected time.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

PROGRESS_FILE = "progress.json"
FORMAT = 1
WRITE_INTERVAL_S = 1.0
#: the window over which the current rate is measured
RATE_WINDOW_S = 5.0
DEFAULT_PLAIN_INTERVAL_S = 30.0
TTY_POLL_S = 0.5


# -- child side ------------------------------------------------------------------------------


def write_progress(run_dir: Path, data: dict[str, Any]) -> None:
    """Write ``progress.json`` whole (the parent may read it at any moment)."""
    path = Path(run_dir) / PROGRESS_FILE
    tmp = path.with_name(f".{PROGRESS_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"format": FORMAT, **data}))
    tmp.replace(path)


class ProgressWriter:
    """The child's progress reporter. ``update(completed)`` takes the running total of completed
    samples and writes the file at most every ``interval_s`` seconds; ``close()`` writes the last state.

    Never raises: a full disk must not fail the benchmark it reports on.
    """

    #: write from a thread of its own (see :class:`BackgroundProgressWriter`)
    background = False

    def __init__(
        self,
        run_dir: Path,
        *,
        expected_samples: int | None = None,
        expected_s: float | None = None,
        interval_s: float = WRITE_INTERVAL_S,
        clock: Callable[[], float] = time.time,
    ):
        self.run_dir = Path(run_dir)
        self.expected_samples = expected_samples
        self.expected_s = expected_s
        self.interval_s = interval_s
        self._clock = clock
        self.started = clock()
        self.completed = 0
        self._last_write = float("-inf")
        self._points: deque[tuple[float, int]] = deque()
        self._write("running")

    def update(self, completed: int) -> None:
        self.completed = completed
        if self.background:
            return
        now = self._clock()
        if now - self._last_write >= self.interval_s:
            self._write("running", now)

    def close(self, phase: str = "done") -> None:
        self._write(phase)

    def rate(self, now: float) -> float | None:
        """Samples per second over the last few seconds."""
        self._points.append((now, self.completed))
        while len(self._points) > 2 and now - self._points[1][0] >= RATE_WINDOW_S:
            self._points.popleft()
        (t0, n0) = self._points[0]
        return (self.completed - n0) / (now - t0) if now > t0 else None

    def _write(self, phase: str, now: float | None = None) -> None:
        now = self._clock() if now is None else now
        self._last_write = now
        rate = self.rate(now)
        data = {
            "phase": phase,
            "started": self.started,
            "updated": now,
            "samples_completed": self.completed,
            "samples_expected": self.expected_samples,
            "expected_s": self.expected_s,
            "rate": None if rate is None else round(rate, 3),
        }
        try:
            write_progress(self.run_dir, data)
        except OSError:
            pass


class BackgroundProgressWriter(ProgressWriter):
    """A writer for a SUT's completion path: ``update`` only stores the count, and a daemon thread
    writes the file every ``interval_s`` seconds, so no file I/O delays a sample's completion (a
    Server run's latency bound is milliseconds)."""

    background = True

    def __init__(self, run_dir: Path, **kwargs: Any):
        super().__init__(run_dir, **kwargs)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mlperf-progress-writer", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._write("running")

    def close(self, phase: str = "done") -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._write(phase)


def expected_samples(mode: str, scenario: str, settings: dict[str, Any], total_count: int) -> int | None:
    """How many samples the run will issue, where LoadGen's settings decide it in advance: an accuracy
    run issues the data set once; Offline one query of max(min_query_count, 1.1 x min duration x
    expected QPS) samples; Server about min duration x target QPS. None for SingleStream and
    MultiStream, whose count follows the SUT's latency."""
    if mode == "AccuracyOnly":
        return int(total_count)
    seconds = float(settings.get("min_duration_ms", 600000)) / 1000
    if scenario == "Offline" and settings.get("offline_expected_qps"):
        count = int(1.1 * seconds * float(settings["offline_expected_qps"]))
        return max(int(settings.get("min_query_count", 1)), count)
    if scenario == "Server" and settings.get("server_target_qps"):
        return int(seconds * float(settings["server_target_qps"]))
    return None


def loadgen_writer(run_dir: Path, settings: Any, mode: str, scenario: str,
                   total_count: int) -> ProgressWriter:
    """The child's writer for a LoadGen test, its expectations taken from LoadGen's own TestSettings
    (``settings``, after mlperf.conf and the run's settings were applied)."""
    names = ("min_duration_ms", "offline_expected_qps", "server_target_qps", "min_query_count")
    plain: dict[str, Any] = {n: getattr(settings, n) for n in names if getattr(settings, n, None) is not None}
    seconds = None if mode == "AccuracyOnly" else float(plain.get("min_duration_ms", 600000)) / 1000
    return BackgroundProgressWriter(run_dir, expected_s=seconds,
                                    expected_samples=expected_samples(mode, scenario, plain, total_count))


def read_progress(run_dir: Path, since: float | None = None) -> dict[str, Any] | None:
    """The child's last progress, or None (no file yet, unreadable, or older than ``since``: a
    previous run's)."""
    try:
        data = json.loads((Path(run_dir) / PROGRESS_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    if since is not None and float(data.get("started") or 0) < since:
        return None
    return data


# -- parent side -----------------------------------------------------------------------------


class Stream(Protocol):
    """Where a view writes: a text file, or the terminal's own descriptor."""

    def write(self, text: str, /) -> Any: ...

    def flush(self) -> None: ...


def _clock_text(seconds: float) -> str:
    s = max(0, int(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def render_line(
    label: str, elapsed_s: float, expected_s: float | None, progress: dict[str, Any] | None
) -> str:
    """``digits Offline performance: 0:12 of ~1:00, 45,000 of 110,000 samples, 3,200 samples/s``."""
    text = f"{label}: {_clock_text(elapsed_s)}"
    expected = expected_s
    if progress and progress.get("expected_s"):
        expected = float(progress["expected_s"])
    if expected and expected >= 1:
        text += f" of ~{_clock_text(expected)}"
    if progress:
        done = int(progress.get("samples_completed") or 0)
        wanted = progress.get("samples_expected")
        text += f", {done:,} of {int(wanted):,} samples" if wanted else f", {done:,} samples"
        if progress.get("rate") is not None:
            text += f", {float(progress['rate']):,.0f} samples/s"
        if progress.get("phase") not in (None, "running"):
            text += f" ({progress['phase']})"
    return text


class ProgressView:
    """Renders one item's progress to ``stream``: a redrawn line on a terminal (``tty``), plain lines
    every ``plain_interval_s`` seconds elsewhere, nothing when ``quiet``.

    On a terminal the line goes below the cursor and is removed at the end, putting the cursor back
    at ``column`` of the line above, so pytest's own output continues where it was.
    """

    def __init__(
        self,
        label: str,
        *,
        stream: Stream,
        tty: bool,
        quiet: bool = False,
        expected_s: float | None = None,
        plain_interval_s: float = DEFAULT_PLAIN_INTERVAL_S,
        column: int = 0,
        width: int = 80,
        clock: Callable[[], float] = time.monotonic,
        write_line: Callable[[str], None] | None = None,
    ):
        self.label = label
        self.stream = stream
        self.tty = tty
        self.quiet = quiet
        self.expected_s = expected_s
        self.plain_interval_s = plain_interval_s
        self.column = column
        self.width = max(20, width)
        self._clock = clock
        self._write_line = write_line
        self.started = clock()
        self._last_plain = self.started
        self._drawn = False
        self.lines_written = 0

    def tick(self, progress: dict[str, Any] | None) -> None:
        if self.quiet:
            return
        now = self._clock()
        text = render_line(self.label, now - self.started, self.expected_s, progress)
        if self.tty:
            prefix = "" if self._drawn else "\n"
            self._emit(f"{prefix}\r{text[: self.width - 1]}\x1b[K")
            self._drawn = True
        elif now - self._last_plain >= self.plain_interval_s:
            self._last_plain = now
            self._plain(text)

    def last(self, progress: dict[str, Any] | None) -> None:
        """The run ended: where plain lines were written, one more with the final count (a run too
        short for any line stays silent)."""
        if self.quiet or self.tty or not self.lines_written:
            return
        self._plain(render_line(self.label, self._clock() - self.started, self.expected_s, progress))

    def close(self) -> None:
        if self.quiet or not self._drawn:
            return
        # Clear the live line, go back up to pytest's line, to the column it had reached.
        self._emit(f"\r\x1b[K\x1b[A\x1b[{self.column + 1}G")
        self._drawn = False

    def _plain(self, text: str) -> None:
        self.lines_written += 1
        if self._write_line is not None:
            self._write_line(text)
        else:
            self._emit(text + "\n")

    def _emit(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed terminal must never fail the run being watched


@contextlib.contextmanager
def watch_progress(
    run_dir: Path, view: ProgressView, *, poll_s: float | None = None, since: float | None = None
) -> Iterator[ProgressView]:
    """Render the child's ``progress.json`` in ``run_dir`` through ``view`` while the block runs.

    ``since`` (a Unix time, default: now) tells this run's file from a previous run's.
    """
    if view.quiet:
        yield view
        return
    since = time.time() - 0.001 if since is None else since
    poll = poll_s if poll_s is not None else (TTY_POLL_S if view.tty else min(1.0, view.plain_interval_s))
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(poll):
            view.tick(read_progress(run_dir, since))

    thread = threading.Thread(target=loop, name="mlperf-progress", daemon=True)
    thread.start()
    try:
        yield view
    finally:
        stop.set()
        thread.join(timeout=5)
        view.last(read_progress(run_dir, since))
        view.close()


__all__ = [
    "PROGRESS_FILE",
    "BackgroundProgressWriter",
    "ProgressView",
    "ProgressWriter",
    "loadgen_writer",
    "read_progress",
    "render_line",
    "watch_progress",
    "write_progress",
]
