"""One case on NVIDIA's code: calibrate and generate_engines (once each), then run_harness.

It hands back where NVIDIA's harness left LoadGen's logs; the plugin's case runner judges them
like any other harness's (:mod:`pytest_mlperf_nv.caserun`). NVIDIA's make stages (build,
download_model, preprocess_data) run before, as provisioning (:mod:`.stages`).
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import HarnessError
from ...provision.provisioners import Provisioned
from ..api import HarnessRun, RunContext, knob_values
from ..devicelock import run_lock
from . import run as nvidia
from .args import (
    BENCHMARKS,
    ArgumentError,
    audit_harness_args,
    calibrate_args,
    generate_engines_args,
    run_harness_args,
)
from .custom_system import DEFAULT_MODE
from .settings import SECTION, code_dir_of, setting

if TYPE_CHECKING:
    from ...session import MlperfSession
    from ...suite.model import Case
    from ..runner import ChildOutcome

NAME = "nvidia"


def run_on_nvidia(ctx: RunContext) -> HarnessRun:
    """The case through NVIDIA's code.main; where the LoadGen logs it wrote are."""
    session, case = ctx.session, ctx.case
    code, code_dir = code_dir_of(session, case)
    problem = nvidia.code_dir_problem(code_dir)
    if problem or code_dir is None:
        return HarnessRun(None, None, skip=problem)
    version = setting(session, case, "version").value or nvidia.detect_version(code_dir)
    if version is None:
        unsupported = nvidia.unsupported_version(code_dir)
        if unsupported:
            raise HarnessError(unsupported)
        raise HarnessError(f"cannot tell the round of NVIDIA's code at {code_dir}: set nvidia.version "
                           "(v4.1 or v5.0) in the suite or --mlperf-nvidia-version")
    system_id = setting(session, case, "system_id").value
    mode_setting = case.suite.sections.get(SECTION, {}).get("custom_system")
    mode = mode_setting.value if mode_setting is not None else DEFAULT_MODE
    knobs = knob_values(case.knobs)
    # Under a generated definition the config carries every knob, false booleans included.
    in_config = mode == "always"
    try:
        invocation = run_harness_args(case.benchmark, case.scenario, case.mode, knobs, version=version,
                                      profile=ctx.plan.profile.value, quick_duration_ms=1000,
                                      custom_config=in_config)
        if case.mode == "compliance":
            invocation = audit_harness_args(invocation, str(case.audit))
    except ArgumentError as exc:
        raise HarnessError(f"{case.benchmark} {case.scenario}: {exc}") from None
    run_dir = ctx.run_dir
    stages: dict[str, Any] = {}
    for kind, artifact in ctx.artifacts.items():
        if artifact.source != "nvidia make":
            continue
        stages[kind] = {"cache_hit": artifact.cache_hit, "wall_s": artifact.build_seconds}
        component = None if kind == "build" else BENCHMARKS[case.benchmark][1]
        not_run = nvidia.stage_missing(code_dir, kind, component)
        if not_run:
            stages[kind]["not_run"] = not_run
    long_s = ctx.plan.timeout_s + 3600
    engines = generate_engines_args(case.benchmark, case.scenario, knobs, version=version,
                                    custom_config=in_config)
    custom = _CustomSystem(session, case, code_dir, system_id, knobs, mode, version)
    if mode == "always":
        custom.use("nvidia.custom_system is always")
    elif mode == "auto" and (stamp := custom.known_unknown()) is not None:
        custom.use(f"NVIDIA's code did not know this machine on an earlier run (stamp {stamp})")
    calibrate = case.suite.sections.get(SECTION, {}).get("calibrate")
    while True:
        if calibrate is not None and calibrate.value:
            # NVIDIA's INT8 calibration cache, before the engines that read it (once per stamp).
            calibrated, cal_child = nvidia.ensure_engines(
                calibrate_args(case.benchmark, case.scenario), code_dir=code_dir, run_dir=run_dir,
                timeout_s=long_s, system_id=system_id, version=version, definition=custom.path,
                stage="calibrate")
            stages["calibrate"] = {"cache_hit": not calibrated,
                                   "wall_s": cal_child.wall_s if cal_child else None}
            if cal_child is not None and (cal_child.returncode or cal_child.timed_out):
                return _stage_failed("calibrate", cal_child)
            if mode == "auto" and custom.path is None and cal_child is not None \
                    and nvidia.says_unknown_system(cal_child):
                custom.learn_unknown("calibrate")
                continue
        built, engine_child = nvidia.ensure_engines(engines, code_dir=code_dir, run_dir=run_dir,
                                                    timeout_s=long_s, system_id=system_id, version=version,
                                                    definition=custom.path)
        if engine_child is not None and (engine_child.returncode or engine_child.timed_out):
            return _stage_failed("generate_engines", engine_child)
        retry = mode == "auto" and custom.path is None
        if retry and engine_child is not None and nvidia.says_unknown_system(engine_child):
            custom.learn_unknown("generate_engines")
            continue
        # Performance and compliance runs take turns on the GPUs (engines are built in parallel).
        with run_lock(session, case) or nullcontext():
            outcome = nvidia.run(invocation, code_dir=code_dir, run_dir=run_dir, benchmark=case.benchmark,
                                 scenario=case.scenario, timeout_s=ctx.plan.timeout_s, system_id=system_id,
                                 definition=custom.path, audit=case.audit)
        if retry and outcome.unknown_system:
            custom.learn_unknown("run_harness")
            nvidia.set_aside(run_dir, "unknown-system")
            continue
        break
    if outcome.unknown_system and outcome.result_dir is None:
        outcome.problem = custom.unknown_problem()
    failures = [problem for problem in (custom.not_applied(outcome),) if problem]
    section = {"code_dir": str(code_dir), "code_dir_source": code.source, "version": version,
               "system_id": system_id, "arguments": list(invocation.args),
               "log_dir": str(outcome.result_dir) if outcome.result_dir else None,
               "metadata": outcome.metadata, "custom_system": custom.record, "stages": stages}
    engine = Provisioned("engine", None, " ".join(engines.args), not built,
                         engine_child.wall_s if engine_child else None, "nvidia generate_engines")
    properties: list[tuple[str, Any]] = [("mlperf_harness", NAME), ("mlperf_nvidia_version", version)]
    if custom.record:
        properties.append(("mlperf_nvidia_custom_system", custom.record["system_id"]))
    trt = (outcome.metadata or {}).get("tensorrt_version")
    return HarnessRun(outcome.child, outcome.result_dir, problem=outcome.problem, failures=failures,
                      settings=dict(case.knobs), section=section, properties=properties,
                      provisioned={"engine": engine}, framework=f"TensorRT {trt}, CUDA" if trt else None)


