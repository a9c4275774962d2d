"""Write a summary's files: summary.json, summary.md, report.html and the benchmark-action exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .baseline import benchmark_action_entries
from .html import REPORT_HTML, render_html
from .summary import SUMMARY_JSON, SUMMARY_MD, render_markdown, write_json, write_text

#: github-action-benchmark's inputs, one per direction (tool: customBiggerIsBetter / customSmallerIsBetter)
BENCHMARK_ACTION_DIR = "benchmark-action"
BIGGER = "bigger-is-better.json"
SMALLER = "smaller-is-better.json"


def write_reports(out: Path, summary: dict[str, Any], cache_dir: Path | None = None) -> list[Path]:
    """All report files under ``out``; returns their paths. Each file is written whole."""
    out = Path(out)
    paths = [out / SUMMARY_JSON, out / SUMMARY_MD, out / REPORT_HTML]
    write_json(paths[0], summary)
    write_text(paths[1], render_markdown(summary))
    write_text(paths[2], render_html(summary, cache_dir))
    bigger, smaller = benchmark_action_entries(summary["items"])
    for name, entries in ((BIGGER, bigger), (SMALLER, smaller)):
        path = out / BENCHMARK_ACTION_DIR / name
        write_json(path, entries)
        paths.append(path)
    return paths


__all__ = ["BENCHMARK_ACTION_DIR", "BIGGER", "SMALLER", "write_reports"]
