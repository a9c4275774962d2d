"""``mlperf-nv``: small command-line companions to the pytest plugin."""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
from pathlib import Path

from . import __version__


def _results(args: argparse.Namespace) -> int:
    from .report.results import read_results, results_text

    rows, problems = read_results(Path(args.out))
    for problem in problems:
        print(f"mlperf-nv: skipping {problem}", file=sys.stderr)
    if not rows:
        print(f"mlperf-nv: no results under {Path(args.out) / 'runs'} (run pytest on a suite first, or pass "
              "--out)", file=sys.stderr)
        return 1
    for line in results_text(rows):
        print(line)
    return 0


SUITES = Path(__file__).resolve().parent / "suites"


def _suites(args: argparse.Namespace) -> int:
    from .report.shipped import shipped_suites

    width = shutil.get_terminal_size((100, 20)).columns
    suites = shipped_suites(SUITES)
    name_width = max(len(s.name) for s in suites) + 2
    for suite in suites:
        lines = textwrap.wrap(suite.description or "(no description)", max(40, width - name_width)) or [""]
        print(f"{suite.name:<{name_width}}{lines[0]}")
        for line in lines[1:]:
            print(" " * name_width + line)
    print(f"\n(in {SUITES}; run one with: mlperf-nv run NAME [pytest options]; results go to "
          "./mlperf-results)")
    return 0


def _run(args: argparse.Namespace, rest: list[str]) -> int:
    import pytest

    from .report.shipped import run_arguments, shipped_suites

    names = [s.name for s in shipped_suites(SUITES)]
    path = SUITES / f"{args.name}.yaml"
    if args.name not in names or not path.is_file():
        print(f"mlperf-nv: no shipped suite named {args.name!r}; shipped suites: {', '.join(names)}",
              file=sys.stderr)
        return 2
    return int(pytest.main(run_arguments(path, rest, Path.cwd())))


def _check_submission(args: argparse.Namespace) -> int:
    from .submission.check import check_tree, run_official_checker

    tree = Path(args.tree)
    if not tree.is_dir():
        print(f"mlperf-nv check-submission: {tree} is not a directory; give the dir holding closed/ or open/ "
              "(after a session: mlperf-results/submission)", file=sys.stderr)
        return 2
    report = check_tree(tree, args.round)
    print(report.text(allow_short_run=args.allow_short_run))
    status = 0 if report.ok or (args.allow_short_run and report.ok_for_short_run) else 1
    if args.checker:
        checkout = Path(args.checker)
        if not (checkout / "tools" / "submission").is_dir():
            print(f"mlperf-nv check-submission: --checker {checkout} is not a checkout of "
                  "mlcommons/inference "
                  "(no tools/submission there)", file=sys.stderr)
            return 2
        submitter = args.submitter or _only_submitter(tree)
        if submitter is None:
            print("mlperf-nv check-submission: name the submitter with --submitter (the tree has several)",
                  file=sys.stderr)
            return 2
        returncode, output, findings = run_official_checker(tree, checkout, args.round or report.round,
                                                             submitter)
        accepted = args.allow_short_run and all(f.unavoidable_for_short_runs for f in findings
                                                    if f.severity == "error")
        verdict = "OK" if not returncode else "OK for a short run" if accepted else "NOT OK"
        print(f"\nofficial checker ({checkout}): exit status {returncode}: {verdict}")
        for finding in findings:
            print(f"  {finding}")
        status = status or (1 if returncode and not accepted else 0)
    return status


