"""What the reports need to know about a case while its item runs (the one place they read a Case).

The context travels with the item's report (an attribute of pytest's TestReport, which xdist
carries to the controller), so the controller's reports need neither the case nor the worker.
"""

from __future__ import annotations

from typing import Any

from .baseline import item_key

#: the attribute of a TestReport that carries the context
REPORT_ATTR = "mlperf_context"


def case_context(session: Any, case: Any) -> dict[str, Any]:
    """The case's identity, run dir, accuracy target, GPU count and expected run length."""
    from ..rundir import RunLayout

    suite = case.suite
    gpu = str(suite.system.get("gpu", "none"))
    definition = getattr(case, "definition", None)
    expect = {k: getattr(v, "value", v) for k, v in (case.expect or {}).items()}
    target = expect.get("min_accuracy", getattr(definition, "accuracy_target", None))
    return {
        "key": item_key(suite.path.stem, case.id, case.scenario, case.name),
        "suite_stem": suite.path.stem,
        "suite_name": suite.name,
        "benchmark_id": case.id,
        "benchmark": case.benchmark,
        "scenario": case.scenario,
        "mode": case.mode,
        "audit": case.audit,
        "harness": suite.harness,
        "run_dir": str(RunLayout.of(session.out, case).run_dir.resolve()),
        "accuracy_target": None if target is None else float(target),
        "gpus": 0 if gpu == "none" else int(suite.system.get("count", 1)),
        "expected_s": expected_seconds(session, case),
    }


def expected_seconds(session: Any, case: Any) -> float | None:
    """How long LoadGen should run the case: its minimum duration (a performance run lasts about that
    long); None for accuracy runs, whose length is the data set's."""
    if case.mode == "accuracy":
        return None
    try:
        from ..runplan import plan_run

        value = plan_run(session, case).plain_settings.get("min_duration_ms")
        return 600.0 if value is None else float(value) / 1000  # LoadGen's mlperf.conf: 600 s
    except Exception:  # noqa: BLE001 - a progress line without an estimate is still a progress line
        return None


def facts_dict(facts: Any) -> dict[str, Any] | None:
    """The machine's facts for summary.json."""
    if facts is None:
        return None
    return {
        "source": facts.source,
        "hostname": facts.hostname,
        "os": facts.os,
        "python": facts.python,
        "cpu_model": facts.cpu_model,
        "cpu_count": facts.cpu_count,
        "memory_total_gib": facts.memory_total_gib,
        "driver_version": facts.driver_version,
        "cuda_driver_version": facts.cuda_driver_version,
        "gpus": [
            {
                "index": g.index,
                "name": g.name,
                "memory_total_mib": g.memory_total_mib,
                "compute_capability": g.compute_capability,
                "power_limit_w": g.power_limit_w,
            }
            for g in facts.gpus
        ],
        "gpu_error": facts.gpu_error,
        "software": dict(facts.software or {}),
    }


__all__ = ["REPORT_ATTR", "case_context", "expected_seconds", "facts_dict"]
