"""Sentence splitting for sentence-level language identification, across scripts.

A response is code-switched when its sentences are in different languages (docs/methods.md, LLaMA beyond English:
"per-sentence language ID is the natural choice"), so the splitter must find sentence ends in every
script the language table covers, not only ``. ! ?`` followed by a space:

- Latin-style terminators ``. ! ?`` (with closing quotes or brackets) followed by whitespace; a
  decimal point ("3.5") or a dotted abbreviation inside a word ("e.g.x") does not split;
- CJK full-width terminators ``。 ！ ？ ； …`` (and their closing quotes), which need no space: Chinese
  and Japanese put none;
- the Devanagari/Bengali danda ``। ॥``, the Arabic question mark ``؟``, the Urdu full stop ``۔`` and
  the Ethiopic full stop ``።``;
- Thai, which has no sentence punctuation: a space between two Thai characters ends a sentence
  (Thai writes no spaces between words, so a space marks a phrase or sentence boundary);
- line breaks (numbered steps, list items).

Over-splitting ("Mr. Smith") is harmless here: fragments too short to have a language get no vote.
"""

from __future__ import annotations

import re

__all__ = ["split_sentences"]

_CLOSERS = "\"'”’»)\\]」』）】"
# Each alternative matches a sentence end; its one non-empty group is the gap between sentences, so
# terminators and closing quotes stay with the sentence they end.
_END = re.compile(
    rf"[.!?][{_CLOSERS}]*(\s+)"  # Latin-style terminator, closers, then whitespace
    rf"|[。！？；…][{_CLOSERS}]*(\s*)"  # CJK terminators need no following space
    r"|[।॥؟۔።](\s*)"  # danda, Arabic question mark, Urdu and Ethiopic full stops
    r"|(\s*\n\s*)"  # line breaks
    r"|(?<=[\u0e01-\u0e4f])([ \t\u00a0]+)(?=[\u0e01-\u0e4f])"  # Thai: a space between Thai letters
)


def split_sentences(text: str) -> list[str]:
    """Split a text into sentences (stripped, empty pieces dropped), keeping their order.

    Args:
        text: Any text, in any script or a mix of scripts.

    Returns:
        The sentences; terminators and closing quotes stay with their sentence, the whitespace
        between sentences is dropped.
    """
    pieces, start = [], 0
    for match in _END.finditer(text):
        gap = next(i for i in range(1, 6) if match.group(i) is not None)
        pieces.append(text[start:match.start(gap)])
        start = match.end(gap)
    pieces.append(text[start:])
    return [piece.strip() for piece in pieces if piece.strip()]
