"""``system: {gpu: <profile> | auto}``: per-GPU default knobs under the suite's own.

Precedence for a knob: command line (--mlperf-set) > suite > GPU profile > the harness's
own defaults. The profile's values carry the profile's name as their source, so
``--mlperf-explain`` and result.json say where each one came from.
"""

from __future__ import annotations

from typing import Any

from .knobs import KNOBS
from .model import Sourced, Suite


def apply_profile(suite: Suite, system: Any) -> str | None:
    """Fill each case's knobs from the suite's GPU profile; return the resolution note.

    ``system`` is a callable giving the machine's facts (only called for ``gpu: auto``). A
    machine without the GPU ``auto`` needs makes its cases skip with the reason.
    """
    gpu = str(suite.system.get("gpu", "none"))
    if gpu == "none":
        return None
    from ..systems.profiles import ProfileError, get_profile, resolve_profile

    try:
        if gpu == "auto":
            profile, note = resolve_profile("auto", system())
        else:
            profile, note = get_profile(gpu), f"profile {gpu}"
    except ProfileError as exc:
        for case in suite.cases:
            case.skip_reason = case.skip_reason or f"system.gpu: {gpu}: {exc}"
        return str(exc)
    suite.gpu_profile = profile.name
    for case in suite.cases:
        explained = profile.explain(case.benchmark, case.scenario)
        defaults: dict[str, Sourced] = {}
        for name, (value, origin) in explained.items():
            knob = KNOBS.get(name)
            if knob is None or name not in suite.honoured_knobs or name in case.knobs:
                continue  # the suite's own value wins; knobs this harness cannot use are left out
            defaults[name] = Sourced(value, f"GPU profile {profile.name} ({origin}; {note})")
        case.knobs = {**defaults, **case.knobs}
    return note
