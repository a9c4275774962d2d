"""RNN-T word error rate on LibriSpeech, following ``accuracy_eval.py``.

The (retired, last in v4.0) RNN-T reference logs each sample's greedy-decoded
label ids; ``labels[i]`` is the character of id i (space, a-z, apostrophe).
Semantics reproduced:

* **no dedupe**: every log entry is scored, duplicates included;
* references come from the manifest (a JSON list of utterances); utterances
  longer than ``max_duration`` seconds (15) are dropped *before* indexing, so
  ``qsl_idx`` counts only the kept ones;
* transcripts are normalised with the ``english_cleaners`` pipeline (ASCII,
  lower case, abbreviations, punctuation to spaces, ``&``/``+`` to words,
  whitespace collapsed) and then reduced to label characters;
* WER = total word-level Levenshtein edits / total reference words, printed
  as ``Word Error Rate: <100*wer>%, accuracy=<100*(1-wer)>%`` with Python's
  plain ``str`` of the floats.

Transcripts unlike LibriSpeech are refused, not scored differently: the reference spells out
numbers with ``inflect`` ("8" -> "eight", "8:00" -> "eight zero zero"), transliterates with
``unidecode`` (curly apostrophes, dashes, ``Æ`` -> "AE", ``ß`` -> "ss") and *drops* an utterance
whose normalisation fails or whose transcript is not text, which shifts every later ``qsl_idx``.
:func:`read_manifest` raises :class:`TranscriptError` for any transcript with a digit, a
non-ASCII character or a non-text value, naming the utterance and the characters, instead of
giving a WER the official script would not print.  LibriSpeech dev-clean (the benchmark's data
set) holds only ASCII letters, spaces and apostrophes, so it is scored in full.

Also note the reference maps ``--output_dtype int32`` to the ``array``
typecode ``l``, which is 8 bytes on 64-bit Linux: pass ``dtype="int64"`` to
score logs that the reference scores with ``int32``.
"""

from __future__ import annotations

import json
import os
import re
import string
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy.typing as npt

from .log import AccuracyLogError, PathLike, decode, read_accuracy_log

__all__ = [
    "RNNT_LABELS",
    "TranscriptError",
    "WerResult",
    "format_wer",
    "levenshtein",
    "normalize_transcript",
    "read_manifest",
    "rnnt_wer",
    "word_error_rate",
]

RNNT_LABELS: tuple[str, ...] = (" ", *string.ascii_lowercase, "'")

_ABBREVIATIONS = [
    (re.compile(rf"\b{abbr}\.", re.IGNORECASE), full)
    for abbr, full in [
        ("mrs", "misess"),
        ("mr", "mister"),
        ("dr", "doctor"),
        ("st", "saint"),
        ("co", "company"),
        ("jr", "junior"),
        ("maj", "major"),
        ("gen", "general"),
        ("drs", "doctors"),
        ("rev", "reverend"),
        ("lt", "lieutenant"),
        ("hon", "honorable"),
        ("sgt", "sergeant"),
        ("capt", "captain"),
        ("esq", "esquire"),
        ("ltd", "limited"),
        ("col", "colonel"),
        ("ft", "fort"),
    ]
]


class TranscriptError(AccuracyLogError):
    """A reference transcript the official normalisation would treat differently from the plugin's."""


def unlike_librispeech(text: object) -> str | None:
    """Why the official normalisation of ``text`` is not the plugin's, or None when it is the same."""
    if not isinstance(text, str):
        return (f"is {type(text).__name__}, not text: the official script drops such an utterance, "
                "which shifts the qsl_idx of every later one")
    digits = sorted({c for c in text if c.isascii() and c.isdigit()})
    if digits:
        return (f"holds digits ({''.join(digits)}): the official script spells numbers out with inflect "
                "(and drops an utterance whose number it cannot spell, shifting every later qsl_idx)")
    foreign = sorted({c for c in text if not c.isascii()})
    if foreign:
        shown = " ".join(f"{c!r} (U+{ord(c):04X})" for c in foreign[:8])
        return f"holds non-ASCII characters {shown}: the official script transliterates them with unidecode"
    return None


@dataclass(frozen=True)
class WerResult:
    """Outcome of :func:`rnnt_wer` / :func:`word_error_rate`."""

    wer: float  # fraction; inf when the references hold no words
    errors: int  # total word edits
    words: int  # total reference words
    samples: int = 0  # log entries scored (duplicates included)

    @property
    def accuracy(self) -> float:
        return 1.0 - self.wer


def levenshtein(a: Sequence[object], b: Sequence[object]) -> int:
    """Edit distance (insert/delete/substitute, unit cost) in O(min(n, m)) memory."""
    if len(a) > len(b):
        a, b = b, a
    row = list(range(len(a) + 1))
    for i, item_b in enumerate(b, 1):
        prev_diag, row[0] = row[0], i
        for j, item_a in enumerate(a, 1):
            cur = min(
                row[j] + 1,  # b has an extra item
                row[j - 1] + 1,  # a has an extra item
                prev_diag + (item_a != item_b),  # match / substitution
            )
            prev_diag, row[j] = row[j], cur
    return row[-1]


