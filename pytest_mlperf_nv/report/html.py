"""report.html: one self-contained page (inline CSS and SVG, no script, nothing fetched) from a summary."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from .summary import format_metric, format_value

REPORT_HTML = "report.html"

_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:24px;color:#212121;
background:#fff;font-size:14px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.meta{color:#555;margin:2px 0}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5} td.num{text-align:right;font-variant-numeric:tabular-nums}
.PASS{color:#2e7d32;font-weight:600} .FAIL{color:#c62828;font-weight:600} .SKIP{color:#757575}
.regressed{color:#c62828;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:16px}
figure.chart{margin:0;padding:8px;border:1px solid #e0e0e0;border-radius:4px;background:#fff}
figure.chart svg{display:block;max-width:100%;height:auto}
figcaption{font-size:12px;color:#555;margin-top:4px;max-width:720px}
pre{background:#fafafa;border:1px solid #eee;padding:8px;white-space:pre-wrap;font-size:12px}
.note{color:#555;font-style:italic}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def render_html(summary: dict[str, Any], cache_dir: Path | None = None) -> str:
    """The page. Charts need matplotlib; without it the page says so and keeps every table."""
    items = summary["items"]
    t = summary["totals"]
    verdict = "PASSED" if t["failed"] == 0 else "FAILED"
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>MLPerf results: {verdict}</title><style>{_CSS}</style></head><body>",
        f"<h1>MLPerf results: <span class='{'PASS' if t['failed'] == 0 else 'FAIL'}'>{verdict}</span>"
        "</h1>",
        f"<p class='meta'>{t['passed']} passed, {t['failed']} failed, {t['skipped']} skipped"
        + (f", <span class='regressed'>{t['regressed']} regressed</span>" if t.get("regressed") else "")
        + "</p>",
    ]
    parts += _meta(summary)
    parts += ["<h2>Items</h2>", _table(items)]
    failed = [i for i in items if i["outcome"] == "failed"]
    if failed:
        parts.append("<h2>Failures</h2>")
        for item in failed:
            parts.append(
                f"<p><b>{_e(item['nodeid'])}</b></p><pre>{_e((item.get('message') or '').strip())}</pre>"
            )
    parts += _charts(items, cache_dir)
    parts.append(
        f"<p class='meta'>pytest-mlperf-nv {_e(summary.get('plugin_version'))}; summary schema "
        f"{_e(summary['schema'])} v{_e(summary['version'])}; generated {_e(summary.get('generated'))}."
        "</p></body></html>"
    )
    return "\n".join(parts)


def _meta(summary: dict[str, Any]) -> list[str]:
    system = summary.get("system") or {}
    gpus = system.get("gpus") or []
    lines = []
    if gpus:
        lines.append(
            f"GPUs: {len(gpus)} x {_e(gpus[0].get('name'))}; driver {_e(system.get('driver_version'))}, "
            f"CUDA {_e(system.get('cuda_driver_version'))}"
        )
    elif system:
        lines.append(f"No GPU ({_e(system.get('gpu_error') or 'none detected')})")
    if system:
        lines.append(
            f"Host {_e(system.get('hostname'))}: {_e(system.get('cpu_model'))}, "
            f"{_e(system.get('cpu_count'))} CPUs; {_e(system.get('os'))}"
        )
    session = summary.get("session") or {}
    if session:
        lines.append(
            f"Session {_e(session.get('id'))}, started {_e(session.get('started'))}"
            + (f", LoadGen {_e(session.get('loadgen'))}" if session.get("loadgen") else "")
        )
    if summary.get("shard"):
        lines.append(f"Shard {summary['shard']['index']} of {summary['shard']['count']}")
    if summary.get("merged_from"):
        lines.append(
            f"Merged from {len(summary['merged_from'])} shard(s): "
            + ", ".join(_e(m) for m in summary["merged_from"])
        )
    baseline = summary.get("baseline")
    if baseline:
        lines.append(
            f"Baseline {_e(baseline.get('name'))} (machine {_e(baseline.get('machine'))}); fail thresholds: "
            f"{_e(', '.join(baseline.get('thresholds') or []) or 'none')}"
        )
    return [f"<p class='meta'>{line}</p>" for line in lines]


def _table(items: list[dict[str, Any]]) -> str:
    from .baseline import delta_text

    head = (
        "item",
        "verdict",
        "validity",
        "metric",
        "target",
        "accuracy",
        "vs baseline",
        "vs NVIDIA",
        "GPU power",
        "run dir",
    )
    rows = ["<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"]
    for item in items:
        target = item.get("target") or {}
        accuracy = item.get("accuracy") or {}
        acc = ""
        if accuracy.get("value") is not None:
            acc = f"{accuracy['value']:.3f} %" + (
                f" (≥ {accuracy['target']:g})" if accuracy.get("target") is not None else ""
            )
        published = item.get("published") or {}
        telemetry = item.get("telemetry") or {}
        delta = delta_text(item.get("baseline"))
        cells = [
            _e(item["nodeid"]),
            f"<span class='{item['verdict']}'>{item['verdict']}</span>",
            _e(item.get("validity")),
            _e(format_metric(item.get("metric") or {})),
            _e(f"{format_value(target['value'])} {target['unit']}" if target.get("value") else ""),
            _e(acc),
            f"<span class='{'regressed' if 'REGRESSED' in delta else ''}'>{_e(delta)}</span>",
            _e(published.get("text", "")),
            _e(f"{telemetry['mean_power_w']:.0f} W" if telemetry.get("mean_power_w") is not None else ""),
            _e(item.get("run_dir")),
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    rows.append("</tbody></table>")
    return "".join(rows)


def _figure(name: str, svg: str | None, caption: str) -> str:
    if svg is None:
        return ""
    return f"<figure class='chart' id='chart-{_e(name)}'>{svg}<figcaption>{_e(caption)}</figcaption></figure>"


def _charts(items: list[dict[str, Any]], cache_dir: Path | None) -> list[str]:
    try:
        from .charts import Charts

        charts = Charts(cache_dir)
    except ImportError as exc:
        return [
            "<h2>Charts</h2>",
            f"<p class='note'>No charts: matplotlib cannot be imported ({_e(exc)}); "
            "reinstall pytest-mlperf-nv to get it back.</p>",
        ]
    out = []
    overview = [
        _figure(
            "throughput",
            charts.throughput(items),
            "Offline and Server: the MLPerf metric (bars) and the QPS the run's settings aimed at "
            "(offline_expected_qps / server_target_qps).",
        ),
        _figure(
            "accuracy", charts.accuracy(items), "Accuracy runs: the score and the threshold it must reach."
        ),
        _figure(
            "references",
            charts.references(items),
            "Each result as a percentage of its saved baseline (latencies inverted, so higher is "
            "better) and of NVIDIA's published per-GPU figure for this GPU.",
        ),
    ]
    overview = [f for f in overview if f]
    if overview:
        out += ["<h2>Overview</h2>", "<div class='charts'>", *overview, "</div>"]
    latency = [
        _figure(
            f"latency-{n}",
            charts.latency(item),
            "LoadGen's latency percentiles from the run's detail log (per-query latencies would need "
            "LoadGen's trace, which the plugin keeps off).",
        )
        for n, item in enumerate(items)
        if item.get("scenario") in ("Server", "SingleStream", "MultiStream")
    ]
    latency = [f for f in latency if f]
    if latency:
        out += ["<h2>Latency distributions</h2>", "<div class='charts'>", *latency, "</div>"]
    telemetry = [
        _figure(
            f"telemetry-{n}",
            charts.telemetry(item),
            "NVML samples taken by the parent process about once a second during the run.",
        )
        for n, item in enumerate(items)
    ]
    telemetry = [f for f in telemetry if f]
    out.append("<h2>GPU telemetry</h2>")
    if telemetry:
        out += ["<div class='charts'>", *telemetry, "</div>"]
    else:
        why = next((t["why"] for i in items if (t := i.get("telemetry") or {}).get("why")), None)
        if why is None and items and all(i.get("gpus") == 0 for i in items):
            why = "the suites run on the CPU (system.gpu: none)"
        out.append(f"<p class='note'>No GPU telemetry in this session{': ' + _e(why) if why else ''}.</p>")
    return out


__all__ = ["REPORT_HTML", "render_html"]
