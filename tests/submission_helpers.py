"""Real LoadGen logs and hand-built submission trees for the submission tests.

:func:`generate` runs the real LoadGen (``mlperf_loadgen``) with a trivial, paced SUT in a child
process (``sys.executable -c``; LoadGen never runs in the pytest process) and leaves LoadGen's log
files in a directory. :func:`loadgen_runs` generates the whole set the submission tests use once
per process (in parallel) and caches it; :class:`TreeBuilder` copies those logs into a submission
tree in the v6.x or v5.0 layout.

The SUT completes samples on a fixed schedule (``rate`` samples/s, ``latency`` seconds per query)
kept against absolute deadlines, so that two runs of one spec measure nearly the same score even
on a loaded machine: the compliance audits compare scores within 10 %.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pytest_mlperf_nv.submission import audit

# --------------------------------------------------------------------------------------------------
# the child process
# --------------------------------------------------------------------------------------------------

_CHILD = textwrap.dedent(r'''
    import array, collections, json, os, random, sys, threading, time
    import mlperf_loadgen as lg

    spec = json.loads(sys.argv[1])
    out = spec["outdir"]
    os.makedirs(out, exist_ok=True)

    settings = lg.TestSettings()
    rc = settings.FromConfig("", spec["model"], spec["scenario"], 0)
    assert rc == 0, rc
    settings.scenario = getattr(lg.TestScenario, spec["scenario"])
    settings.mode = lg.TestMode.AccuracyOnly if spec["mode"] == "accuracy" else lg.TestMode.PerformanceOnly
    for key, value in spec["settings"].items():
        current = getattr(settings, key)
        setattr(settings, key, type(current)(value))
    if spec["seeds"]:
        settings.qsl_rng_seed, settings.sample_index_rng_seed, settings.schedule_rng_seed = spec["seeds"]
    if spec["bad_conf"]:
        # A user.conf LoadGen cannot parse: FromConfig returns -22 and LoadGen writes an
        # error_invalid_config line into the next test's detail log.
        bad = os.path.join(os.path.dirname(out), os.path.basename(out) + ".bad.conf")
        with open(bad, "w") as f:
            f.write("this line is not a key = value pair\n")
        assert settings.FromConfig(bad, spec["model"], spec["scenario"], 2) == -22

    period = 1.0 / spec["rate"] if spec["rate"] else 0.0
    latency = spec["latency"]
    rng = random.Random()  # unseeded: the "random" SUT answers differently in every run
    cv = threading.Condition()
    pending = collections.deque()
    state = {"last_due": 0.0, "stop": False}

    def answer(index):
        if spec["sut"] == "random":
            return rng.randrange(1000)
        return (index * 7 + 3) % 1000

    def issue(samples):
        now = time.perf_counter()
        with cv:
            for s in samples:
                due = max(now + latency, state["last_due"] + period)
                state["last_due"] = due
                pending.append((due, s.id, s.index))
            cv.notify()

    def worker():
        while True:
            with cv:
                while not pending and not state["stop"]:
                    cv.wait()
                if not pending:
                    return
                due = pending[0][0]
            now = time.perf_counter()
            if due > now:
                time.sleep(due - now)
                continue
            with cv:
                batch = []
                while pending and pending[0][0] <= now:
                    batch.append(pending.popleft())
            buffers, responses = [], []
            for _, ident, index in batch:
                buf = array.array("i", [answer(index)])
                buffers.append(buf)
                responses.append(lg.QuerySampleResponse(ident, buf.buffer_info()[0], 4))
            lg.QuerySamplesComplete(responses)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(spec["total"], spec["perf"], lambda idx: None, lambda idx: None)
    log_settings = lg.LogSettings()
    log_settings.log_output.outdir = out
    log_settings.log_output.copy_summary_to_stdout = False
    log_settings.enable_trace = False
    audit = spec["audit_config"] or os.path.join(out, "no-such-audit.config")
    lg.StartTestWithLogSettings(sut, qsl, settings, log_settings, audit)
    with cv:
        state["stop"] = True
        cv.notify()
    thread.join()
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)
    os.remove(os.path.join(out, "mlperf_log_trace.json"))
''')


@dataclass(frozen=True)
class RunSpec:
    """One LoadGen run: what LoadGen is asked to do and how the SUT answers."""

    scenario: str
    mode: str = "performance"  # performance | accuracy
    model: str = "resnet50"  # mlperf.conf model
    total: int = 256  # QSL total sample count
    perf: int = 64  # QSL performance sample count
    settings: dict[str, Any] = field(default_factory=dict)  # TestSettings attributes after FromConfig
    rate: float = 0.0  # samples/s the SUT completes (0: no pacing)
    latency: float = 0.0  # seconds from issue to completion
    sut: str = "fixed"  # fixed (answer = f(qsl index)) | random (a new answer every run)
    audit_test: str | None = None  # TEST01 / TEST04: run with that test's audit.config
    seeds: tuple[int, int, int] | None = None  # override the wheel's seeds
    bad_conf: bool = False  # load an unparsable user.conf first (a LoadGen error line)


def generate(spec: RunSpec, outdir: Path, timeout: float = 60.0) -> Path:
    """Run LoadGen for ``spec`` in a child process; LoadGen's log files end up in ``outdir``."""
    audit_path = None
    if spec.audit_test:
        audit_path = outdir.parent / f"{outdir.name}.audit.config"
        audit_path.parent.mkdir(parents=True, exist_ok=True)
        audit_path.write_text(audit.audit_config_text(spec.audit_test, spec.model))
    child = {**asdict(spec), "outdir": str(outdir), "audit_config": str(audit_path) if audit_path else None}
    proc = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(child)], capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0 or not (outdir / "mlperf_log_detail.txt").is_file():
        raise RuntimeError(f"LoadGen child failed (rc {proc.returncode}) for "
                           f"{spec}:\n{proc.stdout}{proc.stderr}")
    return outdir


