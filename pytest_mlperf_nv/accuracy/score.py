"""One entry point that scores any MLPerf benchmark's accuracy log the way its official script does.

``score_accuracy("bert-99", run_dir / "mlperf_log_accuracy.json", data_dir=...)`` finds the ground
truth (:mod:`.groundtruth`), reads the log with the element type its harness writes
(:mod:`.dtypes`), runs the benchmark's evaluator, renders the official script's stdout (the
``accuracy.txt`` the submission checker parses), reads each metric back from that text with the
checker's own pattern and judges it against the registry's 99 % / 99.9 % targets
(:class:`~.result.AccuracyResult`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .dtypes import family, response_dtype
from .groundtruth import AccuracyDataMissing, GroundTruth, locate, locate_tokenizer
from .log import AccuracyLogError
from .result import AccuracyResult, MetricScore, read_metric

__all__ = ["AccuracyDataMissing", "require_ground_truth", "score_accuracy"]

#: metrics that are totals over the data set: their targets scale with a partial run
_TOTALS = ("GEN_LEN",)


def score_accuracy(
    benchmark: str,
    accuracy_log: Path | str,
    *,
    data_dir: Path | str | None,
    scratch_dir: Path | str | None = None,
    code_dir: Path | str | None = None,
    harness: str = "loadgen",
    dtype: str | None = None,
    precision: str | None = None,
    subset: int | None = None,
    tokenizer_path: Path | str | None = None,
    decoder: Callable[[Any], str] | None = None,
    use_inv_map: bool = False,
) -> AccuracyResult:
    """Score ``accuracy_log`` of ``benchmark`` as its official MLCommons script does.

    Args:
        benchmark: registry name (``resnet50``, ``retinanet``, ``bert-99``, ``bert-99.9``,
            ``3d-unet-99(.9)``, ``rnnt``, ``dlrm-v2-99(.9)``, ``gptj-99``, ``llama2-70b-99``,
            ``llama3.1-8b``).
        accuracy_log: LoadGen's ``mlperf_log_accuracy.json`` (the plugin's run dir or NVIDIA's log
            dir; never modified).
        data_dir: the plugin's data dir (official layouts).
        scratch_dir: ``$MLPERF_SCRATCH_PATH`` (NVIDIA's layout); code_dir: NVIDIA's code dir
            (its ``data_maps/``).
        harness: ``loadgen`` or ``nvidia``: who wrote the log (its element type, which layout is
            searched first).
        dtype: the response element type when the caller knows better than the table.
        precision: the case's precision (NVIDIA's bert logs follow it).
        subset: the number of samples the accuracy run covered when it was asked for fewer than the
            data set (``accuracy_samples``); None: the whole data set.
        tokenizer_path: LLMs: a local tokenizer dir (else NVIDIA's model dir, the data dir, the
            Hugging Face cache; never downloaded).
        decoder: LLMs: token ids -> text, instead of a tokenizer (a custom SUT's own).
        use_inv_map: retinanet: labels are 1-based category positions (``--use-inv-map``).

    Raises:
        AccuracyDataMissing: ground truth or tokenizer not found (a ProvisionError: skip, or
            fail under ``--mlperf-strict``); the message names the paths tried.
        AccuracyLogError: the log is unusable (truncated, wrong sizes, indices outside the data
            set, a transcript the official script would treat differently): the run fails.
        ImportError: an optional package the benchmark's evaluator needs is missing (the message
            names the extra to install).
    """
    from ..benchmarks import mlperf

    bench = mlperf.get(benchmark)
    fam = family(bench.name)
    if fam not in _SCORERS:
        raise KeyError(f"no accuracy evaluator for {benchmark!r}")
    truth = locate(bench.name, data_dir=_p(data_dir), scratch_dir=_p(scratch_dir), code_dir=_p(code_dir),
                   harness=harness)
    dt = response_dtype(bench.name, harness, precision=precision, override=dtype)
    log = Path(accuracy_log)
    ctx = _Ctx(bench=bench, log=log, truth=truth, dtype=dt.dtype, harness=harness, data_dir=_p(data_dir),
               scratch_dir=_p(scratch_dir), tokenizer_path=_p(tokenizer_path), decoder=decoder,
               use_inv_map=use_inv_map)
    outcome = _SCORERS[fam](ctx)
    dataset_size = bench.dataset.accuracy_sample_count
    expected = subset if subset is not None else outcome.ground_truth_size
    problems = list(outcome.problems)
    if expected is not None and outcome.samples != expected:
        problems.append(f"the accuracy log holds {outcome.samples} distinct samples, the run should have "
                        f"covered {expected} ({log})")
    notes = list(outcome.notes)
    if subset is not None and subset < dataset_size:
        notes.append(f"scored on {subset} of the {dataset_size} samples of the data set: not a "
                     "submittable accuracy result")
    metrics = _metrics(bench, outcome, problems)
    level = "99.9" if bench.accuracy_level == 0.999 else "99"
    return AccuracyResult(
        benchmark=bench.name, checker_name=bench.checker_name, level=level, metrics=tuple(metrics),
        accuracy_txt=outcome.text, harness=harness, dtype=dt.dtype, dtype_source=dt.source,
        ground_truth_layout=truth.layout, ground_truth={k: str(v) for k, v in truth.files.items()},
        samples=outcome.samples, expected=expected, dataset_size=dataset_size,
        sentence_splitter=outcome.splitter, tokenizer=outcome.tokenizer, problems=tuple(problems),
        notes=tuple(notes), details=outcome.details)


def require_ground_truth(
    benchmark: str,
    *,
    data_dir: Path | str | None,
    scratch_dir: Path | str | None = None,
    code_dir: Path | str | None = None,
    harness: str = "loadgen",
    tokenizer_path: Path | str | None = None,
) -> list[str]:
    """The files :func:`score_accuracy` will read for ``benchmark``; call it before the run.

    An accuracy item whose ground truth (or LLM tokenizer) is missing then skips before spending
    its run, with the same message the scoring would give.

    Raises:
        AccuracyDataMissing: as :func:`score_accuracy`.
    """
    from ..benchmarks import mlperf

    bench = mlperf.get(benchmark)
    truth = locate(bench.name, data_dir=_p(data_dir), scratch_dir=_p(scratch_dir), code_dir=_p(code_dir),
                   harness=harness)
    files = truth.paths()
    if family(bench.name) in ("gptj", "llama2-70b", "llama3.1-8b"):
        files.append(str(locate_tokenizer(bench.name, tokenizer_path=_p(tokenizer_path),
                                          data_dir=_p(data_dir), scratch_dir=_p(scratch_dir))))
    return files


def _p(value: Path | str | None) -> Path | None:
    return Path(value) if value else None


class _Ctx:
    def __init__(self, **kw: Any):
        self.__dict__.update(kw)

    bench: Any
    log: Path
    truth: GroundTruth
    dtype: str
    harness: str
    data_dir: Path | None
    scratch_dir: Path | None
    tokenizer_path: Path | None
    decoder: Callable[[Any], str] | None
    use_inv_map: bool


class _Outcome:
    """What an evaluator leaves: the text, exact values by checker metric name, counts."""

    def __init__(self, text: str, exact: dict[str, float], samples: int, ground_truth_size: int | None,
                 **kw: Any):
        self.text = text
        self.exact = exact
        self.samples = samples
        self.ground_truth_size = ground_truth_size
        self.problems: list[str] = kw.get("problems", [])
        self.notes: list[str] = kw.get("notes", [])
        self.details: dict[str, Any] = kw.get("details", {})
        self.splitter: str | None = kw.get("splitter")
        self.tokenizer: str | None = kw.get("tokenizer")


def _lines(lines: Sequence[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _metrics(bench: Any, outcome: _Outcome, problems: list[str]) -> list[MetricScore]:
    from ..submission.rules import ACC_PATTERN

    out = []
    for metric in bench.accuracy.metrics:
        pattern = ACC_PATTERN.get(metric.name)
        value = read_metric(outcome.text, pattern) if pattern else None
        exact = float(outcome.exact.get(metric.name, float("nan")))
        if value is None:
            problems.append(f"accuracy.txt has no {metric.name} value the submission checker can read "
                            f"(it looks for a line like {bench.accuracy.checker_line!r})"
                            + (f"; the score is undefined ({exact})" if exact != exact else ""))
        scale = 1.0
        if metric.name in _TOTALS and outcome.samples < bench.dataset.accuracy_sample_count:
            scale = outcome.samples / bench.dataset.accuracy_sample_count
        targets = {level: t * scale for level, t in (("99", metric.threshold_99),
                                                     ("99.9", metric.threshold_99_9)) if t is not None}
        upper = metric.upper_limit * scale if metric.upper_limit is not None else None
        passed = {level: value is not None and value >= t and (upper is None or value <= upper)
                  for level, t in targets.items()}
        out.append(MetricScore(metric.name, value, exact, metric.reference, targets, metric.upper_limit,
                               passed, scale))
    if any(m.scaled != 1.0 for m in out):
        names = ", ".join(m.name for m in out if m.scaled != 1.0)
        outcome.notes.append(f"{names}: a total over the data set; its targets were scaled to the "
                             f"{outcome.samples} samples scored")
    return out


# ---------------------------------------------------------------------------------------- scorers


def _resnet50(c: _Ctx) -> _Outcome:
    from .classification import format_imagenet, read_val_map, top1

    labels = read_val_map(c.truth["val_map"])
    r = top1(c.log, labels, dtype=c.dtype)
    return _Outcome(format_imagenet(r) + "\n", {"acc": 100.0 * r.accuracy}, r.total, len(labels),
                    details={"good": r.good, "duplicates": r.duplicates})


def _retinanet(c: _Ctx) -> _Outcome:
    from .detection import format_openimages, openimages_map

    try:
        r = openimages_map(c.log, annotations_file=c.truth["annotations"], use_inv_map=c.use_inv_map)
    except ImportError as exc:
        raise ImportError(f"retinanet accuracy needs pycocotools ({exc}); "
                          "pip install 'pytest-mlperf-nv[accuracy]'") from None
    with open(c.truth["annotations"], encoding="utf-8") as f:
        n_images = len(json.load(f).get("images", []))
    notes = []
    if r.wrapped_labels:
        notes.append(f"{r.wrapped_labels} detection(s) with a negative label were scored as the last "
                     "categories, as the official script's inverse label map does")
    return _Outcome(_lines(format_openimages(r)), {"mAP": 100.0 * r.mAP}, r.images, n_images, notes=notes,
                    details={"detections": len(r.detections), "no_results": r.no_results,
                             "duplicates": r.duplicates, "mismatched_records": r.mismatched_records,
                             "wrapped_labels": r.wrapped_labels})


def _bert(c: _Ctx) -> _Outcome:
    from .squad import build_squad_features, format_squad, read_squad_examples, squad_accuracy
    from .wordpiece import WordPieceTokenizer

    features = build_squad_features(read_squad_examples(c.truth["squad"]),
                                    WordPieceTokenizer.from_file(c.truth["vocab"]))
    r = squad_accuracy(c.log, c.truth["squad"], c.truth["vocab"], dtype=c.dtype, features=features)
    return _Outcome(_lines(format_squad(r)), {"F1": r.f1, "exact_match": r.exact_match},
                    r.entries - r.duplicates, len(features),
                    details={"exact_match": r.exact_match, "questions": r.questions,
                             "unanswered": r.unanswered, "duplicates": r.duplicates})


def _unet(c: _Ctx) -> _Outcome:
    from .segmentation import format_kits, kits_dice, read_preprocessed_files

    try:
        r = kits_dice(c.log, c.truth["kits"], output_dtype=c.dtype)
    except ImportError as exc:
        raise ImportError(f"3d-unet accuracy needs nibabel ({exc}); "
                          "pip install 'pytest-mlperf-nv[accuracy]'") from None
    cases, _ = read_preprocessed_files(c.truth["kits"])
    return _Outcome(_lines(format_kits(r)), {"DICE": r.mean}, len(r.cases), len(cases),
                    details={"kidney": r.kidney, "tumor": r.tumor})


def _dlrm(c: _Ctx) -> _Outcome:
    from .recommendation import dlrm_auc, format_dlrm

    r = dlrm_auc(c.log, dtype=c.dtype, day_23_file=c.truth["day_23"],
                 aggregation_trace_file=c.truth["trace"])
    problems = []
    if r.auc != r.auc:
        problems.append(f"ROC AUC is undefined: all {r.total} labels of the logged samples are of one class "
                        "(the official script prints AUC=nan%)")
    return _Outcome(_lines(format_dlrm(r)), {"AUC": 100.0 * r.auc}, r.queries, r.trace_samples,
                    problems=problems, details={"accuracy": 100.0 * r.accuracy, "items": r.total,
                                                "duplicates": r.duplicates})


def _rnnt(c: _Ctx) -> _Outcome:
    from .wer import format_wer, read_manifest, rnnt_wer

    refs = read_manifest(c.truth["manifest"])
    r = rnnt_wer(c.log, refs, dtype=c.dtype)
    return _Outcome(format_wer(r) + "\n", {"WER": 100.0 * (1 - r.wer)}, r.samples, len(refs),
                    details={"wer": 100.0 * r.wer, "errors": r.errors, "words": r.words})


def _llm(c: _Ctx) -> _Outcome:
    from .rouge import format_llm, llm_accuracy, tokenizer_decoder

    refs = _llm_references(c)
    tokenizer = None
    decoder = c.decoder
    if decoder is None:
        path = locate_tokenizer(c.bench.name, tokenizer_path=c.tokenizer_path, data_dir=c.data_dir,
                                scratch_dir=c.scratch_dir)
        try:
            decoder = tokenizer_decoder(path)
        except ImportError:
            raise AccuracyDataMissing(
                c.bench.name, "the 'transformers' package to load its tokenizer", [path],
                "pip install 'pytest-mlperf-nv[accuracy-llm]'") from None
        except (OSError, ValueError) as exc:
            raise AccuracyLogError(f"{path}: the tokenizer does not load: {exc}") from None
        tokenizer = str(path)
    nltk_data = [c.data_dir / "nltk_data"] if c.data_dir else []
    r = llm_accuracy(c.log, refs, decode=decoder, dtype=c.dtype, benchmark=c.bench.name, nltk_data=nltk_data)
    notes = []
    if r.sentence_splitter != "nltk.sent_tokenize":
        notes.append(f"rougeLsum and gen_len were scored with the plugin's {r.sentence_splitter} sentence "
                     "splitter, not nltk's Punkt data (not installed): they may differ slightly from the "
                     "official script's; install it with 'python -m nltk.downloader -d <data dir>/nltk_data "
                     "punkt punkt_tab'")
    exact = {"ROUGE1": r.rouge1, "ROUGE2": r.rouge2, "ROUGEL": r.rougeL, "ROUGELSUM": r.rougeLsum,
             "GEN_LEN": r.gen_len, "TOKENS_PER_SAMPLE": r.tokens_per_sample}
    text = "\nResults\n\n" + format_llm(r) + "\n"
    return _Outcome(text, exact, r.gen_num, len(refs), notes=notes, splitter=r.sentence_splitter,
                    tokenizer=tokenizer or "given by the caller",
                    details={"gen_num": r.gen_num, "gen_tok_len": r.gen_tok_len, "duplicates": r.duplicates})


def _llm_references(c: _Ctx) -> list[str]:
    path = c.truth["dataset"]
    if path.suffix == ".pkl":
        try:
            import pandas as pd
        except ImportError:
            raise AccuracyDataMissing(c.bench.name, "pandas to read the OpenOrca pickle", [path],
                                      "pip install pandas") from None
        # A pandas pickle runs code when loaded: it is the user's own data set file, read as the
        # official script reads it.
        data = pd.read_pickle(os.fspath(path))
        return [str(x) for x in data["output"]]
    try:
        with open(path, encoding="utf-8") as f:
            rows = json.load(f)
        return [f"{row['output']}" for row in rows]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AccuracyLogError(f"{path}: not a data set of records with an 'output' field: {exc!r}") from None


_SCORERS: dict[str, Callable[[_Ctx], _Outcome]] = {
    "resnet50": _resnet50,
    "retinanet": _retinanet,
    "bert": _bert,
    "3d-unet": _unet,
    "dlrm-v2": _dlrm,
    "rnnt": _rnnt,
    "gptj": _llm,
    "llama2-70b": _llm,
    "llama3.1-8b": _llm,
}
