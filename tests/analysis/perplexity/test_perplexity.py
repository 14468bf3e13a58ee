"""Bits per character: a direct computation from logits, a uniform model, windows, batching, the CLI."""

from __future__ import annotations

import copy
import json
import math

import pytest
import torch

from polyalign.analysis.perplexity.nll import LN2, _windows, document_nll
from polyalign.analysis.perplexity.run import aggregate, read_documents
from polyalign.errors import InputError

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "敏捷的棕色狐狸跳过了懒狗。",
    "Der schnelle braune Fuchs springt über den faulen Hund. " * 6,
]


def test_matches_a_direct_computation_from_logits(tiny) -> None:
    model, tokenizer = tiny
    text = TEXTS[0]
    (score,) = document_nll(model, tokenizer, [text])
    enc = tokenizer(text, return_offsets_mapping=True, return_tensors="pt")
    ids = enc["input_ids"][0]
    with torch.no_grad():
        logits = model(ids[None]).logits[0]
    logp = torch.log_softmax(logits.double(), dim=-1)
    nll = -sum(logp[t - 1, ids[t]].item() for t in range(1, len(ids)))  # token 0 has no prediction
    first_end = int(enc["offset_mapping"][0][0][1])
    assert score.nll == pytest.approx(nll, rel=1e-6)
    assert score.tokens == len(ids) - 1
    assert score.chars == len(text) - first_end and score.bytes == len(text[first_end:].encode())
    bpc = aggregate([score])["bits_per_char"]
    assert bpc == pytest.approx(nll / math.log(2) / (len(text) - first_end), rel=1e-6)


def test_uniform_model_costs_log2_vocab_bits_per_token(tiny) -> None:
    """Zero embeddings (tied with the output layer) → all logits 0 → every token costs log2(V) bits."""
    model, tokenizer = tiny
    uniform = copy.deepcopy(model)
    with torch.no_grad():
        uniform.get_input_embeddings().weight.zero_()
        uniform.get_output_embeddings().weight.zero_()
    vocab = uniform.config.vocab_size
    for bos in (False, True):
        scores = document_nll(uniform, tokenizer, TEXTS, bos_context=bos)
        for text, s in zip(TEXTS, scores):
            assert s.nll / LN2 == pytest.approx(s.tokens * math.log2(vocab), rel=1e-6)
            if bos:  # every text token is predicted, every character counts
                assert s.tokens == len(tokenizer(text)["input_ids"]) and s.chars == len(text)


def test_batching_and_a_wide_window_change_nothing(tiny) -> None:
    model, tokenizer = tiny
    reference = document_nll(model, tokenizer, TEXTS, batch_tokens=1)  # one window per forward pass
    batched = document_nll(model, tokenizer, TEXTS, batch_tokens=4096)
    for a, b in zip(reference, batched):
        assert a.nll == pytest.approx(b.nll, rel=1e-5) and (a.tokens, a.chars) == (b.tokens, b.chars)
    windowed = document_nll(model, tokenizer, TEXTS, max_length=16, stride=5)
    for a, w in zip(reference, windowed):  # every token scored once, with less context
        assert (w.tokens, w.chars) == (a.tokens, a.chars)
    assert windowed[0].nll != pytest.approx(reference[0].nll, rel=1e-9) or len(tokenizer(TEXTS[0])["input_ids"]) <= 16
    truncated = document_nll(model, tokenizer, TEXTS[2:], max_length=10, truncate=True)[0]
    assert truncated.tokens == 9 and 0 < truncated.chars < len(TEXTS[2])


@pytest.mark.parametrize(("length", "max_length", "stride"), [(1, 4, 2), (2, 4, 2), (10, 4, 2), (10, 4, 4),
                                                                (37, 8, 3), (5, 8, 8)])
def test_windows_score_every_token_once_with_context(length: int, max_length: int, stride: int) -> None:
    targets = []
    for _, begin, end, n in _windows(length, max_length, stride, 0):
        assert end - begin <= max_length and n <= end - begin
        first = max(end - n, begin + 1)  # a window's first position is never scored
        targets += range(first, end)
    assert targets == list(range(1, length))


def test_read_documents_languages(tmp_path) -> None:
    de = tmp_path / "wiki.de"
    de.write_text("Erstes Dokument.\n\nZweites Dokument.\n", encoding="utf-8")
    mixed = tmp_path / "docs.jsonl"
    mixed.write_text('{"text": "Hello.", "lang": "en"}\n{"text": "你好。", "lang": "zh"}\n', encoding="utf-8")
    docs = read_documents([str(de), str(mixed), f"fr={de}"], limit=None)
    assert docs == {"de": ["Erstes Dokument.", "Zweites Dokument."], "en": ["Hello."], "zh": ["你好。"],
                    "fr": ["Erstes Dokument.", "Zweites Dokument."]}
    notes = tmp_path / "notes.txt"
    notes.write_text("a\n", encoding="utf-8")
    with pytest.raises(InputError, match="cannot tell the language"):
        read_documents([str(notes)])


@pytest.mark.e2e
def test_perplexity_cli(tiny_model, tmp_path, cli) -> None:
    (tmp_path / "t.de").write_text(TEXTS[2] + "\n", encoding="utf-8")
    (tmp_path / "t.zh").write_text(TEXTS[1] + "\n", encoding="utf-8")
    out = tmp_path / "out"
    done = cli("perplexity", "--model", tiny_model, "--texts", str(tmp_path / "t.de"), f"zh={tmp_path / 't.zh'}",
               "--max-length", "32", "--out", str(out))
    assert done.returncode == 0, done.stderr
    data = json.loads((out / "perplexity.json").read_text(encoding="utf-8"))
    de = data["results"][tiny_model]["de"]
    assert de["bits_per_char"] == pytest.approx(de["nll_nats"] / LN2 / de["chars"])
    assert set(data["results"][tiny_model]) == {"de", "zh"}
    from polyalign.models.precision import resolve_dtype

    assert data["settings"]["dtype"] == resolve_dtype("auto") != "auto"  # provenance names what ran
    manifest = json.loads((out / "figures.json").read_text(encoding="utf-8"))
    assert manifest["figures"][0]["file"] == "perplexity_bits_per_char.png"
    assert "bits/char" in (out / "perplexity.md").read_text(encoding="utf-8")
