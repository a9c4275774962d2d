"""``mlperf-nv merge <dirs...> --out <dir>``: the shards of one run as one result.

Each input is a shard's output dir (``--mlperf-out``) holding its ``shard-manifest.json``,
``summary.json``, its JUnit file(s) (``--junitxml=<out>/junit.xml``) and its submission tree. The
merge checks the shards against their manifests first — one selection, every shard present once,
every planned item reported exactly once — and writes nothing when they disagree.
"""

from __future__ import annotations

import filecmp
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .shard import ShardError, read_manifest
from .summary import SummaryError, read_summary, totals

TREE = "submission"
#: tree directories whose <system>/<benchmark>/<Scenario> entries belong to one result (v6.x; v5.0 adds
#: measurements/ and compliance/)
_RESULT_ROOTS = ("results", "measurements", "compliance")


class MergeError(Exception):
    """The shards cannot be merged; the message lists every problem found."""


@dataclass
class Shard:
    directory: Path
    manifest: dict[str, Any]
    summary: dict[str, Any]
    junit: list[Path] = field(default_factory=list)


@dataclass
class MergeResult:
    out: Path
    items: int
    junit: Path | None
    tree: Path | None
    written: list[Path]
    notes: list[str]


def load_shards(dirs: list[Path]) -> list[Shard]:
    problems: list[str] = []
    shards: list[Shard] = []
    for directory in dirs:
        if not Path(directory).is_dir():
            problems.append(f"{directory}: not a directory")
            continue
        try:
            shards.append(
                Shard(
                    Path(directory),
                    read_manifest(directory),
                    read_summary(Path(directory) / "summary.json"),
                    _junit_files(Path(directory)),
                )
            )
        except (ShardError, SummaryError) as exc:
            problems.append(str(exc))
    if problems:
        raise MergeError("cannot merge:\n" + "\n".join(f"  - {p}" for p in problems))
    return shards


def check_shards(shards: list[Shard]) -> list[str]:
    """Every disagreement between the shards and their manifests (empty: they make one whole run)."""
    problems: list[str] = []
    counts = {s.manifest["of"] for s in shards}
    selections = {s.manifest["selection"] for s in shards}
    if len(counts) > 1 or len(selections) > 1:
        listed = ", ".join(
            f"{s.directory} ({s.manifest['shard']}/{s.manifest['of']}, selection {s.manifest['selection']})"
            for s in shards
        )
        problems.append(f"the shards come from different runs (shard counts or selections differ): {listed}")
        return problems
    count = counts.pop()
    by_index: dict[int, list[Shard]] = {}
    for shard in shards:
        by_index.setdefault(int(shard.manifest["shard"]), []).append(shard)
    for index, same in sorted(by_index.items()):
        if len(same) > 1:
            problems.append(
                f"overlap: shard {index}/{count} given {len(same)} times: "
                + ", ".join(str(s.directory) for s in same)
            )
    plan = shards[0].manifest["plan"]
    for index in range(1, count + 1):
        if index not in by_index:
            items = plan[str(index)]["items"]
            problems.append(
                f"gap: shard {index}/{count} is missing ({len(items)} planned items: "
                f"{_few(items)}); add its output dir"
            )
    seen: dict[str, Path] = {}
    for shard in shards:
        planned = set(shard.manifest["items"])
        reported = {i["nodeid"] for i in shard.summary["items"]}
        missing = sorted(planned - reported)
        if missing:
            problems.append(
                f"gap: {shard.directory} (shard {shard.manifest['shard']}/{count}) has no result for "
                f"{len(missing)} planned item(s): {_few(missing)}; did the shard's session end?"
            )
        stray = sorted(reported - planned)
        if stray:
            problems.append(
                f"overlap: {shard.directory} reports {len(stray)} item(s) its manifest gives another "
                f"shard: {_few(stray)}"
            )
        for nodeid in sorted(reported):
            if nodeid in seen and seen[nodeid] != shard.directory:
                problems.append(f"overlap: {nodeid} is in {seen[nodeid]} and in {shard.directory}")
            seen.setdefault(nodeid, shard.directory)
    return problems


