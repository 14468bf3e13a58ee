"""Fixtures for vocabulary tests: a Chinese corpus written here, a tiny LLaMA with the real LLaMA-2
SentencePiece tokenizer, and extended copies of both tiny models (built once per session)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from support.cli import SHARED_DATA

LLAMA_SPM = SHARED_DATA.parent / "tokenizers" / "llama2-spm" / "tokenizer.model"

_NAMES = ["小明", "小红", "王老师", "李阿姨", "张先生", "妈妈", "爸爸", "哥哥", "姐姐", "同学们", "农民伯伯", "工人们"]
_THINGS = [("个", "苹果"), ("支", "铅笔"), ("本", "书"), ("块", "蛋糕"), ("颗", "鸡蛋"), ("瓶", "牛奶"),
           ("张", "电影票"), ("条", "鱼"), ("只", "小狗"), ("辆", "自行车")]
_TEMPLATES = [
    "{n}有{a}{m}{t}，又买了{b}{m}，现在一共有多少{m}{t}？",
    "商店里一{m}{t}卖{a}元，{n}买了{b}{m}，需要付多少钱？",
    "{n}每天早上吃{a}{m}{t}，一个星期一共吃了多少{m}？",
    "这本书一共有{a}页，{n}已经读了{b}页，还剩下多少页没有读？",
    "{n}的学校有{a}名学生，其中一半是女生，男生有多少名？",
    "今天天气很好，{n}和朋友们去公园玩了{a}个小时，然后回家吃晚饭。",
    "如果{n}把{a}{m}{t}平均分给{b}个朋友，每个朋友能得到几{m}？",
    "{n}在农贸市场卖{t}，每{m}{a}美元，一天卖了{b}{m}，赚了多少钱？",
]
_PROSE = [
    "中国是一个历史悠久的国家，有五千多年的文明。",
    "春天来了，花儿都开了，小鸟在树上唱歌。",
    "我们应该好好学习，天天向上，将来为社会做出贡献。",
    "北京是中国的首都，上海是最大的城市之一。",
    "他每天坚持锻炼身体，所以很少生病。",
    "请把下面的句子翻译成英文，并解释你的答案。",
    "科学家们正在研究新的方法来保护环境和节约能源。",
    "这个问题很难，我们需要一步一步地思考。",
]


def chinese_lines(count: int = 400, seed: int = 0) -> list[str]:
    """A deterministic Chinese corpus of ``count`` lines (math word problems and short prose)."""
    rng = random.Random(seed)
    lines = list(_PROSE)
    while len(lines) < count:
        m, t = rng.choice(_THINGS)
        lines.append(rng.choice(_TEMPLATES).format(n=rng.choice(_NAMES), m=m, t=t, a=rng.randint(2, 99),
                                                   b=rng.randint(2, 20)))
    return lines


@pytest.fixture(scope="session")
def llama_spm() -> Path:
    """The real LLaMA-2 tokenizer.model from ../shared/tokenizers, or a skip."""
    if not LLAMA_SPM.is_file():
        pytest.skip(f"LLaMA-2 SentencePiece model not found at {LLAMA_SPM}")
    return LLAMA_SPM


@pytest.fixture(scope="session")
def zh_corpus(tmp_path_factory) -> Path:
    """Chinese training text written by the test suite itself (never copied from ../shared)."""
    path = tmp_path_factory.mktemp("corpus") / "train.zh"
    path.write_text("\n".join(chinese_lines()) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def llama_model(llama_spm, tmp_path_factory) -> Path:
    """A tiny random LLaMA (untied output layer, as LLaMA-2) with the real 32,000-piece LLaMA-2 tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from polyalign.models.loading import save_model
    from polyalign.vocab.kinds import load_any_tokenizer

    out = tmp_path_factory.mktemp("llama") / "model"
    tokenizer = load_any_tokenizer(str(llama_spm))
    config = LlamaConfig(vocab_size=32000, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=False,
                         bos_token_id=1, eos_token_id=2)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = LlamaForCausalLM(config)
    save_model(model, tokenizer, out)
    shutil.copyfile(llama_spm, out / "tokenizer.model")  # as in LLaMA-2 checkpoints on the hub
    return out


def _extend(model: str, corpus: Path, out: Path, new_tokens: int):
    from polyalign.vocab.extend import ExtendConfig, extend_vocabulary

    return extend_vocabulary(ExtendConfig(model=model, corpus=[str(corpus)], lang="zh", new_tokens=new_tokens,
                                          out=str(out)))


@pytest.fixture(scope="session")
def extended_tiny(tiny_model, zh_corpus, tmp_path_factory) -> tuple[Path, dict]:
    """(folder, summary) of the tiny byte-level BPE model extended for Chinese (subtoken-mean init)."""
    out = tmp_path_factory.mktemp("ext-tiny") / "model"
    return out, _extend(tiny_model, zh_corpus, out, 300)


