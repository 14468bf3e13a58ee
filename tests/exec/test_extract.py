"""From model output to program to scored answer; bad outputs are statuses, never crashes."""

from __future__ import annotations

import pytest

from polyalign.eval.scorers.numeric import is_correct
from polyalign.exec import extract_program, last_line, solve, solve_all

FENCE = "```"


def _md(tag: str, body: str) -> str:
    return f"{FENCE}{tag}\n{body}\n{FENCE}"


@pytest.mark.parametrize("text, program", [
    (f"Let me compute.\n{_md('python', 'print(6*7)')}\nOutput:\n{_md('', '42')}", "print(6*7)\n"),
    (_md("py", "x = 2\nprint(x)"), "x = 2\nprint(x)\n"),
    (f"{_md('python', 'print(1)')}\nFixed:\n{_md('python', 'print(2)')}", "print(2)\n"),
    ("Code:\n" + _md("", "a = 3\nprint(a * 2)"), "a = 3\nprint(a * 2)\n"),
    (f"{_md('Python3', 'print(3)')}", "print(3)\n"),
    ("Sure!\n```python\nprint(5)\n", "print(5)\n"),  # cut off before the closing fence
], ids=["python_over_output", "py_tag", "last_python", "untagged_code", "tag_case", "unclosed"])
def test_fenced_blocks(text, program):
    assert extract_program(text) == program


def test_bare_solution_function_gets_called():
    text = "Here is my solution:\nimport math\ndef solution():\n    return math.factorial(3) * 7\nThe answer is 42."
    assert extract_program(text) == "import math\ndef solution():\n    return math.factorial(3) * 7\nprint(solution())\n"


def test_fenced_solution_without_call_gets_called():
    assert extract_program(_md("python", "def solution():\n    return 42")).endswith("print(solution())\n")


@pytest.mark.parametrize("body", [
    "def solution():\n    return 42\nprint(solution())",
    "def solution():\n    return 42\nif __name__ == '__main__':\n    print(solution())",
])
def test_existing_call_is_kept(body):
    assert extract_program(_md("python", body)) == body + "\n"


@pytest.mark.parametrize("text", [
    "The answer is 42.", "", _md("python", "   "), _md("bash", "echo 42"), _md("", "42"),
], ids=["prose", "empty", "blank_block", "other_language", "output_only"])
def test_no_program(text):
    assert extract_program(text) is None


def test_last_line():
    assert last_line("step 1\n\n42\n   \n") == "42"
    assert last_line("") is None and last_line("\n \n") is None


def test_solve_golden_and_scoring():
    ans = solve(_md("python", "from fractions import Fraction\nprint(Fraction(3, 4) * 56)"))
    assert (ans.status, ans.answer) == ("ok", "42")
    assert is_correct(ans.answer, 42.0)
    half = solve(_md("python", "from fractions import Fraction\nprint(Fraction(1, 2))"))
    assert half.answer == "1/2" and is_correct(half.answer, 0.5)


@pytest.mark.parametrize("text, status, detail", [
    ("No code here, the answer is 42.", "no_program", "no code block"),
    (_md("python", "print(6 *)"), "error", "syntax:"),
    (_md("python", "print('forty-two')"), "ok", ""),
    (_md("python", "x = 6 * 7"), "ok", "printed nothing"),
    (_md("python", "print(1)\nraise ValueError('bad')"), "error", "ValueError: bad"),
    (_md("python", "while True: pass"), "timeout", "wall time"),
    (_md("python", "import os\nos.system('id')"), "blocked", "os.system"),
], ids=["no_code", "syntax", "non_numeric", "no_output", "exception", "timeout", "blocked"])
def test_bad_outputs_are_wrong_with_a_status(text, status, detail):
    ans = solve(text, timeout=1.0)
    assert ans.status == status and detail in ans.detail
    assert not is_correct(ans.answer or "", 42.0)  # counted as wrong, never a crash


def test_solve_all_keeps_order_and_skips_non_programs():
    texts = [_md("python", "print(1)"), "no code", _md("python", "print(3)"), _md("python", "1/0")]
    answers = solve_all(texts, max_workers=2)
    assert [(a.status, a.answer) for a in answers] == [("ok", "1"), ("no_program", None), ("ok", "3"), ("error", None)]
