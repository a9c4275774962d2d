"""RNN-T WER (no golden data: unit tests against hand-computed values)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pytest_mlperf_nv.accuracy import (
    RNNT_LABELS,
    AccuracyLogError,
    WerResult,
    format_wer,
    levenshtein,
    normalize_transcript,
    read_manifest,
    rnnt_wer,
    word_error_rate,
)


@pytest.mark.parametrize(
    ("a", "b", "d"),
    [
        ("", "", 0),
        ("a b c", "", 3),
        ("", "a b", 2),
        ("a b c", "a b c", 0),
        ("a b c", "a x c", 1),  # substitution
        ("a b c", "a c", 1),  # deletion
        ("a c", "a b c", 1),  # insertion
        ("kitten sat on mat", "sitting sat mat on", 3),
        ("the cat sat", "sat the cat", 2),
    ],
)
def test_levenshtein(a: str, b: str, d: int) -> None:
    assert levenshtein(a.split(), b.split()) == d
    assert levenshtein(b.split(), a.split()) == d


def test_word_error_rate_is_corpus_level() -> None:
    r = word_error_rate(["a b c", "hello"], ["a x c d", "hello world"])
    # (1 sub + 1 del) + 1 del over 4 + 2 reference words
    assert (r.errors, r.words) == (3, 6) and r.wer == 0.5 and r.accuracy == 0.5
    assert word_error_rate([""], [""]).wer == float("inf")
    with pytest.raises(ValueError):
        word_error_rate(["a"], [])


def test_format_matches_reference_style() -> None:
    assert format_wer(WerResult(wer=0.07452, errors=1, words=2)) == (
        f"Word Error Rate: {0.07452 * 100}%, accuracy={(1 - 0.07452) * 100}%"
    )
    assert format_wer(WerResult(wer=0.25, errors=1, words=4)) == "Word Error Rate: 25.0%, accuracy=75.0%"


def test_normalize_transcript() -> None:
    assert (
        normalize_transcript('HE SAID, "DON\'T!"  Mr. Smith & Co.')
        == "he said don't mister smith and company"
    )
    assert normalize_transcript("Café-au-lait  x+y") == "cafe au lait x plus y"
    assert normalize_transcript("ROOM 101") == "room "  # digits dropped (see module notes)


def ids(text: str) -> np.ndarray:
    return np.array([RNNT_LABELS.index(c) for c in text], dtype="<i8")


def write_log(path: Path, rows: list[tuple[int, np.ndarray]]) -> Path:
    body = ",\n".join(
        f'{{ "seq_id" : {i}, "qsl_idx" : {q}, "data" : "{a.tobytes().hex().upper()}" }}'
        for i, (q, a) in enumerate(rows)
    )
    path.write_text("[\n" + body + "\n]\n")
    return path


def make_manifest(tmp_path: Path) -> Path:
    items = [
        {"transcript": "THE CAT SAT", "original_duration": 3.0, "files": []},
        {"transcript": "A VERY LONG ONE", "original_duration": 20.0, "files": []},  # > 15 s: dropped
        {"transcript": "HELLO WORLD", "original_duration": 2.0, "files": []},
    ]
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(items))
    return path


def test_read_manifest_drops_long_utterances(tmp_path: Path) -> None:
    assert read_manifest(make_manifest(tmp_path)) == ["the cat sat", "hello world"]
    assert len(read_manifest(make_manifest(tmp_path), max_duration=None)) == 3


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8"])
def test_rnnt_wer_end_to_end(tmp_path: Path, dtype: str) -> None:
    manifest = make_manifest(tmp_path)
    rows = [(1, ids("hello word").astype(dtype)), (0, ids("the cat sat").astype(dtype))]
    r = rnnt_wer(write_log(tmp_path / "log.json", rows), manifest, dtype=dtype)
    assert (r.errors, r.words, r.samples) == (1, 5, 2) and r.wer == 0.2
    # Duplicates are scored too (no dedupe in the reference).
    rows.append((1, ids("hello world").astype(dtype)))
    r = rnnt_wer(write_log(tmp_path / "log2.json", rows), manifest, dtype=dtype)
    assert (r.errors, r.words, r.samples) == (1, 7, 3)


def test_rnnt_wer_errors(tmp_path: Path) -> None:
    refs = ["the cat sat"]
    with pytest.raises(AccuracyLogError, match="qsl_idx 3, outside the 1 manifest"):
        rnnt_wer(write_log(tmp_path / "a.json", [(3, ids("a"))]), refs)
    with pytest.raises(AccuracyLogError, match="label id 99"):
        rnnt_wer(write_log(tmp_path / "b.json", [(0, np.array([99], "<i8"))]), refs)
    with pytest.raises(AccuracyLogError, match="not a multiple of 8"):
        rnnt_wer(write_log(tmp_path / "c.json", [(0, np.array([1], "<i4"))]), refs)


@pytest.mark.parametrize("text, why", [
    ("call me at 8", r"digits \(8\).*inflect"),
    ("it\u2019s a long way", r"non-ASCII characters '\u2019' \(U\+2019\).*unidecode"),
    ("\u00c6sop and the stra\u00dfe", r"U\+00C6.*U\+00DF"),
    (42, r"is int, not text.*drops such an utterance.*shifts"),
])
def test_transcripts_unlike_librispeech_are_refused(tmp_path: Path, text: object, why: str) -> None:
    from pytest_mlperf_nv.accuracy import TranscriptError

    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps([{"original_duration": 1.0, "transcript": "fine"},
                                    {"original_duration": 1.0, "transcript": text}]))
    with pytest.raises(TranscriptError, match=rf"m\.json: utterance 1 .*{why}"):
        read_manifest(manifest)
