"""The table printed at the end of a session (on the xdist controller only)."""

from __future__ import annotations

from typing import Any

import pytest


def row_from_report(report: pytest.TestReport) -> dict[str, Any] | None:
    props = dict(report.user_properties)
    if "mlperf_verdict" not in props and not report.failed and "mlperf_provisioned" not in props:
        return None
    metric = ""
    if props.get("mlperf_metric_value") is not None:
        value, unit = float(props["mlperf_metric_value"]), props.get("mlperf_metric_unit", "")
        metric = f"{value:,.3f} {unit}" if unit == "ms" else f"{value:,.1f} {unit}"
    accuracy = f"{float(props['mlperf_accuracy']):.3f}%" if "mlperf_accuracy" in props else ""
    cache = " ".join(f"{kind}:{props[f'mlperf_{kind}_cache']}" for kind in ("model", "dataset", "engine")
                     if f"mlperf_{kind}_cache" in props)
    verdict = props.get("mlperf_verdict") or ("SKIP" if report.skipped else "FAIL")
    return {"item": report.nodeid, "verdict": verdict,
            "validity": props.get("mlperf_validity", ""), "metric": metric, "accuracy": accuracy,
            "cache": cache, "run_dir": props.get("mlperf_run_dir", "")}


def write_table(terminal: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    terminal.section("MLPerf results", sep="=")
    columns = ("item", "verdict", "validity", "metric", "accuracy", "cache", "run_dir")
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    terminal.line("  ".join(c.ljust(widths[c]) for c in columns))
    for row in sorted(rows, key=lambda r: r["item"]):
        terminal.line("  ".join(str(row[c]).ljust(widths[c]) for c in columns).rstrip())
