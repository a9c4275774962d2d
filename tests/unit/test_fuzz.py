"""Fuzzing with a bounded budget: the suite loader, LoadGen's log parsers, run records and the tree
manifest take generated and mutated inputs and raise nothing but the project's own errors.

The budget per target is MLPERF_NV_FUZZ_EXAMPLES (default 60, derandomized so that CI runs the
same inputs every time); benchmarks/fuzz_budget.py runs the long local campaign. Every case a
campaign found is committed under tests/data/fuzz_corpus/ and replayed here.
"""

from __future__ import annotations

import os

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="fuzzing needs hypothesis (pip install -e '.[test]')")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.fuzz_targets import TARGETS, corpus_cases, read_case, run_target  # noqa: E402

BUDGET = int(os.environ.get("MLPERF_NV_FUZZ_EXAMPLES", "60"))


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_fuzz_raises_only_project_errors(target: str) -> None:
    _, strategy = TARGETS[target]

    @settings(max_examples=BUDGET, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(strategy())
    def check(value: object) -> None:
        run_target(target, value)

    check()


CASES = corpus_cases()


@pytest.mark.parametrize(("target", "path"), CASES, ids=[f"{t}-{p.stem}" for t, p in CASES])
def test_corpus_case_raises_only_project_errors(target: str, path) -> None:
    run_target(target, read_case(target, path))