# --------------------------------------------------------------------------------------------------
# the set of runs the tests use
# --------------------------------------------------------------------------------------------------

OFFLINE_RATE = 5000.0  # samples/s of the paced Offline SUT
_MIN_MS = 200
_OFFLINE = {"min_duration_ms": _MIN_MS, "offline_expected_qps": OFFLINE_RATE, "min_query_count": 1,
            "performance_sample_count_override": 64}
_SS = {"min_duration_ms": _MIN_MS, "single_stream_expected_latency_ns": 100_000,
       "performance_sample_count_override": 64}
_MS = {"min_duration_ms": _MIN_MS, "multi_stream_expected_latency_ns": 100_000,
       "performance_sample_count_override": 64}
_ACC = {"performance_sample_count_override": 64}
# 3d-unet (equal issue, Offline only) with the v5.0 seeds, for the v5.0-layout tree
_UNET = {"min_duration_ms": _MIN_MS, "offline_expected_qps": 2000.0, "performance_sample_count_override": 0}
V50_SEEDS = (6023615788873153749, 15036839855038426416, 9933818062894767841)  # facts §1.4, v5.0 row


def _scenario_specs(scenario: str, perf: dict, **sut: Any) -> dict[str, RunSpec]:
    return {
        f"{scenario}/performance": RunSpec(scenario, settings=perf, **sut),
        f"{scenario}/accuracy": RunSpec(scenario, "accuracy", settings=_ACC),
        f"{scenario}/TEST01": RunSpec(scenario, settings=perf, audit_test="TEST01", **sut),
        f"{scenario}/TEST04": RunSpec(scenario, settings=perf, audit_test="TEST04", **sut),
    }


SPECS: dict[str, RunSpec] = {
    **_scenario_specs("Offline", _OFFLINE, rate=OFFLINE_RATE),
    **_scenario_specs("SingleStream", _SS, latency=100e-6),
    **_scenario_specs("MultiStream", _MS, latency=100e-6),
    # a second accuracy run and a TEST01 run of a SUT whose answers change from run to run
    "Offline/TEST01-random": RunSpec("Offline", settings=_OFFLINE, rate=OFFLINE_RATE, audit_test="TEST01",
                                     sut="random"),
    # an Offline run that ends before min_duration: LoadGen says INVALID
    "Offline/invalid": RunSpec("Offline", settings={**_OFFLINE, "offline_expected_qps": OFFLINE_RATE / 4},
                               rate=OFFLINE_RATE),
    # a run whose detail log carries a LoadGen error line
    "Offline/error": RunSpec("Offline", settings=_OFFLINE, rate=OFFLINE_RATE, bad_conf=True),
    "unet/performance": RunSpec("Offline", model="3d-unet", total=43, perf=43, settings=_UNET, rate=2000.0,
                                seeds=V50_SEEDS),
    "unet/accuracy": RunSpec("Offline", "accuracy", model="3d-unet", total=43, perf=43,
                             settings={"performance_sample_count_override": 0}, seeds=V50_SEEDS),
    "unet/TEST01": RunSpec("Offline", model="3d-unet", total=43, perf=43, settings=_UNET, rate=2000.0,
                           seeds=V50_SEEDS, audit_test="TEST01"),
}

