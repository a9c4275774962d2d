"""Entry point of the child process that runs one LoadGen test.

    python -m pytest_mlperf_nv.harness.loadgen.child <run_dir>/run_spec.json

The parent writes the run spec; this process builds the dataset, backend and SUT, loads
LoadGen's built-in mlperf.conf, applies the spec's settings, and runs the test with its
logs in the run directory. It also runs by hand, to reproduce a run outside pytest.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...runspec import RunSpec

STATUS_FILE = "child_status.json"
#: set by the runner: the pid of the process that started this one
PARENT_ENV = "MLPERF_NV_PARENT_PID"
#: the speed measurement before the run: at least one call, then more until this long
MEASURE_S = 0.05
MEASURE_MAX_CALLS = 5
EXIT_ORPHANED = 4


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when the process that started it dies (Linux).

    Besides the runner's watchdog: a run must never outlive the session that owns it. Only
    when started by the runner (PARENT_ENV set); a run started by hand is left alone.
    """
    parent = os.environ.get(PARENT_ENV, "")
    if not parent.isdigit() or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != int(parent):  # the parent died before the request took effect
        os._exit(EXIT_ORPHANED)


def _writer(run_dir: Path):
    def write(status: dict[str, Any]) -> None:
        tmp = run_dir / (STATUS_FILE + ".tmp")
        tmp.write_text(json.dumps(status, indent=2))
        tmp.replace(run_dir / STATUS_FILE)

    return write


class Subset:
    """The first ``count`` samples of a dataset (accuracy on a labelled subset)."""

    def __init__(self, dataset: Any, count: int):
        self.dataset = dataset
        self.total_count = min(count, dataset.total_count)
        self.performance_count = min(self.total_count, dataset.performance_count)

    def load(self, indices: list[int]) -> None:
        self.dataset.load(indices)

    def unload(self, indices: list[int]) -> None:
        self.dataset.unload(indices)

    def get(self, indices: list[int]) -> Any:
        return self.dataset.get(indices)

    def labels(self) -> Any:
        labels = self.dataset.labels()
        return None if labels is None else labels[: self.total_count]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.dataset, name)  # optional parts of a dataset (raw, raw_input)


