"""The plugin's own submission checker, and a runner for the official one.

:func:`check_tree` walks a submission tree (the directory holding ``closed/ open/ network/``, or one
``<division>/<submitter>`` directory) in a round's layout (:mod:`.rules`) and returns a
:class:`CheckReport` of :class:`Finding` s, one per problem, each with a stable ``kind``, the path,
the numbers, and how to fix it. It checks what the official checker checks and what it lets
through (facts §3.2 "Not checked"): LoadGen's VALID verdict, LoadGen error lines in every log
(performance, accuracy, compliance), that the accuracy hash is the SHA-256 of the log it names,
and the exact file lists of the v5.0 checker in every round.

Some findings no short ("quick", non-600 s) run can avoid (facts §3.4): ``duration``,
``samples-per-query``, ``early-stopping``, ``perf-sample-count`` and ``dataset-size``. Their
:attr:`Finding.unavoidable_for_short_runs` is true, so that a caller can accept "only what a quick
run cannot avoid" (:attr:`CheckReport.ok_for_short_run`).

:func:`run_official_checker` runs MLCommons' checker from a checkout of mlcommons/inference and
turns its log lines into findings with fix hints (:func:`parse_official_output`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from ..benchmarks import mlperf
from ..benchmarks.mlperf import MlperfBenchmark
from ..benchmarks.mlperf.seeds import SEED_KEYS, SEEDS, install_hint, round_of_detail
from ..harness.logs import LogError, RunResult, parse_run, read_detail
from ..words import did_you_mean
from . import rules
from .rules import (
    ACCURACY_LOG,
    ACCURACY_TXT,
    DETAIL,
    DIVISIONS,
    LAYOUTS,
    MAX_ACCURACY_LOG_SIZE,
    ROUNDS,
    SCENARIOS,
    RoundLayout,
)
from .truncate import looks_truncated, read_hashes, sha256_file, verify_truncation

ERROR = "error"
WARNING = "warning"

#: the kinds of finding a short run cannot avoid (facts §3.4)
SHORT_RUN_KINDS = frozenset({"duration", "samples-per-query", "early-stopping", "perf-sample-count",
                             "dataset-size"})

#: every kind :func:`check_tree` and :func:`parse_official_output` produce, with what it means
KINDS: dict[str, str] = {
    "no-submission": "no <division>/<submitter> directory with results under the root",
    "wrong-layout": "a directory of another round's layout",
    "missing-file": "a required file or directory is missing",
    "empty-file": "a required file is empty",
    "extra-file": "a file or directory the layout does not allow",
    "bad-json": "a JSON file cannot be read",
    "unreadable-log": "a LoadGen log is missing its records or cannot be parsed",
    "system-field-missing": "a required system-description field is missing",
    "system-field-empty": "a system-description field that needs a value is empty",
    "system-field-type": "a system-description field has the wrong type (number, string)",
    "system-field-value": "a system-description field has a value the checker rejects",
    "measurements-field-missing": "a measurements json field is missing or empty",
    "unknown-benchmark": "the benchmark directory is not an MLPerf benchmark (or not mapped to one)",
    "benchmark-not-in-round": "the benchmark is not part of the round",
    "rules-unknown": "the round's rules for this benchmark are not known to the plugin",
    "missing-scenario": "a scenario the round requires is missing",
    "unknown-scenario": "a scenario directory the round does not allow",
    "wrong-mode": "a log of the wrong LoadGen test mode",
    "scenario-mismatch": "the log's scenario is not its directory's",
    "invalid-run": "LoadGen's verdict is not VALID",
    "loadgen-error": "LoadGen logged error lines",
    "wrong-seeds": "the run's RNG seeds are not the round's",
    "duration": "min_duration below 600 s",
    "samples-per-query": "Offline samples per query below the benchmark's minimum",
    "early-stopping": "the early-stopping condition was not met",
    "latency-bound": "the Server target latency exceeds the benchmark's bound",
    "perf-sample-count": "performance_sample_count below the benchmark's",
    "equal-issue": "equal-issue mode (sample_concatenate_permutation) off where the benchmark needs it",
    "dataset-size": "the accuracy run did not cover the whole data set",
    "accuracy-missing": "accuracy.txt has no value for a metric of the benchmark",
    "accuracy-below-target": "an accuracy metric is below the benchmark's target",
    "accuracy-above-limit": "an accuracy metric is above the benchmark's upper limit",
    "missing-hash": "accuracy.txt has no hash= line",
    "bad-hash": "the hash in accuracy.txt is not the SHA-256 of the log",
    "untruncated-log": "mlperf_log_accuracy.json is over 10 KiB",
    "bad-truncation": "the truncated log is not the official cut of its original",
    "compliance-missing": "a compliance test directory the benchmark needs is missing",
    "compliance-failed": "a compliance test's verification did not pass",
    "not-an-audit-run": "a compliance run without its audit's settings",
    "official-error": "an ERROR of the official checker the plugin has no words for",
    "official-warning": "a WARNING of the official checker",
    "checker-summary": "the official checker's summary lines (they follow from the other errors)",
    "checker-crashed": "the official checker ended with a traceback",
}

_DIVISION_NETWORK = rules.NETWORK_BY_DIVISION


# --------------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One problem of a submission tree."""

    severity: str  # "error" | "warning"
    kind: str  # a stable short id (see KINDS)
    path: Path  # the file or directory at fault
    message: str  # what is wrong, with the numbers
    fix: str  # what to do about it
    result: str = ""  # the result it belongs to: "closed/Org/sys/resnet/Offline", or a system / submitter
    source: str = "plugin"  # "plugin" | "official"

    @property
    def unavoidable_for_short_runs(self) -> bool:
        """A finding every short (non-600 s) run has, whatever the tree builder does (facts §3.4)."""
        return self.kind in SHORT_RUN_KINDS or self.kind == "checker-summary"

    def __str__(self) -> str:
        fix = f"; fix: {self.fix}" if self.fix else ""
        return f"{self.severity.upper()} {self.kind}: {self.message} ({self.path}){fix}"

    def as_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "kind": self.kind, "path": str(self.path), "message": self.message,
                "fix": self.fix, "result": self.result, "source": self.source,
                "unavoidable_for_short_runs": self.unavoidable_for_short_runs}


@dataclass
class ResultInfo:
    """One result the tree holds and what it measured."""

    division: str
    submitter: str
    system: str
    benchmark: str  # the directory name
    mlperf_benchmark: str | None  # the checker name it counts as (model_mapping applied)
    scenario: str
    path: Path  # results/<system>/<benchmark>/<scenario>
    metric_name: str | None = None
    metric_value: float | None = None
    metric_unit: str | None = None
    validity: str | None = None
    accuracy: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.division}/{self.submitter}/{self.system}/{self.benchmark}/{self.scenario}"

    def as_dict(self) -> dict[str, Any]:
        return {"result": self.label, "mlperf_benchmark": self.mlperf_benchmark, "path": str(self.path),
                "metric": self.metric_name, "value": self.metric_value, "unit": self.metric_unit,
                "validity": self.validity, "accuracy": self.accuracy}


