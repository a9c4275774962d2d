"""Wall time of the embedded default suite, cold cache then warm cache.

    python benchmarks/cpu_suite_time.py [--workers N]

Runs `pytest suites/cpu.yaml` twice in a fresh temporary cache and output directory and
prints, for each session: its wall time, the LoadGen children's time, and the provisioning
wall time (fixtures only: models, datasets, engines; imports excluded) summed from the items'
result.json files, with cache hits per artifact. The warm session's provisioning should be
under 5 % of the cold one's.
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
        provision = {}
        for label in ("cold", "warm"):
            wall, records = run(cache, Path(tmp) / f"out-{label}", args.workers)
            artifacts = [a for r in records for a in r["provisioning"].values()]
            provision[label] = sum(a["seconds"] for a in artifacts)
            cached = [a for a in artifacts if a["cache_hit"] is not None]
            hits = sum(bool(a["cache_hit"]) for a in cached)
            child = sum(r["child"]["wall_s"] for r in records)
            print(f"{label}: session wall {wall:.2f} s, {len(records)} items, children {child:.2f} s, "
                  f"provisioning {provision[label]:.3f} s, cache hits {hits}/{len(cached)} artifacts")
        ratio = provision["warm"] / provision["cold"] if provision["cold"] else 0.0
        print(f"warm provisioning / cold provisioning = {100 * ratio:.2f} %")


if __name__ == "__main__":
    main()
