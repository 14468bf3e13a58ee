"""GGUF checkpoints: finding them, saving GGUF-loaded models as safetensors, and writing Llama GGUFs.

transformers reads GGUF files (``from_pretrained(folder, gguf_file=name)``) by dequantising every
tensor, but marks the result as "quantized" and refuses to ``save_pretrained`` it. `save_dequantised`
writes such a model the way ``save_pretrained`` would have: safetensors without tied copies and a
config without the ``quantization_config`` that would send transformers looking for the GGUF again.

`write_llama_gguf` goes the other way for Llama-architecture models with a byte-level BPE
tokenizer (SmolLM2, the tiny test models), unquantised F32, so the GGUF path can be tested offline
in a second and a tuned model can be handed to llama.cpp (quantise it there with llama-quantize).
Reading and writing both use the ``gguf`` package, a core dependency.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from polyalign.errors import InputError

__all__ = ["find_gguf", "is_gguf_loaded", "save_dequantised", "write_llama_gguf"]


def find_gguf(path: str | Path) -> Path | None:
    """The GGUF file to load for ``path``, or None when ``path`` is not a GGUF checkpoint.

    A ``.gguf`` file is itself; a folder is a GGUF checkpoint when it holds exactly one ``.gguf``
    file and no ``*.safetensors`` (a converted copy next to its source wins).

    Raises:
        InputError: several ``.gguf`` files and no safetensors (ambiguous), listing them.
    """
    path = Path(path)
    if path.is_file():
        return path if path.suffix == ".gguf" else None
    if not path.is_dir() or any(path.glob("*.safetensors")):
        return None
    ggufs = sorted(path.glob("*.gguf"))
    if len(ggufs) > 1:
        raise InputError(f"{len(ggufs)} GGUF files ({', '.join(p.name for p in ggufs)}): pass the one to load",
                         where=str(path))
    return ggufs[0] if ggufs else None


def is_gguf_loaded(model: Any) -> bool:
    """Whether ``model`` was loaded from a GGUF file (its config carries a gguf quantization_config)."""
    quant = getattr(model.config, "quantization_config", None)
    method = quant.get("quant_method") if isinstance(quant, dict) else getattr(quant, "quant_method", None)
    return str(getattr(method, "value", method)) == "gguf"


def save_dequantised(model: Any, out: str | Path) -> None:
    """Write a GGUF-loaded model's weights (safetensors), config and generation config to ``out``."""
    from huggingface_hub import save_torch_state_dict

    out = Path(out)
    tied = _tied_keys(model)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items() if k not in tied}
    # Sharded like save_pretrained (same index format), so large GGUF conversions load the usual way.
    save_torch_state_dict(state, out, max_shard_size="5GB", safe_serialization=True, metadata={"format": "pt"})
    config = copy.deepcopy(model.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.save_pretrained(out)
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.save_pretrained(out)


def _tied_keys(model: Any) -> set[str]:
    """State-dict keys that share storage with an earlier key (tied weights such as lm_head)."""
    seen: set[tuple[int, int, tuple[int, ...]]] = set()
    tied: set[str] = set()
    for key, tensor in model.state_dict().items():
        ident = (tensor.untyped_storage().data_ptr(), tensor.storage_offset(), tuple(tensor.shape))
        if ident in seen:
            tied.add(key)
        seen.add(ident)
    return tied


def write_llama_gguf(model: Any, tokenizer: Any, path: str | Path) -> Path:
    """Write a Llama-architecture model and its byte-level BPE tokenizer as an F32 GGUF file.

    Args:
        model: a transformers ``LlamaForCausalLM`` (default RoPE, head_dim = hidden / heads).
        tokenizer: its fast tokenizer (byte-level BPE, as in GPT-2 / SmolLM2); the chat template and
            the bos/eos/unk/pad ids are written too.
        path: the ``.gguf`` file to write.

    Returns:
        The file written.

    Raises:
        InputError: another architecture or tokenizer type, or the ``gguf`` package is missing.
    """
    try:
        import gguf
    except ImportError:
        raise InputError("writing GGUF files needs the gguf package: pip install 'gguf>=0.10'") from None
    import numpy as np

    cfg = model.config
    if cfg.model_type != "llama":
        raise InputError(f"GGUF export supports Llama-architecture models, not {cfg.model_type!r}")
    rope = getattr(cfg, "rope_parameters", None) or {"rope_theta": cfg.rope_theta, "rope_type": "default"}
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    if rope.get("rope_type", "default") != "default" or head_dim * cfg.num_attention_heads != cfg.hidden_size:
        raise InputError("GGUF export supports default RoPE and head_dim = hidden_size / heads only")
    tokens, types, merges = _bpe_vocab(tokenizer, cfg.vocab_size, gguf.TokenType)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(cfg.max_position_embeddings)
    writer.add_embedding_length(cfg.hidden_size)
    writer.add_feed_forward_length(cfg.intermediate_size)
    writer.add_block_count(cfg.num_hidden_layers)
    writer.add_head_count(cfg.num_attention_heads)
    writer.add_head_count_kv(cfg.num_key_value_heads)
    writer.add_rope_freq_base(float(rope["rope_theta"]))
    writer.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    writer.add_vocab_size(cfg.vocab_size)
    writer.add_tokenizer_model("gpt2")  # llama.cpp's name for byte-level BPE
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    for name, token_id in [("bos", tokenizer.bos_token_id), ("eos", tokenizer.eos_token_id),
                           ("unk", tokenizer.unk_token_id), ("pad", tokenizer.pad_token_id)]:
        if token_id is not None:
            getattr(writer, f"add_{name}_token_id")(token_id)
    writer.add_add_bos_token(False)
    if tokenizer.chat_template:
        writer.add_chat_template(tokenizer.chat_template)

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, cfg.num_hidden_layers)
    for key, tensor in model.state_dict().items():
        if key == "lm_head.weight" and cfg.tie_word_embeddings:
            continue
        name = names.get_name(key, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise InputError(f"GGUF export: no GGUF name for tensor {key!r}")
        array = tensor.detach().float().cpu().numpy()
        # llama.cpp stores q/k rows in an interleaved rotary order; transformers undoes this on load.
        if key.endswith("q_proj.weight"):
            array = _permute(array, cfg.num_attention_heads)
        elif key.endswith("k_proj.weight"):
            array = _permute(array, cfg.num_key_value_heads)
        writer.add_tensor(name, np.ascontiguousarray(array))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _permute(weights: Any, n_head: int) -> Any:
    rows = weights.shape[0]
    return weights.reshape(n_head, 2, rows // n_head // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape)


def _bpe_vocab(tokenizer: Any, vocab_size: int, token_type: Any) -> tuple[list[str], list[int], list[str]]:
    """Tokens in id order (padded to the model's vocabulary), their GGUF types, and the merges."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    spec = json.loads(backend.to_str()) if backend is not None else {}
    model = spec.get("model") or {}
    if model.get("type") != "BPE" or "ByteLevel" not in json.dumps(spec.get("pre_tokenizer")):
        raise InputError("GGUF export supports byte-level BPE tokenizers (GPT-2 / SmolLM2 style) only")
    tokens: list[str | None] = [None] * max(vocab_size, len(tokenizer))
    for token, token_id in model["vocab"].items():
        tokens[token_id] = token
    special = set()
    for added in spec.get("added_tokens", []):
        tokens[added["id"]] = added["content"]
        if added.get("special"):
            special.add(added["id"])
    types = []
    for i, token in enumerate(tokens):
        if token is None:  # the model's embedding matrix is larger than the vocabulary
            tokens[i] = f"<unused_{i}>"
            types.append(int(token_type.UNUSED))
        else:
            types.append(int(token_type.CONTROL if i in special else token_type.NORMAL))
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    return tokens, types, merges  # type: ignore[return-value]
