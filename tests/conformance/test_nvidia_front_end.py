"""The plugin against NVIDIA's real front end (system detection and matching, the config registry and its
checks, argument parsing, field applicability), on the recorded and derived system snapshots.

Each test asks NVIDIA's own code through harness/nvidia/frontend.py, which replaces only the hardware
probes and the TensorRT action handlers.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from pytest_mlperf_nv.harness.nvidia import rules
from pytest_mlperf_nv.harness.nvidia.args import (
    BENCHMARKS,
    audit_harness_args,
    generate_engines_args,
    log_dir_name,
    run_harness_args,
)
from pytest_mlperf_nv.harness.nvidia.custom_system import build_definition, write_definition
from pytest_mlperf_nv.harness.nvidia.frontend import ask
from pytest_mlperf_nv.systems.snapshot import read_snapshot

from .conftest import Tree, checker_path
from .shipped import SNAPSHOTS, SUITE_SNAPSHOTS, load_shipped

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

NVIDIA_BENCHMARKS = ("resnet50", "retinanet", "bert", "3d-unet", "dlrm-v2", "gptj", "llama2-70b")
SCENARIOS = ("Offline", "Server", "SingleStream", "MultiStream")
#: systems standing for each of NVIDIA's system lists: listed for start_from_device and end_on_device,
#: listed for start_from_device only, listed for neither
SYSTEM_KINDS = ("A100_SXM_80GBx1", "H100_SXM_80GBx1", "L4x1")


def _facts(name: str) -> Any:
    return read_snapshot(SNAPSHOTS / f"{name}.json")


def _check_answer(answer: dict, *, config_prefix: str, knobs: dict[str, Any], component: str,
                  left_out: tuple[str, ...] = ()) -> None:
    where = " ".join(answer["argv"])
    assert "error" not in answer, f"{where}: NVIDIA's code raised {answer.get('error')}"
    assert len(answer["dispatched"]) == 1, f"{where}: NVIDIA dispatched {answer['dispatched']} " \
                                           f"(warnings: {answer['warnings']})"
    record = answer["dispatched"][0]
    assert record["dropped"] == [], f"{where}: NVIDIA's code drops {record['dropped']}"
    assert record["config"].startswith(config_prefix), f"{where}: NVIDIA used {record['config']}"
    skipped = {entry.split(":", 1)[0] for entry in left_out}
    conf = record["conf"]
    action = record["action"]
    for name, value in knobs.items():
        rule = rules.RULES.get(name)
        # an audit is a harness run (NVIDIA's _HARNESS_ACTIONS)
        read_here = rule is None or action.replace("run_audit_harness", "run_harness") in rule.actions
        if name in skipped or not read_here:
            continue
        expected = {component: int(value)} if name == "gpu_batch_size" else value
        assert conf.get(name) == expected, (f"{where}: {name} reached NVIDIA as {conf.get(name)!r}, "
                                            f"not {expected!r}")


def _arguments(case: Any, version: str, custom_config: bool) -> list[tuple[str, list[str]]]:
    knobs = {name: sourced.value for name, sourced in case.knobs.items()}
    run = run_harness_args(case.benchmark, case.scenario, case.mode, knobs, version=version, profile="quick",
                           quick_duration_ms=1000, custom_config=custom_config)
    out = [("run_harness", list(run.args)),
           ("generate_engines", list(generate_engines_args(case.benchmark, case.scenario, knobs,
                                                           version=version,
                                                           custom_config=custom_config).args))]
    if case.mode == "performance":
        out.append(("run_audit_harness", list(audit_harness_args(run, "TEST01").args)))
    return out


@pytest.mark.parametrize("suite_name", sorted(SUITE_SNAPSHOTS))
def test_every_shipped_item_parses_applies_and_resolves_to_a_config(nvidia_tree: Tree, suite_name: str,
                                                                    tmp_path: Path) -> None:
    """Every argument list the plugin emits for a shipped suite's items, on the snapshot of its GPU:
    NVIDIA's parser reads every flag, every knob reaches NVIDIA's effective config with its value,
    and the case resolves to a registered config (NVIDIA's own where NVIDIA knows the machine, else
    the generated custom one, which NVIDIA's registry accepts)."""
    nvidia_tree.require_front_end()
    version = nvidia_tree.version
    for snapshot in SUITE_SNAPSHOTS[suite_name]:
        facts = _facts(snapshot)
        suite = load_shipped(suite_name, facts, version)
        cases = [c for c in suite.cases if not c.skip_reason]
        skipped = [c for c in suite.cases if c.skip_reason]
        queries = []
        for case in cases + skipped:
            for action, argv in _arguments(case, version, custom_config=False):
                queries.append({"id": f"{case.nodeid_suffix}:{action}", "argv": argv})
        plain = ask(nvidia_tree.path, facts=facts, queries=queries)
        assert "error" not in plain, plain.get("error")
        answers = {a["id"]: a for a in plain["answers"]}
        matched = plain["systems"]["matched"]
        for case in skipped:
            # The plugin skips what NVIDIA has no config for: NVIDIA agrees.
            answer = answers[f"{case.nodeid_suffix}:run_harness"]
            no_config = not answer["dispatched"] and any("No registered config" in w
                                                         for w in answer["warnings"])
            assert answer.get("unknown_system") or no_config, (snapshot, case.nodeid_suffix, answer)
        if matched is not None:
            for case in cases:
                component = BENCHMARKS[case.benchmark][1]
                knobs = {n: s.value for n, s in case.knobs.items()}
                for action, _ in _arguments(case, version, False):
                    _check_answer(answers[f"{case.nodeid_suffix}:{action}"], knobs=knobs, component=component,
                                  config_prefix=f"configs.{component}.{case.scenario}.")
            continue
        # NVIDIA does not know the machine: the plugin's auto mode generates a custom system per case.
        definition_dir = tmp_path / f"{suite_name}-{snapshot}"
        key, expected = None, {}
        for case in cases:
            knobs = {n: s.value for n, s in case.knobs.items()}
            definition = build_definition(facts, case.benchmark, case.scenario, knobs, case_id=case.id,
                                          version=version)
            key = definition.key
            written = write_definition(tmp_path / "definitions", definition)
            shutil.copytree(written, definition_dir, dirs_exist_ok=True)
            expected[case.nodeid_suffix] = (knobs, definition.left_out)
        if key is None:
            continue
        queries = [q for q in queries if q["id"].rsplit(":", 1)[0] in expected]
        custom = ask(nvidia_tree.path, facts=facts, custom_definition=definition_dir, custom_systems=[key],
                     queries=queries)
        assert "error" not in custom, custom.get("error")
        assert custom["systems"]["matched"] == key, (snapshot, custom["systems"]["matched"])
        own = custom["custom"][key]
        assert own["own_member"] and own["equal_to"] == [] and own["matches_detected"], own
        answers = {a["id"]: a for a in custom["answers"]}
        for case in cases:
            component = BENCHMARKS[case.benchmark][1]
            knobs, left_out = expected[case.nodeid_suffix]
            for action, _ in _arguments(case, version, False):
                _check_answer(answers[f"{case.nodeid_suffix}:{action}"], knobs=knobs, component=component,
                              config_prefix=f"custom_configs.{component}.{case.scenario}.custom.{key}",
                              left_out=left_out)


@pytest.mark.parametrize("snapshot", ["h200x1", "h100x1", "l4x1", "rtx4090x1", "a100-sxm80x1", "t4x1"])
def test_every_generated_custom_system_is_its_own_and_matches_only_its_machine(nvidia_tree: Tree,
                                                                               snapshot: str,
                                                                               tmp_path: Path) -> None:
    """The generated system registers as a KnownSystem member of its own (equal to none of NVIDIA's
    systems, which would make it an alias), matches the snapshot, and its config passes NVIDIA's
    checks, also under custom_system: always on a machine NVIDIA knows."""
    nvidia_tree.require_front_end()
    facts = _facts(snapshot)
    knobs = {"gpu_batch_size": 8, "offline_expected_qps": 100.0}
    definition = build_definition(facts, "resnet50", "Offline", knobs, version=nvidia_tree.version)
    path = write_definition(tmp_path, definition)
    argv = list(run_harness_args("resnet50", "Offline", "performance", knobs, version=nvidia_tree.version,
                                 profile="quick", custom_config=True).args)
    answer = ask(nvidia_tree.path, facts=facts, custom_definition=path, custom_systems=[definition.key],
                 queries=[{"id": "run", "argv": argv}])
    assert "error" not in answer, answer.get("error")
    own = answer["custom"][definition.key]
    assert own["registered"] and own["own_member"], own
    assert own["equal_to"] == [] and own["equal_to_deprecated"] == [], own
    assert own["matches_detected"], own
    assert answer["systems"]["aliases"] == {}
    run = answer["answers"][0]
    assert "error" not in run, run["error"]
    if answer["systems"]["matched"] == definition.key:
        assert run["dispatched"][0]["config"].endswith(f"custom.{definition.key}")
    else:
        # NVIDIA matches its own systems first: the custom one is for machines it does not know.
        assert answer["systems"]["matched"] in rules.CONFIGS_V41 or answer["systems"]["matched"]


def test_field_rules_are_nvidias(nvidia_tree: Tree, tmp_path: Path) -> None:
    """rules.py says a field applies exactly where NVIDIA's get_applicable_fields says so: per benchmark,
    scenario, action and system (a system listed for start_from_device / end_on_device, one that is not,
    and a generated custom system)."""
    nvidia_tree.require_front_end()
    facts = _facts("rtx4090x1")
    knobs = {"gpu_batch_size": 8, "offline_expected_qps": 1.0}
    definition = build_definition(facts, "resnet50", "Offline", knobs, version=nvidia_tree.version)
    path = write_definition(tmp_path, definition)
    asks = [{"benchmark": b, "scenario": s, "accuracy": 0.99, "system": system}
            for b in NVIDIA_BENCHMARKS for s in SCENARIOS for system in (*SYSTEM_KINDS, definition.key)]
    answer = ask(nvidia_tree.path, facts=facts, custom_definition=path, fields=asks)
    assert "error" not in answer, answer.get("error")
    wrong = []
    for entry in answer["fields"]:
        assert "error" not in entry, entry
        system = None if entry["system"] == definition.key else entry["system"]
        for name in [*rules.RULES, *rules.NOT_FIELDS]:
            for action in ("config", "generate_engines", "run_harness"):
                nvidia_reads = name in entry["fields"][action]
                ours = rules.inapplicable(name, entry["benchmark"], entry["scenario"], system,
                                          None if action == "config" else action) is None
                if nvidia_reads != ours:
                    wrong.append(f"{name} {entry['benchmark']} {entry['scenario']} {entry['system']} "
                                 f"{action}: "
                                 f"NVIDIA {'reads' if nvidia_reads else 'drops'} it")
    assert not wrong, "\n".join(wrong[:40])


def test_config_table_is_nvidias_registry(nvidia_tree: Tree) -> None:
    """rules.CONFIGS (which the plugin uses to skip what NVIDIA cannot run) is NVIDIA's registry."""
    nvidia_tree.require_front_end()
    table = rules.CONFIGS.get(nvidia_tree.version)
    if table is None:
        pytest.skip(f"the plugin carries no config table for {nvidia_tree.version}")
    asks = [{"benchmark": b, "scenario": s} for b in NVIDIA_BENCHMARKS for s in SCENARIOS]
    answer = ask(nvidia_tree.path, facts=_facts("h100x1"), registered=asks)
    assert "error" not in answer, answer.get("error")
    wrong = []
    for entry in answer["registered"]:
        assert "error" not in entry, entry
        for system, ours in table.items():
            theirs = sorted(w.split("_", 1)[1].rsplit("_", 1)[0] for w in entry["systems"].get(system, [])
                            if w.startswith(("lwis_", "custom_")) and w.endswith("_MaxP"))
            mine = sorted(ours.get((entry["benchmark"], entry["scenario"]), ()))
            if theirs != mine:
                wrong.append(f"{system} {entry['benchmark']} {entry['scenario']}: NVIDIA {theirs}, "
                             f"table {mine}")
    assert not wrong, "\n".join(wrong)


def test_log_compliance_log_and_metadata_locations(nvidia_tree: Tree) -> None:
    """Where NVIDIA's harness writes a run's LoadGen logs and metadata.json, and an audit's: what
    harness/nvidia/run.py looks for (<LOG_DIR>/<system>_TRT/<benchmark_full>/<Scenario>,
    build/compliance_logs/<TEST>/<system>_TRT/...)."""
    nvidia_tree.require_front_end()
    extra = checker_path()
    if not extra:
        pytest.skip("NVIDIA's code/common/harness.py imports MLCommons' submission checker: set "
                    "MLPERF_NV_OFFICIAL_CHECKER to a mlcommons/inference checkout (tools/submission)")
    queries = []
    for benchmark in ("resnet50", "bert-99", "bert-99.9", "3d-unet-99", "dlrm-v2-99.9", "gptj-99"):
        run = run_harness_args(benchmark, "Offline", "performance", {}, version=nvidia_tree.version,
                               profile="quick")
        queries.append({"id": benchmark, "argv": list(run.args)})
        queries.append({"id": f"{benchmark}:TEST01", "argv": list(audit_harness_args(run, "TEST01").args)})
    answer = ask(nvidia_tree.path, facts=_facts("h100x1"), extra_path=extra, queries=queries)
    assert "error" not in answer, answer.get("error")
    system = answer["systems"]["matched_id"]
    for entry in answer["answers"]:
        benchmark, _, audit = entry["id"].partition(":")
        assert "error" not in entry and len(entry["dispatched"]) == 1, entry
        root = f"build/compliance_logs/{audit}" if audit else os.environ.get("LOG_DIR", "build/logs/default")
        expected = f"{root}/{system}_TRT/{log_dir_name(benchmark)}/Offline"
        assert entry["dispatched"][0]["log_dir"] == expected, entry["dispatched"][0]["log_dir"]
