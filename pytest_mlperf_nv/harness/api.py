"""The harness interface: what the plugin asks of a harness, and what a harness hands back.

A harness runs a case's LoadGen test somehow (the built-in Python SUT, NVIDIA's code, a
remote endpoint) and leaves LoadGen's logs in a directory. Everything else is the plugin's
and harness-agnostic: the run dir, parsing LoadGen's logs, verdicts, accuracy, the run record,
JUnit properties, the submission tree (see :mod:`pytest_mlperf_nv.caserun`).

A harness is registered through the plugin's hook, like backends, datasets and benchmarks::

    def pytest_mlperf_register(registry):
        registry.add_harness(MyHarness())

Subclass :class:`Harness` and override what your harness does differently; ``run`` is the
one method every harness must implement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..doctor import DoctorCheck
    from ..provision.provisioners import Provisioned
    from ..registry import Registry
    from ..rundir import RunLayout
    from ..runplan import RunPlan
    from ..session import MlperfSession
    from ..suite.knobs import Knob
    from ..suite.model import Case, Sourced, Suite
    from ..verdict import Verdict
    from .logs import RunResult
    from .runner import ChildOutcome

#: what the plugin provisions for an item, in this order, as fixtures (mlperf_model, ...)
ARTIFACT_KINDS = ("model", "dataset", "engine")


@dataclass(frozen=True)
class Support:
    """Whether a harness runs a benchmark, and in which scenarios."""

    #: the scenarios it runs (None: those of the benchmark's definition or MLPerf's rules)
    scenarios: tuple[str, ...] | None = None
    #: why its items are skipped at collection (None: they run)
    skip_reason: str | None = None
    #: a suite naming this benchmark for this harness is wrong, not just skipped
    error: str | None = None


@dataclass
class RunContext:
    """What a harness gets to run one case."""

    session: MlperfSession
    case: Case
    layout: RunLayout
    plan: RunPlan
    #: the provisioned artifacts, by kind (model, dataset, engine, and a harness's own stages)
    artifacts: dict[str, Provisioned]
    nodeid: str | None = None

    @property
    def run_dir(self) -> Path:
        return self.layout.run_dir


@dataclass
class HarnessRun:
    """What a harness hands back after running a case."""

    #: the process that ran LoadGen (context for messages: what crashed, what timed out)
    child: ChildOutcome | None
    #: where LoadGen's four log files are (None: the run left none)
    log_dir: Path | None
    #: why there are no logs or what else went wrong, in the harness's words
    problem: str | None = None
    #: a failure headline that replaces "the run did not complete" (e.g. "engine build failed")
    headline: str | None = None
    #: a prerequisite the run found missing: the item skips (fails under --mlperf-strict) with it
    skip: str | None = None
    #: problems that fail the item whatever LoadGen said (each a reason in the verdict)
    failures: list[str] = field(default_factory=list)
    #: the settings the run was made with, when they differ from the plan's (recorded as such)
    settings: dict[str, Sourced] | None = None
    #: the harness's own section of the run record, stored under the harness's name
    section: dict[str, Any] | None = None
    #: JUnit properties of the harness's own, after the plugin's
    properties: list[tuple[str, Any]] = field(default_factory=list)
    #: artifacts the harness provisioned during the run (recorded under provisioning)
    provisioned: dict[str, Provisioned] = field(default_factory=dict)
    #: the inference stack for the system description ("TensorRT 10.2, CUDA"), when known
    framework: str | None = None
    #: status the child reported (timings, backend description, sample-count caps)
    status: dict[str, Any] = field(default_factory=dict)


class Harness:
    """Base class of a harness. Only :meth:`run` must be implemented."""

    #: the name a suite gives in ``harness:``
    name: str = ""
    #: artifact kinds the plugin provisions for this harness's items (ARTIFACT_KINDS); a harness
    #: that brings its own models, data and engines provisions none
    provisions: tuple[str, ...] = ()
    #: a top-level block of its own a suite may give (e.g. ``nvidia:``), parsed by parse_section
    section: str | None = None

    # -- collection ------------------------------------------------------------------------
    def supports(self, benchmark: str, definition: Any, suite: Suite) -> Support:
        """Whether this harness runs ``benchmark`` (``definition``: the registered BenchmarkDef,
        if any). Default: every benchmark with a definition."""
        if definition is None:
            return Support(skip_reason=f"harness {self.name} has no definition of {benchmark}")
        return Support()

    def knob_problem(self, knob: Knob, suite: Suite, registry: Registry) -> str | None:
        """Why this harness cannot honour ``knob`` in ``suite`` (None: it can). Default: only
        knobs that are LoadGen settings."""
        if knob.loadgen_attr is not None:
            return None
        return f"harness {self.name} honours LoadGen settings only"

    def parse_section(self, doc: Any, mapping: Any) -> dict[str, Sourced]:
        """Validate the harness's own block of a suite (``doc`` has the schema's typed getters,
        which raise SuiteError with file:line); returns key -> sourced value."""
        raise NotImplementedError(f"harness {self.name} declares section {self.section!r} but cannot "
                                  "parse it")

    def check_suite(self, suite: Suite) -> None:
        """Collection-time checks of a whole suite (raise SuiteError). Default: none."""

    def backend_options(self, suite: Suite, registry: Registry) -> dict[str, type] | None:
        """The ``backend_options:`` this harness accepts for the suite's backend, with their types
        (None: it takes none)."""
        return None

    def doctor(self, suites: list[Suite], check: DoctorCheck) -> None:
        """``mlperf-nv doctor`` / ``--mlperf-doctor``: add to ``check.report`` what stands in the way
        of running ``suites`` (this harness's; none named: what the machine lacks), each problem
        with its fix. Default: for each suite, a note that nothing is checked before a run."""
        for suite in suites:
            check.report.add("note", str(suite.path), f"runs on harness {self.name}: nothing to check "
                                                      "before a run")

    # -- provisioning ----------------------------------------------------------------------
    def missing_prerequisites(self, case: Case, session: MlperfSession) -> list[str]:
        """What the harness needs for ``case`` and cannot find, each with how to provide it (cheap
        checks only, made before anything is provisioned). Default: nothing."""
        return []

    def provision_stages(self, case: Case, session: MlperfSession) -> list[Provisioned]:
        """A harness's own provisioning stages for ``case`` (run by the ``mlperf_stages`` fixture,
        before the item's run). Default: none."""
        return []

    # -- running ---------------------------------------------------------------------------
    def run(self, ctx: RunContext) -> HarnessRun:
        """Run the case's LoadGen test into ``ctx.run_dir`` and say where its logs are."""
        raise NotImplementedError(f"harness {self.name or type(self).__name__} does not implement run()")

    def judge_accuracy(self, ctx: RunContext, run: HarnessRun, result: RunResult) -> Verdict:
        """The verdict of an accuracy run. Default: no score of the plugin's own (a harness that
        scores accuracy overrides this)."""
        from ..verdict import judge_accuracy

        return judge_accuracy(result, None, 0.0, f"harness {self.name} does not score accuracy")

    def not_submittable(self, ctx: RunContext, run: HarnessRun) -> list[str]:
        """Reasons of the harness's own why this run can never be submitted (data, weights)."""
        return []

    # -- reporting -------------------------------------------------------------------------
    def explain(self, case: Case, session: MlperfSession) -> list[str]:
        """``--mlperf-explain`` lines for ``case`` (after its node id and skip reason)."""
        from ..runplan import plan_run

        plan = plan_run(session, case)
        return [f"  benchmark {case.benchmark} on harness {self.name}",
                f"    {'profile':<36} {plan.profile.value!s:<14} <- {plan.profile.source}",
                f"    {'timeout_s':<36} {plan.timeout.value:<14g} <- {plan.timeout.source}"]

    def implementation(self, suite: Suite) -> str:
        """The implementation's name in a submission tree (its code directory)."""
        return f"pytest-mlperf-nv-{self.name}"

    def framework(self, suite: Suite) -> str:
        """The framework a system description names when no run recorded one."""
        return self.name

    def measurement_defaults(self, case: Case) -> dict[str, str]:
        """A submission's measurements.json fields this harness knows (a suite's
        ``submission.measurements`` wins): input and weight data types, weight transformations."""
        return {"input_data_types": "see the implementation", "weight_data_types": "see the implementation",
                "weight_transformations": "see the implementation"}

    def code_readme(self, suite: Suite) -> str:
        """What the submission tree's code directory says ran the results."""
        from .. import __version__

        return f"pytest-mlperf-nv {__version__} drove harness {self.name}, which ran these results."


def knob_values(knobs: dict[str, Sourced]) -> dict[str, Any]:
    """Plain values of sourced knobs."""
    return {name: sourced.value for name, sourced in knobs.items()}
