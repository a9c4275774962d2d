"""Assemble the MLPerf submission tree from the items' run directories (controller, session end).

One system per suite. The tree is rebuilt from every run directory the suite has on disk, so a
rerun of a subset (``-k``) replaces those results and keeps the others. It is staged next to the
old one and swapped in with renames: an interrupted session leaves the previous tree or the new
one, never a mix. Run directories are only read; the accuracy logs are hashed and truncated in the
tree's copies.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..benchmarks.mlperf import MLPERF_BENCHMARKS
from ..benchmarks.mlperf.seeds import install_hint
from ..errors import MlperfError
from ..fsutil import DISK_ERRNOS, atomic_write_json, disk_error, inside, is_inside, remove, tree_size, writing
from ..record import RunRecord
from ..registry import Registry, builtin_harnesses
from ..suite.model import Case, Suite
from . import systemdesc
from .layout import Layout
from .rounds import mlperf_name, suite_round
from .runs import ACCURACY_LOG, DETAIL_FILE, SUMMARY_FILE, Run, load_runs, run_problem

if TYPE_CHECKING:
    from ..harness.api import Harness

TREE_DIR = "submission"
REPORT_FILE = "submission-report.json"
#: not_submittable_because reasons that no rerun can lift: such runs are left out of the tree
_NEVER = ("synthetic data", "random model weights")
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
        _drop_symlinks(stage)
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
                _restore(stage, tree, [p for p in owned if p not in _claimed(reports)])
        _swap(stage, tree)
        before = _read_manifest(out)
        manifest = dict(before)
        for (suite, _), r in zip(wanted, reports, strict=True):
            if r.parts:
                manifest.pop(str(suite.path), None)  # keyed by path before: a moved checkout missed it
                manifest[_manifest_key(suite)] = r.parts
        try:
            if manifest != before or not (out / MANIFEST_FILE).is_file():
                _write_manifest(out, manifest)
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


def _drop_symlinks(stage: Path) -> None:
    """The plugin writes no symlinks into a tree: one found there (put in by hand) could lead a
    write out of the output dir, so it is removed from the stage, never followed."""
    for dirpath, dirnames, filenames in os.walk(stage):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath, name)
            if path.is_symlink():
                path.unlink()


def _restore(stage: Path, tree: Path, parts: list[str]) -> None:
    """Put a suite's parts back as the previous tree has them (after its rebuild failed midway)."""
    for part in parts:
        staged, old = inside(stage, part), tree / part
        remove(stage, staged)
        if not is_inside(tree, old):
            continue
        if old.is_dir():
            shutil.copytree(old, staged, symlinks=True)
        elif old.is_file():
            staged.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(old, staged)


def _manifest_key(suite: Suite) -> str:
    """A suite's manifest entry: its name (unique in a session, and the name of its run dirs), so that
    a checkout moved elsewhere still finds what its suites wrote."""
    return suite.name


def _earlier_parts(out: Path, suite: Suite) -> list[str]:
    """What the suite wrote into the tree last time (by name; by path as earlier versions kept it)."""
    manifest = _read_manifest(out)
    return manifest.get(_manifest_key(suite)) or manifest.get(str(suite.path), [])


def _owned_parts(out: Path, suite: Suite, harness: Harness) -> list[str]:
    """Every part a rebuild of the suite clears: what it wrote last time and its system's parts now."""
    parts = list(_earlier_parts(out, suite))
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


def recover(out: Path) -> None:
    """Finish an interrupted swap: a tree moved aside but never replaced is put back."""
    tree = out / TREE_DIR
    for old in sorted(out.glob(f".{TREE_DIR}.old-*")):
        if not tree.exists():
            old.rename(tree)
        else:
            shutil.rmtree(old, ignore_errors=True)
    for new in out.glob(f".{TREE_DIR}.new-*"):
        shutil.rmtree(new, ignore_errors=True)  # callers hold the output dir's lock: no one builds there


