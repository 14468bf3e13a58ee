"""Translation metrics through the task pack (replay), spBLEU's local-model rule, and the tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polyalign.eval.config import EvalConfig
from polyalign.eval.metrics import hypothesis, process_results
from polyalign.eval.runner import run_eval

EN = ["The cat sleeps on the mat.", "It is raining today.", "We eat bread and cheese."]
ZH = ["猫在垫子上睡觉。", "今天下雨。", "我们吃面包和奶酪。"]


@pytest.fixture()
def flores(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("POLYALIGN_DATA_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("SACREBLEU", str(tmp_path / "sacrebleu-home"))  # no cached Flores SentencePiece model
    monkeypatch.delenv("POLYALIGN_SPBLEU_MODEL", raising=False)
    folder = tmp_path / "data/flores/devtest"
    folder.mkdir(parents=True)
    (folder / "eng.devtest").write_text("\n".join(EN) + "\n", encoding="utf-8")
    (folder / "zho_simpl.devtest").write_text("\n".join(ZH) + "\n", encoding="utf-8")
    return tmp_path


def _replay(root: Path, name: str, outputs: dict[str, list[str]]) -> dict:
    preds = root / f"{name}.jsonl"
    preds.write_text("".join(json.dumps({"task": "flores", "lang": key, "id": f"flores/{key}/{i}", "output": text},
                                        ensure_ascii=False) + "\n"
                             for key, texts in outputs.items() for i, text in enumerate(texts)), encoding="utf-8")
    return run_eval(EvalConfig(tasks=["flores"], langs=["zh"], out=str(root / name), backend="replay",
                               predictions=str(preds), data_dir=str(root / "data")))


def test_perfect_translations_score_100_and_missing_spbleu_model_is_a_note(flores):
    doc = _replay(flores, "perfect", {"en-zh": [f"\n{z}\nNote: done." for z in ZH], "zh-en": EN})
    for key in ("en-zh", "zh-en"):
        values = doc["results"]["flores"][key]
        assert values["bleu"] == pytest.approx(100.0) and values["chrf++"] == pytest.approx(100.0)
        assert "spbleu" not in values and "comet" not in values  # never a silent fallback
    assert values["lang_match"] == 1.0 and doc["results"]["flores"]["en-zh"]["lang_match"] == 1.0
    notes = " ".join(doc["provenance"]["notes"])
    assert "flores en-zh, zh-en: spbleu not computed: spBLEU needs the Flores-101 SentencePiece model" in notes
    assert "comet not computed" in notes
    assert "tok:zh" in doc["provenance"]["metric_signatures"]["flores"]["en-zh"]["bleu"]
    assert "tok:13a" in doc["provenance"]["metric_signatures"]["flores"]["zh-en"]["bleu"]


def test_spbleu_is_computed_with_a_local_model(flores, monkeypatch):
    import sentencepiece

    corpus = flores / "spm.txt"
    corpus.write_text("\n".join(EN + ZH) * 20, encoding="utf-8")
    sentencepiece.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(flores / "spm"), vocab_size=80, hard_vocab_limit=False,
                                             character_coverage=1.0, minloglevel=2)
    monkeypatch.setenv("POLYALIGN_SPBLEU_MODEL", str(flores / "spm.model"))
    doc = _replay(flores, "sp", {"en-zh": ZH, "zh-en": ["The dog sleeps.", "It is sunny.", "We eat bread."]})
    assert doc["results"]["flores"]["en-zh"]["spbleu"] == pytest.approx(100.0)
    assert 0 < doc["results"]["flores"]["zh-en"]["spbleu"] < 100
    assert not any("spbleu" in note for note in doc["provenance"]["notes"])


def test_process_results_per_answer_type():
    numeric = {"kind": "numeric", "text_lang": "de", "answer": -3.5}
    assert process_results(numeric, ["Die Antwort ist -3,5."]) == {"acc": 1.0, "acc_paper": 0.0,
                                                                     "lang_match": 1.0, "lang_none": 0.0}
    qa = {"kind": "qa", "text_lang": "zh", "answers": ["北京市"]}
    scores = process_results(qa, ["北京"])
    assert scores["em"] == 0.0 and 0 < scores["f1"] < 1 and scores["contains"] == 0.0
    choice = {"kind": "choice", "text_lang": "en", "labels": ["A", "B", "C"], "gold": "C", "gold_index": 2}
    assert process_results(choice, ["The answer is (C)."])["acc"] == 1.0
    assert process_results(choice, [(-5.0, False), (-1.0, True), (-2.0, False)]) == {"acc": 0.0}
    assert hypothesis("\n\n  Hallo Welt. \nNote: x") == "Hallo Welt."
