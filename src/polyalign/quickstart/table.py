"""The tables printed at the end of a quickstart (the HTML report has the same numbers)."""

from __future__ import annotations

from typing import Any

__all__ = ["three_arm_table", "before_after_table"]

_SHORT = {"chrf": "chrF++", "ref_logprob": "ref logprob/tok", "translation_in_english": "transl. in en %",
          "retrieval": "retrieval %"}
_ARMS = ("base", "monoreason", "qalign")


def _pct(value: Any, low: Any = None, high: Any = None, sign: bool = False) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    text = f"{100 * value:+.0f}" if sign else f"{100 * value:.0f}"
    if isinstance(low, (int, float)) and isinstance(high, (int, float)) and low == low:
        text += f" [{100 * low:+.0f}, {100 * high:+.0f}]" if sign else f" [{100 * low:.0f}, {100 * high:.0f}]"
    return text


def _delta_row(rows: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    for row in rows:
        if (row.get("comparison") == "qalign-vs-monoreason" and row.get("system") == "qalign"
                and row.get("lang") == lang):
            return row
    return {}


def three_arm_table(state: dict[str, Any]) -> str:
    """Markdown: per language, accuracy [95% CI] of base / MonoReason / QAlign, QAlign − MonoReason Δ [CI]
    and p (exact McNemar), each arm's gap to English and the share of QAlign's answers in English."""
    comparison = state.get("comparison") or {}
    arms = comparison.get("arms") or {}
    langs = ["en", *state["langs"]]
    lines = ["| lang | base acc % | MonoReason acc % | QAlign acc % | QAlign − MonoReason Δ | p "
             "| gap to en: base / Mono / QAlign | QAlign answers in en % |",
             "|---|---|---|---|---|---|---|---|"]
    for lang in langs:
        cells = [_pct(r.get("acc"), r.get("acc_ci_low"), r.get("acc_ci_high"))
                 for r in (arms.get(a, {}).get(lang, {}) for a in _ARMS)]
        delta = _delta_row(comparison.get("rows") or [], lang)
        p = delta.get("p_value")
        gaps = " / ".join(_pct(arms.get(a, {}).get(lang, {}).get("gap_to_en"), arms.get(a, {}).get(lang, {}).get(
            "gap_ci_low"), arms.get(a, {}).get(lang, {}).get("gap_ci_high"), sign=True) for a in _ARMS)
        english = _pct(arms.get("qalign", {}).get(lang, {}).get("answers_in_english"))
        diff = _pct(delta.get("delta"), delta.get("ci_low"), delta.get("ci_high"), sign=True)
        shown_p = "–" if p is None else f"{p:.2g}"
        shown_gaps = "–" if lang == "en" else gaps
        lines.append(f"| {lang} | " + " | ".join(cells) + f" | {diff} | {shown_p} | {shown_gaps} | {english} |")
    n = {r.get("n") for a in arms.values() for r in a.values()}
    return "\n".join(lines) + f"\n\nitems per language: {', '.join(map(str, sorted(x for x in n if x)))}; " \
                              "[95% bootstrap CI]; gap = language − English within one arm (paired items)\n"


def _cell(before: float | None, after: float | None) -> str:
    if before is None and after is None:
        return "–"
    if before is None or after is None:
        return f"{before if before is not None else '?'} → {after if after is not None else '?'}"
    digits = 2 if abs(before) < 10 and abs(after) < 10 else 1
    return f"{before:.{digits}f} → {after:.{digits}f} ({after - before:+.{digits}f})"


def before_after_table(state: dict[str, Any]) -> str:
    """The stage-I panel: one row per language, per metric ``base → QAlign stage I (Δ)``."""
    metrics = list(state["metrics"])
    lines = ["| lang | " + " | ".join(_SHORT.get(m, m) for m in metrics) + " |",
             "|---|" + "---|" * len(metrics)]
    for lang in state["langs"]:
        before, after = state["before"].get(lang, {}), state["after"].get(lang, {})
        lines.append(f"| {lang} | " + " | ".join(_cell(before.get(m), after.get(m)) for m in metrics) + " |")
    return "\n".join(lines) + "\n"
