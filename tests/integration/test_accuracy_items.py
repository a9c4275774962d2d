"""Accuracy items end to end: every benchmark's accuracy log reaches its evaluator.

On ``harness: nvidia`` (the emulator of NVIDIA's code, tests/fakes/nvidia, running real LoadGen),
the emulated model answers what a miniature data set in NVIDIA's scratch layout expects
(``EMULATED_RESPONSES``), right or wrong; the plugin scores NVIDIA's ``mlperf_log_accuracy.json``
itself, writes the official ``accuracy.txt`` (read back by the plugin's own submission checker),
and records NVIDIA's own verdict beside its own. The built-in harness runs resnet50 (see
test_resnet50_suite.py for its run on ImageNet-format files).
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.accuracy._minidata import Mini, checker_read, make, make_bert, make_dlrm, make_unet, needs
from tests.helpers import REPO, write_suite

EMULATOR = REPO / "tests" / "fakes" / "nvidia"
H200 = REPO / "tests" / "data" / "systems" / "h200x1.json"
#: where NVIDIA's code keeps each LLM's tokenizer under its scratch path
TOKENIZER_DIRS = {"gptj-99": "models/GPTJ-6B/checkpoint-final",
                  "llama2-70b-99": "models/Llama2/Llama-2-70b-chat-hf"}


@pytest.fixture
def code_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the emulated closed/NVIDIA tree (it writes build/ beside its code)."""
    copy = tmp_path / "nvidia"
    shutil.copytree(EMULATOR, copy, ignore=shutil.ignore_patterns("build", "__pycache__"))
    monkeypatch.setenv("EMULATED_SYSTEM_ID", "H200-SXM-141GBx1")
    for name in ("EMULATED_FAILURE", "EMULATED_ACCURACY", "EMULATED_RESPONSES", "EMULATED_QSL_SIZE",
                 "MLPERF_NV_NVIDIA_CODE_DIR", "MLPERF_NV_HARNESS", "MLPERF_SCRATCH_PATH"):
        monkeypatch.delenv(name, raising=False)
    return copy / "v4.1"


def _make(benchmark: str, root: Path, right: bool) -> Mini:
    """A miniature data set of ``benchmark`` in NVIDIA's layout, and the log its answers make."""
    if benchmark.startswith("bert"):
        return make_bert(root, "nvidia", right, benchmark=benchmark)
    if benchmark.startswith("3d-unet"):
        return make_unet(root, "nvidia", right, benchmark=benchmark)
    if benchmark.startswith("dlrm-v2"):
        return make_dlrm(root, "nvidia", right, benchmark=benchmark)
    return make(benchmark, root, "nvidia", right)


def _emulate(mini: Mini, root: Path, code_dir: Path, monkeypatch: pytest.MonkeyPatch,
             nvidia_value: float) -> None:
    """The emulated model answers as ``mini``'s log; NVIDIA's own check reports ``nvidia_value``."""
    entries = json.loads(mini.log.read_text())
    responses = root / "responses.json"
    responses.write_text(json.dumps({str(e["qsl_idx"]): e["data"] for e in entries}))
    monkeypatch.setenv("EMULATED_RESPONSES", str(responses))
    monkeypatch.setenv("EMULATED_QSL_SIZE", str(len(entries)))
    monkeypatch.setenv("EMULATED_ACCURACY", repr(nvidia_value))
    monkeypatch.setenv("MLPERF_SCRATCH_PATH", str(root / "scratch"))
    if mini.benchmark == "resnet50":  # NVIDIA's val_map is in its code dir's data_maps/
        shutil.rmtree(code_dir / "data_maps", ignore_errors=True)
        shutil.copytree(root / "nvidia-code" / "data_maps", code_dir / "data_maps")
    if mini.benchmark in TOKENIZER_DIRS:
        shutil.copytree(mini.kwargs["tokenizer_path"], root / "scratch" / TOKENIZER_DIRS[mini.benchmark])


def _suite(code_dir: Path, benchmark: str) -> str:
    return (f"mlperf_suite: 1\nname: h200\nsystem: {{gpu: h200, count: 1}}\nharness: nvidia\n"
            f"nvidia: {{code_dir: {code_dir}}}\nprofile: quick\nmodes: [accuracy]\nbenchmarks:\n"
            f"  {benchmark}:\n    scenarios:\n"
            "      Offline: {offline_expected_qps: 1000, min_duration: 100}\n")


