"""Where each benchmark's ground truth lives: the official layouts and NVIDIA's scratch layout.

Two layouts are searched, in this order for ``harness="nvidia"`` and the other way round for
the plugin's own harness:

* NVIDIA's: what ``make download_data`` / ``preprocess_data`` of NVIDIA's submission code leave
  under ``$MLPERF_SCRATCH_PATH`` (``data/``, ``preprocessed_data/``, ``models/``; without it, the
  ``build/`` links of NVIDIA's code dir that ``make link_dirs`` points there), plus the
  ``data_maps/`` of NVIDIA's code dir, at the paths NVIDIA's ``code/common/accuracy_checker.py``
  hands the official scripts (v4.0/v4.1; DLRMv2 reads ``/home/mlperf_inf_dlrmv2`` as NVIDIA's
  container mounts it);
* the official one: the file names the MLCommons reference implementations download, under the
  plugin's data dir (``--mlperf-data-dir``), one folder per data set.

A benchmark whose files are found nowhere raises :class:`AccuracyDataMissing` (a
``ProvisionError``: the item skips with it, or fails under ``--mlperf-strict``) naming every path
that was tried and what the file is.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ProvisionError
from .dtypes import family

__all__ = ["DLRMV2_NVIDIA_DIR", "AccuracyDataMissing", "GroundTruth", "locate"]

#: where NVIDIA's container mounts the DLRMv2 files (code/dlrm-v2/tensorrt/README.md)
DLRMV2_NVIDIA_DIR = Path("/home/mlperf_inf_dlrmv2")


class AccuracyDataMissing(ProvisionError):
    """Ground truth for a benchmark's accuracy is not where the plugin looks for it."""

    def __init__(self, benchmark: str, what: str, tried: Sequence[Path], hint: str = ""):
        self.benchmark = benchmark
        self.what = what
        self.tried = tuple(tried)
        paths = ", ".join(str(p) for p in self.tried) or "(no data dir or scratch dir given)"
        super().__init__(f"{benchmark} accuracy needs {what}: not found at {paths}"
                         + (f"; {hint}" if hint else ""))


@dataclass(frozen=True)
class GroundTruth:
    """The files one benchmark's accuracy is scored against."""

    benchmark: str
    layout: str  # "official" or "nvidia"
    files: dict[str, Path]  # role -> path (val_map, annotations, squad, vocab, ...)
    extra: dict[str, str] = field(default_factory=dict)  # layout details (e.g. kits list key)

    def __getitem__(self, role: str) -> Path:
        return self.files[role]

    def paths(self) -> list[str]:
        return [str(p) for p in self.files.values()]


@dataclass(frozen=True)
class _Want:
    role: str
    what: str  # "SQuAD v1.1 dev set (dev-v1.1.json)"
    official: tuple[str, ...]  # relative to the data dir
    nvidia: tuple[str, ...]  # "scratch:..." relative to $MLPERF_SCRATCH_PATH, "code:..." to NVIDIA's code
    directory: bool = False


_HF = "a local copy of the model's tokenizer files"
#: the layout searched first for a log writer: NVIDIA's code reads its own scratch layout
_LAYOUTS_FIRST = {"nvidia": ("nvidia", "official")}

