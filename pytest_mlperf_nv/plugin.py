"""pytest hooks. Each delegates to a module in a few lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from . import fixtures as _fixtures
from . import hookspecs
from .collect import MlperfItem, SuiteFile, is_suite_file
from .errors import SettingsError
from .options import add_options
from .report.terminal import row_from_report, write_table
from .session import SESSION_KEY, MlperfSession

MARKERS = {
    "performance": "MLPerf performance run (LoadGen PerformanceOnly)",
    "accuracy": "MLPerf accuracy run (LoadGen AccuracyOnly), scored by the plugin",
    "compliance": "MLPerf compliance audit (TEST01, TEST04, ...), verified by the plugin",
    "mlperf": "any item collected from an MLPerf suite file",
}


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    try:
        config.stash[SESSION_KEY] = MlperfSession.create(config)
    except SettingsError as exc:
        raise pytest.UsageError(str(exc)) from None
    if config.getoption("mlperf_explain") and getattr(config.option, "dist", "no") != "no":
        config.option.dist = "no"  # explaining runs nothing: no xdist workers needed
        config.option.numprocesses = None
    config.pluginmanager.register(_fixtures, "mlperf_nv_fixtures")
    config.pluginmanager.register(_Reporter(config.stash[SESSION_KEY]), "mlperf_nv_reporter")


def pytest_mlperf_register(registry: Any) -> None:
    from .benchmarks import custom, digits, imagenet, resnet50
    from .harness.loadgen.backends import OnnxRuntimeBackend

    registry.add_backend("onnxruntime", OnnxRuntimeBackend)
    registry.add_dataset(custom.ARRAYS_DATASET, custom.arrays_dataset)
    registry.add_dataset("digits", digits.digits_dataset)
    registry.add_benchmark(digits.definition())
    registry.add_dataset("imagenet", imagenet.imagenet_dataset, prepare=True)
    registry.add_dataset("synthetic-imagenet", imagenet.synthetic_imagenet_dataset)
    registry.add_benchmark(resnet50.definition())


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Never collect inside the output dir (the submission tree keeps copies of the suites)."""
    state = config.stash.get(SESSION_KEY, None)
    if state is None:
        return None
    out = Path(state.settings.get("out")).resolve()
    path = collection_path.resolve()
    if path == out or out in path.parents:
        return True
    return None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if is_suite_file(file_path, parent.config):
        return SuiteFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: hand every worker the session id and start time."""
    session = node.config.stash[SESSION_KEY]
    node.workerinput["mlperf_session_id"] = session.session_id
    node.workerinput["mlperf_started"] = session.started


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    # A prerequisite missing under --mlperf-strict is found while fixtures provision; report
    # it as the item's failure (not a setup error), as a skip would have been the item's.
    if report.when == "setup" and call.excinfo is not None:
        from .provision.provisioners import MissingPrerequisite

        if call.excinfo.errisinstance(MissingPrerequisite):
            report.when = "call"
    return report


def pytest_sessionstart(session: pytest.Session) -> None:
    state = session.config.stash[SESSION_KEY]
    if state.settings.get("cache_clear") and not hasattr(session.config, "workerinput"):
        removed = state.cache.clear()  # the controller clears once, before any worker builds
        terminal = session.config.pluginmanager.get_plugin("terminalreporter")
        if terminal is not None:
            terminal.write_line(f"mlperf: cache cleared: {removed} entries removed from {state.cache.root}")
    from .doctor import session_check

    session_check(session)  # --mlperf-doctor


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    state = session.config.stash[SESSION_KEY]
    _order_compliance_last(session, state)
    unused = [o.text for o in state.overrides if o not in state.used_overrides]
    if unused and not hasattr(session.config, "workerinput"):
        session.config.issue_config_time_warning(
            pytest.PytestConfigWarning(f"--mlperf-set matched no collected item: {', '.join(unused)}"),
            stacklevel=2)


def _order_compliance_last(session: pytest.Session, state: MlperfSession) -> None:
    """Compliance items run after every other item (they verify against those runs).

    Done on the final item list, after every plugin's selection and reordering (-k, -m, --lf,
    --ff), and before xdist's worker reports its collection: the order holds on every worker.
    """
    from .collect import CASE_KEY

    cases = [(item, item.stash.get(CASE_KEY, None)) for item in session.items]
    state.has_compliance = any(c is not None and c.mode == "compliance" for _, c in cases)
    if state.has_compliance:
        session.items[:] = [i for i, c in cases if c is None or c.mode != "compliance"] + \
                           [i for i, c in cases if c is not None and c.mode == "compliance"]
    state.selected = {item.nodeid for item, case in cases if case is not None}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput") or session.config.getoption("mlperf_explain"):
        return
    state = session.config.stash[SESSION_KEY]
    if state.marker_dir().exists():  # compliance items' "ended" markers; the controller cleans up
        import shutil

        shutil.rmtree(state.marker_dir(), ignore_errors=True)
        try:
            state.marker_dir().parent.rmdir()  # only when no other session is using it
        except OSError:
            pass
    if state.settings.get("prefetch_only") or not state.rows:
        return
    from .report.submission import write_submission

    try:
        state.tree_reports, failed = write_submission(state, session.config)
    except Exception as exc:  # noqa: BLE001 - the runs are kept whatever the tree writer does
        state.tree_error = _tree_error(state, exc)
        failed = True
    if failed and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _tree_error(state: MlperfSession, exc: BaseException) -> str:
    import traceback

    out: Path = state.settings.get("out")
    log = out / "submission-error.txt"
    try:
        log.write_text("".join(traceback.format_exception(exc)))
    except OSError:
        log = None
    where = f" (details: {log})" if log else ""
    return (f"the submission tree was not written: {type(exc).__name__}: {exc}{where}; the run directories "
            "are intact, and the next session rebuilds the tree from them")


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    if not session.config.getoption("mlperf_explain"):
        return None
    from .collect import CASE_KEY
    from .report.explain import explain_case

    state = session.config.stash[SESSION_KEY]
    terminal = session.config.pluginmanager.get_plugin("terminalreporter")
    for item in session.items:
        if CASE_KEY in item.stash:
            for line in explain_case(item.nodeid, item.stash[CASE_KEY], state):
                terminal.write_line(line)
    terminal.write_line(f"--mlperf-explain: {len(session.items)} item(s) explained, nothing was run")
    return True


class _Reporter:
    """Collects one row per finished mlperf item; prints the table on the controller."""

    def __init__(self, session: MlperfSession):
        self.session = session

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "???" and "::" in report.nodeid:
            from .execute_audit import mark_done

            # xdist's report for an item whose worker died: a compliance item waiting on it stops.
            mark_done(self.session, report.nodeid)
        if not report.keywords.get("mlperf"):
            return
        if report.when == "teardown" and self.session.has_compliance:
            from .execute_audit import mark_done

            mark_done(self.session, report.nodeid)  # compliance items wait on this
        if report.when == "call" or (report.failed and report.when == "setup"):
            row = row_from_report(report)
            if row is not None:
                self.session.rows.append(row)

    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        if not hasattr(config, "workerinput"):
            write_table(terminalreporter, self.session.rows)
            if self.session.tree_error:
                terminalreporter.section("MLPerf submission", sep="=")
                terminalreporter.line(f"ERROR: {self.session.tree_error}")
            if self.session.tree_reports:
                from .report.submission import write_tree_summary

                write_tree_summary(terminalreporter, self.session.tree_reports)


__all__ = ["MlperfItem"]
