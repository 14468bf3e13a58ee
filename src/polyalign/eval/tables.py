"""Per-language tables: one per task, rows = languages + averages, columns = metrics.

Averages are unweighted means over languages (the papers' averages), once with and once without
English (non-English transfer is what the methods target); for translation tasks, over all
directions and separately over en→X and X→en. Shares in [0, 1] are shown as percentages in Markdown;
the CSV keeps the raw values.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

__all__ = ["task_rows", "to_markdown", "to_csv", "write_tables", "PERCENT_SCALE"]

PERCENT_SCALE = frozenset({"bleu", "chrf++", "spbleu"})
"""Metrics already on a 0-100 scale (sacrebleu's)."""


def _mean(rows: list[dict[str, Any]], metric: str) -> float | None:
    vals = [r[metric] for r in rows if isinstance(r.get(metric), (int, float))]
    return sum(vals) / len(vals) if vals else None


def task_rows(per_lang: dict[str, dict[str, Any]]) -> tuple[list[str], list[tuple[str, dict[str, Any]]]]:
    """(columns, rows) of one task's table, averages last."""
    columns: list[str] = []
    for values in per_lang.values():
        columns.extend(k for k in values if k not in columns and k not in ("n", "skipped"))
    rows = list(per_lang.items())
    if len(per_lang) < 2:
        return columns + ["n"], rows
    groups = [("avg", list(per_lang))]
    if all("-" in key for key in per_lang):  # translation directions
        en_x, x_en = [k for k in per_lang if k.startswith("en-")], [k for k in per_lang if k.endswith("-en")]
        if en_x and x_en:
            groups += [("avg en→X", en_x), ("avg X→en", x_en)]
    elif "en" in per_lang:
        groups.append(("avg (no en)", [k for k in per_lang if k != "en"]))
    for label, keys in groups:
        members = [per_lang[k] for k in keys]
        avg: dict[str, Any] = {m: _mean(members, m) for m in columns}
        avg["n"] = sum(v.get("n", 0) for v in members)
        rows.append((label, avg))
    return columns + ["n"], rows


def _cell(metric: str, value: Any) -> str:
    if value is None:
        return "–"
    if metric in ("n", "skipped"):
        return str(int(value))
    return f"{value:.1f}" if metric in PERCENT_SCALE else f"{100 * value:.1f}"


def to_markdown(task: str, per_lang: dict[str, dict[str, Any]]) -> str:
    columns, rows = task_rows(per_lang)
    head = ["lang"] + [c if c in PERCENT_SCALE or c == "n" else f"{c} %" for c in columns]
    lines = [f"### {task}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, values in rows:
        lines.append("| " + " | ".join([label] + [_cell(c, values.get(c)) for c in columns]) + " |")
    return "\n".join(lines) + "\n"


def to_csv(per_lang: dict[str, dict[str, Any]]) -> str:
    columns, rows = task_rows(per_lang)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["lang"] + columns)
    for label, values in rows:
        writer.writerow([label] + ["" if values.get(c) is None else values.get(c) for c in columns])
    return buffer.getvalue()


def write_tables(results: dict[str, dict[str, dict[str, Any]]], out: Path) -> str:
    """Write ``tables/<task>.md`` and ``.csv`` (and ``tables.md`` with all of them); returns the Markdown."""
    folder = out / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    parts = []
    for task, per_lang in results.items():
        md = to_markdown(task, per_lang)
        (folder / f"{task}.md").write_text(md, encoding="utf-8")
        (folder / f"{task}.csv").write_text(to_csv(per_lang), encoding="utf-8")
        parts.append(md)
    text = "\n".join(parts)
    (out / "tables.md").write_text(text, encoding="utf-8")
    return text
