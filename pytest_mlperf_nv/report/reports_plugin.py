"""The reports' pytest hooks: shards, the live progress line, baselines, summaries, JUnit facts.

Registered by plugin.py at configure time. Each hook delegates to the report modules; state lives on
this object (one per pytest process). GPU telemetry and the progress line are started around each
run by the case runner (report.runwatch), which asks this object for the view that draws the line.
Under xdist, items run on workers (telemetry and the baseline gate happen there) and the controller
writes every report once.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from ..errors import OutputError
from .context import REPORT_ATTR
from .summary import ItemOutcome


class ReportsPlugin:
    def __init__(self, config: pytest.Config):
        self.config = config
        self.outcomes: dict[str, ItemOutcome] = {}
        self.written: list[Path] = []
        self.summary: dict[str, Any] | None = None
        self.problems: list[str] = []
        self.saved_baseline: tuple[Path, int] | None = None
        self.shard_manifest: dict[str, Any] | None = None
        self._baseline: dict[str, Any] | None | bool = False  # False: not loaded yet
        self._plan_shown = False
        self._terminal_fd: int | None = None
        if not self.is_worker and sys.stdout is not None:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                # Our own handle on the terminal, taken while no test's output is captured: the live
                # line is drawn there while the item's output goes to pytest's capture.
                if os.isatty(sys.stdout.fileno()):
                    self._terminal_fd = os.dup(sys.stdout.fileno())

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self._terminal_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._terminal_fd)
            self._terminal_fd = None

    # -- helpers ------------------------------------------------------------------------------
    @property
    def is_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    @property
    def state(self) -> Any:
        from ..keys import SESSION_KEY

        return self.config.stash[SESSION_KEY]

    def setting(self, name: str) -> Any:
        return self.state.settings.get(name)

    def out(self) -> Path:
        return Path(self.setting("out"))

    def _facts(self) -> Any:
        try:
            return self.state.system()
        except Exception:  # noqa: BLE001 - reports without machine facts are still reports
            return None

    # -- shards -------------------------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        shard = self.setting("shard")
        if shard is None:
            return  # --mlperf-explain and --mlperf-prefetch-only take their shard's part too
        from .shard import manifest, write_manifest

        index, count = shard
        data = manifest(index, count, [i.nodeid for i in items])
        keep = set(data["items"])
        deselected = [i for i in items if i.nodeid not in keep]
        items[:] = [i for i in items if i.nodeid in keep]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
        self.shard_manifest = data
        if not (config.getoption("mlperf_explain") or self.setting("prefetch_only")):
            write_manifest(self.out(), data)  # only a session that runs its shard leaves a manifest

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.shard_manifest is not None and not self.is_worker:
            self._show_plan(self.shard_manifest)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """xdist controller: the workers made the plan (and wrote the manifest); show it once."""
        if self.setting("shard") is None or self._plan_shown or self.setting("prefetch_only"):
            return  # (a prefetch-only session writes no manifest to read the plan from)
        from .shard import ShardError, read_manifest

        try:
            self.shard_manifest = read_manifest(self.out())
        except ShardError as exc:
            self.problems.append(str(exc))
            return
        self._show_plan(self.shard_manifest)

    def _show_plan(self, data: dict[str, Any]) -> None:
        from .shard import plan_lines

        self._plan_shown = True
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        if terminal is not None and self.config.get_verbosity() >= 0:
            for line in plan_lines(data):
                terminal.write_line(line)

    # -- the live progress line (drawn around each run by report.runwatch.watch_run) -----------
    def progress_view(self, label: str, expected_s: float | None) -> Any:
        """The view that draws a running item's progress, or None (off, -q, or an xdist worker,
        whose output nobody sees while it runs)."""
        interval = self.setting("progress")
        if interval is None or self.is_worker or self.config.get_verbosity() < 0:
            return None
        from .live import ProgressView

        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        if terminal is None:
            return None
        if self._terminal_fd is not None:
            writer = self.config.get_terminal_writer()
            return ProgressView(
                label,
                stream=_FdStream(self._terminal_fd),
                tty=True,
                expected_s=expected_s,
                column=writer.width_of_current_line,
                width=writer.fullwidth,
            )
        return ProgressView(
            label,
            stream=sys.stderr,
            tty=False,
            expected_s=expected_s,
            plain_interval_s=interval,
            write_line=self._plain_line,
        )

    def _plain_line(self, text: str) -> None:
        """A whole line among pytest's own output (capture set aside while it is written)."""
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        context = capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext()
        if terminal is None:
            return
        with context:
            terminal.write_line(f"mlperf: {text}")

    # -- each item's report: context, baseline gate -------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        from ..keys import CASE_KEY

        case = item.stash.get(CASE_KEY, None)
        if case is None or report.when == "teardown":
            return report
        from .context import case_context

        try:
            context = case_context(self.state, case)
        except Exception:  # noqa: BLE001 - the item's own failure is the story here
            context = {}
        setattr(report, REPORT_ATTR, context)
        if report.when == "call" and report.passed and context:
            self._gate(item, report, context)
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """A missing or unreadable --mlperf-compare baseline is a usage error before any item runs
        (and before xdist starts its workers)."""
        config = self.config
        if self.setting("compare") and not (config.option.collectonly or config.getoption("mlperf_explain")):
            self._baseline_data()

    def _baseline_data(self) -> dict[str, Any] | None:
        if self._baseline is False:
            self._baseline = None
            name = self.setting("compare")
            if name:
                from .baseline import BaselineError

                try:
                    self._baseline = self._load_baseline(name)
                except BaselineError as exc:
                    raise pytest.UsageError(f"--mlperf-compare: {exc}") from None
        return self._baseline  # type: ignore[return-value]

    def _load_baseline(self, name: str) -> dict[str, Any]:
        from .baseline import baseline_path, load_baseline, machine_id

        if name.endswith(".json"):
            path = Path(name)
            if not path.is_absolute():
                path = self.config.invocation_params.dir / path
        else:
            path = baseline_path(self.baseline_dir(), machine_id(self._facts()), name)
        data = load_baseline(path)
        data["path"] = str(path)
        return data

    def baseline_dir(self) -> Path:
        return Path(self.setting("baseline_dir") or self.out() / "baselines")

    def _gate(self, item: pytest.Item, report: pytest.TestReport, context: dict[str, Any]) -> None:
        """Fail a passed item whose figures regressed beyond --mlperf-compare-fail against the baseline."""
        baseline = self._baseline_data()
        if baseline is None:
            return
        from .baseline import compare_item, delta_text
        from .summary import build_item

        summary_item = build_item(
            ItemOutcome(report.nodeid, "passed", context=context), self.state.session_id
        )
        comparison = compare_item(summary_item, baseline, list(self.setting("compare_fail")))
        if comparison is None:
            return
        props = [("mlperf_baseline", f"{baseline.get('name')}: {delta_text(comparison)}"),
                 ("mlperf_baseline_delta", delta_text(comparison) or "n/a")]
        item.user_properties.extend(props)  # JUnit takes the properties from the item's last report
        report.user_properties.extend(props)
        if comparison["regressed"]:
            report.outcome = "failed"
            lines = [
                f"{context.get('benchmark_id')} {context.get('scenario')} {context.get('mode')}: regressed "
                f"against baseline {baseline.get('name')} ({baseline.get('path')})"
            ]
            lines += [f"  - {text}" for text in comparison["regressions"]]
            report.longrepr = "\n".join(lines)

    # -- outcomes, JUnit switch ---------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "teardown" and self.setting("junit_properties") != "all":
            report.user_properties = []  # the JUnit writer reads the teardown report's properties
        if self.is_worker or not getattr(report, "mlperf_suite", None):
            return
        if report.when == "call" or (report.when == "setup" and not report.passed):
            context = getattr(report, REPORT_ATTR, None) or {}
            outcome = "skipped" if report.skipped else ("passed" if report.passed else "failed")
            self.outcomes[report.nodeid] = ItemOutcome(
                report.nodeid, outcome, float(report.duration or 0.0), _message(report), context
            )

    # -- session end: reports, baseline, JUnit facts ------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.is_worker or self.config.getoption("mlperf_explain") or self.setting("prefetch_only"):
            return
        if not self.outcomes:
            return
        try:
            self._write(session)
        except (OSError, OutputError) as exc:  # a full or read-only disk: in words; the runs stay on disk
            from ..fsutil import disk_error

            problem = exc if isinstance(exc, OutputError) else disk_error(exc, self.out())
            self.problems.append(f"the reports (summary.json, summary.md, report.html) were not written: "
                                 f"{problem}")
        except Exception as exc:  # noqa: BLE001 - the runs are on disk whatever the report writer does
            self.problems.append(f"the reports were not written: {type(exc).__name__}: {exc}")

    def _write(self, session: pytest.Session) -> None:
        from .context import facts_dict
        from .junit import add_suite_properties, suite_properties
        from .summary import build_summary
        from .writer import write_reports

        facts = self._facts()
        state = self.state
        shard = self.setting("shard")
        baseline = self._baseline_data()
        info = {
            "id": state.session_id,
            "started": state.started,
            "finished": _now(),
            "plugin_version": _version(),
            "loadgen": _loadgen_version(),
        }
        summary = build_summary(
            list(self.outcomes.values()),
            session=info,
            system=facts_dict(facts),
            shard=None if shard is None else {"index": shard[0], "count": shard[1]},
            baseline=baseline,
            thresholds=list(self.setting("compare_fail")),
            gpu_name=getattr(facts, "gpu_name", None),
        )
        self.summary = summary
        self.written = write_reports(self.out(), summary, self.setting("cache_dir"))
        if self.setting("junit_properties") != "none":
            add_suite_properties(
                self.config, suite_properties(facts=facts, session=info, items=summary["items"], shard=shard)
            )
        name = self.setting("save_baseline")
        if name:
            from .baseline import baseline_path, machine_id, save_baseline

            path = baseline_path(self.baseline_dir(), machine_id(facts), name)
            count = save_baseline(path, name, machine_id(facts), summary["items"], facts_dict(facts))
            self.saved_baseline = (path, count)

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        if self.is_worker or (self.summary is None and not self.problems):
            return
        terminalreporter.section("MLPerf reports", sep="=")
        for problem in self.problems:
            terminalreporter.line(f"ERROR: {problem}")
        if self.summary is not None:
            for line in _comparison_lines(self.summary):
                terminalreporter.line(line)
            for path in self.written[:3]:
                terminalreporter.line(f"  {_display(path)}")
        if self.saved_baseline is not None:
            path, count = self.saved_baseline
            terminalreporter.line(f"baseline saved: {count} item(s) in {_display(path)}")


