"""One case on NVIDIA's code: invocation, its own LOG_DIR, the log tree it writes.

Verdicts come from the LoadGen logs NVIDIA's harness leaves; its exit code, metadata.json
and summary string (which call every run under 600 s INVALID) are context only.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..logs import DETAIL
from ..runner import ChildOutcome, run_process
from .args import VERSIONS, Invocation, log_dir_name
from .custom_system import ENV as CUSTOM_ENV
from .custom_system import STAMPS, UNKNOWN_SYSTEM

LOG_SUBDIR = "nvidia-logs"
_NO_CONFIG = re.compile(r"No registered config[^\n]*")
_DETECTED = re.compile(r"Detected system ID: (\S+)")


@dataclass
class NvidiaRun:
    child: ChildOutcome
    invocation: Invocation
    result_dir: Path | None
    metadata: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None
    #: NVIDIA's code said "Detected system did not match any known systems" (and ran nothing)
    unknown_system: bool = False
    #: the system NVIDIA's code matched, as it logged it ("Detected system ID: ...")
    detected_system: str | None = None


def code_dir_problem(code_dir: Path | None) -> str | None:
    """Why ``code_dir`` is not NVIDIA's code (None when it looks right)."""
    hint = ("point nvidia.code_dir in the suite, --mlperf-nvidia-code-dir, MLPERF_NV_NVIDIA_CODE_DIR or the "
            "ini key mlperf_nvidia_code_dir at the closed/NVIDIA directory of an inference_results "
            "checkout (inside NVIDIA's container), or run the suite on the built-in harness with "
            "--mlperf-harness loadgen")
    if code_dir is None:
        return f"NVIDIA's MLPerf code is not configured: {hint}"
    if not (Path(code_dir) / "code" / "main.py").is_file():
        return f"NVIDIA's MLPerf code is not at {code_dir} (no code/main.py there): {hint}"
    return None


def detect_version(code_dir: Path) -> str | None:
    """The round of NVIDIA's code: its VERSION file, or the inference_results_vX.Y in its path."""
    version_file = Path(code_dir) / "VERSION"
    if version_file.is_file():
        text = version_file.read_text().strip()
        for version in VERSIONS:
            if text.startswith(version):
                return version
    for part in Path(code_dir).resolve().parts:
        match = re.search(r"inference_results_(v\d+\.\d+)", part)
        if match and match.group(1) in VERSIONS:
            return match.group(1)
    return None


def unsupported_version(code_dir: Path) -> str | None:
    """Why the code at ``code_dir`` is of a round the plugin does not drive (None: it is one, or unknown)."""
    version_file = Path(code_dir) / "VERSION"
    if not version_file.is_file():
        return None
    text = version_file.read_text().strip()
    if not text or any(text.startswith(v) for v in VERSIONS):
        return None
    return (f"NVIDIA's code at {code_dir} is {text} (its VERSION file); the plugin drives the v4.1 and v5.0 "
            "code, whose configs, flags and system lists it is checked against (v5.1 moved its configs to "
            "configs/<system>/<Scenario>/<benchmark>.py). Point nvidia.code_dir at the closed/NVIDIA "
            "directory of an inference_results_v4.1 or v5.0 checkout")


def _env(definition: Path | None, code_dir: Path | None = None, harness: bool = False) -> dict[str, str]:
    """The environment NVIDIA's Makefile gives code.main (make_environment), plus the definition.

    ``harness``: a run_harness / run_audit_harness call, which NVIDIA's Makefile runs with
    ``LD_LIBRARY_PATH=$(HARNESS_LD_LIBRARY_PATH)``.
    """
    env = make_environment(code_dir) if code_dir is not None else dict(os.environ)
    if definition is not None and code_dir is not None:
        from .custom_list_json import install

        install(code_dir, definition)  # v5.0 reads its custom systems from the code dir only
    if harness and env.get("HARNESS_LD_LIBRARY_PATH"):
        env["LD_LIBRARY_PATH"] = env["HARNESS_LD_LIBRARY_PATH"].strip()
    if definition is not None:
        env[CUSTOM_ENV] = str(definition)
    else:
        env.pop(CUSTOM_ENV, None)
    return env