@dataclass
class CheckReport:
    """What :func:`check_tree` found."""

    root: Path
    round: str
    round_reason: str
    findings: list[Finding] = field(default_factory=list)
    results: list[ResultInfo] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def ok(self) -> bool:
        """No error at all: the tree is submittable as far as the plugin can tell."""
        return not self.errors

    def avoidable(self) -> list[Finding]:
        """The errors a short run does not excuse."""
        return [f for f in self.errors if not f.unavoidable_for_short_runs]

    @property
    def ok_for_short_run(self) -> bool:
        """Only errors that no short (non-600 s) run can avoid."""
        return not self.avoidable()

    def kinds(self, severity: str | None = ERROR) -> set[str]:
        return {f.kind for f in self.findings if severity is None or f.severity == severity}

    def for_result(self, label: str) -> list[Finding]:
        return [f for f in self.findings if f.result == label]

    def as_dict(self) -> dict[str, Any]:
        return {"root": str(self.root), "round": self.round, "round_reason": self.round_reason, "ok": self.ok,
                "ok_for_short_run": self.ok_for_short_run, "results": [r.as_dict() for r in self.results],
                "findings": [f.as_dict() for f in self.findings]}

    def _rel(self, path: Path) -> str:
        try:
            return str(Path(path).relative_to(self.root))
        except ValueError:
            return str(path)

    def text(self, *, short_run: bool = False) -> str:
        """The report grouped per result. ``short_run``: mark what a short run cannot avoid."""
        lines = [f"MLPerf submission check of {self.root} for {self.round} ({self.round_reason})"]
        metric = {r.label: r for r in self.results}
        groups: dict[str, list[Finding]] = {}
        for finding in self.findings:
            groups.setdefault(finding.result or "(tree)", []).append(finding)
        for label in [*groups, *(r.label for r in self.results if r.label not in groups)]:
            result = metric.get(label)
            head = label
            if result is not None:
                value = (f"{result.metric_value:,.6g} {result.metric_unit}" if result.metric_value is not None
                         else "no metric")
                accuracy = ", ".join(f"{k}={v:g}" for k, v in result.accuracy.items())
                head += f": {value} [{result.validity or 'no verdict'}]"
                head += f", {accuracy}" if accuracy else ""
            found = groups.get(label, [])
            lines.append(head + ("" if found else ": OK"))
            for f in found:
                mark = " (a short run cannot avoid it)" if short_run and f.unavoidable_for_short_runs else ""
                lines.append(f"  {f.severity.upper()} {f.kind}{mark}: {f.message}")
                lines.append(f"    at {self._rel(f.path)}")
                if f.fix:
                    lines.append(f"    fix: {f.fix}")
        errors, warnings = self.errors, self.warnings
        short = sum(1 for f in errors if f.unavoidable_for_short_runs)
        lines.append(f"{len(self.results)} result(s), {len(errors)} error(s) ({short} of them only a "
                     "full-length "
                     f"run avoids), {len(warnings)} warning(s): "
                     + ("OK" if self.ok else "OK for a short run" if self.ok_for_short_run else "NOT OK"))
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# the checker
# --------------------------------------------------------------------------------------------------


@dataclass
class _Ctx:
    division: str
    submitter: str
    sub: Path  # <division>/<submitter>
    system: str = ""
    system_type: str | None = None
    benchmark: str = ""  # directory name
    bench: MlperfBenchmark | None = None
    scenario: str = ""

    @property
    def closed(self) -> bool:
        return self.division in ("closed", "network")

    @property
    def label(self) -> str:
        parts = [self.division, self.submitter, self.system, self.benchmark, self.scenario]
        return "/".join(p for p in parts if p)


def _list(path: Path) -> list[Path]:
    try:
        return sorted(p for p in path.iterdir() if not p.name.startswith(".") or p.name == ".gitkeep")
    except (FileNotFoundError, NotADirectoryError):
        return []


def _dirs(path: Path) -> list[Path]:
    return [p for p in _list(path) if p.is_dir() and not p.name.startswith(".")]


def _submitters(root: Path) -> list[tuple[str, str, Path]]:
    found = []
    tops = [d for d in DIVISIONS if (root / d).is_dir()]
    if tops:
        for division in tops:
            found += [(division, s.name, s) for s in _dirs(root / division)]
    elif root.name in DIVISIONS:
        found += [(root.name, s.name, s) for s in _dirs(root)]
    elif root.parent.name in DIVISIONS:
        found.append((root.parent.name, root.name, root))
    return found


def _detect_round(subs: list[tuple[str, str, Path]]) -> tuple[str, str]:
    for _, _, sub in subs:
        if any((sub / d).is_dir() for d in rules.V5_ONLY_DIRS) and not (sub / "src").is_dir():
            return "v5.0", "v5.0 layout (measurements/, compliance/ or code/ beside results/)"
    for _, _, sub in subs:
        for detail in sorted((sub / "results").glob(f"*/*/*/performance/run_1/{DETAIL}")):
            try:
                found = round_of_detail(read_detail(detail)[0])
            except LogError:
                continue
            if found in LAYOUTS:
                return found, f"v6.x layout, seeds of {found} in {detail.relative_to(sub.parent.parent)}"
    return ROUNDS[0], "v6.x layout, no log with a known round's seeds: the newest round"


