"""The submission checker's checks of one result's LoadGen runs: the performance run (VALID,
LoadGen's error lines, the round's seeds, duration, samples per query, early stopping, latency
bound, sample count, equal issue, an audit's settings) and the accuracy run (mode, data set size,
accuracy.txt against the targets, the accuracy log's hash and truncation).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..benchmarks.mlperf.seeds import SEED_KEYS, SEEDS, install_hint, round_of_detail
from ..harness.logs import LogError, RunResult, parse_run, read_detail
from . import rules
from .check_base import CheckerBase, Ctx
from .findings import ERROR
from .rules import ACCURACY_LOG, ACCURACY_TXT, DETAIL, MAX_ACCURACY_LOG_SIZE
from .truncate import looks_truncated, read_hashes, sha256_file, verify_truncation


class RunChecks(CheckerBase):
    """The checks of a result's performance and accuracy runs."""

    # ---------------------------------------------------------------------------------- performance

    def check_perf_run(self, ctx: Ctx, run: Path, what: str, *, audit: str | None = None
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

    def check_errors(self, ctx: Ctx, path: Path, errors: list[str], what: str) -> None:
        if errors:
            shown = "; ".join(e[:160] for e in errors[:3])
            shown += f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
            self.add(ctx, ERROR, "loadgen-error", path, f"{what}: LoadGen logged {len(errors)} error(s): "
                                                        f"{shown}",
                     "remove the cause (a bad user.conf, a second user.conf load in one process, a LoadGen "
                     "built "
                     "from a dirty tree) and rerun")

    def check_seeds(self, ctx: Ctx, path: Path, detail: Mapping[str, Any], what: str) -> None:
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

    def check_accuracy(self, ctx: Ctx, acc: Path) -> dict[str, float]:
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

    def check_accuracy_txt(self, ctx: Ctx, txt: Path) -> dict[str, float]:
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

    def check_accuracy_log(self, ctx: Ctx, log: Path, txt: Path, what: str) -> None:
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


__all__ = ["RunChecks"]
