"""``--mlperf-explain``: what each selected item would run with, and why, without running it."""

from __future__ import annotations

from typing import Any

from ..execute import resolve_run
from ..harness.settings import render_user_conf
from ..session import MlperfSession
from ..suite.model import Case


def explain_case(nodeid: str, case: Case, session: MlperfSession) -> list[str]:
    definition = case.definition
    lines = [nodeid]
    if case.skip_reason:
        lines.append(f"  skipped: {case.skip_reason}")
    if definition is None:
        return lines
    profile, settings, timeout = resolve_run(session, case)

    def row(name: str, value: Any, source: str) -> str:
        return f"    {name:<36} {value!s:<14} <- {source}"

    lines.append(f"  benchmark {case.benchmark} (LoadGen model '{definition.loadgen_name}'), dataset "
                 f"{case.dataset}, harness {case.suite.harness}, backend {case.suite.backend}")
    lines.append("  run:")
    lines.append(row("profile", profile.value, profile.source))
    lines.append(row("timeout_s", f"{timeout.value:g}", timeout.source))
    if case.accuracy_samples:
        lines.append(row("accuracy_samples", case.accuracy_samples.value, case.accuracy_samples.source))
    if case.knobs:
        lines.append("  knobs:")
        lines += [row(name, s.value, s.source) for name, s in sorted(case.knobs.items())]
    lines.append(f"  LoadGen settings (over LoadGen's built-in mlperf.conf for "
                 f"{definition.loadgen_name}/{case.scenario}):")
    if settings:
        lines += [row(attr, s.value, s.source) for attr, s in sorted(settings.items())]
    else:
        lines.append("    (none: every value is mlperf.conf's)")
    if case.expect:
        lines.append("  expect:")
        lines += [row(name, s.value, s.source) for name, s in sorted(case.expect.items())]
    lines.append("  user.conf:")
    conf = render_user_conf(definition.loadgen_name, case.scenario, settings)
    lines += [f"    {line}" for line in conf.splitlines()]
    return lines
