"""A comparison as files: comparison.json (the contract), comparison.md and comparison.csv.

Markdown shows shares in [0, 1] as percentages and their differences in points, as the evaluation
tables do; BLEU/chrF++/spBLEU stay on sacrebleu's 0-100 scale. The CSV keeps the raw row values.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

__all__ = ["to_markdown", "to_csv", "write_outputs", "COLUMNS", "SCALE_100"]

COLUMNS = ("task", "lang", "metric", "system", "score", "baseline_score", "delta", "rel_gain", "ci_low", "ci_high",
           "p_value", "test", "n", "score_ci_low", "score_ci_high", "rel_gain_lang_mean")
"""CSV columns: the contract's row fields, then the averages' mean of per-language relative gains."""

SCALE_100 = frozenset({"bleu", "chrf++", "spbleu"})
"""Metrics already on a 0-100 scale."""


def _scaled(metric: str, value: Any, sign: bool = False) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    shown = value if metric in SCALE_100 else 100 * value
    return f"{shown:+.1f}" if sign else f"{shown:.1f}"


def _p(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    text = "<0.001" if value < 0.001 else f"{value:.3f}"
    return text + (" *" if value < 0.05 else "")


def _gain(value: Any) -> str:
    return f"{100 * value:+.1f}%" if isinstance(value, (int, float)) else "–"


def to_markdown(comparison: dict[str, Any]) -> str:
    """One table per task and metric: languages (then averages) × systems (baseline first)."""
    prov = comparison.get("provenance", {})
    lines = [f"## Comparison against {comparison['baseline']}", "",
             f"Paired on item ids; {prov.get('resamples')} bootstrap resamples of items (seed {prov.get('seed')}), "
             f"95% percentile intervals; protocol {prov.get('protocol')}. Shares in %, Δ in points; "
             "rel. gain = Δ / baseline score; * = p < 0.05 (test per row, see docs/compare.md).", ""]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in comparison["rows"]:
        groups.setdefault((row["task"], row["metric"]), []).append(row)
    head = ["lang", "system", "score", "95% CI", "Δ", "Δ 95% CI", "rel. gain", "p", "test", "n"]
    for (task, metric), rows in groups.items():
        lines += [f"### {task} · {metric}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in rows:
            base = r["system"] == comparison["baseline"]
            cells = [r["lang"], r["system"] + (" (baseline)" if base else ""), _scaled(metric, r["score"]),
                     f"{_scaled(metric, r['score_ci_low'])} – {_scaled(metric, r['score_ci_high'])}",
                     "–" if base else _scaled(metric, r["delta"], sign=True),
                     "–" if base else f"{_scaled(metric, r['ci_low'], True)} – {_scaled(metric, r['ci_high'], True)}",
                     "–" if base else _gain(r["rel_gain"]) + (f" (mean of langs {_gain(r['rel_gain_lang_mean'])})"
                                                              if r.get("rel_gain_lang_mean") is not None else ""),
                     _p(r["p_value"]), r["test"] or "–", str(r["n"])]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    notes = prov.get("notes") or []
    if notes:
        lines += ["Notes:", ""] + [f"- {note}" for note in notes] + [""]
    return "\n".join(lines)


def to_csv(comparison: dict[str, Any]) -> str:
    """Every row with the `COLUMNS` fields (empty cells for null)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in comparison["rows"]:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in COLUMNS])
    return buffer.getvalue()


def write_outputs(comparison: dict[str, Any], out: Path) -> None:
    """Write ``OUT/comparison.json``, ``comparison.md`` and ``comparison.csv`` (the JSON last, atomically:
    it is what tells a folder holds a finished comparison)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "comparison.md").write_text(to_markdown(comparison), encoding="utf-8")
    (out / "comparison.csv").write_text(to_csv(comparison), encoding="utf-8")
    tmp = out / ".comparison.json.tmp"
    tmp.write_text(json.dumps(comparison, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(out / "comparison.json")
