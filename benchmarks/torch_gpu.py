"""The torch backend on one GPU: raw engine throughput against LoadGen, in one process.

For each benchmark (resnet50, bert-99; random weights on synthetic data, performance only):

* raw: back-to-back inference of the same engine at the same batch size on device-resident
  input (CUDA graph replays), no LoadGen, no host work;
* pipeline: the SUT's feeders and lanes (host gather, pinned copies, completions) fed without
  LoadGen;
* Offline: LoadGen's VALID samples/s;
* Server: the highest VALID QPS found by a search starting at a fraction of Offline;
* SingleStream: LoadGen's p90 latency against the raw batch-1 latency of the same engine (one
  sample from host memory through the device and back, no LoadGen, no threads).

Prints a table naming the GPU and writes ``benchmarks/results/torch-gpu-<gpu>-<date>.json``.

    python benchmarks/torch_gpu.py                      # both benchmarks, default sizes
    python benchmarks/torch_gpu.py --benchmarks resnet50 --seconds 5
    python benchmarks/torch_gpu.py --device cpu --benchmarks digits --seconds 1   # a smoke run anywhere

Everything it writes goes under ``--work`` (compiler caches, LoadGen logs) and ``--out``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

#: per benchmark: model builder, dataset factory + options, postprocess, LoadGen model, batch sizes,
#: Server latency bound (ms)
#: (Server: the batch sizes tried, each ``B`` (one batch at a time on the GPU, formed when the GPU is
#: about to be free: the SUT's Server default), ``B:early`` (formed as soon as the batch before is
#: launched) or ``B:ahead`` (queued behind the running one); each searched from above the best VALID
#: figure so far, which is reported)
PLANS: dict[str, dict[str, Any]] = {
    "resnet50": {"offline_batch": 1024, "server": "128:early,128,64", "bound_ms": 15.0,
                 "dataset_count": 1024},
    "bert-99": {"offline_batch": 256, "server": "64:early,64", "bound_ms": 130.0, "dataset_count": 2048},
    "digits": {"offline_batch": 64, "server": "8:early,8,16:ahead", "bound_ms": 50.0, "dataset_count": 360},
}


def _setup(name: str, work: Path) -> tuple[Path, Any, Any, str]:
    from pytest_mlperf_nv.datasets import DatasetContext

    model_dir = work / "models"
    model_dir.mkdir(parents=True, exist_ok=True)
    count = PLANS[name]["dataset_count"]
    dataset: Any
    if name == "resnet50":
        from pytest_mlperf_nv.benchmarks import imagenet, resnet50
        from pytest_mlperf_nv.benchmarks.resnet50_model import build_random_resnet50

        model = model_dir / build_random_resnet50(model_dir)
        dataset = imagenet.synthetic_imagenet_dataset(DatasetContext(None, work, {"count": count}))
        return model, dataset, resnet50.resnet50_response, "resnet50"
    if name.startswith("bert"):
        from pytest_mlperf_nv.benchmarks import bert

        model = model_dir / bert.build_random_bert(model_dir)
        dataset = bert.synthetic_squad_dataset(DatasetContext(None, work, {"count": count}))
        return model, dataset, bert.bert_response, "bert"
    from pytest_mlperf_nv.benchmarks import digits

    model = model_dir / digits.build_digits_model(model_dir)
    dataset = digits.digits_dataset(DatasetContext(None, work, {}))
    return model, dataset, digits.definition().postprocess, "resnet50"


class _CountingLoadGen:
    """Stands in for LoadGen's completion calls when the SUT is fed directly (the pipeline figure)."""

    def __init__(self) -> None:
        self.done = 0
        self.cond = threading.Condition()

    @staticmethod
    def QuerySampleResponse(*args: Any) -> None:  # noqa: N802 - LoadGen's name
        return None

    def QuerySamplesComplete(self, responses: list) -> None:  # noqa: N802
        with self.cond:
            self.done += len(responses)
            self.cond.notify_all()


