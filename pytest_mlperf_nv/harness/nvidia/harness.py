"""``harness: nvidia``: NVIDIA's MLPerf submission code (closed/NVIDIA of an inference_results round).

NVIDIA's code provisions its own models, data and engines (its make stages and code.main
actions); the plugin runs them once each and reads the LoadGen logs its harness writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...benchmarks.mlperf import MLPERF_BENCHMARKS, mlperf_scenarios
from ..api import Harness, HarnessRun, RunContext, Support, knob_values
from .args import BENCHMARKS
from .settings import SECTION, block, parse_section, setting

if TYPE_CHECKING:
    from ...doctor import DoctorCheck
    from ...provision.provisioners import Provisioned
    from ...registry import Registry
    from ...session import MlperfSession
    from ...suite.knobs import Knob
    from ...suite.model import Case, Sourced, Suite
    from ...verdict import Verdict
    from ..logs import RunResult

NAME = "nvidia"


class NvidiaHarness(Harness):
    name = NAME
    provisions = ()
    #: the suite's ``nvidia:`` block
    section = SECTION

    # -- collection ------------------------------------------------------------------------
    def parse_section(self, doc: Any, mapping: Any) -> dict[str, Sourced]:
        return parse_section(doc, mapping)

    def supports(self, benchmark: str, definition: Any, suite: Suite) -> Support:
        if benchmark not in MLPERF_BENCHMARKS:
            why = f"{benchmark} is not an MLPerf benchmark, so NVIDIA's code cannot run it"
            if suite.declared_harness == NAME:
                return Support(error=f"{why}; use 'harness: loadgen' for it")
            return Support(skip_reason=why)
        if benchmark not in BENCHMARKS:
            return Support(mlperf_scenarios(benchmark),
                           skip_reason=(f"NVIDIA's MLPerf code (v4.1, v5.0) has no {benchmark}; the built-in "
                                        "harness cannot run it either"))
        return Support(mlperf_scenarios(benchmark))

    def knob_problem(self, knob: Knob, suite: Suite, registry: Registry) -> str | None:
        return None  # the knob vocabulary is NVIDIA's flags; check_suite checks each case's values

    def check_suite(self, suite: Suite) -> None:
        from .args import check_suite

        check_suite(suite)

    def doctor(self, suites: list[Suite], check: DoctorCheck) -> None:
        from .doctor import doctor

        doctor(suites, check)

    # -- provisioning and running ----------------------------------------------------------
    def missing_prerequisites(self, case: Case, session: MlperfSession) -> list[str]:
        from ...accuracy.judge import ScoringInputs, ground_truth_problem
        from .run import code_dir_problem
        from .settings import code_dir_of

        code_dir = code_dir_of(session, case)[1]
        problem = code_dir_problem(code_dir)
        if problem:
            return [problem]
        if case.mode == "accuracy":
            # The plugin scores NVIDIA's accuracy log itself: its ground truth must be there first.
            problem = ground_truth_problem(ScoringInputs.of(session, case, NAME, code_dir))
        return [problem] if problem else []

    def provision_stages(self, case: Case, session: MlperfSession) -> list[Provisioned]:
        from .stages import provision_stages

        return provision_stages(case, session)

    def run(self, ctx: RunContext) -> HarnessRun:
        from .case import run_on_nvidia

        return run_on_nvidia(ctx)

    def judge_accuracy(self, ctx: RunContext, run: HarnessRun, result: RunResult) -> Verdict:
        """The plugin's own score of the accuracy log NVIDIA's harness wrote, with NVIDIA's own check
        (its metadata.json) beside it: both must pass and agree."""
        from ...accuracy.judge import ScoringInputs, judge_scored
        from ..logs import ACCURACY
        from .settings import code_dir_of

        assert run.log_dir is not None
        case = ctx.case
        inputs = ScoringInputs.of(ctx.session, case, NAME, code_dir_of(ctx.session, case)[1])
        minimum = case.expect["min_accuracy"].value if "min_accuracy" in case.expect else None
        metadata = (run.section or {}).get("metadata") or {}
        return judge_scored(result, inputs, run.log_dir / ACCURACY, ctx.run_dir, min_accuracy=minimum,
                            nvidia_metadata=metadata)

    # -- reporting -------------------------------------------------------------------------
    def explain(self, case: Case, session: MlperfSession) -> list[str]:
        from ...runplan import plan_run
        from .args import ArgumentError, audit_harness_args, run_harness_args

        plan = plan_run(session, case)
        code = setting(session, case, "code_dir")
        version = setting(session, case, "version")
        lines = [f"  benchmark {case.benchmark} on NVIDIA's code (harness {NAME})", "  run:",
                 f"    {'profile':<36} {plan.profile.value!s:<14} <- {plan.profile.source}",
                 f"    {'timeout_s':<36} {plan.timeout.value:<14g} <- {plan.timeout.source}",
                 f"    {'code_dir':<36} {code.value!s:<14} <- {code.source}",
                 f"    {'version':<36} {version.value or 'detected'!s:<14} <- {version.source}"]
        if case.knobs:
            lines.append("  knobs:")
            lines += [f"    {name:<36} {s.value!s:<14} <- {s.source}"
                      for name, s in sorted(case.knobs.items())]
        mode = block(case.suite).get("custom_system")
        try:
            args = run_harness_args(case.benchmark, case.scenario, case.mode, knob_values(case.knobs),
                                    version=version.value or "v4.1", profile=plan.profile.value,
                                    quick_duration_ms=1000,
                                    custom_config=mode is not None and mode.value == "always")
            if case.mode == "compliance" and case.audit:
                args = audit_harness_args(args, case.audit)
            lines.append("  code.main arguments:")
            lines.append("    python3 -m code.main " + " ".join(args.args))
        except ArgumentError as exc:
            lines.append(f"  cannot pass to NVIDIA's code: {exc}")
        if case.mode == "accuracy":
            from ...accuracy.judge import ScoringInputs
            from ...accuracy.judge import explain as explain_accuracy
            from .settings import code_dir_of

            scoring = explain_accuracy(ScoringInputs.of(session, case, NAME, code_dir_of(session, case)[1]))
            lines += scoring
            if not scoring[0].startswith("  accuracy: skips"):
                lines.append("    NVIDIA's own check (metadata.json) is recorded beside it and must agree")
        return lines

    def implementation(self, suite: Suite) -> str:
        return "nvidia-tensorrt"

    def framework(self, suite: Suite) -> str:
        return "NVIDIA TensorRT"

    def measurement_defaults(self, case: Case) -> dict[str, str]:
        return {"input_data_types": "see the implementation", "weight_data_types": "see the implementation",
                "weight_transformations": "quantization by NVIDIA's code"}

    def code_readme(self, suite: Suite) -> str:
        return ("NVIDIA's MLPerf Inference code (closed/NVIDIA of the inference_results round named in "
                "the suite's nvidia.version) ran these results, driven by pytest-mlperf-nv.")
