"""Golden tests for BLEU / chrF++ / spBLEU wrappers; no network is ever used."""

from __future__ import annotations

import math
import socket
from pathlib import Path

import pytest
import sacrebleu.utils
from sacrebleu.tokenizers import tokenizer_spm

from polyalign.errors import InputError
from polyalign.eval.scorers import translation
from polyalign.eval.scorers.translation import SPBLEU_ENV, bleu, chrf_pp, spbleu, tokenizer_for


def test_bleu_english_hand_computed() -> None:
    # hyp "the cat sat on the mat" / ref "the cat sat on a mat", 13a tokens, BP = 1:
    # precisions 5/6, 3/5, 2/4, 1/3 -> geometric mean (1/12) ** (1/4)
    score, sig = bleu(["the cat sat on the mat"], ["the cat sat on a mat"], "en")
    assert score == pytest.approx(100 * (1 / 12) ** 0.25)
    assert "tok:13a" in sig and sig.startswith("nrefs:1|case:mixed|eff:no|")


def test_bleu_chinese_uses_zh_tokenizer() -> None:
    # characters: hyp 5, ref 6 -> precisions 5/5, 3/4, 2/3, 1/2; BP = exp(1 - 6/5)
    score, sig = bleu(["猫坐在垫上"], ["猫坐在垫子上"], "zh")
    assert score == pytest.approx(100 * math.exp(-0.2) * 0.25**0.25)
    assert "tok:zh" in sig
    # the pitfall the per-language choice avoids: 13a sees one token per sentence
    assert bleu(["猫坐在垫上"], ["猫坐在垫子上"], "en")[0] == 0.0


def test_tokenizer_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tokenizer_for("zh") == "zh"
    assert tokenizer_for("de") == "13a"
    assert tokenizer_for("th") == "char"  # no spaces in the language table
    monkeypatch.setattr(translation, "_importable", lambda tok: False)
    assert tokenizer_for("ja") == "char"
    assert tokenizer_for("ko") == "char"
    monkeypatch.setattr(translation, "_importable", lambda tok: True)
    assert tokenizer_for("ja") == "ja-mecab"
    assert tokenizer_for("ko") == "ko-mecab"


def test_bleu_japanese_fallback_is_visible_in_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(translation, "_importable", lambda tok: False)
    score, sig = bleu(["猫坐在垫上"], ["猫坐在垫子上"], "ja")
    assert "tok:char" in sig
    assert score == pytest.approx(100 * math.exp(-0.2) * 0.25**0.25)


def test_chrf_pp() -> None:
    score, sig = chrf_pp(["the cat sat on the mat"], ["the cat sat on the mat"])
    assert score == 100.0
    assert "nw:2" in sig and "nc:6" in sig
    assert chrf_pp(["xyz"], ["abc"])[0] == 0.0
    # word bigrams make chrF++ differ from plain chrF on the same pair
    plain = sacrebleu.corpus_chrf(["the cat sat on the mat"], [["the cat sat on a mat"]]).score
    assert chrf_pp(["the cat sat on the mat"], ["the cat sat on a mat"])[0] != pytest.approx(plain)


def test_bad_inputs() -> None:
    with pytest.raises(InputError):
        bleu(["a", "b"], ["a"], "en")
    with pytest.raises(InputError):
        chrf_pp([], [])
    with pytest.raises(InputError):
        bleu("a b", "a b", "en")
    with pytest.raises(InputError):
        bleu(["a"], ["a"], "xx")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test on any download or socket connection attempt."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(tokenizer_spm, "download_file", refuse)
    monkeypatch.setattr(sacrebleu.utils, "download_file", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_spbleu_missing_model_raises_without_download(
    no_network: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SPBLEU_ENV, raising=False)
    monkeypatch.setattr(tokenizer_spm, "SACREBLEU_DIR", str(tmp_path / "cache"))
    expected = tmp_path / "cache" / "models" / "sacrebleu_tokenizer_spm.model"
    with pytest.raises(InputError, match="sacrebleu_tokenizer_spm.model") as err:
        spbleu(["a b"], ["a b"])
    assert str(expected) in str(err.value) and SPBLEU_ENV in str(err.value)
    with pytest.raises(InputError, match="nowhere.model"):
        spbleu(["a b"], ["a b"], spm_path=tmp_path / "nowhere.model")
    monkeypatch.setenv(SPBLEU_ENV, str(tmp_path / "env.model"))
    with pytest.raises(InputError, match="env.model"):
        spbleu(["a b"], ["a b"])
    assert not expected.exists()


@pytest.fixture(scope="module")
def tiny_spm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small SentencePiece model trained here, standing in for the Flores-101 one."""
    import sentencepiece

    prefix = tmp_path_factory.mktemp("spm") / "tiny"
    lines = ["the cat sat on the mat", "a dog sat on a log", "the cat saw the dog"] * 20
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_prefix=str(prefix), vocab_size=30,
        character_coverage=1.0, hard_vocab_limit=False, minloglevel=2,
    )
    return prefix.with_suffix(".model")


def test_spbleu_with_local_model(
    no_network: None, tiny_spm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sentencepiece
    from sacrebleu.metrics import BLEU

    score, sig = spbleu(["the cat sat on the mat"], ["the cat sat on the mat"], spm_path=tiny_spm)
    assert score == pytest.approx(100.0)
    assert "tok:flores101" in sig
    # spBLEU is BLEU over the model's pieces: equal to plain BLEU on pre-split piece strings
    hyps, refs = ["the cat sat on the mat"], ["a cat sat on a log"]
    sp = sentencepiece.SentencePieceProcessor(model_file=str(tiny_spm))
    pieces = lambda xs: [" ".join(sp.encode(x, out_type=str)) for x in xs]  # noqa: E731
    expected = BLEU(tokenize="none").corpus_score(pieces(hyps), [pieces(refs)]).score
    monkeypatch.setenv(SPBLEU_ENV, str(tiny_spm))  # found through the environment variable
    score, _ = spbleu(hyps, refs)
    assert score == pytest.approx(expected)
    assert 0.0 < score < 100.0


def test_spbleu_finds_model_in_sacrebleu_cache(
    no_network: None, tiny_spm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SPBLEU_ENV, raising=False)
    monkeypatch.setattr(tokenizer_spm, "SACREBLEU_DIR", str(tmp_path))
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "sacrebleu_tokenizer_spm.model").write_bytes(tiny_spm.read_bytes())
    assert spbleu(["a dog sat"], ["a dog sat"])[0] == pytest.approx(100.0)
