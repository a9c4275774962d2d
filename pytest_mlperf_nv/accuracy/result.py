"""The plugin's accuracy verdict for one run: metrics as the checker reads them, targets, provenance.

:class:`AccuracyResult` is what :func:`~pytest_mlperf_nv.accuracy.score.score_accuracy` returns:
the official-format ``accuracy.txt`` text, each metric of the benchmark *as that text prints it*
(the number the submission checker and NVIDIA's harness parse, so every verdict here is the one
they would reach), the 99 % and 99.9 % targets from the benchmark registry, and where everything
came from (response dtype, ground-truth files, sentence splitter, tokenizer).
:func:`compare_with_nvidia` sets it beside NVIDIA's own check (``metadata.json`` ``accuracy``).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["AccuracyResult", "MetricScore", "compare_with_nvidia", "junit_properties_of", "printed_decimals"]

ACCURACY_TXT = "accuracy.txt"

#: decimals each official script prints per checker metric; None: Python's full repr of a float
_DECIMALS: dict[str, int | None] = {
    "acc": 3, "mAP": 3, "AUC": 3, "DICE": 5, "F1": None, "exact_match": None, "WER": None,
    "ACCURACY": None, "ROUGE1": 4, "ROUGE2": 4, "ROUGEL": 4, "ROUGELSUM": 4, "GEN_LEN": 0,
    "TOKENS_PER_SAMPLE": 1,
}
#: metrics that depend on the sentence splitter (rougeLsum lines; gen_len counts the joining "\n")
_SPLITTER_METRICS = ("ROUGELSUM", "GEN_LEN")


def printed_decimals(metric: str) -> int | None:
    """Decimals the official script prints for ``metric`` (None: a full-precision float)."""
    return _DECIMALS.get(metric)


def _unit(metric: str) -> float:
    decimals = printed_decimals(metric)
    return 1e-6 if decimals is None else 10.0 ** -decimals


@dataclass(frozen=True)
class MetricScore:
    """One accuracy metric of the benchmark.

    Attributes:
        name: the checker's metric name (``acc``, ``mAP``, ``F1``, ``DICE``, ``AUC``, ``WER``,
            ``ROUGE1`` .. ``ROUGELSUM``, ``GEN_LEN``, ``TOKENS_PER_SAMPLE``).
        value: the value as ``accuracy.txt`` prints it, read back with the checker's pattern;
            None when the checker would find none (e.g. ``AUC=nan%``).
        exact: the value at full precision (NaN where undefined).
        reference: the reference model's value (registry).
        targets: ``{"99": lower bound, "99.9": lower bound}``, only the levels that exist; scaled
            for a total over the data set (GEN_LEN) on a partial run, see ``scaled``.
        upper_limit: the checker's upper limit, where there is one.
        passed: per target level, whether ``value`` meets it (and the upper limit).
        scaled: the fraction the targets were scaled by (1.0: not scaled).
    """

    name: str
    value: float | None
    exact: float
    reference: float | None
    targets: dict[str, float]
    upper_limit: float | None
    passed: dict[str, bool]
    scaled: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        exact = None if math.isnan(self.exact) else self.exact
        return {"name": self.name, "value": self.value, "exact": exact, "reference": self.reference,
                "targets": dict(self.targets), "upper_limit": self.upper_limit, "passed": dict(self.passed),
                "scaled": self.scaled}


@dataclass(frozen=True)
class AccuracyResult:
    """The plugin's score of one accuracy log (see the module docstring).

    Attributes:
        benchmark: registry name (``bert-99``).
        checker_name: the submission's benchmark directory name.
        level: the benchmark's own accuracy level, ``"99"`` or ``"99.9"``: the target that decides.
        metrics: every metric of the benchmark, in the registry's order.
        accuracy_txt: the official script's stdout for this log (what ``accuracy.txt`` holds).
        harness: the harness that wrote the log.
        dtype, dtype_source: the response element type used and why.
        ground_truth_layout: ``official`` or ``nvidia``; ``ground_truth``: role -> file used.
        samples: distinct samples scored; expected: samples the run should have covered;
            dataset_size: the full data set's size (registry).
        sentence_splitter, tokenizer: LLMs only: what split rougeLsum's sentences, which tokenizer
            decoded the token ids.
        problems: why the run fails besides a metric below target (an incomplete log, a metric the
            checker cannot read).
        notes: what the reader should know and does not fail the run (a fallback splitter, labels
            the official script wraps, a subset).
        details: evaluator-specific counts (duplicates, unanswered questions, ...).
    """

    benchmark: str
    checker_name: str
    level: str
    metrics: tuple[MetricScore, ...]
    accuracy_txt: str
    harness: str
    dtype: str
    dtype_source: str
    ground_truth_layout: str
    ground_truth: dict[str, str]
    samples: int
    expected: int | None
    dataset_size: int
    sentence_splitter: str | None = None
    tokenizer: str | None = None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Every metric meets the benchmark's own target (and upper limit), and nothing else failed."""
        return not self.problems and all(m.passed.get(self.level, False) for m in self.metrics)

    @property
    def headline(self) -> MetricScore:
        return self.metrics[0]

    def metric(self, name: str) -> MetricScore:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"{self.benchmark} has no accuracy metric {name!r}")

    def reasons(self) -> list[str]:
        """Why the run fails, one line each (empty when it passes)."""
        out = list(self.problems)
        for m in self.metrics:
            target = m.targets.get(self.level)
            if m.value is None or target is None or m.passed.get(self.level, False):
                continue
            scaled = f", scaled to {m.scaled:.4g} of the data set" if m.scaled != 1.0 else ""
            if m.value < target:
                out.append(f"{m.name} {_num(m.value)} is below the {self.level} % target "
                           f"{_num(target)}{scaled}")
            elif m.upper_limit is not None:
                limit = m.upper_limit * m.scaled
                out.append(f"{m.name} {_num(m.value)} is above the upper limit {_num(limit)}{scaled}")
        return out

    def summary(self) -> str:
        """``F1 90.874 (99 % target 89.965): passed``, all metrics on one line."""
        parts = []
        for m in self.metrics:
            target = m.targets.get(self.level)
            shown = "none" if m.value is None else _num(m.value)
            parts.append(f"{m.name} {shown}" + (f" (target {_num(target)})" if target is not None else ""))
        return ", ".join(parts)

    def record(self) -> dict[str, Any]:
        """The ``accuracy`` block of result.json."""
        return {
            "scored_by": "pytest-mlperf-nv",
            "benchmark": self.benchmark,
            "checker_name": self.checker_name,
            "level": self.level,
            "passed": self.passed,
            "metric": self.headline.name,
            "value": self.headline.value,
            "metrics": [m.as_dict() for m in self.metrics],
            "reasons": self.reasons(),
            "notes": list(self.notes),
            "harness": self.harness,
            "dtype": {"name": self.dtype, "source": self.dtype_source},
            "ground_truth": {"layout": self.ground_truth_layout, "files": dict(self.ground_truth)},
            "samples": {"scored": self.samples, "expected": self.expected, "dataset_size": self.dataset_size,
                        "subset": self.expected is not None and self.expected < self.dataset_size},
            "sentence_splitter": self.sentence_splitter,
            "tokenizer": self.tokenizer,
            "details": dict(self.details),
            "accuracy_txt": ACCURACY_TXT,
        }

    def junit_properties(self) -> list[tuple[str, str]]:
        """``mlperf_accuracy*`` properties for the item's JUnit test case."""
        return junit_properties_of(self.record())

    def write(self, run_dir: Path | str) -> Path:
        """Write ``accuracy.txt`` into ``run_dir`` (whole or not at all) and return its path."""
        path = Path(run_dir) / ACCURACY_TXT
        tmp = path.with_name(ACCURACY_TXT + ".tmp")
        tmp.write_text(self.accuracy_txt, encoding="utf-8")
        os.replace(tmp, path)
        return path


