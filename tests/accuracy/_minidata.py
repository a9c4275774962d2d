"""Miniature data sets in the official layouts (and NVIDIA's), with accuracy logs to score.

Each ``make_<benchmark>(root, layout, right=True)`` writes a few samples of the benchmark's
ground truth where :func:`pytest_mlperf_nv.accuracy.locate` looks for it (``layout`` ``official``:
under ``root/data``; ``nvidia``: under ``root/scratch``) and a ``mlperf_log_accuracy.json`` in
``root/log`` whose responses are all right (``right=True``) or all wrong, in the element type
the harness writes. It returns a :class:`Mini` with the paths to pass to ``score_accuracy``.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest


@dataclass
class Mini:
    benchmark: str
    log: Path
    kwargs: dict[str, Any] = field(default_factory=dict)


def write_log(path: Path, responses: list[tuple[int, bytes]]) -> Path:
    """A LoadGen accuracy log, byte for byte as LoadGen writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = ",\n".join(f'{{ "seq_id" : {i}, "qsl_idx" : {idx}, "data" : "{data.hex().upper()}" }}'
                      for i, (idx, data) in enumerate(responses))
    path.write_text("[\n" + body + ("\n" if body else "") + "]\n")
    return path


def _base(root: Path, layout: str) -> tuple[Path, dict[str, Any]]:
    if layout == "official":
        return root / "data", {"data_dir": root / "data", "harness": "loadgen"}
    return root / "scratch", {"data_dir": None, "scratch_dir": root / "scratch", "harness": "nvidia"}


def _put(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------- resnet50


def make_resnet50(root: Path, layout: str = "official", right: bool = True) -> Mini:
    labels = [65, 970, 230, 809, 516, 57, 334, 415]
    base, kw = _base(root, layout)
    lines = "".join(f"ILSVRC2012_val_{i + 1:08d}.JPEG {label}\n" for i, label in enumerate(labels))
    if layout == "official":
        _put(base / "imagenet" / "val_map.txt", lines)
    else:  # NVIDIA's val_map lives in its code dir's data_maps/, tab-separated
        kw["code_dir"] = root / "nvidia-code"
        _put(root / "nvidia-code" / "data_maps" / "imagenet" / "val_map.txt", lines.replace(" ", "\t"))
    preds = labels if right else [(x + 1) % 1000 for x in labels]
    log = write_log(root / "log" / "mlperf_log_accuracy.json",
                    [(i, np.int32(p).tobytes()) for i, p in reversed(list(enumerate(preds)))])
    return Mini("resnet50", log, kw)


# -------------------------------------------------------------------------------- retinanet


def make_retinanet(root: Path, layout: str = "official", right: bool = True) -> Mini:
    base, kw = _base(root, layout)
    images, annotations, boxes = [], [], []
    for i in range(4):
        h, w = 480 + 10 * i, 640
        images.append({"id": 100 + i, "file_name": f"img{i}.jpg", "height": h, "width": w,
                       "coco_url": f"https://example.invalid/img{i}.jpg"})
        x, y, bw, bh = 50.0 + 10 * i, 40.0, 200.0, 150.0
        cat = 1 + i % 3
        annotations.append({"id": i + 1, "image_id": 100 + i, "category_id": cat, "bbox": [x, y, bw, bh],
                            "area": bw * bh, "iscrowd": 0})
        boxes.append((i, y / h, x / w, (y + bh) / h, (x + bw) / w, cat))
    doc = {"images": images, "annotations": annotations,
           "categories": [{"id": k, "name": f"class{k}"} for k in (1, 2, 3)]}
    rel = ("openimages/annotations/openimages-mlperf.json" if layout == "official"
           else "preprocessed_data/open-images-v6-mlperf/annotations/openimages-mlperf.json")
    _put(base / rel, json.dumps(doc))
    responses = []
    for i, ymin, xmin, ymax, xmax, cat in boxes:
        label = cat if right else 1 + cat % 3
        rec = np.array([i, ymin, xmin, ymax, xmax, 0.9, label], dtype=np.float32)
        responses.append((i, rec.tobytes()))
    return Mini("retinanet", write_log(root / "log" / "mlperf_log_accuracy.json", responses), kw)


# ------------------------------------------------------------------------------------ bert

SQUAD_CONTEXTS = [
    ("The castle was built in 1066 by the Normans near the river. It stood for three centuries.",
     [("q1", "When was the castle built?", "1066"), ("q2", "Who built the castle?", "the Normans")]),
    ("Marie Curie won the Nobel Prize in physics and later in chemistry for her research.",
     [("q3", "What did Marie Curie win?", "the Nobel Prize")]),
]


def squad_vocab() -> list[str]:
    words = set()
    from pytest_mlperf_nv.accuracy.wordpiece import BasicTokenizer

    basic = BasicTokenizer()
    for ctx, qas in SQUAD_CONTEXTS:
        words.update(basic.tokenize(ctx))
        for _, question, _ in qas:
            words.update(basic.tokenize(question))
    return ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(words)]


