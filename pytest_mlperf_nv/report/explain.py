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
    if case.suite.harness == "nvidia" and not case.skip_reason:
        return lines + _explain_nvidia(case, session)
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
    lines += _explain_audit(case)
    return lines


def _explain_audit(case: Case) -> list[str]:
    """A compliance item: its audit.config and what it is verified against."""
    if case.mode != "compliance" or not case.audit:
        return []
    from ..submission.audit import audit_config_text
    from ..submission.rounds import mlperf_name

    against = "the accuracy and performance items" if case.audit == "TEST01" else "the performance item"
    lines = [f"  audit {case.audit}: a performance run under this audit.config, verified against "
             f"{against} of {case.id} {case.scenario}:"]
    text = audit_config_text(case.audit, mlperf_name(case.suite, case.benchmark, case.id) or case.benchmark)
    lines += [f"    {line}" for line in text.splitlines() if line and not line.startswith("#")]
    return lines


def _explain_nvidia(case: Case, session: MlperfSession) -> list[str]:
    from ..harness.nvidia.args import ArgumentError, run_harness_args

    profile, _, timeout = resolve_run(session, case)
    code = session.settings.sourced("nvidia_code_dir", case.suite.nvidia.get("code_dir"))
    version = session.settings.sourced("nvidia_version", case.suite.nvidia.get("version"))
    lines = [f"  benchmark {case.benchmark} on NVIDIA's code (harness nvidia)", "  run:",
             f"    {'profile':<36} {profile.value!s:<14} <- {profile.source}",
             f"    {'timeout_s':<36} {timeout.value:<14g} <- {timeout.source}",
             f"    {'code_dir':<36} {code.value!s:<14} <- {code.source}",
             f"    {'version':<36} {version.value or 'detected'!s:<14} <- {version.source}"]
    if case.knobs:
        lines.append("  knobs:")
        lines += [f"    {name:<36} {s.value!s:<14} <- {s.source}" for name, s in sorted(case.knobs.items())]
    try:
        args = run_harness_args(case.benchmark, case.scenario, case.mode,
                                {k: v.value for k, v in case.knobs.items()},
                                version=version.value or "v4.1", profile=profile.value,
                                quick_duration_ms=1000, custom_config=_always_custom(case))
        if case.mode == "compliance" and case.audit:
            from ..harness.nvidia.args import audit_harness_args

            args = audit_harness_args(args, case.audit)
        lines.append("  code.main arguments:")
        lines.append("    python3 -m code.main " + " ".join(args.args))
    except ArgumentError as exc:
        lines.append(f"  cannot pass to NVIDIA's code: {exc}")
    return lines


def _always_custom(case: Case) -> bool:
    mode = case.suite.nvidia.get("custom_system")
    return mode is not None and mode.value == "always"