def _stage_failed(stage: str, child: ChildOutcome) -> HarnessRun:
    headline = "engine build failed" if stage == "generate_engines" else f"NVIDIA's {stage} failed"
    return HarnessRun(child, None, headline=headline, problem=f"NVIDIA's {stage} failed: {child.describe()}")


class _CustomSystem:
    """The case's generated custom-system definition (nvidia.custom_system), made when it is needed."""

    def __init__(self, session: MlperfSession, case: Case, code_dir: Path, system_id: str | None,
                 knobs: dict[str, Any], mode: str, version: str = "v4.1"):
        self.session, self.case, self.code_dir = session, case, code_dir
        self.system_id, self.knobs, self.mode, self.version = system_id, knobs, mode, version
        self.path: Path | None = None
        self.definition: Any = None
        self.record: dict[str, Any] | None = None

    def known_unknown(self) -> Path | None:
        """The stamp that says NVIDIA's code in this code dir did not know this machine, if any."""
        from .custom_system import unknown_stamp

        stamp = unknown_stamp(self.code_dir, self.session.system())
        return stamp if stamp.is_file() else None

    def use(self, reason: str) -> None:
        """Generate (or find) the definition for this case; every later NVIDIA call gets it."""
        from .custom_system import build_definition, write_definition
        from .rules import profile_fields

        facts = self.session.system()
        # the GPU profile's knobs NVIDIA reads as fields of the generated config (rules.profile_fields)
        extra = profile_fields(str(self.case.suite.system.get("gpu", "none")), facts, self.case.benchmark,
                               self.case.scenario)
        self.definition = build_definition(facts, self.case.benchmark, self.case.scenario, self.knobs,
                                           case_id=self.case.id, system_id=self.system_id,
                                           version=self.version, extra_fields=extra)
        self.path = write_definition(self.code_dir, self.definition)
        self.record = {"system_id": self.definition.system_id, "key": self.definition.key,
                       "definition": str(self.path), "reason": reason, "mode": self.mode,
                       "left_out": list(self.definition.left_out)}

    def learn_unknown(self, stage: str) -> None:
        """NVIDIA's code did not know the machine: remember it, then use a generated definition."""
        from .custom_system import UNKNOWN_SYSTEM, mark_unknown

        mark_unknown(self.code_dir, self.session.system(), stage)
        self.use(f'NVIDIA\'s code answered "{UNKNOWN_SYSTEM}" on {stage}')

    def unknown_problem(self) -> str:
        """Why NVIDIA's code ran nothing on this machine, with what to do about it."""
        from .custom_system import UNKNOWN_SYSTEM

        head = f"NVIDIA's code does not know this machine (\"{UNKNOWN_SYSTEM}\")"
        if self.path is None:
            return (f"{head}, and nvidia.custom_system is never: set nvidia.custom_system to auto (the "
                    "default) or always in the suite to run it under a generated custom-system definition")
        return (f"{head}, not even with the generated custom-system definition {self.definition.key} "
                f"({self.path}): the hardware NVIDIA's code detects differs from the system facts the "
                f"plugin used ({self.session.system().source})")

    def not_applied(self, outcome: Any) -> str | None:
        """A definition was handed over, but NVIDIA's code matched one of its own systems first."""
        if self.path is None or outcome.detected_system is None:
            return None
        said = outcome.detected_system.split(".")[-1]  # the real code logs KnownSystem.<name>
        if said in (self.definition.key, self.definition.system_id):
            return None
        return (f"NVIDIA's code matched its own system {outcome.detected_system} before the generated "
                f"custom system {self.definition.key} (its known systems are matched first), so the "
                "generated config (and any false boolean knob in it) was not used; on this machine leave "
                "nvidia.custom_system at auto")
