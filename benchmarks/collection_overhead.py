"""Collection time of a 1,000-case suite, per-item overhead outside the LoadGen run, peak memory.

    .venv/bin/python benchmarks/collection_overhead.py                 # prints the figures
    .venv/bin/python benchmarks/collection_overhead.py --record benchmarks/results/collection.txt

Targets: collecting 1,000 cases in under 1 s; under 0.5 s per item outside the LoadGen run.

1. Collection: a suite of 250 digits variants x 2 scenarios x 2 modes (1,000 items) is collected
   in-process (``pytest --collect-only``); the time is from the start of pytest's collection to
   its end (``pytest_collection`` hook wrapper), so pytest's own start-up is not counted. Also the
   suite loader alone (``load_suite``), a 50 MB suite (refused by size) and an alias bomb
   (refused by the expansion limit), each with its time.
2. Per item: a suite of digits items with LoadGen runs of 100 ms runs in a child pytest; each
   item's wall time (setup + call + teardown, from the JUnit report) is split into the LoadGen
   test (``loadgen_s``, measured in the child around StartTest), the child's other work (Python
   start-up, imports, dataset, backend: ``child wall - loadgen_s``) and the parent's work
   (run dir, spec, log parsing, scoring, result.json: ``item - child wall``).
3. Peak memory (max RSS) of the collecting process and of the item runs' children.
Figures depend on the machine and its load; the script prints the load average with them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def suite_text(variants: int) -> str:
    lines = ["mlperf_suite: 1", "name: big", "benchmarks:"]
    for i in range(variants):
        lines += [f"  d{i}:", "    benchmark: digits", "    gpu_batch_size: 8",
                  "    scenarios: {Offline: {offline_expected_qps: 100000},",
                  "                Server: {server_target_qps: 500}}",
                  "    modes: [performance, accuracy]"]
    return "\n".join(lines) + "\n"


class _Timer:
    def __init__(self) -> None:
        self.seconds = 0.0
        self.items = 0

    def pytest_collection(self, session):  # noqa: ANN001 - a pytest hook
        self.start = time.perf_counter()

    def pytest_collection_finish(self, session):  # noqa: ANN001
        self.seconds = time.perf_counter() - self.start
        self.items = len(session.items)


def collection(workdir: Path) -> list[str]:
    import pytest

    from pytest_mlperf_nv.errors import SuiteError
    from pytest_mlperf_nv.plugin import pytest_mlperf_register
    from pytest_mlperf_nv.registry import Registry
    from pytest_mlperf_nv.suite.schema import load_suite

    path = workdir / "big.yaml"
    path.write_text(suite_text(250))
    registry = Registry()
    pytest_mlperf_register(registry)
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        suite = load_suite(path, registry)
        runs.append(time.perf_counter() - start)
    lines = [f"suite: {path.stat().st_size:,} bytes, {len(suite.cases)} cases",
             f"load_suite (5 runs): median {statistics.median(runs):.3f} s, min {min(runs):.3f} s"]
    timings = []
    for _ in range(3):
        timer = _Timer()
        code = pytest.main(["--collect-only", "-qq", "-p", "no:cacheprovider", "--rootdir", str(workdir),
                            "--mlperf-out", str(workdir / "out"), str(path)], plugins=[timer])
        assert code == 0, code
        timings.append(timer.seconds)
    lines.append(f"pytest --collect-only, {timer.items} items (3 runs): median "
                 f"{statistics.median(timings):.3f} s, min {min(timings):.3f} s (target < 1 s)")
    huge = workdir / "huge.yaml"
    with open(huge, "wb") as f:
        f.write(b"mlperf_suite: 1\nbenchmarks:\n")
        chunk = b"".join(f"  b{i}: {{benchmark: digits}}\n".encode() for i in range(1000))
        while f.tell() < 50 * 1024 * 1024:
            f.write(chunk)
    start = time.perf_counter()
    try:
        load_suite(huge, registry)
    except SuiteError as exc:
        refused = str(exc).splitlines()[0][-90:]
    lines.append(f"50 MB suite: refused in {time.perf_counter() - start:.3f} s (...{refused})")
    bomb = workdir / "bomb.yaml"
    bomb.write_text("mlperf_suite: 1\n" + "".join(
        f"{c}: &{c} [" + ",".join([f"*{chr(ord(c) - 1)}"] * 9 if c != "a" else ['"lol"'] * 9) + "]\n"
        for c in "abcdefghi") + "name: *i\nbenchmarks: {digits: {}}\n")
    start = time.perf_counter()
    try:
        load_suite(bomb, registry)
    except SuiteError:
        pass
    lines.append(f"alias bomb (9**9 values): refused in {time.perf_counter() - start:.3f} s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines.append(f"peak memory of the collecting process: {rss:.0f} MiB (max RSS)")
    return lines


def per_item(workdir: Path, items: int) -> list[str]:
    suite = workdir / "items.yaml"
    scenarios = ["Offline", "SingleStream", "MultiStream"]
    body = ["mlperf_suite: 1", "name: items", "benchmarks:"]
    for i in range(items):
        scenario = scenarios[i % 3]
        knob = {"Offline": "offline_expected_qps: 100000",
                "SingleStream": "single_stream_expected_latency_ns: 10000",
                "MultiStream": "multi_stream_expected_latency_ns: 40000"}[scenario]
        body += [f"  d{i}:", "    benchmark: digits", "    min_duration: 100",
                 f"    scenarios: {{{scenario}: {{{knob}}}}}", "    modes: [performance]"]
    suite.write_text("\n".join(body) + "\n")
    junit = workdir / "junit.xml"
    env = {**os.environ, "MLPERF_NV_CACHE_DIR": str(workdir / "cache")}
    # Build the model and engine once, so that the measured items find them cached.
    subprocess.run([sys.executable, "-m", "pytest", str(suite), "-q", "-p", "no:cacheprovider", "-k", "d0",
                    "--mlperf-out", str(workdir / "warm")], cwd=workdir, env=env, capture_output=True)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", str(suite), "-q", "-p", "no:cacheprovider",
                           "--mlperf-out", str(workdir / "out"), f"--junitxml={junit}"], cwd=workdir, env=env,
                          capture_output=True, text=True)
    session = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    wall = {}  # benchmark id -> the item's time in pytest (setup + call + teardown)
    for case in ET.parse(junit).getroot().iter("testcase"):
        parts = (case.get("classname") or "").replace("::", ".").split(".")
        bench_id = next((p for p in parts if p.startswith("d") and p[1:].isdigit()), None)
        if bench_id is not None:
            wall[bench_id] = float(case.get("time"))
    rows = []
    for record_path in sorted((workdir / "out" / "runs").rglob("result.json")):
        record = json.loads(record_path.read_text())
        child = record["child"]
        loadgen = (child.get("timings") or {}).get("loadgen_s") or 0.0
        item = wall.get(record["case"]["id"])
        if item is not None:
            rows.append((item, child["wall_s"], loadgen))
    lines = [f"{len(rows)} items of 100 ms LoadGen runs (exit status {proc.returncode}), "
             f"session {session:.1f} s"]
    if rows:
        item = statistics.median(r[0] for r in rows)
        outside = statistics.median(r[0] - r[2] for r in rows)
        child_rest = statistics.median(r[1] - r[2] for r in rows)
        parent = statistics.median(r[0] - r[1] for r in rows)
        lines += [
            f"per item (median): {item:.2f} s in pytest (setup + call + teardown), of which outside the "
            f"LoadGen test {outside:.2f} s (target < 0.5 s):",
            f"  the child process besides the test (start-up, imports, dataset, backend): {child_rest:.2f} s",
            f"  the parent (fixtures, run dir, spec, log parsing, scoring, result.json): {parent:.2f} s",
            f"peak memory of the item runs' processes: {children:.0f} MiB (max RSS of the largest child)"]
    if proc.returncode:
        lines.append(proc.stdout[-1500:])
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=8, help="items of the per-item measurement (default 8)")
    parser.add_argument("--record", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    from pytest_mlperf_nv import __version__

    lines = [f"pytest-mlperf-nv {__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
             f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}"]
    with tempfile.TemporaryDirectory(prefix="mlperf-bench-") as tmp:
        lines += collection(Path(tmp))
        lines += per_item(Path(tmp), args.items)
    lines.append(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    text = "\n".join(lines)
    print(text)
    if args.record:
        args.record.parent.mkdir(parents=True, exist_ok=True)
        args.record.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
