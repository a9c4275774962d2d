"""BERT SQuAD F1/EM: golden cases, tokenizer and scoring details."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pytest_mlperf_nv.accuracy import (
    AccuracyLogError,
    BasicTokenizer,
    WordPieceTokenizer,
    build_squad_features,
    format_squad,
    load_vocab,
    read_squad_examples,
    squad_accuracy,
    squad_v11_scores,
)

from ._accuracy_helpers import command_args, expected_lines, golden_cases

CASES = golden_cases("bert")


def run_case(case: Path, tmp_path: Path):
    args = command_args(case)
    return squad_accuracy(
        case / args["log_file"],
        case / args["val_data"],
        case / args["vocab_file"],
        dtype=args.get("output_dtype", "float32"),
        output_transposed=bool(args.get("output_transposed", False)),
        predictions_file=tmp_path / "predictions.json",
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_stdout(case: Path, tmp_path: Path) -> None:
    result = run_case(case, tmp_path)
    assert format_squad(result) == expected_lines(case)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_predictions_file(case: Path, tmp_path: Path) -> None:
    run_case(case, tmp_path)
    assert (tmp_path / "predictions.json").read_text() == (case / "expected_predictions.json").read_text()


def test_golden_details(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "float32_dupes_missing")
    r = run_case(case, tmp_path)
    assert r.predictions["q03"] == "35 miles"  # the later duplicate wins
    assert r.predictions["q09"] == "empty" and r.unanswered == 1
    assert (r.questions, r.features, r.duplicates) == (9, 9, 1)
    long = run_case(next(c for c in CASES if c.name == "float16_long_context"), tmp_path)
    assert (long.questions, long.features) == (12, 15)  # q10-q12 use two windows each
    lines = format_squad(long, buffered=False)
    assert lines[-1].startswith('{"exact_match": 75.0') and lines[0] == "Reading examples..."


def test_features_match_reference_layout() -> None:
    case = next(c for c in CASES if c.name == "float16_long_context")
    examples = read_squad_examples(case / "dev-v1.1.json")
    feats = build_squad_features(examples, WordPieceTokenizer.from_file(case / "vocab.txt"))
    assert len(feats) == 15
    assert all(len(f.tokens) <= 384 and f.tokens[0] == "[CLS]" and f.tokens[-1] == "[SEP]" for f in feats)
    two = [f for f in feats if f.example_index == 9]
    assert len(two) == 2
    # Each context token has exactly one max-context window.
    words = {}
    for f in two:
        for pos, is_max in f.max_context.items():
            words.setdefault((f.token_to_word[pos], f.tokens[pos], pos - f.tokens.index("[SEP]")), []).append(
                is_max
            )
    assert any(flags == [True] for flags in words.values())


def test_wordpiece_vocab_examples() -> None:
    case = next(c for c in CASES if c.name == "float32_dupes_missing")
    tok = WordPieceTokenizer(load_vocab(case / "vocab.txt"))
    assert tok.tokenize("Running") == ["run", "##ning"]
    assert tok.tokenize("lactobacilli") == ["lacto", "##bac", "##illi"]
    assert tok.tokenize("Sourdough,") == ["sour", "##dough", ","]
    assert tok.tokenize("Spyridon") == ["[UNK]"]
    assert tok.tokenize("x" * 101) == ["[UNK]"]
    assert tok.tokenize("a [SEP] b") == ["a", "[SEP]", "[UNK]"]


def test_basic_tokenizer() -> None:
    basic = BasicTokenizer()
    assert basic.tokenize("Héllo, WORLD!\tit's  $5") == ["hello", ",", "world", "!", "it", "'", "s", "$", "5"]
    assert basic.tokenize("a\x00b\ufffd c\u3000d") == ["ab", "c", "d"]
    assert basic.tokenize("中文") == ["中", "文"]
    assert basic.tokenize("[UNK] [unk]") == ["[UNK]", "[", "unk", "]"]


def test_v11_scoring(tmp_path: Path) -> None:
    data = {
        "version": "1.1",
        "data": [
            {
                "paragraphs": [
                    {
                        "context": "x",
                        "qas": [
                            {"id": "a", "question": "?", "answers": [{"text": "The Cat", "answer_start": 0}]},
                            {
                                "id": "b",
                                "question": "?",
                                "answers": [
                                    {"text": "big red dog", "answer_start": 0},
                                    {"text": "dog", "answer_start": 0},
                                ],
                            },
                            {"id": "c", "question": "?", "answers": [{"text": "x", "answer_start": 0}]},
                        ],
                    }
                ]
            }
        ],
    }
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(data))
    em, f1 = squad_v11_scores(path, {"a": "cat.", "b": "red dog"})  # c unanswered -> 0
    assert em == 100.0 / 3
    assert f1 == pytest.approx(100.0 * (1 + 0.8) / 3)


def write_log(path: Path, rows: list[tuple[int, np.ndarray]]) -> Path:
    body = ",\n".join(
        f'{{ "seq_id" : {i}, "qsl_idx" : {q}, "data" : "{a.tobytes().hex().upper()}" }}'
        for i, (q, a) in enumerate(rows)
    )
    path.write_text("[\n" + body + "\n]\n")
    return path


def test_errors(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "float32_dupes_missing")
    args = (case / "dev-v1.1.json", case / "vocab.txt")
    with pytest.raises(AccuracyLogError, match="qsl_idx 9, outside the 9 SQuAD features"):
        squad_accuracy(write_log(tmp_path / "a.json", [(9, np.zeros(4, "<f4"))]), *args)
    with pytest.raises(AccuracyLogError, match="holds 3 values"):
        squad_accuracy(write_log(tmp_path / "b.json", [(0, np.zeros(3, "<f4"))]), *args)
    with pytest.raises(AccuracyLogError, match="holds 385 positions"):
        squad_accuracy(write_log(tmp_path / "c.json", [(0, np.zeros(770, "<f4"))]), *args)
    with pytest.raises(AccuracyLogError, match="not a multiple of 2"):
        squad_accuracy(write_log(tmp_path / "d.json", [(0, np.zeros(3, "u1"))]), *args, dtype="float16")


def test_empty_log_scores_zero(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "float32_dupes_missing")
    (tmp_path / "e.json").write_text("[\n]\n")
    r = squad_accuracy(tmp_path / "e.json", case / "dev-v1.1.json", case / "vocab.txt")
    assert set(r.predictions.values()) == {"empty"} and r.f1 == 0.0 and r.unanswered == 9


def test_capital_sigma_lowercased_character_by_character() -> None:
    """transformers lower-cases char by char before WordPiece (ΟΔΟΣ -> οδοσ, not οδος); so must we."""
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "οδοσ", "οδος"])}
    assert WordPieceTokenizer(vocab).tokenize("ΟΔΟΣ") == ["οδοσ"]
    # The span projection uses Google's BasicTokenizer, which lower-cases whole words (final sigma).
    assert BasicTokenizer().tokenize("ΟΔΟΣ") == ["οδος"]


def test_wordpiece_matches_transformers_bert_tokenizer(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers", reason="compares with transformers' BertTokenizer")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "οδοσ", "οδος", "the", "road", "##s", ",", ".",
             "cafe", "naive", "x"]
    (tmp_path / "vocab.txt").write_text("\n".join(words) + "\n")
    theirs = transformers.BertTokenizer(str(tmp_path / "vocab.txt"), do_lower_case=True)
    ours = WordPieceTokenizer.from_file(tmp_path / "vocab.txt")
    for text in ["ΟΔΟΣ roads.", "The ΟΔΟΣ, Café naïve [SEP] x", "ὈΔΌΣ ΣΑΣ roads"]:
        assert ours.tokenize(text) == theirs.tokenize(text), text
