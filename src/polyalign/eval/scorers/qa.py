"""Extractive-QA scoring (XQuAD, MLQA): language-aware EM/F1 and x-LLaMA's substring rule.

`normalize_answer` mirrors the official MLQA evaluation script (``mlqa_evaluation_v1.py``,
facebookresearch/MLQA): lower-case, drop every Unicode punctuation character (categories P*), remove
the language's articles, then re-tokenise. Two generalisations, both from docs/methods.md ("Evaluation
facts"): languages beyond MLQA's seven are accepted (no article list = no article removal, where the
official script raises), and the mixed segmentation that MLQA applies to Chinese (each ideograph a
token, other runs split on whitespace) is applied to every language written in a script listed in
`_CHARACTER_TOKEN_SCRIPTS` or without spaces in the language table (zh, ja, th, ko), so a partial
Chinese or Thai answer earns partial F1 instead of 0.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence

from polyalign import langs
from polyalign.errors import InputError

__all__ = ["normalize_answer", "exact_match", "f1", "contains"]


def _is_punct(ch: str) -> bool:
    """MLQA's PUNCT set: Unicode categories P* plus ASCII ``string.punctuation`` (which adds $+<=>^`|~)."""
    return ch in string.punctuation or unicodedata.category(ch).startswith("P")


# Article patterns of the official MLQA script, by language code. Arabic is mirrored as the script
# behaves, not as its comment intends: its pattern '\sال^|ال' can never match the first alternative
# ('^' after characters), so *every* occurrence of 'ال' becomes a space, inside words too.
_ARTICLES: dict[str, re.Pattern[str]] = {
    "en": re.compile(r"\b(a|an|the)\b"),
    "es": re.compile(r"\b(un|una|unos|unas|el|la|los|las)\b"),
    "de": re.compile(r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b"),
    "vi": re.compile(r"\b(của|là|cái|chiếc|những)\b"),
    "ar": re.compile(r"\sال^|ال"),
}

# Scripts (ISO 15924, as in the language table) whose text is scored one character per token.
_CHARACTER_TOKEN_SCRIPTS = frozenset({"Hans", "Hant", "Jpan", "Kore", "Thai"})

# Code-point ranges whose characters become single tokens under mixed segmentation: CJK
# ideographs (with extension A and compatibility forms), kana, Hangul and Thai.
_CHARACTER_TOKEN_RANGES = (
    (0x0E00, 0x0E7F),  # Thai
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3134F),  # CJK extensions B-G
)


def normalize_answer(s: str, lang: str) -> str:
    """MLQA normalisation: lower-case, strip punctuation and articles, re-join tokens with spaces.

    Args:
        s: An answer string (prediction or gold).
        lang: Language of the context (ISO 639-1 or any code the language table knows).

    Returns:
        The normalised answer; its ``split()`` gives the tokens F1 counts.

    Raises:
        InputError: ``lang`` is not in the language table.
    """
    row = langs.get(lang)
    text = "".join(ch for ch in s.lower() if not _is_punct(ch))
    article = _ARTICLES.get(row.code)
    if article is not None:
        text = article.sub(" ", text)
    if row.script in _CHARACTER_TOKEN_SCRIPTS or not row.spaces:
        tokens = _mixed_segmentation(text)
    else:
        tokens = text.split()
    return " ".join(tokens)


def exact_match(pred: str, golds: Sequence[str], lang: str) -> float:
    """1.0 if the normalised prediction equals any normalised gold answer, else 0.0."""
    norm = normalize_answer(pred, lang)
    return max(float(norm == normalize_answer(g, lang)) for g in _checked(golds))


def f1(pred: str, golds: Sequence[str], lang: str) -> float:
    """Token F1 between prediction and gold (MLQA tokens), maximised over the gold answers.

    As in the official script, an empty prediction or gold after normalisation scores 0.
    """
    pred_tokens = normalize_answer(pred, lang).split()
    return max(_f1(pred_tokens, normalize_answer(g, lang).split()) for g in _checked(golds))


def contains(pred: str, golds: Sequence[str]) -> float:
    """x-LLaMA's rule: 1.0 if a lower-cased gold is a substring of the lower-cased prediction.

    From ``eval/xquad.match.py`` of NJUNLP/x-LLM (docs/methods.md, x-LLaMA), generalised to several
    golds (any match). Empty golds are skipped: ``"" in text`` is always true and would score 1.
    """
    text = pred.lower()
    return float(any(g.strip() and g.lower() in text for g in _checked(golds)))


def _checked(golds: Sequence[str]) -> Sequence[str]:
    """Gold answers as a list; a bare string would otherwise be iterated character by character."""
    if isinstance(golds, str):
        golds = [golds]
    if not golds:
        raise InputError("no gold answer given for an extractive-QA example")
    return golds


def _f1(pred_tokens: list[str], gold_tokens: list[str]) -> float:
    common = Counter(pred_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def _is_character_token(ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _CHARACTER_TOKEN_RANGES)


def _mixed_segmentation(text: str) -> list[str]:
    """Each CJK/kana/Hangul/Thai character is a token; other runs are split on whitespace."""
    tokens: list[str] = []
    run: list[str] = []
    for ch in text:
        if _is_character_token(ch):
            tokens.extend("".join(run).split())
            run = []
            tokens.append(ch)
        else:
            run.append(ch)
    tokens.extend("".join(run).split())
    return tokens