def make_bert(root: Path, layout: str = "official", right: bool = True, *, benchmark: str = "bert-99",
              dtype: str | None = None) -> Mini:
    from pytest_mlperf_nv.accuracy.squad import build_squad_features, read_squad_examples
    from pytest_mlperf_nv.accuracy.wordpiece import WordPieceTokenizer, load_vocab

    base, kw = _base(root, layout)
    data = {"version": "1.1", "data": [{"title": "mini", "paragraphs": [
        {"context": ctx, "qas": [{"id": qid, "question": q, "answers": [
            {"text": a, "answer_start": ctx.index(a)}]} for qid, q, a in qas]}
        for ctx, qas in SQUAD_CONTEXTS]}]}
    if layout == "official":
        squad = _put(base / "squad" / "dev-v1.1.json", json.dumps(data))
        vocab = _put(base / "squad" / "vocab.txt", "\n".join(squad_vocab()) + "\n")
    else:
        squad = _put(base / "data" / "squad" / "dev-v1.1.json", json.dumps(data))
        vocab = _put(base / "models" / "bert" / "vocab.txt", "\n".join(squad_vocab()) + "\n")
    dtype = dtype or ("float32" if layout == "official" else "float16")  # NVIDIA logs fp16 logits
    tok = WordPieceTokenizer(load_vocab(vocab))
    examples = read_squad_examples(squad)
    answers = {qid: a for _, qas in SQUAD_CONTEXTS for qid, _, a in qas}
    responses = []
    for fid, feat in enumerate(build_squad_features(examples, tok)):
        ex = examples[feat.example_index]
        answer = tok.tokenize(answers[ex.qas_id])
        if not right:
            answer = tok.tokenize("river" if "river" in " ".join(ex.doc_words) else "research")
        start = next(p for p in feat.token_to_word if feat.tokens[p:p + len(answer)] == answer)
        logits = np.full((len(feat.tokens), 2), -5.0, dtype=dtype)
        logits[start, 0] = 10.0
        logits[start + len(answer) - 1, 1] = 10.0
        responses.append((fid, logits.tobytes()))
    return Mini(benchmark, write_log(root / "log" / "mlperf_log_accuracy.json", responses), kw)


# --------------------------------------------------------------------------------- 3d-unet


def make_unet(root: Path, layout: str = "official", right: bool = True,
              *, benchmark: str = "3d-unet-99") -> Mini:
    import nibabel as nib

    base, kw = _base(root, layout)
    kits = base / ("kits19/preprocessed_data" if layout == "official"
                   else "preprocessed_data/KiTS19/reference")
    cases = ["case_00000", "case_00001"]
    shape = (6, 5, 4)
    rng = np.random.default_rng(7)
    responses = []
    meta: dict[str, Any] = {}
    for q, case in enumerate(cases):
        gt = np.zeros(shape, dtype=np.uint8)
        gt[1:4, 1:4, 1:3] = 1
        gt[2, 2, 1] = 2
        gt[3, 3, 2] = 2
        path = kits / "nifti" / case / "segmentation.nii.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        nib.save(nib.Nifti1Image(gt, affine=np.eye(4)), str(path))
        meta[case] = {"image_shape": (1, *shape)}
        pred = gt if right else rng.integers(0, 3, size=shape).astype(np.uint8) * (gt == 0)
        responses.append((q, np.ascontiguousarray(pred[None]).tobytes()))
    key = "file_list" if layout == "official" else "eval_list"
    _put(kits / "preprocessed_files.pkl", pickle.dumps({key: cases, "cases": meta}))
    return Mini(benchmark, write_log(root / "log" / "mlperf_log_accuracy.json", responses), kw)


