"""Architecture numbers of decoder-only models: from a local ``config.json`` or a table of public facts.

`polyalign plan` must work offline for the shipped recipes' public models, whose weights are not on
this machine; their shapes are published in each model's ``config.json`` on the hub and copied here.
A local folder (or a pulled zoo model) is always read from its own ``config.json`` instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from polyalign.errors import InputError

__all__ = ["Architecture", "architecture_for", "public_architectures", "from_config"]


@dataclass(frozen=True)
class Architecture:
    """The shape of a LLaMA-style decoder (attention + gated MLP + RMSNorm)."""

    name: str
    """Display name."""
    hidden: int
    """Hidden size (d_model)."""
    layers: int
    """Decoder layers."""
    heads: int
    """Attention heads."""
    kv_heads: int
    """Key/value heads (grouped-query attention when fewer than heads)."""
    intermediate: int
    """MLP inner size."""
    vocab: int
    """Vocabulary rows of the embedding (and of the output projection)."""
    tied: bool
    """Output projection shares the embedding matrix."""
    dtype_bytes: int = 2
    """Bytes per weight as published (config torch_dtype); used when a recipe says model_dtype: auto."""

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @property
    def kv_dim(self) -> int:
        """Width of the key (and of the value) projection."""
        return self.kv_heads * self.head_dim

    @property
    def layer_params(self) -> int:
        """Parameters of one decoder layer: q, k, v, o, gate, up, down and two norms."""
        attention = 2 * self.hidden * self.hidden + 2 * self.hidden * self.kv_dim
        return attention + 3 * self.hidden * self.intermediate + 2 * self.hidden

    @property
    def embedding_params(self) -> int:
        return self.vocab * self.hidden

    @property
    def params(self) -> int:
        """All parameters (the embedding counted once when tied)."""
        head = 0 if self.tied else self.embedding_params
        return self.embedding_params + head + self.layers * self.layer_params + self.hidden

    @property
    def matmul_params(self) -> int:
        """Parameters used in matrix products per token (everything but the embedding lookup): 2N FLOPs/token."""
        return self.layers * self.layer_params + self.embedding_params

    @property
    def largest_layer_params(self) -> int:
        """The largest single module (DeepSpeed's ``largest_layer_params``): embedding or a decoder layer."""
        return max(self.embedding_params, self.layer_params)

    def linear_shapes(self) -> dict[str, tuple[int, int]]:
        """``(in, out)`` features of each linear module of a layer, by its Hugging Face name."""
        h, i, kv = self.hidden, self.intermediate, self.kv_dim
        return {"q_proj": (h, h), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (h, h),
                "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}


def _arch(name: str, hidden: int, layers: int, heads: int, kv_heads: int, intermediate: int, vocab: int,
          tied: bool = False) -> Architecture:
    return Architecture(name, hidden, layers, heads, kv_heads, intermediate, vocab, tied)


# From each model's config.json on the Hugging Face hub (public facts; LLaMA and LLaMA-2 share shapes
# up to 13B; LLaMA-1's largest is 65B with full attention, LLaMA-2-70B uses 8 key/value heads).
_LLAMA_7B = _arch("LLaMA-7B", 4096, 32, 32, 32, 11008, 32000)
_LLAMA_13B = _arch("LLaMA-13B", 5120, 40, 40, 40, 13824, 32000)
_PUBLIC: dict[str, Architecture] = {
    "huggyllama/llama-7b": _LLAMA_7B,
    "huggyllama/llama-13b": _LLAMA_13B,
    "huggyllama/llama-30b": _arch("LLaMA-30B", 6656, 60, 52, 52, 17920, 32000),
    "huggyllama/llama-65b": _arch("LLaMA-65B", 8192, 80, 64, 64, 22016, 32000),
    "meta-llama/llama-2-7b-hf": replace(_LLAMA_7B, name="LLaMA-2-7B"),
    "meta-llama/llama-2-13b-hf": replace(_LLAMA_13B, name="LLaMA-2-13B"),
    "meta-llama/llama-2-70b-hf": _arch("LLaMA-2-70B", 8192, 80, 64, 8, 28672, 32000),
    "huggingfacetb/smollm2-135m-instruct": _arch("SmolLM2-135M", 576, 30, 9, 3, 1536, 49152, tied=True),
    "huggingfacetb/smollm2-360m-instruct": _arch("SmolLM2-360M", 960, 32, 15, 5, 2560, 49152, tied=True),
    "huggingfacetb/smollm2-1.7b-instruct": _arch("SmolLM2-1.7B", 2048, 24, 32, 32, 8192, 49152, tied=True),
}
_ALIASES = {
    "meta-llama/llama-2-7b-chat-hf": "meta-llama/llama-2-7b-hf",
    "meta-llama/llama-2-13b-chat-hf": "meta-llama/llama-2-13b-hf",
    "meta-llama/llama-2-70b-chat-hf": "meta-llama/llama-2-70b-hf",
    "huggingfacetb/smollm2-135m": "huggingfacetb/smollm2-135m-instruct",
    "huggingfacetb/smollm2-360m": "huggingfacetb/smollm2-360m-instruct",
    "huggingfacetb/smollm2-1.7b": "huggingfacetb/smollm2-1.7b-instruct",
    "smollm2-135m-instruct": "huggingfacetb/smollm2-135m-instruct",  # the embedded zoo model
}


def public_architectures() -> dict[str, Architecture]:
    """The table of public models, by lower-cased hub id (aliases included)."""
    table = dict(_PUBLIC)
    table.update({alias: _PUBLIC[target] for alias, target in _ALIASES.items()})
    return table


def from_config(path: str | Path) -> Architecture:
    """Read a Hugging Face ``config.json`` (a file or the folder holding it)."""
    path = Path(path)
    file = path / "config.json" if path.is_dir() else path
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
        config = config.get("text_config", config)  # multimodal wrappers keep the decoder's shape here
        heads = int(config["num_attention_heads"])
        dtype = str(config.get("torch_dtype") or config.get("dtype") or "bfloat16")
        return Architecture(
            name=path.name, hidden=int(config["hidden_size"]), layers=int(config["num_hidden_layers"]),
            heads=heads, kv_heads=int(config.get("num_key_value_heads") or heads),
            intermediate=int(config.get("intermediate_size") or 4 * int(config["hidden_size"])),
            vocab=int(config["vocab_size"]), tied=bool(config.get("tie_word_embeddings", False)),
            dtype_bytes=4 if dtype == "float32" else 2)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(f"cannot read the model's shape ({type(err).__name__}: {err}); expected a config.json "
                         "with hidden_size, num_hidden_layers, num_attention_heads, vocab_size", where=str(file)) from None


def architecture_for(model: str) -> Architecture:
    """The architecture of ``model``: a local folder's config.json, a pulled zoo model's, or the public table."""
    path = Path(model)
    if (path / "config.json").is_file() or (path.is_file() and path.suffix == ".json"):
        return from_config(path)
    from polyalign.models import zoo  # light: no torch

    if model in zoo.names() and zoo.is_pulled(model):
        return from_config(zoo.model_dir(model))
    table = public_architectures()
    if model.lower() in table:
        return table[model.lower()]
    known = ", ".join(sorted(_PUBLIC))
    raise InputError(f"no config.json there and not a model whose shape polyalign knows offline ({known}); "
                     "point model= at a local model folder", where=model)
