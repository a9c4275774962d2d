"""Assemble the MLPerf submission tree from the items' run directories (controller, session end).

One system per suite. The tree is rebuilt from every run directory the suite has on disk, so a
rerun of a subset (``-k``) replaces those results and keeps the others. It is staged next to the
old one and swapped in with renames: an interrupted session leaves the previous tree or the new
one, never a mix. Run directories are only read; the accuracy logs are hashed and truncated in the
tree's copies.

This module decides, per suite, what goes in; :mod:`.tree_stage` stages, swaps and keeps the
manifest, :mod:`.tree_eligibility` says which results the tree can take, :mod:`.tree_files` writes
one result's files.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ..benchmarks.mlperf.seeds import install_hint
from ..errors import MlperfError
from ..fsutil import DISK_ERRNOS, atomic_write_json, disk_error, remove, tree_size, writing
from ..registry import Registry, builtin_harnesses
from ..suite.model import Case, Suite
from . import systemdesc
from .layout import Layout
from .rounds import suite_round
from .runs import load_runs, run_problem
from .tree_eligibility import NEVER, beyond_latency_bound, eligibility, not_submittable
from .tree_files import write_code, write_json, write_result
from .tree_stage import (
    MANIFEST_FILE,
    TREE_DIR,
    drop_symlinks,
    earlier_parts,
    manifest_key,
    read_manifest,
    recover,
    restore,
    swap,
    write_manifest,
)

if TYPE_CHECKING:
    from ..harness.api import Harness

REPORT_FILE = "submission-report.json"
DEFAULT_SUBMITTER = "pytest-mlperf-nv"


@dataclass
class TreeReport:
    suite: str
    root: Path | None
    round: str
    division: str
    submitter: str
    system: str
    profile: str
    included: list[str] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)
    not_submittable: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    missing_fields: list[str] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    #: accuracy logs in the tree -> the full logs they were cut from (the check verifies the hashes)
    originals: dict[Path, Path] = field(default_factory=dict)
    #: the tree parts this suite owns (cleared on its next rebuild, wherever its layout moves)
    parts: list[str] = field(default_factory=list)
    #: what a reader should know that is no error
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"suite": self.suite, "root": str(self.root) if self.root else None, "round": self.round,
                "division": self.division, "submitter": self.submitter, "system": self.system,
                "profile": self.profile, "included": self.included,
                "left_out": [{"result": r, "why": w} for r, w in self.left_out],
                "not_submittable": self.not_submittable, "errors": self.errors,
                "missing_system_fields": self.missing_fields, "findings": self.findings,
                "notes": self.notes}


def build_trees(out: Path, suites: list[tuple[Suite, str]], facts: Any, registry: Registry | None = None, *,
                overrides: list[str] | tuple[str, ...] = ()) -> list[TreeReport]:
    """Write the tree for ``suites`` ((suite, profile) pairs) under ``out``/submission, atomically.

    One session at a time per output dir (a file lock); a suite whose results cannot be written
    is reported with the error and the other suites' results are still swapped in.
    """
    from filelock import FileLock

    wanted = [(s, p) for s, p in suites if s.submission.get("tree", True)]
    if not wanted:
        return []
    if registry is None:
        registry = Registry()
        for harness in builtin_harnesses():
            registry.add_harness(harness)
    with writing(out):
        out.mkdir(parents=True, exist_ok=True)
    runs = out / "runs"
    # Copying the tree to its stage needs about its size again, plus the new results.
    needed = tree_size(out / TREE_DIR) + (tree_size(runs) if runs.is_dir() else 0)
    with writing(out, needed), FileLock(str(out / f".{TREE_DIR}.lock")):
        return _build_locked(out, wanted, facts, overrides, registry)


def _build_locked(out: Path, wanted: list[tuple[Suite, str]], facts: Any, overrides: Any,
                  registry: Registry) -> list[TreeReport]:
    tree = out / TREE_DIR
    stage = out / f".{TREE_DIR}.new-{os.getpid()}"
    recover(out)
    if tree.is_dir() and not tree.is_symlink():
        shutil.copytree(tree, stage, symlinks=True)
        drop_symlinks(stage)
    else:
        stage.mkdir(parents=True)
    reports: list[TreeReport] = []
    systems: dict[tuple[str, str, str], str] = {}
    try:
        for suite, profile in wanted:
            sub = suite.submission
            key = (sub.get("division", "closed"), sub.get("submitter", DEFAULT_SUBMITTER),
                   sub.get("system_name", suite.name))
            if key in systems:
                report = TreeReport(suite.name, None, suite_round(suite), *key, profile)
                report.errors.append(f"{systems[key]} already wrote system {key[2]} under "
                                     f"{key[0]}/{key[1]} in this session; give {suite.path.name} its own "
                                     "submission.system_name")
                reports.append(report)
                continue
            systems[key] = suite.path.name
            try:
                reports.append(_build_suite(stage, out, suite, profile, facts, overrides,
                                            registry.harnesses[suite.harness]))
            except Exception as exc:  # noqa: BLE001 - one suite's bad input must not cost the others
                report = TreeReport(suite.name, None, suite_round(suite), *key, profile)
                if isinstance(exc, OSError) and exc.errno in DISK_ERRNOS:
                    exc = disk_error(exc, out, tree_size(out / "runs" / suite.name))
                cause = str(exc) if isinstance(exc, MlperfError) else f"{type(exc).__name__}: {exc}"
                report.errors.append(f"its results could not be written: {cause}; its previous results "
                                     "are kept")
                reports.append(report)
                owned = _owned_parts(out, suite, registry.harnesses[suite.harness])
                restore(stage, tree, [p for p in owned if p not in _claimed(reports)])
        swap(stage, tree)
        before = read_manifest(out)
        manifest = dict(before)
        for (suite, _), r in zip(wanted, reports, strict=True):
            if r.parts:
                manifest.pop(str(suite.path), None)  # keyed by path before: a moved checkout missed it
                manifest[manifest_key(suite)] = r.parts
        try:
            if manifest != before or not (out / MANIFEST_FILE).is_file():
                write_manifest(out, manifest)
        except (OSError, MlperfError) as exc:  # the tree is in place: say that, not "not written"
            for report in reports:
                written = "the tree was written, but " if report.root is not None else ""
                report.errors.append(f"{written}{out / MANIFEST_FILE} could not be written ({exc}); "
                                     "the next rebuild may leave this suite's old parts in place")
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
        recover(out)  # a swap cut short puts the previous tree back
    for report in reports:
        if report.root is not None:
            report.root = tree / report.root.relative_to(stage)
        report.originals = {tree / k.relative_to(stage): v for k, v in report.originals.items()}
    return reports


def _owned_parts(out: Path, suite: Suite, harness: Harness) -> list[str]:
    """Every part a rebuild of the suite clears: what it wrote last time and its system's parts now."""
    parts = list(earlier_parts(out, suite))
    try:
        sub = suite.submission
        layout = Layout(suite_round(suite), sub.get("division", "closed"),
                        sub.get("submitter", DEFAULT_SUBMITTER), sub.get("system_name", suite.name),
                        harness.implementation(suite))
        parts += [str(p) for p in layout.system_parts() if str(p) not in parts]
    except Exception:  # noqa: BLE001 - a suite that cannot name its layout cleared only its earlier parts
        pass
    return parts