# --------------------------------------------------------------------------------- dlrm-v2


def make_dlrm(root: Path, layout: str = "official", right: bool = True,
              *, benchmark: str = "dlrm-v2-99", one_class: bool = False) -> Mini:
    base, kw = _base(root, layout)
    counts = [3, 2, 4, 1]
    labels = [1, 0, 1, 0, 0, 1, 1, 0, 1, 0]
    if one_class:
        labels = [0] * len(labels)
    crit = base / ("criteo/day23" if layout == "official" else "data/criteo/day23")
    _put(crit / "raw_data", "".join(f"{y}\t1\t2\t3\tabc\n" for y in labels))
    lines, start = [], 0
    for c in counts:
        lines.append(f"{start}, {start + c - 1}, {c}\n")
        start += c
    _put(crit / "sample_partition.txt", "".join(lines))
    responses, start = [], 0
    for q, c in enumerate(counts):
        ys = np.array(labels[start:start + c], dtype=np.float32)
        preds = (0.1 + 0.8 * ys) if right else (0.9 - 0.8 * ys)
        responses.append((q, preds.astype(np.float32).tobytes()))
        start += c
    return Mini(benchmark, write_log(root / "log" / "mlperf_log_accuracy.json", responses), kw)


# ------------------------------------------------------------------------------------ rnnt

RNNT_TRANSCRIPTS = ["he was in a fevered state of mind", "the cat sat on the mat",
                    "it's a long way to the north", "she said nothing at all"]


def make_rnnt(root: Path, layout: str = "official", right: bool = True,
              *, transcripts: list[str] | None = None) -> Mini:
    from pytest_mlperf_nv.accuracy.wer import RNNT_LABELS

    base, kw = _base(root, layout)
    texts = transcripts or RNNT_TRANSCRIPTS
    manifest = [{"files": [{"fname": f"dev-clean-wav/{i}.wav", "speed": 1, "duration": 3.0}],
                 "original_duration": 3.0 + i, "original_num_samples": 48000, "transcript": t}
                for i, t in enumerate(texts)]
    manifest.insert(2, {"files": [], "original_duration": 20.0, "original_num_samples": 1,
                        "transcript": "dropped because it is longer than fifteen seconds"})
    rel = "LibriSpeech/dev-clean-wav.json" if layout == "official" else \
        "preprocessed_data/LibriSpeech/dev-clean-wav.json"
    _put(base / rel, json.dumps(manifest))
    dtype = np.int64 if layout == "official" else np.int8
    index = {c: i for i, c in enumerate(RNNT_LABELS)}
    responses = []
    for q, t in enumerate(texts):
        hyp = t if right else "zzz qqq"
        ids = np.array([index[c] for c in hyp.lower() if c in index], dtype=dtype)
        responses.append((q, ids.tobytes()))
    return Mini("rnnt", write_log(root / "log" / "mlperf_log_accuracy.json", responses), kw)


# ------------------------------------------------------------------------------------- LLMs

_WORDS = ("the council said on monday that the new bridge would open next spring. officials expect "
          "heavy traffic in the first weeks. residents welcomed the plan. critics warned about the cost. "
          "the mayor promised a review of the budget. work starts in june.").split()


def llm_text(seed: int, words: int) -> str:
    rng = np.random.default_rng(seed)
    picks = [_WORDS[(seed * 7 + k) % len(_WORDS)] if k % 5 else _WORDS[int(rng.integers(len(_WORDS)))]
             for k in range(words)]
    text = " ".join(picks)
    return text if text.endswith(".") else text + "."


