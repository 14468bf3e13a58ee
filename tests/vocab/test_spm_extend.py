"""SentencePiece extension on the real LLaMA-2 tokenizer: pieces appended as Chinese-LLaMA did."""

from __future__ import annotations

import pytest
import torch

from polyalign.errors import InputError
from polyalign.models.loading import load_model, load_tokenizer
from polyalign.vocab.checks import ENGLISH_PROBES, ROUND_TRIP_TEXTS
from polyalign.vocab.kinds import load_any_tokenizer, read_sp_proto
from polyalign.vocab.spm_extend import extend_sentencepiece

HELD_OUT = ["小红的妈妈买了十二个苹果和三瓶牛奶，一共花了多少钱？", "春天来了，我们一起去公园看花吧。",
            "王老师每天早上骑自行车去学校，路上要花二十分钟。"]


def test_llama_invariants(llama_model, extended_llama, check_invariants):
    out, summary = extended_llama
    old, new = load_tokenizer(str(llama_model)), load_tokenizer(str(out))
    assert summary["kind"] == "sentencepiece-bpe" and summary["checks"]["ok"]
    assert summary["first_id"] == 32000 and len(new) == 32000 + summary["added"]
    assert 0 < summary["added"] <= summary["target_model_pieces"]
    check_invariants(old, new, english=["The weather is nice today, isn't it?"], chinese=HELD_OUT)


def test_extended_model_file_appends_with_score_zero(llama_spm, extended_llama):
    out, summary = extended_llama
    old, new = read_sp_proto(llama_spm), read_sp_proto(out / "tokenizer.model")
    assert len(new.pieces) == 32000 + summary["added"]
    for a, b in zip(old.pieces, new.pieces[:32000]):
        assert (a.piece, a.score, a.type) == (b.piece, b.score, b.type)
    appended = new.pieces[32000:]
    assert all(p.score == 0.0 and p.type == 1 for p in appended)
    assert all(any(ord(c) >= 128 and c != "▁" for c in p.piece) for p in appended)  # no ASCII-only piece
    tokenizer = load_tokenizer(str(out))
    assert [tokenizer.convert_ids_to_tokens(32000 + k) for k in range(5)] == [p.piece for p in appended[:5]]


def test_sentencepiece_library_on_extended_model(llama_spm, extended_llama):
    """The .model written for sentencepiece/llama.cpp users keeps English and round-trips too."""
    import sentencepiece as spm

    out, _ = extended_llama
    old = spm.SentencePieceProcessor(model_file=str(llama_spm))
    new = spm.SentencePieceProcessor(model_file=str(out / "tokenizer.model"))
    for text in ENGLISH_PROBES:
        assert new.encode(text) == old.encode(text)
    for text in ROUND_TRIP_TEXTS + ("  leading", " "):
        assert new.decode(new.encode(text)) == text
    chars = sum(len(t) for t in HELD_OUT)
    before, after = (sum(len(p.encode(t)) for t in HELD_OUT) for p in (old, new))
    assert chars / after > chars / before


def test_lowest_scores_make_sentencepiece_and_transformers_agree(llama_spm, zh_corpus, tmp_path):
    import sentencepiece as spm

    tokenizer = load_any_tokenizer(str(llama_spm))
    lines = zh_corpus.read_text(encoding="utf-8").splitlines()
    ext = extend_sentencepiece(tokenizer, read_sp_proto(llama_spm), lines, 1000, score_mode="lowest")
    scores = [p.score for p in ext.proto.pieces[32000:]]
    regular = [p.score for p in ext.proto.pieces[:32000] if p.type == 1 and p.score > -1e6]  # not "▁▁" (-1e9)
    assert scores == sorted(scores, reverse=True) and max(scores) < min(regular)
    (tmp_path / "x.model").write_bytes(ext.proto.SerializeToString())
    sp = spm.SentencePieceProcessor(model_file=str(tmp_path / "x.model"))
    for text in HELD_OUT + lines[-50:]:
        assert sp.encode(text) == ext.tokenizer.encode(text, add_special_tokens=False), text


def test_unsupported_sentencepiece_models(llama_spm, zh_corpus, tmp_path):
    import io

    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    tokenizer = load_any_tokenizer(str(llama_spm))
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(zh_corpus.read_text(encoding="utf-8").splitlines()),
                                   model_writer=buffer, model_type="unigram", vocab_size=300, minloglevel=2,
                                   hard_vocab_limit=False)
    unigram = model_pb2.ModelProto()
    unigram.ParseFromString(buffer.getvalue())
    with pytest.raises(InputError, match="Unigram"):
        extend_sentencepiece(tokenizer, unigram, ["中文"], 100)
    tokenizer.add_special_tokens({"pad_token": "<pad>"})  # the extra row fine-tuned LLaMA checkpoints carry
    with pytest.raises(InputError, match="renumbered"):
        extend_sentencepiece(tokenizer, read_sp_proto(llama_spm), ["中文"], 100)


def test_untied_llama_old_logits_unchanged(llama_model, extended_llama):
    out, summary = extended_llama
    old_tok, new_tok = load_tokenizer(str(llama_model)), load_tokenizer(str(out))
    before, after = load_model(str(llama_model)), load_model(str(out))
    assert not after.config.tie_word_embeddings and summary["embeddings"]["tied"] is False
    ids = torch.tensor([old_tok.encode("Hello world. 敏捷的狐狸跳过了懒狗。")])
    with torch.no_grad():
        a, b = before(ids).logits, after(ids).logits
    assert torch.allclose(a, b[..., :32000], atol=1e-5)
    # the untied output layer gets subtoken-mean rows from its own old rows
    new_id = new_tok.convert_tokens_to_ids("美元")
    assert new_id >= 32000
    pieces = [t.id for t in old_tok.backend_tokenizer.model.tokenize("美元")]
    head_old, head_new = before.get_output_embeddings().weight, after.get_output_embeddings().weight
    assert torch.allclose(head_new[new_id], head_old[pieces].mean(dim=0), atol=1e-6)