_WANTS: dict[str, tuple[_Want, ...]] = {
    "resnet50": (
        _Want("val_map", "the ImageNet validation labels (val_map.txt, '<image> <label>' per line)",
              ("imagenet/val_map.txt",), ("code:data_maps/imagenet/val_map.txt",)),
    ),
    "retinanet": (
        _Want("annotations", "the OpenImages MLPerf annotations (openimages-mlperf.json)",
              ("openimages/annotations/openimages-mlperf.json",),
              ("scratch:preprocessed_data/open-images-v6-mlperf/annotations/openimages-mlperf.json",)),
    ),
    "bert": (
        _Want("squad", "the SQuAD v1.1 dev set (dev-v1.1.json)",
              ("squad/dev-v1.1.json",), ("scratch:data/squad/dev-v1.1.json",)),
        _Want("vocab", "the BERT-Large uncased WordPiece vocabulary (vocab.txt)",
              ("squad/vocab.txt",), ("scratch:models/bert/vocab.txt", "scratch:data/squad/vocab.txt")),
    ),
    "3d-unet": (
        _Want("kits", "the KiTS19 preprocessed cases (preprocessed_files.pkl and "
                      "nifti/<case>/segmentation.nii.gz)",
              ("kits19/preprocessed_data",), ("scratch:preprocessed_data/KiTS19/reference",),
              directory=True),
    ),
    "dlrm-v2": (
        _Want("day_23", "the raw Criteo day 23 file (day_23, tab-separated, label first)",
              ("criteo/day23/raw_data", "criteo/day_23"),
              ("abs:" + str(DLRMV2_NVIDIA_DIR / "criteo/day23/raw_data"),
               "scratch:data/criteo/day23/raw_data")),
        _Want("trace", "the sample aggregation trace (sample_partition.txt)",
              ("criteo/day23/sample_partition.txt", "criteo/sample_partition.txt"),
              ("abs:" + str(DLRMV2_NVIDIA_DIR / "criteo/day23/sample_partition.txt"),
               "scratch:data/criteo/day23/sample_partition.txt")),
    ),
    "rnnt": (
        _Want("manifest", "the LibriSpeech dev-clean manifest with transcripts (dev-clean-wav.json)",
              ("LibriSpeech/dev-clean-wav.json", "librispeech/dev-clean-wav.json"),
              ("scratch:preprocessed_data/LibriSpeech/dev-clean-wav.json",)),
    ),
    "gptj": (
        _Want("dataset", "the CNN/DailyMail validation set (cnn_eval.json)",
              ("cnn-daily-mail/cnn_eval.json", "cnn_eval.json"),
              ("scratch:data/cnn-daily-mail/cnn_eval.json",)),
    ),
    "llama2-70b": (
        _Want("dataset", "the processed OpenOrca sample (open_orca_gpt4_tokenized_llama.sampled_24576.pkl)",
              ("open_orca/open_orca_gpt4_tokenized_llama.sampled_24576.pkl",),
              ("scratch:preprocessed_data/open_orca/open_orca_gpt4_tokenized_llama.sampled_24576.pkl",
               "scratch:data/llama2-70b/open_orca_gpt4_tokenized_llama.sampled_24576.pkl")),
    ),
    "llama3.1-8b": (
        _Want("dataset", "the Llama3.1-8B CNN/DailyMail evaluation set (cnn_eval.json)",
              ("llama3.1-8b/cnn_eval.json",), ("scratch:data/llama3.1-8b/cnn_eval.json",)),
    ),
}

#: tokenizer dirs per LLM: (Hugging Face hub id, NVIDIA scratch paths, data-dir paths)
TOKENIZERS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "gptj": ("EleutherAI/gpt-j-6B", ("models/GPTJ-6B/checkpoint-final",), ("models/gpt-j-6B",)),
    "llama2-70b": ("meta-llama/Llama-2-70b-chat-hf", ("models/Llama2/Llama-2-70b-chat-hf",),
                   ("models/Llama-2-70b-chat-hf",)),
    "llama3.1-8b": ("meta-llama/Llama-3.1-8B-Instruct", ("models/Llama3.1/Llama-3.1-8B-Instruct",),
                    ("models/Llama-3.1-8B-Instruct",)),
}

_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "tokenizer.model")


def _candidates(want: _Want, layout: str, data_dir: Path | None, scratch_dir: Path | None,
                code_dir: Path | None) -> list[Path]:
    if layout == "official":
        return [data_dir / rel for rel in want.official] if data_dir else []
    # Without $MLPERF_SCRATCH_PATH, NVIDIA's code dir still reaches it: `make link_dirs` links
    # build/{data,preprocessed_data,models} to the scratch path's.
    scratch = [scratch_dir] if scratch_dir else [code_dir / "build"] if code_dir else []
    out = []
    for spec in want.nvidia:
        kind, rel = spec.split(":", 1)
        if kind == "abs":
            out.append(Path(rel))
        elif kind == "code" and code_dir is not None:
            out.append(code_dir / rel)
        elif kind == "scratch":
            out += [base / rel for base in scratch]
    return out


def _exists(path: Path, directory: bool) -> bool:
    return path.is_dir() if directory else path.is_file()


