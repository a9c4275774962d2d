"""The report's charts: matplotlib figures rendered to SVG text, embedded in report.html.

matplotlib draws static, self-contained charts with no browser code; SVG keeps them sharp and the
page one file. It is imported only here, when a report is written, with the non-interactive Agg
backend and its font cache in the plugin's cache dir (never the user's home).

Each function takes summary items (summary.json's ``items``) and returns SVG text, or None when
no item has anything to draw.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

_COLORS = {
    "pass": "#2e7d32",
    "fail": "#c62828",
    "target": "#1565c0",
    "base": "#9e9e9e",
    "nvidia": "#76b900",
    "line": "#37474f",
}
LATENCY_KEYS = ("min", "p50", "p90", "p95", "p97", "p99", "p99.9", "max")
TELEMETRY_PANELS = (
    ("power_w", "power (W)"),
    ("sm_clock_mhz", "SM clock (MHz)"),
    ("temperature_c", "temperature (°C)"),
    ("utilization_pct", "utilisation (%)"),
    ("memory_used_mib", "memory used (MiB)"),
)


def _matplotlib(cache_dir: Path | None) -> Any:
    """matplotlib, loaded once, writing its font cache under ``cache_dir``."""
    if cache_dir is not None and "MPLCONFIGDIR" not in os.environ and "matplotlib" not in _loaded():
        os.environ["MPLCONFIGDIR"] = str(Path(cache_dir) / "matplotlib")
    import matplotlib

    matplotlib.use("Agg", force=False)
    return matplotlib


def _loaded() -> set[str]:
    import sys

    return set(sys.modules)


class Charts:
    """Renders the report's charts; ``cache_dir`` is where matplotlib may keep its font cache."""

    def __init__(self, cache_dir: Path | None = None):
        self.mpl = _matplotlib(cache_dir)
        from matplotlib.figure import Figure

        self.Figure = Figure
        self._count = 0

    def _svg(self, fig: Any) -> str:
        self._count += 1
        buffer = io.StringIO()
        # A salt per chart keeps the ids inside each inline SVG unique on the page.
        with self.mpl.rc_context({"svg.hashsalt": f"mlperf-chart-{self._count}", "svg.fonttype": "path"}):
            fig.savefig(buffer, format="svg", bbox_inches="tight")
        text = buffer.getvalue()
        return text[text.index("<svg") :]  # drop the XML prolog and doctype: the SVG is inline in HTML

    # -- charts --------------------------------------------------------------------------------
    def latency(self, item: dict[str, Any]) -> str | None:
        """One item's latency distribution: LoadGen's percentiles from its detail log."""
        lat = item.get("latencies_ms") or {}
        keys = [k for k in LATENCY_KEYS if k in lat]
        if len(keys) < 2:
            return None
        fig = self.Figure(figsize=(5.2, 2.6))
        ax = fig.add_subplot()
        values = [lat[k] for k in keys]
        color = _COLORS["pass"] if item["outcome"] == "passed" else _COLORS["fail"]
        ax.plot(range(len(keys)), values, marker="o", color=color, linewidth=1.5)
        ax.fill_between(range(len(keys)), values, alpha=0.15, color=color)
        ax.set_xticks(range(len(keys)), keys)
        ax.set_ylabel("latency (ms)")
        if max(values) > 20 * max(min(values), 1e-9):
            ax.set_yscale("log")
        metric = item.get("metric") or {}
        if metric.get("unit") == "ms" and metric.get("value") is not None:
            ax.axhline(
                metric["value"],
                color=_COLORS["target"],
                linestyle="--",
                linewidth=1,
                label=f"{metric.get('name')}: {metric['value']:.3g} ms",
            )
            ax.legend(fontsize=7, loc="upper left")
        ax.set_title(f"{item['benchmark_id']} {item['scenario']}: latency percentiles", fontsize=9)
        ax.grid(True, alpha=0.3)
        return self._svg(fig)

    def throughput(self, items: list[dict[str, Any]]) -> str | None:
        """Offline/Server throughput of each item against the throughput its settings aimed at."""
        rows = [i for i in items if (i.get("metric") or {}).get("unit") == "samples/s"]
        if not rows:
            return None
        fig = self.Figure(figsize=(7.5, 0.55 * len(rows) + 1.2))
        ax = fig.add_subplot()
        labels = [f"{i['benchmark_id']} {i['scenario']}" for i in rows]
        values = [i["metric"]["value"] for i in rows]
        colors = [_COLORS["pass"] if i["outcome"] == "passed" else _COLORS["fail"] for i in rows]
        ax.barh(range(len(rows)), values, color=colors, height=0.6, label="measured")
        _mark_targets(ax, [(i.get("target") or {}).get("value") or None for i in rows],
                      "target (expected / target QPS)")
        ax.set_yticks(range(len(rows)), labels)
        ax.invert_yaxis()
        ax.set_xlabel("samples/s")
        ax.set_xscale("log" if max(values) > 50 * max(min(values), 1e-9) else "linear")
        ax.set_title("Throughput against target", fontsize=9)
        ax.grid(True, axis="x", alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
        return self._svg(fig)

    def accuracy(self, items: list[dict[str, Any]]) -> str | None:
        """Each accuracy item's score against its threshold."""
        rows = [i for i in items if (i.get("accuracy") or {}).get("value") is not None]
        if not rows:
            return None
        fig = self.Figure(figsize=(7.5, 0.55 * len(rows) + 1.2))
        ax = fig.add_subplot()
        values = [float(i["accuracy"]["value"]) for i in rows]
        colors = [_COLORS["pass"] if i["outcome"] == "passed" else _COLORS["fail"] for i in rows]
        ax.barh(range(len(rows)), values, color=colors, height=0.6)
        labelled = _mark_targets(ax, [i["accuracy"].get("target") for i in rows], "threshold")
        for n, value in enumerate(values):
            ax.text(value, n, f" {value:.2f} %", va="center", fontsize=7)
        ax.set_yticks(range(len(rows)), [f"{i['benchmark_id']} {i['scenario']}" for i in rows])
        ax.invert_yaxis()
        low = min(values + [i["accuracy"]["target"] for i in rows if i["accuracy"].get("target") is not None])
        ax.set_xlim(max(0.0, low - 10), 100)
        ax.set_xlabel(f"{rows[0]['accuracy'].get('metric') or 'accuracy'} (%)")
        ax.set_title("Accuracy against threshold", fontsize=9)
        ax.grid(True, axis="x", alpha=0.3)
        if labelled:
            ax.legend(fontsize=7, loc="lower left")
        return self._svg(fig)

    def telemetry(self, item: dict[str, Any]) -> str | None:
        """GPU power, SM clock, temperature, utilisation and memory over one item's run."""
        series = (item.get("telemetry") or {}).get("series") or {}
        t = series.get("t_s") or []
        panels = [
            (k, label) for k, label in TELEMETRY_PANELS if any(v is not None for v in series.get(k) or [])
        ]
        if len(t) < 2 or not panels:
            return None
        fig = self.Figure(figsize=(7.5, 1.35 * len(panels) + 0.6))
        axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
        for ax, (key, label) in zip(axes, panels, strict=True):
            points = [(x, y) for x, y in zip(t, series[key], strict=False) if y is not None]
            ax.plot([p[0] for p in points], [p[1] for p in points], color=_COLORS["line"], linewidth=1.2)
            ax.set_ylabel(label, fontsize=7)
            ax.tick_params(labelsize=7)
            ax.grid(True, alpha=0.3)
        axes[-1].set_xlabel("seconds since the run started", fontsize=7)
        gpus = item["telemetry"].get("gpus")
        axes[0].set_title(
            f"{item['benchmark_id']} {item['scenario']} {item['mode']}: GPU telemetry "
            f"({gpus} GPU{'s' if gpus != 1 else ''})",
            fontsize=9,
        )
        return self._svg(fig)

    def references(self, items: list[dict[str, Any]]) -> str | None:
        """Each result against its references: the saved baseline and NVIDIA's published figure (%)."""
        rows = []
        for item in items:
            comparison = item.get("baseline") or {}
            figure = (comparison.get("figures") or {}).get("metric") or (comparison.get("figures") or {}).get(
                "accuracy"
            )
            base_pct = None
            if figure and figure.get("baseline"):
                ratio = figure["current"] / figure["baseline"]
                base_pct = 100 * (ratio if figure["better"] == "higher" else 1 / ratio)
            published = item.get("published") or {}
            nvidia_pct = 100 * published["fraction"] if published.get("fraction") is not None else None
            if base_pct is not None or nvidia_pct is not None:
                rows.append(
                    (
                        f"{item['benchmark_id']} {item['scenario']} {item['mode']}",
                        base_pct,
                        nvidia_pct,
                        comparison.get("regressed", False),
                    )
                )
        if not rows:
            return None
        fig = self.Figure(figsize=(7.5, 0.6 * len(rows) + 1.3))
        ax = fig.add_subplot()
        labels: set[str] = set()

        def label(text: str) -> str | None:
            first = text not in labels
            labels.add(text)
            return text if first else None

        for n, (_, base_pct, nvidia_pct, regressed) in enumerate(rows):
            if base_pct is not None:
                color = _COLORS["fail"] if regressed else _COLORS["base"]
                ax.barh(n - 0.18, base_pct, height=0.34, color=color, label=label("vs baseline"))
                ax.text(base_pct, n - 0.18, f" {base_pct:.0f} %", va="center", fontsize=7)
            if nvidia_pct is not None:
                ax.barh(
                    n + 0.18,
                    nvidia_pct,
                    height=0.34,
                    color=_COLORS["nvidia"],
                    label=label("vs NVIDIA's published figure"),
                )
                ax.text(nvidia_pct, n + 0.18, f" {nvidia_pct:.0f} %", va="center", fontsize=7)
        ax.axvline(100, color=_COLORS["line"], linestyle="--", linewidth=1)
        ax.set_yticks(range(len(rows)), [r[0] for r in rows])
        ax.invert_yaxis()
        ax.set_xlabel("% of the reference (higher is better)")
        ax.set_title("Results against their references", fontsize=9)
        ax.grid(True, axis="x", alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
        return self._svg(fig)


__all__ = ["Charts"]


def _mark_targets(ax: Any, targets: list[float | None], label: str) -> bool:
    """A vertical mark at each bar's target (None: the bar has none), ``label`` on the first in the
    legend; whether any was drawn."""
    labelled = False
    for n, target in enumerate(targets):
        if target is not None:
            ax.plot([target, target], [n - 0.4, n + 0.4], color=_COLORS["target"], linewidth=2.5,
                    label=None if labelled else label)
            labelled = True
    return labelled