def _claimed(reports: list[TreeReport]) -> set[str]:
    """Parts another suite of this session wrote: a failed suite's restore leaves them alone."""
    return {part for report in reports for part in report.parts}


def write_report(out: Path, reports: list[TreeReport]) -> Path:
    return atomic_write_json(out / REPORT_FILE, [r.as_dict() for r in reports], root=out)


def _build_suite(stage: Path, out: Path, suite: Suite, profile: str, facts: Any,
                 overrides: list[str], harness: Harness) -> TreeReport:
    sub = suite.submission
    round_ = suite_round(suite)
    division = sub.get("division", "closed")
    submitter = sub.get("submitter", DEFAULT_SUBMITTER)
    system = sub.get("system_name", suite.name)
    implementation = harness.implementation(suite)
    layout = Layout(round_, division, submitter, system, implementation)
    report = TreeReport(suite.name, None, round_, division, submitter, system, profile)
    profiles_seen: set[str] = set()
    # What this suite wrote last time (its division, submitter, system or round may have changed
    # since) and what it owns now: both are cleared before the suite's results are written again.
    earlier = [PurePosixPath(p) for p in earlier_parts(out, suite)]
    for part in [*earlier, *layout.system_parts()]:
        remove(stage, str(part))  # OutsideError for a part that would leave the stage: nothing removed
    report.parts = [str(p) for p in layout.system_parts()]

    by_result: dict[tuple[str, str], list[Case]] = {}
    for case in suite.cases:
        by_result.setdefault((case.id, case.scenario), []).append(case)
    system_type = systemdesc.system_type(suite, [s for _, s in by_result])
    written: list[dict[str, Any]] = []
    mapping: dict[str, str] = {}
    for (bench_id, scenario), cases in by_result.items():
        label = f"{bench_id} {scenario}"
        names = [c.name for c in cases if c.skip_reason is None]
        runs, unreadable = load_runs(out, suite.name, bench_id, scenario, names)
        if unreadable:
            why = "; ".join(f"{name}: {problem}" for name, problem in unreadable)
            report.left_out.append((label, f"a run record cannot be used ({why}); rerun it"))
            continue
        if not runs:
            skipped = [c.skip_reason for c in cases if c.skip_reason]
            report.left_out.append((label, skipped[0] if skipped else "no run of it on disk yet"))
            continue
        problem, model, mlperf = eligibility(suite, cases[0], division, round_, system_type)
        if problem:
            report.left_out.append((label, problem))
            continue
        mapped = mlperf is not None and mlperf.name != cases[0].benchmark
        why_not = not_submittable(runs, mlperf_mapped=mapped)
        never = [r for r in why_not if r.startswith(NEVER)]
        if never:
            report.left_out.append((label, f"can never be submitted: {'; '.join(never)}"))
            continue
        beyond = beyond_latency_bound(mlperf, scenario, runs)
        if beyond:
            report.left_out.append((label, beyond))
            continue
        seeds = [f"{r.name}: {r.record.round or 'unknown'} seeds" for r in runs.values()
                 if r.record.round != round_]
        if seeds:
            loadgen = next(iter(runs.values())).record.loadgen_version
            report.left_out.append((label, f"runs carry other seeds than {round_} ({', '.join(seeds)}; "
                                           f"LoadGen {loadgen}): {install_hint(round_)} and rerun"))
            continue
        unusable = next((p for k, r in runs.items() if k in ("performance", "accuracy")
                         if (p := run_problem(r, scenario))), None)
        if unusable:
            report.left_out.append((label, unusable))
            continue
        for name in [k for k in runs if k not in ("performance", "accuracy")]:
            problem = run_problem(runs[name], scenario)
            if problem:  # a failed audit: the result goes in without it, marked
                del runs[name]
                why_not.append(f"{name} did not pass: {problem}")
        # What the runs were made under, not what this session says (a -k rerun keeps the others).
        run_profile = (runs.get("performance") or next(iter(runs.values()))).record.profile or profile
        official = run_profile == "official"
        profiles_seen.add(run_profile)
        if official and why_not:
            report.left_out.append((label, "not submittable under the official profile: "
                                           + "; ".join(why_not)))
            report.errors.append(f"{label}: left out of the official tree: {'; '.join(why_not)}")
            continue
        if "performance" not in runs:
            report.left_out.append((label, "no performance run (a result needs one)"))
            continue
        perf_record = runs["performance"].record
        report.originals.update(write_result(stage, layout, model, scenario, runs, suite, cases[0],
                                              run_profile, why_not, perf_record.overrides, harness))
        if mlperf is not None and model != mlperf.checker_name:
            mapping[model] = mlperf.checker_name
        written.append({"runs": runs, "case": cases[0], "model": model})
        report.included.append(label)
        if why_not:
            report.not_submittable[label] = why_not
    if profiles_seen:
        report.profile = ",".join(sorted(profiles_seen))
    official = report.profile == "official"
    if not written:
        if official:
            report.errors.append("no result could be entered in the tree")
        else:  # nothing to submit is no error of a quick run: each result left out says why
            report.notes.append("no result entered in the tree")
        return report
    description, missing = systemdesc.describe(suite, facts, layout, system_type,
                                               [r.record for w in written for r in w["runs"].values()],
                                               harness, official=official)
    report.missing_fields = missing
    if missing and official:
        report.errors.append(
            "the system description lacks fields an official submission needs: "
            f"{', '.join(missing)}; set them under submission.system in {suite.path.name}")
    write_json(stage / layout.system_json(), description)
    write_code(stage, layout, suite, {w["model"] for w in written}, harness)
    if mapping and division == "open":
        path = stage / layout.base / "model_mapping.json"
        existing = json.loads(path.read_text()) if path.is_file() else {}
        write_json(path, {**existing, **mapping})
    report.root = stage / layout.base
    return report


__all__ = ["REPORT_FILE", "TREE_DIR", "TreeReport", "build_trees", "recover", "write_report"]