def locate(
    benchmark: str,
    *,
    data_dir: Path | None,
    scratch_dir: Path | None = None,
    code_dir: Path | None = None,
    harness: str = "loadgen",
) -> GroundTruth:
    """The ground-truth files of ``benchmark``, from one layout (all files from the same one).

    Raises:
        AccuracyDataMissing: no layout holds every file; the message lists each path tried.
        KeyError: the benchmark has no accuracy ground truth the plugin knows.
    """
    fam = family(benchmark)
    wants = _WANTS[fam]
    layouts = _LAYOUTS_FIRST.get(harness, ("official", "nvidia"))
    data = Path(data_dir) if data_dir else None
    scratch = Path(scratch_dir) if scratch_dir else None
    code = Path(code_dir) if code_dir else None
    tried: dict[str, list[Path]] = {w.role: [] for w in wants}
    for layout in layouts:
        files: dict[str, Path] = {}
        for want in wants:
            cands = _candidates(want, layout, data, scratch, code)
            tried[want.role] += cands
            found = next((c for c in cands if _exists(c, want.directory)), None)
            if found is None:
                break
            files[want.role] = found
        else:
            extra = {}
            if fam == "3d-unet":
                # NVIDIA's preprocessing names the case list 'eval_list', the reference 'file_list'.
                extra["list_key"] = "eval_list" if layout == "nvidia" else "file_list"
            return GroundTruth(benchmark, layout, files, extra)
    missing = next(w for w in wants if not any(_exists(p, w.directory) for p in tried[w.role]))
    hint = ("set --mlperf-data-dir (official layout) or MLPERF_SCRATCH_PATH (NVIDIA's layout)"
            if not (data or scratch) else _layout_hint(fam))
    raise AccuracyDataMissing(benchmark, missing.what, tried[missing.role], hint)


def _layout_hint(fam: str) -> str:
    wants = _WANTS[fam]
    official = ", ".join(f"<data dir>/{w.official[0]}" for w in wants)
    return f"the official layout is {official}"


def hf_cache_dirs() -> list[Path]:
    """Hugging Face hub cache roots, as huggingface_hub resolves them (no import needed)."""
    roots = []
    if os.environ.get("HF_HUB_CACHE"):
        roots.append(Path(os.environ["HF_HUB_CACHE"]))
    if os.environ.get("HUGGINGFACE_HUB_CACHE"):
        roots.append(Path(os.environ["HUGGINGFACE_HUB_CACHE"]))
    home = Path(os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                / "huggingface")
    roots.append(home / "hub")
    return roots


def _is_tokenizer_dir(path: Path) -> bool:
    return path.is_dir() and any((path / name).is_file() for name in _TOKENIZER_FILES)


def locate_tokenizer(
    benchmark: str,
    *,
    tokenizer_path: Path | None = None,
    data_dir: Path | None = None,
    scratch_dir: Path | None = None,
) -> Path:
    """A local directory with ``benchmark``'s tokenizer files; nothing is ever downloaded.

    Order: ``tokenizer_path``; NVIDIA's model dir under the scratch path; ``<data dir>/models/..``;
    the Hugging Face cache (``$HF_HUB_CACHE``, ``$HF_HOME/hub``, ``~/.cache/huggingface/hub``), newest
    snapshot of the model's hub id.

    Raises:
        AccuracyDataMissing: none of them holds tokenizer files.
    """
    fam = family(benchmark)
    hub_id, nvidia, official = TOKENIZERS[fam]
    tried: list[Path] = []
    if tokenizer_path is not None:
        tried.append(Path(tokenizer_path))
    tried += [Path(scratch_dir) / rel for rel in nvidia] if scratch_dir else []
    tried += [Path(data_dir) / rel for rel in official] if data_dir else []
    for path in tried:
        if _is_tokenizer_dir(path):
            return path
    repo = "models--" + hub_id.replace("/", "--")
    for root in hf_cache_dirs():
        snaps = root / repo / "snapshots"
        tried.append(snaps)
        if snaps.is_dir():
            found = sorted((p for p in snaps.iterdir() if _is_tokenizer_dir(p)),
                           key=lambda p: p.stat().st_mtime, reverse=True)
            if found:
                return found[0]
    raise AccuracyDataMissing(
        benchmark, f"{_HF} ({hub_id}; tokenizer.json or vocab.json/merges.txt or tokenizer.model)", tried,
        f"the plugin never downloads one: copy the tokenizer files into <data dir>/{official[0]} (or "
        f"$MLPERF_SCRATCH_PATH/{nvidia[0]}, NVIDIA's model dir), or fetch them once into the Hugging Face "
        f"cache (huggingface-cli download {hub_id} --include 'tokenizer*' '*.json' '*.txt' '*.model')")