def run(spec: RunSpec) -> None:
    import mlperf_loadgen as lg

    from ...datasets import DatasetContext
    from ...registry import ImportRef
    from ...report.live import loadgen_writer
    from .sut import BatchingSUT, die_with

    run_dir = Path(spec["run_dir"])
    write_status = _writer(run_dir)
    timings: dict[str, float] = {}
    status: dict[str, Any] = {"status": "starting", "pid": os.getpid(), "timings": timings}
    write_status(status)

    t0 = time.perf_counter()
    dataset_factory = ImportRef(**spec["dataset"]["ref"]).load()
    data_dir = spec["dataset"].get("data_dir")
    dataset = dataset_factory(DatasetContext(
        data_dir=Path(data_dir) if data_dir else None,
        cache_dir=Path(spec["dataset"]["cache_dir"]), options=spec["dataset"].get("options", {})))
    subset = spec.get("accuracy_samples")
    if subset:
        dataset = Subset(dataset, int(subset))
    timings["dataset_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    backend_cls = ImportRef(**spec["backend"]["ref"]).load()
    backend = backend_cls(Path(spec["model_path"]), spec["backend"].get("options", {}))
    postprocess = ImportRef(**spec["postprocess"]).load()
    timings["backend_s"] = time.perf_counter() - t0
    describe = getattr(backend, "describe", None)
    status["backend"] = describe() if callable(describe) else {"backend": spec["backend"]["name"]}

    batch_size = int(spec.get("batch_size") or 1)
    status["status"] = "warming up"
    write_status(status)
    t0 = time.perf_counter()
    warm_idx = list(range(min(batch_size, dataset.total_count)))
    dataset.load(warm_idx)
    for _ in range(int(spec.get("num_warmups") or 0)):
        backend.predict(dataset.get(warm_idx))
    timings["warmup_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    speed = measure_speed(backend, dataset, warm_idx, spec["loadgen"]["scenario"])
    timings["measure_s"] = time.perf_counter() - t0

    loadgen = spec["loadgen"]
    settings = lg.TestSettings()
    # conf_type 0: LoadGen's built-in mlperf.conf only (seeds and rule values); never the
    # once-per-process user.conf path, whose second use in a process logs an error.
    rc = settings.FromConfig("", loadgen["model"], loadgen["scenario"], 0)
    if rc != 0:
        raise RuntimeError(f"LoadGen could not load its built-in mlperf.conf (FromConfig returned {rc})")
    settings.scenario = getattr(lg.TestScenario, loadgen["scenario"])
    settings.mode = getattr(lg.TestMode, loadgen["mode"])
    for attr, value in loadgen["settings"].items():
        current = getattr(settings, attr)
        setattr(settings, attr, type(current)(value) if isinstance(current, (int, float)) else value)
    # LoadGen asks the QSL for performance_sample_count samples (mlperf.conf's value, e.g.
    # 1024 for resnet50); a smaller data set (synthetic, a subset) cannot give more.
    wanted = settings.performance_sample_count_override or dataset.performance_count
    if wanted > dataset.total_count:
        settings.performance_sample_count_override = dataset.total_count
        status["performance_sample_count_capped"] = {"from": wanted, "to": dataset.total_count}

    log_settings = lg.LogSettings()
    log_settings.log_output.outdir = str(run_dir)
    log_settings.log_output.copy_summary_to_stdout = False
    log_settings.enable_trace = False

    report_deadline(status, spec, settings, speed, dataset.total_count)
    status["status"] = "running"
    write_status(status)
    progress = loadgen_writer(run_dir, settings, loadgen["mode"], loadgen["scenario"], dataset.total_count)
    on_error = lambda exc: die_with(exc, lambda s: write_status({**status, **s}))  # noqa: E731
    # A backend may bring its own SUT (``create_sut``), which may take LoadGen's fast issue
    # callback (``issue_fast``) and the QSL's load/unload (``load_samples``/``unload_samples``).
    create_sut = getattr(backend, "create_sut", None)
    if create_sut is not None:
        t0 = time.perf_counter()
        knobs = spec.get("knobs") or {"gpu_batch_size": batch_size, "num_warmups": spec.get("num_warmups")}
        sut_impl = create_sut(lg, dataset, postprocess, knobs, on_error, scenario=loadgen["scenario"])
        timings["sut_s"] = time.perf_counter() - t0
        status["backend"] = describe() if callable(describe) else status["backend"]
        write_status(status)
        if hasattr(sut_impl, "on_progress"):
            sut_impl.on_progress = progress.update
    else:
        sut_impl = BatchingSUT(lg, backend, dataset, postprocess, batch_size, on_error=on_error,
                               on_progress=progress.update)
    issue_fast = getattr(sut_impl, "issue_fast", None)
    sut = lg.ConstructFastSUT(issue_fast, sut_impl.flush) if issue_fast else \
        lg.ConstructSUT(sut_impl.issue, sut_impl.flush)
    load = getattr(sut_impl, "load_samples", None) or (lambda idx: dataset.load(list(idx)))
    unload = getattr(sut_impl, "unload_samples", None) or (lambda idx: dataset.unload(list(idx)))
    qsl = lg.ConstructQSL(dataset.total_count, dataset.performance_count, load, unload)
    t0 = time.perf_counter()
    # An explicit audit.config path that does not exist: a stray audit.config in the working
    # directory must never turn a normal run into a compliance run.
    lg.StartTestWithLogSettings(sut, qsl, settings, log_settings, spec["audit_config"])
    timings["loadgen_s"] = time.perf_counter() - t0
    sut_impl.stop()
    progress.close()
    lg.DestroyQSL(qsl)
    (lg.DestroyFastSUT if issue_fast else lg.DestroySUT)(sut)
    status.update(status="completed", samples_completed=sut_impl.completed)
    write_status(status)


def measure_speed(backend: Any, dataset: Any, warm_idx: list[int], scenario: str) -> Any:
    """Seconds per backend call on a full batch and on one query's samples, measured now.

    The first calls of a backend are often its slowest, so this errs on the long side, as a
    timeout should.
    """
    from ..settings import Speed

    def timed(indices: list[int]) -> float:
        calls, spent = 0, 0.0
        batch = dataset.get(indices)
        while calls < 1 or (spent < MEASURE_S and calls < MEASURE_MAX_CALLS):
            t0 = time.perf_counter()
            backend.predict(batch)
            spent += time.perf_counter() - t0
            calls += 1
        return spent / calls

    batch_s = timed(warm_idx)
    query = {"SingleStream": 1, "MultiStream": 8}.get(scenario)
    if query is None:
        return Speed(batch_s, len(warm_idx), batch_s, len(warm_idx))
    size = max(1, min(query, len(warm_idx)))
    query_s = batch_s if size == len(warm_idx) else timed(warm_idx[:size])
    return Speed(batch_s, len(warm_idx), query_s, query)


def report_deadline(status: dict[str, Any], spec: RunSpec, settings: Any, speed: Any,
                    dataset_size: int) -> None:
    """Put the expected length of this LoadGen run and the deadline it implies into ``status``."""
    from ..settings import expected_run_seconds, measured_deadline_s

    names = ("min_duration_ms", "max_duration_ms", "min_query_count", "max_query_count",
             "offline_expected_qps", "server_target_qps", "multi_stream_samples_per_query")
    effective = {name: getattr(settings, name, None) for name in names}
    mode = spec["loadgen"]["mode"]
    expected, how = expected_run_seconds(spec["loadgen"]["scenario"], mode, effective, speed, dataset_size)
    rate = speed.samples_per_s
    status["measured"] = {"batch": speed.batch, "batch_s": speed.batch_s, "query": speed.query,
                          "query_s": speed.query_s, "samples_per_s": rate if math.isfinite(rate) else None}
    status["expected_run_s"] = expected
    status["expected_how"] = how
    status["deadline"] = time.time() + measured_deadline_s(expected)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m pytest_mlperf_nv.harness.loadgen.child RUN_SPEC.json", file=sys.stderr)
        return 2
    from ...runspec import SpecError, read_spec

    try:
        spec = read_spec(Path(argv[0]))
    except SpecError as exc:
        print(f"pytest_mlperf_nv.harness.loadgen.child: {exc}", file=sys.stderr)
        return 2
    die_with_parent()
    try:
        run(spec)
    except BaseException as exc:
        import traceback

        text = traceback.format_exc()
        sys.stderr.write(text)
        sys.stderr.flush()
        _writer(Path(spec["run_dir"]))({"status": "error", "error": f"{type(exc).__name__}: {exc}",
                                         "error_type": type(exc).__name__, "error_message": str(exc),
                                         "traceback": text})
        # os._exit: after a failed StartTest, LoadGen aborts the interpreter at exit.
        os._exit(3)
    sys.stdout.flush()
    sys.stderr.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
