"""The before/after table printed at the end of a quickstart (the HTML report has the same numbers)."""

from __future__ import annotations

from typing import Any

__all__ = ["before_after_table"]

_SHORT = {"chrf": "chrF++", "ref_logprob": "ref logprob/tok", "translation_in_english": "transl. in en %",
          "retrieval": "retrieval %", "answer_lang_match": "answer lang %", "acc": "math acc %"}


def _cell(before: float | None, after: float | None) -> str:
    if before is None and after is None:
        return "–"
    if before is None or after is None:
        return f"{before if before is not None else '?'} → {after if after is not None else '?'}"
    digits = 2 if abs(before) < 10 and abs(after) < 10 else 1
    return f"{before:.{digits}f} → {after:.{digits}f} ({after - before:+.{digits}f})"


def before_after_table(state: dict[str, Any]) -> str:
    """Markdown table: one row per language, one column per metric, ``before → after (Δ)``."""
    metrics = list(state["metrics"])
    langs = ["en", *state["langs"]]
    lines = ["| lang | " + " | ".join(_SHORT.get(m, m) for m in metrics) + " |",
             "|---|" + "---|" * len(metrics)]
    for lang in langs:
        before, after = state["before"].get(lang, {}), state["after"].get(lang, {})
        lines.append(f"| {lang} | " + " | ".join(_cell(before.get(m), after.get(m)) for m in metrics) + " |")
    return "\n".join(lines) + "\n"
