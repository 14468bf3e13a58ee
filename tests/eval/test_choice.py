"""Golden tests for multiple-choice letter extraction."""

from __future__ import annotations

import pytest

from polyalign.eval.scorers.choice import choice_accuracy, extract_choice


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Answer: (B)", "B"),
        ("The answer is B.", "B"),
        ("答案是B", "B"),
        ("答案：Ｂ", "B"),  # full-width letter and colon
        ("（Ｃ）", "C"),
        ("(c)", "C"),  # lower case, unambiguous in brackets
        ("the answer is (a)", "A"),
        ("The answer is c.", "C"),
        ("B) because the cat is hungry", "B"),
        ("C", "C"),
        ("c", "C"),
        ("**B**", "B"),
        ("The correct answer is option E", "E"),
        ("Die Antwort ist D.", "D"),
        ("La respuesta es (E)", "E"),
        ("我选C", "C"),
        ("I think C is right.", "C"),  # the pronoun "I" is not option I
        ("I choose A.", "A"),
        ("A is correct.", "A"),
        ("The answer is A because farmers like cows.", "A"),
        ("Answer: A. The farmer keeps them.", "A"),
        # several statements: the last one counts
        ("The answer is B. Wait, no: the answer is D.", "D"),
    ],
)
def test_extract_choice(text: str, expected: str) -> None:
    assert extract_choice(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # the article trap: "A" starting a sentence is not option A
        "A farmer has 3 cows and buys 2 more.",
        "A farmer has 3 cows. A neighbour has 4.",
        "The answer is a farmer.",
        "The answer is A farmer",
        "Answer: A farmer would sell them.",
        # nothing sensible / ambiguous
        "",
        "I don't know.",
        "Both options are fine.",
        "A) cat\nB) dog\nC) fish",  # the options re-listed
        "A) cat B) dog",
        "(A) or (B)",
        "The answer is F.",  # not among 5 options
    ],
)
def test_extract_choice_none(text: str) -> None:
    assert extract_choice(text) is None


def test_article_trap_does_not_hide_a_real_answer() -> None:
    assert extract_choice("A farmer has 3 cows. The answer is D.") == "D"
    assert extract_choice("A farmer has cows, so (B) fits.") == "B"


def test_n_options_and_custom_letters() -> None:
    assert extract_choice("The answer is D.", n_options=3) is None
    assert extract_choice("The answer is D.", n_options=4) == "D"
    assert extract_choice("Answer: (2)", letters="1234") is None  # only letters are read
    assert extract_choice("Answer: w", n_options=3, letters="uvw") == "W"


def test_choice_accuracy() -> None:
    assert choice_accuracy("B", "B") == 1.0
    assert choice_accuracy("B", " b ") == 1.0
    assert choice_accuracy("B", "Ｂ") == 1.0
    assert choice_accuracy("C", "B") == 0.0
    assert choice_accuracy(None, "B") == 0.0