def _run(mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path, benchmark: str,
         *args: str) -> tuple[pytest.RunResult, dict, Path]:
    write_suite(mlperf_env, _suite(code_dir, benchmark), "h200.yaml")
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}", "--junitxml=junit.xml", *args)
    run_dir = mlperf_env / f"mlperf-results/runs/h200/{benchmark}/Offline/accuracy"
    return result, json.loads((run_dir / "result.json").read_text()), run_dir


def _properties(path: Path) -> dict[str, str]:
    case = next(ET.parse(path).getroot().iter("testcase"))
    return {str(p.get("name")): str(p.get("value")) for p in case.iter("property")}


def _nvidia_value(mini: Mini) -> float:
    """What NVIDIA's run of the official script prints for the headline metric of ``mini``'s log."""
    from pytest_mlperf_nv.accuracy import score_accuracy

    value = score_accuracy(mini.benchmark, mini.log, **mini.kwargs).headline.value
    assert value is not None
    return value


NVIDIA_BENCHMARKS = ["resnet50", "retinanet", "bert-99", "bert-99.9", "3d-unet-99", "3d-unet-99.9",
                     "dlrm-v2-99", "dlrm-v2-99.9", "gptj-99", "llama2-70b-99"]


@pytest.mark.parametrize("benchmark", NVIDIA_BENCHMARKS)
def test_each_benchmark_is_scored_by_the_plugin_on_nvidias_log_right_passes_wrong_fails(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path, benchmark: str) -> None:
    needs(benchmark)
    right = _make(benchmark, tmp_path / "right", right=True)
    _emulate(right, tmp_path / "right", code_dir, monkeypatch, _nvidia_value(right))
    result, record, run_dir = _run(mlperf_env, pytester, code_dir, benchmark)
    result.assert_outcomes(passed=1)
    score = record["accuracy"]
    assert score["scored_by"] == "pytest-mlperf-nv" and score["passed"] is True and score["agreement"] is True
    assert score["benchmark"] == benchmark and score["ground_truth"]["layout"] == "nvidia"
    assert score["nvidia"]["accuracy_pass"] is True and score["harness"] == "nvidia"
    # The official accuracy.txt, as the plugin's submission checker reads it: every metric, no finding.
    values, kinds = checker_read(benchmark, (run_dir / "accuracy.txt").read_text(), tmp_path)
    assert values == {m["name"]: m["value"] for m in score["metrics"]} and not kinds
    props = _properties(mlperf_env / "junit.xml")
    assert props["mlperf_accuracy_metric"] == score["metric"] and props["mlperf_accuracy_passed"] == "true"
    assert props["mlperf_accuracy_agrees_with_nvidia"] == "true"
    assert props["mlperf_nvidia_accuracy_pass"] == "true"
    assert props["mlperf_accuracy_level"] == ("99.9" if benchmark.endswith("99.9") else "99")
    for metric in score["metrics"]:  # every metric with its 99 % and 99.9 % targets where they exist
        name = metric["name"].lower()
        assert props[f"mlperf_accuracy_{name}"] != ""
        assert {k for k in props if k.startswith(f"mlperf_accuracy_{name}_target_")} == {
            f"mlperf_accuracy_{name}_target_{lvl.replace('.', '_')}" for lvl in metric["targets"]}

    # The same run with wrong answers fails on the plugin's score, NVIDIA's check agreeing.
    wrong = _make(benchmark, tmp_path / "wrong", right=False)
    _emulate(wrong, tmp_path / "wrong", code_dir, monkeypatch, _nvidia_value(wrong))
    result, record, _ = _run(mlperf_env, pytester, code_dir, benchmark)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*{record['accuracy']['metric']} * is below the * % target *"])
    assert record["verdict"] == "FAIL" and record["accuracy"]["agreement"] is True