_lock = threading.Lock()
_cache: dict[str, Path] = {}


def loadgen_runs(base: Path) -> dict[str, Path]:
    """Every run of :data:`SPECS` under ``base`` (generated once per process, three at a time)."""
    with _lock:
        if not _cache:
            with ThreadPoolExecutor(max_workers=3) as pool:
                futures = {name: pool.submit(generate, spec, base / name.replace("/", "__"))
                           for name, spec in SPECS.items()}
                _cache.update({name: future.result() for name, future in futures.items()})
        return dict(_cache)


# --------------------------------------------------------------------------------------------------
# tree builder
# --------------------------------------------------------------------------------------------------

LOG_FILES = ("mlperf_log_summary.txt", "mlperf_log_detail.txt")

SYSTEM_JSON: dict[str, Any] = {
    "division": "closed",
    "submitter": "Org",
    "status": "available",
    "system_name": "Test system (1x CPU)",
    "number_of_nodes": "1",
    "host_processor_model_name": "Some CPU",
    "host_processors_per_node": "1",
    "host_processor_core_count": "2",
    "host_memory_capacity": "8 GB",
    "host_storage_capacity": "100 GB",
    "host_storage_type": "SSD",
    "accelerators_per_node": "0",
    "accelerator_model_name": "N/A",
    "accelerator_memory_capacity": "N/A",
    "framework": "onnxruntime 1.32",
    "operating_system": "Linux",
    "system_type": "edge",
    "other_software_stack": "Python 3.11",
    "host_processor_frequency": "",
    "host_processor_caches": "",
    "host_memory_configuration": "1x 8 GB",
    "host_processor_interconnect": "",
    "host_networking": "Ethernet",
    "host_networking_topology": "N/A",
    "accelerator_frequency": "",
    "accelerator_host_interconnect": "N/A",
    "accelerator_interconnect": "N/A",
    "accelerator_interconnect_topology": "",
    "accelerator_memory_configuration": "N/A",
    "accelerator_on-chip_memories": "",
    "cooling": "air",
    "hw_notes": "",
    "sw_notes": "",
    "host_network_card_count": "1",
    "system_type_detail": "",
}

MEASUREMENTS = {
    "input_data_types": "fp32",
    "retraining": "no",
    "starting_weights_filename": "model.onnx",
    "weight_data_types": "fp32",
    "weight_transformations": "none",
}

PASS_ACCURACY = {"resnet": "accuracy=76.500%, good=195840, total=256000\n",
                 "3d-unet-99": "Accuracy: mean = 0.86200, kidney = 0.9, tumor = 0.8\n"}
VERIFY_ACCURACY_PASS = "num_perf_log_data_mismatch = 0\nTEST PASS\n\n"
VERIFY_PERFORMANCE_PASS = "Verifying performance.\nReference score = 1.0\nTest score = 1.0\nTEST PASS\n"


