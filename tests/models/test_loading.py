"""polyalign.models.loading: resolving names, loading tokenizers/models, saving (incl. the GGUF path)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from polyalign.errors import InputError
from polyalign.models import zoo
from polyalign.models.gguf import find_gguf, write_llama_gguf
from polyalign.models.loading import load_model, load_tokenizer, resolve_model, save_model
from polyalign.models.tiny import build_tiny_llama


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture
def empty_cache(tmp_path, monkeypatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("POLYALIGN_CACHE", str(cache))
    return cache


# ── resolve_model ──────────────────────────────────────────────────────────────────────────────
def test_resolve_local_folder_is_itself(tiny):
    assert resolve_model(str(tiny)) == str(tiny)


def test_resolve_expands_home(tiny, monkeypatch):
    monkeypatch.setenv("HOME", str(tiny.parent))
    assert resolve_model("~/model") == str(tiny)


def test_resolve_hub_id_unchanged(empty_cache):
    assert resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert resolve_model("gpt2") == "gpt2"


@pytest.mark.parametrize("path", ["./no/such/model", "/no/such/model", "a/b/c"])
def test_resolve_missing_path_is_input_error(path, empty_cache):
    with pytest.raises(InputError, match="no such file or folder"):
        resolve_model(path)


def test_resolve_zoo_name_not_pulled(empty_cache):
    with pytest.raises(InputError, match="polyalign models pull smollm2-135m-instruct"):
        resolve_model("smollm2-135m-instruct", pull=False)


def test_resolve_zoo_name_pulled(tmp_path, tiny):
    folder = tmp_path / "smollm2-135m-instruct"
    folder.mkdir()
    (folder / zoo.MARKER).write_text(json.dumps({"format": zoo.FORMAT}))
    assert resolve_model("smollm2-135m-instruct", cache_dir=tmp_path, pull=False) == str(folder)


# ── load_tokenizer ─────────────────────────────────────────────────────────────────────────────
def test_load_tokenizer_tiny(tiny):
    tok = load_tokenizer(str(tiny))
    assert tok.pad_token == tok.eos_token == "<|im_end|>"
    assert tok.chat_template
    text = "Grüße, 世界! สวัสดี"
    assert tok.decode(tok(text)["input_ids"]) == text


def test_load_tokenizer_sets_missing_pad(tiny, tmp_path, caplog):
    tok = load_tokenizer(str(tiny))
    tok.pad_token = None
    tok.save_pretrained(tmp_path / "nopad")
    with caplog.at_level("INFO"):
        again = load_tokenizer(str(tmp_path / "nopad"))
    assert again.pad_token == again.eos_token
    assert "no pad token" in caplog.text


def test_load_tokenizer_kwargs(tiny):
    assert load_tokenizer(str(tiny), padding_side="left").padding_side == "left"


def test_load_tokenizer_missing_folder(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        load_tokenizer(str(tmp_path / "missing"))


def test_load_tokenizer_not_a_tokenizer_folder(tmp_path):
    (tmp_path / "junk.txt").write_text("x")
    with pytest.raises(InputError, match="not a tokenizer folder"):
        load_tokenizer(str(tmp_path))
    (tmp_path / "tokenizer.json").write_text("{broken")
    with pytest.raises(InputError, match="cannot load tokenizer"):
        load_tokenizer(str(tmp_path))


def test_load_tokenizer_offline_hub_id(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(InputError, match="HF_HUB_OFFLINE: point at a local folder or a zoo name"):
        load_tokenizer("polyalign-test/no-such-model")


# ── load_model ─────────────────────────────────────────────────────────────────────────────────
def test_load_model_tiny(tiny):
    model = load_model(str(tiny))
    assert not model.training
    assert model.dtype == torch.float32
    assert model.config.tie_word_embeddings


def test_load_model_dtype(tiny):
    assert load_model(str(tiny), dtype="bfloat16").dtype == torch.bfloat16
    assert load_model(str(tiny), dtype="auto").dtype == torch.float32


def test_load_model_bad_dtype(tiny):
    with pytest.raises(InputError, match="unknown dtype 'fp8'"):
        load_model(str(tiny), dtype="fp8")


def test_load_model_no_config(tmp_path):
    with pytest.raises(InputError, match="no config.json"):
        load_model(str(tmp_path))


def test_load_model_pickle_only(tiny, tmp_path):
    folder = tmp_path / "pickled"
    folder.mkdir()
    (folder / "config.json").write_text((tiny / "config.json").read_text())
    (folder / "pytorch_model.bin").write_bytes(b"not really")
    with pytest.raises(InputError, match="pickle-based"):
        load_model(str(folder))


def test_load_model_file_not_gguf(tmp_path):
    (tmp_path / "weights.txt").write_text("x")
    with pytest.raises(InputError, match="not a model"):
        load_model(str(tmp_path / "weights.txt"))


def test_load_model_invalid_config(tiny, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "config.json").write_text("{not json")
    (folder / "model.safetensors").write_bytes((tiny / "model.safetensors").read_bytes())
    with pytest.raises(InputError, match="cannot load model"):
        load_model(str(folder))


def test_load_model_missing(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        load_model(str(tmp_path / "missing"))


# ── find_gguf ──────────────────────────────────────────────────────────────────────────────────
def test_find_gguf(tmp_path):
    assert find_gguf(tmp_path) is None
    (tmp_path / "m.Q4.gguf").write_bytes(b"")
    assert find_gguf(tmp_path) == tmp_path / "m.Q4.gguf"
    assert find_gguf(tmp_path / "m.Q4.gguf") == tmp_path / "m.Q4.gguf"
    (tmp_path / "m.Q8.gguf").write_bytes(b"")
    with pytest.raises(InputError, match="2 GGUF files"):
        find_gguf(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"")
    assert find_gguf(tmp_path) is None  # a converted copy next to the GGUF wins


# ── save_model ─────────────────────────────────────────────────────────────────────────────────
def _logits(model, tok) -> torch.Tensor:
    batch = tok(["Hello world", "敏捷的狐狸"], return_tensors="pt", padding=True)
    with torch.no_grad():
        return model(**batch).logits


def test_save_model_roundtrip(tiny, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model, tok = load_model(str(tiny)), load_tokenizer(str(tiny))
    out = save_model(model, tok, tmp_path / "copy")
    again = AutoModelForCausalLM.from_pretrained(out)
    tok2 = AutoTokenizer.from_pretrained(out)
    assert tok2.chat_template == tok.chat_template
    assert torch.equal(_logits(model, tok), _logits(again, tok2))
    assert not list(out.glob("*.bin"))


def test_save_model_gguf_loaded_path(tiny, tmp_path):
    """A model carrying a GGUF quantization_config is saved by hand: no tied lm_head, no quantization_config."""
    from safetensors import safe_open
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model, tok = load_model(str(tiny)), load_tokenizer(str(tiny))
    model.config.quantization_config = {"quant_method": "gguf", "gguf_file": "x.gguf", "dequantize": False}
    out = save_model(model, tok, tmp_path / "from-gguf")
    config = json.loads((out / "config.json").read_text())
    assert "quantization_config" not in config
    keys = set()
    for shard in out.glob("*.safetensors"):
        with safe_open(shard, "pt") as fh:
            keys |= set(fh.keys())
    assert "lm_head.weight" not in keys and "model.embed_tokens.weight" in keys
    again = AutoModelForCausalLM.from_pretrained(out)
    assert again.lm_head.weight.data_ptr() == again.model.embed_tokens.weight.data_ptr()
    del model.config.quantization_config
    assert torch.equal(_logits(model, tok), _logits(again, AutoTokenizer.from_pretrained(out)))
    assert AutoTokenizer.from_pretrained(out).chat_template == tok.chat_template


# ── GGUF: a tiny F32 GGUF written from the tiny model exercises transformers' gguf_file= path ──
@pytest.fixture(scope="module")
def tiny_gguf(tiny, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("gguf")
    write_llama_gguf(load_model(str(tiny)), load_tokenizer(str(tiny)), folder / "tiny.F32.gguf")
    return folder / "tiny.F32.gguf"


@pytest.mark.parametrize("as_folder", [False, True])
def test_load_gguf_matches_source(tiny, tiny_gguf, as_folder):
    target = str(tiny_gguf.parent if as_folder else tiny_gguf)
    model, tok = load_model(target), load_tokenizer(target)
    assert model.config.num_hidden_layers == 2 and model.config.tie_word_embeddings
    src_model, src_tok = load_model(str(tiny)), load_tokenizer(str(tiny))
    assert tok.chat_template == src_tok.chat_template
    assert (tok.eos_token, tok.pad_token, tok.unk_token) == ("<|im_end|>", "<|im_end|>", "<|endoftext|>")
    for text in ["Hello world", "敏捷的狐狸 สุนัข", "٣ + ٤ = ٧"]:
        assert tok(text)["input_ids"] == src_tok(text)["input_ids"]
    assert torch.equal(_logits(model, tok), _logits(src_model, src_tok))


def test_gguf_without_the_gguf_package_is_an_input_error(tiny_gguf, monkeypatch):
    monkeypatch.setitem(sys.modules, "gguf", None)  # as if installed with --no-deps
    with pytest.raises(InputError, match="needs the gguf package: pip install 'gguf>=0.10'"):
        load_tokenizer(str(tiny_gguf))


def test_save_gguf_loaded_model(tiny_gguf, tmp_path):
    """The real GGUF path: save_pretrained refuses, save_model writes a plain transformers folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model, tok = load_model(str(tiny_gguf)), load_tokenizer(str(tiny_gguf))
    with pytest.raises(ValueError):
        model.save_pretrained(tmp_path / "refused")
    out = save_model(model, tok, tmp_path / "converted")
    assert "quantization_config" not in json.loads((out / "config.json").read_text())
    again, tok2 = AutoModelForCausalLM.from_pretrained(out), AutoTokenizer.from_pretrained(out)
    assert tok2.chat_template == tok.chat_template
    assert torch.equal(_logits(model, tok), _logits(again, tok2))


def test_gguf_next_to_converted_copy_loads_copy(tiny, tiny_gguf, tmp_path):
    import shutil

    folder = tmp_path / "both"
    shutil.copytree(tiny, folder)
    shutil.copy(tiny_gguf, folder)
    model = load_model(str(folder))
    assert getattr(model.config, "quantization_config", None) is None


def test_write_gguf_rejects_other_architectures(tiny, tmp_path):
    model = load_model(str(tiny))
    model.config.model_type = "gpt2"
    with pytest.raises(InputError, match="Llama-architecture"):
        write_llama_gguf(model, load_tokenizer(str(tiny)), tmp_path / "x.gguf")
