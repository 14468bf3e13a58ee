"""Multiple-choice scoring (xCSQA and other lettered benchmarks): read the chosen letter from text.

Generated answers come in many shapes ("Answer: (B)", "The answer is B.", "答案是B", "答案：Ｂ",
"B) because ...", a bare "C"). `extract_choice` tries rules from the most to the least explicit and
returns None when nothing is clear, so unreadable outputs are counted wrong rather than guessed. The
trap it must avoid: "A farmer has ..." starts with the English article "A", which is also option A.

After a rationale (`extract_final_choice`) the trap is a different one: the reasoning mentions
options ("(A) is wrong because ...") before the answer, so only the final statement may count.
"""

from __future__ import annotations

import re
import string
import unicodedata

__all__ = ["extract_choice", "extract_final_choice", "choice_accuracy"]

# Words that introduce the answer, in the xCSQA languages; "option"/"choice" only when qualified,
# since models often re-list "Option A: ..., Option B: ...".
_MARKER = (
    r"(?:answer|(?:correct|right|best)\s+(?:option|choice)|答案|选项|選項|选择|選擇|答え|正解|答"
    r"|antwort|réponse|respuesta|resposta|risposta|antwoord|odpowiedź|ответ|đáp án|jibu|उत्तर"
    r"|الإجابة|الجواب)"
)
_COPULA = r"(?:\s*(?:is|would be|should be|will be|ist|lautet|est|es|é|è|ni|là)(?![A-Za-z]))?"
_MARKED = re.compile(
    _MARKER + _COPULA + r"(?:\s*(?:option|choice))?[\s:=是为為应该應該は*]*"
    r"(?P<open>[(\[])?\s*(?P<letter>[A-Za-z])(?![A-Za-z'])\s*(?P<close>[)\]])?",
    re.IGNORECASE,
)
_BARE = re.compile(r"[\s*(\[]*([A-Za-z])[\s*)\].。:]*")
_BRACKETED = re.compile(r"[(\[]([A-Za-z])[)\]]|\*\*([A-Za-z])\*\*")
_LINE_LABEL = re.compile(r"^\s*\**([A-Z])\**\s*[).:。]|^\s*([a-z])\)", re.MULTILINE)
_INLINE_LABEL = re.compile(r"(?<![A-Za-z])([A-Za-z])\)")
_STANDALONE = re.compile(r"(?<![A-Za-z'])([A-Z])(?![A-Za-z'’])")
# After "A"/"I", these next words mean the letter is an answer ("A is correct"), not an article
# or pronoun ("A farmer has", "I think").
_ANSWER_NEXT_WORDS = frozenset("is was seems appears would should could because since as and or".split())


def extract_choice(
    text: str, n_options: int = 5, letters: str = string.ascii_uppercase
) -> str | None:
    """Read the option letter a model chose.

    Rules, first match wins: (1) a letter after an answer marker ("The answer is B", "答案是B",
    "Answer: (c)"), the last such statement counting; (2) the whole output is one letter ("C",
    "(c)", "**B**"); (3) the output starts with a label ("B) because ...") and no other letter is
    used as a label; (4) exactly one distinct letter appears in brackets or bold; (5) exactly one
    distinct capital letter stands alone ("I pick C"). A lower-case letter counts only in brackets,
    alone, or right before punctuation; "A"/"I" followed by an ordinary lower-case word are read as
    the article/pronoun, never as an answer.

    Args:
        text: Model output.
        n_options: Number of options; only the first ``n_options`` of ``letters`` are valid.
        letters: Option labels in order.

    Returns:
        The upper-case letter, or None when no rule gives one valid letter.
    """
    valid = letters[:n_options].upper()
    # NFKC folds full-width letters and brackets (Ｂ, （Ｂ）, ：) to ASCII.
    text = unicodedata.normalize("NFKC", text)
    for rule in (_after_marker, _bare, _leading_label, _bracketed, _standalone):
        letter = rule(text, valid)
        if letter is not None:
            return letter
    return None


def extract_final_choice(
    text: str, n_options: int = 5, letters: str = string.ascii_uppercase
) -> str | None:
    """Read the answer letter at the end of a rationale ("... The answer is (C).").

    The last answer statement wins (rule 1 of `extract_choice`); without one, only the last
    non-empty line is read, with all the rules of `extract_choice`. Letters mentioned earlier in
    the reasoning never count, so "(A) is wrong, ... so the best choice is C" gives C, not A.

    Args:
        text: Model output: a rationale, then the answer.
        n_options: Number of options; only the first ``n_options`` of ``letters`` are valid.
        letters: Option labels in order.

    Returns:
        The upper-case letter, or None when the end of the output names none clearly.
    """
    valid = letters[:n_options].upper()
    text = unicodedata.normalize("NFKC", text)
    letter = _after_marker(text, valid)
    if letter is not None:
        return letter
    lines = [line for line in text.splitlines() if line.strip()]
    return extract_choice(lines[-1], n_options, letters) if lines else None


def choice_accuracy(pred_letter: str | None, gold_letter: str) -> float:
    """1.0 if the extracted letter equals the gold letter (case and width folded), else 0.0."""
    if pred_letter is None:
        return 0.0
    return float(_fold(pred_letter) == _fold(gold_letter))


def _fold(letter: str) -> str:
    return unicodedata.normalize("NFKC", letter).strip().upper()


def _after_marker(text: str, valid: str) -> str | None:
    found = None
    for m in _MARKED.finditer(text):
        letter = m.group("letter")
        if letter.upper() not in valid or _article_like(text, m.end("letter"), letter):
            continue
        bracketed = bool(m.group("open") or m.group("close"))
        if letter.islower() and not (bracketed or _ends_clause(text, m.end("letter"))):
            continue  # "the answer is a farmer": the article, not option a
        found = letter.upper()
    return found


def _bare(text: str, valid: str) -> str | None:
    m = _BARE.fullmatch(text)
    return m.group(1).upper() if m and m.group(1).upper() in valid else None


def _leading_label(text: str, valid: str) -> str | None:
    first = _LINE_LABEL.search(text.lstrip())
    if first is None or first.start() != 0:
        return None
    letter = (first.group(1) or first.group(2)).upper()
    labels = {m.group(1).upper() for m in _INLINE_LABEL.finditer(text)}
    labels |= {(m.group(1) or m.group(2)).upper() for m in _LINE_LABEL.finditer(text)}
    return letter if letter in valid and labels <= {letter} else None


def _bracketed(text: str, valid: str) -> str | None:
    found = {(m.group(1) or m.group(2)).upper() for m in _BRACKETED.finditer(text)}
    return _unique(found, valid)


def _standalone(text: str, valid: str) -> str | None:
    found = {
        m.group(1) for m in _STANDALONE.finditer(text) if not _article_like(text, m.end(), m.group(1))
    }
    return _unique(found, valid)


def _unique(found: set[str], valid: str) -> str | None:
    """The one valid letter found; None when there are none or several (ambiguous)."""
    found = {letter for letter in found if letter in valid}
    return found.pop() if len(found) == 1 else None


def _article_like(text: str, end: int, letter: str) -> bool:
    """True for "A"/"a"/"I" used as a word: followed by a space and an ordinary lower-case word."""
    if letter.upper() not in "AI":
        return False
    m = re.match(r"\s+([a-z]+)", text[end:])
    return m is not None and m.group(1) not in _ANSWER_NEXT_WORDS


def _ends_clause(text: str, end: int) -> bool:
    """True when only punctuation or the end of the text follows position ``end``."""
    return re.match(r"\s*(?:[.,;:!?。]|$)", text[end:]) is not None
