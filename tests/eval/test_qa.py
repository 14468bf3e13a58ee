"""Golden tests for extractive-QA scoring (MLQA normalisation, EM, F1, x-LLaMA's contains)."""

from __future__ import annotations

import pytest

from polyalign.errors import InputError
from polyalign.eval.scorers.qa import contains, exact_match, f1, normalize_answer


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("The  Eiffel Tower!", "en", "eiffel tower"),
        ("an apple, a pear", "en", "apple pear"),
        ("$5 + 3", "en", "5 3"),  # MLQA's PUNCT also holds ASCII symbols $ + = ...
        ("Los Ángeles", "es", "ángeles"),
        ("Der Eiffelturm", "de", "eiffelturm"),
        ("những cái nhà của tôi", "vi", "nhà tôi"),
        ("«Paris»", "fr", "paris"),  # Unicode P* punctuation; no article list for fr
        ("the Paris", "de", "the paris"),  # articles are per language
        # Arabic: the official script replaces every 'ال', also inside words ("المال" -> "م")
        ("الكتاب", "ar", "كتاب"),
        ("المال", "ar", "م"),
        # mixed segmentation: one token per Han/kana/Hangul/Thai character, other runs by spaces
        ("埃菲尔铁塔。", "zh", "埃 菲 尔 铁 塔"),
        ("iPhone 手机", "zh", "iphone 手 机"),
        ("東京タワー", "ja", "東 京 タ ワ ー"),
        ("서울 타워", "ko", "서 울 타 워"),
        ("หอไอเฟล", "th", "ห อ ไ อ เ ฟ ล"),
        ("नई दिल्ली।", "hi", "नई दिल्ली"),  # danda is punctuation; Hindi keeps whitespace tokens
    ],
)
def test_normalize_answer(text: str, lang: str, expected: str) -> None:
    assert normalize_answer(text, lang) == expected


def test_exact_match() -> None:
    assert exact_match("The Eiffel Tower.", ["Eiffel Tower"], "en") == 1.0
    assert exact_match("Eiffel", ["Eiffel Tower"], "en") == 0.0
    assert exact_match("埃菲尔铁塔", ["巴黎", "埃菲尔铁塔。"], "zh") == 1.0  # any gold
    assert exact_match("el perro", ["Perro"], "es") == 1.0


def test_f1_english() -> None:
    # pred {eiffel, tower, paris} vs gold {eiffel, tower}: P = 2/3, R = 1, F1 = 0.8
    assert f1("the Eiffel Tower, Paris", ["Eiffel Tower"], "en") == pytest.approx(0.8)
    assert f1("Paris", ["Eiffel Tower"], "en") == 0.0


def test_f1_partial_credit_for_chinese_and_thai() -> None:
    # 3 of 5 characters: P = 1, R = 3/5, F1 = 2 * 0.6 / 1.6 = 0.75 (whitespace split would give 0)
    assert f1("埃菲尔", ["埃菲尔铁塔"], "zh") == pytest.approx(0.75)
    # Thai "หอไอเฟล" (7 chars) vs "ไอเฟล" (5 chars): common 5, P = 1, R = 5/7, F1 = 10/12
    assert f1("ไอเฟล", ["หอไอเฟล"], "th") == pytest.approx(10 / 12)


def test_f1_takes_max_over_golds_and_handles_rtl() -> None:
    golds = ["Eiffel Tower", "the tower"]  # second normalises to "tower": P = 1/2, R = 1 -> 2/3
    assert f1("tower block", golds, "en") == pytest.approx(2 / 3)
    # Arabic: "مدينة القاهرة" -> "مدينة قاهرة"; gold "القاهرة" -> "قاهرة": P = 1/2, R = 1
    assert f1("مدينة القاهرة", ["القاهرة"], "ar") == pytest.approx(2 / 3)


def test_f1_empty_prediction_is_zero() -> None:
    assert f1("", ["Paris"], "en") == 0.0
    assert f1("...", ["Paris"], "en") == 0.0


def test_contains_is_x_llama_substring_rule() -> None:
    assert contains("I think it is the EIFFEL tower.", ["Eiffel Tower"]) == 1.0
    assert contains("The tower", ["Eiffel Tower"]) == 0.0
    assert contains("答案是埃菲尔铁塔", ["巴黎", "埃菲尔铁塔"]) == 1.0
    assert contains("Paris", ["", "  "]) == 0.0  # empty golds never match everything
    assert contains("Paris", "paris") == 1.0  # a bare string is one gold, not characters


def test_no_gold_and_unknown_language_are_input_errors() -> None:
    with pytest.raises(InputError):
        f1("x", [], "en")
    with pytest.raises(InputError):
        normalize_answer("x", "xx")