class _Checker:
    def __init__(self, root: Path, round_: str, originals: Mapping[Path, Path]):
        self.root = root
        self.round = round_
        self.layout: RoundLayout = LAYOUTS[round_]
        self.findings: list[Finding] = []
        self.results: list[ResultInfo] = []
        self.originals = originals

    # ---------------------------------------------------------------------------------------- output

    def add(self, ctx: _Ctx | str, severity: str, kind: str, path: Path, message: str, fix: str = "") -> None:
        label = ctx if isinstance(ctx, str) else ctx.label
        self.findings.append(Finding(severity, kind, Path(path), message, fix, label))

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    # ----------------------------------------------------------------------------------------- files

    def files(self, ctx: _Ctx, directory: Path, required: Iterable[str], optional: Iterable[str] = (),
              dirs: Iterable[str] = (), what: str = "") -> bool:
        """Exactly ``required`` (+ ``optional``, tolerated, ``dirs``) in ``directory``; False: no such dir."""
        if not directory.is_dir():
            self.add(ctx, ERROR, "missing-file", directory, f"{what or self.rel(directory)}: directory "
                                                            "missing",
                     "write it (the tree builder copies it from the run directory)")
            return False
        required, optional, dirs = list(required), list(optional), list(dirs)
        present = {p.name: p for p in _list(directory)}
        for name in required:
            if name not in present:
                self.add(ctx, ERROR, "missing-file", directory / name, f"{self.rel(directory)} lacks {name}",
                         f"copy {name} there from the run that produced this directory")
        allowed = set(required) | set(optional) | set(dirs) | set(rules.TOLERATED)
        for name, path in present.items():
            if name not in allowed:
                self.add(ctx, ERROR, "extra-file", path,
                         f"{self.rel(directory)} holds {name}, which the {self.round} layout does not allow "
                         f"there (allowed: {', '.join(sorted(set(required) | set(optional) | set(dirs)))})",
                         f"remove {name} (the v5.0 checker rejects unexpected files in these directories)")
        return True

    def nonempty(self, ctx: _Ctx, path: Path) -> None:
        if not path.is_file():
            self.add(ctx, ERROR, "missing-file", path, f"{self.rel(path)} is missing",
                     f"write {path.name} (the official checker requires it)")
        elif path.stat().st_size == 0:
            self.add(ctx, ERROR, "empty-file", path, f"{self.rel(path)} is empty",
                     f"write the {path.name} content (the official checker rejects an empty one)")

    def load_json(self, ctx: _Ctx | str, path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (ValueError, UnicodeDecodeError) as exc:
            self.add(ctx, ERROR, "bad-json", path, f"{self.rel(path)} is not valid JSON: {exc}",
                     "rewrite it as a JSON object")
            return {}
        if not isinstance(data, dict):
            self.add(ctx, ERROR, "bad-json", path, f"{self.rel(path)} holds a {type(data).__name__}, not an "
                                                   "object",
                     "rewrite it as a JSON object")
            return {}
        return data

    # ------------------------------------------------------------------------------------ submitter

    def check(self) -> None:
        subs = _submitters(self.root)
        if not subs:
            self.add("", ERROR, "no-submission", self.root,
                     f"{self.root} holds no {'/'.join(DIVISIONS)}/<submitter> directory and is none itself",
                     "point the check at the directory holding closed/ (or at closed/<submitter>)")
        for division, submitter, sub in subs:
            self.check_submitter(_Ctx(division, submitter, sub))

    def check_submitter(self, ctx: _Ctx) -> None:
        sub = ctx.sub
        code = sub / self.layout.code
        if not code.is_dir():
            self.add(ctx, ERROR, "missing-file", code,
                     f"{self.rel(code)} is missing ({self.round} needs the code directory "
                     f"{self.layout.code}/)",
                     f"write {self.layout.code}/ with the implementation (or a README that says where it is)")
        other = ("measurements", "compliance") if self.layout.v6 else ("src",)
        for name in other:
            if (sub / name).exists():
                self.add(ctx, ERROR, "wrong-layout", sub / name,
                         f"{self.rel(sub / name)} belongs to the {'v5.0' if self.layout.v6 else 'v6.x'} "
                         "layout, "
                         f"not {self.round}'s",
                         f"rebuild the tree for {self.round}, or check it as the round it was built for")
        allowed_dirs = {"systems", "results", self.layout.code, "documentation"}
        if not self.layout.v6:
            allowed_dirs |= {"measurements", "compliance"}
        for path in _list(sub):
            ok = (path.is_dir() and path.name in allowed_dirs) or path.suffix.lower() in (".md", ".pdf") or \
                path.name == "model_mapping.json" or path.name in other
            if not ok:
                self.add(ctx, WARNING, "extra-file", path,
                         f"{self.rel(path)} is not part of a submission ({self.round} layout)",
                         "remove it (the v5.0 checker rejects files other than .md/.pdf at this level)")
        mapping: dict[str, str] = {}
        if ctx.division == "open":
            data = self.load_json(ctx, sub / "model_mapping.json") or {}
            mapping = {str(k): str(v) for k, v in data.items()}
        results = sub / "results"
        if not results.is_dir():
            self.add(ctx, ERROR, "missing-file", results, f"{self.rel(results)} is missing",
                     "the tree has no results: run the items and rebuild it")
            return
        for system_dir in _dirs(results):
            sctx = _Ctx(ctx.division, ctx.submitter, sub, system=system_dir.name)
            sctx.system_type = self.check_system(sctx)
            for bench_dir in _dirs(system_dir):
                self.check_benchmark(sctx, bench_dir, mapping)

    # --------------------------------------------------------------------------------------- system

    def check_system(self, ctx: _Ctx) -> str | None:
        path = ctx.sub / "systems" / f"{ctx.system}.json"
        if not path.is_file():
            self.add(ctx, ERROR, "missing-file", path, f"{self.rel(path)} is missing (the system of results/"
                     f"{ctx.system}/)", "write the system description (35 fields, see "
                                        "rules.SYSTEM_REQUIRED_FIELDS)")
            return None
        desc = self.load_json(ctx, path)
        if not desc:
            return None
        fix_field = f"set it in {self.rel(path)} (suite: submission.system.<field>)"
        for key in rules.SYSTEM_REQUIRED_FIELDS:
            if key not in desc:
                self.add(ctx, ERROR, "system-field-missing", path, f"{path.name}: field {key} is missing",
                         fix_field)
            elif key in rules.SYSTEM_NON_EMPTY_FIELDS and not desc[key]:
                # The official checker tests `not value`: a JSON 0 or false is as empty as "".
                zero = desc[key] == 0 and not isinstance(desc[key], bool) and desc[key] is not None
                self.add(ctx, ERROR, "system-field-empty", path,
                         f"{path.name}: field {key} is {desc[key]!r}; the checker requires a meaningful value"
                         + (" and reads a number 0 as empty" if zero else ""),
                         'write the count as the string "0"' if zero else fix_field)
        for key in rules.SYSTEM_INT_FIELDS:
            if key in desc and desc[key] not in ("", None):
                value = desc[key]
                if not _whole_number(value):
                    self.add(ctx, ERROR, "system-field-type", path,
                             f"{path.name}: {key} is {value!r}, not a whole number (the official checker "
                             "multiplies it and crashes)", f"write {key} as a number, e.g. 1")
        status = desc.get("status")
        if status not in (None, "") and str(status).lower() not in rules.SYSTEM_STATUSES:
            self.add(ctx, ERROR, "system-field-value", path,
                     f"{path.name}: status "
                     f"{status!r}{did_you_mean(status, rules.SYSTEM_STATUSES, ignore_case=True)}",
                     f"set status to one of {', '.join(rules.SYSTEM_STATUSES)}")
        system_type = desc.get("system_type")
        if system_type not in (None, "") and system_type not in rules.SYSTEM_TYPES:
            self.add(ctx, ERROR, "system-field-value", path,
                     f"{path.name}: system_type {system_type!r}"
                     f"{did_you_mean(system_type, rules.SYSTEM_TYPES, ignore_case=True)}",
                     "set system_type to datacenter, edge or datacenter,edge")
            system_type = None
        if rules.IS_NETWORK in desc:
            value = desc[rules.IS_NETWORK]
            if not isinstance(value, str) or value.lower() not in ("true", "false"):
                self.add(ctx, ERROR, "system-field-type", path,
                         f"{path.name}: is_network is {value!r}; the checker needs the string \"true\" or "
                         "\"false\"",
                         'leave is_network out (not a network submission), or write "is_network": "true"')
            elif value.lower() == "false":
                # system_check: `if is_network:` — any non-empty string, "false" too, switches the
                # network-mode fields on (measured: 12 "field network_* is missing" errors).
                self.add(ctx, ERROR, "system-field-value", path,
                         f'{path.name}: "is_network": "false" makes the official checker require the 12 '
                         "network-mode fields (it tests the string's truth, not its value)",
                         "leave is_network out of the description")
        network = str(desc.get(rules.IS_NETWORK, "false")).lower() == "true"
        expected = _DIVISION_NETWORK.get(ctx.division)
        if expected is not None and network != expected:
            self.add(ctx, ERROR, "system-field-value", path,
                     f"{path.name}: is_network {str(network).lower()} does not fit the {ctx.division} "
                     "division",
                     f'set "is_network": "{str(expected).lower()}"')
        for key, want in (("submitter", ctx.submitter), ("division", ctx.division)):
            have = desc.get(key)
            if have not in (None, "") and str(have).lower() != want.lower():
                self.add(ctx, ERROR, "system-field-value", path,
                         f"{path.name}: {key} is {have!r}, the directory says {want!r}",
                         f"make {key} and the directory name the same")
        return str(system_type) if system_type else None

    # ------------------------------------------------------------------------------------ benchmark

    def resolve(self, ctx: _Ctx, name: str, mapping: Mapping[str, str], path: Path) -> MlperfBenchmark | None:
        target = mapping.get(name, name) if ctx.division == "open" else name
        try:
            return mlperf.get(target)
        except KeyError:
            pass
        known = [b.checker_name for b in mlperf.MLPERF_BENCHMARKS.values()]
        if ctx.division == "open":
            if name in mapping:
                self.add(ctx, ERROR, "unknown-benchmark", path,
                         f"model_mapping.json maps {name} to {target!r}, which is not an MLPerf benchmark"
                         f"{did_you_mean(target, known)}", "map it to an MLPerf benchmark's checker name")
            else:
                self.add(ctx, ERROR, "unknown-benchmark", path,
                         f"{name} is not an MLPerf benchmark and model_mapping.json does not map it",
                         f'add {{"{name}": "<MLPerf benchmark, e.g. resnet>"}} to '
                         f"{ctx.division}/{ctx.submitter}/model_mapping.json")
        else:
            self.add(ctx, ERROR, "unknown-benchmark", path,
                     f"{name} is not an MLPerf benchmark{did_you_mean(name, known)}",
                     "a benchmark of your own can only be entered in the open division, with "
                     "model_mapping.json")
        return None

    def check_benchmark(self, sctx: _Ctx, bench_dir: Path, mapping: Mapping[str, str]) -> None:
        ctx = _Ctx(sctx.division, sctx.submitter, sctx.sub, sctx.system, sctx.system_type, bench_dir.name)
        bench = self.resolve(ctx, bench_dir.name, mapping, bench_dir)
        ctx.bench = bench
        scenarios = [d for d in _dirs(bench_dir)]
        for path in _list(bench_dir):
            if not path.is_dir():
                self.add(ctx, ERROR, "extra-file", path, f"{self.rel(path)}: only scenario directories "
                                                         "belong here",
                         "remove it")
        if bench is not None:
            accepted = rules.accepted(bench, self.round)
            if accepted is False:
                note = bench.rounds[self.round].note
                self.add(ctx, ERROR, "benchmark-not-in-round", bench_dir,
                         f"{bench.checker_name} is not a benchmark of "
                         f"{self.round}{f' ({note})' if note else ''}",
                         "leave it out of this round's tree, or submit to a round that has it")
            elif accepted is None:
                self.add(ctx, WARNING, "rules-unknown", bench_dir,
                         f"the plugin does not know whether {self.round} accepts {bench.checker_name}",
                         "check the round's submission_checker constants.py")
        if bench is not None and ctx.closed and ctx.system_type:
            required, optional, source = rules.scenario_rules(bench, self.round, ctx.system_type)
            names = {d.name for d in scenarios}
            if required is None:
                self.add(ctx, WARNING, "rules-unknown", bench_dir,
                         f"the plugin does not know which scenarios {self.round} requires of "
                         f"{bench.checker_name} "
                         f"on system_type {ctx.system_type}", "check the round's required-scenarios table")
            else:
                via = f" (the {source} table, which {self.round} keeps)" if source != self.round else ""
                if not required and not optional:
                    self.add(ctx, ERROR, "unknown-scenario", bench_dir,
                             f"{bench.checker_name} has no scenarios for system_type {ctx.system_type} in "
                             f"{self.round}{via}; the official checker crashes on it",
                             "change the system's system_type, or leave the benchmark out")
                for missing in [s for s in required if s not in names]:
                    self.add(ctx, ERROR, "missing-scenario", bench_dir / missing,
                             f"{bench.checker_name} on system_type {ctx.system_type} needs "
                             f"{', '.join(required)} in "
                             f"{self.round}{via}; {missing} is missing",
                             f"run {missing} (performance, accuracy and its compliance tests) and rebuild "
                             "the tree")
                allowed = set(required) | set(optional or ())
                for extra in sorted(names - allowed):
                    if extra in SCENARIOS:
                        self.add(ctx, ERROR, "unknown-scenario", bench_dir / extra,
                                 f"{extra} is not a scenario of {bench.checker_name} on system_type "
                                 f"{ctx.system_type} in {self.round}{via} "
                                 f"(allowed: {', '.join(sorted(allowed))})",
                                 "remove it, or change the system's system_type")
        for scenario_dir in scenarios:
            if scenario_dir.name not in SCENARIOS:
                self.add(ctx, ERROR, "unknown-scenario", scenario_dir,
                         f"{scenario_dir.name} is not a scenario{did_you_mean(scenario_dir.name, SCENARIOS)}",
                         "rename or remove it")
                continue
            rctx = _Ctx(ctx.division, ctx.submitter, ctx.sub, ctx.system, ctx.system_type, ctx.benchmark,
                        bench, scenario_dir.name)
            self.check_result(rctx, scenario_dir)

    # --------------------------------------------------------------------------------------- result

    def check_result(self, ctx: _Ctx, res: Path) -> None:
        layout = self.layout
        info = ResultInfo(ctx.division, ctx.submitter, ctx.system, ctx.benchmark,
                          ctx.bench.checker_name if ctx.bench else None, ctx.scenario, res)
        self.results.append(info)
        if layout.v6:
            extra_files = (*rules.MEASURE_FILES, *rules.MEASURE_OPTIONAL, "measurements.json")
            self.files(ctx, res, (), extra_files, rules.SCENARIO_DIRS_V6)
        else:
            self.files(ctx, res, (), (), rules.SCENARIO_DIRS_V5)
        self.check_measurements(ctx, res)
        if (res / "performance").is_dir():
            self.files(ctx, res / "performance", (), (), rules.PERFORMANCE_DIRS)
        perf = self.check_perf_run(ctx, res / "performance" / "run_1", "the performance run")
        if perf is not None:
            info.metric_name, info.metric_value, info.metric_unit = perf.metric_name, perf.metric_value, \
                perf.metric_unit
            info.validity = perf.validity
        info.accuracy = self.check_accuracy(ctx, res / "accuracy")
        self.check_compliance(ctx, res)

    def check_measurements(self, ctx: _Ctx, res: Path) -> None:
        layout = self.layout
        where = ctx.sub / layout.measurements_dir(ctx.system, ctx.benchmark, ctx.scenario)
        if not layout.v6:
            if not where.is_dir():
                self.add(ctx, ERROR, "missing-file", where, f"{self.rel(where)} is missing",
                         "write measurements/<system>/<benchmark>/<Scenario>/ with the measurements json, "
                         "user.conf "
                         "and README.md")
                return
            candidates = [p for p in _list(where) if p.name.startswith(ctx.system) and p.suffix == ".json"]
            others = [p.name for p in _list(where) if p not in candidates
                      and p.name not in (*rules.MEASURE_FILES, *rules.MEASURE_OPTIONAL, *rules.TOLERATED)]
            for name in others:
                self.add(ctx, ERROR, "extra-file", where / name,
                         f"{self.rel(where)} holds {name}, which the v5.0 layout does not allow there",
                         "remove it")
            if not candidates:
                expected = f"{ctx.system}_<implementation>_{ctx.scenario}.json"
                self.add(ctx, ERROR, "missing-file", where / expected,
                         f"{self.rel(where)} has no {ctx.system}_<implementation>_{ctx.scenario}.json",
                         "write the measurements json (its name starts with the system name)")
                json_path = None
            else:
                json_path = candidates[0]
                name = json_path.name
                impl = name[len(ctx.system) + 1:-len(f"_{ctx.scenario}.json")] \
                    if name.endswith(f"_{ctx.scenario}.json") else name[len(ctx.system) + 1:-len(".json")]
                code = ctx.sub / "code" / ctx.benchmark
                if not (code / impl).is_dir() and not code.is_dir():
                    self.add(ctx, ERROR, "missing-file", code / impl,
                             f"{self.rel(code / impl)} is missing (the code of implementation {impl!r}, "
                             "named by "
                             f"{name})", f"write code/{ctx.benchmark}/{impl}/")
        else:
            json_path = where / "measurements.json"
            if not json_path.is_file():
                self.add(ctx, ERROR, "missing-file", json_path, f"{self.rel(json_path)} is missing",
                         "write measurements.json (input_data_types, retraining, starting_weights_filename, "
                         "weight_data_types, weight_transformations)")
                json_path = None
        for name in rules.MEASURE_FILES:
            self.nonempty(ctx, where / name)
        if json_path is not None:
            data = self.load_json(ctx, json_path)
            if data is not None:
                for key in rules.MEASUREMENTS_FIELDS:
                    if data.get(key) in (None, "", [], {}):
                        self.add(ctx, ERROR, "measurements-field-missing", json_path,
                                 f"{json_path.name}: field {key} is {'empty' if key in data else 'missing'}",
                                 f"set {key} (suite: submission.measurements.{key})")

    # ---------------------------------------------------------------------------------- performance

    def check_perf_run(self, ctx: _Ctx, run: Path, what: str, *, audit: str | None = None
                       ) -> RunResult | None:
        required = rules.COMPLIANCE_PERF_FILES if audit else rules.PERF_FILES
        optional = rules.COMPLIANCE_PERF_OPTIONAL if audit else rules.PERF_OPTIONAL
        if not self.files(ctx, run, required, optional, what=f"{self.rel(run)} ({what})"):
            return None
        if not (run / DETAIL).is_file():
            return None
        try:
            result = parse_run(run)
        except LogError as exc:
            self.add(ctx, ERROR, "unreadable-log", run / DETAIL, f"{what}: {exc}",
                     "copy the complete log from the run directory")
            return None
        detail = result.detail
        path = run / DETAIL
        if result.test_mode != "PerformanceOnly":
            self.add(ctx, ERROR, "wrong-mode", path, f"{what} is a {result.test_mode} log, not "
                                                     "PerformanceOnly",
                     "copy the performance run's logs here")
        if result.scenario != ctx.scenario:
            self.add(ctx, ERROR, "scenario-mismatch", path,
                     f"{what} is a {result.scenario} run in the {ctx.scenario} directory",
                     f"copy the {ctx.scenario} run's logs here")
        self.check_errors(ctx, path, result.errors, what)
        if result.validity != "VALID":
            reasons = "; ".join(result.unmet) or (
                "the log has no verdict (the run did not finish)" if not result.complete else "see the "
                                                                                              "summary")
            rec = f" LoadGen recommends: {result.recommendation}" if result.recommendation else ""
            self.add(ctx, ERROR, "invalid-run", path,
                     f"{what}: LoadGen result {result.validity or 'missing'}: {reasons}.{rec}",
                     "fix the settings LoadGen names (expected QPS / latency, duration) and rerun; "
                     "only VALID runs count (the v6.x checker does not look)")
        self.check_seeds(ctx, path, detail, what)
        min_ms = detail.get("effective_min_duration_ms")
        if isinstance(min_ms, (int, float)) and min_ms < rules.MIN_DURATION_MS:
            self.add(ctx, ERROR, "duration", path,
                     f"{what}: min_duration {min_ms} ms < {rules.MIN_DURATION_MS} ms (the test must last "
                     "600 s)",
                     "run with the official profile (min_duration 600000 ms)")
        bench = ctx.bench
        scenario = result.scenario or ctx.scenario
        if bench is not None and scenario == "Offline" and ctx.closed:
            spq = detail.get("effective_samples_per_query")
            if isinstance(spq, int) and spq < bench.offline_min_samples_per_query:
                self.add(ctx, ERROR, "samples-per-query", path,
                         f"{what}: Offline samples per query {spq} < {bench.offline_min_samples_per_query} "
                         f"({bench.checker_name}'s minimum)",
                         "raise offline_expected_qps (or min_query_count) so that one query has "
                         f"{bench.offline_min_samples_per_query} samples")
        if scenario in rules.EARLY_STOPPING_SCENARIOS and detail.get("early_stopping_met") is False:
            text = " ".join(str(detail.get("early_stopping_result") or "").split())
            self.add(ctx, ERROR, "early-stopping", path,
                     f"{what}: early stopping not met: {text or 'see the summary'}",
                     "run longer (more queries); a 600 s run at the right target meets it")
        if bench is not None and scenario in ("Server", "Interactive") and bench.server_latency_bound_ns:
            target = detail.get("effective_target_latency_ns")
            if isinstance(target, (int, float)) and target > bench.server_latency_bound_ns:
                self.add(ctx, ERROR, "latency-bound", path,
                         f"{what}: Server target latency {target:.0f} ns > {bench.checker_name}'s bound "
                         f"{bench.server_latency_bound_ns} ns", "do not raise server_target_latency above "
                                                                "the bound")
        if bench is not None:
            psc = detail.get("effective_performance_sample_count")
            if isinstance(psc, int) and psc < bench.performance_sample_count:
                self.add(ctx, ERROR, "perf-sample-count", path,
                         f"{what}: performance_sample_count {psc} < {bench.performance_sample_count} "
                         f"({bench.checker_name}'s)",
                         "use the full data set (performance_sample_count is the QSL's, capped by its size)")
            equal_issue = detail.get("effective_sample_concatenate_permutation")
            if bench.equal_issue and ctx.closed and equal_issue is False:
                self.add(ctx, ERROR, "equal-issue", path,
                         f"{what}: sample_concatenate_permutation is off; {bench.checker_name} runs in "
                         "equal-issue "
                         "mode", "leave mlperf.conf's sample_concatenate_permutation = 1 in place")
        if audit == "TEST01" and not (detail.get("effective_accuracy_log_sampling_target")
                                      or detail.get("effective_accuracy_log_probability")):
            self.add(ctx, ERROR, "not-an-audit-run", path,
                     f"{what}: no accuracy-log sampling (accuracy_log_sampling_target 0): not a TEST01 run",
                     "run with TEST01's audit.config (audit.audit_config_text('TEST01', ...))")
        if audit == "TEST04" and not detail.get("effective_performance_issue_same"):
            self.add(ctx, ERROR, "not-an-audit-run", path,
                     f"{what}: performance_issue_same is off: not a TEST04 run",
                     "run with TEST04's audit.config (audit.audit_config_text('TEST04', ...))")
        return result

    def check_errors(self, ctx: _Ctx, path: Path, errors: list[str], what: str) -> None:
        if errors:
            shown = "; ".join(e[:160] for e in errors[:3])
            shown += f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
            self.add(ctx, ERROR, "loadgen-error", path, f"{what}: LoadGen logged {len(errors)} error(s): "
                                                        f"{shown}",
                     "remove the cause (a bad user.conf, a second user.conf load in one process, a LoadGen "
                     "built "
                     "from a dirty tree) and rerun")

    def check_seeds(self, ctx: _Ctx, path: Path, detail: Mapping[str, Any], what: str) -> None:
        expected = SEEDS.get(self.round)
        if expected is None:
            return
        wrong = []
        for key, want in zip(SEED_KEYS, expected.as_tuple(), strict=True):
            have = detail.get(f"effective_{key}")
            if have != want:
                wrong.append(f"{key} {have} (expected {want})")
        if wrong:
            found = round_of_detail(detail)
            carried = f"{found} seeds" if found else "seeds of no known round"
            self.add(ctx, ERROR, "wrong-seeds", path,
                     f"{what}: LoadGen {detail.get('loadgen_version', '?')} logged {carried}, not "
                     f"{self.round}'s: "
                     + "; ".join(wrong), f"{install_hint(self.round)} and rerun")

    # ------------------------------------------------------------------------------------- accuracy

    def check_accuracy(self, ctx: _Ctx, acc: Path) -> dict[str, float]:
        if not self.files(ctx, acc, rules.ACCURACY_FILES, what=f"{self.rel(acc)} (the accuracy run)"):
            return {}
        what = "the accuracy run"
        if (acc / DETAIL).is_file():
            try:
                detail, records = read_detail(acc / DETAIL)
            except LogError as exc:
                self.add(ctx, ERROR, "unreadable-log", acc / DETAIL, f"{what}: {exc}", "copy the complete "
                                                                                       "log")
                detail, records = {}, []
            errors = [f"{r.get('key')}: {r.get('value')}" for r in records
                      if (r.get("metadata") or {}).get("is_error")]
            self.check_errors(ctx, acc / DETAIL, errors, what)
            mode = detail.get("effective_test_mode")
            if detail and mode != "AccuracyOnly":
                self.add(ctx, ERROR, "wrong-mode", acc / DETAIL, f"{what}: a {mode} log, not AccuracyOnly",
                         "copy the accuracy run's logs here")
            scenario = detail.get("effective_scenario")
            if detail and scenario != ctx.scenario:
                self.add(ctx, ERROR, "scenario-mismatch", acc / DETAIL,
                         f"{what} is a {scenario} run in the {ctx.scenario} directory",
                         f"copy the {ctx.scenario} accuracy run here")
            bench = ctx.bench
            if bench is not None and detail:
                count = detail.get("effective_accuracy_sample_count", detail.get("qsl_reported_total_count"))
                size = bench.dataset.accuracy_sample_count
                if count != size:
                    self.add(ctx, ERROR, "dataset-size", acc / DETAIL,
                             f"{what} covered {count} samples; {bench.checker_name}'s data set has {size}",
                             "run accuracy on the whole data set (no accuracy_samples subset)")
        values = self.check_accuracy_txt(ctx, acc / ACCURACY_TXT)
        self.check_accuracy_log(ctx, acc / ACCURACY_LOG, acc / ACCURACY_TXT, what)
        return values

    def check_accuracy_txt(self, ctx: _Ctx, txt: Path) -> dict[str, float]:
        if not txt.is_file():
            return {}
        lines = txt.read_text(encoding="utf-8", errors="replace").splitlines()
        bench = ctx.bench
        if bench is None:
            return {}
        values: dict[str, float] = {}
        for metric in bench.accuracy.metrics:
            pattern = rules.ACC_PATTERN.get(metric.name)
            if pattern is None:
                continue
            for line in lines:
                match = re.match(pattern, line)
                if match:
                    try:
                        values[metric.name] = float(match.group(1))
                    except ValueError:
                        continue
                    break
        if not ctx.closed:
            return values  # open division: the targets do not apply
        thresholds = bench.thresholds()
        for metric in bench.accuracy.metrics:
            value = values.get(metric.name)
            if value is None:
                self.add(ctx, ERROR, "accuracy-missing", txt,
                         f"{txt.name} has no {metric.name} value the checker can read "
                         f"(it looks for a line like {bench.accuracy.checker_line!r})",
                         "write the accuracy script's output unchanged (plain numbers, no quotes)")
                continue
            low = thresholds.get(metric.name)
            if low is not None and value < low:
                self.add(ctx, ERROR, "accuracy-below-target", txt,
                         f"{metric.name} {value:g} < target {low:g} ({bench.checker_name}, "
                         f"{bench.accuracy_level * 100:g} % of {metric.reference})",
                         "fix the model/precision; closed division results must reach the target")
            if metric.upper_limit is not None and value > metric.upper_limit:
                self.add(ctx, ERROR, "accuracy-above-limit", txt,
                         f"{metric.name} {value:g} > upper limit {metric.upper_limit:g} "
                         f"({bench.checker_name})",
                         "check the generation length settings")
        return values

    def check_accuracy_log(self, ctx: _Ctx, log: Path, txt: Path, what: str) -> None:
        if not log.is_file():
            return
        hashes = read_hashes(txt) if txt.is_file() else []
        size = log.stat().st_size
        fix_trunc = ("run submission.truncate.hash_and_truncate on the tree's accuracy dir (or MLCommons' "
                     "truncate_accuracy_log.py) after the compliance audits")
        if not hashes:
            self.add(ctx, ERROR, "missing-hash", txt if txt.is_file() else log,
                     f"{what}: {self.rel(txt)} has no hash= line (the SHA-256 of the full accuracy log)",
                     fix_trunc)
        first = hashes[0] if hashes else None
        if first is not None and not re.fullmatch(r"[0-9a-f]{64}", first):
            self.add(ctx, ERROR, "bad-hash", txt, f"{what}: hash={first} is not a SHA-256 hex digest",
                     fix_trunc)
        if len(set(hashes)) > 1:
            self.add(ctx, ERROR, "bad-hash", txt,
                     f"{what}: {txt.name} has {len(set(hashes))} different hash= lines; the checker reads "
                     "the first",
                     "rebuild the accuracy dir from the run's full log and hash it once")
        if size > MAX_ACCURACY_LOG_SIZE:
            self.add(ctx, ERROR, "untruncated-log", log,
                     f"{what}: {self.rel(log)} is {size} bytes, over {MAX_ACCURACY_LOG_SIZE} (not truncated)",
                     fix_trunc)
        original = self.originals.get(log.resolve())
        if original is not None:
            for kind, problem in verify_truncation(log, txt, original):
                if kind == "missing-hash" and not hashes:
                    continue  # said above
                self.add(ctx, ERROR, kind, log, f"{what}: {problem}",
                         "rebuild the accuracy dir from the run's full log and hash_and_truncate it once")
            return
        if first is None or looks_truncated(log.read_bytes()):
            return  # a cut log: its hash can only be checked against the full original
        digest = sha256_file(log)
        if digest != first:
            self.add(ctx, ERROR, "bad-hash", txt,
                     f"{what}: {self.rel(log)} is not truncated, and its sha256 {digest} is not the hash= in "
                     f"{txt.name} ({first}): the log changed after hashing, or the hash is another log's",
                     "copy the run's full log again and hash_and_truncate it")

    # ----------------------------------------------------------------------------------- compliance

    def check_compliance(self, ctx: _Ctx, res: Path) -> None:
        comp = ctx.sub / self.layout.compliance_dir(ctx.system, ctx.benchmark, ctx.scenario)
        present = {d.name: d for d in _dirs(comp) if d.name.startswith("TEST")}
        required: tuple[str, ...] = ()
        if ctx.closed and ctx.bench is not None:
            tests, source = rules.compliance_tests(ctx.bench, self.round)
            if tests is None:
                self.add(ctx, WARNING, "rules-unknown", comp,
                         f"the plugin does not know the compliance tests of {ctx.bench.checker_name} in "
                         f"{self.round}",
                         "check the round's models_TEST0x lists")
            else:
                required = tests
        if not self.layout.v6 and comp.exists():
            for path in _list(comp):
                if not path.name.startswith("TEST"):
                    self.add(ctx, ERROR, "extra-file", path, f"{self.rel(path)}: only TESTxx directories "
                                                             "belong here",
                             "remove it")
        for test in required:
            if test not in present:
                self.add(ctx, ERROR, "compliance-missing", comp / test,
                         f"{ctx.bench.checker_name if ctx.bench else ctx.benchmark} needs "
                         f"{', '.join(required)} in "
                         f"{self.round}; {test} is missing in {self.rel(comp)}",
                         f"run the {ctx.scenario} compliance item of {test} (mode compliance) and rebuild "
                         "the tree")
        for test, tdir in present.items():
            if test not in rules.TEST_DIR_ENTRIES:
                self.add(ctx, WARNING, "extra-file", tdir, f"{self.rel(tdir)}: the plugin cannot check "
                                                           f"{test}",
                         f"remove it unless {self.round} needs {test}")
                continue
            if ctx.closed and ctx.bench is not None and required and test not in required:
                self.add(ctx, WARNING, "extra-file", tdir,
                         f"{test} is not a compliance test of {ctx.bench.checker_name} in {self.round}",
                         "remove it")
            self.check_test_dir(ctx, test, tdir)

    def check_test_dir(self, ctx: _Ctx, test: str, tdir: Path) -> None:
        entries = rules.TEST_DIR_ENTRIES[test]
        files = [e for e in entries if "." in e]
        dirs = [e for e in entries if "." not in e]
        self.files(ctx, tdir, files, (), dirs)
        if test in ("TEST01", "TEST04"):
            self.check_perf_run(ctx, tdir / "performance" / "run_1", f"the {test} run", audit=test)
            verify = tdir / "verify_performance.txt"
            if verify.is_file():
                text = verify.read_text(encoding="utf-8", errors="replace")
                if not any("TEST PASS" in line for line in text.splitlines()):
                    self.add(ctx, ERROR, "compliance-failed", verify,
                             f"{test} performance verification did not pass: {_gist(text)}",
                             f"rerun the {test} item; if it keeps failing, the audit changed the SUT's "
                             "performance")
        if test == "TEST01":
            self.check_test01_accuracy(ctx, tdir)
        if test == "TEST06":
            verify = tdir / "verify_accuracy.txt"
            if verify.is_file():
                lines = [line.strip() for line in verify.read_text(errors="replace").splitlines()]
                checks = {"first token": "First token check pass: True" in lines
                          or "First token check pass: Skipped" in lines,
                          "EOS": "EOS check pass: True" in lines,
                          "sample length": "Sample length check pass: True" in lines}
                failed = [k for k, ok in checks.items() if not ok]
                if failed:
                    self.add(ctx, ERROR, "compliance-failed", verify,
                             f"TEST06 verification did not pass ({', '.join(failed)} check)",
                             "fix the LLM's generation (first token, EOS, lengths) and rerun TEST06")

    def check_test01_accuracy(self, ctx: _Ctx, tdir: Path) -> None:
        verify = tdir / "verify_accuracy.txt"
        acc = tdir / "accuracy"
        passed = verify.is_file() and "TEST PASS" in [
            line.strip() for line in verify.read_text(errors="replace").splitlines()]
        fallback = all((acc / name).is_file() for name in rules.TEST01_ACCURACY_FALLBACK_FILES)
        optional = rules.TEST01_ACCURACY_FALLBACK_FILES if not passed else ()
        required: tuple[str, ...] = rules.TEST01_ACCURACY_FILES
        if fallback and not passed:
            required += rules.TEST01_ACCURACY_FALLBACK_FILES
        what = f"{self.rel(acc)} (the TEST01 sampled accuracy log)"
        if self.files(ctx, acc, required, optional, what=what):
            self.check_accuracy_log(ctx, acc / ACCURACY_LOG, acc / ACCURACY_TXT, "the TEST01 accuracy log")
        if passed or not verify.is_file():
            return
        text = verify.read_text(errors="replace")
        if not fallback:
            self.add(ctx, ERROR, "compliance-failed", verify,
                     f"TEST01 accuracy verification did not pass: {_gist(text)}",
                     "the SUT must answer a sample the same in performance and accuracy mode; fix it and "
                     "rerun "
                     "TEST01 (a non-deterministic SUT needs MLCommons' baseline/compliance accuracy files)")
            return
        bench = ctx.bench
        if bench is None:
            return
        delta = rules.TEST01_DELTA_PERC.get(bench.accuracy_level, 1.0)
        for metric in bench.accuracy.metrics:
            pattern = rules.ACC_PATTERN.get(metric.name)
            if pattern is None:
                continue
            base = _first_match(acc / "baseline_accuracy.txt", pattern)
            comp = _first_match(acc / "compliance_accuracy.txt", pattern)
            if not base or not comp:
                self.add(ctx, ERROR, "compliance-failed", acc,
                         f"TEST01 non-deterministic fallback: no {metric.name} in baseline_accuracy.txt or "
                         "compliance_accuracy.txt", "write both files with the accuracy script's output")
            elif abs(1 - base / comp) * 100 > delta:
                self.add(ctx, ERROR, "compliance-failed", acc,
                         f"TEST01 non-deterministic fallback: {metric.name} baseline {base:g} vs compliance "
                         f"{comp:g} "
                         f"differ by {abs(1 - base / comp) * 100:.3f} % > {delta} %",
                         "the SUT's answers differ too much between modes; fix it and rerun TEST01")


def _whole_number(value: Any) -> bool:
    """int() of the value works the way the checker's CSV export needs (1, "1"; not "x", "1 node", True)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return float(value).is_integer()
    try:
        int(str(value).strip())
    except ValueError:
        return False
    return True


def _first_match(path: Path, pattern: str) -> float | None:
    try:
        for line in path.read_text(errors="replace").splitlines():
            match = re.match(pattern, line)
            if match:
                return float(match.group(1))
    except (OSError, ValueError):
        return None
    return None


def _gist(text: str) -> str:
    """The lines of a verify_*.txt that say why (TEST FAIL, scores, mismatch counts)."""
    keep = [line.strip() for line in text.splitlines()
            if re.match(r"(TEST FAIL|Reference score|Test score|reference score|test score|"
                        r"num_perf_log_data_mismatch|num_perf_log_qsl_idx_match)", line.strip())]
    return "; ".join(keep) or (text.strip().splitlines() or ["(empty file)"])[-1][:200]


def check_tree(root: Path, round: str | None = None, *,  # noqa: A002 - the word callers use
               originals: Mapping[Path | str, Path | str] | None = None) -> CheckReport:
    """Check the submission tree at ``root`` (holding ``closed/`` etc., or a ``<division>/<submitter>`` dir).

    ``round``: v6.1, v6.0 or v5.0; None: the v5.0 layout is recognized by its directories, a v6.x tree
    by the seeds its performance logs carry (the newest round when none is known).
    ``originals``: accuracy logs of the tree (``.../mlperf_log_accuracy.json``) -> the full logs they
    were cut from; with it, a truncated log's hash and cut are verified too.
    """
    root = Path(root).resolve()
    if round is not None and round not in LAYOUTS:
        raise ValueError(f"unknown round {round!r}{did_you_mean(round, ROUNDS)}")
    subs = _submitters(root)
    if round is None:
        round_, reason = _detect_round(subs)
    else:
        round_, reason = round, "as asked"
    mapped = {}
    for key, value in (originals or {}).items():
        path = Path(key)
        mapped[(path if path.is_absolute() else root / path).resolve()] = Path(value)
    checker = _Checker(root, round_, mapped)
    checker.check()
    return CheckReport(root, round_, reason, checker.findings, checker.results)


# --------------------------------------------------------------------------------------------------
# the official checker
# --------------------------------------------------------------------------------------------------

#: known messages of the official checker -> (kind, fix hint). First match wins; patterns are searched
#: in the message (mlcommons/inference: tools/submission/submission_checker/checks/*.py, main.py; the
#: v5.0 checker's texts are the same where both have the check)
OFFICIAL_MESSAGES: tuple[tuple[str, str, str], ...] = (
    (r"Test duration less than 600s|Test duration lesser than", "duration",
     "only a 600 s run (the official profile) passes; a short run always has this"),
    (r"Required minimum samples per query not met", "samples-per-query",
     "raise offline_expected_qps so that the Offline query has the benchmark's minimum samples"),
    (r"Required minimum Query Count not met", "samples-per-query",
     "raise min_query_count to the benchmark's"),
    (r"Early stopping condition was not met", "early-stopping", "run longer (a 600 s run at the right "
                                                                "target)"),
    (r"performance_sample_count, found", "perf-sample-count", "use the full data set for the QSL"),
    (r"accurcy run does not cover all dataset|accuracy run does not cover all dataset", "dataset-size",
     "run accuracy on the whole data set"),
    (r"(qsl|sample_index|schedule)_rng_seed is wrong", "wrong-seeds",
     "install the LoadGen wheel that carries the round's seeds (benchmarks.mlperf.seeds.install_hint) and "
     "rerun"),
    (r"has loadgen errors|contains errors", "loadgen-error",
     "remove the cause of LoadGen's error lines (see the lines after 'contains errors') and rerun"),
    (r"not hash value for accuracy\.txt", "missing-hash", "hash_and_truncate the accuracy dir"),
    (r"is not truncated", "untruncated-log", "hash_and_truncate the accuracy dir"),
    (r"accuracy not met: upper limit", "accuracy-above-limit", "check the generation length settings"),
    (r"accuracy not met", "accuracy-below-target", "the closed division needs the benchmark's accuracy "
                                                   "target"),
    (r"requires a meaningful response but is empty", "system-field-empty",
     "fill the field in systems/<system>.json (suite: submission.system); a count of 0 must be the "
     "string \"0\""),
    (r"field network_\w+ is missing|field (nic|number_nic|net_software_stack)_\w+ is missing|"
     r"field (number_connections|network_topology) is missing", "system-field-value",
     "is_network is set: leave it out of systems/<system>.json unless this is a network-division "
     "submission (\"false\" counts as set)"),
    (r"field \S+ is missing meaningful value", "measurements-field-missing",
     "fill the field in the measurements json (suite: submission.measurements)"),
    (r"measurements.*field \S+ is missing|_\w+\.json, field \S+ is missing", "measurements-field-missing",
     "add the field to the measurements json"),
    (r"field \S+ is missing", "system-field-missing", "add the field to systems/<system>.json"),
    (r"has invalid status|has invalid system type|incorrect network mode|has submitter|has division",
     "system-field-value", "fix the value in systems/<system>.json"),
    (r"system json file not found", "missing-file", "write systems/<system>.json"),
    (r"measurements json file not found", "missing-file", "write the result's measurements.json"),
    (r"src directory does not exist", "missing-file", "write <division>/<submitter>/src/"),
    (r"is missing code_dir|is missing code dir", "missing-file", "write code/<benchmark>/<implementation>/"),
    (r"is having empty", "empty-file", "write the file's content"),
    (r"does not have all required scenarios", "missing-scenario",
     "run the missing scenarios (or change the system's system_type)"),
    (r"has all unknown scenarios", "unknown-scenario", "remove the scenarios the benchmark does not have"),
    (r"Missing TEST\d+ in compliance dir|no compliance dir for", "compliance-missing",
     "run the compliance items and rebuild the tree"),
    (r"Missing (accuracy|performance|perfomance) file in compliance dir|verify_performance\.txt is missing|"
     r"has no (performance/run_1|accuracy) directory", "compliance-missing",
     "rebuild the compliance directory from the audit run"),
    (r"Compliance test .*check.* failed|TEST06 accuracy check failed|TEST0\d .*check.* failed",
     "compliance-failed",
     "rerun the compliance item; see its verify_*.txt"),
    (r"has file list mismatch", "extra-file", "the directory must hold exactly the files the checker lists"),
    (r"Latency constraint with early stopping not met|Latency constraint not met", "latency-bound",
     "keep the Server target latency within the benchmark's bound"),
    (r"use_token_latencies flag needs to be enabled|Failed extra check for TTFT and TPOT", "invalid-run",
     "LLM runs need token latencies within the limits"),
    (r"Performance log missing|is missing|missing", "missing-file", "write the missing file"),
    (r"^NoResults |Checks failed|^SUMMARY: submission has errors|^Some .* Checks failed", "checker-summary",
     "follows from the errors above"),
)

_LINE_BRACKET = re.compile(r"^\[(?P<time>.+?) (?P<file>\S+):(?P<line>\d+) "
                           r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL)\] ?(?P<msg>.*)$")
_LINE_PLAIN = re.compile(r"^(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL):(?P<logger>[^:\s]*):(?P<msg>.*)$")
#: what a traceback's last line means (measured crashes, facts §3.1)
_CRASHES = (
    (r"TypeError: 'NoneType' object is not iterable",
     "the benchmark is not in the round's required-scenario table for this system_type (the checker crashes "
     "instead of saying so): change system_type or leave the benchmark out"),
    (r"ValueError: invalid literal for int\(\)|could not convert string to float",
     "number_of_nodes / accelerators_per_node must be numbers in systems/<system>.json"),
)


class OfficialResult(NamedTuple):
    """The official checker's exit status, its output, and its lines as findings."""

    returncode: int
    output: str
    findings: list[Finding]


def _message_path(message: str, root: Path | None) -> Path:
    for token in message.split():
        token = token.strip(",;:()'\"")
        if "/" in token:
            path = Path(token)
            return path if path.is_absolute() or root is None else root / path
    return root or Path(".")


def _result_label(path: Path, root: Path | None) -> str:
    parts = path.parts
    if root is not None:
        try:
            parts = path.relative_to(root).parts
        except ValueError:
            pass
    for i, part in enumerate(parts):
        if part in DIVISIONS and len(parts) > i + 1:
            if len(parts) > i + 5 and parts[i + 2] == "results":
                return "/".join((parts[i], parts[i + 1], *parts[i + 3:i + 6]))
            return "/".join(parts[i:i + 2])
    return ""


def classify_official(message: str, level: str = "ERROR") -> tuple[str, str]:
    """(kind, fix hint) of one official checker message."""
    for pattern, kind, hint in OFFICIAL_MESSAGES:
        if re.search(pattern, message):
            return kind, hint
    if level == "WARNING":
        return "official-warning", "see the official checker's output"
    return "official-error", "see the official checker's output around this line"


def parse_official_output(text: str, *, root: Path | None = None) -> list[Finding]:
    """The official checker's WARNING/ERROR lines as findings (``[time file:line LEVEL] msg`` or
    ``LEVEL:logger:msg``), the LoadGen error texts after "contains errors:" folded into that finding,
    and a traceback as ``checker-crashed``."""
    records: list[list[str]] = []  # [level, message]
    for raw in text.splitlines():
        match = _LINE_BRACKET.match(raw) or _LINE_PLAIN.match(raw)
        if match:
            records.append([match.group("level"), match.group("msg").strip()])
        elif records and raw.strip() and not raw.startswith(("Traceback", "  ")):
            records[-1][1] += " " + raw.strip()
    findings: list[Finding] = []
    pending_errors: Finding | None = None
    for level, message in records:
        if level not in ("WARNING", "ERROR", "CRITICAL"):
            continue
        kind, hint = classify_official(message, level)
        if pending_errors is not None:
            if kind == "official-error":  # a LoadGen error text printed after "<path> contains errors:"
                pending_errors = Finding(pending_errors.severity, pending_errors.kind, pending_errors.path,
                                         f"{pending_errors.message} {message}".strip(), pending_errors.fix,
                                         pending_errors.result, "official")
                findings[-1] = pending_errors
                continue
            pending_errors = None
        path = _message_path(message, root)
        finding = Finding(ERROR if level != "WARNING" else WARNING, kind, path, message, hint,
                          _result_label(path, root), "official")
        if message.rstrip().endswith("contains errors:"):
            pending_errors = finding
        findings.append(finding)
    if "Traceback (most recent call last)" in text:
        last = [line for line in text.splitlines() if line.strip()][-1].strip()
        hint = next((h for p, h in _CRASHES if re.search(p, last)),
                    "the checker crashed on the tree: see the traceback; it usually means a value of an "
                    "unexpected type or a benchmark the round's tables lack")
        findings.append(Finding(ERROR, "checker-crashed", root or Path("."), "the official checker "
                                                                             f"crashed: {last}",
                                hint, "", "official"))
    return findings


def official_command(root: Path, checkout: Path, round: str, submitter: str, csv: Path,  # noqa: A002
                     python: str = sys.executable) -> tuple[list[str], Path]:
    """(argv, working directory) of the official checker for ``round`` in an mlcommons/inference checkout."""
    tools = Path(checkout) / "tools" / "submission"
    common = ["--input", str(root), "--version", round, "--submitter", submitter, "--csv", str(csv)]
    if round == "v5.0":
        return [python, str(tools / "submission_checker.py"), *common], tools
    return [python, "-m", "submission_checker.main", *common], tools


def run_official_checker(root: Path, checkout: Path, round: str,  # noqa: A002 - the checker's word
                         submitter: str | None = None, *, timeout: float = 1800,
                         extra_args: Iterable[str] = (), python: str = sys.executable) -> OfficialResult:
    """Run MLCommons' checker on ``root`` from a checkout of mlcommons/inference (a subprocess).

    ``root`` may be the directory holding ``closed/`` or a ``<division>/<submitter>`` directory (then
    ``submitter`` defaults to its name). v6.x: ``python -m submission_checker.main`` in
    ``tools/submission``; v5.0: ``tools/submission/submission_checker.py`` (the v5.0 checkout's).
    """
    root = Path(root).resolve()
    if root.parent.name in DIVISIONS:
        submitter = submitter or root.name
        root = root.parent.parent
    if not submitter:
        raise ValueError("submitter is required when root holds the division directories")
    tools = Path(checkout) / "tools" / "submission"
    needed = tools / ("submission_checker.py" if round == "v5.0" else "submission_checker")
    if not needed.exists():
        raise FileNotFoundError(f"{needed} is missing: {checkout} is not a checkout of mlcommons/inference "
                                f"with the {round} checker")
    with tempfile.TemporaryDirectory(prefix="mlperf-check-") as tmp:
        csv = Path(tmp) / "summary.csv"
        argv, cwd = official_command(root, Path(checkout), round, submitter, csv, python)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tools),
                                                                         os.environ.get("PYTHONPATH", "")]))}
        try:
            proc = subprocess.run([*argv, *extra_args], cwd=cwd, env=env, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout or ""
            out = out.decode(errors="replace") if isinstance(out, bytes) else out
            finding = Finding(ERROR, "checker-crashed", root, f"the official checker ran over {timeout:g} s",
                              "run it by hand to see where it hangs", "", "official")
            return OfficialResult(-1, out, [finding])
    output = proc.stdout + proc.stderr
    findings = parse_official_output(output, root=root)
    if proc.returncode and not findings:
        findings.append(_unparsed_failure(output, proc.returncode, round, root))
    return OfficialResult(proc.returncode, output, findings)


_USAGE_ROUND = re.compile(r"argument --version: invalid choice: '([^']+)'")


def _unparsed_failure(output: str, returncode: int, round: str, root: Path) -> Finding:  # noqa: A002
    """A failing official run whose output has no checker lines: usually its command line was refused."""
    match = _USAGE_ROUND.search(output)
    if match:
        return Finding(ERROR, "checker-crashed", root,
                       f"this checkout's checker does not know round {match.group(1)}",
                       "update the checkout of mlcommons/inference, or check with --round of a round it "
                       "knows (the seeds of another round then show as wrong-seeds)", "", "official")
    last = next((line.strip() for line in reversed(output.splitlines()) if line.strip()), "no output")
    return Finding(ERROR, "checker-crashed", root,
                   f"the official checker failed (exit status {returncode}) without a finding: {last}",
                   "run it by hand from <checkout>/tools/submission to see why", "", "official")


__all__ = [
    "ERROR", "KINDS", "OFFICIAL_MESSAGES", "SHORT_RUN_KINDS", "WARNING", "CheckReport", "Finding",
    "OfficialResult", "ResultInfo", "check_tree", "classify_official", "official_command",
    "parse_official_output", "run_official_checker",
]