def _few(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def merge(dirs: list[Path], out: Path, cache_dir: Path | None = None) -> MergeResult:
    """Check, then write ``out``: summary.json/.md, report.html, junit.xml and the merged submission tree."""
    out = Path(out)
    for directory in dirs:
        if Path(directory).resolve() == out.resolve():
            raise MergeError(f"--out {out} is one of the shard dirs; merge into a new directory")
    shards = load_shards(dirs)
    problems = check_shards(shards)
    tree_plan, tree_problems = _plan_tree(shards)
    problems += tree_problems
    junit_problems = _check_junit(shards)
    problems += junit_problems
    if problems:
        raise MergeError(
            "the shards do not make one run; nothing was written:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    out.mkdir(parents=True, exist_ok=True)
    summary = merged_summary(shards)
    from .writer import write_reports

    written = write_reports(out, summary, cache_dir)
    junit = _merge_junit(shards, out / "junit.xml")
    tree = _write_tree(tree_plan, out / TREE)
    notes = []
    if junit is None:
        notes.append("no JUnit file in the shard dirs (write one there with --junitxml=<out>/junit.xml)")
    if tree is None:
        notes.append("no submission tree in the shard dirs")
    return MergeResult(out, len(summary["items"]), junit, tree, written + [p for p in (junit,) if p], notes)


def merged_summary(shards: list[Shard]) -> dict[str, Any]:
    first = shards[0].summary
    items = sorted((i for s in shards for i in s.summary["items"]), key=lambda i: i["nodeid"])
    systems = [s.summary.get("system") for s in shards]
    merged = {
        **first,
        "items": items,
        "totals": totals(items),
        "shard": None,
        "merged_from": [str(s.directory) for s in sorted(shards, key=lambda s: s.manifest["shard"])],
        "session": {"ids": [(s.summary.get("session") or {}).get("id") for s in shards]},
    }
    if any(s != systems[0] for s in systems):
        merged["systems"] = systems
    return merged


# -- JUnit -----------------------------------------------------------------------------------


def _junit_files(directory: Path) -> list[Path]:
    """JUnit XML files at the top of a shard dir (any name: the root element says what it is)."""
    import xml.etree.ElementTree as ET

    found = []
    for path in sorted(directory.glob("*.xml")):
        try:
            root = ET.parse(path).getroot()
        except (ET.ParseError, OSError):
            continue
        if root.tag in ("testsuites", "testsuite"):
            found.append(path)
    return found


def _cases(path: Path) -> list[str]:
    from junitparser import JUnitXml

    xml = JUnitXml.fromfile(str(path))
    suites: list[Any] = [xml] if xml._tag == "testsuite" else list(xml)
    return [f"{c.classname}::{c.name}" for suite in suites for c in suite]


def _check_junit(shards: list[Shard]) -> list[str]:
    with_junit = [s for s in shards if s.junit]
    problems = []
    if with_junit and len(with_junit) != len(shards):
        lacking = ", ".join(str(s.directory) for s in shards if not s.junit)
        problems.append(f"gap: no JUnit file in {lacking} (the other shards have one)")
    seen: dict[str, Path] = {}
    for shard in with_junit:
        for path in shard.junit:
            for case in _cases(path):
                if case in seen and seen[case] != path:
                    problems.append(f"overlap: JUnit test case {case} is in {seen[case]} and {path}")
                seen.setdefault(case, path)
    return problems


def _merge_junit(shards: list[Shard], target: Path) -> Path | None:
    from junitparser import JUnitXml

    paths = [p for s in sorted(shards, key=lambda s: s.manifest["shard"]) for p in s.junit]
    if not paths:
        return None
    merged = JUnitXml()
    for path in paths:
        xml = JUnitXml.fromfile(str(path))
        suites: list[Any] = [xml] if xml._tag == "testsuite" else list(xml)
        for suite in suites:
            merged.add_testsuite(suite)
    merged.update_statistics()
    merged.write(str(target), pretty=True)
    return target


# -- submission trees ------------------------------------------------------------------------


def _result_unit(rel: PurePosixPath) -> tuple[str, ...] | None:
    """``<division>/<submitter>/results/<system>/<benchmark>/<Scenario>``: one result, owned by one shard."""
    parts = rel.parts
    if len(parts) > 6 and parts[2] in _RESULT_ROOTS:
        return parts[:6]
    return None


def _plan_tree(shards: list[Shard]) -> tuple[dict[PurePosixPath, Path], list[str]]:
    """Which shard's file goes to each path of the merged tree, and every conflict."""
    plan: dict[PurePosixPath, Path] = {}
    owner: dict[tuple[str, ...], Path] = {}
    problems: list[str] = []
    mappings: dict[PurePosixPath, list[Path]] = {}
    for shard in shards:
        root = shard.directory / TREE
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = PurePosixPath(path.relative_to(root).as_posix())
            unit = _result_unit(rel)
            if unit is not None:
                if unit in owner and owner[unit] != shard.directory:
                    problems.append(
                        f"overlap: the result {'/'.join(unit)} is in the trees of {owner[unit]} and "
                        f"{shard.directory}"
                    )
                    continue
                owner[unit] = shard.directory
                plan[rel] = path
            elif rel.name == "model_mapping.json":
                mappings.setdefault(rel, []).append(path)
            elif rel in plan and not filecmp.cmp(plan[rel], path, shallow=False):
                problems.append(
                    f"conflict: {rel} differs between {plan[rel].parents[len(rel.parts)]} and "
                    f"{shard.directory} (one submission system must run on one kind of machine, "
                    "with one version of the plugin)"
                )
            else:
                plan.setdefault(rel, path)
    for rel, paths in mappings.items():
        merged: dict[str, str] = {}
        for path in paths:
            for key, value in json.loads(path.read_text()).items():
                if merged.setdefault(key, value) != value:
                    problems.append(f"conflict: {rel} maps {key} to {merged[key]} and to {value}")
        plan[rel] = _MappingFile(merged)  # type: ignore[assignment]
    return plan, list(dict.fromkeys(problems))


class _MappingFile:
    """A merged model_mapping.json to write (not a file of any one shard)."""

    def __init__(self, data: dict[str, str]):
        self.data = data


def _write_tree(plan: dict[PurePosixPath, Any], target: Path) -> Path | None:
    if not plan:
        return None
    stage = target.with_name(f".{target.name}.merge")
    if stage.exists():
        shutil.rmtree(stage)
    for rel, source in plan.items():
        dest = stage / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, _MappingFile):
            dest.write_text(json.dumps(source.data, indent=2) + "\n")
        else:
            shutil.copyfile(source, dest)
    if target.exists():
        shutil.rmtree(target)
    stage.rename(target)
    return target


__all__ = ["MergeError", "MergeResult", "check_shards", "load_shards", "merge", "merged_summary"]
