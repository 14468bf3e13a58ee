"""The starter data set shipped for `polyalign quickstart` is well-formed and parallel.

The data is hand-written (see src/polyalign/assets/starter/README.md), so these checks are what stands
between a typo and a wrong gold answer: parallel lines, identical integer answers, the right script per
language, the same quantities in every translation, and an arithmetic expression per problem (kept in
tests/data/starter_check/) that must evaluate to the answer.
"""

from __future__ import annotations

import ast
import operator
import re
from collections import Counter
from importlib.resources import files
from pathlib import Path

import pytest

STARTER = Path(str(files("polyalign") / "assets" / "starter"))
EXPRESSIONS = Path(__file__).parent / "starter_check"
LANGS = ("en", "de", "fr", "es", "ru", "zh", "ja", "sw", "th")
SPLITS = {"train": 200, "test": 50}

CJK = re.compile(r"[\u4e00-\u9fff]")
KANA = re.compile(r"[\u3040-\u30ff]")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
THAI = re.compile(r"[\u0e00-\u0e7f]")
NON_LATIN = re.compile(r"[\u0400-\u04ff\u0e00-\u0e7f\u3040-\u30ff\u4e00-\u9fff]")
DIGITS = re.compile(r"\d+")


def _rows(split: str, lang: str) -> list[tuple[str, str]]:
    lines = (STARTER / f"{split}.{lang}.tsv").read_text(encoding="utf-8").splitlines()
    rows = [tuple(line.split("\t")) for line in lines]
    assert all(len(row) == 2 for row in rows), f"{split}.{lang}: a line without exactly one tab"
    return rows  # type: ignore[return-value]


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _evaluate(node: ast.AST) -> float:
    """+ - * / on integer literals only: the side file is data, never code."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    raise ValueError(f"unexpected syntax: {ast.dump(node)}")


def test_all_files_exist_with_the_expected_line_counts():
    for split, count in SPLITS.items():
        for lang in LANGS:
            assert (STARTER / f"{split}.{lang}.tsv").is_file()
            assert len(_rows(split, lang)) == count, f"{split}.{lang}"


@pytest.mark.parametrize("split", SPLITS)
def test_lines_are_parallel_with_identical_integer_answers(split):
    english = _rows(split, "en")
    for lang in LANGS:
        rows = _rows(split, lang)
        for i, ((question, answer), (en_question, en_answer)) in enumerate(zip(rows, english)):
            where = f"{split}.{lang} line {i + 1}"
            assert question.strip() and question == question.strip(), where
            assert re.fullmatch(r"-?\d+", answer) and int(answer) > 0, where
            assert answer == en_answer, where
            if lang != "en":
                assert question != en_question, f"{where} is the English text"
            # Quantities are Latin digits in every language, so each translation carries the same numbers.
            assert Counter(DIGITS.findall(question)) == Counter(DIGITS.findall(en_question)), where


@pytest.mark.parametrize("split", SPLITS)
def test_each_language_is_written_in_its_script(split):
    for lang in LANGS:
        for i, (question, _) in enumerate(_rows(split, lang)):
            where = f"{split}.{lang} line {i + 1}"
            if lang == "zh":
                assert CJK.search(question) and not KANA.search(question), where
            elif lang == "ja":
                assert CJK.search(question) or KANA.search(question), where
                assert KANA.search(question), f"{where}: Japanese without kana"
            elif lang == "ru":
                assert CYRILLIC.search(question), where
            elif lang == "th":
                assert THAI.search(question), where
            else:
                assert not NON_LATIN.search(question), where


@pytest.mark.parametrize("split", SPLITS)
def test_every_answer_is_the_value_of_its_arithmetic(split):
    expressions = (EXPRESSIONS / f"{split}.expr").read_text(encoding="utf-8").splitlines()
    answers = [int(answer) for _, answer in _rows(split, "en")]
    assert len(expressions) == len(answers)
    for i, (expression, answer) in enumerate(zip(expressions, answers)):
        assert _evaluate(ast.parse(expression, mode="eval")) == answer, f"{split} line {i + 1}: {expression}"


def test_test_split_is_held_apart_from_training():
    for lang in LANGS:
        train = {question for question, _ in _rows("train", lang)}
        test = [question for question, _ in _rows("test", lang)]
        assert len(set(test)) == len(test) and not train.intersection(test), lang
        assert len(train) == SPLITS["train"], f"duplicate training questions in {lang}"


def test_language_identification_agrees_with_the_file_names():
    langid = pytest.importorskip("py3langid")
    for lang in LANGS:
        questions = [q for split in SPLITS for q, _ in _rows(split, lang)]
        share = sum(langid.classify(q)[0] == lang for q in questions) / len(questions)
        assert share >= 0.9, f"{lang}: only {share:.0%} identified as {lang}"