def test_a_disagreement_with_nvidias_check_fails_showing_both(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    mini = _make("resnet50", tmp_path, right=True)
    _emulate(mini, tmp_path, code_dir, monkeypatch, 99.5)  # the plugin scores 100.000
    result, record, _ = _run(mlperf_env, pytester, code_dir, "resnet50")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*accuracy acc 100 (target 75.6954)*; NVIDIA's accuracy check: accuracy 99.5 PASSED*",
        "*accuracy disagrees with NVIDIA's own check: acc: NVIDIA's accuracy check 99.5, the plugin 100 *"])
    score = record["accuracy"]
    assert score["passed"] is True and score["agreement"] is False
    assert score["nvidia"]["accuracy"][0]["value"] == 99.5
    assert _properties(mlperf_env / "junit.xml")["mlperf_accuracy_agrees_with_nvidia"] == "false"


def test_missing_ground_truth_skips_before_the_run_naming_the_file_and_fails_under_strict(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    monkeypatch.setenv("MLPERF_SCRATCH_PATH", str(tmp_path / "scratch"))
    write_suite(mlperf_env, _suite(code_dir, "bert-99"), "h200.yaml")
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines([f"SKIPPED*bert-99 accuracy needs the SQuAD v1.1 dev set (dev-v1.1.json): "
                                 f"not found at {tmp_path}/scratch/data/squad/dev-v1.1.json*"])
    # Skipped before NVIDIA's code ran: no engine was built, no run dir written.
    assert not (code_dir / "build" / "engines").exists()
    assert not (mlperf_env / "mlperf-results/runs/h200/bert-99/Offline/accuracy/result.json").exists()
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}", "--mlperf-strict")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bert-99 accuracy needs the SQuAD v1.1 dev set*"])


def test_explain_names_the_ground_truth_and_targets_or_why_it_would_skip(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    mini = _make("resnet50", tmp_path, right=True)
    _emulate(mini, tmp_path, code_dir, monkeypatch, 100.0)
    bert = _suite(code_dir, "bert-99").split("benchmarks:\n")[1]
    write_suite(mlperf_env, _suite(code_dir, "resnet50") + bert, "h200.yaml")
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}", "--mlperf-explain")
    result.stdout.fnmatch_lines([
        "*resnet50::Offline::accuracy", "*",
        "  accuracy: scored by the plugin as the official script does (99 % targets: acc >= 75.6954), "
        "against:",
        f"    {code_dir}/data_maps/imagenet/val_map.txt",
        "    NVIDIA's own check (metadata.json) is recorded beside it and must agree"])
    result.stdout.fnmatch_lines(["  accuracy: skips before the run: bert-99 accuracy needs the SQuAD v1.1 "
                                 "dev set*"])
    assert not (code_dir / "build" / "engines").exists()


