"""Which results a submission tree can take: the MLPerf benchmark a result is entered as, its
scenario in the round and the division, its Server latency bound, and its runs' reasons not to
be submitted.
"""

from __future__ import annotations

from typing import Any

from ..benchmarks.mlperf import MLPERF_BENCHMARKS
from ..suite.model import Case, Suite
from .rounds import mlperf_name
from .runs import Run

#: not_submittable_because reasons that no rerun can lift: such runs are left out of the tree
NEVER = ("synthetic data", "random model weights")



def eligibility(suite: Suite, case: Case, division: str, round_: str, system_type: str
                 ) -> tuple[str | None, str, Any]:
    """(why it cannot be entered, its directory name in the tree, its MLPerf benchmark)."""
    name = mlperf_name(suite, case.benchmark, case.id)
    if name is None:
        return (f"{case.benchmark} is not an MLPerf benchmark; enter it in the open division with "
                f"submission.model_mapping: {{{case.id}: <MLPerf benchmark>}}"), case.id, None
    bench = MLPERF_BENCHMARKS[name]
    info = bench.rounds.get(round_)
    if info is not None and info.present is False:
        note = f" ({info.note})" if info.note else ""
        return f"{name} is not a benchmark of {round_}{note}", case.id, bench
    own_model = name != case.benchmark
    if own_model and division == "closed":
        return (f"{case.benchmark} is entered as {name} through model_mapping, which only the open division "
                "allows: set submission.division: open"), case.id, bench
    if division == "closed":
        from .rules import scenario_rules

        required, optional, source = scenario_rules(bench, round_, system_type)
        allowed = set(required or ()) | set(optional or ())
        if required is not None and case.scenario not in allowed:
            table = f"; the {source} table" if source != round_ else ""
            return (f"{case.scenario} is not a scenario of {name} for a {system_type} system in {round_} "
                    f"(it has {', '.join(sorted(allowed)) or 'none'}{table}; set "
                    "submission.system.system_type if the system is another type)"), bench.checker_name, bench
    return None, (case.id if own_model else bench.checker_name), bench


def beyond_latency_bound(bench: Any, scenario: str, runs: dict[str, Run]) -> str | None:
    """Why a Server result cannot be entered as ``bench``: its target latency is above the bound.

    A suite may run a smoke benchmark at a wider bound than the MLPerf benchmark it stands in
    for (a busy CI runner's scheduler alone can exceed 15 ms); no checker would take it.
    """
    bound = getattr(bench, "server_latency_bound_ns", None)
    perf = runs.get("performance")
    if scenario not in ("Server", "Interactive") or not bound or perf is None:
        return None
    from ..harness.logs import LogError, read_detail

    try:
        target = read_detail(perf.log_dir / "mlperf_log_detail.txt")[0].get("effective_target_latency_ns")
    except LogError:
        return None  # judged with the other log problems
    if not isinstance(target, (int, float)) or target <= bound:
        return None
    return (f"its Server latency bound {target / 1e6:g} ms is above {bench.checker_name}'s "
            f"{bound / 1e6:g} ms, the bound of the benchmark it is entered as; set server_target_latency_ns "
            f"to at most {bound} to enter it")


def not_submittable(runs: dict[str, Run], *, mlperf_mapped: bool) -> list[str]:
    reasons: list[str] = []
    for run in runs.values():
        for reason in run.record.not_submittable_because:
            if mlperf_mapped and reason.endswith("is not an MLPerf benchmark"):
                continue  # entered through model_mapping
            if reason not in reasons:
                reasons.append(reason)
    return reasons
