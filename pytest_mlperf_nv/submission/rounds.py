"""Which round a suite's submission is for, and which audits (compliance tests) its items need."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from ..benchmarks.mlperf import MLPERF_BENCHMARKS
from ..benchmarks.mlperf.seeds import round_of_loadgen_version
from .rules import ROUNDS

if TYPE_CHECKING:
    from ..suite.model import Suite

#: the rounds a tree can be written for, newest first
TREE_ROUNDS = ROUNDS
#: audits of a non-LLM benchmark that has no entry of its own (TEST05 ended with v4.1)
GENERIC_AUDITS = ("TEST01", "TEST04")


@lru_cache(maxsize=1)
def installed_loadgen() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mlcommons-loadgen")
    except PackageNotFoundError:
        return None


def default_round() -> str:
    """The round whose seeds the installed LoadGen carries (the newest round when unknown)."""
    installed = installed_loadgen()
    found = round_of_loadgen_version(installed) if installed else None
    return found if found in TREE_ROUNDS else TREE_ROUNDS[0]


def suite_round(suite: Suite) -> str:
    return suite.submission.get("round") or default_round()


def mlperf_name(suite: Suite, bench_name: str, bench_id: str | None = None) -> str | None:
    """The MLPerf benchmark a suite benchmark is entered as: itself, or its model_mapping entry."""
    mapping = suite.submission.get("model_mapping", {})
    for key in (bench_id, bench_name):
        if key and key in mapping:
            return mapping[key]
    return bench_name if bench_name in MLPERF_BENCHMARKS else None


def audits_for(suite: Suite, bench_id: str, bench_name: str) -> tuple[str, ...]:
    """The compliance tests of the benchmark in the suite's round.

    Where the registry does not know a round's list, the round it keeps the rules of is used
    (submission/rules.py); a benchmark that is not an MLPerf one (and not mapped to one) gets
    TEST01 and TEST04.
    """
    from .rules import compliance_tests

    name = mlperf_name(suite, bench_name, bench_id)
    if name is None:
        return GENERIC_AUDITS
    tests, _ = compliance_tests(MLPERF_BENCHMARKS[name], suite_round(suite))
    return GENERIC_AUDITS if tests is None else tuple(tests)
