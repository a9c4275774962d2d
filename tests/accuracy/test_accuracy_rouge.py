"""ROUGE / LLM accuracy (gptj, llama2-70b, llama3.1-8b) on hand-computed cases and generated logs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from pytest_mlperf_nv.accuracy import (
    AccuracyLogError,
    LlmAccuracyResult,
    format_llm,
    llm_accuracy,
    rouge_scores,
    tokenizer_decoder,
)
from pytest_mlperf_nv.accuracy.rouge import postprocess_for_rouge

# The submission checker's patterns (tools/submission/submission_checker/constants.py, ACC_PATTERN).
ACC_PATTERN = {
    "ROUGE1": r".*'rouge1':\s+'?([\d.]+)'?.*",
    "ROUGE2": r".*'rouge2':\s+'?([\d.]+)'?.*",
    "ROUGEL": r".*'rougeL':\s+'?([\d.]+)'?.*",
    "ROUGELSUM": r".*'rougeLsum':\s+'?([\d.]+)'?.*",
    "GEN_LEN": r".*'gen_len':\s([\d.]+).*",
    "TOKENS_PER_SAMPLE": r".*'tokens_per_sample':\s([\d.]+).*",
}
PLAIN_DICT = re.compile(r"^\{'\w+': \d+(?:\.\d+)?(?:, '\w+': \d+(?:\.\d+)?)*\}$")

# Toy vocabulary: id -> word; id 0 is EOS, skipped like a special token.
WORDS = ["<eos>", "the", "cat", "sat", "on", "mat", "a", "dog", "runs"]


def toy_decode(ids: np.ndarray) -> str:
    return " ".join(WORDS[i] for i in ids.tolist() if i != 0)


def write_log(path: Path, samples: list[tuple[int, list[int]]], dtype: str = "<i4") -> Path:
    lines = []
    for seq, (qsl, ids) in enumerate(samples):
        data = np.asarray(ids, dtype=dtype).tobytes().hex().upper()  # little-endian, upper-case hex
        lines.append(f'{{ "seq_id" : {seq}, "qsl_idx" : {qsl}, "data" : "{data}" }}')
    path.write_text("[\n" + ",\n".join(lines) + "\n]\n")
    return path


def one_sentence_per_line(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=\.)\s+", text) if s]


# --------------------------------------------------------------------------- ROUGE values


@pytest.fixture(scope="module")
def rouge_score_pkg():
    return pytest.importorskip("rouge_score")


def test_identical_is_100(rouge_score_pkg) -> None:
    scores = rouge_scores(["the cat sat on the mat"], ["the cat sat on the mat"])
    assert scores == {"rouge1": 100.0, "rouge2": 100.0, "rougeL": 100.0, "rougeLsum": 100.0}


def test_disjoint_is_0(rouge_score_pkg) -> None:
    scores = rouge_scores(["dogs bark loudly"], ["the cat sat on the mat"])
    assert scores == {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0, "rougeLsum": 0.0}


def test_partial_overlap_by_hand(rouge_score_pkg) -> None:
    # ref:  the cat sat on the mat   (6 tokens, 5 bigrams)
    # pred: the cat lay on a mat     (6 tokens, 5 bigrams)
    # unigrams (clipped): the, cat, on, mat = 4  -> P = R = 4/6, F = 2/3
    # bigrams: only "the cat" = 1              -> P = R = 1/5, F = 1/5
    # LCS: the cat on mat = 4                  -> F = 2/3 (one line, so rougeLsum too)
    scores = rouge_scores(["the cat lay on a mat"], ["the cat sat on the mat"])
    assert scores["rouge1"] == pytest.approx(100 * 2 / 3)
    assert scores["rouge2"] == pytest.approx(100 * 1 / 5)
    assert scores["rougeL"] == pytest.approx(100 * 2 / 3)
    assert scores["rougeLsum"] == pytest.approx(100 * 2 / 3)


def test_precision_and_recall_differ(rouge_score_pkg) -> None:
    # pred "dog sat" vs ref "a dog sat": R1 P=2/2 R=2/3 -> F=0.8; R2 P=1/1 R=1/2 -> F=2/3; LCS 2 -> F=0.8
    scores = rouge_scores(["dog sat"], ["a dog sat"])
    assert scores["rouge1"] == pytest.approx(80.0)
    assert scores["rouge2"] == pytest.approx(100 * 2 / 3)
    assert scores["rougeL"] == pytest.approx(80.0)


def test_mean_over_samples(rouge_score_pkg) -> None:
    scores = rouge_scores(["the cat sat on the mat", "dogs bark"], ["the cat sat on the mat", "a cat"])
    assert scores["rouge1"] == pytest.approx(50.0)


def test_case_and_punctuation_ignored(rouge_score_pkg) -> None:
    assert rouge_scores(["The CAT, sat!"], ["the cat sat"])["rouge2"] == pytest.approx(100.0)


def test_stemming(rouge_score_pkg) -> None:
    # Porter stemming applies to tokens longer than 3 characters: running/runs -> run, dogs -> dog.
    assert rouge_scores(["runs dog"], ["running dogs"])["rouge1"] == pytest.approx(100.0)
    assert rouge_scores(["runs dog"], ["running dogs"], use_stemmer=False)["rouge1"] == 0.0


def test_rougelsum_uses_lines_as_sentences(rouge_score_pkg) -> None:
    # Flat LCS of "d e f a b c" vs "a b c d e f" is 3 of 6 -> 50; per-sentence union LCS is 6 of 6.
    scores = rouge_scores(["d e f.\na b c."], ["a b c.\nd e f."])
    assert scores["rougeL"] == pytest.approx(50.0)
    assert scores["rougeLsum"] == pytest.approx(100.0)


def test_length_mismatch_and_empty() -> None:
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        rouge_scores(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="no predictions"):
        rouge_scores([], [])


def test_postprocess_strips_and_joins_sentences() -> None:
    out = postprocess_for_rouge(["  One. Two.\n\nThree.  "], split_sentences=one_sentence_per_line)
    assert out == ["One.\nTwo.\nThree."]


def test_default_splitter_keeps_common_abbreviations() -> None:
    pytest.importorskip("nltk")
    (out,) = postprocess_for_rouge(["Mr. Smith went to the U.S. yesterday. He liked it."])
    assert out == "Mr. Smith went to the U.S. yesterday.\nHe liked it."


# --------------------------------------------------------------------------- formatting


def make_result(**overrides) -> LlmAccuracyResult:
    values = dict(
        benchmark="gptj",
        rouge1=42.9865,
        rouge2=20.1235,
        rougeL=29.9881,
        rougeLsum=40.0,
        gen_len=4016878,
        gen_num=13368,
        gen_tok_len=1000000,
        tokens_per_sample=294.4,
        duplicates=0,
        missing=0,
        sentence_splitter="custom",
    )
    values.update(overrides)
    return LlmAccuracyResult(**values)


def test_format_gptj_line_parsed_by_checker() -> None:
    line = format_llm(make_result())
    assert line == (
        "{'rouge1': 42.9865, 'rouge2': 20.1235, 'rougeL': 29.9881, 'rougeLsum': 40.0, "
        "'gen_len': 4016878, 'gen_num': 13368}"
    )
    assert PLAIN_DICT.match(line)
    assert re.match(ACC_PATTERN["ROUGE1"], line).group(1) == "42.9865"
    assert re.match(ACC_PATTERN["ROUGELSUM"], line).group(1) == "40.0"
    assert re.match(ACC_PATTERN["GEN_LEN"], line).group(1) == "4016878"
    assert re.match(ACC_PATTERN["TOKENS_PER_SAMPLE"], line) is None


def test_format_llama2_line_has_tokens_per_sample() -> None:
    result = make_result(benchmark="llama2-70b")
    line = format_llm(result)
    assert PLAIN_DICT.match(line)
    assert re.match(ACC_PATTERN["TOKENS_PER_SAMPLE"], line).group(1) == "294.4"
    assert re.match(ACC_PATTERN["ROUGEL"], line).group(1) == "29.9881"
    assert list(ast.literal_eval(line)) == [
        "rouge1", "rouge2", "rougeL", "rougeLsum", "gen_len", "gen_num", "gen_tok_len", "tokens_per_sample",
    ]  # fmt: skip
    # The benchmark argument overrides the result's own.
    assert "tokens_per_sample" not in format_llm(result, "llama3.1-8b-99")


def test_format_numpy_values_print_plain() -> None:
    result = make_result(rouge1=np.float64(42.9865), gen_len=np.int64(4016878), rouge2=0.0001)
    line = format_llm(result)
    assert "np." not in line and "e-" not in line
    assert re.match(ACC_PATTERN["GEN_LEN"], line).group(1) == "4016878"
    assert re.match(ACC_PATTERN["ROUGE2"], line).group(1) == "0.0001"


def test_unknown_benchmark() -> None:
    with pytest.raises(ValueError, match="unknown LLM benchmark"):
        format_llm(make_result(), "mixtral-8x7b")


# --------------------------------------------------------------------------- llm_accuracy on generated logs

REFERENCES = ["the cat sat on the mat", "a dog sat"]


def test_llm_accuracy_gptj(tmp_path: Path, rouge_score_pkg) -> None:
    log = write_log(
        tmp_path / "mlperf_log_accuracy.json",
        [
            (1, [7, 3, 0]),  # "dog sat" (+EOS): 3 token ids, 7 characters
            (0, [1, 2, 3, 4, 1, 5]),  # identical to its reference: 6 ids, 22 characters
            (1, [1, 2]),  # duplicate: the first entry wins
            (0, [6]),  # duplicate
        ],
    )
    result = llm_accuracy(log, REFERENCES, decode=toy_decode, split_sentences=one_sentence_per_line)
    # sample 0 scores 100 everywhere; sample 1: R1 0.8, R2 2/3, RL 0.8 (hand-computed above)
    assert result.rouge1 == 90.0
    assert result.rouge2 == 83.3333
    assert result.rougeL == 90.0
    assert result.rougeLsum == 90.0
    assert result.gen_len == 22 + 7
    assert result.gen_num == 2
    assert result.gen_tok_len == 9
    assert result.tokens_per_sample == 4.5
    assert result.duplicates == 2
    assert result.missing == 0
    assert result.sentence_splitter == "custom"
    line = format_llm(result)
    assert line == (
        "{'rouge1': 90.0, 'rouge2': 83.3333, 'rougeL': 90.0, 'rougeLsum': 90.0, 'gen_len': 29, 'gen_num': 2}"
    )
    assert re.match(ACC_PATTERN["GEN_LEN"], line).group(1) == "29"


def test_llm_accuracy_llama2_tokens_per_sample_int64(tmp_path: Path, rouge_score_pkg) -> None:
    log = write_log(
        tmp_path / "acc.json",
        [(0, [1, 2, 3, 0]), (2, [7, 8, 8, 0, 0, 0, 0])],
        dtype="<i8",
    )
    refs = ["the cat sat", "unused", "dog runs runs"]
    result = llm_accuracy(log, refs, decode=toy_decode, dtype="int64", benchmark="llama2-70b-99.9")
    assert result.benchmark == "llama2-70b"
    assert (result.rouge1, result.rouge2, result.rougeL) == (100.0, 100.0, 100.0)
    assert result.gen_tok_len == 11  # EOS/padding ids count, as in the script
    assert result.tokens_per_sample == 5.5
    assert result.missing == 1
    assert result.sentence_splitter in ("nltk.sent_tokenize", "punkt-fallback")
    line = format_llm(result)
    assert re.match(ACC_PATTERN["TOKENS_PER_SAMPLE"], line).group(1) == "5.5"
    assert ast.literal_eval(line)["gen_tok_len"] == 11


def test_tokenizer_decoder_wraps_hf_style_object(tmp_path: Path, rouge_score_pkg) -> None:
    class FakeTokenizer:
        def decode(self, ids, skip_special_tokens=False):
            assert skip_special_tokens is True
            assert isinstance(ids, list)
            return toy_decode(np.asarray(ids))

    log = write_log(tmp_path / "acc.json", [(0, [1, 2, 3, 4, 1, 5])])
    result = llm_accuracy(log, REFERENCES, decode=tokenizer_decoder(FakeTokenizer()), benchmark="llama3_1-8b")
    assert result.rouge1 == 100.0
    assert result.benchmark == "llama3.1-8b"
    with pytest.raises(TypeError, match="no decode"):
        tokenizer_decoder(object())


def test_expected_count(tmp_path: Path) -> None:
    log = write_log(tmp_path / "acc.json", [(0, [1])])
    with pytest.raises(AccuracyLogError, match="expected 13368 distinct samples, log has 1"):
        llm_accuracy(log, REFERENCES, decode=toy_decode, expected_count=13368)


# --------------------------------------------------------------------------- malformed logs


def test_truncated_log(tmp_path: Path) -> None:
    log = tmp_path / "acc.json"
    log.write_text('[\n{ "seq_id" : 0, "qsl_idx" : 0, "data" : "01000000" },\n')
    with pytest.raises(AccuracyLogError, match="truncated"):
        llm_accuracy(log, REFERENCES, decode=toy_decode)


def test_empty_log(tmp_path: Path) -> None:
    log = tmp_path / "acc.json"
    log.write_text("[\n]\n")
    with pytest.raises(AccuracyLogError, match="no entries"):
        llm_accuracy(log, REFERENCES, decode=toy_decode)


def test_wrong_dtype_size(tmp_path: Path) -> None:
    log = tmp_path / "acc.json"
    log.write_text('[\n{ "seq_id" : 0, "qsl_idx" : 0, "data" : "010000000200" }\n]\n')
    with pytest.raises(AccuracyLogError, match="not a multiple of 4"):
        llm_accuracy(log, REFERENCES, decode=toy_decode)


def test_qsl_idx_outside_references(tmp_path: Path) -> None:
    log = write_log(tmp_path / "acc.json", [(5, [1])])
    with pytest.raises(AccuracyLogError, match="qsl_idx 5, outside the 2 references"):
        llm_accuracy(log, REFERENCES, decode=toy_decode)


def test_decode_must_return_str(tmp_path: Path) -> None:
    log = write_log(tmp_path / "acc.json", [(0, [1])])
    with pytest.raises(AccuracyLogError, match="decode\\(\\) returned list"):
        llm_accuracy(log, REFERENCES, decode=lambda ids: ids.tolist())


def test_sentence_splitter_is_named_and_its_data_can_be_provided(tmp_path: Path) -> None:
    """Without Punkt data the fallback scores and says so; a data dir's nltk_data/ is searched."""
    nltk = pytest.importorskip("nltk")
    from pytest_mlperf_nv.accuracy import sentence_splitter

    provided = tmp_path / "nltk_data"
    provided.mkdir()
    name, split = sentence_splitter([provided])
    assert str(provided) in nltk.data.path
    try:
        nltk.data.find("tokenizers/punkt_tab/english/")
        installed = True
    except LookupError:
        installed = False
    assert name == ("nltk.sent_tokenize" if installed else "punkt-fallback")
    assert split("Mr. Smith went home. He slept.") == ["Mr. Smith went home.", "He slept."]
