"""``mlperf-nv results``: the latest result of every run under an output dir, one aligned row each.

Result files are read as untrusted: a file that is not a result record (``null``, ``[]``, bad
JSON, missing fields) is reported on its own line and skipped, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .format import accuracy_text, metric_text, table

RESULT_FILE = "result.json"
COLUMNS = ("item", "verdict", "validity", "metric", "accuracy", "run_dir", "why")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def row_of(record: dict[str, Any], run_dir: Path, runs: Path) -> dict[str, str]:
    """One table row for a result record; the item is named by its run dir, which always exists."""
    parts = run_dir.relative_to(runs).parts
    loadgen, accuracy = _mapping(record.get("loadgen")), _mapping(record.get("accuracy"))
    verdict = record.get("verdict") if isinstance(record.get("verdict"), str) else "?"
    why = ""
    if verdict != "PASS":
        listed = record.get("reasons") if isinstance(record.get("reasons"), list) else []
        reasons = [str(r) for r in listed if str(r).strip()]
        missing = "no reason recorded" if verdict == "FAIL" else "no verdict recorded"
        why = reasons[0] if reasons else missing
        if len(reasons) > 1:
            why += f" (+{len(reasons) - 1} more in {RESULT_FILE})"
    validity = loadgen.get("validity")
    return {"item": "::".join(parts), "verdict": verdict,
            "validity": validity if isinstance(validity, str) else "",
            "metric": metric_text(loadgen.get("value"), loadgen.get("unit")),
            "accuracy": accuracy_text(accuracy.get("value")), "run_dir": _display(run_dir), "why": why}


def read_results(out: Path) -> tuple[list[dict[str, str]], list[str]]:
    """(rows, problems) for every latest run dir under ``<out>/runs``; ``.previous`` runs are skipped."""
    runs = Path(out) / "runs"
    rows, problems = [], []
    for path in sorted(runs.glob(f"*/*/*/*/{RESULT_FILE}")):
        if path.parent.name.endswith(".previous"):
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            problems.append(f"{path}: cannot be read ({exc.strerror or exc})")
            continue
        except ValueError as exc:
            problems.append(f"{path}: not JSON ({exc})")
            continue
        if not isinstance(record, dict):
            problems.append(f"{path}: not a result record (it holds {json.dumps(record)[:40]})")
            continue
        rows.append(row_of(record, path.parent, runs))
    return rows, problems


def results_text(rows: list[dict[str, str]]) -> list[str]:
    """The table; the ``why`` column only when some row failed."""
    columns = COLUMNS if any(r["why"] for r in rows) else COLUMNS[:-1]
    return table(columns, rows)
