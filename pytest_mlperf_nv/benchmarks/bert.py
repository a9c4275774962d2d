"""``bert-99`` / ``bert-99.9``: BERT-Large on SQuAD v1.1 for the built-in harness (torch backend).

Data: ``dev-v1.1.json`` and BERT's uncased ``vocab.txt`` from ``<data dir>/squad/`` (or
``<data dir>/bert/``), turned into the reference's features once (max_seq_length 384, doc_stride
128, max_query_length 64; the project's own WordPiece tokenizer) and cached as one int32 array
``(features, 3, 384)``: token ids, input mask, segment ids. ``dataset: synthetic``: random token
ids, performance only.

Model: the reference's PyTorch checkpoint ``model.pytorch`` (a ``BertForQuestionAnswering`` state
dict) from the data dir; on synthetic data without it, a random-weight BERT-Large (the plugin
writes only its config and seed; the backend makes the weights).

Responses: ``(384, 2)`` float32 start/end logits per feature, what ``accuracy-squad.py`` reads.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets import ArrayDataset, DatasetContext
from ..errors import ProvisionError
from .base import BenchmarkDef
from .mlperf import MLPERF_BENCHMARKS

MAX_SEQ_LENGTH = 384
#: LoadGen's performance sample count for bert (mlperf.conf): the whole dev set's features
PERFORMANCE_COUNT = 10833
FEATURES_FILE = "squad-features.npy"
FEATURES_VERSION = 1
SYNTHETIC_COUNT = 2048
SYNTHETIC_SEED = 0
RANDOM_MODEL_FILE = "bert-large-random.json"
RANDOM_MODEL_SEED = 0
CHECKPOINT_FILE = "model.pytorch"
MISSING_DATA_HELP = (
    "bert on SQuAD needs dev-v1.1.json and BERT's vocab.txt in {root}; set --mlperf-data-dir (or "
    "MLPERF_NV_DATA_DIR, ini mlperf_data_dir) to a directory holding squad/, or use 'dataset: synthetic' "
    "for a performance-only run"
)


#: the file the plugin writes for a random-weight BERT (synthetic performance runs)
RANDOM_SPEC_FORMAT = "pytest-mlperf-nv/bert-random"


@dataclass(frozen=True)
class BertConfig:
    """BERT-Large uncased, as in MLPerf's ``bert_config.json``."""

    vocab_size: int = 30522
    hidden_size: int = 1024
    num_hidden_layers: int = 24
    num_attention_heads: int = 16
    intermediate_size: int = 4096
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12


def write_random_spec(path: Path, config: BertConfig, seed: int) -> None:
    """A random-weight BERT described by its config and seed (weights are made when loaded)."""
    path.write_text(json.dumps({"format": RANDOM_SPEC_FORMAT, "config": asdict(config), "seed": seed},
                               indent=2) + "\n")


def read_random_spec(path: Path) -> tuple[BertConfig, int] | None:
    """The config and seed of a random-BERT file, or None if ``path`` is not one."""
    if path.suffix != ".json":
        return None
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != RANDOM_SPEC_FORMAT:
        return None
    return BertConfig(**doc["config"]), int(doc["seed"])


def bert_response(outputs: Any) -> np.ndarray:
    """Start/end logits ``(N, L, 2)`` as one float32 row of ``2 L`` values per feature (interleaved)."""
    out = np.asarray(outputs[0] if isinstance(outputs, (list, tuple)) else outputs)
    if out.ndim != 3 or out.shape[2] != 2:
        raise ValueError(f"bert outputs must be start/end logits of shape (N, seq_len, 2), got {out.shape}")
    return np.ascontiguousarray(out, dtype=np.float32).reshape(out.shape[0], -1)


def _squad_files(root: Path) -> tuple[Path, Path]:
    return root / "dev-v1.1.json", root / "vocab.txt"


