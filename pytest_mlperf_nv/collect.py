"""Collection: a suite file becomes nested collectors and one item per case.

    SuiteFile (suites/cpu.yaml) > BenchmarkNode (digits) > ScenarioNode (Offline) > item (performance)

so that the printed node id ``suites/cpu.yaml::digits::Offline::performance`` selects one
item. Items are pytest.Function objects, so fixtures (and conftest overrides) apply.
"""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .errors import MlperfError, SuiteError
from .fixtures import mlperf_test
from .keys import CASE_KEY, SESSION_KEY
from .suite.model import Case, Suite
from .suite.schema import is_suite_text
from .suite.yamlload import MAX_SUITE_BYTES


def is_suite_file(file_path: Path, config: pytest.Config) -> bool:
    """Named on the command line, matching the suite glob, or marked ``mlperf_suite:``."""
    if file_path.suffix not in (".yaml", ".yml"):
        return False
    session = config.stash[SESSION_KEY]
    resolved = file_path.resolve()
    if resolved in session.suite_args:
        return True
    try:
        relative = resolved.relative_to(config.rootpath.resolve()).as_posix()
    except ValueError:
        relative = None
    if relative and any(fnmatch.fnmatch(relative, g) for g in session.settings.get("suite_glob")):
        return True
    try:
        with file_path.open("rb") as f:
            # Every YAML file of the tree comes here: read no more than a suite may hold (a larger
            # file that says mlperf_suite: is collected, and refused for its size).
            head = f.read(MAX_SUITE_BYTES + 1).decode("utf-8", errors="replace")
    except OSError:
        return False
    return is_suite_text(head)


class SuiteFile(pytest.File):
    """A suite YAML file."""

    suite: Suite | None = None

    def collect(self) -> Iterator[pytest.Collector]:
        session = self.config.stash[SESSION_KEY]
        self.suite = session.prepare_suite(self.path)
        session.collected(self.suite)
        if self.suite.ignored_knobs:
            warnings.warn(pytest.PytestWarning(
                f"{self.path.name}: running on harness {self.suite.harness} (--mlperf-harness) instead of "
                f"{self.suite.declared_harness}; knobs it cannot honour are ignored: "
                f"{', '.join(self.suite.ignored_knobs)}"), stacklevel=1)
        by_id: dict[str, list[Case]] = {}
        for case in self.suite.cases:
            by_id.setdefault(case.id, []).append(case)
        for bench_id, cases in by_id.items():
            yield BenchmarkNode.from_parent(self, name=bench_id, cases=cases)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:  # type: ignore[override]
        if isinstance(excinfo.value, MlperfError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class BenchmarkNode(pytest.Collector):
    def __init__(self, *, cases: list[Case], **kwargs: Any):
        super().__init__(**kwargs)
        self.cases = cases

    def collect(self) -> Iterator[pytest.Collector]:
        by_scenario: dict[str, list[Case]] = {}
        for case in self.cases:
            by_scenario.setdefault(case.scenario, []).append(case)
        for scenario, cases in by_scenario.items():
            yield ScenarioNode.from_parent(self, name=scenario, cases=cases)


class ScenarioNode(pytest.Collector):
    def __init__(self, *, cases: list[Case], **kwargs: Any):
        super().__init__(**kwargs)
        self.cases = cases

    def collect(self) -> Iterator[pytest.Item]:
        for case in self.cases:
            item = MlperfItem.from_parent(self, name=case.name, callobj=mlperf_test)
            item.stash[CASE_KEY] = case
            # Only the mode: every marker is also a -k keyword, and one that every item carries
            # (say "mlperf") would make "-k perf" select them all.
            item.add_marker(case.mode)
            if case.skip_reason:
                item.add_marker(pytest.mark.skip(reason=case.skip_reason))
            yield item


class MlperfItem(pytest.Function):
    """One (benchmark, scenario, mode) run."""

    def reportinfo(self) -> tuple[Path, int, str]:
        case = self.stash[CASE_KEY]
        # The line may be in a suite this one extends: name the file that holds it. The domain is no
        # suffix of the node id, so pytest prints the node id itself (pasteable) in -v lines.
        return (case.location.path, case.location.line - 1,
                f"{case.nodeid_suffix} ({case.suite.path.name})")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:  # type: ignore[override]
        if isinstance(excinfo.value, MlperfError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


__all__ = ["CASE_KEY", "MlperfItem", "SuiteError", "SuiteFile", "is_suite_file"]
