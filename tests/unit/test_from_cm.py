"""``from_cm``: CM/MLC command lines of the original system -> suite YAML.

The corpus (tests/data/from_cm/corpus.yaml) holds real command lines from MLCommons documentation
and results, each with its source; golden/<id>.yaml is the suite each must produce.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pytest_mlperf_nv.cm import CmTranslationError, cm_main, from_cm
from pytest_mlperf_nv.errors import MlperfError
from pytest_mlperf_nv.suite.knobs import KNOBS, SCENARIOS
from pytest_mlperf_nv.suite.schema import SYSTEM_KEYS, TOP_KEYS
from pytest_mlperf_nv.systems.profiles import load_profiles

DATA = Path(__file__).resolve().parent.parent / "data" / "from_cm"
CORPUS = yaml.safe_load((DATA / "corpus.yaml").read_text())
COMMANDS = CORPUS["commands"]
ERRORS = CORPUS["errors"]


def scenario_map(bench: dict) -> dict[str, dict]:
    """The scenarios of a suite benchmark as {name: knobs}, whether given as a list or a mapping."""
    value = bench["scenarios"]
    if isinstance(value, list):
        return {s: {} for s in value}
    return {s: (knobs or {}) for s, knobs in value.items()}


def check_suite_shape(doc: dict) -> None:
    """What every translated suite must look like (suite/schema.py's vocabulary)."""
    assert doc["mlperf_suite"] == 1
    assert doc["harness"] == "nvidia"
    assert set(doc) <= {*TOP_KEYS, "nvidia"}  # nvidia: the harness's own section
    assert set(doc["system"]) <= set(SYSTEM_KEYS)
    gpu = doc["system"]["gpu"]
    assert gpu == "auto" or gpu in load_profiles()
    assert doc.get("profile", "quick") in ("quick", "official")
    assert set(doc.get("modes", ["performance"])) <= {"performance", "accuracy", "compliance"}
    assert len(doc["benchmarks"]) == 1
    for body in doc["benchmarks"].values():
        for key in body:
            assert key == "scenarios" or key in KNOBS, key
        for scenario, knobs in scenario_map(body).items():
            assert scenario in SCENARIOS
            for knob in knobs:
                assert scenario in KNOBS[knob].scenarios


# ---------------------------------------------------------------------------------------------
# the corpus


def test_corpus_is_real_and_sourced() -> None:
    assert len(COMMANDS) >= 10
    ids = [entry["id"] for entry in COMMANDS + ERRORS]
    assert len(ids) == len(set(ids))
    for entry in COMMANDS + ERRORS:
        assert re.match(r"^[\w.-]+/[\w.-]+: \S+$", entry["source"]), entry["source"]
        assert re.match(r"^(cm|cmr|mlc|mlcr|mlcrr) ", entry["command"])
    goldens = {p.stem for p in (DATA / "golden").glob("*.yaml")}
    assert goldens == {entry["id"] for entry in COMMANDS}


@pytest.mark.parametrize("entry", COMMANDS, ids=[e["id"] for e in COMMANDS])
def test_corpus_command_gives_golden_suite(entry: dict) -> None:
    golden = (DATA / "golden" / f"{entry['id']}.yaml").read_text()
    assert from_cm(entry["command"]) == golden


@pytest.mark.parametrize("entry", COMMANDS, ids=[e["id"] for e in COMMANDS])
def test_golden_suite_parses_with_expected_keys(entry: dict) -> None:
    doc = yaml.safe_load((DATA / "golden" / f"{entry['id']}.yaml").read_text())
    check_suite_shape(doc)
    expect = entry["expect"]
    assert list(doc["benchmarks"]) == [expect["benchmark"]]
    body = doc["benchmarks"][expect["benchmark"]]
    assert list(scenario_map(body)) == expect["scenarios"]
    assert doc["system"]["gpu"] == expect["gpu"]
    assert doc.get("profile") == expect.get("profile")
    assert doc.get("modes") == expect.get("modes")
    for scenario, knobs in expect.get("knobs", {}).items():
        assert scenario_map(body)[scenario] == knobs


def test_submission_identity_round_and_compliance_come_through() -> None:
    doc = parse("cmr \"run-mlperf,inference,_r4.1-dev\" --model=resnet50 --scenario=Offline "
                "--implementation=nvidia --division=closed --submitter=ACME --hw_name=lab-h100 "
                "--mode=compliance")
    assert doc["submission"] == {"division": "closed", "submitter": "ACME", "system_name": "lab-h100"}
    assert doc["nvidia"] == {"version": "v4.1"}
    assert doc["modes"] == ["compliance"]


def test_code_of_a_round_the_plugin_does_not_drive_is_refused_without_forcing_a_version() -> None:
    with pytest.raises(CmTranslationError) as info:
        from_cm("cmr \"run-mlperf,inference,_r5.1-dev\" --model=resnet50 --implementation=nvidia")
    message = str(info.value)
    assert "NVIDIA's code of round 5.1 is not one this plugin drives" in message
    assert "use an inference_results_v4.1 or v5.0 checkout" in message


@pytest.mark.parametrize("entry", ERRORS, ids=[e["id"] for e in ERRORS])
def test_corpus_error_lists_every_unmappable_item(entry: dict) -> None:
    with pytest.raises(CmTranslationError) as info:
        from_cm(entry["command"])
    problems = info.value.problems
    for item in entry["problems"]:
        assert any(p.startswith(item) for p in problems), (item, problems)
    assert len(problems) == len(entry["problems"])
    for item in entry["problems"]:
        assert item in str(info.value)


# ---------------------------------------------------------------------------------------------
# the forms of the brief and of the seed


def parse(command: str) -> dict:
    doc = yaml.safe_load(from_cm(command))
    check_suite_shape(doc)
    return doc


def test_harness_command_with_flags() -> None:
    doc = parse("cm run script --tags=reproduce,mlperf,inference,nvidia,harness,_l4,_resnet50,_server,"
                "_batch_size.16 --gpu_batch_size=16 --scenario=Server --mode=performance "
                "--server_target_qps=12000")
    assert doc["system"] == {"gpu": "l4"}
    assert doc["modes"] == ["performance"]
    assert doc["benchmarks"] == {"resnet50": {"gpu_batch_size": 16,
                                              "scenarios": {"Server": {"server_target_qps": 12000}}}}


def test_cmr_form_with_run_stage() -> None:
    doc = parse('cmr "reproduce mlperf inference nvidia harness _run_harness _l4 _resnet50 _offline"')
    assert doc["system"]["gpu"] == "l4"
    assert doc["benchmarks"] == {"resnet50": {"scenarios": ["Offline"]}}
    assert doc["modes"] == ["performance"]  # the seed's default --mode


def test_seed_defaults_without_model_or_scenario() -> None:
    doc = parse("cm run script --tags=reproduce,mlcommons,mlperf,inference,harness,nvidia-harness,nvidia")
    assert doc["benchmarks"] == {"resnet50": {"scenarios": ["Offline"]}}
    assert doc["system"]["gpu"] == "auto"


def test_mlc_forms_are_equivalent() -> None:
    flags = ("--model=resnet50 --implementation=nvidia --framework=tensorrt --category=edge "
             "--scenario=Offline --execution_mode=test --device=cuda --docker --quiet "
             "--test_query_count=1000")
    mlcr = from_cm(f"mlcr run-mlperf,inference,_find-performance,_full,_r5.0-dev {flags}")
    mlc = from_cm(f"mlc run script --tags=run-mlperf,inference,_find-performance,_full,_r5.0-dev {flags}")
    cm = from_cm(f"cm run script --tags=run-mlperf,inference,_find-performance,_full,_r5.0-dev {flags}")

    def strip(text: str) -> str:
        return "\n".join(line for line in text.splitlines() if not line.startswith("#"))

    assert strip(mlcr) == strip(mlc) == strip(cm)
    doc = yaml.safe_load(mlcr)
    assert doc["profile"] == "quick" and doc["modes"] == ["performance"]
    assert doc["system"] == {"gpu": "auto", "type": "edge"}
    assert doc["benchmarks"]["resnet50"]["min_query_count"] == 1000
    assert doc["benchmarks"]["resnet50"]["max_query_count"] == 1000


def test_harness_flags_map_to_knobs() -> None:
    doc = parse("cmr \"reproduce mlperf inference nvidia harness _t4 _bert-99 _bert_ _singlestream\" "
                "--singlestream_target_latency=0.23 --use_graphs=yes --use_deque_limit "
                "--deque_timeout_usec=2000 --gpu_copy_streams=4 --gpu_inference_streams=2 "
                "--workspace_size=20000000000 --num_warmups=10 --soft_drop=0.993 "
                "--start_from_device=no --performance_sample_count=10833 --mode=accuracy")
    bench = doc["benchmarks"]["bert-99"]
    assert doc["modes"] == ["accuracy"] and doc["system"]["gpu"] == "t4"
    assert bench["scenarios"] == {"SingleStream": {"single_stream_expected_latency_ns": 230000}}
    assert bench["use_graphs"] is True and bench["use_deque_limit"] is True
    assert bench["start_from_device"] is False
    assert bench["deque_timeout_usec"] == 2000 and bench["soft_drop"] == 0.993
    assert bench["workspace_size"] == 20000000000 and bench["performance_sample_count"] == 10833


def test_target_flags_and_specific_beats_generic() -> None:
    doc = parse("cmr \"generate-run-cmds inference _performance-only _all-scenarios\" --model=resnet50 "
                "--implementation=nvidia --category=datacenter,edge --target_qps=100 "
                "--offline_target_qps=200 --multistream_target_latency=0.4 --target_latency=1")
    scen = scenario_map(doc["benchmarks"]["resnet50"])
    assert list(scen) == list(SCENARIOS)
    assert scen["Offline"] == {"offline_expected_qps": 200}
    assert scen["Server"] == {"server_target_qps": 100}
    assert scen["SingleStream"] == {"single_stream_expected_latency_ns": 1000000}
    assert scen["MultiStream"] == {"multi_stream_expected_latency_ns": 400000}
    assert doc["system"]["type"] == "datacenter,edge"


def test_targets_for_scenarios_not_run_stay_at_benchmark_level() -> None:
    text = from_cm("cmr \"generate-run-cmds inference _submission\" --model=resnet50 --scenario=Offline "
                   "--server_target_qps=3950 --offline_target_qps=4100 --execution-mode=valid")
    doc = yaml.safe_load(text)
    assert doc["benchmarks"]["resnet50"]["server_target_qps"] == 3950
    assert "for Server, which this command does not run" in text
    assert scenario_map(doc["benchmarks"]["resnet50"]) == {"Offline": {"offline_expected_qps": 4100}}


@pytest.mark.parametrize(("variations", "profile"), [
    ("_a100,_sxm", "a100-sxm"), ("_a100,_pcie", "a100-pcie"), ("_a100", "a100-sxm"),
    ("_a6000", "rtx_a6000"), ("_rtx_6000_ada", "rtx_6000_ada"), ("_gpu_memory.24", "gpu_memory_24"),
    ("_gpu_memory.80", "gpu_memory_80"), ("_custom", "custom"), ("_orin", "orin"), ("_rtx_4090", "rtx_4090"),
])
def test_gpu_variations_pick_profiles(variations: str, profile: str) -> None:
    doc = parse(f"cm run script --tags=reproduce,mlperf,inference,nvidia,harness,_resnet50,{variations}")
    assert doc["system"]["gpu"] == profile


def test_mlc_batch_size_form_and_words_list() -> None:
    doc = parse("mlcr run-mlperf,inference,_performance-only --model=resnet50 --batch_size=resnet50:8 "
                "--implementation=nvidia --scenario=Server")
    assert doc["benchmarks"]["resnet50"]["gpu_batch_size"] == 8
    words = ["cm", "run", "script", "--tags=reproduce,mlperf,inference,nvidia,harness,_rnnt,_server,"
             "_batch_size.2048,_rtx_4090"]
    doc = yaml.safe_load(from_cm(words))
    assert doc["benchmarks"] == {"rnnt": {"gpu_batch_size": 2048, "scenarios": ["Server"]}}


# ---------------------------------------------------------------------------------------------
# what cannot be translated


def test_every_unmappable_item_is_listed() -> None:
    command = ("cm run script --tags=reproduce,mlperf,inference,nvidia,harness,_l4,_resnet50,_int8,_maxq,"
               "_build_engine,_use_triton,_dla_batch_size.2,_gpu_memory.12 --devices=0,1 --make_cmd=x "
               "--env.FOO=1 --bogus=1 --use_cuda_thread_per_device=yes "
               "--gpu_batch_size=abc")
    with pytest.raises(CmTranslationError) as info:
        from_cm(command)
    items = ["_int8", "_maxq", "_build_engine", "_use_triton", "_dla_batch_size.2", "_gpu_memory.12",
             "--devices=0,1", "--make_cmd=x", "--env.FOO=1", "--bogus=1",
             "--use_cuda_thread_per_device=yes", "--gpu_batch_size=abc"]
    assert [p.split(":")[0] for p in info.value.problems] == items
    assert isinstance(info.value, MlperfError) and isinstance(info.value, ValueError)
    assert str(info.value).startswith(f"cannot translate {len(items)} item(s) of the CM command:")


@pytest.mark.parametrize(("command", "message"), [
    ("python3 run.py --model=resnet50", "not a CM/MLC command"),
    ("", "empty command"),
    ("cm run script --tags=get,cuda", "not the NVIDIA harness script"),
    ("cmr \"generate-run-cmds inference\" --model=resnet50 --implementation=reference --device=cpu",
     "--implementation=reference: only NVIDIA's implementation"),
    ("cm run script --tags=reproduce,nvidia,harness,_resnet50,_3d-unet-99",
     "_3d-unet-99: conflicts with _resnet50"),
    ("cm run script --tags=reproduce,nvidia,harness,_3d-unet-99,_server",
     "3d-unet-99 has no Server scenario"),
    ("cm run script --tags=reproduce,nvidia,harness,_batch_size.16 --gpu_batch_size=32",
     "--gpu_batch_size=32: conflicts with _batch_size.16"),
    ("cmr \"reproduce nvidia harness\" 'unterminated", "cannot split"),
])
def test_translation_errors(command: str, message: str) -> None:
    with pytest.raises(CmTranslationError, match=re.escape(message)):
        from_cm(command)


# ---------------------------------------------------------------------------------------------
# cm_main (the future `mlperf-nv from-cm`)


def test_cm_main_prints_suite(capsys: pytest.CaptureFixture[str]) -> None:
    command = COMMANDS[0]["command"]
    assert cm_main([command]) == 0
    assert capsys.readouterr().out == (DATA / "golden" / f"{COMMANDS[0]['id']}.yaml").read_text()


def test_cm_main_writes_file_and_reports_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "suite.yaml"
    words = ["cmr", "reproduce mlperf inference nvidia harness _l4 _resnet50"]
    assert cm_main(["-o", str(out), "--", *words]) == 0
    assert yaml.safe_load(out.read_text())["system"]["gpu"] == "l4"
    assert cm_main([ERRORS[0]["command"]]) == 2
    err = capsys.readouterr().err
    assert "_build_engine" in err and "_maxq" in err


@pytest.mark.parametrize("entry", COMMANDS, ids=[e["id"] for e in COMMANDS])
def test_golden_suite_passes_the_suite_loader(entry: dict, tmp_path: Path) -> None:
    """The suite loader accepts every golden as it is (harness: nvidia) and expands its cases."""
    from pytest_mlperf_nv.plugin import pytest_mlperf_register
    from pytest_mlperf_nv.registry import Registry
    from pytest_mlperf_nv.suite.schema import load_suite

    registry = Registry()
    pytest_mlperf_register(registry)
    text = (DATA / "golden" / f"{entry['id']}.yaml").read_text()
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    suite = load_suite(path, registry)
    assert suite.harness == "nvidia"
    expect = entry["expect"]
    modes = expect.get("modes", ["performance", "accuracy"])
    # compliance expands into one item per audit of the round
    assert [(c.scenario, c.mode) for c in suite.cases if c.mode != "compliance"] == [
        (s, m) for s in expect["scenarios"] for m in modes if m != "compliance"]
    assert suite.system["gpu"] == expect["gpu"]


def test_golden_suites_collect_with_pytest(pytester: pytest.Pytester) -> None:
    """Every golden suite collects (harness nvidia; without NVIDIA's code its items would skip)."""
    pytester.makeini("[pytest]\n")
    (pytester.path / "suites").mkdir()
    for entry in COMMANDS:
        text = (DATA / "golden" / f"{entry['id']}.yaml").read_text()
        (pytester.path / "suites" / f"{entry['id']}.yaml").write_text(text)
    result = pytester.runpytest("--co", "-q", "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()
    collected = [line for line in result.outlines if "::" in line]
    assert len({line.split("::")[0] for line in collected}) == len(COMMANDS)