def make_tokenizer(path: Path, texts: list[str]) -> Path:
    """A word-level Hugging Face tokenizer (tokenizer.json + config) that round-trips ``texts``."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import WhitespaceSplit

    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for t in texts:
        for w in t.split():
            vocab.setdefault(w, len(vocab))
    tok = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = WhitespaceSplit()
    path.mkdir(parents=True, exist_ok=True)
    tok.save(str(path / "tokenizer.json"))
    (path / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "unk_token": "<unk>", "bos_token": "<s>",
        "eos_token": "</s>", "clean_up_tokenization_spaces": False}))
    (path / "special_tokens_map.json").write_text(json.dumps(
        {"unk_token": "<unk>", "bos_token": "<s>", "eos_token": "</s>"}))
    return path


#: words per reference so that the miniature sets land inside each benchmark's length targets
_LLM_WORDS = {"gptj-99": 52, "llama3.1-8b": 105, "llama2-70b-99": 294}


def make_llm(root: Path, benchmark: str, layout: str = "official", right: bool = True) -> Mini:
    base, kw = _base(root, layout)
    n_words = _LLM_WORDS[benchmark]
    refs = [llm_text(s, n_words) for s in range(3)]
    wrong = [" ".join(["nothing"] * n_words) + "." for _ in refs]
    tok_dir = make_tokenizer(root / "tokenizer", refs + wrong)
    kw["tokenizer_path"] = tok_dir
    if benchmark == "llama2-70b-99":
        import pandas as pd

        rel = ("open_orca/" if layout == "official" else "preprocessed_data/open_orca/") + \
            "open_orca_gpt4_tokenized_llama.sampled_24576.pkl"
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"input": ["q"] * len(refs), "output": refs}).to_pickle(path)
    else:
        rel = {"gptj-99": "cnn-daily-mail/cnn_eval.json" if layout == "official" else
               "data/cnn-daily-mail/cnn_eval.json",
               "llama3.1-8b": "llama3.1-8b/cnn_eval.json" if layout == "official" else
               "data/llama3.1-8b/cnn_eval.json"}[benchmark]
        _put(base / rel, json.dumps([{"instruction": "Summarize", "input": "article", "output": r}
                                     for r in refs]))
    vocab = json.loads((tok_dir / "tokenizer.json").read_text())["model"]["vocab"]
    dtype = np.int64 if layout == "official" else np.int32
    responses = []
    for q, text in enumerate(refs if right else wrong):
        ids = np.array([vocab[w] for w in text.split()] + [2], dtype=dtype)  # EOS, skipped on decode
        responses.append((q, ids.tobytes()))
    return Mini(benchmark, write_log(root / "log" / "mlperf_log_accuracy.json", responses), kw)


MAKERS = {
    "resnet50": make_resnet50,
    "retinanet": make_retinanet,
    "bert-99": make_bert,
    "3d-unet-99": make_unet,
    "dlrm-v2-99": make_dlrm,
    "rnnt": make_rnnt,
}


def make(benchmark: str, root: Path, layout: str = "official", right: bool = True) -> Mini:
    if benchmark in _LLM_WORDS:
        return make_llm(root, benchmark, layout, right)
    return MAKERS[benchmark](root, layout, right)


# ------------------------------------------------------------------------------ checking

#: optional packages each benchmark's evaluator needs (tests skip without them)
NEEDS = {
    "retinanet": ("pycocotools",),
    "3d-unet-99": ("nibabel",),
    "dlrm-v2-99": ("sklearn",),
    "gptj-99": ("rouge_score", "transformers"),
    "llama3.1-8b": ("rouge_score", "transformers"),
    "llama2-70b-99": ("rouge_score", "transformers", "pandas"),
}


def checker_read(benchmark: str, text: str, tmp_path: Path) -> tuple[dict[str, float], set[str]]:
    """What the plugin's submission checker reads from this accuracy.txt, and its finding kinds."""
    from pytest_mlperf_nv.benchmarks import mlperf
    from pytest_mlperf_nv.submission.check import _Checker, _Ctx

    bench = mlperf.get(benchmark)
    txt = tmp_path / "checked" / "accuracy.txt"
    txt.parent.mkdir(parents=True, exist_ok=True)
    txt.write_text(text)
    checker = _Checker(tmp_path, "v6.0", {})
    values = checker.check_accuracy_txt(_Ctx("closed", "acme", tmp_path, benchmark=bench.checker_name,
                                             bench=bench), txt)
    # GEN_LEN is a total over the whole data set: the checker (rightly) finds a miniature set's short.
    return values, {f.kind for f in checker.findings if not f.message.startswith("GEN_LEN")}


def needs(benchmark: str) -> None:
    """Skip, saying which, when an optional package ``benchmark``'s evaluator needs is missing."""
    for module in NEEDS.get(benchmark.replace("-99.9", "-99"), ()):
        pytest.importorskip(module, reason=f"{benchmark} accuracy needs {module}")
