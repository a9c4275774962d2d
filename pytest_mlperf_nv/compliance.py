"""Compliance items (mode compliance): the audit run and its verification against the reference runs.

A compliance item is a performance run under the audit's ``audit.config`` (passed to LoadGen by
explicit path). It is verified against the same benchmark and scenario's accuracy run (TEST01) and
performance run (TEST01, TEST04). Those reference items are ordered before every compliance item
(plugin.py); when they are selected in this session, the compliance item waits until they have
ended, so the verification never reads a half-written run, also under xdist.

Harness-agnostic: every harness's audit run is verified here, from the LoadGen logs it left.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .record import RecordError, RunRecord, read_record
from .rundir import RunLayout
from .runplan import plan_run
from .suite.model import Case
from .verdict import Verdict, audit_not_verified, audit_run_problems, audit_verified

if TYPE_CHECKING:
    from .harness.logs import RunResult
    from .session import MlperfSession

#: how often a compliance item looks for its reference runs
POLL_S = 0.2
#: numpy dtype of the responses -> the name the official verification script takes
_OFFICIAL_DTYPES = {"uint8": "byte", "int8": "byte", "int32": "int32", "int64": "int64", "float32": "float32"}


def write_audit_config(case: Case, layout: RunLayout) -> Path:
    """The audit's audit.config in the run dir; LoadGen gets its path explicitly."""
    from .submission.audit_config import audit_config_text
    from .submission.rounds import mlperf_name

    benchmark = mlperf_name(case.suite, case.benchmark, case.id) or case.benchmark
    path = layout.audit_config
    path.write_text(audit_config_text(str(case.audit), benchmark))
    return path


def marker_path(session: MlperfSession, nodeid: str) -> Path:
    return session.marker_dir() / (hashlib.sha1(nodeid.encode()).hexdigest()[:20] + ".done")


def mark_done(session: MlperfSession, nodeid: str) -> None:
    """Called when an mlperf item ends (whatever its outcome)."""
    path = marker_path(session, nodeid)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(nodeid + "\n")
    except OSError:
        pass  # an unwritable output dir already failed the item itself


def reference_case(case: Case, mode: str) -> Case:
    from dataclasses import replace

    return replace(case, mode=mode, audit=None)


def _reference(session: MlperfSession, case: Case, mode: str, nodeid: str | None
               ) -> tuple[Path, RunRecord | None, str | None]:
    """(LoadGen log dir, run record, why it cannot be used) of the reference run of ``mode``."""
    ref = reference_case(case, mode)
    run_dir = RunLayout.of(session.out, ref).run_dir
    ref_nodeid = None if nodeid is None else nodeid.rsplit("::", 1)[0] + f"::{mode}"
    if ref_nodeid is not None and ref_nodeid in session.selected:
        # The reference runs in this session: wait until it has ended.
        timeout = plan_run(session, ref).timeout_s
        deadline = time.monotonic() + 2 * timeout + 600
        marker = marker_path(session, ref_nodeid)
        while not marker.exists():
            if time.monotonic() > deadline:
                return run_dir, None, f"gave up waiting for {ref_nodeid} to end"
            time.sleep(POLL_S)
    try:
        record = read_record(run_dir)
    except RecordError:
        where = f"{ref_nodeid}" if ref_nodeid else f"the {mode} item"
        return run_dir, None, (f"{case.name} needs the {mode} run of {case.id} {case.scenario}, and there is "
                               f"none in {run_dir}: run {where} first (in this session or an earlier one), "
                               f"e.g. add '{mode}' to the suite's modes")
    if ref_nodeid in session.selected and record.session_id != session.session_id:
        return run_dir, record, f"the {mode} run of this session ({ref_nodeid}) did not produce a result"
    if not record.passed:
        reasons = "; ".join(record.reasons) or "see its log"
        return run_dir, record, (f"the reference {mode} run failed ({reasons}), so {case.name} cannot be "
                                 "verified")
    return record.logs(run_dir), record, None


def verify_audit(session: MlperfSession, case: Case, layout: RunLayout, result: RunResult,
                 nodeid: str | None, log_dir: Path) -> tuple[Verdict, dict[str, Any]]:
    """Verify a finished audit run (its LoadGen logs in ``log_dir``); writes verify_*.txt into the
    run dir."""
    from .submission import audit

    audit_name = str(case.audit)
    record: dict[str, Any] = {"test": case.audit, "references": {}}
    reasons = audit_run_problems(result, audit_name)
    perf_dir, _, problem = _reference(session, case, "performance", nodeid)
    record["references"]["performance"] = str(perf_dir)
    if problem:
        return audit_not_verified(audit_name, [*reasons, problem]), record
    try:
        outcome = _verify(case, layout.run_dir, log_dir, perf_dir, nodeid, session, record)
    except audit.AuditError as exc:
        return audit_not_verified(audit_name, [*reasons, str(exc)]), record
    if isinstance(outcome, str):
        return audit_not_verified(audit_name, [*reasons, outcome]), record
    record["verification"] = outcome.as_dict()
    reasons += outcome.failures()
    return audit_verified(audit_name, outcome.summary(), reasons), record


def _verify(case: Case, run_dir: Path, log_dir: Path, perf_dir: Path, nodeid: str | None,
            session: MlperfSession, record: dict[str, Any]) -> Any:
    """The audit's verification result, or why it cannot be verified."""
    from .submission import audit

    if case.audit == "TEST01":
        acc_dir, _, problem = _reference(session, case, "accuracy", nodeid)
        record["references"]["accuracy"] = str(acc_dir)
        if problem:
            return problem
        dtype = case.definition.response_dtype if case.definition else "int32"
        return audit.verify_test01(acc_dir, log_dir, run_dir, _OFFICIAL_DTYPES.get(dtype, dtype),
                                   reference_perf_dir=perf_dir)
    if case.audit == "TEST04":
        return audit.verify_test04(perf_dir, log_dir, run_dir)
    return f"{case.audit} cannot be verified by the plugin (TEST01 and TEST04 can)"
