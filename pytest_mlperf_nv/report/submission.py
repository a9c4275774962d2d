"""Session end (controller): write the submission tree, check it, and say what is in it and why not."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..session import MlperfSession
    from ..suite.model import Suite

from ..errors import MlperfError


def write_submission(state: MlperfSession, suites: list[Suite]) -> tuple[list[Any], bool]:
    """Build and check the trees of the session's suites; (reports, whether an official tree failed)."""
    from ..submission.tree import build_trees, write_report

    pairs = [(suite, state.settings.sourced("profile", suite.profile).value) for suite in suites]
    if not pairs:
        return [], False
    overrides = [o.text for o in state.overrides]
    try:
        facts = state.system()
    except Exception:  # noqa: BLE001 - a description without detected facts is still a description
        facts = None
    reports = build_trees(state.out, pairs, facts, state.get_registry(), overrides=overrides)
    # From here on the tree is written: whatever fails is said as such, never "not written".
    _check(reports)
    try:
        write_report(state.out, reports)
    except (OSError, MlperfError) as exc:
        for report in reports:
            written = "the tree was written, but " if report.root is not None else ""
            report.errors.append(f"{written}{state.out / 'submission-report.json'} could not be written: "
                                 f"{exc}")
    failed = any(r.profile == "official" and (r.errors or any(f["severity"] == "error" for f in r.findings))
                 for r in reports)
    # A broken suite fails the session only where the tree was meant to be submitted.
    return reports, failed


def _check(reports: list[Any]) -> None:
    from ..submission.check import check_tree

    for report in reports:
        if report.root is None:
            continue
        try:
            result = check_tree(report.root, report.round, originals=report.originals)
        except Exception as exc:  # noqa: BLE001 - the tree is written; a checker failure must not hide it
            report.errors.append(f"the tree was written to {report.root}, but the own check could not "
                                 f"read it: {type(exc).__name__}: {str(exc)[:300]}; run mlperf-nv "
                                 f"check-submission {report.root.parent.parent} to see more")
            continue
        # The submitter dir may hold other suites' systems: keep this system's findings (and the
        # submitter-wide ones, e.g. src/).
        report.findings = [f.as_dict() for f in result.findings if _belongs(f.result, report.system)]


def _belongs(label: str, system: str) -> bool:
    parts = str(label or "").split("/")  # <division>/<submitter>/<system>/<benchmark>/<Scenario>
    return len(parts) < 3 or parts[2] == system


def write_tree_summary(terminal: Any, reports: list[Any]) -> None:
    terminal.section("MLPerf submission", sep="=")
    for report in reports:
        where = report.root if report.root is not None else "(no tree written)"
        terminal.line(f"{report.suite}: {report.division}/{report.submitter}, system {report.system}, "
                      f"round {report.round}, profile {report.profile}: {where}")
        terminal.line(f"  results in the tree: {len(report.included)}"
                      + (f" ({', '.join(report.included)})" if report.included else ""))
        if report.profile != "official" and report.included:
            terminal.line(f"  NOT SUBMITTABLE: profile {report.profile} (see each result's README.md)")
        for label, why in report.left_out:
            terminal.line(f"  left out: {label}: {why}")
        for error in report.errors:
            terminal.line(f"  ERROR: {error}")
        for note in report.notes:
            terminal.line(f"  {note}")
        if report.missing_fields and report.profile != "official":
            terminal.line(f"  system fields to set for an official run: {', '.join(report.missing_fields)}")
        errors = [f for f in report.findings if f["severity"] == "error"]
        if report.root is not None:
            kinds = Counter(f["kind"] for f in errors)
            unavoidable = {f["kind"] for f in errors if f["unavoidable_for_short_runs"]}
            if not errors:
                terminal.line("  own check: no errors")
            else:
                listed = ", ".join(f"{k} ({n})" for k, n in sorted(kinds.items()))
                terminal.line(f"  own check: {len(errors)} error(s): {listed}")
                if set(kinds) <= unavoidable and report.profile != "official":
                    terminal.line("  (all of them are kinds a short run cannot avoid)")
                else:
                    for finding in errors:
                        if not finding["unavoidable_for_short_runs"]:
                            terminal.line(f"    {finding['result']}: {finding['message']}")
    terminal.line("details: submission-report.json next to the tree; "
                  "re-check with: mlperf-nv check-submission <tree>")
