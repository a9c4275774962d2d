"""``mlperf-nv``: small command-line companions to the pytest plugin."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__


def _results(args: argparse.Namespace) -> int:
    from .rundir import RUNS, result_files
    from .submission.runs import read_record

    records = []
    for path in result_files(Path(args.out)):
        # The tree's reader: a result.json of wrong types is skipped with the field, never a traceback.
        record, problem = read_record(path)
        if record is not None:
            records.append(record)
        elif problem:
            print(f"mlperf-nv: skipping {problem}", file=sys.stderr)
    if not records:
        print(f"mlperf-nv: no results under {Path(args.out) / RUNS} (run pytest on a suite first, or pass "
              "--out)", file=sys.stderr)
        return 1
    for r in records:
        case, lg, acc = r.case, r.loadgen, r.accuracy or {}
        metric = ""
        if lg is not None and lg.value is not None:
            metric = f"{lg.value:.4g} {lg.unit}"
        elif acc:
            metric = f"{acc.get('metric')} {acc.get('value')}"
        print(f"{r.suite.get('name')}::{case.get('id')}::{case.get('scenario')}::{r.mode_name:<12} "
              f"{r.verdict:<5} {(lg.validity if lg else '') or '':<8} {metric}")
    return 0


SUITES = Path(__file__).resolve().parent / "suites"


def _suites(args: argparse.Namespace) -> int:
    for path in sorted(SUITES.glob("*.yaml")):
        first = path.read_text().splitlines()[0].lstrip("# ").strip()
        print(f"{path.stem:<20} {first}")
    print(f"\n(in {SUITES}; run one with: mlperf-nv run NAME [pytest options])")
    return 0


def _run(args: argparse.Namespace, rest: list[str]) -> int:
    import pytest

    path = SUITES / f"{args.name}.yaml"
    if not path.is_file():
        names = ", ".join(sorted(p.stem for p in SUITES.glob("*.yaml")))
        print(f"mlperf-nv: no shipped suite named {args.name!r}; shipped suites: {names}", file=sys.stderr)
        return 2
    return int(pytest.main([str(path), *rest]))


def _check_submission(args: argparse.Namespace) -> int:
    from .submission.check import check_tree, run_official_checker

    tree = Path(args.tree)
    if not tree.is_dir():
        print(f"mlperf-nv check-submission: {tree} is not a directory; give the dir holding closed/ or open/ "
              "(after a session: mlperf-results/submission)", file=sys.stderr)
        return 2
    report = check_tree(tree, args.round)
    print(report.text())
    status = 0 if report.ok else 1
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
        print(f"\nofficial checker ({checkout}): exit status {returncode}")
        for finding in findings:
            print(f"  {finding}")
        status = status or (1 if returncode else 0)
    return status


def _only_submitter(tree: Path) -> str | None:
    names = {p.name for division in ("closed", "open", "network") for p in (tree / division).glob("*")
             if p.is_dir()}
    return names.pop() if len(names) == 1 else None


def main(argv: list[str] | None = None) -> int:
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
                                                   "with --checker, MLCommons' official checker")
    check.add_argument("tree", help="the tree: the dir holding closed/ or open/ "
                                    "(e.g. mlperf-results/submission)")
    check.add_argument("--round", choices=("v6.1", "v6.0", "v5.0"),
                       help="the round to check against (default: the round the logs' seeds belong to)")
    check.add_argument("--checker", metavar="CHECKOUT",
                       help="a git checkout of mlcommons/inference: also run its submission checker")
    check.add_argument("--submitter", help="for the official checker (default: the one directory under "
                                           "the division)")
    check.set_defaults(func=_check_submission)
    sub.add_parser("snapshot", help="write this machine's GPU/CPU facts as JSON (for "
                                    "--mlperf-system-snapshot); see 'mlperf-nv snapshot -h'",
                   add_help=False)
    sub.add_parser("doctor", help="check NVIDIA's code, this machine and suites before a run (exit 0: "
                                  "ready); see 'mlperf-nv doctor -h'", add_help=False)
    sub.add_parser("from-cm", help="print the suite YAML equivalent to a command line of the original "
                                   "CM/MLC automation; see 'mlperf-nv from-cm -h'", add_help=False)
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
