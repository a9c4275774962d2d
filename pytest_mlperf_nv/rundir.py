"""Where every file of a run lives: one place for the run-directory layout.

    <out>/runs/<suite name>/<benchmark id>/<Scenario>/<mode or audit>/
        run_spec.json  user.conf  stdout.txt  stderr.txt  child_status.json  result.json
        mlperf_log_{summary,detail,accuracy,trace}.*   (or in a harness's own log dir)
        accuracy.txt  audit.config  verify_*.txt  ...

A suite's runs are keyed by its name (``name:``, default the file stem), which collection
keeps unique within a session, so two suite files never share run directories.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .suite.model import Case

RUNS = "runs"
RESULT = "result.json"
SPEC = "run_spec.json"
USER_CONF = "user.conf"
STDOUT = "stdout.txt"
STDERR = "stderr.txt"
CHILD_STATUS = "child_status.json"
ACCURACY_TXT = "accuracy.txt"
AUDIT_CONFIG = "audit.config"
#: passed to LoadGen as its audit.config on runs that are no audit: a path that never exists, so a
#: stray audit.config in a working directory cannot turn a normal run into a compliance run
NO_AUDIT_CONFIG = "audit.config.not-used"
#: a run dir's previous contents, moved aside when the run starts again
PREVIOUS_SUFFIX = ".previous"


@dataclass(frozen=True)
class RunLayout:
    """Every path of one run."""

    run_dir: Path

    @classmethod
    def of(cls, out: Path, case: Case) -> RunLayout:
        return cls(suite_runs(out, case.suite.name) / case.id / case.scenario / case.name)

    @property
    def result(self) -> Path:
        return self.run_dir / RESULT

    @property
    def spec(self) -> Path:
        return self.run_dir / SPEC

    @property
    def user_conf(self) -> Path:
        return self.run_dir / USER_CONF

    @property
    def stdout(self) -> Path:
        return self.run_dir / STDOUT

    @property
    def stderr(self) -> Path:
        return self.run_dir / STDERR

    @property
    def child_status(self) -> Path:
        return self.run_dir / CHILD_STATUS

    @property
    def accuracy_txt(self) -> Path:
        return self.run_dir / ACCURACY_TXT

    @property
    def audit_config(self) -> Path:
        return self.run_dir / AUDIT_CONFIG

    @property
    def no_audit_config(self) -> Path:
        return self.run_dir / NO_AUDIT_CONFIG

    @property
    def previous(self) -> Path:
        return self.run_dir.with_name(self.run_dir.name + PREVIOUS_SUFFIX)

    def sub(self, name: str) -> Path:
        """A directory or file of the run that a harness names itself (stage logs, its log tree)."""
        return self.run_dir / name


def prepare(layout: RunLayout, out: Path) -> Path | None:
    """An empty run dir for ``layout`` inside ``<out>/runs``; returns where the previous run went.

    The previous run's files are moved aside to ``<run dir>.previous`` (never read as a result),
    so a child that dies early cannot leave stale logs that read as fresh. The last finished run
    is never lost to an unfinished one: a run dir without result.json (its session was cancelled
    or killed) does not replace a finished ``.previous``; it is removed instead. A path that
    would leave ``<out>/runs`` is an OutsideError, a disk that refuses an OutputError naming the
    directory (both before anything is moved or removed where they apply).
    """
    from .fsutil import inside, remove, writing

    runs = Path(out) / RUNS
    run_dir, previous = layout.run_dir, layout.previous
    inside(runs, run_dir.parent)  # the names were checked at collection; the path is checked here
    moved = None
    with writing(run_dir.parent, what="create the run directory in"):
        if os.path.lexists(run_dir):
            ours = run_dir.is_dir() and not run_dir.is_symlink()
            if ours and (_finished(run_dir) or not _finished(previous)):
                remove(runs, previous)
                run_dir.rename(previous)
                moved = previous
            else:
                remove(runs, run_dir)  # unfinished, or not a directory of ours
        run_dir.mkdir(parents=True)
    return moved


def _finished(run_dir: Path) -> bool:
    return not run_dir.is_symlink() and (run_dir / RESULT).is_file()


def suite_runs(out: Path, suite_name: str) -> Path:
    """The directory that holds every run of one suite."""
    return Path(out) / RUNS / suite_name


def run_dir_of(out: Path, suite_name: str, bench_id: str, scenario: str, name: str) -> Path:
    """The run dir of one (benchmark id, scenario, mode or audit) of a suite."""
    return suite_runs(out, suite_name) / bench_id / scenario / name


def result_files(out: Path) -> list[Path]:
    """Every result.json under ``out``/runs (runs moved aside as ``.previous`` excluded), sorted."""
    root = Path(out) / RUNS
    return sorted(p for p in root.glob(f"*/*/*/*/{RESULT}")
                  if not p.parent.name.endswith(PREVIOUS_SUFFIX))


def display(path: Path) -> Path:
    """A path as a user reads it: relative to the working directory when it is below it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
