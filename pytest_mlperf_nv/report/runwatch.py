"""What watches a run while its harness runs it: GPU telemetry and the live progress line.

The case runner wraps the harness's run in :func:`watch_run`; once the run is recorded,
:meth:`RunWatch.finish` stores the telemetry in the run dir and returns its JUnit properties. A run
that never happened (its harness skipped it) calls nothing after the block, so an earlier run's
files are left as they were.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..harness.api import RunContext
    from ..systems.telemetry import Telemetry, TelemetrySampler

#: the name under which plugin.py registers the reports' plugin (it draws the progress line)
REPORTS_PLUGIN = "mlperf_nv_reports"


class RunWatch:
    """The telemetry and progress line of one run."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.sampler: TelemetrySampler | None = None
        self.telemetry: Telemetry | None = None

    def finish(self) -> list[tuple[str, Any]]:
        """After the run is recorded: telemetry.json in the run dir, and the JUnit properties (mean
        power, energy, samples per joule). Nothing for a run with no GPU to watch."""
        if self.telemetry is None:
            return []
        from ..systems.telemetry import telemetry_properties, write_telemetry
        from .records import child_samples

        try:
            write_telemetry(self.run_dir, self.telemetry)
        except OSError:
            return []  # an unwritable run dir: the item's own report says what happened
        return telemetry_properties(self.telemetry, child_samples(self.run_dir))


@contextlib.contextmanager
def watch_run(ctx: RunContext) -> Iterator[RunWatch]:
    """Sample the GPUs of a GPU suite and draw the item's progress line while the block runs."""
    session, case = ctx.session, ctx.case
    watch = RunWatch(ctx.run_dir)
    with contextlib.ExitStack() as stack:
        interval = session.settings.get("telemetry_interval")
        if interval and str(case.suite.system.get("gpu", "none")) != "none":
            from ..systems.telemetry import TelemetrySampler

            watch.sampler = TelemetrySampler(interval_s=interval).start()
            stack.callback(_stop, watch)
        plugin = session.config.pluginmanager.get_plugin(REPORTS_PLUGIN)
        view = None if plugin is None else plugin.progress_view(_label(case), _expected_s(ctx))
        if view is not None:
            from .live import watch_progress

            stack.enter_context(watch_progress(ctx.run_dir, view))
        yield watch


def _stop(watch: RunWatch) -> None:
    if watch.sampler is not None:
        watch.telemetry = watch.sampler.stop()


def _label(case: Any) -> str:
    return f"{case.id} {case.scenario} {case.name}"


def _expected_s(ctx: RunContext) -> float | None:
    """How long LoadGen should run: a performance run's minimum duration; None for accuracy runs,
    whose length is the data set's."""
    if ctx.case.mode == "accuracy":
        return None
    value = ctx.plan.plain_settings.get("min_duration_ms")
    return 600.0 if value is None else float(value) / 1000  # LoadGen's mlperf.conf: 600 s


__all__ = ["REPORTS_PLUGIN", "RunWatch", "watch_run"]
