"""Baselines: a session's results saved per machine under a name, and later runs compared with them.

    pytest suites/l4.yaml --mlperf-save-baseline main
    pytest suites/l4.yaml --mlperf-compare main --mlperf-compare-fail metric:5% \
                          --mlperf-compare-fail accuracy:0.1

Files live in ``<baseline dir>/<machine>/<NAME>.json`` (one per machine, as pytest-benchmark keeps
its runs); saving a name again updates the items of this session and keeps the others. An item
regresses when a compared figure moves the wrong way by more than the threshold: a relative one
(``5%``) or an absolute one in the figure's unit (``0.1``).
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = 1

#: figures a threshold can name -> (which way is better, what it is)
FIGURES: dict[str, tuple[str, str]] = {
    "metric": ("auto", "the scenario's MLPerf metric (samples/s: higher is better; latency: lower)"),
    "accuracy": ("higher", "the accuracy score"),
    "samples_per_joule": ("higher", "samples per joule of GPU energy"),
    "power": ("lower", "mean GPU power (W)"),
    "p50": ("lower", "50th percentile latency (ms)"),
    "p90": ("lower", "90th percentile latency (ms)"),
    "p99": ("lower", "99th percentile latency (ms)"),
    "p99.9": ("lower", "99.9th percentile latency (ms)"),
    "mean": ("lower", "mean latency (ms)"),
}


class BaselineError(Exception):
    """A baseline that cannot be read or written, or a threshold that cannot be parsed."""


@dataclass(frozen=True)
class Threshold:
    figure: str
    value: float
    relative: bool
    text: str

    def allows(self, baseline: float, current: float, better: str) -> bool:
        """Whether ``current`` is within the threshold of ``baseline`` (moving the good way always is)."""
        worse = baseline - current if better == "higher" else current - baseline
        if worse <= 0:
            return True
        limit = abs(baseline) * self.value / 100 if self.relative else self.value
        return worse <= limit + 1e-9 * max(1.0, abs(baseline))  # at the threshold is within it


def parse_threshold(text: str) -> Threshold:
    """``metric:5%`` or ``accuracy:0.1``; raises BaselineError saying what is accepted."""
    figure, sep, amount = text.partition(":")
    figure, amount = figure.strip(), amount.strip()
    if not sep or figure not in FIGURES:
        raise BaselineError(
            f"{text!r}: expected FIGURE:AMOUNT with FIGURE one of {', '.join(FIGURES)} "
            "(e.g. metric:5% or accuracy:0.1)"
        )
    relative = amount.endswith("%")
    number = amount[:-1].strip() if relative else amount
    try:
        value = float(number)
    except ValueError:
        raise BaselineError(
            f"{text!r}: {amount!r} is not a number or a percentage (e.g. 5% or 0.1)"
        ) from None
    if value < 0:
        raise BaselineError(f"{text!r}: the threshold cannot be negative")
    return Threshold(figure, value, relative, text)


def machine_id(facts: Any) -> str:
    """Where a machine's baselines are kept: its GPU model and count, else its CPU model.

    ``nvidia-h200x1``, ``nvidia-l4x2``, ``cpu-amd-epyc-7313p-16-core-processor``.
    """
    gpus = getattr(facts, "gpus", ()) or ()
    if gpus:
        return f"{_slug(gpus[0].name)}x{len(gpus)}"
    return f"cpu-{_slug(getattr(facts, 'cpu_model', None) or 'unknown')}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", str(text).lower()).strip("-.") or "unknown"


def item_key(suite_stem: str, benchmark_id: str, scenario: str, mode: str) -> str:
    """An item's key in a baseline: the same for every checkout and invocation directory."""
    return f"{suite_stem}::{benchmark_id}::{scenario}::{mode}"


def baseline_path(directory: Path, machine: str, name: str) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name) or ".." in name:
        raise BaselineError(
            f"baseline name {name!r}: use letters, digits, '.', '_' and '-' (it becomes a file name)"
        )
    return Path(directory) / machine / f"{name}.json"


def figures_of(item: dict[str, Any]) -> dict[str, tuple[float, str, str]]:
    """The comparable figures of a summary item: name -> (value, unit, which way is better)."""
    out: dict[str, tuple[float, str, str]] = {}
    metric = item.get("metric") or {}
    if metric.get("value") is not None:
        unit = metric.get("unit") or ""
        out["metric"] = (float(metric["value"]), unit, "lower" if unit == "ms" else "higher")
    accuracy = item.get("accuracy") or {}
    if accuracy.get("value") is not None:
        out["accuracy"] = (float(accuracy["value"]), accuracy.get("unit") or "%", "higher")
    for key, value in (item.get("latencies_ms") or {}).items():
        if key in FIGURES:
            out[key] = (float(value), "ms", "lower")
    telemetry = item.get("telemetry") or {}
    if telemetry.get("samples_per_joule") is not None:
        out["samples_per_joule"] = (float(telemetry["samples_per_joule"]), "samples/J", "higher")
    if telemetry.get("mean_power_w") is not None:
        out["power"] = (float(telemetry["mean_power_w"]), "W", "lower")
    return out