@dataclass
class TreeBuilder:
    """Writes a submission tree by hand: ``<root>/<division>/<submitter>/...`` in one round's layout."""

    root: Path
    round: str = "v6.1"
    division: str = "closed"
    submitter: str = "Org"
    system: str = "sys1"

    @property
    def sub(self) -> Path:
        return self.root / self.division / self.submitter

    @property
    def v5(self) -> bool:
        return self.round == "v5.0"

    def results(self, benchmark: str, scenario: str) -> Path:
        return self.sub / "results" / self.system / benchmark / scenario

    def compliance(self, benchmark: str, scenario: str) -> Path:
        if self.v5:
            return self.sub / "compliance" / self.system / benchmark / scenario
        return self.results(benchmark, scenario)

    def measurements(self, benchmark: str, scenario: str) -> Path:
        if self.v5:
            return self.sub / "measurements" / self.system / benchmark / scenario
        return self.results(benchmark, scenario)

    def system_json(self, **changes: Any) -> Path:
        data = {**SYSTEM_JSON, "division": self.division, "submitter": self.submitter, **changes}
        data = {k: v for k, v in data.items() if v is not _DROP}
        path = self.sub / "systems" / f"{self.system}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2))
        return path

    def code(self, benchmark: str) -> None:
        where = self.sub / "code" / benchmark / "impl" if self.v5 else self.sub / "src"
        where.mkdir(parents=True, exist_ok=True)
        (where / "README.md").write_text("how to run\n")

    def scenario(self, benchmark: str, scenario: str, runs: dict[str, Path], *, key: str | None = None,
                 accuracy_text: str | None = None, tests: tuple[str, ...] = ("TEST01", "TEST04"),
                 truncate: bool = True) -> Path:
        """One result: measurements, performance/run_1, accuracy, compliance dirs, from ``runs``."""
        from pytest_mlperf_nv.submission.truncate import hash_and_truncate

        key = key or scenario
        res = self.results(benchmark, scenario)
        meas = self.measurements(benchmark, scenario)
        meas.mkdir(parents=True, exist_ok=True)
        name = f"{self.system}_impl_{scenario}.json" if self.v5 else "measurements.json"
        (meas / name).write_text(json.dumps(MEASUREMENTS))
        (meas / "user.conf").write_text(f"*.{scenario}.min_duration = {_MIN_MS}\n")
        (meas / "README.md").write_text("# how to reproduce\n")
        copy_logs(runs[f"{key}/performance"], res / "performance" / "run_1")
        acc = res / "accuracy"
        copy_logs(runs[f"{key}/accuracy"], acc, accuracy=True)
        text = accuracy_text or PASS_ACCURACY.get(benchmark, PASS_ACCURACY["resnet"])
        (acc / "accuracy.txt").write_text(text)
        comp = self.compliance(benchmark, scenario)
        for test in tests:
            tdir = comp / test
            copy_logs(runs[f"{key}/{test}"], tdir / "performance" / "run_1")
            (tdir / "verify_performance.txt").write_text(VERIFY_PERFORMANCE_PASS)
            if test == "TEST01":
                (tdir / "verify_accuracy.txt").write_text(VERIFY_ACCURACY_PASS)
                (tdir / "accuracy").mkdir(parents=True, exist_ok=True)
                shutil.copy2(runs[f"{key}/{test}"] / "mlperf_log_accuracy.json", tdir / "accuracy")
                if truncate:
                    hash_and_truncate(tdir / "accuracy", create_accuracy_txt=True)
        if truncate:
            hash_and_truncate(acc)
        return res


_DROP = object()  # TreeBuilder.system_json(field=DROP) leaves the field out
DROP = _DROP


def copy_logs(run: Path, dst: Path, *, accuracy: bool = False) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for name in LOG_FILES + (("mlperf_log_accuracy.json",) if accuracy else ()):
        shutil.copy2(run / name, dst / name)


def resnet_edge_tree(root: Path, runs: dict[str, Path], *, round: str = "v6.1", **kwargs: Any) -> TreeBuilder:
    """A closed resnet edge tree (SingleStream, MultiStream, Offline; TEST01 + TEST04), ``round``'s layout."""
    builder = TreeBuilder(root, round=round, **kwargs)
    builder.system_json()
    builder.code("resnet")
    for scenario in ("SingleStream", "MultiStream", "Offline"):
        builder.scenario("resnet", scenario, runs)
    return builder


def unet_v50_tree(root: Path, runs: dict[str, Path]) -> TreeBuilder:
    """A closed v5.0-layout 3d-unet-99 datacenter tree (Offline, TEST01) from runs with the v5.0 seeds."""
    builder = TreeBuilder(root, round="v5.0")
    builder.system_json(system_type="datacenter")
    builder.code("3d-unet-99")
    builder.scenario("3d-unet-99", "Offline", runs, key="unet", tests=("TEST01",))
    return builder
