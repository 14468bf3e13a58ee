"""Reading a judge's reply: a 0–3 score or a pairwise verdict, or None when it cannot be read.

Judges answer in many shapes ("Score: 2", "**Score:** 2/3", ``{"score": 2}``, a bare "2"); all of
those are read. What is *not* read is anything ambiguous: two different scores, a number outside
0–3, a fraction such as 2.5, or prose without a score. None is never turned into 0: the caller
retries, and a reply that stays unreadable is counted as unparseable, not scored.
"""

from __future__ import annotations

import re

__all__ = ["parse_score", "parse_verdict"]

# "score" then optional quote/markdown, a separator, optional markdown, the number, optional "/3".
_SCORE = re.compile(r"score[\"'*_]*\s*(?:[:：=]|is|of)\s*[*_]*\s*(-?\d+(?:[.,]\d+)?)\s*(/\s*\d+)?", re.IGNORECASE)
_BARE = re.compile(r"[*_\s]*(-?\d+(?:[.,]\d+)?)\s*(/\s*3)?[*_.\s]*")
_VERDICT = re.compile(r"verdict[\"'*_]*\s*[:：=]\s*[*_\[\"']*\s*(a|b|tie)\b", re.IGNORECASE)
_BARE_VERDICT = re.compile(r"[*_\s\[\"']*(a|b|tie)[*_.\s\]\"']*", re.IGNORECASE)


def _score_value(number: str, denominator: str | None) -> int | None:
    if denominator is not None and denominator.replace("/", "").strip() != "3":
        return None  # "Score: 4/5" is another scale
    if not re.fullmatch(r"-?\d+", number):
        return None  # 2.5: not a point on the 0–3 scale
    value = int(number)
    return value if 0 <= value <= 3 else None


def parse_score(reply: str | None) -> int | None:
    """The 0–3 score in ``reply``, or None (no score, several different ones, or out of range)."""
    if not reply:
        return None
    found = [_score_value(m.group(1), m.group(2)) for m in _SCORE.finditer(reply)]
    if not found:
        bare = _BARE.fullmatch(reply)
        found = [_score_value(bare.group(1), bare.group(2))] if bare else []
    values = set(found)
    if len(values) != 1 or None in values:
        return None
    return values.pop()


def parse_verdict(reply: str | None) -> str | None:
    """"A", "B" or "tie" from ``reply``, or None."""
    if not reply:
        return None
    found = {m.group(1).lower() for m in _VERDICT.finditer(reply)}
    if not found:
        bare = _BARE_VERDICT.fullmatch(reply)
        found = {bare.group(1).lower()} if bare else set()
    if len(found) != 1:
        return None
    verdict = found.pop()
    return "tie" if verdict == "tie" else verdict.upper()
