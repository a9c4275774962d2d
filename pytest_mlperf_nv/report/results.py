"""``mlperf-nv results``: the latest result of every run under an output dir, one aligned row each.

Result files are read as untrusted, with the submission tree's reader (submission/runs.py):
a file that is not a run record (``null``, ``[]``, bad JSON, missing fields) is reported on its
own line and skipped, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

from ..record import RunRecord
from ..rundir import RESULT, RUNS, display, result_files
from .format import accuracy_text, metric_text, table

COLUMNS = ("item", "verdict", "validity", "metric", "accuracy", "run_dir", "why")


def row_of(record: RunRecord, run_dir: Path, runs: Path) -> dict[str, str]:
    """One table row for a run record; the item is named by its run dir, which always exists."""
    parts = run_dir.relative_to(runs).parts
    loadgen, accuracy = record.loadgen, record.accuracy or {}
    why = ""
    if not record.passed:
        reasons = [r for r in record.reasons if r.strip()]
        why = reasons[0] if reasons else "no reason recorded"
        if len(reasons) > 1:
            why += f" (+{len(reasons) - 1} more in {RESULT})"
    return {"item": "::".join(parts), "verdict": record.verdict,
            "validity": (loadgen.validity if loadgen else None) or "",
            "metric": metric_text(loadgen.value, loadgen.unit) if loadgen else "",
            "accuracy": accuracy_text(accuracy.get("value")), "run_dir": str(display(run_dir)), "why": why}


def read_results(out: Path) -> tuple[list[dict[str, str]], list[str]]:
    """(rows, problems) for every latest run dir under ``<out>/runs``; ``.previous`` runs are skipped."""
    runs = Path(out) / RUNS
    rows, problems = [], []
    for path in result_files(Path(out)):
        from ..submission.runs import read_record

        record, problem = read_record(path)
        if record is None:
            if problem:
                problems.append(problem)
            continue
        rows.append(row_of(record, path.parent, runs))
    return rows, problems


def results_text(rows: list[dict[str, str]]) -> list[str]:
    """The table; the ``why`` column only when some row failed."""
    columns = COLUMNS if any(r["why"] for r in rows) else COLUMNS[:-1]
    return table(columns, rows)