def _swap(stage: Path, tree: Path) -> None:
    old = tree.parent / f".{TREE_DIR}.old-{os.getpid()}"
    if tree.exists():
        tree.rename(old)
    stage.rename(tree)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


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
    earlier = [PurePosixPath(p) for p in _earlier_parts(out, suite)]
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
        problem, model, mlperf = _eligibility(suite, cases[0], division, round_, system_type)
        if problem:
            report.left_out.append((label, problem))
            continue
        mapped = mlperf is not None and mlperf.name != cases[0].benchmark
        why_not = _not_submittable(runs, mlperf_mapped=mapped)
        never = [r for r in why_not if r.startswith(_NEVER)]
        if never:
            report.left_out.append((label, f"can never be submitted: {'; '.join(never)}"))
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
        report.originals.update(_write_result(stage, layout, model, scenario, runs, suite, cases[0],
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
    _write_json(stage / layout.system_json(), description)
    _write_code(stage, layout, suite, {w["model"] for w in written}, harness)
    if mapping and division == "open":
        path = stage / layout.base / "model_mapping.json"
        existing = json.loads(path.read_text()) if path.is_file() else {}
        _write_json(path, {**existing, **mapping})
    report.root = stage / layout.base
    return report


MANIFEST_FILE = "submission-manifest.json"


def _read_manifest(out: Path) -> dict[str, list[str]]:
    """suite path -> the tree parts (systems/<sys>.json, results/<sys>/, ...) it last wrote.

    The file lies in the output dir, where anyone may edit it: an entry that is not a plain
    relative path within the tree (``..``, an absolute path, not text) is ignored, so that no
    manifest can make a rebuild remove anything outside the tree.
    """
    try:
        data = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    manifest: dict[str, list[str]] = {}
    for suite, parts in data.items():
        if isinstance(parts, list):
            manifest[suite] = [p for p in parts if _plain_part(p)]
    return manifest


def _plain_part(part: Any) -> bool:
    if not isinstance(part, str) or not part or len(part) > 4096 or "\x00" in part or "\\" in part:
        return False
    pure = PurePosixPath(part)
    return not pure.is_absolute() and all(p not in ("", ".", "..") for p in pure.parts) \
        and len(pure.parts) >= 2  # at least <division>/<submitter>: never a whole division


def _write_manifest(out: Path, manifest: dict[str, list[str]]) -> None:
    atomic_write_json(out / MANIFEST_FILE, manifest, root=out)


def _eligibility(suite: Suite, case: Case, division: str, round_: str, system_type: str
                 ) -> tuple[str | None, str, Any]:
    """(why it cannot be entered, its directory name in the tree, its MLPerf benchmark)."""
    name = mlperf_name(suite, case.benchmark, case.id)
    if name is None:
        return (f"{case.benchmark} is not an MLPerf benchmark; enter it in the open division with "
                f"submission.model_mapping: {{{case.id}: <MLPerf benchmark>}}"), case.id, None
    bench = MLPERF_BENCHMARKS[name]
    info = bench.rounds.get(round_)
    if info is not None and info.present is False:
        note = f" ({info.note})" if info.note else ""
        return f"{name} is not a benchmark of {round_}{note}", case.id, bench
    own_model = name != case.benchmark
    if own_model and division == "closed":
        return (f"{case.benchmark} is entered as {name} through model_mapping, which only the open division "
                "allows: set submission.division: open"), case.id, bench
    if division == "closed":
        from .rules import scenario_rules

        required, optional, source = scenario_rules(bench, round_, system_type)
        allowed = set(required or ()) | set(optional or ())
        if required is not None and case.scenario not in allowed:
            table = f"; the {source} table" if source != round_ else ""
            return (f"{case.scenario} is not a scenario of {name} for a {system_type} system in {round_} "
                    f"(it has {', '.join(sorted(allowed)) or 'none'}{table}; set "
                    "submission.system.system_type if the system is another type)"), bench.checker_name, bench
    return None, (case.id if own_model else bench.checker_name), bench


def _not_submittable(runs: dict[str, Run], *, mlperf_mapped: bool) -> list[str]:
    reasons: list[str] = []
    for run in runs.values():
        for reason in run.record.not_submittable_because:
            if mlperf_mapped and reason.endswith("is not an MLPerf benchmark"):
                continue  # entered through model_mapping
            if reason not in reasons:
                reasons.append(reason)
    return reasons


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def _write_result(stage: Path, layout: Layout, model: str, scenario: str, runs: dict[str, Run],
                  suite: Suite, case: Case, profile: str, why_not: list[str], overrides: list[str],
                  harness: Harness) -> dict[Path, Path]:
    """Copy one result into the tree; returns {accuracy log in the tree: the full log it came from}."""
    from .truncate import hash_and_truncate

    originals: dict[Path, Path] = {}
    result = stage / layout.result_dir(model, scenario)
    perf = runs["performance"]
    for name in (SUMMARY_FILE, DETAIL_FILE):
        _copy(perf.log_dir / name, result / "performance" / "run_1" / name)
    measurements = stage / layout.measurements_dir(model, scenario)
    user_conf = perf.run_dir / "user.conf"
    if not user_conf.is_file():
        user_conf = perf.log_dir / "user.conf"
    if user_conf.is_file():
        _copy(user_conf, measurements / "user.conf")
    else:
        (measurements / "user.conf").parent.mkdir(parents=True, exist_ok=True)
        (measurements / "user.conf").write_text(f"# {scenario}: NVIDIA's code generated the settings; "
                                                "see README.md\n")
    _write_json(stage / layout.measurements_json(model, scenario),
                systemdesc.measurements(suite, case, perf.record, harness))
    (measurements / "README.md").write_text(_readme(suite, case, model, scenario, runs, profile, why_not,
                                                    overrides, layout))
    if "accuracy" in runs:
        acc = runs["accuracy"]
        target = result / "accuracy"
        for name in (SUMMARY_FILE, DETAIL_FILE, ACCURACY_LOG):
            _copy(acc.log_dir / name, target / name)
        accuracy_txt = acc.log_dir / "accuracy.txt"
        if not accuracy_txt.is_file():
            accuracy_txt = acc.run_dir / "accuracy.txt"
        if accuracy_txt.is_file():
            _copy(accuracy_txt, target / "accuracy.txt")
        else:
            (target / "accuracy.txt").write_text(_accuracy_line(acc.record))
        hash_and_truncate(target)
        originals[target / ACCURACY_LOG] = acc.log_dir / ACCURACY_LOG
    for test in ("TEST01", "TEST04", "TEST06"):
        if test not in runs:
            continue
        run = runs[test]
        target = stage / layout.compliance_dir(model, scenario, test)
        for name in ("verify_accuracy.txt", "verify_performance.txt"):
            if (run.run_dir / name).is_file():
                _copy(run.run_dir / name, target / name)
        for name in (SUMMARY_FILE, DETAIL_FILE):
            _copy(run.log_dir / name, target / "performance" / "run_1" / name)
        if test in ("TEST01", "TEST06"):
            _copy(run.log_dir / ACCURACY_LOG, target / "accuracy" / ACCURACY_LOG)
            verification = (run.record.audit or {}).get("verification") or {}
            accuracy = verification.get("accuracy") or {}
            mismatches = accuracy.get("num_perf_log_data_mismatch", "unknown")
            (target / "accuracy" / "accuracy.txt").write_text(
                f"{test}: responses LoadGen sampled during the audit run, compared with the accuracy run "
                f"(mismatches: {mismatches}); see ../verify_accuracy.txt\n")
            hash_and_truncate(target / "accuracy")
            originals[target / "accuracy" / ACCURACY_LOG] = run.log_dir / ACCURACY_LOG
    return originals


def _accuracy_line(record: RunRecord) -> str:
    score = record.accuracy or {}
    return f"{score.get('metric', 'accuracy')}={score.get('value')}\n"


def _readme(suite: Suite, case: Case, model: str, scenario: str, runs: dict[str, Run], profile: str,
            why_not: list[str], overrides: list[str], layout: Layout) -> str:
    perf = runs["performance"].record
    loadgen = perf.loadgen_version or "unknown"
    suite_arg = _display_path(suite.path)
    command = f"pytest {suite_arg} -k \"{case.id} and {scenario}\""
    for text in overrides:
        command += f" --mlperf-set '{text}'"
    if profile != (suite.profile.value if suite.profile else "quick"):
        command += f" --mlperf-profile {profile}"
    lines = [f"# {model} {scenario} on {layout.system}", "",
             f"Produced by pytest-mlperf-nv {__version__} from the suite `{suite.path.name}` "
             f"(sha256 {suite.sha256[:16]}...), benchmark `{case.id}`, harness `{suite.harness}`, "
             f"profile `{profile}`, for MLPerf Inference {layout.round}.", "",
             "## Reproduce", "", "```",
             f"pip install pytest-mlperf-nv=={__version__} mlcommons-loadgen=={loadgen.split()[0]}",
             command, "```", "",
             "Runs: " + ", ".join(sorted(runs)) + f". Host: {platform.node() or 'unknown'}.", ""]
    if why_not:
        lines += ["## Not submittable", "", *[f"- {reason}" for reason in why_not], ""]
    return "\n".join(lines)


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _write_code(stage: Path, layout: Layout, suite: Suite, models_in_tree: set[str],
                harness: Harness) -> None:
    """The code directory the round requires: what ran, and the suite that configured it."""
    models = sorted(models_in_tree) if not layout.v6 else [""]
    for model in models:
        code = stage / layout.code_dir(model)
        code.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(suite.path, code / f"{suite.path.stem}.suite.yaml")
        body = harness.code_readme(suite)
        (code / "README.md").write_text(f"# Implementation\n\n{body}\n\n"
                                        f"Suite: `{suite.path.stem}.suite.yaml`.\n")


__all__ = ["REPORT_FILE", "TREE_DIR", "TreeReport", "build_trees", "recover", "write_report"]
