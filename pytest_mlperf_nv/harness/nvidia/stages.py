"""NVIDIA's make stages an item needs before its run, as provisioning: build, download_data,
download_model, preprocess_data (each once per code dir and benchmark, stamped and locked; see
run.py). A stage NVIDIA ships no script for (v4.1 dlrm-v2) is not run; its record says why.

They run from the item's ``mlperf_stages`` fixture, so a missing code dir skips the item
before anything is touched, and a failed stage fails it with NVIDIA's output.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ...provision.provisioners import ItemFailure, Provisioned, missing
from . import run as nvidia
from .args import BENCHMARKS
from .settings import code_dir_of

if TYPE_CHECKING:
    from ...session import MlperfSession
    from ...suite.model import Case

#: where the stages' own output goes, under the output dir (a stage is shared by items)
STAGE_LOGS = "nvidia-stages"


class StageFailed(ItemFailure):
    """A provisioning stage of NVIDIA's code failed: the item fails with its output."""


def provision_stages(case: Case, session: MlperfSession) -> list[Provisioned]:
    _, code_dir = code_dir_of(session, case)
    problem = nvidia.code_dir_problem(code_dir)
    if problem or code_dir is None:
        missing(session, problem or "NVIDIA's MLPerf code is not configured")
        return []
    timeout_s = float(setting_timeout(session, case)) + 3600
    component = BENCHMARKS[case.benchmark][1]
    done = []
    for target in nvidia.MAKE_STAGES:
        start = time.perf_counter()
        benchmark = None if target == "build" else component
        logs = session.out / STAGE_LOGS / f"{target}-{benchmark or 'all'}"
        built, child = nvidia.ensure_make_stage(target, code_dir=code_dir, logs=logs, timeout_s=timeout_s,
                                                benchmark=benchmark)
        if child is not None and (child.returncode or child.timed_out):
            tail = child.stderr_tail(6) or child.stdout_tail(6)
            lines = [f"{case.id} {case.scenario} {case.name}: NVIDIA's make {target} failed",
                     f"  - {child.describe()}", *[f"    | {line}" for line in tail.splitlines()],
                     f"  logs: {logs}"]
            raise StageFailed("\n".join(lines), pytrace=False)
        key = f"make {target} {benchmark or ''}".strip()
        not_run = nvidia.stage_missing(code_dir, target, benchmark)
        if not_run:  # NVIDIA ships no script for it: not run, and the record says why
            done.append(Provisioned(target, None, f"{key} (not run: {not_run})", None, None, "nvidia make",
                                    time.perf_counter() - start))
            continue
        done.append(Provisioned(target, None, key, not built, child.wall_s if child else None, "nvidia make",
                                time.perf_counter() - start))
    return done


def setting_timeout(session: MlperfSession, case: Case) -> float:
    from ...runplan import plan_run

    return plan_run(session, case).timeout_s
