"""AGIEval, GAOKAO-Bench and question translation: upstream formats, subsets, prompts, bad input."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from polyalign.errors import InputError
from polyalign.eval.documents import build_docs


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _jsonl(*records: dict) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def test_agieval_reads_each_language_from_its_files_and_leaves_multi_answer_items_out(tmp_path, caplog):
    _write(tmp_path / "agieval/logiqa-zh.jsonl", _jsonl(
        {"passage": "甲比乙高。", "question": "谁更高？", "options": ["(A)甲", "(B)乙"], "label": "A", "answer": None},
        {"passage": None, "question": "多选", "options": ["(A)x", "(B)y", "(C)z"], "label": ["A", "C"]},
        {"passage": None, "question": "单选列表", "options": ["(A)x", "(B)y"], "label": ["B"]}))
    _write(tmp_path / "agieval/lsat-ar.jsonl", _jsonl(
        {"passage": "", "question": "Which?", "options": ["(A) one", "(B) two", "(C) three"], "label": "C"}))
    _write(tmp_path / "agieval/math.jsonl", _jsonl({"question": "1+1?", "options": None, "label": None, "answer": "2"}))
    with caplog.at_level(logging.INFO, logger="polyalign.eval.loaders"):
        zh = build_docs("agieval", "zh", data_dir=tmp_path)
    assert [d["gold"] for d in zh] == ["A", "B"]
    assert zh[0]["question"] == "甲比乙高。\n谁更高？" and zh[0]["choices"] == ["甲", "乙"]
    assert zh[0]["subject"] == "logiqa-zh" and zh[0]["id"] == "agieval/zh/0"
    assert "1 of 3 items have several correct answers" in caplog.text
    en = build_docs("agieval", "en", data_dir=tmp_path)  # the cloze file (math) is not read
    assert [(d["question"], d["choices"], d["gold_index"]) for d in en] == [("Which?", ["one", "two", "three"], 2)]
    assert "A. one\nB. two\nC. three" in en[0]["prompt"]


def test_gaokao_keeps_the_options_in_the_question_and_scores_single_answers(tmp_path):
    items = [
        {"year": "2010", "question": "1．下列正确的是（　　）\nA．甲  B．乙\nC．丙  D．丁\n", "answer": ["D"], "index": 0},
        {"year": "2011", "question": "阅读理解……", "answer": ["A", "C", "B"], "index": 1},
        {"year": "2012", "question": "多选（　　）\nA．x  B．y  C．z  D．w  E．v\n", "answer": ["BD"], "index": 2},
        {"year": "2013", "question": "五选一\nA．x B．y C．z D．w E．v\n", "answer": ["E"], "index": 3},
    ]
    _write(tmp_path / "gaokao/Objective_Questions/2010-2022_Biology_MCQs.json",
           json.dumps({"keywords": "2010-2022_Biology_MCQs", "example": items}, ensure_ascii=False))
    _write(tmp_path / "gaokao/Objective_Questions/gemini-pro_2010-2022_Biology_MCQs.json", "not read")
    docs = build_docs("gaokao", "zh", data_dir=tmp_path)
    assert [(d["gold"], d["labels"], d["subject"]) for d in docs] == [
        ("D", ["A", "B", "C", "D"], "Biology_MCQs"), ("E", ["A", "B", "C", "D", "E"], "Biology_MCQs")]
    assert docs[0]["question"].endswith("C．丙  D．丁") and docs[0]["choices"] == []


@pytest.mark.parametrize("name,content,message", [
    ("agieval/logiqa-zh.jsonl", _jsonl({"question": "x", "options": ["甲", "乙"], "label": "A"}),
     r"logiqa-zh.jsonl:1: option '甲' does not start with a letter"),
    ("agieval/logiqa-zh.jsonl", _jsonl({"question": "x", "options": ["(A)甲"], "label": "B"}),
     r"logiqa-zh.jsonl:1: label 'B' is not one of the options"),
    ("gaokao/Objective_Questions/2010_Physics_MCQs.json", json.dumps([1, 2]), r"expected GAOKAO-Bench JSON"),
    ("gaokao/Objective_Questions/2010_Physics_MCQs.json",
     json.dumps({"example": [{"question": "x\nA．1 B．2", "answer": ["F"]}]}), r"#0: answer 'F' is not an option"),
])
def test_malformed_exam_files_name_the_file_and_item(tmp_path, name, content, message):
    _write(tmp_path / name, content)
    task, lang = ("agieval", "zh") if name.startswith("agieval") else ("gaokao", "zh")
    with pytest.raises(InputError, match=message):
        build_docs(task, lang, data_dir=tmp_path)


def test_question_translation_reads_pairs_and_targets_english(tmp_path):
    _write(tmp_path / "qtrans/de-en/test.de", "Wie viele Äpfel hat Anna?\nWas kostet das Brot?\n")
    _write(tmp_path / "qtrans/de-en/test.en", "How many apples does Anna have?\nWhat does the bread cost?\n")
    docs = build_docs("qtrans", "de-en", data_dir=tmp_path)
    assert [d["id"] for d in docs] == ["qtrans/de-en/0", "qtrans/de-en/1"]
    assert (docs[1]["source"], docs[1]["target"], docs[1]["text_lang"]) == (
        "Was kostet das Brot?", "What does the bread cost?", "en")
    with pytest.raises(InputError, match="has no language 'en-de'"):
        build_docs("qtrans", "en-de", data_dir=tmp_path)


def test_question_translation_prompt_is_qalign_stage_one_format(tmp_path):
    from polyalign.data.templates import render_alpaca

    _write(tmp_path / "qtrans/sw-en/test.sw", "Juma ana machungwa 3.\n")
    _write(tmp_path / "qtrans/sw-en/test.en", "Juma has 3 oranges.\n")
    doc = build_docs("qtrans", "sw-en", data_dir=tmp_path, name_mode="paper")[0]
    # byte for byte what the question_alignment builder trains on (instruction only, no input)
    assert doc["prompt"] == render_alpaca(
        "Translate the following sentences from Swahili (macrolanguage) to English. Juma ana machungwa 3.", "")


def test_gaokao_prompt_has_no_empty_options_block(tmp_path):
    _write(tmp_path / "gaokao/Objective_Questions/2010_History_MCQs.json",
           json.dumps({"example": [{"question": "问？\nA．甲 B．乙 C．丙 D．丁", "answer": ["A"]}]}, ensure_ascii=False))
    assert build_docs("gaokao", "zh", data_dir=tmp_path, prompt="chat")[0]["prompt"] == "问？\nA．甲 B．乙 C．丙 D．丁"
