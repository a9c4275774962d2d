"""The session's summary: ``summary.json`` (versioned schema, README documents it) and ``summary.md``.

The summary is built once on the controller at session end, from the items' outcomes (pytest's
reports) and their run records; ``report.html`` and ``mlperf-nv merge`` read only summary.json, so
a merged set of shards renders like one session.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from .records import RecordError, RunView, read_run

SCHEMA = "pytest-mlperf-nv/summary"
VERSION = 1
SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"
#: at most this many points per telemetry series in summary.json (telemetry.json has them all)
SERIES_POINTS = 240


@dataclass
class ItemOutcome:
    """What pytest said about one mlperf item, plus the context the reports plugin noted at run time."""

    nodeid: str
    outcome: str  # passed | failed | skipped
    duration_s: float = 0.0
    message: str = ""
    context: dict[str, Any] = field(default_factory=dict)


class SummaryError(Exception):
    """A summary.json that cannot be used (names the file and what is wrong)."""


def build_item(outcome: ItemOutcome, session_id: str | None = None) -> dict[str, Any]:
    """One item of summary.json: its outcome and, where it ran in session ``session_id`` (any session
    when None), the figures of its run record."""
    ctx = outcome.context
    item: dict[str, Any] = {
        "key": ctx.get("key") or outcome.nodeid,
        "nodeid": outcome.nodeid,
        "suite": ctx.get("suite_stem"),
        "benchmark_id": ctx.get("benchmark_id"),
        "benchmark": ctx.get("benchmark"),
        "scenario": ctx.get("scenario"),
        "mode": ctx.get("mode"),
        "audit": ctx.get("audit"),
        "outcome": outcome.outcome,
        "verdict": {"passed": "PASS", "failed": "FAIL"}.get(outcome.outcome, "SKIP"),
        "message": outcome.message,
        "duration_s": round(outcome.duration_s, 3),
        "profile": None,
        "harness": ctx.get("harness"),
        "round": None,
        "submittable": None,
        "not_submittable_because": [],
        "validity": None,
        "metric": None,
        "target": None,
        "latencies_ms": {},
        "accuracy": None,
        "telemetry": None,
        "baseline": None,
        "published": None,
        "gpus": ctx.get("gpus"),
        "run_dir": ctx.get("run_dir"),
        "loadgen_version": None,
        "seeds": None,
    }
    run_dir = ctx.get("run_dir")
    view = None
    if run_dir and outcome.outcome != "skipped":
        try:
            view = read_run(Path(run_dir))
        except RecordError as exc:
            item["record_problem"] = str(exc)
    if view is not None and session_id is not None and view.session_id != session_id:
        view = None  # an earlier session's record: this item did not get as far as writing its own
    if view is not None:
        _fill_from_run(item, view, ctx)
    return item


def _fill_from_run(item: dict[str, Any], view: RunView, ctx: dict[str, Any]) -> None:
    item.update(
        profile=view.profile,
        harness=view.harness,
        round=view.round,
        submittable=view.submittable,
        not_submittable_because=view.not_submittable_because,
        validity=view.validity,
        latencies_ms=view.latencies_ms,
        loadgen_version=view.loadgen_version,
        seeds=view.seeds or None,
    )
    if view.metric_value is not None:
        item["metric"] = {"name": view.metric_name, "value": view.metric_value, "unit": view.metric_unit}
        target = view.target
        if target is not None:
            item["target"] = {"setting": target[0], "value": target[1], "unit": target[2]}
    if view.accuracy:
        acc = view.accuracy
        item["accuracy"] = {
            "metric": acc.get("metric"),
            "value": acc.get("value"),
            "unit": "%",
            "target": _recorded_target(acc, ctx.get("accuracy_target")),
            "subset": bool(acc.get("subset") or (acc.get("samples") or {}).get("subset")),
        }
    from ..systems.telemetry import read_telemetry, samples_per_joule

    telemetry = read_telemetry(view.run_dir)
    if telemetry is not None:
        summary = telemetry.summary()
        if summary["sampled"]:
            per_joule = samples_per_joule(view.samples_completed, summary["energy_j"])
            summary["samples_per_joule"] = None if per_joule is None else round(per_joule, 4)
            summary["series"] = _series(telemetry)
        item["telemetry"] = summary


def _series(telemetry: Any) -> dict[str, list[float | None]]:
    """Whole-system series (power and memory summed, clock and utilisation averaged, temperature the
    hottest GPU), thinned to at most SERIES_POINTS points."""
    step = max(1, -(-len(telemetry.t_s) // SERIES_POINTS))
    picks = list(range(0, len(telemetry.t_s), step))
    if picks[-1] != len(telemetry.t_s) - 1:
        picks.append(len(telemetry.t_s) - 1)

    def combine(key: str, how: str) -> list[float | None]:
        out: list[float | None] = []
        for i in picks:
            values = [g.values[key][i] for g in telemetry.gpus if g.values[key][i] is not None]
            if not values:
                out.append(None)
            elif how == "sum":
                out.append(round(sum(values), 2))
            elif how == "max":
                out.append(round(max(values), 2))
            else:
                out.append(round(sum(values) / len(values), 2))
        return out

    return {
        "t_s": [telemetry.t_s[i] for i in picks],
        "power_w": combine("power_w", "sum"),
        "sm_clock_mhz": combine("sm_clock_mhz", "mean"),
        "temperature_c": combine("temperature_c", "max"),
        "memory_used_mib": combine("memory_used_mib", "sum"),
        "utilization_pct": combine("utilization_pct", "mean"),
    }


def build_summary(
    outcomes: list[ItemOutcome],
    *,
    session: dict[str, Any],
    system: dict[str, Any] | None,
    shard: dict[str, Any] | None = None,
    baseline: dict[str, Any] | None = None,
    thresholds: Sequence[Any] = (),
    gpu_name: str | None = None,
) -> dict[str, Any]:
    """The whole summary (schema version 1)."""
    from .baseline import compare_item
    from .published import published_figure

    items = [build_item(o, session.get("id")) for o in sorted(outcomes, key=lambda o: o.nodeid)]
    for item in items:
        if baseline is not None:
            item["baseline"] = compare_item(item, baseline, list(thresholds))
        item["published"] = _published(item, gpu_name, published_figure)
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "generated": _now(),
        "plugin_version": __version__,
        "session": session,
        "system": system,
        "shard": shard,
        "baseline": None
        if baseline is None
        else {
            "name": baseline.get("name"),
            "machine": baseline.get("machine"),
            "path": baseline.get("path"),
            "thresholds": [t.text for t in thresholds],
        },
        "totals": totals(items),
        "items": items,
    }


def _published(item: dict[str, Any], gpu_name: str | None, lookup: Any) -> dict[str, Any] | None:
    metric = item.get("metric") or {}
    if metric.get("unit") != "samples/s" or metric.get("value") is None or not item.get("benchmark"):
        return None
    if not item.get("gpus"):
        return None  # a CPU suite on a GPU host does not compete with the GPU's figure
    figure = lookup(item["benchmark"], item.get("scenario"), gpu_name)
    if figure is None:
        return None
    per_gpu = float(metric["value"]) / max(1, int(item.get("gpus") or 1))
    fraction = per_gpu / figure.per_gpu
    return {
        **figure.as_dict(),
        "this_per_gpu": per_gpu,
        "fraction": round(fraction, 4),
        "text": figure.describe(fraction),
    }


def totals(items: list[dict[str, Any]]) -> dict[str, int]:
    counts = {"items": len(items), "passed": 0, "failed": 0, "skipped": 0, "regressed": 0}
    for item in items:
        counts[item["outcome"]] = counts.get(item["outcome"], 0) + 1
        if (item.get("baseline") or {}).get("regressed"):
            counts["regressed"] += 1
    return counts


# -- files --------------------------------------------------------------------------------------


def write_json(path: Path, data: Any) -> None:
    """Written whole or not at all; a full disk is an OutputError naming the directory."""
    write_text(path, json.dumps(data, indent=1, default=str) + "\n")


def write_text(path: Path, text: str) -> None:
    from ..fsutil import atomic_write_text

    atomic_write_text(path, text)


def read_summary(path: Path) -> dict[str, Any]:
    """A summary.json, checked for its schema and version."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise SummaryError(
            f"{path}: no summary.json (did the session end? it is written at session end)"
        ) from None
    except (OSError, ValueError) as exc:
        raise SummaryError(f"{path}: unreadable summary: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise SummaryError(f"{path}: not a pytest-mlperf-nv summary (schema {SCHEMA!r} expected)")
    if data.get("version") != VERSION:
        raise SummaryError(
            f"{path}: summary version {data.get('version')!r}; this pytest-mlperf-nv "
            f"{__version__} reads version {VERSION}: use the release that wrote it"
        )
    if not isinstance(data.get("items"), list):
        raise SummaryError(f"{path}: the summary has no item list")
    return data


# -- summary.md ---------------------------------------------------------------------------------


def _recorded_target(score: dict[str, Any], fallback: float | None) -> float | None:
    """The target the score was judged against, where the record says (its headline metric's target
    at the run's accuracy level, 99 % or 99.9 %); else the suite's or benchmark's."""
    metrics = score.get("metrics") or []
    if metrics and isinstance(metrics[0], dict):
        target = (metrics[0].get("targets") or {}).get(str(score.get("level")))
        if isinstance(target, (int, float)):
            return float(target)
    return fallback


def render_markdown(summary: dict[str, Any]) -> str:
    """The summary as Markdown for CI job summaries ($GITHUB_STEP_SUMMARY, GitLab's job page)."""
    t = summary["totals"]
    system = summary.get("system") or {}
    gpus = system.get("gpus") or []
    machine = f"{len(gpus)} x {gpus[0]['name']}" if gpus else (system.get("cpu_model") or "unknown machine")
    head = "PASSED" if t["failed"] == 0 else "FAILED"
    lines = [
        f"## MLPerf results: {head}",
        "",
        f"{t['passed']} passed, {t['failed']} failed, {t['skipped']} skipped"
        + (f", {t['regressed']} regressed" if t.get("regressed") else "")
        + f" on {machine}"
        + _shard_text(summary)
        + ".",
        "",
    ]
    baseline = summary.get("baseline")
    if baseline:
        thresholds = ", ".join(baseline.get("thresholds") or []) or "none (deltas only)"
        lines += [
            f"Compared with baseline `{baseline['name']}` (machine `{baseline['machine']}`); "
            f"fail thresholds: {thresholds}.",
            "",
        ]
    header = ("item", "verdict", "validity", "metric", "vs target", "accuracy", "vs baseline", "vs NVIDIA",
              "GPU power")
    rows = [_row(item) for item in summary["items"]]
    # The last three columns only where some item has a value (a CPU session has no GPU power).
    keep = [n for n, name in enumerate(header) if n < 6 or any(row[n] for row in rows)]
    lines += ["| " + " | ".join(header[n] for n in keep) + " |", "|" + "---|" * len(keep)]
    for row in rows:
        lines.append("| " + " | ".join(_md(row[n]) for n in keep) + " |")
    failed = [i for i in summary["items"] if i["outcome"] == "failed"]
    if failed:
        lines += ["", "### Failures", ""]
        for item in failed:
            lines += [
                f"**{_md(item['nodeid'])}**",
                "",
                "```",
                (item.get("message") or "").strip()[:2000],
                "```",
                "",
            ]
    quick = sorted({p for i in summary["items"] if (p := i.get("profile")) and p != "official"})
    if quick:
        lines += [
            "",
            f"Profile {', '.join(quick)}: shortened LoadGen runs; these results are not submittable.",
        ]
    lines += [
        "",
        f"<sub>pytest-mlperf-nv {summary.get('plugin_version')}, summary schema "
        f"{summary['schema']} v{summary['version']}, generated {summary.get('generated')}</sub>",
        "",
    ]
    return "\n".join(lines)


def _row(item: dict[str, Any]) -> list[str]:
    metric = item.get("metric") or {}
    target = item.get("target") or {}
    accuracy = item.get("accuracy") or {}
    vs_target = ""
    if metric.get("value") is not None and target.get("value"):
        vs_target = f"{100 * metric['value'] / target['value']:.0f} % of {format_value(target['value'])}"
    acc = ""
    if accuracy.get("value") is not None:
        acc = f"{accuracy['value']:.3f} %"
        if accuracy.get("target") is not None:
            acc += f" (target {accuracy['target']:g})"
    from .baseline import delta_text

    published = item.get("published") or {}
    telemetry = item.get("telemetry") or {}
    power = f"{telemetry['mean_power_w']:.0f} W" if telemetry.get("mean_power_w") is not None else ""
    vs_nvidia = f"{100 * published['fraction']:.0f} % ({published['accelerator']})" if published else ""
    return [
        item["nodeid"],
        item["verdict"],
        item.get("validity") or "",
        format_metric(metric),
        vs_target,
        acc,
        delta_text(item.get("baseline")),
        vs_nvidia,
        power,
    ]


def _shard_text(summary: dict[str, Any]) -> str:
    shard = summary.get("shard")
    if shard:
        return f", shard {shard['index']}/{shard['count']}"
    merged = summary.get("merged_from")
    return f", merged from {len(merged)} shards" if merged else ""


def format_value(value: float) -> str:
    return f"{value:,.1f}" if abs(value) >= 100 else f"{value:,.4g}"


def format_metric(metric: dict[str, Any]) -> str:
    if metric.get("value") is None:
        return ""
    if metric.get("unit") == "ms":
        return f"{metric['value']:,.3f} ms"
    return f"{format_value(metric['value'])} {metric.get('unit') or ''}".strip()


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


__all__ = [
    "SCHEMA",
    "SUMMARY_JSON",
    "SUMMARY_MD",
    "VERSION",
    "ItemOutcome",
    "SummaryError",
    "build_item",
    "build_summary",
    "read_summary",
    "render_markdown",
    "totals",
    "write_json",
    "write_text",
]