def _sut(backend: Any, dataset: Any, post: Any, lg: Any, batch: int, scenario: str, knobs: dict) -> Any:
    def fail(exc: BaseException) -> None:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)
        os._exit(70)

    return backend.create_sut(lg, dataset, post, {**knobs, "gpu_batch_size": batch}, fail, scenario=scenario)


def _pipeline(sut: Any, fake: _CountingLoadGen, dataset: Any, seconds: float) -> float:
    """Samples/s through the SUT's feeders and lanes with LoadGen's issue replaced by one big put."""
    n_loaded = min(dataset.total_count, dataset.performance_count)
    sut.load_samples(list(range(n_loaded)))
    from pytest_mlperf_nv.harness.loadgen.sut_profile import BatchProfile

    rate_guess = 1000.0
    total = 0
    for attempt in range(2):
        total = max(sut.batch_size * 8, int(rate_guess * seconds))
        indices = np.arange(total, dtype=np.int64) % n_loaded
        fake.done = 0
        sut.profile = BatchProfile()
        start = time.perf_counter()
        sut.queue.put(np.arange(total, dtype=np.uint64), indices)
        with fake.cond:
            while fake.done < total:
                fake.cond.wait(1.0)
        elapsed = time.perf_counter() - start
        rate_guess = total / elapsed
        if attempt == 0 and elapsed >= seconds * 0.5:
            break
    return rate_guess


def _loadgen(sut: Any, dataset: Any, model: str, scenario: str, out: Path, settings: dict[str, Any]) -> Any:
    """One LoadGen run on ``sut``, its batches profiled (``sut.profile.summary()`` after it)."""
    import mlperf_loadgen as lg

    from pytest_mlperf_nv.harness.loadgen.sut_profile import BatchProfile
    from pytest_mlperf_nv.harness.logs import parse_run

    sut.profile = BatchProfile()

    out.mkdir(parents=True, exist_ok=True)
    ts = lg.TestSettings()
    ts.FromConfig("", model, scenario, 0)
    ts.scenario = getattr(lg.TestScenario, scenario)
    ts.mode = lg.TestMode.PerformanceOnly
    for key, value in settings.items():
        setattr(ts, key, value)
    if dataset.total_count < (ts.performance_sample_count_override or dataset.performance_count):
        ts.performance_sample_count_override = dataset.total_count
    log = lg.LogSettings()
    log.log_output.outdir = str(out)
    log.log_output.copy_summary_to_stdout = False
    log.enable_trace = False
    handle = lg.ConstructFastSUT(sut.issue_fast, sut.flush)
    qsl = lg.ConstructQSL(dataset.total_count, min(dataset.total_count, dataset.performance_count),
                          sut.load_samples, sut.unload_samples)
    lg.StartTestWithLogSettings(handle, qsl, ts, log, str(out / "audit.config.not-used"))
    lg.DestroyQSL(qsl)
    lg.DestroyFastSUT(handle)
    return parse_run(out)


def _short(result: Any) -> bool:
    """LoadGen ended the run before min_duration (it generated too few queries for it)."""
    return any("min duration" in u or "ran out" in u for u in result.unmet)


def _raw_latency(engine: Any, store: Any, runs: int = 300) -> dict[str, float]:
    """One sample from host memory through the engine and back, as the SingleStream path does it."""
    slot = engine.new_slot(store.on_device_wanted)
    lane = engine.lanes[0]
    times = []
    for i in range(runs + 20):
        start = time.perf_counter()
        slot.ids = np.array([i], dtype=np.uint64)
        engine.fill(slot, store.rows(np.array([i % store.loaded])), store, 0)
        lane.launch(slot)
        lane.wait(slot)
        if i >= 20:
            times.append(time.perf_counter() - start)
    ms = np.array(times) * 1e3
    return {"p50_ms": float(np.percentile(ms, 50)), "p90_ms": float(np.percentile(ms, 90))}


