"""Paper numbers on real data (slow): LLaMA-2 and SmolLM2 on MGSM zh/en, extended on QAlign's Chinese questions.

LLaMA beyond English (Zhao et al. 2024): stock LLaMA 0.69 Chinese characters per token with 45% byte
fallbacks, 1.38 after extension; English unchanged. Training text is read from ../shared/data, never
copied.
"""

from __future__ import annotations

import pytest

from polyalign.models.loading import load_tokenizer
from polyalign.vocab.bpe_extend import extend_byte_level_bpe
from polyalign.vocab.kinds import load_any_tokenizer, read_sp_proto
from polyalign.vocab.spm_extend import extend_sentencepiece
from polyalign.vocab.stats import format_table, tokenizer_report


def _data(shared):
    corpus = (shared / "qalign-question-pairs" / "zh-en" / "train.zh").read_text(encoding="utf-8").splitlines()
    mgsm = {lang: [row.split("\t")[0] for row in (shared / "mgsm" / f"mgsm_{lang}.tsv").read_text(
        encoding="utf-8").splitlines()] for lang in ("zh", "en")}
    return corpus, mgsm


@pytest.mark.slow
def test_llama2_paper_numbers(shared_data, llama_spm):
    corpus, mgsm = _data(shared_data)
    old = load_any_tokenizer(str(llama_spm))
    ext = extend_sentencepiece(old, read_sp_proto(llama_spm), corpus, 20000)  # Chinese-LLaMA: a 20K-piece model
    before, after = (tokenizer_report(t, mgsm, name=n) for t, n in ((old, "llama2"), (ext.tokenizer, "llama2+zh")))
    print(f"\n+{len(ext.ids):,} pieces\n" + format_table([before, after]))
    zh0, zh1 = before["languages"]["zh"], after["languages"]["zh"]
    assert 0.62 < zh0["chars_per_token"] < 0.76  # paper: 0.69
    assert 0.40 < zh0["byte_fallback_share"] < 0.52  # paper: 45%
    assert zh1["chars_per_token"] > 1.3 and zh1["byte_fallback_share"] < 0.05  # paper: 1.38
    assert before["languages"]["en"] == after["languages"]["en"]


@pytest.mark.slow
def test_smollm2_numbers(shared_data):
    corpus, mgsm = _data(shared_data)
    try:
        old = load_tokenizer("smollm2-135m-instruct")
    except Exception as err:  # noqa: BLE001 - no network / no cache: skip with the reason
        pytest.skip(f"SmolLM2 tokenizer unavailable: {err}")
    ext = extend_byte_level_bpe(old, corpus[:3000], 8000)
    before, after = (tokenizer_report(t, mgsm, name=n) for t, n in ((old, "smollm2"), (ext.tokenizer, "smollm2+zh")))
    print(f"\n+{len(ext.ids):,} tokens\n" + format_table([before, after]))
    assert after["languages"]["zh"]["chars_per_token"] > 1.8 * before["languages"]["zh"]["chars_per_token"]
    assert before["languages"]["en"] == after["languages"]["en"]
