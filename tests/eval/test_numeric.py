"""Golden tests for numeric-answer scoring; every expected value is worked out by hand."""

from __future__ import annotations

import pytest

from polyalign.errors import InputError
from polyalign.eval.scorers.numeric import (
    correct_paper,
    extract_number,
    extract_number_paper,
    is_correct,
)


# --- the papers' rule (QAlign extract_last_num), quirks included ------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Janet sells 16 - 3 - 4 = 9 eggs. She makes 9 * 2 = $18.", 18.0),
        ("The total is 1,234.5 dollars", 1234.5),  # comma between digits removed
        ("1,2,3", 3.0),  # one non-overlapping pass: "1,2,3" -> "12,3" -> last is 3
        ("It is -5 degrees", 5.0),  # the sign is dropped
        ("I don't know", 0.0),  # no number -> 0.0
        ("3.5.6", 6.0),  # findall: "3.5", "6"
        # Python 3's \d and float() accept any Nd digit, so the original code reads these too.
        ("উত্তর ১২৩", 123.0),
        ("答案是１２３", 123.0),
    ],
)
def test_extract_number_paper(text: str, expected: float) -> None:
    assert extract_number_paper(text) == expected


def test_correct_paper_counts_no_number_as_zero_and_drops_signs() -> None:
    assert correct_paper("no idea", 0) is True  # the bug the corrected rule fixes
    assert correct_paper("The answer is -5", -5) is False
    assert correct_paper("The answer is -5", 5) is True
    assert correct_paper("18.0004", 18) is True
    assert correct_paper("18.002", 18) is False


# --- corrected rule: answer markers ------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5 + 3 = 8 apples. The answer is: 42", 42.0),
        ("So 16 - 7 = 9.\n#### 1,234", 1234.0),
        ("她有 5 个苹果，答案是 42 个。", 42.0),
        ("答案：１２", 12.0),  # full-width colon and digits
        ("Answer: 42", 42.0),
        (r"Thus $x = \boxed{-3}$ and 7 is unrelated", -3.0),
        (r"\boxed{\frac{3}{4}}", 0.75),
        # the first number after the last marker, not the last number of the text
        ("The answer is 18.\n\n### Instruction:\nTom has 25 apples", 18.0),
        ("The answer is 5. Let me check. The answer is 6. Next, 99", 6.0),
        # a marker with no number after it falls back to the last number overall
        ("3 + 4 = 7. The answer is seven.", 7.0),
        ("Die Antwort ist 12.", 12.0),
        ("La réponse est 7", 7.0),
        ("Ответ: 15", 15.0),
        ("no marker: 3 then 7", 7.0),
        # an equation in the answer sentence: the result after its last "=", not its first operand
        ("The answer is 2 * 1.5 = 3", 3.0),
        ("The answer is 5 + 3 = 8.\nCheck: 8 = 8", 8.0),
        ("答案是 6 × 7 = 42。", 42.0),
        ("The answer is 12. Check: 3 * 4 = 11", 12.0),  # an "=" in a later sentence is not the answer
    ],
)
def test_markers(text: str, expected: float) -> None:
    assert extract_number(text) == expected


# --- corrected rule: native digits of every script ---------------------------------------------
@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("উত্তর: ১২৩", "bn", 123.0),  # Bengali
        ("คำตอบคือ ๑๒๓ ฟอง", "th", 123.0),  # Thai
        ("الجواب ١٢٣", "ar", 123.0),  # Arabic-Indic, right to left
        ("پاسخ ۴۵", "fa", 45.0),  # extended Arabic-Indic (Persian)
        ("उत्तर १२३", "hi", 123.0),  # Devanagari
        ("答案是１２３", "zh", 123.0),  # full-width
        ("٣٫٥ كيلو", "ar", 3.5),  # Arabic decimal separator U+066B
        ("١٬٢٣٤", "ar", 1234.0),  # Arabic thousands separator U+066C
    ],
)
def test_native_digits(text: str, lang: str, expected: float) -> None:
    assert extract_number(text, lang) == expected


# --- corrected rule: signs and fractions -------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The temperature is -7", -7.0),
        ("The temperature is \u22127", -7.0),  # U+2212 MINUS SIGN
        ("x = -2.5", -2.5),
        ("温度是-5度", -5.0),  # a Han character before '-' does not make it a hyphen
        ("pages 3-4", 4.0),  # a range, not minus four
        ("COVID-19", 19.0),  # a hyphenated name
        ("5 - 3 = 2", 2.0),
        ("She ate 3/4 of the pie", 0.75),
        (r"\frac{1}{8}", 0.125),
        ("$18", 18.0),
        ("50%", 50.0),
    ],
)
def test_signs_and_fractions(text: str, expected: float) -> None:
    assert extract_number(text) == expected


# --- corrected rule: separators and decimal marks ----------------------------------------------
@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("1,234,567", None, 1234567.0),
        ("1.234.567", "de", 1234567.0),
        ("1.234.567", None, 1234567.0),  # several periods cannot be a decimal mark
        ("1,23,456", "hi", 123456.0),  # Indian lakh grouping
        ("1 234", "fr", 1234.0),
        ("1 234", "en", 234.0),  # plain space groups only in space-grouping languages
        ("1\u00a0234", None, 1234.0),  # NBSP
        ("1\u2009234", "en", 1234.0),  # thin space
        ("1\u202f234,5", "fr", 1234.5),  # narrow NBSP + decimal comma
        ("1 234,5", "fr", 1234.5),
        ("1,234", "de", 1234.0),  # comma + exactly 3 digits groups in every language
        ("1.500", "de", 1500.0),
        ("1.500", "en", 1.5),
        ("0.125", "de", 0.125),  # a leading 0 cannot start a thousands group
        ("3,5", "de", 3.5),
        ("3,25", "fr", 3.25),
        ("0,5", "ru", 0.5),
        ("3,5", "en", 5.0),  # English: a list "3,5"
        ("3,5", None, 5.0),
        ("3.5", "de", 3.5),
        ("1,234.5", None, 1234.5),
        ("1.234,5", "de", 1234.5),
        ("1.234,5", "en", 1234.5),  # mixed marks are unambiguous
        ("1,2,3", None, 3.0),  # a list, not 123
        ("100，200", "zh", 200.0),  # full-width comma separates list items
        ("The cost is 12.50 dollars.", "en", 12.5),
    ],
)
def test_separators(text: str, lang: str | None, expected: float) -> None:
    assert extract_number(text, lang) == expected


def test_no_number_is_none_and_never_correct() -> None:
    assert extract_number("I don't know") is None
    assert extract_number("") is None
    assert extract_number("答案是三") is None  # number words are not read
    assert is_correct("I don't know", 0) is False
    assert correct_paper("I don't know", 0) is True


def test_is_correct() -> None:
    assert is_correct("The answer is -5", -5) is True
    assert is_correct("The answer is -5", 5) is False
    assert is_correct("Die Antwort ist 3,5", 3.5, lang="de") is True
    assert is_correct("The answer is 3,5", 3.5, lang="en") is False
    assert is_correct("উত্তর: ১৮", 18, lang="bn") is True
    assert is_correct("18.0004", 18) is True
    assert is_correct("18.0004", 18, tol=1e-5) is False


def test_unknown_language_is_input_error() -> None:
    with pytest.raises(InputError):
        extract_number("3,5", "xx")