def find_squad(data_dir: Path | None, options: dict) -> Path:
    """The directory holding dev-v1.1.json and vocab.txt (options root, else <data dir>/squad or /bert)."""
    if options.get("root"):
        candidates = [Path(options["root"]).expanduser()]
    elif data_dir is not None:
        candidates = [Path(data_dir) / "squad", Path(data_dir) / "bert"]
    else:
        raise ProvisionError("no MLPerf data directory is set. "
                             + MISSING_DATA_HELP.format(root="<data dir>/squad"))
    for root in candidates:
        if all(p.is_file() for p in _squad_files(root)):
            return root
    missing = [str(p) for p in _squad_files(candidates[0]) if not p.is_file()]
    raise ProvisionError(f"{', '.join(missing)} missing. " + MISSING_DATA_HELP.format(root=candidates[0]))


def features_array(val_data: Path, vocab_file: Path, count: int | None = None) -> np.ndarray:
    """The reference's eval features as int32 ``(N, 3, 384)``: ids, input mask, segment ids."""
    from ..accuracy.squad import build_squad_features, read_squad_examples
    from ..accuracy.wordpiece import WordPieceTokenizer

    tokenizer = WordPieceTokenizer.from_file(vocab_file)
    examples = read_squad_examples(val_data)
    features = build_squad_features(examples, tokenizer)
    if count is not None:
        features = features[:count]
    out = np.zeros((len(features), 3, MAX_SEQ_LENGTH), dtype=np.int32)
    unk = tokenizer.vocab.get("[UNK]", 100)
    for i, feature in enumerate(features):
        ids = [tokenizer.vocab.get(t, unk) for t in feature.tokens]
        first_sep = feature.tokens.index("[SEP]")
        out[i, 0, : len(ids)] = ids
        out[i, 1, : len(ids)] = 1
        out[i, 2, first_sep + 1: len(ids)] = 1  # context tokens and the final [SEP]
    return out


class SquadDataset(ArrayDataset):
    """SQuAD v1.1 dev features, built once into the plugin cache and read back memory-mapped."""

    def __init__(self, root: Path, cache_dir: Path, *, count: int | None = None, verify: bool = False):
        from ..provision.cache import Cache
        from ..provision.download import file_sha256

        self.val_data, self.vocab_file = _squad_files(root)
        parts = {"dataset": "squad", "dev_sha256": file_sha256(self.val_data),
                 "vocab_sha256": file_sha256(self.vocab_file), "count": count,
                 "max_seq_length": MAX_SEQ_LENGTH, "version": FEATURES_VERSION}

        def build(staging: Path) -> None:
            np.save(staging / FEATURES_FILE, features_array(self.val_data, self.vocab_file, count))

        self.cache_entry = Cache(cache_dir).get_or_build("dataset", parts, build, verify=verify)
        data = np.load(self.cache_entry.file(FEATURES_FILE), mmap_mode="r")
        super().__init__(np.asarray(data), None, performance_count=min(len(data), PERFORMANCE_COUNT))


def squad_dataset(context: DatasetContext) -> SquadDataset:
    """SQuAD v1.1 dev (options: root, count)."""
    options = context.options or {}
    count = options.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ProvisionError(f"squad option count must be a positive integer, got {count!r}")
    return SquadDataset(find_squad(context.data_dir, options), context.cache_dir, count=count,
                        verify=context.verify)


