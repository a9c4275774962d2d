"""README's CI examples parse as YAML, and every command they run is one the plugin knows; README's
summary.json schema is the one the plugin writes."""

from __future__ import annotations

import re
import shlex

import pytest
import yaml

from pytest_mlperf_nv.cli import build_parser
from pytest_mlperf_nv.report.summary import ItemOutcome, build_item, build_summary
from tests.helpers import REPO

README = (REPO / "README.md").read_text()


def _example(name: str) -> dict:
    match = re.search(rf"<!-- ci-example: {name} -->\s*```yaml\n(.*?)```", README, re.S)
    assert match, f"README has no {name} CI example"
    return yaml.safe_load(match[1])


def _github_commands(workflow: dict) -> list[str]:
    return [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]


def _gitlab_commands(pipeline: dict) -> list[str]:
    return [line for job in pipeline.values() if isinstance(job, dict) for line in job.get("script", [])]


def _substitute(command: str) -> str:
    """CI variables as the runner expands them (shard 1 of 4)."""
    command = re.sub(r"\$\{\{\s*matrix\.shard\s*\}\}", "1", command)
    command = re.sub(r"\$\{\{[^}]*\}\}", "X", command)
    return command.replace("${CI_NODE_INDEX}", "1").replace("${CI_NODE_TOTAL}", "4")


def _pytest_options(pytester: pytest.Pytester) -> set[str]:
    text = pytester.runpytest("--help").stdout.str()
    return set(re.findall(r"(--mlperf-[a-z-]+)", text))


def _check(commands: list[str], known: set[str]) -> int:
    checked = 0
    for command in commands:
        for part in re.split(r"&&|;|\n", _substitute(command)):
            words = shlex.split(part.replace(">>", " "))
            if not words:
                continue
            program = words[0].rsplit("/", 1)[-1]
            if program == "pytest":
                flags = {w.split("=", 1)[0] for w in words[1:] if w.startswith("--mlperf-")}
                assert flags <= known, f"unknown options {sorted(flags - known)} in: {part}"
                assert any(w.endswith(".yaml") for w in words), f"no suite named in: {part}"
                if "--mlperf-shard" in flags:
                    shard = words[words.index("--mlperf-shard") + 1]
                    assert re.fullmatch(r"\d+/\d+", shard), part
                checked += 1
            elif program == "mlperf-nv":
                args, rest = build_parser().parse_known_args(words[1:])
                assert not rest, f"mlperf-nv does not know {rest} in: {part}"
                checked += 1
    return checked


def test_github_actions_example(pytester: pytest.Pytester) -> None:
    workflow = _example("github")
    assert set(workflow["jobs"]) == {"mlperf", "merge"}
    matrix = workflow["jobs"]["mlperf"]["strategy"]["matrix"]["shard"]
    commands = _github_commands(workflow)
    assert any(f"/{len(matrix)}" in c and "--mlperf-shard" in c for c in commands)  # N = the matrix's size
    assert any("summary.md" in c and "GITHUB_STEP_SUMMARY" in c for c in commands)
    merge = " ".join(_github_commands({"jobs": {"merge": workflow["jobs"]["merge"]}}))
    assert all(f"mlperf-shard-{n}" in merge for n in matrix)  # every shard's artifact is merged
    benchmark = [
        s for s in workflow["jobs"]["merge"]["steps"] if "github-action-benchmark" in s.get("uses", "")
    ]
    assert benchmark and benchmark[0]["with"]["tool"] == "customBiggerIsBetter"
    assert _check(commands, _pytest_options(pytester)) == 2


def test_gitlab_ci_example(pytester: pytest.Pytester) -> None:
    pipeline = _example("gitlab")
    assert pipeline["stages"] == ["mlperf", "report"]
    assert pipeline["mlperf"]["parallel"] >= 2
    assert pipeline["merge"]["artifacts"]["reports"]["junit"] == "merged/junit.xml"
    assert _check(_gitlab_commands(pipeline), _pytest_options(pytester)) == 2


def _documented(table: str) -> set[str]:
    block = re.search(rf"<!-- summary-schema: {table} -->(.*?)<!-- /summary-schema -->", README, re.S)
    assert block, f"README documents no summary-schema {table} table"
    fields: set[str] = set()
    for line in block[1].splitlines():
        if line.startswith("| `"):
            fields |= set(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    return fields


def test_readme_documents_the_summary_schema_the_plugin_writes() -> None:
    summary = build_summary(
        [ItemOutcome("suites/x.yaml::a::Offline::performance", "skipped")], session={"id": "s"}, system=None
    )
    assert _documented("top") == set(summary) | {"merged_from"}
    item = build_item(ItemOutcome("suites/x.yaml::a::Offline::performance", "passed"))
    assert _documented("item") == set(item) | {"record_problem"}


def test_an_accuracy_target_comes_from_the_score_where_it_was_recorded() -> None:
    from pytest_mlperf_nv.report.summary import _recorded_target

    score = {"metric": "F1", "value": 90.8, "level": "99",
             "metrics": [{"name": "F1", "value": 90.8, "targets": {"99": 89.965, "99.9": 90.784}}]}
    assert _recorded_target(score, 1.0) == 89.965
    assert _recorded_target({**score, "level": "99.9"}, 1.0) == 90.784
    assert _recorded_target({"metric": "top1", "value": 97.2}, 90.0) == 90.0  # no per-level targets
