"""BERT SQuAD v1.1 F1 / exact match, matching ``accuracy-squad.py``.

The log holds one response per *feature* (a 384-token window of question +
context), not per question, so the features are rebuilt from the dataset and
the vocabulary exactly as the reference does (max_seq_length 384, doc_stride
128, max_query_length 64; ``qsl_idx`` = feature index), then:

* responses are ``(len, 2)`` interleaved start/end logits, or ``(2, len)`` with
  ``output_transposed``; ``len`` may be < 384 and the rest counts as -10000;
* **for a repeated qsl_idx the LAST entry wins** (the reference builds a dict
  by assignment) - unlike every other MLPerf script;
* per question: the top-20 start x top-20 end positions of every logged
  window are candidates; invalid ones are dropped (outside the context tokens,
  start not in its max-context window, end < start, longer than 30 tokens);
  the best by start+end logit wins (ties: first found); no candidate at all
  -> the text ``empty``;
* the WordPiece span is mapped back onto the original words with the BERT
  basic tokenizer alignment heuristic;
* scoring is the SQuAD v1.1 evaluation (normalise, max over accepted
  answers), printed by the reference as ``{"exact_match": .., "f1": ..}``.

No third-party dependency: tokenization lives in :mod:`.wordpiece`.
"""

from __future__ import annotations

import json
import os
import re
import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .log import AccuracyLogError, PathLike, decode, dedupe, read_accuracy_log
from .wordpiece import BasicTokenizer, WordPieceTokenizer

__all__ = [
    "SquadFeature",
    "SquadResult",
    "build_squad_features",
    "format_squad",
    "read_squad_examples",
    "squad_accuracy",
    "squad_v11_scores",
]

MAX_SEQ_LENGTH = 384
DOC_STRIDE = 128
MAX_QUERY_LENGTH = 64
N_BEST = 20
MAX_ANSWER_LENGTH = 30
PAD_LOGIT = -10000.0


@dataclass(frozen=True)
class SquadExample:
    """One question with its whitespace-split context."""

    qas_id: str
    question: str
    doc_words: list[str]


@dataclass(frozen=True)
class SquadFeature:
    """One model input window; ``tokens`` is ``[CLS] q.. [SEP] ctx.. [SEP]``."""

    example_index: int
    tokens: list[str]
    token_to_word: dict[int, int]  # token position -> index in doc_words
    max_context: dict[int, bool]  # token position -> is this its best window


@dataclass(frozen=True)
class SquadResult:
    """Outcome of :func:`squad_accuracy` (scores are percentages, as printed)."""

    exact_match: float
    f1: float
    questions: int
    features: int
    entries: int
    duplicates: int
    unanswered: int  # questions with no logged feature (predicted "empty")
    predictions: dict[str, str] = field(repr=False, compare=False)


def _is_squad_space(ch: str) -> bool:
    # The reference splits the context on exactly these characters.
    return ch in " \t\r\n" or ord(ch) == 0x202F


def read_squad_examples(path: PathLike) -> list[SquadExample]:
    """Questions of a SQuAD v1.1 file, in file order."""
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as f:
            data = json.load(f)["data"]
    except FileNotFoundError:
        raise AccuracyLogError(f"{name}: SQuAD file not found") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise AccuracyLogError(f"{name}: not a SQuAD v1.1 file: {exc!r}") from None
    examples = []
    for article in data:
        for paragraph in article["paragraphs"]:
            words: list[str] = []
            prev_space = True
            for ch in paragraph["context"]:
                if _is_squad_space(ch):
                    prev_space = True
                    continue
                if prev_space:
                    words.append(ch)
                else:
                    words[-1] += ch
                prev_space = False
            for qa in paragraph["qas"]:
                examples.append(SquadExample(qa["id"], qa["question"], words))
    return examples


def _max_context_span(spans: Sequence[tuple[int, int]], position: int) -> int | None:
    """Index of the window in which ``position`` has the most context."""
    best_score: float | None = None
    best: int | None = None
    for i, (start, length) in enumerate(spans):
        end = start + length - 1
        if start <= position <= end:
            # min(left, right) context, tie-broken toward longer windows.
            score = min(position - start, end - position) + 0.01 * length
            if best_score is None or score > best_score:
                best_score, best = score, i
    return best


