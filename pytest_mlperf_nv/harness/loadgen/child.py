"""Entry point of the child process that runs one LoadGen test.

    python -m pytest_mlperf_nv.harness.loadgen.child <run_dir>/run_spec.json

The parent writes the run spec; this process builds the dataset, backend and SUT, loads
LoadGen's built-in mlperf.conf, applies the spec's settings, and runs the test with its
logs in the run directory. It also runs by hand, to reproduce a run outside pytest.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...runspec import RunSpec

STATUS_FILE = "child_status.json"


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


def run(spec: RunSpec) -> None:
    import mlperf_loadgen as lg

    from ...datasets import DatasetContext
    from ...registry import ImportRef
    from .sut import BatchingSUT, die_with

    run_dir = Path(spec["run_dir"])
    write_status = _writer(run_dir)
    timings: dict[str, float] = {}
    status: dict[str, Any] = {"status": "starting", "timings": timings}
    write_status(status)

    t0 = time.perf_counter()
    dataset_factory = ImportRef(**spec["dataset"]["ref"]).load()
    dataset = dataset_factory(DatasetContext(
        data_dir=Path(spec["dataset"]["data_dir"]) if spec["dataset"].get("data_dir") else None,
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
    t0 = time.perf_counter()
    warm_idx = list(range(min(batch_size, dataset.total_count)))
    if spec.get("num_warmups"):
        dataset.load(warm_idx)
        for _ in range(int(spec["num_warmups"])):
            backend.predict(dataset.get(warm_idx))
    timings["warmup_s"] = time.perf_counter() - t0

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

    status["status"] = "running"
    write_status(status)
    sut_impl = BatchingSUT(lg, backend, dataset, postprocess, batch_size,
                           on_error=lambda exc: die_with(exc, lambda s: write_status({**status, **s})))
    sut = lg.ConstructSUT(sut_impl.issue, sut_impl.flush)
    qsl = lg.ConstructQSL(dataset.total_count, dataset.performance_count,
                          lambda idx: dataset.load(list(idx)), lambda idx: dataset.unload(list(idx)))
    t0 = time.perf_counter()
    # An explicit audit.config path that does not exist: a stray audit.config in the working
    # directory must never turn a normal run into a compliance run.
    lg.StartTestWithLogSettings(sut, qsl, settings, log_settings, spec["audit_config"])
    timings["loadgen_s"] = time.perf_counter() - t0
    sut_impl.stop()
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)
    status.update(status="completed", samples_completed=sut_impl.completed)
    write_status(status)


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
    try:
        run(spec)
    except BaseException as exc:
        import os
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
