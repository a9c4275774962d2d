"""ROUGE accuracy of the LLM summarisation benchmarks (GPT-J, Llama2-70B, Llama3.1-8B).

Reproduces ``language/gpt-j/evaluation.py``, ``language/llama2-70b/evaluate-accuracy.py``
and ``language/llama3.1-8b/evaluation.py`` of mlcommons/inference:

1. read ``mlperf_log_accuracy.json``; the **first** entry of a repeated
   ``qsl_idx`` counts, later ones are ignored (all three scripts);
2. each response is a flat array of token ids (``--dtype int32|int64``,
   little-endian) decoded to text with the model's Hugging Face tokenizer
   (``tokenizer.batch_decode(ids, skip_special_tokens=True)``);
3. prediction and reference (the dataset's target summary for that
   ``qsl_idx``) are ``strip()``-ed and their sentences re-joined with ``"\\n"``
   (``"\\n".join(nltk.sent_tokenize(text))``: rougeLsum treats each line as a
   sentence);
4. ``evaluate.load("rouge").compute(..., use_stemmer=True, use_aggregator=False)``:
   per sample the F-measure of rouge1, rouge2, rougeL and rougeLsum from the
   ``rouge_score`` package (lower-case, non-alphanumerics to spaces, Porter
   stemming of tokens longer than 3 characters), then
   ``round(np.mean(scores) * 100, 4)``;
5. the length statistics: ``gen_len`` = the sum of the **character** lengths of
   the post-processed predictions (not tokens, despite the name - the GPT-J
   reference 4016878 over 13368 samples is ~300 characters each while GPT-J
   generates at most 128 tokens), ``gen_num`` = number of distinct samples,
   and for Llama2-70B also ``gen_tok_len`` = total number of logged token ids
   and ``tokens_per_sample = round(gen_tok_len / gen_num, 1)``.

The checker reads ``rouge1``/``rouge2``/``rougeL``/``rougeLsum`` and ``gen_len``
(GPT-J, Llama3.1-8B) or ``tokens_per_sample`` (Llama2-70B) from the printed
dict with regexes such as ``'gen_len':\\s([\\d.]+)``; :func:`format_llm` prints
plain numbers so they always match (see "Deviations").

Tokenizer (caller's job)
    The evaluator never loads or downloads a tokenizer.  Pass ``decode``, a
    function from one sample's token ids (numpy array) to text.  With a local
    copy of the model's tokenizer files use :func:`tokenizer_decoder`, which
    loads ``transformers.AutoTokenizer.from_pretrained(path, use_fast=False,
    local_files_only=True)`` (``use_fast=False`` as the GPT-J and Llama3.1
    scripts; the current Llama2 script uses the default fast tokenizer) and
    decodes with ``skip_special_tokens=True``.  Hub names such as
    ``EleutherAI/gpt-j-6B`` cannot be fetched offline.

Dependencies
    ``rouge-score`` (which pulls in ``nltk``, ``absl-py``, ``six``) is imported
    lazily, only when scores are computed; ``evaluate`` is *not* needed (its
    ``rouge`` metric is a thin loop over ``rouge_score.RougeScorer.score(ref,
    pred)``, reproduced here).

Deviations from the reference scripts
    * Sentence splitting: the scripts call ``nltk.sent_tokenize`` after
      ``nltk.download("punkt")``.  Here ``nltk.sent_tokenize`` is used when
      its Punkt data (``punkt_tab`` for nltk >= 3.8.2, else ``punkt``) is
      already installed; nothing is downloaded.  Without it a fallback is
      used: nltk's Punkt algorithm *untrained* plus a short list of common
      English abbreviations.  The fallback splits a few texts differently
      (abbreviations, initials), which changes **rougeLsum** slightly and
      ``gen_len`` only where the whitespace between two sentences is not a
      single character.  rouge1/rouge2/rougeL never depend on the split.
      :attr:`LlmAccuracyResult.sentence_splitter` says which one ran; pass
      ``split_sentences`` to choose.
    * Output: the GPT-J and Llama3.1 scripts print the ROUGE values as quoted
      strings (``'rouge1': '42.9865'``) and, under numpy 2, ``gen_len`` as
      ``np.int64(4016878)``, which the ``GEN_LEN`` regex cannot read;
      :func:`format_llm` prints bare numbers (``'rouge1': 42.9865``,
      ``'gen_len': 4016878``) in the same key order.
    * Llama2-70B only: the 2023 script replaced an out-of-vocabulary first
      token (``> 32000`` or ``< 0``) with BOS (id 1) before decoding; the
      current script does not, and neither does this module (a ``decode``
      function can do it).  Its newest revision also scores OpenOrca with
      ROUGE only, as here.
    * Errors the scripts do not handle (empty log, ``qsl_idx`` past the end
      of the references, a decoder that does not return ``str``) raise
      :class:`AccuracyLogError` instead of crashing or printing ``nan``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .log import AccuracyLogError, PathLike, distinct_entries
from .log import decode as decode_response

__all__ = [
    "LLM_BENCHMARKS",
    "ROUGE_TYPES",
    "LlmAccuracyResult",
    "format_llm",
    "llm_accuracy",
    "postprocess_for_rouge",
    "rouge_scores",
    "sentence_splitter",
    "tokenizer_decoder",
]

ROUGE_TYPES: tuple[str, ...] = ("rouge1", "rouge2", "rougeL", "rougeLsum")

#: canonical benchmark name -> keys of the official result dict, in print order.
LLM_BENCHMARKS: dict[str, tuple[str, ...]] = {
    "gptj": (*ROUGE_TYPES, "gen_len", "gen_num"),
    "llama2-70b": (*ROUGE_TYPES, "gen_len", "gen_num", "gen_tok_len", "tokens_per_sample"),
    "llama3.1-8b": (*ROUGE_TYPES, "gen_len", "gen_num"),
}

_ALIASES = {
    "gpt-j": "gptj",
    "gptj": "gptj",
    "llama2": "llama2-70b",
    "llama2-70b": "llama2-70b",
    "llama2-70b-interactive": "llama2-70b",
    "llama3.1-8b": "llama3.1-8b",
    "llama3_1-8b": "llama3.1-8b",
    "llama3.1-8b-edge": "llama3.1-8b",
    "llama3_1-8b-edge": "llama3.1-8b",
    "llama3.1-8b-interactive": "llama3.1-8b",
}

# Abbreviations for the fallback splitter (Punkt's lower-cased form, no final period).
_FALLBACK_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr sen rep gov gen lt sgt capt rev mt ft inc ltd corp dept "
    "jan feb aug sept oct nov dec vs approx u.s u.k u.n e.g i.e a.m p.m".split()
)


def _canonical(benchmark: str) -> str:
    name = benchmark.strip().lower()
    for suffix in ("-99.9", "-99"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    try:
        return _ALIASES[name]
    except KeyError:
        raise ValueError(
            f"unknown LLM benchmark {benchmark!r}; expected one of {', '.join(LLM_BENCHMARKS)}"
        ) from None


@dataclass(frozen=True)
class LlmAccuracyResult:
    """Outcome of :func:`llm_accuracy`; the ROUGE values are what the script prints.

    Attributes:
        benchmark: canonical benchmark name (``gptj``, ``llama2-70b``, ``llama3.1-8b``).
        rouge1, rouge2, rougeL, rougeLsum: mean F-measure in percent, rounded
            to 4 decimals like the reference.
        gen_len: total characters of the post-processed predictions.
        gen_num: number of distinct samples scored.
        gen_tok_len: total number of logged token ids (all elements of every
            counted response, EOS included if the SUT logged it).
        tokens_per_sample: ``round(gen_tok_len / gen_num, 1)``.
        duplicates: log entries ignored because their ``qsl_idx`` was seen before.
        missing: references that never appear in the log.
        sentence_splitter: ``"nltk.sent_tokenize"``, ``"punkt-fallback"`` or
            ``"custom"`` (see the module docstring).
    """

    benchmark: str
    rouge1: float
    rouge2: float
    rougeL: float
    rougeLsum: float
    gen_len: int
    gen_num: int
    gen_tok_len: int
    tokens_per_sample: float
    duplicates: int
    missing: int
    sentence_splitter: str

    def as_dict(self, benchmark: str | None = None) -> dict[str, float | int]:
        """The official result dict (keys and order of ``benchmark``'s script)."""
        keys = LLM_BENCHMARKS[_canonical(benchmark or self.benchmark)]
        return {k: getattr(self, k) for k in keys}


def _require_rouge_score():
    try:
        from rouge_score import rouge_scorer
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("ROUGE scoring needs the 'rouge-score' package (pip install rouge-score)") from exc
    return rouge_scorer


def _rouge_lists(
    predictions: Sequence[str], references: Sequence[str], use_stemmer: bool
) -> dict[str, list[float]]:
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    if not predictions:
        raise ValueError("no predictions to score")
    scorer = _require_rouge_score().RougeScorer(list(ROUGE_TYPES), use_stemmer=use_stemmer)
    out: dict[str, list[float]] = {k: [] for k in ROUGE_TYPES}
    for pred, ref in zip(predictions, references, strict=True):
        score = scorer.score(ref, pred)  # target first, like evaluate's rouge metric
        for k in ROUGE_TYPES:
            out[k].append(score[k].fmeasure)
    return out


def rouge_scores(
    predictions: Sequence[str],
    references: Sequence[str],
    *,
    use_stemmer: bool = True,
) -> dict[str, float]:
    """Mean ROUGE F-measures in percent, as ``evaluate``'s rouge with ``use_aggregator=False``.

    The strings are scored as given (rougeLsum takes each line as a sentence;
    see :func:`postprocess_for_rouge` for the reference's preparation).  The
    values are ``np.mean(per_sample) * 100``, not rounded.

    Raises:
        ValueError: the lists differ in length or are empty.
        ImportError: ``rouge-score`` is not installed.
    """
    lists = _rouge_lists(predictions, references, use_stemmer)
    return {k: float(np.mean(v) * 100) for k, v in lists.items()}


def _nltk_sent_tokenize(nltk_data: Sequence[PathLike] = ()) -> Callable[[str], list[str]] | None:
    try:
        import nltk
    except ImportError:
        return None
    for path in reversed([os.fspath(p) for p in nltk_data]):
        # Where the official splitter's data was provided (a data dir's nltk_data/); nltk also
        # reads $NLTK_DATA and ~/nltk_data by itself.
        if os.path.isdir(path) and path not in nltk.data.path:
            nltk.data.path.insert(0, path)
    try:
        nltk.sent_tokenize("Probe. Sentence.")
    except LookupError:  # Punkt data not installed
        return None
    return nltk.sent_tokenize


def _punkt_fallback() -> Callable[[str], list[str]]:
    try:
        from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer
    except ImportError:  # pragma: no cover - rouge-score depends on nltk
        import re

        pattern = re.compile(r"(?<=[.!?])[\"')\]]*\s+")

        def split_regex(text: str) -> list[str]:
            return [s for s in (p.strip() for p in pattern.split(text)) if s]

        return split_regex
    params = PunktParameters()
    params.abbrev_types = set(_FALLBACK_ABBREVIATIONS)
    return PunktSentenceTokenizer(params).tokenize


def _resolve_splitter(
    split_sentences: Callable[[str], list[str]] | None,
    nltk_data: Sequence[PathLike] = (),
) -> tuple[str, Callable[[str], list[str]]]:
    if split_sentences is not None:
        return "custom", split_sentences
    nltk_split = _nltk_sent_tokenize(nltk_data)
    if nltk_split is not None:
        return "nltk.sent_tokenize", nltk_split
    return "punkt-fallback", _punkt_fallback()


def sentence_splitter(nltk_data: Sequence[PathLike] = ()) -> tuple[str, Callable[[str], list[str]]]:
    """The splitter :func:`llm_accuracy` would use, and its name.

    ``"nltk.sent_tokenize"`` (the official one) when nltk finds its Punkt data (``punkt_tab`` /
    ``punkt``) in ``nltk_data``, ``$NLTK_DATA`` or nltk's default places; else
    ``"punkt-fallback"``. Install the official data once with
    ``python -m nltk.downloader -d <data dir>/nltk_data punkt punkt_tab``.
    """
    return _resolve_splitter(None, nltk_data)


def postprocess_for_rouge(
    texts: Iterable[str],
    *,
    split_sentences: Callable[[str], list[str]] | None = None,
) -> list[str]:
    """The scripts' ``postprocess_text``: strip, then one sentence per line.

    ``split_sentences`` defaults to ``nltk.sent_tokenize`` when its data is
    installed, else the Punkt fallback (module docstring).
    """
    _, split = _resolve_splitter(split_sentences)
    return ["\n".join(split(t.strip())) for t in texts]


def tokenizer_decoder(
    tokenizer: object | PathLike,
    *,
    use_fast: bool = False,
) -> Callable[[np.ndarray], str]:
    """A ``decode`` for :func:`llm_accuracy` from a Hugging Face tokenizer.

    ``tokenizer`` is a tokenizer object (anything with
    ``decode(ids, skip_special_tokens=...)``) or a **local** directory holding
    the tokenizer files, loaded with ``transformers.AutoTokenizer`` and
    ``local_files_only=True`` (never downloaded).
    """
    if isinstance(tokenizer, (str, os.PathLike)):
        try:
            from transformers import AutoTokenizer
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("loading a tokenizer from a path needs the 'transformers' package") from exc
        tok: Any = AutoTokenizer.from_pretrained(os.fspath(tokenizer), use_fast=use_fast,
                                                 local_files_only=True)
    else:
        tok = tokenizer
    if not callable(getattr(tok, "decode", None)):
        raise TypeError(f"{type(tok).__name__} has no decode() method")

    def decode_ids(ids: np.ndarray) -> str:
        return str(tok.decode(ids.tolist(), skip_special_tokens=True))

    return decode_ids


def llm_accuracy(
    log_path: PathLike,
    references: Sequence[str],
    *,
    decode: Callable[[np.ndarray], str],
    dtype: npt.DTypeLike = "int32",
    benchmark: str = "gptj",
    use_stemmer: bool = True,
    split_sentences: Callable[[str], list[str]] | None = None,
    expected_count: int | None = None,
    nltk_data: Sequence[PathLike] = (),
) -> LlmAccuracyResult:
    """Score an LLM accuracy log against the dataset's reference summaries.

    Args:
        log_path: LoadGen ``mlperf_log_accuracy.json``.
        references: target text of each ``qsl_idx`` (``cnn_eval.json``
            ``output`` for GPT-J/Llama3.1, the OpenOrca pickle's ``output`` for
            Llama2-70B).
        decode: token ids of one sample (a read-only 1-D numpy array of
            ``dtype``) -> text; see :func:`tokenizer_decoder`.
        dtype: element type of the responses (the scripts offer int32 and
            int64 and default to int64; NVIDIA's harness runs them with int32).
        benchmark: ``gptj``, ``llama2-70b`` or ``llama3.1-8b`` (``-99``/``-99.9``,
            ``-edge``, ``-interactive`` suffixes and ``llama3_1-8b`` accepted);
            selects what :func:`format_llm` prints by default.
        use_stemmer: Porter stemming in ROUGE (the scripts use True).
        split_sentences: sentence splitter for the rougeLsum preparation
            (default: see the module docstring).
        expected_count: if given, the number of distinct ``qsl_idx`` in the log
            must equal it (13368 for GPT-J/Llama3.1, 24576 for Llama2-70B).
        nltk_data: extra directories searched for nltk's Punkt data (see
            :func:`sentence_splitter`).

    Raises:
        AccuracyLogError: bad or empty log, a response whose size is not a
            multiple of ``dtype``, a ``qsl_idx`` outside ``references``, the
            ``expected_count`` mismatch, or ``decode`` not returning ``str``.
        ImportError: ``rouge-score`` is not installed.
    """
    bench = _canonical(benchmark)
    name = os.fspath(log_path)
    entries, unique = distinct_entries(name, expected_count)

    n_refs = len(references)
    preds_text: list[str] = []
    refs_text: list[str] = []
    gen_tok_len = 0
    for idx, entry in unique.items():
        if not 0 <= idx < n_refs:
            raise AccuracyLogError(
                f"{name}: seq_id {entry.seq_id} has qsl_idx {idx}, outside the {n_refs} references given"
            )
        ids = decode_response(entry, dtype, source=name)
        gen_tok_len += int(ids.size)
        text = decode(ids)
        if not isinstance(text, str):
            raise AccuracyLogError(
                f"{name}: decode() returned {type(text).__name__} for qsl_idx {idx}, expected str"
            )
        preds_text.append(text)
        refs_text.append(references[idx])

    splitter_name, split = _resolve_splitter(split_sentences, nltk_data)
    preds = postprocess_for_rouge(preds_text, split_sentences=split)
    refs = postprocess_for_rouge(refs_text, split_sentences=split)

    lists = _rouge_lists(preds, refs, use_stemmer)
    # np.float64.__round__ (numpy's rounding), exactly as round(np.mean(v) * 100, 4) in the scripts.
    rounded = {k: float(round(np.mean(v) * 100, 4)) for k, v in lists.items()}
    gen_num = len(preds)
    return LlmAccuracyResult(
        benchmark=bench,
        rouge1=rounded["rouge1"],
        rouge2=rounded["rouge2"],
        rougeL=rounded["rougeL"],
        rougeLsum=rounded["rougeLsum"],
        gen_len=sum(len(p) for p in preds),
        gen_num=gen_num,
        gen_tok_len=gen_tok_len,
        tokens_per_sample=round(gen_tok_len / gen_num, 1),
        duplicates=len(entries) - gen_num,
        missing=max(n_refs - gen_num, 0),
        sentence_splitter=splitter_name,
    )


def _plain(value: float | int) -> str:
    if isinstance(value, (bool, np.bool_)):
        raise TypeError("boolean is not a metric value")
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"metric value {number} is not finite")
    text = repr(number)
    if "e" in text:  # never scientific notation: the checker's regexes want [\d.]+
        text = f"{number:.10f}".rstrip("0")
        if text.endswith("."):
            text += "0"
    return text


def format_llm(result: LlmAccuracyResult, benchmark: str | None = None) -> str:
    """The dict line the official script prints (after ``\\nResults\\n\\n``), with plain numbers.

    E.g. ``{'rouge1': 42.9865, 'rouge2': 20.1235, 'rougeL': 29.9881,
    'rougeLsum': 40.1, 'gen_len': 4016878, 'gen_num': 13368}`` for GPT-J and
    Llama3.1-8B; Llama2-70B adds ``'gen_tok_len'`` and ``'tokens_per_sample'``.
    ``benchmark`` defaults to the one the result was computed for.
    """
    items = result.as_dict(benchmark).items()
    return "{" + ", ".join(f"'{k}': {_plain(v)}" for k, v in items) + "}"
