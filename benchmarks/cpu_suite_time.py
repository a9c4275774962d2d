"""Wall time of the embedded default suite, cold cache then warm cache.

    python benchmarks/cpu_suite_time.py [--workers N]

Runs `pytest suites/cpu.yaml` twice in a fresh temporary cache and output directory and
prints the session wall time of each and the model provisioning time recorded in the items'
result.json files (build seconds on the cold run; a hit on the warm run).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(cache: Path, out: Path, workers: int) -> tuple[float, list[dict]]:
    args = [sys.executable, "-m", "pytest", "suites/cpu.yaml", "-q", "-p", "no:cacheprovider",
            f"--mlperf-cache-dir={cache}", f"--mlperf-out={out}"]
    if workers > 1:
        args += ["-n", str(workers)]
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"pytest failed ({proc.returncode}):\n{proc.stdout[-3000:]}")
    records = [json.loads(p.read_text()) for p in out.glob("runs/cpu/*/*/*/result.json")]
    return wall, records


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        for label in ("cold", "warm"):
            wall, records = run(cache, Path(tmp) / f"out-{label}", args.workers)
            builds = [r["model"]["build_seconds"] for r in records if r["model"]["build_seconds"]]
            hits = sum(r["model"]["cache_hit"] for r in records)
            child = sum(r["child"]["wall_s"] for r in records)
            print(f"{label}: session wall {wall:.2f} s, {len(records)} items, children {child:.2f} s, "
                  f"model build {sum(builds):.2f} s, model cache hits {hits}/{len(records)}")


if __name__ == "__main__":
    main()
