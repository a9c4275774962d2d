"""pytest hooks. Each delegates to a module in a few lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from . import fixtures as _fixtures
from . import hookspecs
from .collect import MlperfItem, SuiteFile, is_suite_file
from .errors import MlperfError
from .keys import CASE_KEY, SESSION_KEY
from .options import add_options
from .registry import builtin_settings, register_builtins
from .report.reports_plugin import ReportsPlugin
from .session import MlperfSession

MARKERS = {
    "performance": "MLPerf performance run (LoadGen PerformanceOnly)",
    "accuracy": "MLPerf accuracy run (LoadGen AccuracyOnly), scored by the plugin",
    "compliance": "MLPerf compliance audit (TEST01, TEST04, ...), verified by the plugin",
}


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser, builtin_settings())


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    try:
        config.stash[SESSION_KEY] = MlperfSession.create(config)
    except MlperfError as exc:
        raise pytest.UsageError(str(exc)) from None
    if config.getoption("mlperf_explain") and getattr(config.option, "dist", "no") != "no":
        config.option.dist = "no"  # explaining runs nothing: no xdist workers needed
        config.option.numprocesses = None
    config.pluginmanager.register(_fixtures, "mlperf_nv_fixtures")
    config.pluginmanager.register(_Reporter(config.stash[SESSION_KEY]), "mlperf_nv_reporter")
    config.pluginmanager.register(ReportsPlugin(config), "mlperf_nv_reports")


def pytest_mlperf_register(registry: Any) -> None:
    register_builtins(registry)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Never collect inside the output dir (the submission tree keeps copies of the suites)."""
    state = config.stash.get(SESSION_KEY, None)
    if state is None:
        return None
    out, path = state.out.resolve(), collection_path.resolve()
    return True if path == out or out in path.parents else None


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


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """xdist controller: hold the output dir before any worker runs an item."""
    from .outlock import is_suite_nodeid, lock_session_output

    if any(is_suite_nodeid(nodeid) for nodeid in ids):
        lock_session_output(node.config)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    case = item.stash.get(CASE_KEY, None)
    if case is not None:
        report.mlperf_suite = str(case.suite.path.resolve())  # travels with xdist's reports
    # A prerequisite missing under --mlperf-strict, or a harness stage that failed, is found while
    # fixtures provision; report it as the item's failure (not a setup error), as a skip would have
    # been the item's.
    if report.when == "setup" and call.excinfo is not None:
        from .provision.provisioners import ItemFailure

        if call.excinfo.errisinstance(ItemFailure):
            report.when = "call"
    # A domain error while the item's fixtures provision (a model file that is no model, a cache
    # that cannot be written) is shown as its message, as in the call phase: no traceback.
    if case is not None and report.failed and report.when != "call" and call.excinfo is not None \
            and call.excinfo.errisinstance(MlperfError):
        report.longrepr = str(call.excinfo.value)
    return report


def pytest_sessionstart(session: pytest.Session) -> None:
    state = session.config.stash[SESSION_KEY]
    if state.is_xdist_controller and state.suite_args and not session.config.option.collectonly:
        # Its workers collect: check before they start running items.
        state.check_suite_args()
        state.check_out_dir()
    if state.settings.get("cache_clear") and not state.is_worker:
        removed = state.cache.clear()  # the controller clears once, before any worker builds
        terminal = session.config.pluginmanager.get_plugin("terminalreporter")
        if terminal is not None:
            terminal.write_line(f"mlperf: cache cleared: {removed} entries removed from {state.cache.root}")
    from .doctor import session_check

    session_check(session)  # --mlperf-doctor


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    state = session.config.stash[SESSION_KEY]
    state.order_items(session.items)
    config = session.config
    if not state.is_worker:
        state.check_overrides(list(state.suites.values()))
        if state.selected and not (config.option.collectonly or config.getoption("mlperf_explain")):
            state.check_out_dir()
    if state.selected:
        from .outlock import lock_session_output

        lock_session_output(config)  # one session at a time per output dir
    unused = state.unused_overrides()
    if unused and not state.is_worker:
        session.config.issue_config_time_warning(
            pytest.PytestConfigWarning(f"--mlperf-set matched no collected item: {', '.join(unused)}"),
            stacklevel=2)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash[SESSION_KEY]
    if not state.is_worker and not session.config.getoption("mlperf_explain"):
        state.finish(session)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    if not session.config.getoption("mlperf_explain"):
        return None
    from .report.explain import explain_items

    terminal = session.config.pluginmanager.get_plugin("terminalreporter")
    for line in explain_items(session.config.stash[SESSION_KEY], session.items):
        if terminal is not None:
            terminal.write_line(line)
    return True


class _Reporter:
    """Hands every report to the session; prints the session's summaries on the controller."""

    def __init__(self, session: MlperfSession):
        self.session = session

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.session.record_report(report)

    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        if not self.session.is_worker:
            from .report.terminal import write_summary

            write_summary(terminalreporter, self.session)


__all__ = ["MlperfItem"]