def word_error_rate(hypotheses: Sequence[str], references: Sequence[str]) -> WerResult:
    """Corpus WER: summed word edits over summed reference words."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")
    errors = words = 0
    for hyp, ref in zip(hypotheses, references, strict=True):
        ref_words = ref.split()
        words += len(ref_words)
        errors += levenshtein(hyp.split(), ref_words)
    wer = (1.0 * errors) / words if words else float("inf")
    return WerResult(wer=wer, errors=errors, words=words, samples=len(hypotheses))


def normalize_transcript(text: str, labels: Sequence[str] = RNNT_LABELS) -> str:
    """Reference transcript normalisation (see the module notes on digits)."""
    # ASCII folding stands in for unidecode: decompose, drop non-ASCII marks.
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = text.lower()
    for regex, full in _ABBREVIATIONS:
        text = regex.sub(full, text)
    # Punctuation that is not itself a label becomes a space; & and + are words.
    punct = "".join(c for c in string.punctuation if c not in "+&" and c not in labels)
    text = text.translate(str.maketrans(punct, " " * len(punct)))
    text = text.replace("&", " and ").replace("+", " plus ")
    text = re.sub(r"\s+", " ", text).strip()
    keep = set(labels)
    return "".join(c for c in text if c in keep)


def read_manifest(
    path: PathLike,
    *,
    max_duration: float | None = 15.0,
    labels: Sequence[str] = RNNT_LABELS,
) -> list[str]:
    """Normalised reference transcripts, indexed like the reference QSL.

    Raises:
        TranscriptError: a kept utterance's transcript is unlike LibriSpeech (digits, non-ASCII
            characters, not text); see the module notes.
    """
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as f:
            items = json.load(f)
    except FileNotFoundError:
        raise AccuracyLogError(f"{name}: manifest not found") from None
    except json.JSONDecodeError as exc:
        raise AccuracyLogError(f"{name}: manifest is not valid JSON: {exc}") from None
    transcripts: list[str] = []
    for n, item in enumerate(items):
        try:
            if max_duration is not None and item["original_duration"] > max_duration:
                continue  # dropped before indexing, like the reference
            if "transcript" in item:
                text = item["transcript"]
            else:
                tpath = item["text_filepath"]
                if not os.path.isabs(tpath) and not os.path.exists(tpath):
                    tpath = os.path.join(os.path.dirname(name), tpath)
                with open(tpath, encoding="utf-8") as tf:
                    text = tf.read().replace("\n", "")
        except (KeyError, TypeError, OSError) as exc:
            raise AccuracyLogError(f"{name}: utterance {n} unusable: {exc!r}") from None
        reason = unlike_librispeech(text)
        if reason:
            raise TranscriptError(
                f"{name}: utterance {n} ({text!r:.80}) {reason}. The plugin scores LibriSpeech-style "
                "transcripts only (ASCII letters, apostrophes, punctuation) and refuses rather than print "
                "a WER the official accuracy_eval.py would not"
            )
        transcripts.append(normalize_transcript(text, labels))
    return transcripts


def rnnt_wer(
    log_path: PathLike,
    manifest: PathLike | Sequence[str],
    *,
    dtype: npt.DTypeLike = "int64",
    labels: Sequence[str] = RNNT_LABELS,
    max_duration: float | None = 15.0,
) -> WerResult:
    """WER of an RNN-T accuracy log.

    Args:
        log_path: LoadGen ``mlperf_log_accuracy.json``.
        manifest: manifest JSON path, or the normalised transcripts already
            (element i = reference of ``qsl_idx`` i).
        dtype: element type of the label ids (reference default int64).

    Raises:
        AccuracyLogError: bad log, ``qsl_idx`` outside the manifest, or a
            label id outside ``labels``.
    """
    name = os.fspath(log_path)
    refs = (
        list(manifest)
        if isinstance(manifest, Sequence) and not isinstance(manifest, str)
        else read_manifest(manifest, max_duration=max_duration, labels=labels)
    )
    entries = read_accuracy_log(name)
    hypotheses: list[str] = []
    references: list[str] = []
    for e in entries:  # no dedupe: the reference scores every entry
        if not 0 <= e.qsl_idx < len(refs):
            raise AccuracyLogError(
                f"{name}: seq_id {e.seq_id} has qsl_idx {e.qsl_idx}, outside the "
                f"{len(refs)} manifest utterances"
            )
        ids = decode(e, dtype, source=name).tolist()
        bad = [i for i in ids if not 0 <= i < len(labels)]
        if bad:
            raise AccuracyLogError(
                f"{name}: seq_id {e.seq_id} (qsl_idx {e.qsl_idx}) has label id {bad[0]}, "
                f"outside the {len(labels)} labels; wrong dtype?"
            )
        hypotheses.append("".join(labels[i] for i in ids))
        references.append(refs[e.qsl_idx])
    return word_error_rate(hypotheses, references)


def format_wer(result: WerResult) -> str:
    """``Word Error Rate: 7.45...%, accuracy=92.54...%`` as the reference prints."""
    return f"Word Error Rate: {result.wer * 100}%, accuracy={(1 - result.wer) * 100}%"
