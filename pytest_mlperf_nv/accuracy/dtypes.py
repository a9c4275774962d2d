"""Which element type a benchmark's accuracy log holds, by the harness that wrote it.

LoadGen logs raw response bytes; only the writer knows how to read them. The official scripts
take the type as an option whose default is not what every harness writes (ImageNet's default
is float32, NVIDIA's harness writes int32; the LLM scripts default to int64, NVIDIA writes
int32), so the plugin never guesses: the type comes from this table, keyed by the benchmark and
the harness, and the result says which entry was used.

``harness="loadgen"`` is the plugin's own harness: its SUTs answer as the MLPerf reference
implementations do, so its entries are the reference's (the official scripts' defaults, where
the reference SUT writes them). ``harness="nvidia"`` entries are the ``--dtype`` /
``--output_dtype`` arguments NVIDIA's ``code/common/accuracy_checker.py`` passes (v4.0/v4.1,
unchanged in v5.0).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HARNESSES", "ResponseDtype", "UnknownDtype", "response_dtype"]

HARNESSES = ("loadgen", "nvidia")

_NV = "NVIDIA's accuracy_checker.py"


class UnknownDtype(ValueError):
    """No known element type for this benchmark on this harness."""


@dataclass(frozen=True)
class ResponseDtype:
    """The numpy dtype of a log's responses and where that answer came from."""

    dtype: str
    source: str


# family -> harness -> (dtype, source)
_TABLE: dict[str, dict[str, tuple[str, str]]] = {
    "resnet50": {
        # The plugin's resnet50 SUT writes the argmax as int32 (benchmarks/resnet50.py).
        "loadgen": ("int32", "the plugin's resnet50 SUT (argmax as int32)"),
        "nvidia": ("int32", f"{_NV}: accuracy-imagenet.py --dtype int32"),
    },
    "retinanet": {
        "loadgen": ("float32", "accuracy-openimages.py (float32 records, no option)"),
        "nvidia": ("float32", f"{_NV}: accuracy-openimages.py (float32 records, no option)"),
    },
    "bert": {
        "loadgen": ("float32", "accuracy-squad.py --output_dtype default float32"),
        # fp16 -> float16, fp32 -> float32, int8 -> float16 (NVIDIA's dtype_expand_map); resolved
        # with the precision in response_dtype.
        "nvidia": ("float16", f"{_NV}: accuracy-squad.py --output_dtype from the precision"),
    },
    "3d-unet": {
        "loadgen": ("uint8", "accuracy_kits.py --output_dtype default uint8"),
        "nvidia": ("uint8", f"{_NV}: NVIDIA's accuracy_kits.py --output_dtype default uint8"),
    },
    "dlrm-v2": {
        "loadgen": ("float32", "accuracy-dlrm.py --dtype default float32"),
        "nvidia": ("float32", f"{_NV}: accuracy-dlrm.py --dtype float32"),
    },
    "rnnt": {
        # accuracy_eval.py reads 'int32' and 'int64' both as 8-byte integers (array typecode 'l'
        # and 'q' on 64-bit Linux): int64 is what its default reads.
        "loadgen": ("int64", "accuracy_eval.py --output_dtype default int64"),
        "nvidia": ("int8", f"{_NV} (v4.0): accuracy_eval.py --output_dtype int8"),
    },
    "gptj": {
        "loadgen": ("int64", "evaluation.py --dtype default int64"),
        "nvidia": ("int32", f"{_NV}: evaluation.py --dtype int32"),
    },
    "llama2-70b": {
        "loadgen": ("int64", "evaluate-accuracy.py --dtype default int64"),
        "nvidia": ("int32", f"{_NV}: evaluate-accuracy.py --dtype int32"),
    },
    "llama3.1-8b": {
        "loadgen": ("int64", "evaluation.py --dtype default int64"),
        # NVIDIA's v4.1/v5.0 code has no llama3.1-8b.
    },
}

_BERT_PRECISION = {"fp16": "float16", "fp32": "float32", "int8": "float16"}
#: (benchmark family, log writer) whose response type follows the case's precision, and how
_BY_PRECISION = {("bert", "nvidia"): _BERT_PRECISION}


def family(benchmark: str) -> str:
    """``bert-99.9`` -> ``bert``: the accuracy-level suffix does not change the log."""
    for suffix in ("-99.9", "-99"):
        if benchmark.endswith(suffix):
            return benchmark[: -len(suffix)]
    return benchmark


def response_dtype(
    benchmark: str,
    harness: str,
    *,
    precision: str | None = None,
    override: str | None = None,
) -> ResponseDtype:
    """The element type of ``benchmark``'s accuracy log as ``harness`` writes it.

    Args:
        benchmark: registry name (``bert-99``, ``gptj-99``, ...).
        harness: ``loadgen`` or ``nvidia``.
        precision: the case's precision (``fp16``, ``int8``, ...); NVIDIA's bert log follows it.
        override: a dtype the caller knows better (a custom SUT); recorded as such.

    Raises:
        UnknownDtype: the harness is unknown or has no entry for the benchmark.
    """
    if override:
        import numpy as np

        try:
            np.dtype(override)
        except TypeError:
            raise UnknownDtype(f"{override!r} is not a numpy dtype") from None
        return ResponseDtype(str(override), "given by the caller")
    if harness not in HARNESSES:
        raise UnknownDtype(f"unknown harness {harness!r}; expected one of {', '.join(HARNESSES)}")
    entries = _TABLE.get(family(benchmark))
    if entries is None:
        raise UnknownDtype(f"no accuracy log dtype known for benchmark {benchmark!r}")
    if harness not in entries:
        raise UnknownDtype(f"harness {harness} has no {benchmark} accuracy log format the plugin knows")
    dtype, source = entries[harness]
    by_precision = _BY_PRECISION.get((family(benchmark), harness))
    if by_precision is not None and precision:
        key = precision.lower()
        dtype = by_precision.get(key, key)
        source = f"{source} ({precision} -> {dtype})"
    return ResponseDtype(dtype, source)