def test_an_llm_without_a_local_tokenizer_skips_saying_where_it_looked(
        mlperf_env: Path, pytester: pytest.Pytester, code_dir: Path, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    needs("gptj-99")
    _make("gptj-99", tmp_path, right=True)  # the data set, but no tokenizer where NVIDIA keeps it
    monkeypatch.setenv("MLPERF_SCRATCH_PATH", str(tmp_path / "scratch"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))  # an empty Hugging Face cache
    write_suite(mlperf_env, _suite(code_dir, "gptj-99"), "h200.yaml")
    result = pytester.runpytest(f"--mlperf-system-snapshot={H200}", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines([f"SKIPPED*gptj-99 accuracy needs *tokenizer*{tmp_path}/scratch/models/"
                                 f"GPTJ-6B/checkpoint-final*{tmp_path}/hf-cache/models--EleutherAI--gpt-j-6B/"
                                 "snapshots*copy the tokenizer files into <data dir>/models/gpt-j-6B*"])


# --- the built-in harness: a benchmark a user's plugin defines, scored by the plugin ----------------------
# NVIDIA's v4.1/v5.0 code has no rnnt or llama3.1-8b and the plugin ships no model for them: a user's plugin
# registers the benchmark (here with a "model" that answers from a table of recorded answers, in the data
# dir), and the built-in harness's accuracy item scores the log as the official script does.
REPLAY_CONFTEST = '''
from pathlib import Path

import numpy as np

from pytest_mlperf_nv.benchmarks.base import BenchmarkDef
from pytest_mlperf_nv.datasets import ArrayDataset

ANSWERS = "recorded/answers.npy"


def recorded_dataset(context):
    answers = np.load(Path(context.data_dir) / ANSWERS)
    return ArrayDataset(np.arange(len(answers), dtype=np.int64)[:, None])


def find_answers(data_dir):
    path = Path(data_dir) / ANSWERS if data_dir else None
    return path if path is not None and path.is_file() else None


def rows(outputs):
    return outputs


class ReplayBackend:
    """A model whose answer to sample i is row i of the recorded answers."""

    def __init__(self, model_path, options):
        self.answers = np.load(model_path)

    def predict(self, batch):
        return self.answers[np.asarray(batch)[:, 0]]


def pytest_mlperf_register(registry):
    registry.add_backend("replay", ReplayBackend)
    registry.add_dataset("recorded", recorded_dataset)
    # The replay SUT reports no token counts: its LLM runs under a LoadGen name without token latencies.
    for name, loadgen in (("rnnt", "rnnt"), ("llama3.1-8b", "llama3_1-8b-replay")):
        registry.add_benchmark(BenchmarkDef(name=name, loadgen_name=loadgen, dataset="recorded",
                                            postprocess=rows, find_model=find_answers,
                                            model_hint="<data dir>/recorded/answers.npy"))
'''
#: transcripts of one length: the recorded answers are rows of one size
RNNT_SAME_LENGTH = ["the cat sat on the mat", "a dog ran to the house", "we sang all night long"]


def _recorded(benchmark: str, root: Path, right: bool) -> Mini:
    """Ground truth in the official layout under ``root/data`` and the answers the model gives."""
    import numpy as np

    from tests.accuracy._minidata import make_llm, make_rnnt

    if benchmark == "rnnt":
        mini = make_rnnt(root, "official", right, transcripts=RNNT_SAME_LENGTH)
    else:
        mini = make_llm(root, benchmark, "official", right)
        shutil.copytree(mini.kwargs["tokenizer_path"], root / "data" / "models" / "Llama-3.1-8B-Instruct")
    entries = sorted(json.loads(mini.log.read_text()), key=lambda e: e["qsl_idx"])
    answers = np.stack([np.frombuffer(bytes.fromhex(e["data"]), dtype=np.int64) for e in entries])
    (root / "data" / "recorded").mkdir(parents=True)
    np.save(root / "data" / "recorded" / "answers.npy", answers)
    return mini


@pytest.mark.parametrize("benchmark", ["rnnt", "llama3.1-8b"])
def test_a_benchmark_on_the_built_in_harness_is_scored_right_passes_wrong_fails(
        mlperf_env: Path, pytester: pytest.Pytester, tmp_path: Path, benchmark: str) -> None:
    needs(benchmark)
    pytester.makeconftest(REPLAY_CONFTEST)
    write_suite(mlperf_env, f"mlperf_suite: 1\nprofile: quick\nbackend: replay\nmodes: [accuracy]\n"
                            f"benchmarks:\n  {benchmark}:\n    scenarios:\n"
                            "      Offline: {offline_expected_qps: 100}\n")
    run_dir = mlperf_env / f"mlperf-results/runs/cpu/{benchmark}/Offline/accuracy"
    for right in (True, False):
        root = tmp_path / ("right" if right else "wrong")
        _recorded(benchmark, root, right)
        result = pytester.runpytest(f"--mlperf-data-dir={root / 'data'}", "--junitxml=junit.xml")
        record = json.loads((run_dir / "result.json").read_text())
        score = record["accuracy"]
        assert score["scored_by"] == "pytest-mlperf-nv" and score["harness"] == "loadgen", score
        assert score["ground_truth"]["layout"] == "official" and score["dtype"]["name"] == "int64"
        if right:
            result.assert_outcomes(passed=1)
            values, kinds = checker_read(benchmark, (run_dir / "accuracy.txt").read_text(), tmp_path)
            assert values == {m["name"]: m["value"] for m in score["metrics"]} and not kinds
            props = _properties(mlperf_env / "junit.xml")
            assert props["mlperf_accuracy_passed"] == "true"
            assert props["mlperf_accuracy_metric"] == score["metric"]
        else:
            result.assert_outcomes(failed=1)
            result.stdout.fnmatch_lines([f"*{score['metric']} * is below the 99 % target *"])
