"""One result's files in the submission tree: logs copied (accuracy logs hashed and truncated in
the copies), measurements, the README that says how to reproduce it, and the code directory.
"""

from __future__ import annotations

import json
import platform
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..record import RunRecord
from ..suite.model import Case, Suite
from . import systemdesc
from .layout import Layout
from .runs import ACCURACY_LOG, DETAIL_FILE, SUMMARY_FILE, Run

if TYPE_CHECKING:
    from ..harness.api import Harness



def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def write_result(stage: Path, layout: Layout, model: str, scenario: str, runs: dict[str, Run],
                  suite: Suite, case: Case, profile: str, why_not: list[str], overrides: list[str],
                  harness: Harness) -> dict[Path, Path]:
    """Copy one result into the tree; returns {accuracy log in the tree: the full log it came from}."""
    from .truncate import hash_and_truncate

    originals: dict[Path, Path] = {}
    result = stage / layout.result_dir(model, scenario)
    perf = runs["performance"]
    for name in (SUMMARY_FILE, DETAIL_FILE):
        _copy(perf.log_dir / name, result / "performance" / "run_1" / name)
    measurements = stage / layout.measurements_dir(model, scenario)
    user_conf = _first_file(perf.run_dir / "user.conf", perf.log_dir / "user.conf")
    if user_conf is not None:
        _copy(user_conf, measurements / "user.conf")
    else:
        (measurements / "user.conf").parent.mkdir(parents=True, exist_ok=True)
        (measurements / "user.conf").write_text(f"# {scenario}: NVIDIA's code generated the settings; "
                                                "see README.md\n")
    write_json(stage / layout.measurements_json(model, scenario),
                systemdesc.measurements(suite, case, perf.record, harness))
    (measurements / "README.md").write_text(_readme(suite, case, model, scenario, runs, profile, why_not,
                                                    overrides, layout))
    if "accuracy" in runs:
        acc = runs["accuracy"]
        target = result / "accuracy"
        for name in (SUMMARY_FILE, DETAIL_FILE, ACCURACY_LOG):
            _copy(acc.log_dir / name, target / name)
        accuracy_txt = _first_file(acc.log_dir / "accuracy.txt", acc.run_dir / "accuracy.txt")
        if accuracy_txt is not None:
            _copy(accuracy_txt, target / "accuracy.txt")
        else:
            (target / "accuracy.txt").write_text(_accuracy_line(acc.record))
        hash_and_truncate(target)
        originals[target / ACCURACY_LOG] = acc.log_dir / ACCURACY_LOG
    for test in ("TEST01", "TEST04", "TEST06"):
        if test not in runs:
            continue
        run = runs[test]
        target = stage / layout.compliance_dir(model, scenario, test)
        for name in ("verify_accuracy.txt", "verify_performance.txt"):
            if (run.run_dir / name).is_file():
                _copy(run.run_dir / name, target / name)
        for name in (SUMMARY_FILE, DETAIL_FILE):
            _copy(run.log_dir / name, target / "performance" / "run_1" / name)
        if test in ("TEST01", "TEST06"):
            _copy(run.log_dir / ACCURACY_LOG, target / "accuracy" / ACCURACY_LOG)
            verification = (run.record.audit or {}).get("verification") or {}
            accuracy = verification.get("accuracy") or {}
            mismatches = accuracy.get("num_perf_log_data_mismatch", "unknown")
            (target / "accuracy" / "accuracy.txt").write_text(
                f"{test}: responses LoadGen sampled during the audit run, compared with the accuracy run "
                f"(mismatches: {mismatches}); see ../verify_accuracy.txt\n")
            hash_and_truncate(target / "accuracy")
            originals[target / "accuracy" / ACCURACY_LOG] = run.log_dir / ACCURACY_LOG
    return originals


def _accuracy_line(record: RunRecord) -> str:
    score = record.accuracy or {}
    return f"{score.get('metric', 'accuracy')}={score.get('value')}\n"


def _readme(suite: Suite, case: Case, model: str, scenario: str, runs: dict[str, Run], profile: str,
            why_not: list[str], overrides: list[str], layout: Layout) -> str:
    perf = runs["performance"].record
    loadgen = perf.loadgen_version or "unknown"
    suite_arg = _display_path(suite.path)
    command = f"pytest {suite_arg} -k \"{case.id} and {scenario}\""
    for text in overrides:
        command += f" --mlperf-set '{text}'"
    if profile != (suite.profile.value if suite.profile else "quick"):
        command += f" --mlperf-profile {profile}"
    lines = [f"# {model} {scenario} on {layout.system}", "",
             f"Produced by pytest-mlperf-nv {__version__} from the suite `{suite.path.name}` "
             f"(sha256 {suite.sha256[:16]}...), benchmark `{case.id}`, harness `{suite.harness}`, "
             f"profile `{profile}`, for MLPerf Inference {layout.round}.", "",
             "## Reproduce", "", "```",
             *_install_lines(loadgen),
             command, "```", "",
             "Runs: " + ", ".join(sorted(runs)) + f". Host: {platform.node() or 'unknown'}.", ""]
    if why_not:
        lines += ["## Not submittable", "", *[f"- {reason}" for reason in why_not], ""]
    return "\n".join(lines)


def _install_lines(loadgen: str) -> list[str]:
    """How to install what made the result: this plugin's own source (no index serves it) and LoadGen."""
    from ..provenance import reproduce_lines

    version = loadgen.split()[0] if loadgen and loadgen != "unknown" else None
    return reproduce_lines(version)


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def write_code(stage: Path, layout: Layout, suite: Suite, models_in_tree: set[str],
                harness: Harness) -> None:
    """The code directory the round requires: what ran, and the suite that configured it."""
    models = sorted(models_in_tree) if not layout.v6 else [""]
    for model in models:
        code = stage / layout.code_dir(model)
        code.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(suite.path, code / f"{suite.path.stem}.suite.yaml")
        body = harness.code_readme(suite)
        install = "\n".join(_install_lines(""))
        suite_file = f"{suite.path.stem}.suite.yaml"
        (code / "README.md").write_text(f"# Implementation\n\n{body}\n\nSuite: `{suite_file}`. "
                                        f"pytest-mlperf-nv's source:\n\n```\n{install}\n```\n")


def _first_file(*paths: Path) -> Path | None:
    """The first of ``paths`` that is a file (a run's file in its run dir or its log dir)."""
    return next((path for path in paths if path.is_file()), None)
