"""Golden tests for language identification of model outputs and the no-language class."""

from __future__ import annotations

import pytest

from polyalign.langid import LangGuess, detect_language

# Realistic degenerate outputs of a small model under the Alpaca prompt (the SmolLM2-135M case in
# which py3langid said "Afrikaans"): none of them has a language.
DEGENERATE = [
    ("", "empty"),
    (" \n\n ", "empty"),
    ("### Response:\n### Response:\n### Response:", "no letters"),
    ("### Instruction:\n\n### Input:\n\n### Response:", "no letters"),
    ("1111111111", "no letters"),
    ("</s></s>", "no letters"),
    ("<|im_end|>\n<|im_end|>", "no letters"),
    ("1. 2. 3. 4. 5.", "no letters"),
    ("#### 18", "no letters"),
    ("```python\nprint(16 - 3 - 4)\n```", "no letters"),
    ("https://example.com/answer", "no letters"),
    ("$x^2 + y^2 = z^2$", "no letters"),
    ("Yes", "too few letters"),
    ("好", "too few letters"),
    ("Response Response Response Response", "repetition loop"),
    ("la la la la la la", "repetition loop"),
    ("the the the the and and and", "repetition loop"),
    ("I am a I am a I am a I am a", "repetition loop"),
    ("哈哈哈哈哈哈", "repetition loop"),
    ("Step by step", "py3langid: low confidence"),  # py3langid: af, 0.19
    ("Hello world", "py3langid: low confidence"),
]


@pytest.mark.parametrize(("text", "reason"), DEGENERATE)
def test_no_language(text: str, reason: str) -> None:
    guess = detect_language(text)
    assert guess.lang is None
    assert guess.reason.startswith(reason)


@pytest.mark.parametrize(
    ("text", "lang", "reason"),
    [
        ("珍妮特的鸭子每天下16个蛋。她每天早上吃三个。", "zh", "script:Hans"),
        ("是的", "zh", "script:Hans"),
        ("東京", "zh", "script:Hans"),  # Han only, no kana -> zh
        ("ジャネットのアヒルは1日に16個の卵を産みます。", "ja", "script:Jpan"),
        ("서울은 한국의 수도입니다.", "ko", "script:Kore"),
        ("เป็ดของเจเน็ตวางไข่วันละ 16 ฟอง", "th", "script:Thai"),
        ("জ্যানেটের হাঁস প্রতিদিন ১৬টি ডিম পাড়ে।", "bn", "script:Beng"),
        ("Οι πάπιες της Τζάνετ γεννούν 16 αυγά την ημέρα.", "el", "script:Grek"),
        ("הברווזים של ג'נט מטילים 16 ביצים ביום.", "he", "script:Hebr"),  # RTL
        ("Die Enten von Janet legen 16 Eier pro Tag. Sie isst jeden Morgen drei.", "de", "py3langid"),
        ("Janet's ducks lay 16 eggs per day. She eats three for breakfast.", "en", "py3langid"),
        ("Les canards de Janet pondent 16 œufs par jour.", "fr", "py3langid"),
        ("Утки Джанет несут 16 яиц в день.", "ru", "py3langid"),
        ("بط جانيت يضع 16 بيضة في اليوم.", "ar", "py3langid"),  # RTL, Arabic script shared
        ("जेनेट की बत्तखें प्रतिदिन 16 अंडे देती हैं।", "hi", "py3langid"),
        ("Hii ni jibu sahihi kwa swali hili.", "sw", "py3langid"),
        ("The answer is 18.", "en", "py3langid"),
    ],
)
def test_language(text: str, lang: str, reason: str) -> None:
    guess = detect_language(text)
    assert (guess.lang, guess.reason) == (lang, reason)
    assert 0.0 < guess.confidence <= 1.0


def test_repeated_real_text_is_language() -> None:
    # a question copied five times is looping, but it is Chinese text, not degenerate
    copied = "### Response:\n珍妮特的鸭子每天下16个蛋。\n" * 5
    assert detect_language(copied).lang == "zh"
    one_line = "Janet's ducks lay 16 eggs per day. " * 5
    assert detect_language(one_line).lang == "en"


def test_markup_is_ignored() -> None:
    text = "### Response:\n</s>Die Antwort ist 18, weil 16 - 3 - 4 = 9 und 9 * 2 = 18 ist.</s>"
    assert detect_language(text).lang == "de"


def test_mixed_script_votes_by_weighted_letters() -> None:
    # 3 Han characters (weight 3 each = 9) against 6 Latin letters
    guess = detect_language("答案是 18 apples")
    assert guess == LangGuess("zh", 0.6, "script:Hans")
