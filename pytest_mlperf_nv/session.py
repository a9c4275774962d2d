"""State and behaviour of one pytest session: settings, registry, cache, the collected suites,
the results reported so far, compliance ordering, and the session-end reports."""

from __future__ import annotations

import datetime as _dt
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .errors import Location, SettingsError, SuiteError
from .keys import CASE_KEY, SESSION_KEY
from .options import Settings
from .provision.cache import Cache
from .registry import Registry, builtin_settings
from .suite.overrides import Override, parse_override

if TYPE_CHECKING:
    from .harness.api import Harness
    from .suite.model import Case, Suite

__all__ = ["SESSION_KEY", "MlperfSession"]


@dataclass
class MlperfSession:
    config: pytest.Config
    settings: Settings
    session_id: str
    started: str
    suite_args: set[Path] = field(default_factory=set)
    #: one row per finished mlperf item (controller side), for the summary table
    rows: list[dict[str, Any]] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    used_overrides: set[Override] = field(default_factory=set)
    #: node ids of the mlperf items selected in this session (after -k/-m deselection)
    selected: set[str] = field(default_factory=set)
    #: compliance items are selected: items record when they end (compliance items wait on that)
    has_compliance: bool = False
    #: what the session wrote into the submission tree (controller)
    tree_reports: list[Any] = field(default_factory=list)
    tree_error: str | None = None
    #: skipped mlperf items: (node id, reason), for the summary's "skipped: why" block
    skips: list[tuple[str, str]] = field(default_factory=list)
    #: the item whose run an interrupt (Ctrl-C) stopped, and its run dir
    interrupted: tuple[str, Path] | None = None
    #: suites collected in this process, by resolved path
    suites: dict[Path, Suite] = field(default_factory=dict)
    #: suite files whose items reported a result (on the controller: from every worker's reports)
    reported_suites: dict[Path, None] = field(default_factory=dict)
    _registry: Registry | None = None
    _cache: Cache | None = None
    _system: Any = None

    @classmethod
    def create(cls, config: pytest.Config) -> MlperfSession:
        workerinput = getattr(config, "workerinput", None)
        session_id = (workerinput or {}).get("mlperf_session_id") or uuid.uuid4().hex[:12]
        started = (workerinput or {}).get("mlperf_started") or _now()
        settings = Settings(config, builtin_settings())
        session = cls(config=config, settings=settings, session_id=session_id, started=started)
        session.overrides = [parse_override(text) for text in config.getoption("mlperf_set") or []]
        for arg in config.invocation_params.args:
            arg = str(arg)
            if arg.startswith("-"):
                continue
            path = Path(arg.split("::", 1)[0])
            if path.suffix in (".yaml", ".yml"):
                session.suite_args.add((config.invocation_params.dir / path).resolve())
        return session

    # -- what the session works with -------------------------------------------------------
    @property
    def out(self) -> Path:
        """The output dir (runs, reports, the submission tree)."""
        return Path(self.settings.get("out"))

    @property
    def is_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    @property
    def is_xdist_controller(self) -> bool:
        return not self.is_worker and getattr(self.config.option, "dist", "no") != "no"

    def marker_dir(self) -> Path:
        """Where items of this session record that they ended (compliance items wait on them)."""
        return self.out / ".sessions" / self.session_id

    def get_registry(self) -> Registry:
        if self._registry is None:
            registry = Registry()
            self.config.hook.pytest_mlperf_register(registry=registry)
            self._registry = registry
        return self._registry

    @property
    def registry(self) -> Registry:
        return self.get_registry()

    def harness_for(self, case: Case) -> Harness:
        """The harness that runs ``case`` (its suite's, or --mlperf-harness's)."""
        return self.get_registry().harnesses[case.suite.harness]

    @property
    def cache(self) -> Cache:
        if self._cache is None:
            self._cache = Cache(self.settings.get("cache_dir"))
        return self._cache

    def system(self) -> Any:
        """The machine's facts, read once: the snapshot file if one is set, else NVML."""
        if self._system is None:
            from .systems.detect import detect_system
            from .systems.snapshot import SnapshotError, read_snapshot

            snapshot = self.settings.get("system_snapshot")
            if snapshot is not None:
                try:
                    self._system = read_snapshot(snapshot)
                except SnapshotError as exc:
                    raise SettingsError(f"--mlperf-system-snapshot: {exc}") from None
            else:
                self._system = detect_system()
        return self._system

    @property
    def worker(self) -> str:
        """The xdist worker id of this process's session ("main" without xdist). From the session's
        own config, not the environment: an in-process session started by a worker is not one."""
        workerinput = getattr(self.config, "workerinput", None)
        return str(workerinput.get("workerid", "main")) if workerinput else "main"

    # -- collection ------------------------------------------------------------------------
    def prepare_suite(self, path: Path) -> Suite:
        """A suite as its items run it: loaded, GPU profile applied, --mlperf-set overrides applied,
        checked by its harness. Raises SuiteError / SettingsError."""
        from .suite.overrides import apply_overrides, check_profile_rules
        from .suite.profiles import apply_profile
        from .suite.schema import load_suite

        registry = self.get_registry()
        suite = load_suite(path, registry, harness_override=self.settings.get("harness"))
        apply_profile(suite, self.system)
        self.used_overrides |= apply_overrides(suite, self.overrides)
        check_profile_rules(suite, self.settings.sourced("profile", suite.profile))
        registry.harnesses[suite.harness].check_suite(suite)
        return suite

    def collected(self, suite: Suite) -> None:
        """Keep a collected suite; two suite files with one name would share run dirs: refused."""
        path = suite.path.resolve()
        for other_path, other in self.suites.items():
            if other_path != path and other.name == suite.name:
                raise SuiteError(
                    f"suite name '{suite.name}' is also the name of {other_path} in this session: their "
                    "runs would share a run directory and a system in the submission tree; give one of "
                    "them its own 'name:'", Location(suite.path, 1, 1), key="name")
        self.suites[path] = suite

    def order_items(self, items: list[pytest.Item]) -> None:
        """Compliance items run after every other item (they verify against those runs); record the
        selected items. Called on the final item list, after every plugin's selection and reordering
        (-k, -m, --lf, --ff) and before xdist reports a worker's collection."""
        cases = [(item, item.stash.get(CASE_KEY, None)) for item in items]
        self.has_compliance = any(c is not None and c.mode == "compliance" for _, c in cases)
        if self.has_compliance:
            items[:] = [i for i, c in cases if c is None or c.mode != "compliance"] + \
                       [i for i, c in cases if c is not None and c.mode == "compliance"]
        self.selected = {item.nodeid for item, case in cases if case is not None}

    def check_out_dir(self) -> None:
        """The output dir must be writable before any item runs: one clear error, not one per item."""
        import tempfile

        out = self.out
        try:
            # Nothing is created here (a --mlperf-prefetch-only session leaves no output dir): an
            # existing dir is probed with a temporary file, a missing one through its nearest
            # existing ancestor.
            existing = out
            while not existing.exists() and existing != existing.parent:
                existing = existing.parent
            if not existing.is_dir():
                raise NotADirectoryError(20, f"Not a directory: {existing}", str(existing))
            if existing == out:
                with tempfile.NamedTemporaryFile(dir=out, prefix=".mlperf-write-check-"):
                    pass
            elif not os.access(existing, os.W_OK | os.X_OK):
                raise PermissionError(13, f"Permission denied: {existing}", str(existing))
        except OSError as exc:
            source = self.settings.sourced("out").source
            raise pytest.UsageError(
                f"cannot write the output directory {out} ({exc.strerror or exc}; from {source}): choose a "
                "writable directory with --mlperf-out, MLPERF_NV_OUT or the ini key mlperf_out") from None

    def check_overrides(self, suites: list[Suite]) -> None:
        """Every ``--mlperf-set`` names a benchmark id or name of the suites (or '*'): a typo is a
        usage error with a did-you-mean, not a setting silently left unapplied."""
        from .words import did_you_mean

        if not suites:
            return
        known = sorted({name for suite in suites for case in suite.cases
                        for name in (case.id, case.benchmark)})
        for override in self.overrides:
            if override.target != "*" and override.target not in known:
                raise pytest.UsageError(
                    f"--mlperf-set {override.text!r}: no benchmark id or name {override.target!r} in "
                    f"{', '.join(sorted(s.path.name for s in suites))}"
                    f"{did_you_mean(override.target, known)} (the suites have: {', '.join(known)})")

    def check_suite_args(self) -> None:
        """On an xdist controller, which collects nothing itself: the checks collection would make,
        on the suite files named on the command line, before any worker runs an item."""
        from .errors import MlperfError

        suites = []
        for path in sorted(self.suite_args):
            try:
                suites.append(self.prepare_suite(path))
            except MlperfError:
                continue  # the workers' collection reports it
        self.check_overrides(suites)

    def unused_overrides(self) -> list[str]:
        return [o.text for o in self.overrides if o not in self.used_overrides]

    # -- reports -----------------------------------------------------------------------------
    def record_report(self, report: pytest.TestReport) -> None:
        """One finished item's report (controller side): a table row, the suite it belongs to, and
        the marker compliance items wait on."""
        from .compliance import mark_done
        from .report.terminal import row_from_report, skip_reason

        if report.when == "???" and "::" in report.nodeid:
            # xdist's report for an item whose worker died: a compliance item waiting on it stops.
            mark_done(self, report.nodeid)
        suite = getattr(report, "mlperf_suite", None)
        if not suite:
            return
        self.reported_suites[Path(suite)] = None
        if report.when == "teardown" and self.has_compliance:
            mark_done(self, report.nodeid)  # compliance items wait on this
        if report.skipped and "mlperf_provisioned" not in dict(report.user_properties):
            self.skips.append((report.nodeid, skip_reason(report)))
        if report.when == "call" or (report.failed and report.when == "setup"):
            row = row_from_report(report)
            if row is not None:
                self.rows.append(row)

    def suites_run(self) -> list[Suite]:
        """The suites whose items reported a result, as collected (or loaded again on an xdist
        controller, which collects nothing itself)."""
        from .errors import MlperfError

        found = []
        for path in self.reported_suites:
            suite = self.suites.get(path)
            if suite is None:
                try:
                    suite = self.prepare_suite(path)
                except MlperfError:
                    continue  # its items already failed collection
            found.append(suite)
        return found

    def finish(self, session: pytest.Session) -> None:
        """Session end on the controller: markers cleaned up, the submission tree written."""
        if self.marker_dir().exists():  # compliance items' "ended" markers
            import shutil

            shutil.rmtree(self.marker_dir(), ignore_errors=True)
            try:
                self.marker_dir().parent.rmdir()  # only when no other session is using it
            except OSError:
                pass
        if self.settings.get("prefetch_only") or not self.rows:
            return
        from .report.submission import write_submission

        try:
            self.tree_reports, failed = write_submission(self, self.suites_run())
        except Exception as exc:  # noqa: BLE001 - the runs are kept whatever the tree writer does
            self.tree_error = self._tree_error(exc)
            failed = True
        if failed and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _tree_error(self, exc: BaseException) -> str:
        import traceback

        log: Path | None = self.out / "submission-error.txt"
        try:
            assert log is not None
            log.write_text("".join(traceback.format_exception(exc)))
        except OSError:
            log = None
        where = f" (details: {log})" if log else ""
        return (f"the submission tree was not written: {type(exc).__name__}: {exc}{where}; the run "
                "directories are intact, and the next session rebuilds the tree from them")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