_ENV_TARGET = "pytest-mlperf-nv-environment"
_ENV_CACHE: dict[tuple, dict[str, str]] = {}
#: code dir -> why make could not give NVIDIA's environment (the calling environment was used instead)
ENV_PROBLEMS: dict[str, str] = {}


def make_environment(code_dir: Path, make_vars: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment NVIDIA's Makefile exports to the commands it runs, asked from make itself.

    Runs are not started through ``make run_harness`` (each item needs its own LOG_DIR, its exact argument
    list recorded, its own timeout and process group, and no ``tee``), so the plugin reproduces what make
    would give them: NVIDIA's Makefile is read together with a one-target makefile that prints the
    environment (CUDA_DEVICE_MAX_CONNECTIONS, HARNESS_LD_LIBRARY_PATH, LD_LIBRARY_PATH, DATA_DIR, ...).
    Asked once per code dir and calling environment. Where make cannot read NVIDIA's Makefile (outside
    NVIDIA's container: no make, or an architecture its Makefile.const refuses) the calling environment is
    used as it is and ``ENV_PROBLEMS`` says why. ``make_vars``: ``NAME=value`` given to make.
    """
    key = (str(code_dir), tuple(make_vars), tuple(sorted(os.environ.items())))
    if key in _ENV_CACHE:
        return dict(_ENV_CACHE[key])
    env = dict(os.environ)
    makefile = Path(code_dir) / "Makefile"
    problem = None
    if not makefile.is_file():
        problem = f"no Makefile in {code_dir}"
    elif not shutil.which("make"):
        problem = "make is not installed"
    else:
        import subprocess
        import tempfile

        with tempfile.TemporaryDirectory(prefix="mlperf-nv-make-") as tmp:
            extra = Path(tmp) / "environment.mk"
            extra.write_text(f".PHONY: {_ENV_TARGET}\n{_ENV_TARGET}:\n\t@env -0\n")
            command = ["make", "-s", "--no-print-directory", "-f", "Makefile", "-f", str(extra),
                       *make_vars, _ENV_TARGET]
            try:
                proc = subprocess.run(command, cwd=code_dir, capture_output=True, timeout=120, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                proc, problem = None, f"make failed: {exc}"
        if proc is not None and proc.returncode == 0 and proc.stdout:
            made = dict(item.split("=", 1) for item in proc.stdout.decode(errors="replace").split("\0")
                        if "=" in item)
            # make's own bookkeeping is not part of what NVIDIA's recipes see as their environment
            for name in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKE_TERMOUT", "MAKE_TERMERR"):
                made.pop(name, None)
            env = made
        elif proc is not None:
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] \
                or [f"exit {proc.returncode}"]
            problem = f"make cannot read NVIDIA's Makefile here: {tail[0]}"
    if problem:
        ENV_PROBLEMS[str(code_dir)] = problem
    else:
        ENV_PROBLEMS.pop(str(code_dir), None)
    _ENV_CACHE[key] = env
    return dict(env)


_AUDIT_ONCE = re.compile(r"^run_audit_(test\d\d)(?:_once)?:.*?(?=^\S|\Z)", re.M | re.S)


def audit_recipe(code_dir: Path, test: str) -> tuple[int, float]:
    """(tries, pause in seconds before each try) of an audit, as NVIDIA's Makefile runs it
    (run_audit_testNN: ``for i in 1 2 3``; run_audit_testNN_once: ``sleep 20``); NVIDIA's v4.1 values
    where the Makefile has no such target."""
    from .args import AUDITS

    _, tries, pause = AUDITS.get(test, (None, 1, 0))
    try:
        text = (Path(code_dir) / "Makefile").read_text(errors="replace")
    except OSError:
        return tries, float(pause)
    blocks = {}
    for match in _AUDIT_ONCE.finditer(text):
        name = match.group(0).split(":", 1)[0]
        blocks[name] = match.group(0)
    once = blocks.get(f"run_audit_{test.lower()}_once") or blocks.get(f"run_audit_{test.lower()}")
    loop = blocks.get(f"run_audit_{test.lower()}")
    if once is None and loop is None:
        return tries, float(pause)
    sleep = re.search(r"\bsleep\s+(\d+(?:\.\d+)?)", once or "")
    trials = re.search(r"for\s+i\s+in\s+([\d ]+);", loop or "")
    return (len(trials.group(1).split()) if trials else 1), (float(sleep.group(1)) if sleep else 0.0)


def ensure_engines(invocation: Invocation, *, code_dir: Path, run_dir: Path, timeout_s: float,
                   system_id: str | None, version: str, definition: Path | None = None,
                   stage: str = "generate_engines") -> tuple[bool, ChildOutcome | None]:
    """Run NVIDIA's generate_engines for ``invocation`` unless a stamp says it was built.

    NVIDIA keeps engines where it keeps them (build/engines/...); a stamp keyed by every
    argument that shapes the engine (and the custom-system definition, if one is used) records
    that it was built. A run that did not know the machine built nothing and leaves no stamp.
    Returns (built now, outcome).
    """
    args, name = engine_stamp_name(invocation, system_id, version,
                                   definition.name if definition is not None else None, stage)
    custom = definition.name if definition is not None else None
    work = run_dir / (stage if definition is None else f"{stage}-custom")
    return _once(code_dir, name, work, [sys.executable, "-m", "code.main", *args], timeout_s,
                 {"arguments": args, "system_id": system_id, "version": version, "custom_definition": custom},
                 env=_env(definition, code_dir), succeeded=lambda child: not says_unknown_system(child))


def engine_stamp_name(invocation: Invocation, system_id: str | None, version: str, custom: str | None,
                      stage: str = "generate_engines") -> tuple[list[str], str]:
    """(the argument list NVIDIA gets, the stamp name) of an engine build or calibration."""
    args = list(invocation.args)
    if system_id:
        args.insert(-1, f"--system_name={system_id}")
    # Definitions are content-addressed: the directory name is the hash of what they say. (Keys of
    # runs without one are those of earlier plugin versions, so their engines stay valid.)
    parts: list[Any] = [args, system_id, version] + ([custom] if custom else [])
    key = hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:24]
    prefix = "engine" if stage == "generate_engines" else stage  # ("engine-": stamps of earlier versions)
    return args, f"{prefix}-{key}"


def says_unknown_system(child: ChildOutcome) -> bool:
    """Did NVIDIA's code answer "Detected system did not match any known systems"?"""
    return UNKNOWN_SYSTEM in _output(child.run_dir)


def _output(where: Path) -> str:
    text = ""
    for name in ("stdout.txt", "stderr.txt"):
        try:
            text += (where / name).read_text(errors="replace")
        except OSError:
            pass
    return text


#: make targets NVIDIA's flow needs before engines, which code.main has no action for, in NVIDIA's order
#: (its README: download_data, download_model, preprocess_data; build first, since download scripts use
#: build/inference)
MAKE_STAGES = ("build", "download_data", "download_model", "preprocess_data")
#: the file of code/<benchmark>/tensorrt/ each per-benchmark stage runs (Makefile.data)
STAGE_SCRIPTS = {"download_data": "download_data.sh", "download_model": "download_model.sh",
                 "preprocess_data": "preprocess_data.py"}
_MAKE_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def stage_missing(code_dir: Path, target: str, benchmark: str | None) -> str | None:
    """Why NVIDIA's code has no ``target`` for ``benchmark`` (None: it has one).

    Makefile.data runs code/<benchmark>/tensorrt/<script> for each benchmark; where NVIDIA ships none
    (v4.1 dlrm-v2: its data and model are set up by hand, as NVIDIA's README describes), make would fail
    on the missing file, so the stage is not run and this says why.
    """
    script = STAGE_SCRIPTS.get(target)
    if script is None or benchmark is None:
        return None
    path = Path(code_dir) / "code" / benchmark / "tensorrt" / script
    if path.is_file():
        return None
    what = "model" if "model" in target else "data"
    return (f"NVIDIA's code has no code/{benchmark}/tensorrt/{script}: "
            f"`make {target} BENCHMARKS={benchmark}` cannot run; set up {benchmark}'s {what} by hand as "
            "NVIDIA's README describes (the data and model directories under MLPERF_SCRATCH_PATH)")


def ensure_make_stage(target: str, *, code_dir: Path, logs: Path, timeout_s: float,
                      benchmark: str | None = None) -> tuple[bool, ChildOutcome | None]:
    """``make <target> [BENCHMARKS=<benchmark>]`` in the code dir, once (stamped); its output in ``logs``.
    A stage NVIDIA's code has no script for (``stage_missing``) is not run: (False, None)."""
    if target not in MAKE_STAGES:
        raise ValueError(f"not a make stage the plugin runs: {target!r}")
    command = ["make", target]
    if benchmark is not None:
        # Every value that reaches make is checked: it becomes part of a shell command there.
        if not _MAKE_VALUE.match(benchmark):
            raise ValueError(f"refusing to pass {benchmark!r} to make")
        command.append(f"BENCHMARKS={benchmark}")
    if stage_missing(code_dir, target, benchmark) is not None:
        return False, None
    return _once(code_dir, f"make-{target}-{benchmark or 'all'}", logs, command, timeout_s,
                 {"command": command})


def _once(code_dir: Path, name: str, work: Path, command: list[str], timeout_s: float,
          record: dict[str, Any], env: dict[str, str] | None = None,
          succeeded: Callable[[ChildOutcome], bool] | None = None) -> tuple[bool, ChildOutcome | None]:
    """Run ``command`` in ``code_dir`` unless its stamp exists; one lock per code dir keeps
    concurrent builds (xdist workers, sessions) from corrupting each other's outputs. The stamp
    is written when the command exits 0 (and ``succeeded`` agrees)."""
    from filelock import FileLock

    stamps = Path(code_dir) / STAMPS
    stamps.mkdir(parents=True, exist_ok=True)
    stamp = stamps / f"{name}.json"
    with FileLock(str(stamps / "code_dir.lock")):
        if stamp.is_file():
            return False, None
        work.mkdir(parents=True, exist_ok=True)
        child = run_process(command, cwd=code_dir, run_dir=work, timeout_s=timeout_s,
                            env=dict(os.environ) if env is None else env)
        if child.returncode == 0 and not child.timed_out and (succeeded is None or succeeded(child)):
            stamp.write_text(json.dumps(record))
        return True, child


@contextlib.contextmanager
def _run_lock(code_dir: Path, *, exclusive: bool) -> Iterator[None]:
    """A shared (runs) or exclusive (audits) lock on the code dir, across processes (flock)."""
    stamps = Path(code_dir) / STAMPS
    stamps.mkdir(parents=True, exist_ok=True)
    with open(stamps / "run.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _audit_logs(code_dir: Path, test: str, benchmark: str, scenario: str) -> list[Path]:
    """NVIDIA's compliance log dirs of one audit: build/compliance_logs/<TEST>/<system>/<bench>/<Scenario>."""
    root = Path(code_dir) / "build" / "compliance_logs" / test
    return sorted(p.parent for p in root.glob(f"*/{log_dir_name(benchmark)}/{scenario}/{DETAIL}"))


def _keep_user_conf(code_dir: Path, benchmark: str, scenario: str, run_dir: Path, since: float) -> None:
    """Copy the user.conf NVIDIA's code generated for this run (build/loadgen-configs/<system>/
    <benchmark>/<Scenario>/user.conf, shared by every run of that pair) into the run dir."""
    root = Path(code_dir) / "build" / "loadgen-configs"
    fresh = [p for p in root.glob(f"*/{log_dir_name(benchmark)}/{scenario}/user.conf")
             if p.stat().st_mtime >= since - 1]
    if fresh:
        shutil.copyfile(max(fresh, key=lambda p: p.stat().st_mtime), run_dir / "user.conf")


def run(invocation: Invocation, *, code_dir: Path, run_dir: Path, benchmark: str, scenario: str,
        timeout_s: float, system_id: str | None, definition: Path | None = None,
        audit: str | None = None) -> NvidiaRun:
    """Run ``invocation`` in ``code_dir`` with LOG_DIR inside ``run_dir``; find what it wrote.

    ``definition``: a custom-system definition directory, handed over as MLPINF_CUSTOM_DEFINITION_PATH.
    ``audit``: a run_audit_harness run; NVIDIA writes its logs under the code dir's
    build/compliance_logs/<TEST>/, from where they are moved into the run dir (so the next
    audit of that benchmark cannot overwrite them).
    """
    log_dir = run_dir / LOG_SUBDIR
    log_dir.mkdir()
    env = _env(definition, code_dir, harness=True)
    # Each item its own LOG_DIR: two items starting in the same second never mix their logs.
    env["LOG_DIR"] = str(log_dir)
    args = list(invocation.args)
    if system_id:
        args.insert(-1, f"--system_name={system_id}")
    command = [sys.executable, "-m", "code.main", *args]
    (run_dir / "nvidia_command.txt").write_text(" ".join(command) + "\n")
    # NVIDIA's code deletes and writes audit.config in its working directory at every action, so an
    # audit runs alone in the code dir (other runs share it with each other).
    with _run_lock(code_dir, exclusive=audit is not None):
        if audit is not None:
            # Logs an earlier audit left (or one run by hand) are kept aside, in this run dir.
            for stale in _audit_logs(code_dir, audit, benchmark, scenario):
                target = run_dir / "earlier-compliance-logs" / stale.relative_to(stale.parents[2])
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(stale), str(target))
        # An audit as NVIDIA's Makefile runs it: a pause before each try, and a failed try tried again.
        tries, pause = audit_recipe(code_dir, audit) if audit is not None else (1, 0.0)
        for attempt in range(1, tries + 1):
            if pause:
                time.sleep(pause)
            started = time.time()
            child = run_process(command, cwd=code_dir, run_dir=run_dir, timeout_s=timeout_s, env=env)
            if (child.returncode == 0 and not child.timed_out) or attempt == tries:
                break
            aside = run_dir / f"audit-try-{attempt}"
            aside.mkdir(exist_ok=True)
            for name in ("stdout.txt", "stderr.txt"):
                if (run_dir / name).exists():
                    (run_dir / name).rename(aside / name)
        _keep_user_conf(code_dir, benchmark, scenario, run_dir, started)
        if audit is not None:
            for written in _audit_logs(code_dir, audit, benchmark, scenario):
                target = log_dir / audit / written.relative_to(written.parents[2])
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(written), str(target))
    prefix = f"{audit}/" if audit else ""
    found = sorted(log_dir.glob(f"{prefix}*/{log_dir_name(benchmark)}/{scenario}/{DETAIL}"))
    outcome = NvidiaRun(child, invocation, found[0].parent if found else None)
    output = _output(run_dir)
    outcome.unknown_system = UNKNOWN_SYSTEM in output
    detected = _DETECTED.search(output)
    outcome.detected_system = detected.group(1) if detected else None
    if outcome.result_dir is not None:
        try:
            outcome.metadata = json.loads((outcome.result_dir / "metadata.json").read_text())
        except (OSError, ValueError):
            outcome.metadata = {}
    else:
        outcome.problem = _why_no_logs(run_dir)
    return outcome


def set_aside(run_dir: Path, name: str) -> Path:
    """Move a run_harness attempt's files (output, command, log dir) into ``run_dir/name``."""
    aside = run_dir / name
    aside.mkdir()
    for item in ("stdout.txt", "stderr.txt", "nvidia_command.txt", LOG_SUBDIR):
        if (run_dir / item).exists():
            (run_dir / item).rename(aside / item)
    return aside


def _why_no_logs(run_dir: Path) -> str:
    text = _output(run_dir)
    match = _NO_CONFIG.search(text)
    if match:
        return (f"NVIDIA's code has no config for this case ({match.group(0).strip()}); it skipped it "
                "and wrote no logs")
    if UNKNOWN_SYSTEM in text:
        return ("NVIDIA's code does not know this machine (\"Detected system did not match any known "
                "systems\")")
    return "NVIDIA's code wrote no LoadGen logs for this case"
