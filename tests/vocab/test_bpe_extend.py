"""Byte-level BPE extension: continued BPE learning, and the invariants on the tiny model and SmolLM2."""

from __future__ import annotations

import pytest
import torch

from polyalign.models.loading import load_model, load_tokenizer
from polyalign.vocab.bpe_extend import extend_byte_level_bpe, learn_merges


@pytest.fixture(scope="module")
def bare_byte_level():
    """A byte-level BPE with no merges at all: every text is split into bytes."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {c: i for i, c in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=backend)


def test_learned_merges_skip_ascii_unless_allowed(bare_byte_level):
    lines = ["ab ab ab", "中文 中文", "中文"]
    merges = learn_merges(bare_byte_level.backend_tokenizer, lines, 20)
    assert merges and ("a", "b") not in merges
    assert all(any(ord(c) > 0x7E or c in "ĠĊ" for c in a + b) for a, b in merges)
    ascii_first = learn_merges(bare_byte_level.backend_tokenizer, lines, 1, allow_ascii=True)
    assert ascii_first == [("a", "b")]  # the most frequent pair (3 times)
    ext = extend_byte_level_bpe(bare_byte_level, lines, 20)
    assert ext.ids[0] == 256 and len(ext.tokenizer) == 256 + len(ext.tokens)
    assert ext.tokenizer.tokenize("中文") == ["ä¸Ńæĸĩ"]  # one token for the whole word now
    assert ext.tokenizer.decode(ext.tokenizer.encode("中文 ab")) == "中文 ab"


def _naive_merges(backend, lines, n, allow_ascii):
    """Textbook BPE (recount every pair after every merge), same tie rule: the pair of earliest-seen symbols."""
    from collections import Counter

    from polyalign.vocab.kinds import byte_level_alphabet

    words = Counter(p for line in lines for p, _ in backend.pre_tokenizer.pre_tokenize_str(line))
    ids: dict[str, int] = {}
    seqs = [[ids.setdefault(t.value, len(ids)) for t in backend.model.tokenize(w)] for w in words]
    names, freqs = sorted(ids, key=ids.get), list(words.values())
    known, banned, merges = set(backend.get_vocab()), set(), []
    while len(merges) < n:
        counts = Counter()
        for seq, f in zip(seqs, freqs):
            for pair in zip(seq, seq[1:]):
                counts[pair] += f
        best = min(((-c, p) for p, c in counts.items() if p not in banned), default=None)
        if best is None or -best[0] < 2:
            break
        a, b = best[1]
        text = names[a] + names[b]
        if text in known or not (allow_ascii or any(byte_level_alphabet()[c] >= 128 for c in text)):
            banned.add((a, b))
            continue
        merges.append((names[a], names[b]))
        known.add(text)
        names.append(text)
        new_seqs = []
        for seq in seqs:
            out, i = [], 0
            while i < len(seq):
                if i + 1 < len(seq) and (seq[i], seq[i + 1]) == (a, b):
                    out.append(len(names) - 1)
                    i += 2
                else:
                    out.append(seq[i])
                    i += 1
            new_seqs.append(out)
        seqs = new_seqs
    return merges


@pytest.mark.parametrize("allow_ascii", [True, False])
def test_incremental_learning_equals_textbook_bpe(bare_byte_level, allow_ascii):
    import random

    rng = random.Random(1)
    pieces = ["a", "b", "ab", "aa", "中", "文", "中文", " ", "  ", "bb", "b中"]
    lines = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(150)]
    backend = bare_byte_level.backend_tokenizer
    fast = learn_merges(backend, lines, 60, allow_ascii=allow_ascii)
    assert len(fast) > 10
    assert fast == _naive_merges(backend, lines, 60, allow_ascii)


def test_no_merge_to_learn_is_a_clear_error(bare_byte_level):
    from polyalign.errors import InputError

    with pytest.raises(InputError, match="no new token"):
        extend_byte_level_bpe(bare_byte_level, ["abc", "x y z"], 10)  # ASCII only, all refused


def test_tiny_invariants(tiny_model, extended_tiny, zh_corpus, check_invariants):
    out, summary = extended_tiny
    old, new = load_tokenizer(tiny_model), load_tokenizer(str(out))
    assert summary["kind"] == "byte-level-bpe" and summary["checks"]["ok"]
    assert (summary["old_vocab"], summary["first_id"], summary["new_vocab"]) == (512, 512, 512 + summary["added"])
    assert summary["added"] == 300
    held_out = ["小红的妈妈买了十二个苹果和三瓶牛奶，一共花了多少钱？", "春天来了，我们一起去公园看花吧。"]
    numbers = check_invariants(old, new, english=["The weather is nice today, isn't it?"], chinese=held_out)
    corpus = summary["stats"]["corpus"]
    assert corpus[1]["languages"]["zh"]["chars_per_token"] > 1.5 * corpus[0]["languages"]["zh"]["chars_per_token"]
    assert numbers["zh"][1]["byte_fallback_share"] < numbers["zh"][0]["byte_fallback_share"]


def test_tiny_model_old_logits_unchanged_and_subtoken_init(tiny_model, extended_tiny):
    out, summary = extended_tiny
    old_tok, new_tok = load_tokenizer(tiny_model), load_tokenizer(str(out))
    before, after = load_model(tiny_model), load_model(str(out))
    assert after.config.vocab_size == summary["new_vocab"] and after.config.tie_word_embeddings
    ids = torch.tensor([old_tok.encode("The quick brown fox. 敏捷的狐狸跳过了懒狗。")])
    assert int(ids.max()) < summary["old_vocab"]
    with torch.no_grad():
        a, b = before(ids).logits, after(ids).logits
    assert b.shape[-1] == summary["new_vocab"]
    assert torch.allclose(a, b[..., :summary["old_vocab"]], atol=1e-5)
    # subtoken-mean: a new token's row is the mean of the rows of the old tokens it used to be split into
    emb_old, emb_new = before.get_input_embeddings().weight, after.get_input_embeddings().weight
    assert torch.equal(emb_old, emb_new[:summary["old_vocab"]])
    word = "个苹果"
    new_id = new_tok.convert_tokens_to_ids(new_tok.tokenize(word))
    assert len(new_id) == 1 and new_id[0] >= summary["old_vocab"], new_tok.tokenize(word)
    pieces = old_tok.encode(word)
    assert len(pieces) > 1
    assert torch.allclose(emb_new[new_id[0]], emb_old[pieces].mean(dim=0), atol=1e-6)


@pytest.mark.slow
def test_smollm2_invariants(zh_corpus, shared_data_or_none, check_invariants):
    """The real SmolLM2 tokenizer (byte-level BPE, 49,152 tokens): extension for Chinese keeps every invariant."""
    try:
        old = load_tokenizer("smollm2-135m-instruct")
    except Exception as err:  # noqa: BLE001 - no network / no cache: skip with the reason
        pytest.skip(f"SmolLM2 tokenizer unavailable: {err}")
    corpus, english, chinese = _real_or_written(zh_corpus, shared_data_or_none)
    ext = extend_byte_level_bpe(old, corpus, 3000)
    assert ext.ids[0] == 49152 and len(ext.ids) == 3000
    check_invariants(old, ext.tokenizer, english=english, chinese=chinese)


def _real_or_written(zh_corpus, shared):
    """Training corpus, English and Chinese evaluation text: ../shared/data when present (read, not copied)."""
    if shared is None:
        lines = zh_corpus.read_text(encoding="utf-8").splitlines()
        return lines[:300], [], lines[300:]
    corpus = (shared / "qalign-question-pairs" / "zh-en" / "train.zh").read_text(encoding="utf-8").splitlines()
    mgsm = {lang: [row.split("\t")[0] for row in (shared / "mgsm" / f"mgsm_{lang}.tsv").read_text(
        encoding="utf-8").splitlines()] for lang in ("zh", "en")}
    return corpus[:1500], mgsm["en"], mgsm["zh"]
