"""`polyalign vocab extend` end to end, and its bad-input errors (exit 2, one clear line)."""

from __future__ import annotations

import json

import pytest
import yaml
from support.cli import run_cli

from polyalign.models.loading import load_model, load_tokenizer


def _error_line(done) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    return done.stderr.strip().splitlines()[-1]


@pytest.mark.e2e
def test_extend_cli_end_to_end(tiny_model, zh_corpus, tmp_path):
    out = tmp_path / "ext"
    (tmp_path / "dev.en").write_text("The quick brown fox jumps over the lazy dog.\n", encoding="utf-8")
    (tmp_path / "dev.zh").write_text("敏捷的棕色狐狸跳过了懒狗。\n", encoding="utf-8")
    args = ("vocab", "extend", "--model", tiny_model, "--corpus", str(zh_corpus), "--lang", "zh",
            "--new-tokens", "100", "--out", str(out), "--init", "mean-noise", "--seed", "7",
            "--eval-texts", str(tmp_path / "dev.zh"), str(tmp_path / "dev.en"))
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    assert "512 → 612" in done.stdout and "before → after" in done.stdout and "extended" in done.stdout
    summary = json.loads((out / "vocab_extension.json").read_text(encoding="utf-8"))
    assert summary["added"] == 100 and summary["embeddings"]["method"] == "mean-noise"
    en_before, en_after = (r["languages"]["en"] for r in summary["stats"]["eval"])
    assert en_before == en_after  # English untouched
    config = yaml.safe_load((out / "vocab_config.yaml").read_text(encoding="utf-8"))
    assert config["new_tokens"] == 100 and config["seed"] == 7
    assert (out / "vocab_stats.png").stat().st_size > 10_000
    assert load_model(str(out)).config.vocab_size == 612 and len(load_tokenizer(str(out))) == 612
    again = run_cli(*args)
    assert "--overwrite" in _error_line(again)


@pytest.mark.e2e
@pytest.mark.parametrize("count", ["0", "-5"])
def test_new_tokens_must_be_positive(tiny_model, zh_corpus, tmp_path, count):
    done = run_cli("vocab", "extend", "--model", tiny_model, "--corpus", str(zh_corpus), "--lang", "zh",
                   "--new-tokens", count, "--out", str(tmp_path / "x"))
    assert _error_line(done) == f"polyalign: error: --new-tokens must be a positive number of tokens, got {count}"


@pytest.mark.e2e
def test_empty_corpus(tiny_model, tmp_path):
    empty = tmp_path / "empty.zh"
    empty.write_text("\n  \n", encoding="utf-8")
    done = run_cli("vocab", "extend", "--model", tiny_model, "--corpus", str(empty), "--lang", "zh",
                   "--new-tokens", "10", "--out", str(tmp_path / "x"))
    assert _error_line(done) == f"polyalign: error: the target corpus is empty: no text lines in {empty}"
    assert not (tmp_path / "x").exists()


@pytest.mark.e2e
def test_unsupported_tokenizer_type(zh_corpus, tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "[PAD]": 1, "中": 2, "##文": 3, "a": 4}
    backend = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]").save_pretrained(
        tmp_path / "wordpiece")
    done = run_cli("vocab", "extend", "--model", str(tmp_path / "wordpiece"), "--corpus", str(zh_corpus),
                   "--lang", "zh", "--new-tokens", "10", "--out", str(tmp_path / "x"))
    line = _error_line(done)
    assert line.startswith("polyalign: error: ") and "unsupported tokenizer type (WordPiece" in line
    assert "SentencePiece BPE" in line and "byte-level BPE" in line
