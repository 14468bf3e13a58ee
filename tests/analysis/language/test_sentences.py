"""Sentence splitting across scripts, and where the final answer starts."""

from __future__ import annotations

import pytest

from polyalign.analysis.language.response import split_final_answer
from polyalign.analysis.language.sentences import split_sentences


@pytest.mark.parametrize(("text", "expected"), [
    ("It costs 3.5 dollars! Really? Yes.", ["It costs 3.5 dollars!", "Really?", "Yes."]),
    ('He said "stop." Then he left.', ['He said "stop."', "Then he left."]),
    ("我有三个苹果。你呢？好的！", ["我有三个苹果。", "你呢？", "好的！"]),
    ("日本語です。「はい。」次に", ["日本語です。", "「はい。」", "次に"]),
    ("วันนี้อากาศดีมาก ฉันจะไปตลาด ราคา 50 บาท", ["วันนี้อากาศดีมาก", "ฉันจะไปตลาด", "ราคา 50 บาท"]),
    ("यह एक वाक्य है। यह दूसरा है।", ["यह एक वाक्य है।", "यह दूसरा है।"]),
    ("كم عمرك؟ عمري ثلاثون", ["كم عمرك؟", "عمري ثلاثون"]),
    ("Step 1: add\nStep 2: subtract", ["Step 1: add", "Step 2: subtract"]),
    ("So 16 - 3 - 4 = 9.答案是9。", ["So 16 - 3 - 4 = 9.答案是9。"]),  # no space after "." and 。 ends it
    ("", []),
    ("  \n ", []),
])
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_final_answer_starts_at_the_last_marker_and_keeps_it() -> None:
    text = "To find the answer, add them. The answer is 5. Wait, the answer is 6."
    assert split_final_answer(text) == ("To find the answer, add them. The answer is 5. Wait,",
                                        "the answer is 6.", "the answer is", "en")
    reasoning, final, marker, lang = split_final_answer("五加一等于六。所以答案是6。")
    assert (reasoning, final, marker, lang) == ("五加一等于六。所以", "答案是6。", "答案是", "zh")


def test_without_a_marker_the_last_sentence_is_the_final_answer() -> None:
    assert split_final_answer("She has 9 eggs. She sells them for 18 dollars.") == (
        "She has 9 eggs.", "She sells them for 18 dollars.", None, None)
    assert split_final_answer("18") == ("", "18", None, None)
    assert split_final_answer("I reanswer: no")[2] is None  # a marker must start a word