def junit_properties_of(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``mlperf_accuracy*`` JUnit properties of a recorded score (:meth:`AccuracyResult.record`)."""
    metrics = list(record.get("metrics") or [])
    level = str(record.get("level"))
    head = metrics[0] if metrics else {}
    target = (record.get("target") or {}).get("value") if record.get("target") else \
        (head.get("targets") or {}).get(level)
    props = [
        ("mlperf_accuracy", _fmt(head.get("value"))),
        ("mlperf_accuracy_metric", str(head.get("name"))),
        ("mlperf_accuracy_target", _fmt(target)),
        ("mlperf_accuracy_level", level),
        ("mlperf_accuracy_passed", str(bool(record.get("passed"))).lower()),
        ("mlperf_accuracy_dtype", str((record.get("dtype") or {}).get("name"))),
        ("mlperf_accuracy_ground_truth", str((record.get("ground_truth") or {}).get("layout"))),
    ]
    for m in metrics:
        name = str(m.get("name")).lower()
        props.append((f"mlperf_accuracy_{name}", _fmt(m.get("value"))))
        for lvl, target in sorted((m.get("targets") or {}).items()):
            props.append((f"mlperf_accuracy_{name}_target_{lvl.replace('.', '_')}", _fmt(target)))
    if record.get("sentence_splitter"):
        props.append(("mlperf_accuracy_sentence_splitter", str(record["sentence_splitter"])))
    if record.get("tokenizer"):
        props.append(("mlperf_accuracy_tokenizer", str(record["tokenizer"])))
    samples = record.get("samples") or {}
    if samples.get("subset"):
        props.append(("mlperf_accuracy_subset", f"{samples.get('expected')}/{samples.get('dataset_size')}"))
    return props


def _fmt(value: float | None) -> str:
    return "" if value is None else _num(value)


def _num(value: float) -> str:
    """A number as a person reads it: no exponent (gen_len is in the millions), no float noise."""
    if value != value:
        return "nan"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0")


def read_metric(text: str, pattern: str) -> float | None:
    """The first value ``pattern`` matches at the start of a line of ``text`` (the checker's way)."""
    for line in text.splitlines():
        match = re.match(pattern, line)
        if match:
            try:
                return float(match.group(1))
            except ValueError:
                continue
    return None


def compare_with_nvidia(
    ours: AccuracyResult,
    nvidia: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
) -> str | None:
    """A problem when NVIDIA's accuracy check and the plugin's disagree beyond the printed precision.

    ``nvidia`` is NVIDIA's ``metadata.json`` (its ``accuracy`` list is used) or that list itself:
    ``[{"name": "F1", "value": 90.87, "threshold": 89.96, "pass": true}, ...]``. Values are compared
    as both sides print them, with one unit of the last printed digit of slack (the two may round
    a value on the boundary differently). Returns None when every metric NVIDIA checked agrees.
    """
    entries = nvidia.get("accuracy") if isinstance(nvidia, Mapping) else nvidia
    if not entries:
        return ("NVIDIA's harness recorded no accuracy result (metadata.json has no 'accuracy') "
                "to compare with")
    if isinstance(entries, (str, bytes)):
        return f"NVIDIA's accuracy check did not run: {entries!s}"
    problems: list[str] = []
    unknown: list[str] = []
    for entry in entries:
        name = str(entry.get("name"))
        theirs = entry.get("value")
        mine_or_none = _their_metric(ours, name)
        if mine_or_none is None:
            unknown.append(name)
            continue  # a metric the registry does not score for this benchmark
        mine = mine_or_none
        name = mine.name
        if theirs is None:
            problems.append(f"{name}: NVIDIA's accuracy check found no value in its accuracy.txt, "
                            f"the plugin scored {_shown(mine.value)}")
            continue
        if mine.value is None:
            problems.append(f"{name}: NVIDIA's accuracy check read {_num(float(theirs))}, the plugin's "
                            "accuracy.txt has no value the checker can read")
            continue
        unit = _unit(name)
        if abs(float(theirs) - mine.value) > unit + 1e-9 * max(1.0, abs(mine.value)):
            why = ""
            if name in _SPLITTER_METRICS and ours.sentence_splitter not in (None, "nltk.sent_tokenize"):
                why = (f" (the plugin split sentences with its {ours.sentence_splitter}, not nltk's Punkt "
                       "data; provide it to score as the official script does)")
            problems.append(f"{name}: NVIDIA's accuracy check {_num(float(theirs))}, the plugin "
                            f"{_num(mine.value)} (differ by more than the printed precision {unit:g}){why}")
    if unknown and len(unknown) == len(entries):
        names = ", ".join(m.name for m in ours.metrics)
        problems.append(f"NVIDIA's accuracy check reported {', '.join(unknown)}, none of which is a metric "
                        f"of {ours.benchmark} ({names}): nothing to compare")
    if not problems:
        return None
    return "accuracy disagrees with NVIDIA's own check: " + "; ".join(problems)


def _their_metric(ours: AccuracyResult, name: str) -> MetricScore | None:
    """The plugin's metric NVIDIA's entry names: the checker's name in any case, or NVIDIA's
    ``accuracy`` for a benchmark whose one metric is the checker's ``acc``."""
    for m in ours.metrics:
        if m.name.lower() == name.lower():
            return m
    if name.lower() == "accuracy" and len(ours.metrics) == 1 and ours.metrics[0].name == "acc":
        return ours.metrics[0]
    return None


def _shown(value: float | None) -> str:
    return "none" if value is None else _num(value)