def _check(engine: Any, backend: Any, store: Any, count: int = 64) -> dict[str, Any]:
    """The engine's outputs (its precision, compiled, graph) against the model in fp32, eagerly."""
    import copy

    import torch

    from pytest_mlperf_nv.harness.loadgen.torch_runtime import inference_module

    raw = engine.module.raw and getattr(store.dataset, "raw_input", None)
    reference = inference_module(copy.deepcopy(backend.model()), precision="fp32", channels_last=False,
                                 raw=raw if raw else None).to(engine.device)
    rows = np.arange(count) % store.loaded
    slot = engine.new_slot(store.on_device_wanted)
    slot.ids = rows.astype(np.uint64)
    engine.fill(slot, rows, store, 0)
    engine.lanes[0].launch(slot)
    got = torch.from_numpy(engine.lanes[0].wait(slot).copy())
    with torch.no_grad():
        want = reference(torch.index_select(store.host, 0, torch.from_numpy(rows)).to(engine.device)).cpu()
    out: dict[str, Any] = {"samples": int(count)}
    if want.is_floating_point():
        out["rel_l2_error"] = float((got.double() - want.double()).norm() / want.double().norm())
        if want.dim() == 2:
            out["argmax_agreement"] = float((got.argmax(1) == want.argmax(1)).double().mean())
    else:
        out["equal_fraction"] = float((got == want).double().mean())
    return out


def _stages(sut: Any, engine: Any, b: int, seconds: float = 1.0) -> dict[str, float]:
    """Samples/s of each host-side stage alone, at batch ``b``: where a pipeline below the raw
    figure loses its time (gathering into pinned memory, the copy to the device, completing)."""
    import torch

    store = sut.store
    slot = engine.new_slot(False)
    rows = np.arange(b) % store.loaded
    out: dict[str, float] = {}

    def rate(fn: Any, sync: Any = None) -> float:
        fn()
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            fn()
            n += 1
            if sync is not None and n % 8 == 0:
                sync()
        if sync is not None:
            sync()
        return n * b / (time.perf_counter() - start)

    out["gather_sps"] = rate(lambda: store.gather(rows, slot.host_in[:b]))
    if engine.cuda:
        stream = engine.copy_streams[0]
        with torch.cuda.stream(stream):
            out["host_to_device_sps"] = rate(
                lambda: slot.dev_in[:b].copy_(slot.host_in[:b], non_blocking=True), stream.synchronize)
    fake = _CountingLoadGen()
    host_out = slot.host_out[:b].numpy()
    ids = np.arange(b, dtype=np.uint64)

    def complete() -> None:
        rows_out = np.ascontiguousarray(sut.postprocess(host_out))
        base, stride = rows_out.ctypes.data, rows_out.strides[0] if rows_out.ndim > 1 else rows_out.itemsize
        fake.QuerySamplesComplete([fake.QuerySampleResponse(i, base + k * stride, stride)
                                   for k, i in enumerate(ids.tolist())])

    out["complete_sps"] = rate(complete)
    return out


def _fill_static(engine: Any, store: Any) -> None:
    """Real samples in the lanes' static inputs: the raw figure must not be measured on zeros."""
    import torch

    rows = np.arange(engine.max_batch) % store.loaded
    data = torch.index_select(store.host, 0, torch.from_numpy(rows))
    for lane in engine.lanes:
        lane.static_in.copy_(data.to(engine.device))


