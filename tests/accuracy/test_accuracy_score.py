"""score_accuracy end to end: every benchmark on a miniature official-format data set.

Each benchmark is scored once with right answers (passes) and once with wrong ones (fails), in
the official layout and in NVIDIA's scratch layout; the accuracy.txt it renders is read back by
the plugin's own submission checker, which must find the same numbers and the same verdict.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_mlperf_nv.accuracy import AccuracyDataMissing, AccuracyLogError, score_accuracy

from ._minidata import NEEDS, checker_read, make, make_dlrm

BENCHMARKS = ["resnet50", "retinanet", "bert-99", "3d-unet-99", "dlrm-v2-99", "rnnt", "gptj-99",
              "llama2-70b-99", "llama3.1-8b"]


def _needs(benchmark: str) -> None:
    for module in NEEDS.get(benchmark, ()):
        pytest.importorskip(module, reason=f"{benchmark} accuracy needs {module}")


@pytest.mark.parametrize("layout", ["official", "nvidia"])
@pytest.mark.parametrize("benchmark", BENCHMARKS)
def test_right_answers_pass(benchmark: str, layout: str, tmp_path: Path) -> None:
    _needs(benchmark)
    if layout == "nvidia" and benchmark == "llama3.1-8b":
        pytest.skip("NVIDIA's v4.1/v5.0 code has no llama3.1-8b")
    mini = make(benchmark, tmp_path, layout, right=True)
    result = score_accuracy(benchmark, mini.log, **mini.kwargs)
    assert result.passed, (result.reasons(), result.accuracy_txt)
    assert result.ground_truth_layout == layout
    assert result.harness == ("nvidia" if layout == "nvidia" else "loadgen")
    assert result.samples == result.expected
    values, kinds = checker_read(benchmark, result.accuracy_txt, tmp_path)
    assert values == {m.name: m.value for m in result.metrics}
    assert not kinds & {"accuracy-missing", "accuracy-below-target", "accuracy-above-limit"}
    record = json.loads(json.dumps(result.record()))  # result.json must hold it
    assert record["passed"] is True and record["dtype"]["name"] == result.dtype


@pytest.mark.parametrize("benchmark", BENCHMARKS)
def test_wrong_answers_fail(benchmark: str, tmp_path: Path) -> None:
    _needs(benchmark)
    mini = make(benchmark, tmp_path, "official", right=False)
    result = score_accuracy(benchmark, mini.log, **mini.kwargs)
    assert not result.passed
    assert any("below" in r for r in result.reasons()), result.reasons()
    values, kinds = checker_read(benchmark, result.accuracy_txt, tmp_path)
    assert values == {m.name: m.value for m in result.metrics}
    assert "accuracy-below-target" in kinds


def test_record_and_junit_say_where_everything_came_from(tmp_path: Path) -> None:
    mini = make("bert-99", tmp_path, "nvidia")
    result = score_accuracy("bert-99", mini.log, precision="fp32", dtype="float16", **mini.kwargs)
    rec = result.record()
    assert rec["dtype"] == {"name": "float16", "source": "given by the caller"}
    assert rec["ground_truth"]["layout"] == "nvidia"
    assert rec["ground_truth"]["files"]["vocab"].endswith("scratch/models/bert/vocab.txt")
    assert [m["targets"] for m in rec["metrics"]] == [{"99": 89.96526, "99.9": 90.783126}]
    props = dict(result.junit_properties())
    assert props["mlperf_accuracy_metric"] == "F1" and props["mlperf_accuracy_level"] == "99"
    assert props["mlperf_accuracy_passed"] == "true" and props["mlperf_accuracy_ground_truth"] == "nvidia"
    assert result.write(tmp_path).read_text() == result.accuracy_txt


def test_nvidia_bert_dtype_follows_precision(tmp_path: Path) -> None:
    mini = make("bert-99", tmp_path, "nvidia")  # float16 logits, as NVIDIA's fp16/int8 engines log
    result = score_accuracy("bert-99", mini.log, precision="int8", **mini.kwargs)
    assert result.passed and result.dtype == "float16" and "int8 -> float16" in result.dtype_source
    assert "accuracy_checker.py" in result.dtype_source
    # An fp32 engine logs float32: reading this log that way is wrong, and the score shows it.
    with pytest.raises(AccuracyLogError, match="not start/end logit pairs"):
        score_accuracy("bert-99", mini.log, precision="fp32", **mini.kwargs)


def test_bert_99_9_judged_at_its_own_level(tmp_path: Path) -> None:
    mini = make("bert-99", tmp_path)
    result = score_accuracy("bert-99.9", mini.log, **mini.kwargs)
    assert result.level == "99.9" and result.passed
    assert set(result.metrics[0].passed) == {"99", "99.9"}


def test_subset_is_noted_and_totals_scale(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    mini = make("gptj-99", tmp_path)
    result = score_accuracy("gptj-99", mini.log, subset=3, **mini.kwargs)
    gen_len = result.metric("GEN_LEN")
    assert 0 < gen_len.scaled < 1 and gen_len.targets["99"] == pytest.approx(3615190.2 * 3 / 13368)
    assert any("3 of the 13368" in n for n in result.notes)
    assert result.record()["samples"]["subset"] is True


def test_incomplete_log_fails(tmp_path: Path) -> None:
    mini = make("resnet50", tmp_path)
    lines = mini.log.read_text().splitlines()
    mini.log.write_text("\n".join([lines[0], lines[1].rstrip(","), "]"]) + "\n")
    result = score_accuracy("resnet50", mini.log, **mini.kwargs)
    assert not result.passed
    assert any("holds 1 distinct samples, the run should have covered 8" in r for r in result.reasons())


def test_dlrm_one_class_prints_nan_and_fails(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    mini = make_dlrm(tmp_path, one_class=True)
    result = score_accuracy("dlrm-v2-99", mini.log, **mini.kwargs)
    assert "AUC=nan%" in result.accuracy_txt
    assert result.metrics[0].value is None and not result.passed
    assert any("undefined" in r and "one class" in r for r in result.reasons())
    _, kinds = checker_read("dlrm-v2-99", result.accuracy_txt, tmp_path)
    assert "accuracy-missing" in kinds


@pytest.mark.parametrize("benchmark", BENCHMARKS)
def test_missing_ground_truth_names_the_paths(benchmark: str, tmp_path: Path) -> None:
    log = tmp_path / "log.json"
    log.write_text("[\n]\n")
    with pytest.raises(AccuracyDataMissing) as info:
        score_accuracy(benchmark, log, data_dir=tmp_path / "data", scratch_dir=tmp_path / "scratch",
                       code_dir=tmp_path / "code")
    message = str(info.value)
    assert message.startswith(f"{benchmark} accuracy needs ")
    nvidia = tmp_path / ("code" if benchmark == "resnet50" else "scratch")
    assert str(tmp_path / "data") in message and str(nvidia) in message


def test_missing_everything_says_which_settings(tmp_path: Path) -> None:
    with pytest.raises(AccuracyDataMissing, match="set --mlperf-data-dir .* or MLPERF_SCRATCH_PATH"):
        score_accuracy("resnet50", tmp_path / "log.json", data_dir=None)


def test_llm_without_tokenizer_skips_with_the_hub_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mini = make("resnet50", tmp_path)  # any log: the tokenizer is looked for first
    data = tmp_path / "data"
    (data / "cnn-daily-mail").mkdir(parents=True)
    (data / "cnn-daily-mail" / "cnn_eval.json").write_text("[]")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    with pytest.raises(AccuracyDataMissing, match="EleutherAI/gpt-j-6B.*never downloads"):
        score_accuracy("gptj-99", mini.log, data_dir=data)


def test_llm_tokenizer_from_the_hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("transformers")
    pytest.importorskip("rouge_score")
    mini = make("gptj-99", tmp_path)
    snap = tmp_path / "hf" / "hub" / "models--EleutherAI--gpt-j-6B" / "snapshots" / "abc123"
    snap.parent.mkdir(parents=True)
    mini.kwargs.pop("tokenizer_path").rename(snap)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    result = score_accuracy("gptj-99", mini.log, **mini.kwargs)
    assert result.passed and result.tokenizer == str(snap)
    assert result.sentence_splitter in ("nltk.sent_tokenize", "punkt-fallback")


def test_nvidia_code_dir_build_links_reach_the_scratch_layout(tmp_path: Path) -> None:
    """Without MLPERF_SCRATCH_PATH, NVIDIA's code dir's build/ (make link_dirs) is the scratch path."""
    mini = make("bert-99", tmp_path, "nvidia")
    code = tmp_path / "nvidia-code"
    (code / "build").mkdir(parents=True)
    for part in ("data", "models"):
        (code / "build" / part).symlink_to(tmp_path / "scratch" / part)
    result = score_accuracy("bert-99", mini.log, data_dir=None, code_dir=code, harness="nvidia")
    assert result.passed and result.ground_truth["squad"].startswith(str(code / "build"))


def test_require_ground_truth_before_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_mlperf_nv.accuracy import require_ground_truth

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    mini = make("dlrm-v2-99", tmp_path)
    files = require_ground_truth("dlrm-v2-99", data_dir=mini.kwargs["data_dir"])
    assert [Path(f).name for f in files] == ["raw_data", "sample_partition.txt"]
    with pytest.raises(AccuracyDataMissing, match="tokenizer"):
        (tmp_path / "data" / "cnn-daily-mail").mkdir()
        (tmp_path / "data" / "cnn-daily-mail" / "cnn_eval.json").write_text("[]")
        require_ground_truth("gptj-99", data_dir=tmp_path / "data", tokenizer_path=tmp_path / "none")


def test_large_totals_are_shown_without_exponents(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    pytest.importorskip("rouge_score")
    mini = make("gptj-99", tmp_path)
    result = score_accuracy("gptj-99", mini.log, **mini.kwargs)
    props = dict(result.junit_properties())
    gen_len = result.metric("GEN_LEN").value
    assert props["mlperf_accuracy_gen_len"] == str(int(gen_len)) and "e+" not in result.summary()
