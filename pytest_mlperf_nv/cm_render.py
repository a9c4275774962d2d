"""A translated CM/MLC command -> suite YAML text, each setting commented with the command item it
came from, the command itself and what was not carried over in the header.
"""

from __future__ import annotations

import json
from typing import Any

from .cm_translate import Translation
from .cm_vocabulary import TARGET_KNOB, TARGETS


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _yaml_string(value: str) -> str:
    """A YAML scalar that reads back as this string (quoted where YAML would read something else)."""
    import yaml

    return value if yaml.safe_load(value) == value and "#" not in value else json.dumps(value)


def _wrap(text: str, width: int = 96) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


def _line(indent: int, body: str, source: str | None) -> str:
    text = " " * indent + body
    if source:
        text = f"{text:<34} # {source}"
    return text


def render(suite: Translation) -> str:
    out = ["# Suite translated from a CM/MLC command by `mlperf-nv from-cm`. The command:"]
    out += [f"#   {line}" for line in _wrap(" ".join(suite.command.split()))]
    if suite.ignored:
        out.append("# Not carried over (they only steer CM itself or restate a default):")
        out += [f"#   {line}" for line in _wrap(", ".join(dict.fromkeys(suite.ignored)))]
    for note in suite.notes:
        out += [f"# Note: {line}" if i == 0 else f"#   {line}" for i, line in enumerate(_wrap(note, 88))]
    out.append("mlperf_suite: 1")
    out.append("harness: nvidia")
    if suite.nvidia_version:
        out.append("nvidia:")
        out.append(_line(2, f"version: {suite.nvidia_version[0]}", suite.nvidia_version[1]))
    if suite.submission:
        out.append("submission:")
        for key in ("division", "submitter", "system_name"):
            if key in suite.submission:
                value, src = suite.submission[key]
                out.append(_line(2, f"{key}: {_yaml_string(value)}", src))
    if suite.profile:
        out.append(_line(0, f"profile: {suite.profile[0]}", suite.profile[1]))
    if suite.modes:
        out.append(_line(0, f"modes: [{', '.join(suite.modes[0])}]", suite.modes[1]))
    out.append("system:")
    gpu = suite.gpu or ("auto", "no GPU named: the profile follows the GPU found (memory bucket)")
    out.append(_line(2, f"gpu: {gpu[0]}", gpu[1]))
    if suite.category:
        out.append(_line(2, f"type: {suite.category[0]}", suite.category[1]))
    assert suite.benchmark is not None
    benchmark, bench_src = suite.benchmark
    out.append("benchmarks:")
    out.append(_line(2, f"{benchmark}:", bench_src))
    for name, (value, src) in suite.knobs.items():
        out.append(_line(4, f"{name}: {_scalar(value)}", src))
    names = list(dict.fromkeys(s for s, _ in suite.scenarios))
    per: dict[str, list[tuple[str, Any, str]]] = {s: [] for s in names}
    elsewhere: list[tuple[str, Any, str]] = []
    chosen: dict[tuple[str, str], tuple[Any, str, bool]] = {}
    for key, scenario, value, src in suite.targets:
        specific = len(TARGETS[key][0]) == 1  # offline_target_qps beats target_qps, as in CM
        knob = TARGET_KNOB[scenario]
        old = chosen.get((scenario, knob))
        if old is None or (specific and not old[2]):
            chosen[(scenario, knob)] = (value, src, specific)
    for (scenario, knob), (value, src, specific) in chosen.items():
        if scenario in per:
            per[scenario].append((knob, value, src))
        elif specific:  # a generic --target_qps only concerns the scenarios that run
            elsewhere.append((knob, value, f"{src} (for {scenario}, which this command does not run)"))
    for knob, value, src in elsewhere:
        out.append(_line(4, f"{knob}: {_scalar(value)}", src))
    sources = {s: src for s, src in reversed(suite.scenarios)}
    if any(per.values()):
        out.append("    scenarios:")
        for scenario in names:
            if per[scenario]:
                out.append(_line(6, f"{scenario}:", sources[scenario]))
                for knob, value, src in per[scenario]:
                    out.append(_line(8, f"{knob}: {_scalar(value)}", src))
            else:
                out.append(_line(6, f"{scenario}: {{}}", sources[scenario]))
    else:
        out.append(_line(4, f"scenarios: [{', '.join(names)}]",
                         "; ".join(dict.fromkeys(sources[s] for s in names))))
    return "\n".join(out) + "\n"


__all__ = ["render"]