def run_benchmark(name: str, args: argparse.Namespace, work: Path, row: dict[str, Any],
                  save: Any) -> dict[str, Any]:
    """Fills ``row`` step by step (``save()`` writes what is there: a run cut short keeps it)."""
    import mlperf_loadgen as lg

    from pytest_mlperf_nv.harness.loadgen.torch_backend import TorchBackend

    plan = PLANS[name]
    model_path, dataset, post, lg_model = _setup(name, work)
    options = {"device": args.device}
    if args.precision:
        options["precision"] = args.precision
    backend = TorchBackend(model_path, options)
    knobs = {"gpu_copy_streams": args.copy_streams, "gpu_inference_streams": args.lanes,
             "start_from_device": args.start_from_device, "use_graphs": not args.no_graphs}
    row.update({"benchmark": name, "weights": None, "knobs": knobs, "options": backend.settings})
    seconds = args.seconds
    logs = work / "logs" / name

    def step(label: str, fn: Any) -> Any:
        start = time.perf_counter()
        print(f"[{name}] {label} ...", flush=True)
        try:
            value = fn()
        except Exception as exc:  # noqa: BLE001 - one failing step must not cost the other figures
            import traceback

            traceback.print_exc()
            row.setdefault("errors", []).append(f"{label}: {type(exc).__name__}: {exc}")
            value = None
        print(f"[{name}] {label}: {value!r:.200} ({time.perf_counter() - start:.1f} s)", flush=True)
        return value

    # Offline: the engine at the Offline batch size; raw and pipeline figures from the same engine.
    b = plan["offline_batch"] if not args.offline_batch else args.offline_batch
    fake = _CountingLoadGen()
    sut = step("engine (Offline batch)", lambda: _sut(backend, dataset, post, fake, b, "Offline", knobs))
    if sut is None:
        return row
    row["weights"] = backend.weights
    engine = sut.engines[0]
    row["engine"] = engine.describe()
    row["offline_batch"] = b
    row["pipeline_sps"] = step("pipeline (no LoadGen)", lambda: _pipeline(sut, fake, dataset, seconds))
    row["pipeline_profile"] = _profile(sut)
    row["stages"] = step("host stages alone", lambda: _stages(sut, engine, b))
    _fill_static(engine, sut.store)
    row["raw_sps"] = step("raw (device-resident, graph replay)", lambda: engine.raw_throughput(b, seconds))
    row["check"] = step("outputs against fp32 eager", lambda: _check(engine, backend, sut.store))
    sut.lg = lg  # the same engine and threads, now completing to LoadGen
    expected = 1.1 * max(row["raw_sps"] or 0.0, row["pipeline_sps"] or 0.0, 100.0)
    offline = None
    for attempt in range(3):
        offline = step("LoadGen Offline", lambda e=expected, k=attempt: _loadgen(
            sut, dataset, lg_model, "Offline", logs / f"Offline-{k}",
            {"offline_expected_qps": e, "min_duration_ms": int(seconds * 1000), "min_query_count": 1}))
        if offline is None or offline.valid or not _short(offline):
            break
        expected *= 1.5 * max(1.0, (offline.metric_value or expected) / expected)  # the query ended early
    sut.stop()
    if offline is not None:
        row["offline"] = {"validity": offline.validity, "sps": offline.metric_value, "unmet": offline.unmet,
                          "profile": _profile(sut)}
    save()
    offline_settings = {"min_duration_ms": int(seconds * 1000), "min_query_count": 1}
    # Variants of the Offline run, each on a new SUT over the same compiled model (no recompilation):
    # samples on the GPU (start_from_device: no host gather, no copy), two inference streams.
    variants = []
    wanted = name in args.variants_for.split(",")
    if wanted and args.device_variant and not args.start_from_device:
        variants.append(("start_from_device", {**knobs, "start_from_device": True}))
    if wanted and args.lanes_variant and args.lanes < 2:
        variants.append(("two_inference_streams", {**knobs, "gpu_inference_streams": 2}))
    for label, variant_knobs in variants:
        fake = _CountingLoadGen()
        sut = step(f"engine (Offline, {label})", lambda k=variant_knobs, f=fake: _sut(
            backend, dataset, post, f, b, "Offline", k))
        if sut is None:
            continue
        entry: dict[str, Any] = {"knobs": variant_knobs}
        entry["pipeline_sps"] = step(f"pipeline ({label}, no LoadGen)",
                                     lambda s=sut, f=fake: _pipeline(s, f, dataset, seconds))
        entry["pipeline_profile"] = _profile(sut)
        sut.lg = lg
        result = step(f"LoadGen Offline ({label})", lambda s=sut, n=label: _loadgen(
            s, dataset, lg_model, "Offline", logs / f"Offline-{n}",
            {**offline_settings, "offline_expected_qps": expected}))
        sut.stop()
        if result is not None:
            entry.update({"validity": result.validity, "sps": result.metric_value, "unmet": result.unmet,
                          "profile": _profile(sut)})
        row.setdefault("offline_variants", {})[label] = entry
        save()
    # Server: the highest VALID target QPS, searched for each batch size; the best is reported.
    batches = [(int(x.split(":")[0]), (x.split(":") + ["late"])[1])
               for x in (args.server or plan["server"]).split(",")]
    base = (row.get("offline") or {}).get("sps") or row["raw_sps"] or 100.0
    best_qps, best_batch, configs = None, None, []
    suts: dict[int, Any] = {}  # one SUT per batch size (its engine's graphs), each way of forming
    for sb, how in batches:
        server_knobs = {**knobs, "use_deque_limit": args.deque_timeout_us > 0,
                        "deque_timeout_usec": args.deque_timeout_us or 1}
        if sb not in suts:
            suts[sb] = step(f"engine (Server, batch {sb})",
                            lambda s=sb, k=server_knobs: _sut(backend, dataset, post, lg, s, "Server", k))
        sut = suts[sb]
        if sut is None:
            continue
        ahead = how == "ahead"
        sut.launch_ahead, sut.form_late = ahead, how == "late"
        trials: list[dict[str, Any]] = []
        config = {"batch": sb, "launch_ahead": ahead, "formed": how, "best_valid_qps": None, "trials": trials}
        configs.append(config)
        # Start above the best so far (a lower figure would not change the answer).
        target = max(args.server_start * base, 1.05 * best_qps if best_qps else 0.0)
        for trial in range(args.server_trials):
            r = step(f"LoadGen Server batch {sb} ({how}) at {target:,.0f} qps",
                     lambda t=target, k=trial, s=sut, n=f"{sb}-{how}": _loadgen(
                s, dataset, lg_model, "Server", logs / f"Server-{n}-{k}", {
                    "server_target_qps": t, "min_duration_ms": int(seconds * 1000), "min_query_count": 1,
                    "server_target_latency_ns": int(plan["bound_ms"] * 1e6)}))
            if r is None:
                break
            trials.append({"target_qps": target, "validity": r.validity, "sps": r.metric_value,
                           "p99_ms": r.latencies_ms.get("p99"), "unmet": r.unmet, "profile": _profile(sut)})
            if r.valid:
                config["best_valid_qps"] = target
                if best_qps is None or target > best_qps:
                    best_qps, best_batch = target, f"{sb}:{how}"
                target *= 1.05
            elif config["best_valid_qps"] is not None:
                break
            else:
                target *= 0.85
                if best_qps is not None and target <= best_qps:
                    break  # below what another batch size already sustains
            save()
        row["server"] = {"batch": best_batch, "best_valid_qps": best_qps, "configs": configs}
        save()
    for sut in suts.values():
        if sut is not None:
            sut.stop()
    # SingleStream: LoadGen's p90 against the raw batch-1 latency of the same engine.
    sut = step("engine (batch 1)", lambda: _sut(backend, dataset, post, lg, 1, "SingleStream", knobs))
    if sut is not None:
        sut.load_samples(list(range(min(dataset.total_count, dataset.performance_count))))
        row["raw_batch1"] = step("raw batch-1 latency", lambda: _raw_latency(sut.engines[0], sut.store))
        latency_ns = int(1e6 * ((row.get("raw_batch1") or {}).get("p50_ms") or 1.0))
        ss = None
        for attempt in range(3):
            ss = step("LoadGen SingleStream", lambda t=latency_ns, k=attempt: _loadgen(
                sut, dataset, lg_model, "SingleStream", logs / f"SingleStream-{k}", {
                    "single_stream_expected_latency_ns": t, "min_duration_ms": int(seconds * 1000),
                    "min_query_count": 1}))
            if ss is None or ss.valid or not _short(ss):
                break
            latency_ns = max(1000, latency_ns // 4)  # more queries generated than the run needs
        sut.stop()
        if ss is not None:
            row["singlestream"] = {"validity": ss.validity, "p90_ms": ss.latencies_ms.get("p90"),
                                   "early_stopping_p90_ms": ss.metric_value, "unmet": ss.unmet,
                                   "profile": _profile(sut)}
    _ratios(row)
    save()
    return row


def _profile(sut: Any) -> dict[str, Any] | None:
    """The summary of the SUT's last profiled run (where each batch's time went)."""
    profile = getattr(sut, "profile", None)
    return profile.summary() if profile is not None else None


def _ratio(a: Any, b: Any) -> float | None:
    return a / b if a and b else None


def _ratios(row: dict[str, Any]) -> None:
    raw, off = row.get("raw_sps"), (row.get("offline") or {}).get("sps")
    server = (row.get("server") or {}).get("best_valid_qps")
    ss, b1 = (row.get("singlestream") or {}).get("p90_ms"), (row.get("raw_batch1") or {}).get("p90_ms")
    row["ratios"] = {
        "offline_over_raw": _ratio(off, raw),
        "pipeline_over_raw": _ratio(row.get("pipeline_sps"), raw),
        "server_over_offline": _ratio(server, off),
        "singlestream_p90_over_raw_batch1_p90": _ratio(ss, b1),
        **{f"offline_{label}_over_raw": _ratio(v.get("sps"), raw)
           for label, v in (row.get("offline_variants") or {}).items()},
    }


def _gpu_name(device: str) -> str:
    if device == "cpu":
        return platform.processor() or "cpu"
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"


def _fmt(value: Any, spec: str = ",.0f") -> str:
    return "-" if value is None else format(value, spec)


def print_table(report: dict[str, Any]) -> None:
    seconds = report.get("seconds")
    print(f"\n{report['gpu']}, torch {report['torch']}, "
          f"{_fmt(seconds, 'g')} s per LoadGen run{'' if report.get('complete', True) else ' (cut short)'}")
    print(f"{'benchmark':<10} {'raw/s':>9} {'pipe/s':>9} {'Offline/s':>10} {'Off/raw':>7} {'Server qps':>10} "
          f"{'Srv/Off':>7} {'SS p90 ms':>9} {'raw b1 ms':>9} {'SS/raw':>6}")
    for r in report["results"]:
        if "ratios" not in r:
            _ratios(r)  # a run cut short
        q = r["ratios"]
        print(f"{r.get('benchmark', '?'):<10} {_fmt(r.get('raw_sps')):>9} {_fmt(r.get('pipeline_sps')):>9} "
              f"{_fmt((r.get('offline') or {}).get('sps')):>10} {_fmt(q.get('offline_over_raw'), '.3f'):>7} "
              f"{_fmt((r.get('server') or {}).get('best_valid_qps')):>10} "
              f"{_fmt(q.get('server_over_offline'), '.3f'):>7} "
              f"{_fmt((r.get('singlestream') or {}).get('p90_ms'), '.3f'):>9} "
              f"{_fmt((r.get('raw_batch1') or {}).get('p90_ms'), '.3f'):>9} "
              f"{_fmt(q.get('singlestream_p90_over_raw_batch1_p90'), '.2f'):>6}")
        _print_profile("pipeline (no LoadGen)", r.get("pipeline_profile"))
        _print_profile("LoadGen Offline", (r.get("offline") or {}).get("profile"))
        if r.get("stages"):
            print(f"{'':<10} host stages alone at the Offline batch: " + ", ".join(
                f"{k.removesuffix('_sps').replace('_', ' ')} {v:,.0f}/s" for k, v in r["stages"].items()))
        for label, v in (r.get("offline_variants") or {}).items():
            print(f"{'':<10} Offline, {label}: pipeline {_fmt(v.get('pipeline_sps'))}/s, LoadGen "
                  f"{_fmt(v.get('sps'))}/s {v.get('validity', '-')} "
                  f"({_fmt(q.get(f'offline_{label}_over_raw'), '.3f')} of raw)")
            _print_profile(f"  {label}", v.get("profile"))
        server = r.get("server") or {}
        # (a file of the first version: one batch size, the next batch queued ahead)
        configs = server.get("configs") or ([{"batch": server["batch"], "launch_ahead": True,
                                              "trials": server["trials"]}] if server.get("trials") else [])
        for config in configs:
            tried = ", ".join(f"{t['target_qps']:,.0f} {t['validity']} "
                              f"(p99 {_fmt(t.get('p99_ms'), '.1f')} ms)" for t in config["trials"])
            how = {"ahead": "queued ahead", "late": "one at a time, formed late",
                   "early": "one at a time, formed early"}.get(
                config.get("formed") or ("ahead" if config.get("launch_ahead") else "early"))
            print(f"{'':<10} Server batch {config['batch']} ({how}): {tried}")
            for t in config["trials"]:
                _print_profile(f"  at {t['target_qps']:,.0f} qps", t.get("profile"))
        _print_profile("LoadGen SingleStream", (r.get("singlestream") or {}).get("profile"))
        for error in r.get("errors", []):
            print(f"  {r.get('benchmark')} error: {error}")


def _print_profile(label: str, summary: dict[str, Any] | None) -> None:
    if summary:
        from pytest_mlperf_nv.harness.loadgen.sut_profile import describe

        print(f"{'':<10} {label}: {describe(summary)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmarks", default="resnet50,bert-99")
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument("--precision", default=None)
    parser.add_argument("--seconds", type=float, default=5.0, help="each LoadGen run's min_duration")
    parser.add_argument("--offline-batch", type=int, default=0)
    parser.add_argument("--server", default="", help="Server batch sizes to search, e.g. 64,128,128:early "
                        "(B: formed when the GPU is about to be free, B:early: as soon as the batch "
                        "before is launched, B:ahead: queued behind the running one; default: the "
                        "benchmark's)")
    parser.add_argument("--copy-streams", type=int, default=2)
    parser.add_argument("--lanes", type=int, default=1, help="inference streams")
    parser.add_argument("--start-from-device", action="store_true")
    parser.add_argument("--no-graphs", action="store_true")
    parser.add_argument("--device-variant", action="store_true",
                        help="also run Offline with start_from_device (samples on the GPU)")
    parser.add_argument("--lanes-variant", action="store_true",
                        help="also run Offline with two inference streams")
    parser.add_argument("--variants-for", default="resnet50,digits",
                        help="the benchmarks the Offline variants run for")
    parser.add_argument("--deque-timeout-us", type=int, default=0)
    parser.add_argument("--server-start", type=float, default=0.85, help="first Server target / Offline")
    parser.add_argument("--server-trials", type=int, default=4, help="LoadGen Server runs per batch size")
    parser.add_argument("--work", type=Path, default=Path("mlperf-bench-work"))
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--table", type=Path, default=None,
                        help="print the table of a results file written earlier (a run cut short too)")
    args = parser.parse_args(argv)
    if args.table:
        print_table(json.loads(args.table.read_text()))
        return 0
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    from pytest_mlperf_nv.harness.loadgen.torch_backend import set_compiler_dirs

    set_compiler_dirs(work / "torch-compile")
    started = _dt.datetime.now(_dt.timezone.utc)
    gpu = _gpu_name(args.device)
    import torch

    rows: list[dict[str, Any]] = []
    report = {"gpu": gpu, "device": args.device, "started": started.isoformat(timespec="seconds"),
              "command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
              "torch": torch.__version__, "python": platform.python_version(), "seconds": args.seconds,
              "complete": False, "results": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    slug = "".join(c if c.isalnum() else "-" for c in gpu.lower()).strip("-")
    path = args.out / f"torch-gpu-{slug}-{started:%Y%m%d-%H%M%S}.json"

    def save() -> None:
        path.write_text(json.dumps(report, indent=2, default=str) + "\n")

    for name in args.benchmarks.split(","):
        rows.append({"benchmark": name})
        run_benchmark(name, args, work, rows[-1], save)
    report["complete"] = True
    save()
    print_table(report)
    print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