def build_squad_features(
    examples: Sequence[SquadExample],
    tokenizer: WordPieceTokenizer,
    *,
    max_seq_length: int = MAX_SEQ_LENGTH,
    doc_stride: int = DOC_STRIDE,
    max_query_length: int = MAX_QUERY_LENGTH,
) -> list[SquadFeature]:
    """The reference's eval features, in order (list index = ``qsl_idx``)."""
    features: list[SquadFeature] = []
    # id() -> (words kept alive so the id stays unique, tokens, token -> word)
    paragraph_cache: dict[int, tuple[list[str], list[str], list[int]]] = {}
    for ex_index, ex in enumerate(examples):
        query = tokenizer.tokenize(ex.question)[:max_query_length]
        # Questions of one paragraph share its word list: tokenize it once.
        cached = paragraph_cache.get(id(ex.doc_words))
        if cached is None:
            doc_tokens: list[str] = []
            tok_to_word: list[int] = []
            for w, word in enumerate(ex.doc_words):
                for piece in tokenizer.tokenize(word):
                    tok_to_word.append(w)
                    doc_tokens.append(piece)
            cached = paragraph_cache[id(ex.doc_words)] = (ex.doc_words, doc_tokens, tok_to_word)
        _, doc_tokens, tok_to_word = cached
        room = max_seq_length - len(query) - 3  # [CLS], [SEP], [SEP]
        spans: list[tuple[int, int]] = []
        start = 0
        while start < len(doc_tokens):
            length = min(len(doc_tokens) - start, room)
            spans.append((start, length))
            if start + length == len(doc_tokens):
                break
            start += min(length, doc_stride)
        for span_index, (span_start, span_len) in enumerate(spans):
            tokens = ["[CLS]", *query, "[SEP]"]
            to_word: dict[int, int] = {}
            max_ctx: dict[int, bool] = {}
            for i in range(span_start, span_start + span_len):
                to_word[len(tokens)] = tok_to_word[i]
                max_ctx[len(tokens)] = _max_context_span(spans, i) == span_index
                tokens.append(doc_tokens[i])
            tokens.append("[SEP]")
            features.append(SquadFeature(ex_index, tokens, to_word, max_ctx))
    return features


def _top_indexes(logits: list[float], n: int) -> list[int]:
    # Python's stable sort, as the reference: equal logits keep position order.
    return [i for i, _ in sorted(enumerate(logits), key=lambda p: p[1], reverse=True)[:n]]


def _project_to_original(pred_text: str, orig_text: str) -> str:
    """Map normalised span text back onto the original words.

    Same heuristic as the reference: basic-tokenize the original text, find
    the prediction in it, and align the two character by character ignoring
    spaces; when anything does not line up, return the original text.
    """
    tok_text = " ".join(BasicTokenizer(do_lower_case=True).tokenize(orig_text))
    start = tok_text.find(pred_text)
    if start == -1:
        return orig_text
    end = start + len(pred_text) - 1
    orig_ns = [i for i, c in enumerate(orig_text) if c != " "]
    tok_ns = [i for i, c in enumerate(tok_text) if c != " "]
    if len(orig_ns) != len(tok_ns):
        return orig_text
    tok_to_ns = {pos: ns for ns, pos in enumerate(tok_ns)}
    if start not in tok_to_ns or end not in tok_to_ns:
        return orig_text
    return orig_text[orig_ns[tok_to_ns[start]] : orig_ns[tok_to_ns[end]] + 1]


def _predict(
    example: SquadExample,
    features: Sequence[SquadFeature],
    logits: dict[int, tuple[list[float], list[float]]],
    feature_ids: Sequence[int],
    n_best: int,
    max_answer_length: int,
) -> str:
    candidates: list[tuple[float, int, int, int]] = []  # (score, feature, start, end)
    for fid in feature_ids:
        if fid not in logits:
            continue  # this window was not logged
        feat = features[fid]
        start_logits, end_logits = logits[fid]
        ends = _top_indexes(end_logits, n_best)
        for s in _top_indexes(start_logits, n_best):
            if s not in feat.token_to_word or not feat.max_context.get(s, False):
                continue
            for e in ends:
                if e not in feat.token_to_word or e < s or e - s + 1 > max_answer_length:
                    continue
                candidates.append((start_logits[s] + end_logits[e], fid, s, e))
    if not candidates:
        return "empty"
    _, fid, s, e = sorted(candidates, key=lambda c: c[0], reverse=True)[0]
    feat = features[fid]
    tok_text = " ".join(feat.tokens[s : e + 1]).replace(" ##", "").replace("##", "")
    tok_text = " ".join(tok_text.split())
    words = example.doc_words[feat.token_to_word[s] : feat.token_to_word[e] + 1]
    return _project_to_original(tok_text, " ".join(words))


