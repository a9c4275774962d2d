"""The submission checker's checks of a result's compliance directories: the TEST0x directories
the round requires of the benchmark, their file lists, the audit runs (through
:class:`.check_logs.RunChecks`) and their verify_*.txt verdicts, TEST01's non-deterministic fallback.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import rules
from .check_base import Ctx, list_dir, subdirs
from .check_logs import RunChecks
from .findings import ERROR, WARNING
from .rules import ACCURACY_LOG, ACCURACY_TXT


class ComplianceChecks(RunChecks):
    """The checks of a result's compliance tests."""

    # ----------------------------------------------------------------------------------- compliance

    def check_compliance(self, ctx: Ctx, res: Path) -> None:
        comp = ctx.sub / self.layout.compliance_dir(ctx.system, ctx.benchmark, ctx.scenario)
        present = {d.name: d for d in subdirs(comp) if d.name.startswith("TEST")}
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
            for path in list_dir(comp):
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

    def check_test_dir(self, ctx: Ctx, test: str, tdir: Path) -> None:
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

    def check_test01_accuracy(self, ctx: Ctx, tdir: Path) -> None:
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


__all__ = ["ComplianceChecks"]
