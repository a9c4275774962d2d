"""``--mlperf-explain``: what each selected item would run with, and why, without running it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ..keys import CASE_KEY

if TYPE_CHECKING:
    from ..session import MlperfSession
    from ..suite.model import Case


def explain_items(session: MlperfSession, items: list[pytest.Item]) -> list[str]:
    """Every selected mlperf item's explanation, and a closing line."""
    lines: list[str] = []
    for item in items:
        if CASE_KEY in item.stash:
            lines += explain_case(item.nodeid, item.stash[CASE_KEY], session)
    lines.append(f"--mlperf-explain: {len(items)} item(s) explained, nothing was run")
    return lines


def explain_case(nodeid: str, case: Case, session: MlperfSession) -> list[str]:
    """One item: its skip reason, then what its harness says it would run."""
    lines = [nodeid]
    if case.skip_reason:
        lines.append(f"  skipped: {case.skip_reason}")
        if case.definition is None:
            return lines
    return lines + session.harness_for(case).explain(case, session)