def _comparison_lines(summary: dict[str, Any]) -> list[str]:
    baseline = summary.get("baseline")
    if not baseline:
        return []
    from .baseline import delta_text

    lines = [
        f"compared with baseline {baseline['name']} ({baseline['path']}); fail thresholds: "
        f"{', '.join(baseline['thresholds']) or 'none'}"
    ]
    for item in summary["items"]:
        comparison = item.get("baseline")
        if comparison is None:
            if item["outcome"] != "skipped":
                lines.append(f"  {item['nodeid']}: not in the baseline")
            continue
        lines.append(f"  {item['nodeid']}: {delta_text(comparison) or 'no comparable figure'}")
        lines += [f"      {text}" for text in comparison["regressions"]]
    return lines


def _message(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    if report.failed:
        text = getattr(report, "longreprtext", "") or str(report.longrepr or "")
        return text[-4000:]
    return ""


class _FdStream:
    """Writes straight to a file descriptor (the terminal), past any output capture on sys.stdout."""

    def __init__(self, fd: int):
        self.fd = fd

    def write(self, text: str) -> None:
        os.write(self.fd, text.encode("utf-8", errors="replace"))

    def flush(self) -> None:
        pass


def _display(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _version() -> str:
    from .. import __version__

    return __version__


def _loadgen_version() -> str | None:
    from ..submission.rounds import installed_loadgen

    return installed_loadgen()


def _now() -> str:
    import datetime as _dt

    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


__all__ = ["ReportsPlugin"]
