"""The quickstart's three-arm table: base vs MonoReason vs QAlign per language, from ``quickstart.json``.

Reads ``"comparison"`` (`polyalign.quickstart.comparison` writes it): per arm and language the accuracy
with its 95% bootstrap CI, the gap to English with its CI and the answer-language shares, and the
compare rows of QAlign vs MonoReason (Δ, CI, p). Nothing is coloured as better or worse here: the
table shows the numbers as they are, and answering in English is QAlign's design, not a regression.
"""

from __future__ import annotations

import math
from typing import Any

from polyalign.report.html import note, table

__all__ = ["arms_table", "ARMS"]

ARMS = (("base", "base"), ("monoreason", "MonoReason"), ("qalign", "QAlign"))


def _num(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def _pct(value: Any, low: Any = None, high: Any = None, sign: bool = False) -> str | None:
    v, lo, hi = _num(value), _num(low), _num(high)
    if v is None:
        return None
    fmt = "{:+.0f}" if sign else "{:.0f}"
    text = fmt.format(100 * v)
    return text + f" [{fmt.format(100 * lo)}, {fmt.format(100 * hi)}]" if lo is not None and hi is not None else text


def _delta(rows: list[Any], lang: str) -> dict[str, Any]:
    for row in rows:
        if (isinstance(row, dict) and row.get("comparison") == "qalign-vs-monoreason"
                and row.get("system") == "qalign" and row.get("lang") == lang):
            return row
    return {}


def arms_table(data: dict[str, Any]) -> str:
    """The three-arm table (HTML) with its note, or "" when ``quickstart.json`` has no comparison."""
    comparison = data.get("comparison")
    if not isinstance(comparison, dict) or not isinstance(comparison.get("arms"), dict):
        return ""
    arms = comparison["arms"]
    rows_in = comparison.get("rows") if isinstance(comparison.get("rows"), list) else []
    langs = ["en", *[str(x) for x in data.get("langs") or [] if x != "en"]]

    def arm(name: str, lang: str) -> dict[str, Any]:
        row = (arms.get(name) or {}).get(lang) if isinstance(arms.get(name), dict) else None
        return row if isinstance(row, dict) else {}

    rows = []
    for lang in langs:
        delta = _delta(rows_in, lang)
        p = _num(delta.get("p_value"))
        row: list[Any] = [lang]
        row += [_pct(arm(a, lang).get("acc"), arm(a, lang).get("acc_ci_low"), arm(a, lang).get("acc_ci_high"))
                for a, _ in ARMS]
        row += [_pct(delta.get("delta"), delta.get("ci_low"), delta.get("ci_high"), sign=True),
                None if p is None else f"{p:.2g}"]
        row += [_pct(arm(a, lang).get("gap_to_en"), arm(a, lang).get("gap_ci_low"), arm(a, lang).get("gap_ci_high"),
                     sign=True) for a, _ in ARMS]
        row += [_pct(arm(a, lang).get(key)) for a, _ in ARMS
                for key in ("answers_in_english", "answers_in_question_lang")]
        rows.append(row)
    group = [("", 1), ("accuracy, % [95% CI]", 3), ("QAlign − MonoReason", 2), ("gap to English, points [95% CI]", 3),
             ("answers in English / in the question's language, %", 6)]
    headers = (["lang"] + [label for _, label in ARMS] + ["Δ [95% CI]", "p"] + [label for _, label in ARMS]
               + [f"{label} {side}" for _, label in ARMS for side in ("en", "own")])
    counts = sorted({int(r["n"]) for a in arms.values() if isinstance(a, dict) for r in a.values()
                     if isinstance(r, dict) and isinstance(r.get("n"), int)})
    explain = note(
        f"Held-out arith problems, {', '.join(map(str, counts)) or '?'} per language, parallel across languages. "
        "CIs: percentile bootstrap over items; Δ and p: paired by item, exact McNemar test (the compare rows in "
        "quickstart.json). Gap = the language's accuracy minus English's within one arm (item i of the language "
        "paired with item i of English). QAlign answers in English by design: stage I maps the question to English "
        "and stage II teaches English chains of thought, so a high share of English answers is the method working, "
        "not a regression; the shares are shown without colour. Where QAlign does not beat MonoReason, the table "
        "shows it as it is.")
    return table(headers, rows, align=["left"] + ["right"] * (len(headers) - 1), group_header=group) + explain
