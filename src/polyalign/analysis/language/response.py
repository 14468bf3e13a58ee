"""The language(s) of one model response: overall, per sentence, and reasoning vs final answer.

Built on the shared language identifier (`polyalign.langid.detect_language`),
which already strips code, URLs, markup, LaTeX math and digits and has a no-language class, so the
numbers here agree with the ``lang_match`` metric of ``polyalign eval``.

- **Response language**: ``detect_language`` on the whole output (None = no language).
- **Code-switching** (docs/methods.md, LLaMA beyond English: 2-5% of responses mix languages; "per-sentence
  language ID is the natural choice"): the output is split into sentences (`sentences.py`, CJK and
  Thai aware); a sentence votes for its language when the identifier is at least ``threshold``
  confident; a response is code-switched when two or more languages get votes. The default 0.7 is
  measured: at 0.5, 4.7% of monolingual Russian MGSM questions came out "code-switched" (short
  sentences labelled bg/uk/mk), at 0.7 none of 300 English GSM8K solutions and 150 MGSM questions
  in each of 11 languages did.
- **Han characters in Japanese**: a sentence of kanji only is labelled zh by the script rule; inside
  a response whose language writes Han characters as part of a wider script (ISO 15924 ``Jpan`` =
  Han + kana, ``Kore`` = Hangul + Han) it is counted as that language, not as a switch to Chinese.
- **Reasoning vs final answer** (Paper C: after question alignment models reason in English for
  non-English questions): the final answer starts at the *last* answer marker ("The answer is",
  "答案是", "Die Antwort ist", … per language, `ANSWER_MARKERS`); the marker belongs to the final part
  because the number after it has no language of its own. Without a marker the last sentence is
  the final answer. The response counts as chain-of-thought when the part before the final answer
  has at least one sentence with a language. A final part without language (a bare number) takes
  the marker's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from polyalign import langs as langtable
from polyalign.analysis.language.sentences import split_sentences
from polyalign.langid import LangGuess, detect_language

__all__ = ["ANSWER_MARKERS", "DEFAULT_THRESHOLD", "ResponseLanguage", "analyze_response", "split_final_answer"]

DEFAULT_THRESHOLD = 0.7
"""Sentence-vote confidence for code-switching (see the module docstring for how it was chosen)."""

ANSWER_MARKERS: dict[str, tuple[str, ...]] = {
    "en": ("the answer is", "the final answer is", "final answer:", "answer:"),
    "de": ("die antwort ist", "die antwort lautet", "antwort:"),
    "fr": ("la réponse est", "réponse :", "réponse:"),
    "es": ("la respuesta es", "respuesta:"),
    "ru": ("ответ:", "ответ —", "ответ -", "ответ равен", "ответ будет"),
    "sw": ("jibu ni", "jibu:"),
    "zh": ("答案是", "答案为", "答案：", "答案:"),
    "ja": ("答えは", "答え：", "答え:"),
    "th": ("คำตอบคือ", "คำตอบ:"),
    "bn": ("উত্তর হল", "উত্তর:"),
    "te": ("సమాధానం:",),
}
"""Final-answer markers per language, lower-case (QAlign/MetaMath train "The answer is: N"). Bare
nouns ("answer", "答案", "ответ") are left out: they occur inside reasoning ("to find the answer")."""

# A Latin marker must start at a word boundary: "answer:" inside "reanswer:" is no marker.
_MARKER = [(lang, marker, re.compile((r"(?<!\w)" if marker[0].isalpha() and marker[0].isascii() else "")
                                     + re.escape(marker), re.IGNORECASE))
           for lang, markers in ANSWER_MARKERS.items() for marker in markers]
# ISO 15924 scripts that include Han characters besides their own (Jpan = Han + kana, Kore = Hangul + Han).
_SCRIPTS_WITH_HAN = frozenset({"Jpan", "Kore"})


@dataclass(frozen=True)
class ResponseLanguage:
    """Language facts of one response."""

    lang: str | None
    """Language of the whole response (None = no language)."""
    sentence_langs: tuple[str | None, ...]
    """Per sentence, the language if the identifier was at least ``threshold`` confident, else None."""
    languages: tuple[str, ...]
    """Distinct sentence languages, in order of first appearance."""
    code_switched: bool
    """Two or more sentence languages."""
    cot: bool
    """Has a reasoning part (chain of thought) before the final answer."""
    reasoning_lang: str | None
    """Language of the reasoning part (None if no CoT or no language)."""
    final_lang: str | None
    """Language of the final-answer part (None if no CoT or no language)."""
    final_marker: str | None
    """The answer marker the final part starts with, if any."""


def split_final_answer(text: str) -> tuple[str, str, str | None, str | None]:
    """Split an output into (reasoning, final answer, marker, marker language).

    The final answer starts at the last answer marker (kept in it), else it is the last sentence.
    A single sentence without a marker is all final answer, with no reasoning.
    """
    last: tuple[int, str, str] | None = None
    for lang, marker, pattern in _MARKER:
        for match in pattern.finditer(text):
            # the last position wins; at the same position the longer marker ("答案是" over "答案")
            if last is None or match.start() > last[0] or (match.start() == last[0] and len(marker) > len(last[1])):
                last = (match.start(), marker, lang)
    if last is not None:
        return text[:last[0]].strip(), text[last[0]:].strip(), last[1], last[2]
    sentences = split_sentences(text)
    if len(sentences) < 2:
        return "", text.strip(), None, None
    final = sentences[-1]
    return text[:text.rfind(final)].strip(), final, None, None


def analyze_response(text: str, *, threshold: float = DEFAULT_THRESHOLD) -> ResponseLanguage:
    """Language, code-switching and reasoning/final-answer languages of one output.

    Args:
        text: the model output.
        threshold: least identifier confidence for a sentence to vote (code-switching).
    """
    whole = detect_language(text)
    sentence_langs = tuple(_vote(detect_language(s), whole.lang, threshold) for s in split_sentences(text))
    languages = tuple(dict.fromkeys(lang for lang in sentence_langs if lang is not None))
    reasoning, final, marker, marker_lang = split_final_answer(text)
    cot = any(_vote(detect_language(s), whole.lang, 0.0) for s in split_sentences(reasoning))
    reasoning_lang = final_lang = None
    if cot:
        reasoning_lang = _vote(detect_language(reasoning), whole.lang, 0.0)
        final_lang = _vote(detect_language(final), whole.lang, 0.0) or marker_lang
    return ResponseLanguage(lang=whole.lang, sentence_langs=sentence_langs, languages=languages,
                            code_switched=len(languages) > 1, cot=cot, reasoning_lang=reasoning_lang,
                            final_lang=final_lang, final_marker=marker)


def _vote(guess: LangGuess, response_lang: str | None, threshold: float) -> str | None:
    """The language a sentence votes for, or None (no language / not confident enough)."""
    if guess.lang is None or guess.confidence < threshold:
        return None
    if guess.reason == "script:Hans" and response_lang is not None and response_lang in langtable.LANGUAGES \
            and langtable.LANGUAGES[response_lang].script in _SCRIPTS_WITH_HAN:
        return response_lang  # kanji/hanja-only sentence inside a Japanese/Korean response
    return guess.lang
