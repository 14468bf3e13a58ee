"""polyalign.models.tiny: the tiny random Llama + trained tokenizer every later test builds on."""

from __future__ import annotations

import pytest
import torch

from polyalign.models import load_model, load_tokenizer
from polyalign.models.tiny import CHATML_TEMPLATE, SAMPLE_TEXTS, build_tiny_llama


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    """The pattern for a shared fixture: build once per session, use read-only."""
    return str(build_tiny_llama(tmp_path_factory.mktemp("tiny") / "model"))


def test_folder_is_complete(tiny_model):
    from pathlib import Path

    names = {p.name for p in Path(tiny_model).iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
            "generation_config.json"} <= names
    assert not any(n.endswith(".bin") for n in names)


def test_config(tiny_model):
    model = load_model(tiny_model)
    cfg = model.config
    assert (cfg.model_type, cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads) == ("llama", 2, 64, 4)
    assert cfg.num_key_value_heads == 2 and cfg.tie_word_embeddings
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    assert cfg.vocab_size == len(load_tokenizer(tiny_model)) == 512


def test_special_tokens_mirror_smollm2(tiny_model):
    tok = load_tokenizer(tiny_model)
    assert (tok.unk_token_id, tok.bos_token_id, tok.eos_token_id, tok.pad_token_id) == (0, 1, 2, 2)
    assert tok.eos_token == tok.pad_token == "<|im_end|>"
    ids = tok("Hello")["input_ids"]
    assert ids[0] != tok.bos_token_id and ids[-1] != tok.eos_token_id  # nothing added, like SmolLM2
    cfg = load_model(tiny_model).config
    assert (cfg.bos_token_id, cfg.eos_token_id, cfg.pad_token_id) == (1, 2, 2)


@pytest.mark.parametrize("text", ["The quick brown fox.", "Der Fuchs springt über den Hund.", "敏捷的棕色狐狸",
                                  "素早い茶色の狐", "Быстрая лиса", "สุนัขจิ้งจอก", "الثعلب البني",
                                  "٣ + ٤ = ٧", "unseen: Ωμέγα 🙂 \t tabs  and  spaces"])
def test_multilingual_roundtrip(tiny_model, text):
    tok = load_tokenizer(tiny_model)
    ids = tok(text)["input_ids"]
    assert tok.unk_token_id not in ids
    assert tok.decode(ids) == text


def test_bpe_learned_merges(tiny_model):
    tok = load_tokenizer(tiny_model)
    text = SAMPLE_TEXTS[0]
    assert len(tok(text)["input_ids"]) < 0.75 * len(text.encode("utf-8"))


def test_chat_template(tiny_model):
    tok = load_tokenizer(tiny_model)
    assert tok.chat_template == CHATML_TEMPLATE
    text = tok.apply_chat_template([{"role": "user", "content": "Hallo"}], tokenize=False,
                                   add_generation_prompt=True)
    assert text == "<|im_start|>user\nHallo<|im_end|>\n<|im_start|>assistant\n"
    ids = tok(text)["input_ids"]
    assert ids.count(tok.convert_tokens_to_ids("<|im_start|>")) == 2


def test_no_chat_template(tmp_path):
    tok = load_tokenizer(str(build_tiny_llama(tmp_path / "m", chat_template=False)))
    assert not tok.chat_template


def test_deterministic(tmp_path):
    a = build_tiny_llama(tmp_path / "a", seed=3)
    b = build_tiny_llama(tmp_path / "b", seed=3)
    c = build_tiny_llama(tmp_path / "c", seed=4)
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert (a / "model.safetensors").read_bytes() != (c / "model.safetensors").read_bytes()
    assert (a / "tokenizer.json").read_bytes() == (c / "tokenizer.json").read_bytes()


def test_caller_rng_untouched(tmp_path):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build_tiny_llama(tmp_path / "m")
    assert torch.equal(torch.rand(3), expected)


def test_custom_sizes_and_texts(tmp_path):
    out = build_tiny_llama(tmp_path / "m", texts=["aaaa bbbb aaaa bbbb", "abab"], vocab_size=300,
                           hidden=32, layers=3, heads=2)
    model, tok = load_model(str(out)), load_tokenizer(str(out))
    assert model.config.num_hidden_layers == 3 and model.config.hidden_size == 32
    assert model.config.vocab_size == len(tok) <= 300


def test_bad_sizes(tmp_path):
    with pytest.raises(ValueError, match="multiple of heads"):
        build_tiny_llama(tmp_path / "m", hidden=30, heads=4)
    with pytest.raises(ValueError, match="vocab_size must be at least 259"):
        build_tiny_llama(tmp_path / "m", vocab_size=100)


def test_generates(tiny_model):
    tok = load_tokenizer(tiny_model, padding_side="left")
    model = load_model(tiny_model)
    batch = tok(["Hello", "Guten Morgen, wie geht es?"], return_tensors="pt", padding=True)
    out = model.generate(**batch, max_new_tokens=4, do_sample=False)
    start = batch["input_ids"].shape[1]
    assert out.shape[0] == 2 and start < out.shape[1] <= start + 4  # may stop early at eos
    # greedy decoding is reproducible
    again = model.generate(**batch, max_new_tokens=4, do_sample=False)
    assert torch.equal(out, again)


def test_trainable_loss_decreases(tiny_model):
    """The fixture must be trainable: a few SGD steps on one sentence lower its loss."""
    tok, model = load_tokenizer(tiny_model), load_model(tiny_model)
    model.train()
    batch = tok(["Janet has 16 eggs."], return_tensors="pt")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(5):
        loss = model(**batch, labels=batch["input_ids"]).loss
        losses.append(loss.item())
        loss.backward()
        opt.step()
        opt.zero_grad()
    assert losses[-1] < losses[0]
