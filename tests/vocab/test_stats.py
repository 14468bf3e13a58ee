"""Tokenizer statistics: hand-computed cases for both tokenizer families, and the CLI."""

from __future__ import annotations

import json

import pytest
from support.cli import run_cli

from polyalign.vocab.kinds import is_byte_token, load_any_tokenizer, tokenizer_kind
from polyalign.vocab.stats import format_table, measure_language, tokenizer_report


@pytest.fixture(scope="module")
def hand_bpe():
    """A byte-level BPE with exactly two merges: a+b → ab, Ġ+ab → Ġab."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {c: i for i, c in enumerate(alphabet)}
    vocab.update({"ab": 256, "Ġab": 257})
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[("a", "b"), ("Ġ", "ab")]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=backend)


def test_hand_computed_byte_level(hand_bpe):
    assert tokenizer_kind(hand_bpe) == "byte-level-bpe"
    en, counts = measure_language(hand_bpe, "en", ["ab abc", ""])
    # "ab" → [ab]; " abc" → [Ġab, c]: 3 tokens, 6 characters, 2 words of which "abc" is split
    assert (en.tokens, en.chars, en.units, en.continued_units, en.byte_tokens) == (3, 6, 2, 1, 0)
    assert counts == [3, 0] and en.lines == 1
    assert en.chars_per_token == 2.0 and en.fertility == 1.5 and en.continued_share == 0.5
    zh, _ = measure_language(hand_bpe, "zh", ["中a", ""])
    # 中 is 3 bytes, none merged: 3 byte tokens (invalid UTF-8 alone) + "a"; units are characters
    assert (zh.tokens, zh.chars, zh.units, zh.unit, zh.continued_units, zh.byte_tokens) == (4, 2, 2, "character", 1, 3)
    assert zh.fertility == 2.0 and zh.byte_fallback_share == 0.75
    report = tokenizer_report(hand_bpe, {"en": ["ab abc", ""], "zh": ["中a", ""]}, name="hand")
    assert report["languages"]["zh"]["premium_vs_en"] == round(4 / 3, 4)
    assert report["languages"]["en"]["premium_vs_en"] == 1.0
    table = format_table([report])
    assert "hand" in table and "1.33x" in table


def test_premium_needs_aligned_english(hand_bpe):
    report = tokenizer_report(hand_bpe, {"en": ["ab"], "zh": ["中", "a"]}, name="hand")
    assert report["languages"]["zh"]["premium_vs_en"] is None
    assert any("not line-aligned" in note for note in report["notes"])
    assert "no premium" in tokenizer_report(hand_bpe, {"zh": ["中"]}, name="h")["notes"][0]


def test_byte_tokens_of_each_family():
    assert is_byte_token("<0xE6>", "sentencepiece-bpe") and not is_byte_token("▁的", "sentencepiece-bpe")
    assert is_byte_token("ä¸", "byte-level-bpe")  # E4 B8: the first two bytes of 世
    assert not is_byte_token("ä¸ĸ", "byte-level-bpe") and not is_byte_token("Ġthe", "byte-level-bpe")


@pytest.fixture(scope="module")
def llama_tokenizer(llama_spm):
    return load_any_tokenizer(str(llama_spm))


def test_llama_sentencepiece_hand_case(llama_tokenizer):
    assert len(llama_tokenizer) == 32000  # not the silently empty tokenizer of LlamaTokenizer(vocab_file=...)
    assert tokenizer_kind(llama_tokenizer) == "sentencepiece-bpe"
    # 敏 is not a LLaMA piece: ▁ + three byte fallbacks; 的 is: ▁ + 的 (▁ belongs to no character)
    s, _ = measure_language(llama_tokenizer, "zh", ["敏", "的"])
    assert (s.tokens, s.byte_tokens, s.units, s.continued_units) == (6, 3, 2, 1)


@pytest.mark.e2e
def test_stats_cli(tiny_model, tmp_path):
    (tmp_path / "dev.zh").write_text("敏捷的棕色狐狸跳过了懒狗。\n今天天气很好。\n", encoding="utf-8")
    (tmp_path / "dev.en").write_text("The quick brown fox jumps over the lazy dog.\nThe weather is nice today.\n",
                                     encoding="utf-8")
    done = run_cli("vocab", "stats", "--tokenizer", tiny_model, "--texts", str(tmp_path / "dev.zh"),
                   f"en:{tmp_path / 'dev.en'}", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "chars/tok" in done.stdout and "zh" in done.stdout
    data = json.loads((tmp_path / "out" / "vocab_stats.json").read_text(encoding="utf-8"))
    zh = data["reports"][0]["languages"]["zh"]
    assert zh["lines"] == 2 and zh["unit"] == "character" and zh["premium_vs_en"] > 0
    assert (tmp_path / "out" / "vocab_stats.png").stat().st_size > 10_000
    bad = run_cli("vocab", "stats", "--tokenizer", tiny_model, "--texts", str(tmp_path / "dev.zh"), "--langs", "de")
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith("polyalign: error: --langs de")