def save_baseline(
    path: Path, name: str, machine: str, items: list[dict[str, Any]], system: dict[str, Any] | None = None
) -> int:
    """Store the figures of ``items`` (summary items) under ``path``; returns how many were stored."""
    data: dict[str, Any] = (
        _read(path) if path.is_file() else {"format": FORMAT, "name": name, "machine": machine, "items": {}}
    )
    saved = _now()
    count = 0
    for item in items:
        figures = figures_of(item)
        if not figures or item.get("outcome") != "passed":
            continue  # a failed run is no baseline
        data["items"][item["key"]] = {
            "saved": saved,
            "figures": {k: {"value": v, "unit": u, "better": b} for k, (v, u, b) in figures.items()},
        }
        count += 1
    data.update(saved=saved, system=system or data.get("system"))
    from ..fsutil import atomic_write_text

    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True))
    return count


def load_baseline(path: Path) -> dict[str, Any]:
    if not path.is_file():
        siblings = sorted(p.stem for p in path.parent.glob("*.json")) if path.parent.is_dir() else []
        have = (
            f"; this machine has: {', '.join(siblings)}"
            if siblings
            else "; save one first with --mlperf-save-baseline NAME"
        )
        raise BaselineError(
            f"no baseline {path.stem!r} for machine {path.parent.name} ({path} does not exist){have}"
        )
    return _read(path)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BaselineError(f"{path}: unreadable baseline: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("items"), dict):
        raise BaselineError(f"{path}: not a pytest-mlperf-nv baseline (format {FORMAT})")
    return data


def compare_item(
    item: dict[str, Any], baseline: dict[str, Any], thresholds: list[Threshold]
) -> dict[str, Any] | None:
    """This item against its baseline entry: per figure the values, the delta and whether it regressed.

    None when the baseline has no entry for the item.
    """
    entry = baseline["items"].get(item["key"])
    if entry is None:
        return None
    current = figures_of(item)
    figures: dict[str, Any] = {}
    regressions: list[str] = []
    for name, stored in entry.get("figures", {}).items():
        if name not in current:
            continue
        value, unit, better = current[name]
        base = float(stored["value"])
        delta = value - base
        row = {
            "baseline": base,
            "current": value,
            "unit": unit,
            "better": better,
            "delta": delta,
            "delta_pct": (100 * delta / base) if base else None,
        }
        for threshold in thresholds:
            if threshold.figure == name:
                row["threshold"] = threshold.text
                row["regressed"] = not threshold.allows(base, value, better)
                if row["regressed"]:
                    regressions.append(_regression_text(name, row))
        figures[name] = row
    return {
        "name": baseline.get("name"),
        "saved": entry.get("saved"),
        "figures": figures,
        "regressed": bool(regressions),
        "regressions": regressions,
    }


def _regression_text(name: str, row: dict[str, Any]) -> str:
    pct = f" ({row['delta_pct']:+.1f} %)" if row.get("delta_pct") is not None else ""
    return (
        f"{name} regressed beyond {row['threshold']}: {_fmt(row['current'])} {row['unit']} against "
        f"{_fmt(row['baseline'])} {row['unit']} in the baseline{pct}"
    )


def delta_text(comparison: dict[str, Any] | None) -> str:
    """The table's delta cell for an item: ``+3.2 %`` of its metric (or accuracy), ``REGRESSED`` marked."""
    if not comparison:
        return ""
    figures = comparison["figures"]
    row = figures.get("metric") or figures.get("accuracy")
    if row is None or row.get("delta_pct") is None:
        return ""
    text = f"{row['delta_pct']:+.1f} %"
    return f"{text} REGRESSED" if comparison["regressed"] else text


def delta_column(items: list[dict[str, Any]]) -> dict[str, str]:
    """nodeid -> the delta cell, for the results table (summary items with their comparison)."""
    return {item["nodeid"]: delta_text(item.get("baseline")) for item in items if item.get("baseline")}


def _fmt(value: float) -> str:
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.1f}"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# -- github-action-benchmark --------------------------------------------------------------------


def benchmark_action_entries(
    items: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Entries in github-action-benchmark's JSON (``customBiggerIsBetter`` and ``customSmallerIsBetter``
    tools): ``[{"name", "unit", "value", "extra"}]``, one per figure of each passed item."""
    bigger: list[dict[str, Any]] = []
    smaller: list[dict[str, Any]] = []
    for item in items:
        if item.get("outcome") != "passed":
            continue
        for name, (value, unit, better) in figures_of(item).items():
            if name not in ("metric", "accuracy", "samples_per_joule", "power"):
                continue  # the headline figures; latency percentiles stay in summary.json
            label = (item.get("metric") or {}).get("name") if name == "metric" else name
            entry = {
                "name": f"{item['key']} {label}",
                "unit": unit,
                "value": value,
                "extra": f"verdict {item.get('verdict')}; profile {item.get('profile')}; "
                f"run dir {item.get('run_dir')}",
            }
            (bigger if better == "higher" else smaller).append(entry)
    return bigger, smaller


__all__ = [
    "FIGURES",
    "BaselineError",
    "Threshold",
    "baseline_path",
    "benchmark_action_entries",
    "compare_item",
    "delta_column",
    "delta_text",
    "figures_of",
    "item_key",
    "load_baseline",
    "machine_id",
    "parse_threshold",
    "save_baseline",
]
