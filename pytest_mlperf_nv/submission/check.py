"""The plugin's own submission checker, and a runner for the official one.

:func:`check_tree` walks a submission tree (the directory holding ``closed/ open/ network/``, or one
``<division>/<submitter>`` directory) in a round's layout (:mod:`.rules`) and returns a
:class:`CheckReport` of :class:`Finding` s, one per problem, each with a stable ``kind``, the path,
the numbers, and how to fix it. It checks what the official checker checks and what it lets
through (facts §3.2 "Not checked"): LoadGen's VALID verdict, LoadGen error lines in every log
(performance, accuracy, compliance), that the accuracy hash is the SHA-256 of the log it names,
and the exact file lists of the v5.0 checker in every round. This module walks the tree (submitter,
benchmark, scenario, measurements); a system description is checked by :mod:`.check_system`, a
result's runs by :mod:`.check_logs`, its compliance directories by :mod:`.check_compliance`, all on
the file-list rules of :mod:`.check_base`; the report's classes live in :mod:`.findings`.

Some findings no short ("quick", non-600 s) run can avoid (facts §3.4): ``duration``,
``samples-per-query``, ``early-stopping``, ``perf-sample-count`` and ``dataset-size``. Their
:attr:`Finding.unavoidable_for_short_runs` is true, so that a caller can accept "only what a quick
run cannot avoid" (:attr:`CheckReport.ok_for_short_run`).

:func:`run_official_checker` runs MLCommons' checker from a checkout of mlcommons/inference and
turns its log lines into findings with fix hints (:func:`parse_official_output`); it lives in
:mod:`.official` and is importable from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..benchmarks import mlperf
from ..benchmarks.mlperf import MlperfBenchmark
from ..benchmarks.mlperf.seeds import round_of_detail
from ..harness.logs import LogError, read_detail
from ..words import did_you_mean
from . import rules
from .check_base import Ctx, list_dir, subdirs
from .check_compliance import ComplianceChecks
from .check_system import SystemChecks
from .findings import ERROR, KINDS, SHORT_RUN_KINDS, WARNING, CheckReport, Finding, ResultInfo
from .official import (
    OFFICIAL_MESSAGES,
    OfficialResult,
    classify_official,
    official_command,
    parse_official_output,
    run_official_checker,
)
from .rules import DETAIL, DIVISIONS, LAYOUTS, ROUNDS, SCENARIOS

#: the name importers of this module know the context by
_Ctx = Ctx


def _submitters(root: Path) -> list[tuple[str, str, Path]]:
    found = []
    tops = [d for d in DIVISIONS if (root / d).is_dir()]
    if tops:
        for division in tops:
            found += [(division, s.name, s) for s in subdirs(root / division)]
    elif root.name in DIVISIONS:
        found += [(root.name, s.name, s) for s in subdirs(root)]
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


class _Checker(SystemChecks, ComplianceChecks):
    """The walk of a submission tree, from the submitters down to each result."""

    # ------------------------------------------------------------------------------------ submitter

    def check(self) -> None:
        subs = _submitters(self.root)
        if not subs:
            self.add("", ERROR, "no-submission", self.root,
                     f"{self.root} holds no {'/'.join(DIVISIONS)}/<submitter> directory and is none itself",
                     "point the check at the directory holding closed/ (or at closed/<submitter>)")
        for division, submitter, sub in subs:
            self.check_submitter(Ctx(division, submitter, sub))

    def check_submitter(self, ctx: Ctx) -> None:
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
        for path in list_dir(sub):
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
        for system_dir in subdirs(results):
            sctx = Ctx(ctx.division, ctx.submitter, sub, system=system_dir.name)
            sctx.system_type = self.check_system(sctx)
            for bench_dir in subdirs(system_dir):
                self.check_benchmark(sctx, bench_dir, mapping)

    # ------------------------------------------------------------------------------------ benchmark

    def resolve(self, ctx: Ctx, name: str, mapping: Mapping[str, str], path: Path) -> MlperfBenchmark | None:
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

    def check_benchmark(self, sctx: Ctx, bench_dir: Path, mapping: Mapping[str, str]) -> None:
        ctx = Ctx(sctx.division, sctx.submitter, sctx.sub, sctx.system, sctx.system_type, bench_dir.name)
        bench = self.resolve(ctx, bench_dir.name, mapping, bench_dir)
        ctx.bench = bench
        scenarios = [d for d in subdirs(bench_dir)]
        for path in list_dir(bench_dir):
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
            rctx = Ctx(ctx.division, ctx.submitter, ctx.sub, ctx.system, ctx.system_type, ctx.benchmark,
                        bench, scenario_dir.name)
            self.check_result(rctx, scenario_dir)

    # --------------------------------------------------------------------------------------- result

    def check_result(self, ctx: Ctx, res: Path) -> None:
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

    def check_measurements(self, ctx: Ctx, res: Path) -> None:
        layout = self.layout
        where = ctx.sub / layout.measurements_dir(ctx.system, ctx.benchmark, ctx.scenario)
        if not layout.v6:
            if not where.is_dir():
                self.add(ctx, ERROR, "missing-file", where, f"{self.rel(where)} is missing",
                         "write measurements/<system>/<benchmark>/<Scenario>/ with the measurements json, "
                         "user.conf "
                         "and README.md")
                return
            candidates = [p for p in list_dir(where) if p.name.startswith(ctx.system) and p.suffix == ".json"]
            others = [p.name for p in list_dir(where) if p not in candidates
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


__all__ = [
    "ERROR", "KINDS", "OFFICIAL_MESSAGES", "SHORT_RUN_KINDS", "WARNING", "CheckReport", "Finding",
    "OfficialResult", "ResultInfo", "check_tree", "classify_official", "official_command",
    "parse_official_output", "run_official_checker",
]
