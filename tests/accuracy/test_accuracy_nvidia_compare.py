"""compare_with_nvidia: the plugin's score beside NVIDIA's own accuracy check (metadata.json)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_mlperf_nv.accuracy import compare_with_nvidia, score_accuracy

from ._minidata import make


def nvidia_metadata(entries: list[dict]) -> dict:
    """The accuracy part of NVIDIA's metadata.json (code/actionhandler/run_harness.py)."""
    return {"accuracy": entries, "accuracy_pass": all(e["pass"] for e in entries),
            "result_validity": "VALID", "test_mode": "AccuracyOnly"}


@pytest.fixture
def resnet(tmp_path: Path):
    mini = make("resnet50", tmp_path, "nvidia")
    return score_accuracy("resnet50", mini.log, **mini.kwargs)


def test_agreement_is_none(resnet) -> None:
    assert resnet.metric("acc").value == 100.0
    meta = nvidia_metadata([{"name": "acc", "value": 100.0, "threshold": 75.6954, "pass": True}])
    assert compare_with_nvidia(resnet, meta) is None
    assert compare_with_nvidia(resnet, meta["accuracy"]) is None  # the list alone works too


def test_last_printed_digit_is_tolerated(resnet) -> None:
    meta = nvidia_metadata([{"name": "acc", "value": 99.999, "threshold": 75.6954, "pass": True}])
    assert compare_with_nvidia(resnet, meta) is None


def test_planted_disagreement_is_a_problem(resnet) -> None:
    meta = nvidia_metadata([{"name": "acc", "value": 76.456, "threshold": 75.6954, "pass": True}])
    problem = compare_with_nvidia(resnet, meta)
    assert problem is not None
    assert problem.startswith("accuracy disagrees with NVIDIA's own check: acc: NVIDIA's accuracy check "
                              "76.456, the plugin 100")
    assert "printed precision 0.001" in problem


def test_nvidia_without_a_value_or_without_accuracy(resnet) -> None:
    meta = nvidia_metadata([{"name": "acc", "value": None, "threshold": 75.6954, "pass": False}])
    assert "found no value" in compare_with_nvidia(resnet, meta)
    assert "recorded no accuracy result" in compare_with_nvidia(resnet, {"result_validity": "VALID"})
    assert "did not run: No accuracy results in PerformanceOnly mode." in compare_with_nvidia(
        resnet, {"accuracy": "No accuracy results in PerformanceOnly mode."})


def test_llm_disagreement_names_the_sentence_splitter(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    pytest.importorskip("rouge_score")
    mini = make("gptj-99", tmp_path, "nvidia")
    ours = score_accuracy("gptj-99", mini.log, **mini.kwargs)
    entries = [{"name": m.name, "value": m.value, "threshold": m.targets["99"], "pass": True}
               for m in ours.metrics]
    assert compare_with_nvidia(ours, entries) is None
    entries[-1] = dict(entries[-1], value=entries[-1]["value"] + 5)  # GEN_LEN
    problem = compare_with_nvidia(ours, entries)
    assert problem is not None and "GEN_LEN" in problem
    if ours.sentence_splitter != "nltk.sent_tokenize":
        assert "split sentences with its punkt-fallback" in problem


def test_nvidia_names_its_metric_in_its_own_words(resnet) -> None:
    # NVIDIA's harness may name top-1 'accuracy' and spell metrics in any case: compared all the same.
    meta = nvidia_metadata([{"name": "accuracy", "value": 76.0, "threshold": 75.6954, "pass": True}])
    assert "acc: NVIDIA's accuracy check 76, the plugin 100" in compare_with_nvidia(resnet, meta)
    upper = nvidia_metadata([{"name": "ACC", "value": 100.0, "pass": True}])
    assert compare_with_nvidia(resnet, upper) is None


def test_nothing_comparable_is_a_problem_not_an_agreement(resnet) -> None:
    problem = compare_with_nvidia(resnet, nvidia_metadata([{"name": "mAP", "value": 37.5, "pass": True}]))
    assert problem is not None and "reported mAP, none of which is a metric of resnet50 (acc)" in problem
