"""Numeric-answer scoring (mGSM, mSVAMP): the papers' rule (`acc_paper`) and a corrected rule (`acc`).

The papers' rule is copied from QAlign's evaluation code (``extract_last_num`` in
``evaluate/scripts/mgsm_test.py``; docs/methods.md, QAlign). It drops minus signs, misreads locale
separators and scores "no number" as 0.0, which counts as correct whenever the gold is 0. The
corrected rule fixes those and prefers an explicit final-answer statement over the last number.

Separator rules of the corrected reader (after every Unicode decimal digit is mapped to 0-9):

* ``1,234,567``, ``1.234.567`` and Indian ``1,23,456`` are grouped integers in every language
  (several separators cannot be a decimal mark); mixed ``1,234.5`` / ``1.234,5``: the last mark is
  the decimal mark when the other one groups validly.
* A single comma followed by exactly three digits (``1,234``) is a thousands separator in every
  language, also de/fr: grade-school answers almost never have three decimals, while models write
  English-style thousands in all languages. Any other single comma (``3,5``, ``3,25``) is a decimal
  comma only for the decimal-comma languages below; otherwise (en, zh, ... and ``lang=None``) the
  digits are read as a list ("3,5" -> 3 and 5), as English text would mean.
* A single period is a decimal point, except ``1.500`` (1-3 digits, not starting with 0, then
  exactly three) in a decimal-comma language, where it groups thousands.
* NBSP, thin space and narrow NBSP group thousands in every language; a plain space only in the
  space-grouping languages below (``1 234`` in French), because "3 100 metre races" is English.
  Invalid groupings fall back to reading the pieces as separate numbers.
* The full-width comma (U+FF0C) is never a separator: Chinese lists numbers with it ("100，200").
"""

from __future__ import annotations

import re
import unicodedata

from polyalign import langs

__all__ = ["extract_number_paper", "correct_paper", "extract_number", "is_correct"]

# Locale facts the language table does not carry (yet): CLDR decimal/grouping conventions.
_DECIMAL_COMMA = frozenset(
    "de fr es it pt nl pl cs ro ru uk tr sv fi hu el id vi".split()
)
_SPACE_GROUPING = frozenset("fr ru uk pl cs sv fi hu".split())

# Characters that mean the same as an ASCII one inside numbers: minus signs (U+2212, full-width),
# Arabic decimal/thousands separators (U+066B/U+066C), full-width stop/slash/colon, fraction slash.
_CHAR_MAP = str.maketrans({
    "\u2212": "-", "\uff0d": "-", "\u066b": ".", "\u066c": ",",
    "\uff0e": ".", "\uff0f": "/", "\u2044": "/", "\uff1a": ":",
})
_LATEX = [
    (re.compile(r"\\[dt]?frac\{\s*(-?\d+)\s*\}\{\s*(\d+)\s*\}"), r"\1/\2"),  # \frac{3}{4} -> 3/4
    (re.compile(r"\{,\}"), ","),  # LaTeX thousands: 1{,}234
]
_SPACES = "\u00a0\u2009\u202f "
# One number literal: optional minus glued to the digits, then a simple fraction or digit groups.
_NUMBER = re.compile(
    r"(-?)(?:(?<![\d/])(\d+)/(\d+)(?![\d/])|(\d+(?:[.," + _SPACES + r"]\d+)*))"
)
# Final-answer statements (MetaMath/QAlign "The answer is", GSM8K "####", LaTeX \boxed) in the
# languages of mGSM; one union so an English answer to a German question is found too.
_ANSWER_MARKER = re.compile(
    r"####|\\boxed\{|answer\s*(?:is|:|=)|答案\s*(?:是|为|為|:)|答え\s*(?:は|:)"
    r"|antwort\s*(?:ist|lautet|:)|réponse\s*(?:est|:)|respuesta\s*(?:es|:)|resposta\s*(?:é|:)"
    r"|ответ\s*(?:—|-|:|равен)|jibu\s*(?:ni|:)|คำตอบ\s*(?:คือ|:)|উত্তর\s*(?:হল|হলো|:)",
    re.IGNORECASE,
)

# The end of the answer sentence: a line break, or a full stop followed by a space or the end.
_SENTENCE_END = re.compile(r"\n|[.。!?！？](?:\s|$)")


def extract_number_paper(text: str) -> float:
    """The papers' rule: drop commas between digits, take the last ``\\d+(\\.\\d+)?`` as a float.

    Mirrors QAlign's ``extract_last_num`` exactly, quirks included: the comma substitution is a
    single non-overlapping pass ("1,2,3" -> "12,3"); the sign is dropped; no number gives 0.0. Note
    that Python 3's ``\\d`` and ``float`` accept every Unicode decimal digit, so the original code
    *does* read Bengali/Thai/full-width digits; we keep that to reproduce the published scores.

    Args:
        text: Model output.

    Returns:
        The last number, or 0.0 when there is none.
    """
    text = re.sub(r"(\d),(\d)", r"\1\2", text)
    found = re.findall(r"(\d+(\.\d+)?)", text)
    return float(found[-1][0]) if found else 0.0


def correct_paper(pred_text: str, gold: float) -> bool:
    """The papers' correctness test: ``|extract_number_paper(pred_text) - gold| < 1e-3``."""
    return abs(extract_number_paper(pred_text) - gold) < 1e-3


