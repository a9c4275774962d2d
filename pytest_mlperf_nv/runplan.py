"""How a case will run: its profile, LoadGen settings and timeout, each with where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .harness.settings import expected_seconds, loadgen_settings
from .suite.model import Case, Sourced

if TYPE_CHECKING:
    from .session import MlperfSession

AUTO_TIMEOUT_MARGIN_S = 60.0


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


def plan_run(session: MlperfSession, case: Case) -> RunPlan:
    """The case's profile, LoadGen settings and timeout (CLI > environment > suite > ini > default)."""
    profile = session.settings.sourced("profile", case.suite.profile)
    settings = loadgen_settings(case, profile.value)
    timeout = session.settings.sourced("timeout", case.suite.timeout)
    if timeout.value is None:
        plain = {k: v.value for k, v in settings.items()}
        seconds = 2 * expected_seconds(case.scenario, plain) + AUTO_TIMEOUT_MARGIN_S
        timeout = Sourced(seconds, "auto: 2 x expected run length + 60 s")
    return RunPlan(profile, settings, timeout)