@pytest.fixture(scope="session")
def extended_llama(llama_model, zh_corpus, tmp_path_factory) -> tuple[Path, dict]:
    """(folder, summary) of the tiny LLaMA extended for Chinese with a 2,000-piece SentencePiece model."""
    out = tmp_path_factory.mktemp("ext-llama") / "model"
    return out, _extend(str(llama_model), zh_corpus, out, 2000)


EXTRA_ROUND_TRIP = [
    "", " ", "x", "  leading spaces", "trailing spaces  ", "\n\nnewlines first", "tab\tand\u3000ideographic space",
    "𝕳𝖊𝖑𝖑𝖔 𝟙𝟚𝟛 ⅫⅣ ﷽ ꙮ 𓀀𓁐 🀄🂡", "ᐊᓕᒍᖅ ᓄᓇᕗᑦ (Inuktitut) ꆈꌠꁱꂷ (Yi) ߒߞߏ (N'Ko) ⴰⵎⴰⵣⵉⵖ (Tifinagh)",
    "👨‍👩‍👧 👁️‍🗨️ 🧑🏻‍🤝‍🧑🏿 🏴󠁧󠁢󠁳󠁣󠁴󠁿 1️⃣ #️⃣ ©️",
]
"""Round-trip cases beyond `checks.ROUND_TRIP_TEXTS` (leading whitespace only for byte-level BPE)."""


def _ascii_strings() -> list[str]:
    chars = [chr(c) for c in range(32, 127)] + ["\t", "\n", "\r"]
    return chars + [a + b for a in chars for b in chars]


@pytest.fixture(scope="session")
def check_invariants():
    """A function asserting the extension invariants exhaustively; returns numbers for the report.

    Checked: every old id keeps its string; English (given lines) and every ASCII string of length
    ≤ 2 tokenise identically; every old token whose string the old BPE builds as itself is still
    built as itself, and every pure-ASCII old token string is split as before; every round-trip text
    still round-trips.
    """
    from polyalign.vocab.checks import ENGLISH_PROBES, ROUND_TRIP_TEXTS
    from polyalign.vocab.kinds import token_bytes, tokenizer_kind
    from polyalign.vocab.stats import measure_language

    def check(old, new, *, english: list[str], chinese: list[str]) -> dict:
        kind = tokenizer_kind(old)
        assert tokenizer_kind(new) == kind
        ids = list(range(len(old)))
        assert new.convert_ids_to_tokens(ids) == old.convert_ids_to_tokens(ids), "an old id changed its string"
        assert len(new) > len(old)
        for lines in (list(ENGLISH_PROBES) + list(english), _ascii_strings()):
            before = old(lines, add_special_tokens=False)["input_ids"]
            after = new(lines, add_special_tokens=False)["input_ids"]
            changed = [line for line, a, b in zip(lines, before, after) if a != b]
            assert not changed, f"{len(changed)} English/ASCII texts tokenise differently, e.g. {changed[:3]}"
        old_model, new_model = old.backend_tokenizer.model, new.backend_tokenizer.model
        special = set(old.all_special_ids)
        for i, token in enumerate(old.convert_ids_to_tokens(ids)):
            if i in special:
                continue
            was = [t.id for t in old_model.tokenize(token)]
            raw = token_bytes(token, kind)
            if was == [i] or (raw is not None and raw.isascii()):
                assert [t.id for t in new_model.tokenize(token)] == was, f"old token {token!r} splits differently"
        texts = list(ROUND_TRIP_TEXTS) + EXTRA_ROUND_TRIP
        if kind == "sentencepiece-bpe":  # LLaMA's decoder drops one leading space, before and after extension
            texts = [t for t in texts if not t[:1].isspace()]
        broken = [t for t in texts if new.decode(new.encode(t, add_special_tokens=False)) != t]
        assert not broken, f"round trip broken for {broken}"
        zh_before, _ = measure_language(old, "zh", chinese, kind)
        zh_after, _ = measure_language(new, "zh", chinese, kind)
        en_before, _ = measure_language(old, "en", list(english) or list(ENGLISH_PROBES), kind)
        en_after, _ = measure_language(new, "en", list(english) or list(ENGLISH_PROBES), kind)
        assert zh_after.chars_per_token > zh_before.chars_per_token
        assert en_after.tokens == en_before.tokens
        numbers = {"zh": (zh_before.to_dict(), zh_after.to_dict()), "en": (en_before.to_dict(), en_after.to_dict())}
        for lang, (a, b) in numbers.items():
            print(f"{kind} {lang}: chars/token {a['chars_per_token']} → {b['chars_per_token']}, fertility "
                  f"{a['fertility']} → {b['fertility']}, byte fallbacks {a['byte_fallback_share']} → "
                  f"{b['byte_fallback_share']}, continued {a['continued_share']} → {b['continued_share']}")
        return numbers

    return check


@pytest.fixture
def shared_data_or_none() -> Path | None:
    """../shared/data when present, else None (tests then use the corpus written here)."""
    return SHARED_DATA if SHARED_DATA.is_dir() else None
