"""MLPerf Inference benchmark rules (sizes, bounds, thresholds, scenarios per round) as data."""

from __future__ import annotations

import difflib

from .bert import BERT_99, BERT_99_9
from .dlrm_v2 import DLRM_V2_99, DLRM_V2_99_9
from .gptj import GPTJ_99
from .llama2 import LLAMA2_70B_99
from .llama3_1_8b import LLAMA3_1_8B
from .resnet50 import RESNET50
from .retinanet import RETINANET
from .rnnt import RNNT
from .rules import (
    ROUNDS,
    SCENARIOS,
    SYSTEM_TYPES,
    Accuracy,
    AccuracyMetric,
    Dataset,
    MlperfBenchmark,
    RoundInfo,
)
from .unet3d import UNET3D_99, UNET3D_99_9

__all__ = [
    "MLPERF_BENCHMARKS",
    "ROUNDS",
    "SCENARIOS",
    "SYSTEM_TYPES",
    "Accuracy",
    "AccuracyMetric",
    "Dataset",
    "MlperfBenchmark",
    "RoundInfo",
    "accepted_in",
    "by_checker_name",
    "by_conf_model",
    "get",
    "mlperf_scenarios",
]

MLPERF_BENCHMARKS: dict[str, MlperfBenchmark] = {
    b.name: b
    for b in (
        RESNET50,
        RETINANET,
        BERT_99,
        BERT_99_9,
        UNET3D_99,
        UNET3D_99_9,
        RNNT,
        DLRM_V2_99,
        DLRM_V2_99_9,
        GPTJ_99,
        LLAMA2_70B_99,
        LLAMA3_1_8B,
    )
}


def _unknown(kind: str, name: str, known: list[str]) -> KeyError:
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return KeyError(f"unknown MLPerf {kind} {name!r}{hint} (known: {', '.join(sorted(known))})")


def get(name: str) -> MlperfBenchmark:
    """The benchmark by suite name (e.g. ``"bert-99"``); also accepts its checker directory name."""
    if name in MLPERF_BENCHMARKS:
        return MLPERF_BENCHMARKS[name]
    for bench in MLPERF_BENCHMARKS.values():
        if bench.checker_name == name:
            return bench
    raise _unknown("benchmark", name, list(MLPERF_BENCHMARKS))


def by_checker_name(checker_name: str) -> MlperfBenchmark:
    """The benchmark whose submission directory / checker model name is ``checker_name``."""
    for bench in MLPERF_BENCHMARKS.values():
        if bench.checker_name == checker_name:
            return bench
    raise _unknown("checker name", checker_name, [b.checker_name for b in MLPERF_BENCHMARKS.values()])


def by_conf_model(conf_model: str) -> tuple[MlperfBenchmark, ...]:
    """All benchmarks configured by mlperf.conf model ``conf_model`` (``"bert"`` -> bert-99, bert-99.9)."""
    found = tuple(b for b in MLPERF_BENCHMARKS.values() if b.conf_model == conf_model)
    if not found:
        known = sorted({b.conf_model for b in MLPERF_BENCHMARKS.values()})
        raise _unknown("mlperf.conf model", conf_model, known)
    return found


def accepted_in(round_: str) -> tuple[MlperfBenchmark, ...]:
    """The registered benchmarks accepted in ``round_`` (``present is True``)."""
    if round_ not in ROUNDS:
        raise _unknown("round", round_, list(ROUNDS))
    return tuple(b for b in MLPERF_BENCHMARKS.values() if b.rounds[round_].present is True)


#: the order suites and node ids list scenarios in
_SUITE_ORDER = ("Offline", "Server", "SingleStream", "MultiStream")


def mlperf_scenarios(name: str) -> tuple[str, ...]:
    """Scenarios an MLPerf benchmark has in any round the rules registry knows."""
    rules = MLPERF_BENCHMARKS[name]
    if not any(info.present for info in rules.rounds.values()):
        return _SUITE_ORDER  # a retired benchmark: its rounds predate the rules registry
    found: set[str] = set()
    for info in rules.rounds.values():
        for table in (info.required_scenarios, info.optional_scenarios):
            for scenarios in table.values():
                found.update(scenarios or ())
    if rules.server_latency_bound_ns:
        found.add("Server")
    ordered = tuple(s for s in _SUITE_ORDER if s in found)
    return ordered or _SUITE_ORDER
