"""The Server SUT's batching on a modelled GPU: how much of the latency bound its structure uses.

Runs the real :class:`~pytest_mlperf_nv.harness.loadgen.sut.PipelinedSUT` (feeders, lanes, sample
queue, batch buckets) under real LoadGen Server runs, on a stand-in device whose batch takes a
given time: ``a + b * c`` for a batch of bucket size ``b`` (default: resnet50 fp16 on one H100 as
benchmarks/results/device-h100-torch-2026-12-07 measured it: 0.5 ms at batch 1, 26,800 samples/s
at batch 1024), and whose fill (gather + copy of a batch) takes ``fa + b * fc``. Nothing runs on a
GPU: the device sleeps. Every time is stretched by ``--slowdown`` (default 10: 1/10 of the QPS,
10 x the latency bound) so that Python's own cost on a small, busy CPU stays small beside the
modelled times; the figures are printed back in the GPU's terms.

What it answers: at which fraction of the Offline capacity (the model's batch-1024 rate) each
Server configuration (batch size; batch formed early, late, or queued ahead) still meets the bound, and where
a batch's time goes (the SUT's batch profile). What it cannot answer: the real GPU's batch times
at small batches, Python's cost on the device host, LoadGen's own cost at the real rate.

    python benchmarks/server_batching_model.py
    python benchmarks/server_batching_model.py --configs 64,128,128:early --loads 0.7,0.8,0.85,0.9
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


class _Device:
    """Runs launched batches one after another (one inference stream), each for its modelled time."""

    def __init__(self, batch_s: Any):
        self.batch_s = batch_s
        self.work: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._run, daemon=True, name="modelled-device").start()

    def _run(self) -> None:
        while True:
            slot, bucket = self.work.get()
            time.sleep(self.batch_s(bucket))
            slot.done.set()


class _Slot:
    def __init__(self, out: np.ndarray) -> None:
        self.ids = self.indices = None
        self.count = 0
        self.out = out
        self.done = threading.Event()
        self.marks: dict[str, float] = {}
        self.idle_launch = True
        self.launched_at = 0.0


class _Lane:
    def __init__(self, engine: _Engine):
        self.engine = engine

    def launch(self, slot: _Slot) -> None:
        slot.done.clear()
        self.engine.gpu.work.put((slot, self.engine.bucket(slot.count)))

    @staticmethod
    def finished(slot: _Slot) -> bool:
        return slot.done.is_set()

    @staticmethod
    def wait(slot: _Slot) -> np.ndarray:
        slot.done.wait()
        return slot.out[:slot.count]


class _Engine:
    """A device engine as PipelinedSUT sees it: lanes, copy streams, buckets, slots, fill."""

    cuda = True
    device = "modelled"

    def __init__(self, batch: int, batch_s: Any, fill_s: Any):
        from pytest_mlperf_nv.harness.loadgen.torch_runtime import buckets_for

        self.buckets = buckets_for(batch, "Server")
        self.max_batch = batch
        self.gpu = _Device(batch_s)
        self.fill_s = fill_s
        self.lanes = [_Lane(self)]
        self.copy_streams = [None, None]

    def bucket(self, count: int) -> int:
        return next(b for b in self.buckets if b >= count)

    def new_slot(self, on_device: bool) -> _Slot:
        return _Slot(np.zeros((self.max_batch, 1), dtype=np.float32))

    def fill(self, slot: _Slot, rows: np.ndarray, store: Any, copy_stream: int) -> None:
        slot.count = len(rows)
        time.sleep(self.fill_s(len(rows)))

    @staticmethod
    def wait_filled(slot: _Slot) -> None:
        pass  # fill's time includes the copy


class _Store:
    on_device_wanted = False

    @staticmethod
    def rows(indices: np.ndarray) -> np.ndarray:
        return indices

    def load(self, indices: list[int]) -> None:
        pass

    def unload(self, indices: list[int]) -> None:
        pass

    def prepare_devices(self, devices: list[Any]) -> None:
        pass


def server_run(batch: int, how: str, qps: float, bound_s: float, seconds: float, batch_s: Any,
               fill_s: Any, work: Path) -> dict[str, Any]:
    """One LoadGen Server run (times already stretched): validity, p99, the SUT's batch profile."""
    import mlperf_loadgen as lg

    from pytest_mlperf_nv.harness.loadgen.sut import PipelinedSUT
    from pytest_mlperf_nv.harness.loadgen.sut_profile import BatchProfile
    from pytest_mlperf_nv.harness.logs import parse_run

    def fail(exc: BaseException) -> None:
        raise SystemExit(f"the SUT failed: {exc!r}")

    sut = PipelinedSUT(lg, [_Engine(batch, batch_s, fill_s)], _Store(), lambda out: out, batch,
                       on_error=fail, prepare_ahead=1, launch_ahead=how == "ahead", form_late=how == "late")
    sut.profile = BatchProfile()
    ts = lg.TestSettings()
    ts.scenario = lg.TestScenario.Server
    ts.mode = lg.TestMode.PerformanceOnly
    ts.server_target_qps = qps
    ts.server_target_latency_ns = int(bound_s * 1e9)
    ts.min_duration_ms = int(seconds * 1000)
    ts.min_query_count = 1
    log = lg.LogSettings()
    log.log_output.outdir = str(work)
    log.log_output.copy_summary_to_stdout = False
    log.enable_trace = False
    handle = lg.ConstructFastSUT(sut.issue_fast, sut.flush)
    qsl = lg.ConstructQSL(1024, 1024, sut.load_samples, sut.unload_samples)
    lg.StartTestWithLogSettings(handle, qsl, ts, log, str(work / "audit.config.not-used"))
    lg.DestroyQSL(qsl)
    lg.DestroyFastSUT(handle)
    sut.stop()
    result = parse_run(work)
    return {"validity": result.validity, "p99_s": (result.latencies_ms.get("p99") or 0) / 1e3,
            "profile": sut.profile.summary()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-ms", default="0.5,0.0373", help="a,c: a batch of bucket size b takes "
                        "a + b*c ms on the modelled GPU (default: resnet50 fp16 on one H100)")
    parser.add_argument("--fill-ms", default="0.1,0.006", help="fa,fc: gathering and copying a batch of "
                        "b samples takes fa + b*fc ms (the feeder's time)")
    parser.add_argument("--offline-batch", type=int, default=1024)
    parser.add_argument("--bound-ms", type=float, default=15.0, help="the Server latency bound")
    parser.add_argument("--configs", default="64,64:early,128,128:early,192",
                        help="Server batch sizes, each B (one batch at a time, formed when the device is "
                        "about to be free: the SUT's Server default), B:early (formed as soon as the one "
                        "before is launched) or B:ahead (queued behind the running one)")
    parser.add_argument("--loads", default="0.7,0.8,0.85,0.9", help="target QPS as fractions of Offline")
    parser.add_argument("--slowdown", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=4.0, help="each run's min_duration (stretched)")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    from pytest_mlperf_nv.harness.loadgen.sut_profile import STAGES

    a, c = (float(x) / 1e3 for x in args.batch_ms.split(","))
    fa, fc = (float(x) / 1e3 for x in args.fill_ms.split(","))
    k = args.slowdown

    def batch_s(b: int) -> float:
        return k * (a + b * c)

    def fill_s(b: int) -> float:
        return k * (fa + b * fc)

    offline = args.offline_batch / (a + args.offline_batch * c)
    print(f"modelled GPU: a batch of b takes {a * 1e3:.3g} + b x {c * 1e3:.4g} ms; Offline "
          f"(batch {args.offline_batch}) {offline:,.0f} samples/s; "
          f"fill {fa * 1e3:.3g} + b x {fc * 1e3:.3g} ms; "
          f"bound {args.bound_ms:g} ms; times stretched {k:g} x on this CPU")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for config in args.configs.split(","):
            batch, how = int(config.split(":")[0]), (config.split(":") + ["late"])[1]
            for load in (float(x) for x in args.loads.split(",")):
                work = Path(tmp) / f"{len(rows)}-{config}-{load}"
                work.mkdir()
                r = server_run(batch, how, load * offline / k, k * args.bound_ms / 1e3, args.seconds,
                               batch_s, fill_s, work)
                p99_ms = r["p99_s"] * 1e3 / k
                prof = r["profile"]
                stages = "-" if not prof.get("batches") else " ".join(
                    f"{s} {prof[s]['mean'] / k:.2f}" for s in STAGES)
                size = prof.get("batch_size", {}).get("mean", 0)
                print(f"batch {batch:>4} {how:<5} at {load:.2f} x Offline "
                      f"({load * offline:>7,.0f} qps): {r['validity']:<7} p99 {p99_ms:6.2f} ms; batches of "
                      f"{size:.0f}; first sample, mean ms: {stages}", flush=True)
                rows.append({"batch": batch, "formed": how, "load": load, "qps": load * offline,
                             "validity": r["validity"], "p99_ms": p99_ms, "profile": prof})
    if args.out:
        args.out.write_text(json.dumps({"batch_ms": args.batch_ms, "fill_ms": args.fill_ms, "slowdown": k,
                                        "bound_ms": args.bound_ms, "offline_sps": offline, "runs": rows},
                                       indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