def _merge(args: argparse.Namespace) -> int:
    from .report.merge import MergeError, merge

    try:
        result = merge([Path(d) for d in args.dirs], Path(args.out), cache_dir=_cache_dir())
    except MergeError as exc:
        print(f"mlperf-nv merge: {exc}", file=sys.stderr)
        return 1
    print(f"mlperf-nv merge: {len(args.dirs)} shard(s), {result.items} item(s) -> {result.out}")
    for path in result.written:
        print(f"  {path}")
    if result.tree is not None:
        print(f"  {result.tree}")
    for note in result.notes:
        print(f"  note: {note}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from .report.summary import SummaryError, read_summary
    from .report.writer import write_reports

    source = Path(args.summary)
    if source.is_dir():
        source = source / "summary.json"
    try:
        summary = read_summary(source)
    except SummaryError as exc:
        print(f"mlperf-nv report: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else source.parent
    for path in write_reports(out, summary, _cache_dir()):
        print(path)
    return 0


def _cache_dir() -> Path:
    import os

    from .options import _default_cache

    return Path(os.environ.get("MLPERF_NV_CACHE_DIR") or _default_cache())


def _only_submitter(tree: Path) -> str | None:
    names = {p.name for division in ("closed", "open", "network") for p in (tree / division).glob("*")
             if p.is_dir()}
    return names.pop() if len(names) == 1 else None


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``mlperf-nv`` (``snapshot`` and ``from-cm`` parse their own arguments)."""
    parser = argparse.ArgumentParser(prog="mlperf-nv", description="pytest-mlperf-nv companion tool")
    parser.add_argument("--version", action="version", version=f"pytest-mlperf-nv {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    results = sub.add_parser("results", help="list the latest result of every run under an output dir")
    results.add_argument("--out", default="mlperf-results", help="output dir (default: mlperf-results)")
    results.set_defaults(func=_results)
    sub.add_parser("suites", help="list the suites shipped with the plugin").set_defaults(func=_suites)
    run = sub.add_parser("run", help="run a shipped suite by name: mlperf-nv run l4 -k server")
    run.add_argument("name")
    check = sub.add_parser("check-submission", help="check a submission tree: the plugin's own checks and, "
                                                   "with --checker, MLCommons' official checker; exit 0: OK, "
                                                   "1: errors (see --allow-short-run), 2: bad usage")
    check.add_argument("tree", help="the tree: the dir holding closed/ or open/ "
                                    "(e.g. mlperf-results/submission)")
    check.add_argument("--round", choices=("v6.1", "v6.0", "v5.0"),
                       help="the round to check against (default: the round the logs' seeds belong to)")
    check.add_argument("--checker", metavar="CHECKOUT",
                       help="a git checkout of mlcommons/inference: also run its submission checker")
    check.add_argument("--submitter", help="for the official checker (default: the one directory under "
                                           "the division)")
    check.add_argument("--allow-short-run", action="store_true",
                       help="exit 0 when every error is one only a full-length (600 s, official profile) run "
                            "avoids: what CI accepts from a quick run's tree")
    check.set_defaults(func=_check_submission)
    merge = sub.add_parser("merge", help="merge the output dirs of a sharded run (--mlperf-shard): JUnit, "
                                         "summaries, reports and submission trees, checked against the "
                                         "shards' manifests")
    merge.add_argument("dirs", nargs="+", metavar="DIR", help="each shard's output dir (--mlperf-out)")
    merge.add_argument("--out", required=True, help="where the merged files go (a new directory)")
    merge.set_defaults(func=_merge)
    report = sub.add_parser("report", help="write summary.md, report.html and the benchmark-action files "
                                           "again from a summary.json")
    report.add_argument("summary", help="a summary.json, or the output dir holding it")
    report.add_argument("--out", help="where to write them (default: next to the summary)")
    report.set_defaults(func=_report)
    sub.add_parser("snapshot", help="write this machine's GPU/CPU facts as JSON (for "
                                    "--mlperf-system-snapshot); see 'mlperf-nv snapshot -h'",
                   add_help=False)
    sub.add_parser("doctor", help="check NVIDIA's code, this machine and suites before a run (exit 0: "
                                  "ready); see 'mlperf-nv doctor -h'", add_help=False)
    sub.add_parser("from-cm", help="print the suite YAML equivalent to a command line of the original "
                                   "CM/MLC automation; see 'mlperf-nv from-cm -h'", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["from-cm"]:
        from .cm import cm_main

        return cm_main(argv[1:])
    if argv[:1] == ["doctor"]:
        from .doctor import doctor_main

        return doctor_main(argv[1:])
    if argv[:1] == ["snapshot"]:
        from .systems.snapshot import snapshot_main

        return snapshot_main(argv[1:])
    args, rest = parser.parse_known_args(argv)
    if args.command == "run":
        return _run(args, rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        return args.func(args)
    except BrokenPipeError:  # e.g. piped into head
        return 0


if __name__ == "__main__":
    sys.exit(main())