def synthetic_squad_dataset(context: DatasetContext) -> ArrayDataset:
    """Seeded random features shaped like SQuAD's (no labels: performance only; options: count, seed)."""
    options = context.options or {}
    rng = np.random.default_rng(options.get("seed", SYNTHETIC_SEED))
    count = int(options.get("count", SYNTHETIC_COUNT))
    lengths = rng.integers(MAX_SEQ_LENGTH // 3, MAX_SEQ_LENGTH + 1, size=count)
    positions = np.arange(MAX_SEQ_LENGTH)[None, :]
    real = positions < lengths[:, None]
    out = np.zeros((count, 3, MAX_SEQ_LENGTH), dtype=np.int32)
    out[:, 0] = np.where(real, rng.integers(1000, 30522, size=(count, MAX_SEQ_LENGTH)), 0)
    out[:, 1] = real
    out[:, 2] = real & (positions >= 64)
    return ArrayDataset(out, None, performance_count=min(count, PERFORMANCE_COUNT))


def find_bert_model(data_dir: Path | None) -> Path | None:
    """The reference's ``model.pytorch``: in <data dir>/bert/, <data dir>/models/bert/, <data dir>/ or
    ``$MLPERF_SCRATCH_PATH/models/bert/``."""
    candidates: list[Path] = []
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        candidates += [root / "bert" / CHECKPOINT_FILE, root / "models" / "bert" / CHECKPOINT_FILE,
                       root / CHECKPOINT_FILE]
    scratch = os.environ.get("MLPERF_SCRATCH_PATH")
    if scratch:
        candidates.append(Path(scratch).expanduser() / "models" / "bert" / CHECKPOINT_FILE)
    return next((p for p in candidates if p.is_file()), None)


def build_random_bert(staging_dir: Path) -> str:
    """A random-weight BERT-Large: its config and seed (the torch backend makes the weights)."""
    write_random_spec(Path(staging_dir) / RANDOM_MODEL_FILE, BertConfig(), RANDOM_MODEL_SEED)
    return RANDOM_MODEL_FILE


def random_bert_key() -> dict[str, Any]:
    return {"model": "bert-large-random", "config": asdict(BertConfig()), "seed": RANDOM_MODEL_SEED,
            "format": 1}


def score_squad(log_path: Path, dataset: Any, *, dtype: str = "float32") -> tuple[dict[str, Any], str]:
    """F1 and exact match of a bert accuracy log, as ``accuracy-squad.py`` computes them.

    ``dataset`` is the run's :class:`SquadDataset` (its ``val_data`` and ``vocab_file``). Returns
    the score record (metric ``f1`` in percent, ``exact_match``, counts) and the text of
    ``accuracy.txt`` as the reference prints it (the line the submission checker reads first).
    Raises :class:`~pytest_mlperf_nv.accuracy.log.AccuracyLogError` for an unusable log.
    """
    from ..accuracy.squad import format_squad, squad_accuracy

    result = squad_accuracy(log_path, dataset.val_data, dataset.vocab_file, dtype=dtype)
    record = {"metric": "f1", "value": result.f1, "exact_match": result.exact_match,
              "questions": result.questions, "features": result.features, "entries": result.entries,
              "duplicates": result.duplicates, "unanswered": result.unanswered}
    return record, "\n".join(format_squad(result)) + "\n"


def definition(name: str = "bert-99") -> BenchmarkDef:
    """BERT-Large on SQuAD v1.1 (bert-99: 99 % of the reference F1; bert-99.9: 99.9 %)."""
    metric = MLPERF_BENCHMARKS[name].accuracy.metrics[0]
    target = metric.threshold_99_9 if name.endswith("99.9") else metric.threshold_99
    assert target is not None  # both thresholds are known for BERT
    return BenchmarkDef(
        name=name,
        loadgen_name="bert",  # mlcommons/inference: loadgen/mlperf.conf
        dataset="squad",
        datasets={"squad": "squad", "synthetic": "synthetic-squad"},
        synthetic_datasets=("synthetic-squad",),
        postprocess=bert_response,
        find_model=find_bert_model,
        build_model=build_random_bert,
        random_model=True,
        model_hint="the reference's BERT-Large checkpoint (bert/model.pytorch) and SQuAD v1.1 under squad/",
        model_key=random_bert_key,
        scenarios=("Offline", "Server", "SingleStream"),
        accuracy_metric="f1",
        accuracy_target=target,
        response_dtype="float32",
        mlperf_name=name,
        backends=("torch",),
        description="MLPerf BERT-Large on SQuAD v1.1, torch",
    )
