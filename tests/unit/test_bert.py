"""bert-99 on the built-in harness: SQuAD features, synthetic features, responses, the torch BERT."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pytest_mlperf_nv.benchmarks import bert
from pytest_mlperf_nv.datasets import DatasetContext
from pytest_mlperf_nv.errors import ProvisionError

GOLDEN = Path(__file__).resolve().parent.parent / "data/accuracy_golden/bert/float32_dupes_missing"


def test_squad_features_follow_the_reference_layout(tmp_path: Path) -> None:
    from pytest_mlperf_nv.accuracy.squad import build_squad_features, read_squad_examples
    from pytest_mlperf_nv.accuracy.wordpiece import WordPieceTokenizer

    root = tmp_path / "squad"
    root.mkdir()
    for name in ("dev-v1.1.json", "vocab.txt"):
        (root / name).write_bytes((GOLDEN / name).read_bytes())
    dataset = bert.squad_dataset(DatasetContext(tmp_path, tmp_path / "cache", {}))
    tokenizer = WordPieceTokenizer.from_file(root / "vocab.txt")
    features = build_squad_features(read_squad_examples(root / "dev-v1.1.json"), tokenizer)
    assert dataset.total_count == len(features) and dataset.inputs.shape == (len(features), 3, 384)
    first = features[0]
    ids, mask, segments = dataset.inputs[0]
    n = len(first.tokens)
    assert ids[:n].tolist() == [tokenizer.vocab[t] for t in first.tokens] and not ids[n:].any()
    assert mask.tolist() == [1] * n + [0] * (384 - n)
    sep = first.tokens.index("[SEP]")
    assert segments[: sep + 1].sum() == 0 and segments[sep + 1: n].all() and not segments[n:].any()
    assert dataset.labels() is None and dataset.val_data == root / "dev-v1.1.json"
    again = bert.squad_dataset(DatasetContext(tmp_path, tmp_path / "cache", {}))
    assert again.cache_entry.hit  # features are built once


def test_missing_squad_files_are_a_provision_error_naming_them(tmp_path: Path) -> None:
    (tmp_path / "squad").mkdir()
    with pytest.raises(ProvisionError,
                       match=r"squad/dev-v1.1.json, .*squad/vocab.txt missing.*dataset: synthetic"):
        bert.squad_dataset(DatasetContext(tmp_path, tmp_path / "cache", {}))
    with pytest.raises(ProvisionError, match="no MLPerf data directory is set"):
        bert.squad_dataset(DatasetContext(None, tmp_path / "cache", {}))


def test_synthetic_features_are_seeded_and_shaped_like_squads(tmp_path: Path) -> None:
    a = bert.synthetic_squad_dataset(DatasetContext(None, tmp_path, {"count": 16}))
    b = bert.synthetic_squad_dataset(DatasetContext(None, tmp_path, {"count": 16}))
    assert a.inputs.shape == (16, 3, 384) and a.inputs.dtype == np.int32
    np.testing.assert_array_equal(a.inputs, b.inputs)
    ids, mask, segments = a.inputs[:, 0], a.inputs[:, 1], a.inputs[:, 2]
    assert ((ids != 0) == (mask == 1)).all() and not (segments & (mask == 0)).any()


def test_the_response_is_interleaved_start_end_logits_in_float32() -> None:
    out = np.arange(2 * 384 * 2, dtype=np.float16).reshape(2, 384, 2)
    rows = bert.bert_response(out)
    assert rows.dtype == np.float32 and rows.shape == (2, 768)
    assert rows[1, :4].tolist() == [768.0, 769.0, 770.0, 771.0]
    with pytest.raises(ValueError, match=r"shape \(N, seq_len, 2\)"):
        bert.bert_response(np.zeros((2, 384)))


def test_the_definitions_targets_come_from_the_rules() -> None:
    d99, d999 = bert.definition("bert-99"), bert.definition("bert-99.9")
    assert (d99.accuracy_target, d999.accuracy_target) == (89.96526, 90.783126)
    assert d99.loadgen_name == "bert" and d99.backends == ("torch",) and d99.is_synthetic("synthetic-squad")


def test_the_random_model_is_a_spec_not_a_gigabyte_of_weights(tmp_path: Path) -> None:
    from pytest_mlperf_nv.benchmarks.bert import read_random_spec

    path = tmp_path / bert.build_random_bert(tmp_path)
    assert path.stat().st_size < 1000
    config, seed = read_random_spec(path)
    assert (config.hidden_size, config.num_hidden_layers, seed) == (1024, 24, 0)
    assert bert.random_bert_key()["config"]["num_attention_heads"] == 16


def test_the_reference_checkpoint_is_found_in_the_data_dir(tmp_path: Path) -> None:
    assert bert.find_bert_model(tmp_path) is None
    (tmp_path / "bert").mkdir()
    (tmp_path / "bert" / "model.pytorch").write_bytes(b"x")
    assert bert.find_bert_model(tmp_path) == tmp_path / "bert" / "model.pytorch"


# -- the torch module -------------------------------------------------------------------------

def _small(tmp_path: Path) -> tuple[object, Path]:
    torch = pytest.importorskip("torch", reason="the torch BERT needs torch: "
                                "pip install pytest-mlperf-nv[torch]")
    from pytest_mlperf_nv.benchmarks.bert import BertConfig
    from pytest_mlperf_nv.harness.loadgen.torch_bert import random_bert

    config = BertConfig(vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64)
    model = random_bert(config, seed=1)
    hf = {}
    for name, value in model.state_dict().items():  # back to Hugging Face's names
        hf.update(_to_hf(name, value, config.hidden_size))
    path = tmp_path / "model.pytorch"
    torch.save(hf, path)
    (tmp_path / "bert_config.json").write_text(json.dumps({"num_attention_heads": 4, "hidden_size": 32,
                                                           "vocab_size": 120, "num_hidden_layers": 2,
                                                           "intermediate_size": 64,
                                                           "max_position_embeddings": 64}))
    return model, path


def _to_hf(name: str, value: object, hidden: int) -> dict:
    if name.startswith("embeddings."):
        return {f"bert.{name}": value}
    if name.startswith("qa_outputs"):
        return {name: value}
    _, i, part, kind = name.split(".")
    p = f"bert.encoder.layer.{i}."
    if part == "qkv":
        q, k, v = value.split(hidden)
        return {f"{p}attention.self.query.{kind}": q, f"{p}attention.self.key.{kind}": k,
                f"{p}attention.self.value.{kind}": v}
    names = {"attention_output": "attention.output.dense", "attention_norm": "attention.output.LayerNorm",
             "intermediate": "intermediate.dense", "output": "output.dense",
             "output_norm": "output.LayerNorm"}
    return {f"{p}{names[part]}.{kind}": value}


def test_a_hugging_face_state_dict_loads_and_padding_does_not_change_the_answer(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch", reason="the torch BERT needs torch")

    from pytest_mlperf_nv.harness.loadgen.torch_bert import load_bert_checkpoint

    model, path = _small(tmp_path)
    loaded = load_bert_checkpoint(path)
    features = torch.zeros((2, 3, 48), dtype=torch.int32)
    features[:, 0, :20] = torch.randint(1, 120, (2, 20))
    features[:, 1, :20] = 1
    features[:, 2, 10:20] = 1
    with torch.no_grad():
        a = model(features)
        b = loaded(features)
        padded = loaded(torch.nn.functional.pad(features, (0, 16)))  # more padding, same real tokens
    assert a.shape == (2, 48, 2)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(padded[:, :20], b[:, :20], rtol=1e-4, atol=1e-5)


def test_the_model_matches_hugging_faces_bert_for_question_answering(tmp_path: Path) -> None:
    """Against the real thing where it is installed (transformers is no dependency of the project)."""
    torch = pytest.importorskip("torch", reason="the torch BERT needs torch")

    transformers = pytest.importorskip("transformers",
                                       reason="comparison with Hugging Face needs transformers")
    from pytest_mlperf_nv.harness.loadgen.torch_bert import load_bert_checkpoint

    _, path = _small(tmp_path)
    config = transformers.BertConfig(vocab_size=120, hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=4, intermediate_size=64,
                                     max_position_embeddings=64, hidden_act="gelu")
    reference = transformers.BertForQuestionAnswering(config).eval()
    reference.load_state_dict(torch.load(path), strict=False)
    ours = load_bert_checkpoint(path)
    ids = torch.randint(1, 120, (3, 40))
    mask = torch.ones_like(ids)
    mask[1, 25:] = 0
    segments = torch.zeros_like(ids)
    segments[:, 12:] = 1
    with torch.no_grad():
        want = reference(input_ids=ids, attention_mask=mask, token_type_ids=segments)
        got = ours(torch.stack([ids, mask, segments], 1).to(torch.int32))
    for n in range(3):
        real = int(mask[n].sum())
        torch.testing.assert_close(got[n, :real, 0], want.start_logits[n, :real], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(got[n, :real, 1], want.end_logits[n, :real], rtol=1e-4, atol=1e-5)


def test_a_file_that_is_no_bert_state_dict_is_named(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch", reason="the torch BERT needs torch")
    from pytest_mlperf_nv.harness.loadgen.torch_bert import load_bert_checkpoint

    path = tmp_path / "model.pytorch"
    torch.save({"weight": torch.zeros(1)}, path)
    with pytest.raises(ValueError, match="not a BertForQuestionAnswering state dict"):
        load_bert_checkpoint(path)


def test_an_accuracy_log_is_scored_as_the_reference_scores_it(tmp_path: Path) -> None:
    """The accuracy module's golden case (reference output recorded from accuracy-squad.py)."""
    for name in ("dev-v1.1.json", "vocab.txt"):
        (tmp_path / "squad").mkdir(exist_ok=True)
        (tmp_path / "squad" / name).write_bytes((GOLDEN / name).read_bytes())
    dataset = bert.squad_dataset(DatasetContext(tmp_path, tmp_path / "cache", {}))
    record, text = bert.score_squad(GOLDEN / "mlperf_log_accuracy.json", dataset)
    expected = (GOLDEN / "expected_stdout.txt").read_text().splitlines()[0]
    assert text.splitlines()[0] == expected
    assert json.loads(expected)["f1"] == pytest.approx(record["value"]) and record["metric"] == "f1"
