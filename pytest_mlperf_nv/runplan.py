"""How a case will run: its profile, LoadGen settings and timeout, each with where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .harness.settings import RunTimeout, auto_timeout, loadgen_settings
from .suite.model import Case, Sourced

if TYPE_CHECKING:
    from .session import MlperfSession


@dataclass(frozen=True)
class RunPlan:
    profile: Sourced
    #: TestSettings attribute -> value over LoadGen's built-in mlperf.conf
    settings: dict[str, Sourced]
    timeout: Sourced

    @property
    def plain_settings(self) -> dict[str, Any]:
        return {k: v.value for k, v in self.settings.items()}

    @property
    def timeout_s(self) -> float:
        return float(self.timeout.value)

    @property
    def run_timeout(self) -> RunTimeout:
        """The limit the runner enforces (an automatic one follows the child's report)."""
        return RunTimeout.of(self.timeout)


def plan_run(session: MlperfSession, case: Case) -> RunPlan:
    """The case's profile, LoadGen settings and timeout (CLI > environment > suite > ini > default)."""
    profile = session.settings.sourced("profile", case.suite.profile)
    settings = loadgen_settings(case, profile.value)
    timeout = session.settings.sourced("timeout", case.suite.timeout)
    if timeout.value is None:
        plain = {k: v.value for k, v in settings.items()}
        timeout = Sourced(*auto_timeout(case.scenario, plain))
    return RunPlan(profile, settings, timeout)
