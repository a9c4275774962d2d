"""The table printed at the end of a session (on the xdist controller only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..session import MlperfSession


def row_from_report(report: pytest.TestReport) -> dict[str, Any] | None:
    props = dict(report.user_properties)
    if "mlperf_verdict" not in props and not report.failed and "mlperf_provisioned" not in props:
        return None
    metric = ""
    if props.get("mlperf_metric_value") is not None:
        value, unit = float(str(props["mlperf_metric_value"])), props.get("mlperf_metric_unit", "")
        metric = f"{value:,.3f} {unit}" if unit == "ms" else f"{value:,.1f} {unit}"
    accuracy = _accuracy(props)
    cache = " ".join(f"{kind}:{props[f'mlperf_{kind}_cache']}" for kind in ("model", "dataset", "engine")
                     if f"mlperf_{kind}_cache" in props)
    verdict = props.get("mlperf_verdict") or ("SKIP" if report.skipped else "FAIL")
    return {"item": report.nodeid, "verdict": verdict,
            "validity": props.get("mlperf_validity", ""), "metric": metric, "accuracy": accuracy,
            "cache": cache, "run_dir": props.get("mlperf_run_dir", "")}


def _accuracy(props: dict[str, Any]) -> str:
    """The headline accuracy as its metric prints it (top-1 in %, DICE a fraction, ROUGE points)."""
    value = props.get("mlperf_accuracy")
    if value is None or value == "":
        return "not scored" if "mlperf_accuracy_metric" in props else ""
    metric = str(props.get("mlperf_accuracy_metric", ""))
    if metric == "top1":
        return f"{float(str(value)):.3f}%"
    return f"{metric} {value}".strip()


def write_table(terminal: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    terminal.section("MLPerf results", sep="=")
    columns = ("item", "verdict", "validity", "metric", "accuracy", "cache", "run_dir")
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    terminal.line("  ".join(c.ljust(widths[c]) for c in columns))
    for row in sorted(rows, key=lambda r: r["item"]):
        terminal.line("  ".join(str(row[c]).ljust(widths[c]) for c in columns).rstrip())


def skip_reason(report: pytest.TestReport) -> str:
    """The reason a skipped item's report gives."""
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr or "")
    return str(text).removeprefix("Skipped: ")


def write_skips(terminal: Any, skips: list[tuple[str, str]]) -> None:
    """Skipped items grouped by why, every reason in full: what to provide to run them."""
    if not skips:
        return
    by_reason: dict[str, list[str]] = {}
    for nodeid, reason in skips:
        by_reason.setdefault(reason, []).append(nodeid)
    terminal.section(f"MLPerf items skipped ({len(skips)})", sep="=")
    for reason, nodeids in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
        terminal.line(f"{len(nodeids)} item(s): {reason}")
        shown = sorted(nodeids)
        for nodeid in shown[:3]:
            terminal.line(f"    {nodeid}")
        if len(shown) > 3:
            terminal.line(f"    ... and {len(shown) - 3} more")


def write_summary(terminal: Any, session: MlperfSession) -> None:
    """The session's end on the controller: the results table, what was skipped and why, then
    what went into the tree."""
    write_table(terminal, session.rows)
    write_skips(terminal, session.skips)
    if session.interrupted is not None:
        nodeid, run_dir = session.interrupted
        terminal.section("MLPerf interrupted", sep="=")
        terminal.line(f"{nodeid} was running when the session was interrupted; its run dir {run_dir} is "
                      "marked interrupted (result.json verdict FAIL), and the submission tree leaves it out")
    if session.tree_error:
        terminal.section("MLPerf submission", sep="=")
        terminal.line(f"ERROR: {session.tree_error}")
    if session.tree_reports:
        from .submission import write_tree_summary

        write_tree_summary(terminal, session.tree_reports)