def _normalize_answer(text: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def _f1(prediction: str, truth: str) -> float:
    pred_tokens = _normalize_answer(prediction).split()
    truth_tokens = _normalize_answer(truth).split()
    same = sum((Counter(pred_tokens) & Counter(truth_tokens)).values())
    if same == 0:
        return 0
    precision = 1.0 * same / len(pred_tokens)
    recall = 1.0 * same / len(truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def squad_v11_scores(dataset_path: PathLike, predictions: dict[str, str]) -> tuple[float, float]:
    """SQuAD v1.1 ``(exact_match, f1)`` in percent; a missing answer scores 0.

    The sums run in dataset order, as in the official evaluation, so the
    floats match it to the last bit.
    """
    with open(os.fspath(dataset_path), encoding="utf-8") as f:
        data = json.load(f)["data"]
    em_sum: float = 0
    f1_sum: float = 0
    total = 0
    for article in data:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                total += 1
                if qa["id"] not in predictions:
                    continue
                pred = predictions[qa["id"]]
                truths = [a["text"] for a in qa["answers"]]
                em_sum += max(_normalize_answer(pred) == _normalize_answer(t) for t in truths)
                f1_sum += max(_f1(pred, t) for t in truths)
    if total == 0:
        raise AccuracyLogError(f"{os.fspath(dataset_path)}: no questions")
    return 100.0 * em_sum / total, 100.0 * f1_sum / total


def squad_accuracy(
    log_path: PathLike,
    val_data: PathLike,
    vocab_file: PathLike,
    *,
    dtype: npt.DTypeLike = "float32",
    output_transposed: bool = False,
    predictions_file: PathLike | None = None,
    features: Sequence[SquadFeature] | None = None,
) -> SquadResult:
    """Score a BERT accuracy log on SQuAD v1.1.

    Args:
        log_path: LoadGen ``mlperf_log_accuracy.json``.
        val_data: ``dev-v1.1.json``.
        vocab_file: the model's WordPiece ``vocab.txt`` (uncased).
        dtype: logits type (``--output_dtype``; NVIDIA logs float16).
        output_transposed: logits are ``(2, len)`` instead of ``(len, 2)``.
        predictions_file: if given, write ``{id: text}`` there as the
            reference writes ``predictions.json``.
        features: precomputed :func:`build_squad_features` output (building
            them for the full dev set takes a while; callers may cache).

    Raises:
        AccuracyLogError: bad log, a ``qsl_idx`` outside the features, or a
            response whose shape does not fit the layout or is over 384.
    """
    name = os.fspath(log_path)
    examples = read_squad_examples(val_data)
    if features is None:
        features = build_squad_features(examples, WordPieceTokenizer.from_file(vocab_file))
    entries = read_accuracy_log(name)
    latest = dedupe(entries, keep="last")

    logits: dict[int, tuple[list[float], list[float]]] = {}
    for idx, entry in latest.items():
        if not 0 <= idx < len(features):
            raise AccuracyLogError(
                f"{name}: seq_id {entry.seq_id} has qsl_idx {idx}, outside the {len(features)} SQuAD features"
            )
        values = decode(entry, dtype, source=name)
        if values.size % 2:
            raise AccuracyLogError(
                f"{name}: seq_id {entry.seq_id} (qsl_idx {idx}) holds {values.size} values, "
                "not start/end logit pairs"
            )
        pairs = values.reshape(2, -1).T if output_transposed else values.reshape(-1, 2)
        if pairs.shape[0] > MAX_SEQ_LENGTH:
            raise AccuracyLogError(
                f"{name}: seq_id {entry.seq_id} (qsl_idx {idx}) holds {pairs.shape[0]} "
                f"positions, more than {MAX_SEQ_LENGTH}"
            )
        # float64 padded to 384, like the reference (ties with -10000 matter).
        padded = np.full((MAX_SEQ_LENGTH, 2), PAD_LOGIT)
        padded[: pairs.shape[0]] = pairs
        logits[idx] = (padded[:, 0].tolist(), padded[:, 1].tolist())

    by_example: dict[int, list[int]] = {}
    for fid, feat in enumerate(features):
        by_example.setdefault(feat.example_index, []).append(fid)
    predictions: dict[str, str] = {}
    unanswered = 0
    for ex_index, ex in enumerate(examples):
        fids = by_example.get(ex_index, [])
        if not any(f in logits for f in fids):
            unanswered += 1
        predictions[ex.qas_id] = _predict(ex, features, logits, fids, N_BEST, MAX_ANSWER_LENGTH)

    if predictions_file is not None:
        with open(predictions_file, "w", encoding="utf-8") as f:
            f.write(json.dumps(predictions, indent=4) + "\n")
    em, f1 = squad_v11_scores(val_data, predictions)
    return SquadResult(
        exact_match=em,
        f1=f1,
        questions=len(examples),
        features=len(features),
        entries=len(entries),
        duplicates=len(entries) - len(latest),
        unanswered=unanswered,
        predictions=predictions,
    )


def format_squad(
    result: SquadResult,
    *,
    out_file: str = "predictions.json",
    features_cache: str = "eval_features.pickle",
    buffered: bool = True,
) -> list[str]:
    """The reference's stdout for a fresh run (no feature cache present).

    With stdout redirected to a file (``> accuracy.txt``) the score line,
    printed by a child process, comes *first* because the parent's own lines
    stay buffered until exit; ``buffered=False`` gives the terminal order.
    """
    score: dict[str, Any] = {"exact_match": result.exact_match, "f1": result.f1}
    progress = [
        "Reading examples...",
        f"No cached features at '{features_cache}'... converting from examples...",
        "Creating tokenizer...",
        "Converting examples to features...",
        f"Caching features at '{features_cache}'...",
        "Loading LoadGen logs...",
        "Post-processing predictions...",
        f"Writing predictions to: {out_file}",
        "Evaluating predictions...",
    ]
    line = json.dumps(score)
    return [line, *progress] if buffered else [*progress, line]
