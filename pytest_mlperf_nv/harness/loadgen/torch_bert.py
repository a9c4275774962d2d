"""BERT for question answering in torch: the model of MLPerf's ``bert-99`` / ``bert-99.9``.

The architecture and parameter names are those of Hugging Face's ``BertForQuestionAnswering``,
so the reference's PyTorch checkpoint (``model.pytorch``, a state dict of that class) loads as
is. The model takes one int32 array per sample, ``(3, seq_len)``: token ids, input mask and
segment ids (the layout of the plugin's SQuAD dataset), and returns ``(seq_len, 2)`` start and
end logits per sample, interleaved as the reference's SUT returns them and as
``accuracy-squad.py`` reads them.

Query, key and value projections are kept as one matrix product; attention runs through
``scaled_dot_product_attention`` with the padding mask.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...benchmarks.bert import BertConfig, read_random_spec


def _modules() -> Any:
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Embeddings(nn.Module):
        def __init__(self, c: BertConfig):
            super().__init__()
            self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size)
            self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
            self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
            self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

        def forward(self, ids: Any, segments: Any) -> Any:
            positions = torch.arange(ids.shape[1], device=ids.device)
            x = self.word_embeddings(ids) + self.position_embeddings(positions)[None] \
                + self.token_type_embeddings(segments)
            return self.LayerNorm(x)

    class Layer(nn.Module):
        def __init__(self, c: BertConfig):
            super().__init__()
            h = c.hidden_size
            self.heads = c.num_attention_heads
            self.qkv = nn.Linear(h, 3 * h)
            self.attention_output = nn.Linear(h, h)
            self.attention_norm = nn.LayerNorm(h, eps=c.layer_norm_eps)
            self.intermediate = nn.Linear(h, c.intermediate_size)
            self.output = nn.Linear(c.intermediate_size, h)
            self.output_norm = nn.LayerNorm(h, eps=c.layer_norm_eps)

        def forward(self, x: Any, mask: Any) -> Any:
            n, length, h = x.shape
            q, k, v = self.qkv(x).view(n, length, 3, self.heads, h // self.heads).permute(2, 0, 3, 1, 4)
            a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            a = a.transpose(1, 2).reshape(n, length, h)
            x = self.attention_norm(x + self.attention_output(a))
            return self.output_norm(x + self.output(F.gelu(self.intermediate(x))))

    class BertForQuestionAnswering(nn.Module):
        def __init__(self, c: BertConfig):
            super().__init__()
            self.config = c
            self.embeddings = Embeddings(c)
            self.layers = nn.ModuleList(Layer(c) for _ in range(c.num_hidden_layers))
            self.qa_outputs = nn.Linear(c.hidden_size, 2)

        def forward(self, features: Any) -> Any:
            ids, input_mask, segments = features[:, 0], features[:, 1], features[:, 2]
            # (N, 1, 1, L): every query position sees the sample's real tokens only.
            mask = (input_mask != 0)[:, None, None, :]
            x = self.embeddings(ids, segments)
            for layer in self.layers:
                x = layer(x, mask)
            return self.qa_outputs(x)  # (N, L, 2): start, end logits per position

    return BertForQuestionAnswering


def random_bert(config: BertConfig, seed: int) -> Any:
    """BERT with seeded random weights (std 0.02, as BERT's initializer): performance only."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    model = _modules()(config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.zero_()
            elif "norm" in name.lower():
                p.fill_(1.0)
            else:
                p.copy_(torch.randn(p.shape, generator=generator) * 0.02)
    return model.eval()


def _hf_to_ours(state: dict[str, Any], layers: int) -> dict[str, Any]:
    """Hugging Face ``BertForQuestionAnswering`` names -> this module's names (qkv concatenated)."""
    import torch

    def get(name: str) -> Any:
        for candidate in (name, name.replace(".weight", ".gamma").replace(".bias", ".beta")):
            if candidate in state:
                return state[candidate]
        raise KeyError(name)

    out: dict[str, Any] = {}
    e = "bert.embeddings."
    for part in ("word_embeddings", "position_embeddings", "token_type_embeddings"):
        out[f"embeddings.{part}.weight"] = get(f"{e}{part}.weight")
    out["embeddings.LayerNorm.weight"] = get(f"{e}LayerNorm.weight")
    out["embeddings.LayerNorm.bias"] = get(f"{e}LayerNorm.bias")
    for i in range(layers):
        p = f"bert.encoder.layer.{i}."
        for kind in ("weight", "bias"):
            out[f"layers.{i}.qkv.{kind}"] = torch.cat(
                [get(f"{p}attention.self.{x}.{kind}") for x in ("query", "key", "value")])
            out[f"layers.{i}.attention_output.{kind}"] = get(f"{p}attention.output.dense.{kind}")
            out[f"layers.{i}.attention_norm.{kind}"] = get(f"{p}attention.output.LayerNorm.{kind}")
            out[f"layers.{i}.intermediate.{kind}"] = get(f"{p}intermediate.dense.{kind}")
            out[f"layers.{i}.output.{kind}"] = get(f"{p}output.dense.{kind}")
            out[f"layers.{i}.output_norm.{kind}"] = get(f"{p}output.LayerNorm.{kind}")
    out["qa_outputs.weight"] = get("qa_outputs.weight")
    out["qa_outputs.bias"] = get("qa_outputs.bias")
    return out


def load_bert_checkpoint(path: Path, config: BertConfig | None = None) -> Any:
    """BERT from a PyTorch state dict in Hugging Face naming (the reference's ``model.pytorch``)."""
    import torch

    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - pickle and zip errors of several kinds
        raise ValueError(f"{path} is not a PyTorch state dict: {exc}") from None
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    if not isinstance(state, dict) or "qa_outputs.weight" not in state:
        raise ValueError(f"{path} is not a BertForQuestionAnswering state dict (no qa_outputs.weight)")
    config_file = Path(path).parent / "bert_config.json"  # the reference keeps it beside the weights
    if config is None and config_file.is_file():
        known = {f for f in BertConfig.__dataclass_fields__}
        doc = json.loads(config_file.read_text())
        config = BertConfig(**{k: v for k, v in doc.items() if k in known})
    if config is None:
        # Head size 64, as in every BERT of the paper; bert_config.json says otherwise where it differs.
        vocab, hidden = state["bert.embeddings.word_embeddings.weight"].shape
        layers = 1 + max(int(k.split(".")[3]) for k in state if k.startswith("bert.encoder.layer."))
        inter = state["bert.encoder.layer.0.intermediate.dense.weight"].shape[0]
        config = BertConfig(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers,
                            num_attention_heads=max(1, hidden // 64), intermediate_size=inter,
                            max_position_embeddings=state["bert.embeddings.position_embeddings.weight"].shape[0],
                            type_vocab_size=state["bert.embeddings.token_type_embeddings.weight"].shape[0])
    model = _modules()(config)
    try:
        model.load_state_dict(_hf_to_ours(state, config.num_hidden_layers))
    except KeyError as exc:
        raise ValueError(f"{path}: parameter {exc} is missing") from None
    return model.eval()


def is_bert_checkpoint(path: Path) -> bool:
    """A file the torch backend reads as a BERT model: a random-BERT spec or a ``.pytorch``/``.pt`` file."""
    return read_random_spec(path) is not None or path.suffix in (".pytorch", ".pt", ".pth", ".bin")