def extract_number(text: str, lang: str | None = None) -> float | None:
    """Read the model's numeric answer (corrected rule).

    Prefers the first number after the last final-answer marker ("The answer is: 42", "#### 42",
    "答案是 42", "\\boxed{42}"), as MetaMath's evaluation does; without a usable marker, the last
    number in the text. Handles signs, decimals, simple fractions, every script's decimal digits
    and locale separators (module docstring). An equation in the answer sentence ("The answer is
    5 + 3 = 8") gives the number after its last "=" (MetaMath's rule would read 5). Number words
    ("three", "三") are not read.

    Args:
        text: Model output.
        lang: Language of the output (ISO 639-1), used for decimal-comma and space-grouping
            decisions; None means English conventions.

    Returns:
        The number, or None when the text contains none.
    """
    code = langs.get(lang).code if lang else None
    text = _normalize(text)
    for marker in reversed(list(_ANSWER_MARKER.finditer(text))):
        # "The answer is 2 * 1.5 = 3": within the answer sentence, the result follows the last "=".
        sentence = _SENTENCE_END.split(text[marker.end():], maxsplit=1)[0]
        if "=" in sentence:
            result = _numbers(sentence.rsplit("=", 1)[1], code)
            if result:
                return result[0]
        after = _numbers(text, code, start=marker.end())
        if after:
            return after[0]
    found = _numbers(text, code)
    return found[-1] if found else None


def is_correct(pred_text: str, gold: float, lang: str | None = None, tol: float = 1e-3) -> bool:
    """Corrected correctness test: a number was found and ``|pred - gold| < tol``.

    "No number" is never correct (the papers' rule reads it as 0.0 and so scores gold 0 as solved).
    """
    pred = extract_number(pred_text, lang)
    return pred is not None and abs(pred - gold) < tol


def _normalize(text: str) -> str:
    """Map every Unicode decimal digit (category Nd, any script) to ASCII and unify number marks."""
    chars = [str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text]
    text = "".join(chars).translate(_CHAR_MAP)
    for pattern, repl in _LATEX:
        text = pattern.sub(repl, text)
    return text


def _numbers(text: str, lang: str | None, start: int = 0) -> list[float]:
    """All numbers in ``text[start:]``, in order (a literal may expand to several, e.g. a list)."""
    out: list[float] = []
    for m in _NUMBER.finditer(text, start):
        sign = -1.0 if m.group(1) and not _glued(text, m.start()) else 1.0
        if m.group(2) is not None:
            den = int(m.group(3))
            # "n/0" is no fraction: read it as the two numbers it shows
            values = [int(m.group(2)) / den] if den else [float(m.group(2)), 0.0]
        else:
            values = _read_body(m.group(4), lang)
        out.append(sign * values[0])  # the sign belongs to the first number of a literal only
        out.extend(values[1:])
    return out


def _glued(text: str, i: int) -> bool:
    """True when the '-' at ``text[i]`` is a hyphen ("3-4", "COVID-19"), not a minus sign.

    Only letters of scripts below U+2E80 count: a CJK or kana character right before '-' is not a
    word being hyphenated ("温度是-5度" is minus five).
    """
    return i > 0 and text[i - 1].isalnum() and ord(text[i - 1]) < 0x2E80


def _read_body(body: str, lang: str | None) -> list[float]:
    """Interpret digits with separators (rules in the module docstring); invalid -> split."""
    if any(ch in body for ch in _SPACES):
        return _read_spaced(body, lang)
    commas, periods = body.count(","), body.count(".")
    if not commas and not periods:
        return [float(body)]
    if commas and periods:
        dec = "," if body.rfind(",") > body.rfind(".") else "."
        grp = "." if dec == "," else ","
        whole, _, frac = body.rpartition(dec)
        if body.count(dec) == 1 and _grouped(whole.split(grp), indian=grp == ","):
            return [float(whole.replace(grp, "") + "." + frac)]
        return _split(body, ".,")
    mark = "," if commas else "."
    groups = body.split(mark)
    if len(groups) > 2:
        return [float("".join(groups))] if _grouped(groups, indian=mark == ",") else _split(body, mark)
    whole, frac = groups
    thousands = _grouped(groups, indian=False)
    decimal_comma = lang in _DECIMAL_COMMA
    if mark == ",":
        if thousands:
            return [float(whole + frac)]
        return [float(whole + "." + frac)] if decimal_comma else _split(body, mark)
    if thousands and decimal_comma:
        return [float(whole + frac)]
    return [float(whole + "." + frac)]


def _read_spaced(body: str, lang: str | None) -> list[float]:
    """Digits with space-like separators: thousands groups, optionally ending in a decimal part."""
    if " " in body and lang not in _SPACE_GROUPING:
        return [x for part in body.split(" ") for x in _read_body(part, lang)]
    parts = re.split("[" + _SPACES + "]", body)
    # After space grouping, a '.' or ',' in the last group can only be the decimal mark: 1 234,5.
    last = re.fullmatch(r"(\d+)(?:[.,](\d+))?", parts[-1])
    head = parts[:-1]
    if last and all(p.isdigit() for p in head) and _grouped(head + [last.group(1)], indian=False):
        frac = "." + last.group(2) if last.group(2) else ""
        return [float("".join(head) + last.group(1) + frac)]
    return [x for part in parts for x in _read_body(part, lang)]


def _grouped(groups: list[str], indian: bool) -> bool:
    """Valid thousands grouping: 1-3 leading digits (no leading 0) then groups of three.

    With ``indian``, also the lakh/crore pattern: 1-2 leading digits, pairs, a final group of three.
    """
    if not groups[0] or groups[0][0] == "0" or len(groups) < 2:
        return False
    if len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:]):
        return True
    return (
        indian and len(groups) >= 3 and len(groups[0]) <= 2
        and all(len(g) == 2 for g in groups[1:-1]) and len(groups[-1]) == 3
    )


def _split(body: str, marks: str) -> list[float]:
    """Read a literal that is not one number ("1,2,3", "1.2.3") as the numbers it lists."""
    return [float(p) for p in re.split("[" + re.escape(marks) + "]", body) if p]
