"""report.html in a real headless browser: it opens offline and every chart has something drawn."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from pytest_mlperf_nv.report.baseline import compare_item, parse_threshold
from pytest_mlperf_nv.report.html import render_html
from pytest_mlperf_nv.report.published import published_figure
from pytest_mlperf_nv.report.summary import totals
from pytest_mlperf_nv.systems.telemetry import Telemetry, TelemetrySampler
from tests.reports.nvml_double import NvmlDouble

DATA = Path(__file__).resolve().parent.parent / "data" / "reports"
WIDTH = 1300


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _browser(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    browser = _chromium()
    assert browser is not None
    profile = tmp_path / "chromium-profile"
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--no-first-run",
        "--disable-extensions",
        # Offline: any name the page tried to reach would not resolve.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def _telemetry() -> Telemetry:
    """Telemetry of a GPU run: a power ramp and plateau, replayed through the NVML double."""
    readings = [{"power_w": 70 + min(n, 10) * 50, "sm_clock_mhz": 1980 - (n % 7) * 15,
                 "temperature_c": 35 + min(n, 20), "memory_used_mib": 1000 + 300 * min(n, 5),
                 "utilization_pct": 0 if n < 2 else 97} for n in range(40)]
    nvml = NvmlDouble([{"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-1", "readings": readings}])
    sampler = TelemetrySampler(interval_s=0.01, nvml=nvml).start()
    while len(sampler.telemetry.t_s) < 40:
        time.sleep(0.01)
    telemetry = sampler.stop()
    assert telemetry.sampled
    return telemetry


def _summary_with_everything() -> dict:
    """A summary of a real session (digits on the CPU) plus what a GPU session adds: telemetry, a
    baseline comparison and NVIDIA's published figure for an H200 run."""
    summary = json.loads((DATA / "summary-cpu.json").read_text())
    telemetry = _telemetry()
    from pytest_mlperf_nv.report.summary import _series

    baseline = {"name": "main", "items": {}}
    for item in summary["items"]:
        if item["metric"]:
            baseline["items"][item["key"]] = {
                "figures": {
                    "metric": {
                        "value": item["metric"]["value"] * (1.25 if item["scenario"] == "Offline" else 0.9),
                        "unit": item["metric"]["unit"],
                        "better": "higher",
                    }
                }
            }
            item["telemetry"] = {
                **telemetry.summary(),
                "series": _series(telemetry),
                "samples_per_joule": 1.0,
            }
    for item in summary["items"]:
        item["baseline"] = compare_item(item, baseline, [parse_threshold("metric:5%")])
    h200 = dict(next(i for i in summary["items"] if i["key"] == "cpu::digits::Offline::performance"))
    h200.update(
        key="h200::resnet50::Offline::performance",
        nodeid="suites/h200.yaml::resnet50::Offline::performance",
        benchmark_id="resnet50",
        benchmark="resnet50",
        gpus=1,
        metric={"name": "samples_per_second", "value": 59000.0, "unit": "samples/s"},
    )
    figure = published_figure("resnet50", "Offline", "NVIDIA H200")
    h200["published"] = {
        **figure.as_dict(),
        "fraction": 59000.0 / figure.per_gpu,
        "text": figure.describe(59000.0 / figure.per_gpu),
    }
    summary["items"].append(h200)
    summary["totals"] = totals(summary["items"])
    return summary


@pytest.mark.skipif(
    _chromium() is None,
    reason="report.html is checked in headless Chromium, which is not "
    "installed (Debian: apt-get install chromium)",
)
def test_report_renders_offline_with_non_empty_charts(tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    page = render_html(_summary_with_everything())
    charts = re.findall(r"<figure class='chart' id='(chart-[^']+)'", page)
    assert {"chart-throughput", "chart-accuracy", "chart-references"} <= set(charts)
    assert any(c.startswith("chart-latency") for c in charts) and any(
        c.startswith("chart-telemetry") for c in charts
    )
    report = tmp_path / "report.html"
    report.write_text(page)
    # The test's own copy asks the browser where each chart is (the report itself has no script).
    probe = tmp_path / "probe.html"
    probe.write_text(
        page.replace(
            "</body>",
            """<pre id='layout'></pre><script>
const boxes = {};
for (const f of document.querySelectorAll('figure.chart')) {
  const r = f.querySelector('svg').getBoundingClientRect();
  boxes[f.id] = [r.left, r.top, r.width, r.height];
}
document.getElementById('layout').textContent = JSON.stringify(
  {boxes: boxes, height: document.documentElement.scrollHeight});
</script></body>""",
        )
    )
    dumped = _browser(tmp_path, f"--window-size={WIDTH},1000", "--dump-dom", probe.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    layout = json.loads(re.search(r"<pre id=\"layout\">(.*?)</pre>", dumped.stdout, re.S)[1])
    assert set(layout["boxes"]) == set(charts)

    shot = tmp_path / "report.png"
    height = int(layout["height"]) + 20
    taken = _browser(tmp_path, f"--window-size={WIDTH},{height}", f"--screenshot={shot}", report.as_uri())
    assert taken.returncode == 0 and shot.is_file(), taken.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    for name, (left, top, width, height) in layout["boxes"].items():
        assert width > 200 and height > 100, (name, width, height)
        box = image.crop((int(left), int(top), int(left + width), int(top + height)))
        spread = ImageStat.Stat(box).stddev
        colours = len(box.getcolors(maxcolors=box.width * box.height) or [])
        # An empty (all-white) box has no spread; a drawn chart has axes, bars or lines in colour.
        assert max(spread) > 20 and colours > 20, (name, spread, colours)
    if os.environ.get("MLPERF_NV_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["MLPERF_NV_KEEP_SCREENSHOT"])
