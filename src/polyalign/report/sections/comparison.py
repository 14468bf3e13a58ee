"""A comparison folder (``polyalign compare``): systems against a baseline with intervals and tests.

Reads ``comparison.json`` only (its rows are the whole story: scores, Δ, intervals, p-values), so it
renders comparisons made anywhere. Per task and metric: a table, grouped bars per language with the
score intervals as whiskers, and a Δ chart (each system's difference from the baseline with its
paired interval; an interval that misses 0 is a difference the data supports).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from polyalign.report.charts import new_figure, png_bytes
from polyalign.report.html import Cell, esc, figure, kv_list, note, table, warn
from polyalign.runfiles import load_json
from polyalign.report.sections.common import number

__all__ = ["render"]

_SCALE_100 = frozenset({"bleu", "chrf++", "spbleu"})  # already 0-100; shares are shown in %
_LOWER_IS_BETTER = frozenset({"lang_none"})
_COLOURS = ("#9aa4ae", "#0969da", "#bf8700", "#1a7f37", "#8250df", "#cf222e", "#57606a")  # baseline grey first


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _shown(metric: str, value: Any) -> float | None:
    return (value if metric in _SCALE_100 else 100 * value) if _finite(value) else None


def _whiskers(values: list[float | None], lows: list[float | None], highs: list[float | None]) -> list[list[float]]:
    """Error-bar lengths below and above each value (0 where something is missing)."""
    below = [v - lo if v is not None and lo is not None else 0.0 for v, lo in zip(values, lows)]
    above = [hi - v if v is not None and hi is not None else 0.0 for v, hi in zip(values, highs)]
    return [[max(b, 0.0) for b in below], [max(a, 0.0) for a in above]]


def _grouped_png(langs: list[str], systems: list[str], cell: dict[tuple[str, str], dict[str, Any]], metric: str,
                 *, delta: bool) -> bytes | None:
    """Bars per language, one per system: scores with their intervals, or Δ with its paired interval."""
    import numpy as np

    shown = systems[1:] if delta else systems
    key, low, high = ("delta", "ci_low", "ci_high") if delta else ("score", "score_ci_low", "score_ci_high")
    if not shown or not any(_finite(cell.get((lang, s), {}).get(key)) for lang in langs for s in shown):
        return None
    fig = new_figure(max(5.2, 0.35 * len(langs) * len(shown) + 2.4), 3.6)
    ax = fig.add_subplot()
    x = np.arange(len(langs))
    width = 0.8 / len(shown)
    for k, system in enumerate(shown):
        rows = [cell.get((lang, system), {}) for lang in langs]
        values = [_shown(metric, r.get(key)) for r in rows]
        whiskers = _whiskers(values, [_shown(metric, r.get(low)) for r in rows], [_shown(metric, r.get(high)) for r in rows])
        colour = _COLOURS[(systems.index(system)) % len(_COLOURS)]
        at = x + (k - (len(shown) - 1) / 2) * width
        heights = [v if v is not None else 0.0 for v in values]
        if delta:  # a dot and its interval: a bar of height ~0 would hide the interval's position
            ax.errorbar(at, heights, yerr=whiskers, fmt="o", capsize=4, color=colour, label=system)
        else:
            ax.bar(at, heights, width, yerr=whiskers, capsize=3, error_kw={"linewidth": 0.9}, color=colour,
                   label=system + ("" if k else " (baseline)"))
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xticks(x, langs)
    ax.set_xlabel("language")
    unit = "" if metric in _SCALE_100 else " (%)" if not delta else " (points)"
    ax.set_ylabel(("Δ " if delta else "") + metric + unit)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle(f"{metric}: {'Δ against the baseline' if delta else 'score'} with 95% intervals", fontsize=11)
    return png_bytes(fig)


def _delta_cell(metric: str, row: dict[str, Any]) -> Cell | str:
    if not _finite(row.get("delta")):
        return "–"
    text = f"{_shown(metric, row['delta']):+.1f} [{_shown(metric, row.get('ci_low')) or 0:+.1f}, " \
           f"{_shown(metric, row.get('ci_high')) or 0:+.1f}]"
    low, high = row.get("ci_low"), row.get("ci_high")
    if not (_finite(low) and _finite(high)) or low <= 0 <= high:
        return Cell(esc(text), "num same")
    better = (row["delta"] > 0) != (metric in _LOWER_IS_BETTER)
    return Cell(esc(text), "num good" if better else "num bad", "interval excludes 0")


def _table(metric: str, rows: list[dict[str, Any]], baseline: str) -> str:
    body, classes = [], []
    for r in rows:
        is_base = r.get("system") == baseline
        score = _shown(metric, r.get("score"))
        ci = f"[{number(_shown(metric, r.get('score_ci_low')), 1)}, {number(_shown(metric, r.get('score_ci_high')), 1)}]"
        gain = f"{100 * r['rel_gain']:+.1f}%" if _finite(r.get("rel_gain")) and not is_base else "–"
        if _finite(r.get("rel_gain_lang_mean")) and not is_base:
            gain += f" ({100 * r['rel_gain_lang_mean']:+.1f}% mean of langs)"
        p = r.get("p_value")
        body.append([r.get("lang"), f"{r.get('system')}{' (baseline)' if is_base else ''}",
                     f"{number(score, 1)} {ci}", "–" if is_base else _delta_cell(metric, r), gain,
                     number(p, 3) if _finite(p) else "–", r.get("test") or "–", r.get("n")])
        classes.append("avg" if str(r.get("lang", "")).startswith("avg") else "")
    return table(["lang", "system", "score [95% CI]", "Δ [95% CI]", "rel. gain", "p", "test", "n"], body,
                 align=["left", "left", "right", "right", "right", "right", "left", "right"], row_classes=classes)


def render(folder: Path) -> str:
    """The HTML of a folder holding ``comparison.json``."""
    data, problem = load_json(folder / "comparison.json")
    if problem or not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        return warn(problem or "comparison.json has no 'rows' list")
    baseline = str(data.get("baseline"))
    systems = [baseline] + [str(s) for s in data.get("systems") or [] if s != baseline]
    prov = data.get("provenance") if isinstance(data.get("provenance"), dict) else {}
    runs = prov.get("runs") if isinstance(prov.get("runs"), dict) else {}
    parts = [f"<h4>Comparison against {esc(baseline)}</h4>",
             kv_list([("baseline", baseline), ("systems", ", ".join(systems[1:])),
                      ("runs", "; ".join(f"{k}: {(v or {}).get('path')}" for k, v in runs.items()) or None),
                      ("protocol", prov.get("protocol")),
                      ("bootstrap", f"{prov.get('resamples')} resamples of items, seed {prov.get('seed')}"),
                      ("created", prov.get("created"))]),
             note("Scores in % (BLEU/chrF++ on their 0-100 scale) with 95% bootstrap intervals; Δ = system − "
                  "baseline in points with its paired-bootstrap 95% percentile interval, green/red where the "
                  "interval excludes 0; rel. gain = Δ / baseline score; averages over languages resample items "
                  "within each language. Tests: " + "; ".join(f"{k}: {v}" for k, v in (prov.get("tests") or {}).items()))]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in data["rows"]:
        if isinstance(row, dict):
            groups.setdefault((str(row.get("task")), str(row.get("metric"))), []).append(row)
    for (task, metric), rows in groups.items():
        parts.append(f"<h4>{esc(task)} · {esc(metric)}</h4>")
        parts.append(_table(metric, rows, baseline))
        langs = list(dict.fromkeys(str(r.get("lang")) for r in rows))
        cell = {(str(r.get("lang")), str(r.get("system"))): r for r in rows}
        figures = []
        for delta in (False, True):
            png = _grouped_png(langs, systems, cell, metric, delta=delta)
            if png:
                what = "Δ against the baseline" if delta else "scores"
                figures.append(figure(png, f"{task} · {metric}: {what}",
                                      "whiskers: 95% paired-bootstrap interval of Δ" if delta else
                                      "whiskers: 95% bootstrap interval of each system's score"))
        if figures:
            parts.append(f'<div class="grid">{"".join(figures)}</div>')
    for text in prov.get("notes") or []:
        parts.append(note(str(text)))
    return "".join(parts)
