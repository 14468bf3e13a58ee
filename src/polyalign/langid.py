"""Language identification of model outputs: which language is a text in, or has it none?

Shared by the `lang_match` metric (`polyalign.eval.scorers.language`: does the model answer in the
question's language? docs/methods.md) and the response-language analysis (`polyalign.analysis.language`),
so both count the same way.

Three steps. (1) Strip what carries no language: code blocks, URLs, e-mail addresses, markup and
special tokens (``</s>``, ``<|im_end|>``), prompt-template headers (``### Response:``), LaTeX math,
digits of every script. (2) Decide "no language" (``lang=None``) when what is left is empty, has
fewer than `MIN_LETTERS` letter units, or is a loop of at most three distinct words/characters,
each used three times on average ("la la la la", "哈哈哈哈", "I am a I am a I am a"). Repeated
*real* text is language: a question copied five times has many distinct words and is classified
like one copy (repeated lines are collapsed first). The line is drawn at content, not repetition.
(3) Script rules where n-gram models are weak, driven by the language table's ``script`` field:
kana -> ja, Hangul -> ko, Han without kana -> zh, and any script used by exactly one table language
(Thai -> th, Bengali -> bn, Greek -> el, ...); scripts shared by several languages (Latin,
Cyrillic, Arabic, Devanagari) go to py3langid with normalised probabilities, whose "no linguistic
content" label (zxx) and confidences below 0.25 (short strings it guesses on) give "no language".

Why the no-language class matters: on SmolLM2-135M with the Alpaca prompt, degenerate outputs were
labelled Afrikaans by py3langid for 11 of 20 Chinese questions.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from polyalign import langs

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

__all__ = ["LangGuess", "detect_language", "MIN_LETTERS"]

MIN_LETTERS = 4
"""Fewest letter units a text needs to have a language (a Han/kana/Hangul character counts 3)."""

# In parallel text an English sentence has about three times as many letters as its Chinese
# translation has characters; weighting CJK characters by 3 keeps mixed-script votes fair.
_CJK_WEIGHT = 3
# Below this py3langid is guessing: in a probe of two-word strings its labels under 0.25 were
# mostly wrong ("Step by step" -> af 0.19, "Hello world" -> fuv 0.14, "Спасибо" -> uz 0.23), while
# short real sentences score above it ("The answer is" -> en 0.28, "Jibu ni" -> sw 0.36).
_MIN_CONFIDENCE = 0.25
_MAX_LOOP_UNITS = 3  # a text built from at most this many distinct words/characters, repeated

# Unicode character-name prefix -> ISO 15924 script code (the codes the language table uses).
_SCRIPT_BY_NAME = {
    "LATIN": "Latn", "CYRILLIC": "Cyrl", "GREEK": "Grek", "ARABIC": "Arab", "HEBREW": "Hebr",
    "DEVANAGARI": "Deva", "BENGALI": "Beng", "GUJARATI": "Gujr", "TAMIL": "Taml", "TELUGU": "Telu",
    "MALAYALAM": "Mlym", "THAI": "Thai", "HANGUL": "Hang", "HIRAGANA": "Hira", "KATAKANA": "Kana",
    "CJK": "Hani",
}
_CJK = frozenset({"Hani", "Hira", "Kana", "Hang"})

_STRIP = [
    re.compile(r"```.*?(?:```|$)", re.DOTALL),  # fenced code
    re.compile(r"`[^`\n]*`"),  # inline code
    re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+"),  # URLs, e-mail addresses
    re.compile(r"<[^<>\n]{0,40}>|\[/?INST\]"),  # HTML/XML tags, special tokens
    re.compile(
        r"(?im)^[\s#*]*(?:instruction|input|response|output|answer|question|human|assistant|user"
        r"|system)\s*:"
    ),  # prompt-template headers
    re.compile(r"\$\$.*?\$\$|\\\(.*?\\\)|\\\[.*?\\\]", re.DOTALL),  # display/inline math
    re.compile(r"\$[^$\n]*[\\^_{}][^$\n]*\$"),  # $...$ math; "$18 and $20" is prose, kept
    re.compile(r"\\[A-Za-z]+"),  # remaining LaTeX commands
]
_UNIT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]|[^\W\d_]+")

_IDENTIFIER: LanguageIdentifier | None = None  # loaded on first use (about a second)


@dataclass(frozen=True)
class LangGuess:
    """A response-language decision."""

    lang: str | None
    """ISO 639-1 code (py3langid's code for languages outside the table); None = no language."""
    confidence: float
    """py3langid's normalised probability, or the dominant script's share for script rules."""
    reason: str
    """Which rule decided, e.g. ``script:Thai``, ``py3langid``, ``repetition loop``."""


def detect_language(text: str) -> LangGuess:
    """Identify the language of a model output, or say it has none.

    Args:
        text: Model output.

    Returns:
        A `LangGuess`; ``lang`` is None for empty, markup-only or degenerate outputs.
    """
    if not text.strip():
        return LangGuess(None, 1.0, "empty")
    cleaned = _clean(text)
    if not any(ch.isalpha() for ch in cleaned):
        return LangGuess(None, 1.0, "no letters (markup, numbers or symbols only)")
    lines = list(dict.fromkeys(line.strip() for line in cleaned.splitlines() if line.strip()))
    content = "\n".join(lines)  # repeated lines collapsed: a looped answer counts once
    weights = _script_weights(content)
    if sum(weights.values()) < MIN_LETTERS:
        return LangGuess(None, 1.0, "too few letters")
    units = _UNIT.findall(content.lower())
    distinct = len(set(units))
    if distinct <= _MAX_LOOP_UNITS and len(units) >= 3 * distinct:
        return LangGuess(None, 1.0, "repetition loop")
    by_script = _from_script(weights)
    if by_script is not None:
        return by_script
    label, confidence = _identifier().classify(content)
    if label == "zxx":
        return LangGuess(None, confidence, "py3langid: no linguistic content (zxx)")
    if confidence < _MIN_CONFIDENCE:
        return LangGuess(None, confidence, "py3langid: low confidence")
    return LangGuess(label, confidence, "py3langid")


def _clean(text: str) -> str:
    for pattern in _STRIP:
        text = pattern.sub(" ", text)
    return "".join(" " if ch.isdecimal() else ch for ch in text)


def _script_weights(text: str) -> dict[str, int]:
    """Letter count per script (CJK characters weighted); letters of unlisted scripts: "Zzzz"."""
    weights: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            script = _SCRIPT_BY_NAME.get(name.split(" ", 1)[0], "Zzzz")
            weights[script] = weights.get(script, 0) + (_CJK_WEIGHT if script in _CJK else 1)
    return weights


def _from_script(weights: dict[str, int]) -> LangGuess | None:
    """Decide by script when the dominant script belongs to exactly one table language."""
    total = sum(weights.values())
    cjk = sum(weights.get(s, 0) for s in _CJK)
    other = max((s for s in weights if s not in _CJK), key=lambda s: weights[s], default=None)
    if cjk and (other is None or cjk >= weights[other]):
        kana, hangul = weights.get("Hira", 0) + weights.get("Kana", 0), weights.get("Hang", 0)
        script = "Jpan" if kana and kana >= hangul else "Kore" if hangul else "Hans"
        share = cjk / total
    else:
        script, share = other, weights[other] / total
    owners = [row.code for row in langs.LANGUAGES.values() if row.script == script]
    if len(owners) != 1:
        return None
    return LangGuess(owners[0], share, f"script:{script}")


def _identifier() -> LanguageIdentifier:
    """py3langid's model with normalised probabilities, loaded once per process."""
    global _IDENTIFIER
    if _IDENTIFIER is None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        _IDENTIFIER = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _IDENTIFIER
