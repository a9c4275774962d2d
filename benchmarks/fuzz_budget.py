"""The long fuzzing campaign: N generated and mutated inputs per target, counting any exception that
is not one of the project's errors (tests/fuzz_targets.py has the targets and generators).

    .venv/bin/python benchmarks/fuzz_budget.py --examples 2500            # 5 targets: 12,500 inputs
    .venv/bin/python benchmarks/fuzz_budget.py --examples 2500 --save tests/data/fuzz_corpus
    .venv/bin/python benchmarks/fuzz_budget.py --examples 2500 --record benchmarks/results/fuzz.txt

With --save, each finding is written into the corpus, where tests/unit/test_fuzz.py replays it.
Prints per target: inputs run, findings (exception type and where it was raised), seconds.
"""

from __future__ import annotations

import argparse
import collections
import platform
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _checker(name: str, counts: dict[str, int], findings: collections.Counter[str], save: Path | None,
             run_target: object, save_case: object) -> object:
    """The property run on each input: counts it, and counts (and saves) any non-project exception."""

    def check(value: object) -> None:
        counts["inputs"] += 1
        try:
            run_target(name, value)
        except Exception as exc:  # noqa: BLE001 - a finding: count it and go on
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            findings[f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"] += 1
            if save is not None:
                save_case(name, value, save)
                counts["saved"] += 1

    return check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2500, help="inputs per target (default 2500)")
    parser.add_argument("--targets", nargs="*", help="targets to run (default: all)")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: random)")
    parser.add_argument("--save", type=Path, help="write each finding into this corpus dir")
    parser.add_argument("--record", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)

    from hypothesis import HealthCheck, given, seed, settings

    from pytest_mlperf_nv import __version__
    from tests.fuzz_targets import TARGETS, run_target, save_case

    lines = [f"fuzz campaign: pytest-mlperf-nv {__version__}, Python {platform.python_version()}, "
             f"{args.examples} inputs per target, seed {args.seed if args.seed is not None else 'random'}"]
    total_inputs = total_findings = 0
    for name in args.targets or sorted(TARGETS):
        _, strategy = TARGETS[name]
        counts = {"inputs": 0, "saved": 0}
        findings: collections.Counter[str] = collections.Counter()
        start = time.perf_counter()
        check = _checker(name, counts, findings, args.save, run_target, save_case)
        runner = settings(max_examples=args.examples, deadline=None, database=None,
                          suppress_health_check=list(HealthCheck))(given(strategy())(check))
        if args.seed is not None:
            runner = seed(args.seed)(runner)
        runner()
        seconds = time.perf_counter() - start
        count, saved = counts["inputs"], counts["saved"]
        total_inputs += count
        total_findings += sum(findings.values())
        lines.append(f"  {name:<13} {count:>6} inputs  {sum(findings.values()):>4} non-project exceptions  "
                     f"{seconds:7.1f} s" + (f"  ({saved} saved)" if saved else ""))
        lines += [f"      {n:>5} x {where}" for where, n in findings.most_common()]
    lines.append(f"total: {total_inputs} inputs, {total_findings} non-project exceptions")
    text = "\n".join(lines)
    print(text)
    if args.record is not None:
        args.record.parent.mkdir(parents=True, exist_ok=True)
        args.record.write_text(text + "\n")
    return 1 if total_findings else 0


if __name__ == "__main__":
    sys.exit(main())
