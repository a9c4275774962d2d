"""JUnit: the session's facts as suite-level properties, written once by the controller, and the
switch that keeps properties out for consumers that check JUnit's schema strictly.

Suite properties go through the JUnit writer's own ``add_global_property`` (what pytest's
``record_testsuite_property`` fixture uses); under xdist only the controller has the writer, so
workers never add them and they appear once.
"""

from __future__ import annotations

from typing import Any


def junit_writer(config: Any) -> Any | None:
    """pytest's JUnit XML writer of this session (``--junitxml``), or None."""
    for plugin in config.pluginmanager.get_plugins():
        if callable(getattr(plugin, "add_global_property", None)) and hasattr(plugin, "global_properties"):
            return plugin
    return None


def suite_properties(
    *, facts: Any, session: dict[str, Any], items: list[dict[str, Any]], shard: tuple[int, int] | None = None
) -> list[tuple[str, str]]:
    """The facts every test case shares: system, driver, versions, profiles, LoadGen version and seeds."""
    props: list[tuple[str, Any]] = [
        ("mlperf_session_id", session.get("id")),
        ("mlperf_plugin_version", session.get("plugin_version")),
    ]
    if facts is not None:
        gpus = getattr(facts, "gpus", ()) or ()
        props += [
            ("mlperf_system_host", facts.hostname),
            ("mlperf_system_cpu", facts.cpu_model),
            (
                "mlperf_system_gpus",
                f"{len(gpus)} x {gpus[0].name}" if gpus else f"none ({facts.gpu_error or 'no GPU found'})",
            ),
            ("mlperf_driver_version", facts.driver_version),
            ("mlperf_cuda_version", facts.cuda_driver_version),
            ("mlperf_python_version", facts.python),
            ("mlperf_os", facts.os),
        ]
        for name, version in sorted((facts.software or {}).items()):
            if name != "pytest_mlperf_nv":
                props.append((f"mlperf_version_{name}", version))
    loadgen = sorted({v for i in items if (v := i.get("loadgen_version"))})
    props.append(("mlperf_loadgen_version", ", ".join(loadgen) or session.get("loadgen")))
    seeds = sorted({_seeds_text(s) for i in items if (s := i.get("seeds"))})
    if seeds:
        props.append(("mlperf_loadgen_seeds", "; ".join(seeds)))
    rounds = sorted({r for i in items if (r := i.get("round"))})
    if rounds:
        props.append(("mlperf_round", ", ".join(rounds)))
    profiles = sorted({p for i in items if (p := i.get("profile"))})
    if profiles:
        props.append(("mlperf_profile", ", ".join(profiles)))
    if shard:
        props.append(("mlperf_shard", f"{shard[0]}/{shard[1]}"))
    return [(k, str(v)) for k, v in props if v not in (None, "")]


def _seeds_text(seeds: dict[str, Any]) -> str:
    return ", ".join(
        f"{k}={seeds[k]}" for k in ("qsl", "sample_index", "schedule") if seeds.get(k) is not None
    )


def add_suite_properties(config: Any, props: list[tuple[str, str]]) -> bool:
    """Hand the properties to the JUnit writer, once; False when there is no --junitxml."""
    writer = junit_writer(config)
    if writer is None:
        return False
    present = {name for name, _ in writer.global_properties}
    for name, value in props:
        if name not in present:
            writer.add_global_property(name, value)
    return True


__all__ = ["add_suite_properties", "junit_writer", "suite_properties"]
