"""A quickstart folder (``polyalign quickstart``): the three-arm table, the stage-I panel, then its steps.

``quickstart.json`` (``"kind": "polyalign-quickstart/…"``) carries the comparison of base, MonoReason
and QAlign (`quickstart_arms`, rendered first), the stage-I panel's measurements of the base model
("before") and QAlign's stage-I model ("after") per language and metric, each metric's label and direction
(``higher_is_better``), the steps with their seconds, the machine's measured generation speed and the
sizes it gave, and the sub-folders of the evaluations, training and analyses — which the report
renders as their own sections after this one (`nested_titles`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from polyalign.report.charts import before_after_png
from polyalign.report.html import Cell, esc, figure, kv_list, note, table, warn
from polyalign.report.sections.common import config_block, digits_for, number, seconds
from polyalign.report.sections.quickstart_arms import arms_table
from polyalign.runfiles import load_json

__all__ = ["render", "headline_table", "nested_titles"]


def _value(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def _delta(before: float | None, after: float | None, higher_is_better: bool | None, digits: int) -> Cell | str:
    if before is None or after is None:
        return "–"
    change = after - before
    text = number(change, digits, sign=True)
    if float(text) == 0 or higher_is_better is None:
        return Cell(esc(text), "num same")
    better = (change > 0) == bool(higher_is_better)
    return Cell(esc(text), "num good" if better else "num bad", "better" if better else "worse")


def _table_langs(data: dict[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for source in (data.get("before"), data.get("after")):
        if isinstance(source, dict):
            seen.update(dict.fromkeys(map(str, source)))
    seen.update(dict.fromkeys(map(str, data.get("langs") or [])))
    return list(seen)


def headline_table(data: dict[str, Any]) -> str:
    """Rows = languages (+ the mean over the aligned languages), per metric: before, after, Δ."""
    metrics = data.get("metrics") if isinstance(data.get("metrics"), dict) else {}
    before = data.get("before") if isinstance(data.get("before"), dict) else {}
    after = data.get("after") if isinstance(data.get("after"), dict) else {}
    codes = _table_langs(data)
    aligned = [c for c in map(str, data.get("langs") or []) if c in codes] or codes

    def get(side: dict[str, Any], code: str, metric: str) -> float | None:
        row = side.get(code)
        return _value(row.get(metric)) if isinstance(row, dict) else None

    digits = {m: digits_for([get(s, c, m) for s in (before, after) for c in codes]) for m in metrics}
    rows, classes = [], []
    for code in codes:
        row: list[Any] = [code]
        for metric, info in metrics.items():
            b, a = get(before, code, metric), get(after, code, metric)
            row += [number(b, digits[metric]), number(a, digits[metric]),
                    _delta(b, a, (info or {}).get("higher_is_better"), digits[metric])]
        rows.append(row)
        classes.append("")
    if len(aligned) > 1:
        row = ["avg"]
        for metric, info in metrics.items():
            both = [(get(before, c, metric), get(after, c, metric)) for c in aligned]
            both = [(b, a) for b, a in both if b is not None and a is not None]
            b = sum(x for x, _ in both) / len(both) if both else None
            a = sum(y for _, y in both) / len(both) if both else None
            row += [number(b, digits[metric]), number(a, digits[metric]),
                    _delta(b, a, (info or {}).get("higher_is_better"), digits[metric])]
        rows.append(row)
        classes.append("avg")
    group = [("", 1)] + [(str((info or {}).get("label") or metric), 3) for metric, info in metrics.items()]
    headers = ["lang"] + ["before", "after", "Δ"] * len(metrics)
    return table(headers, rows, align=["left"] + ["right"] * (3 * len(metrics)), row_classes=classes,
                 group_header=group)


def _charts(data: dict[str, Any]) -> str:
    metrics = data.get("metrics") if isinstance(data.get("metrics"), dict) else {}
    codes = _table_langs(data)
    figures = []
    for metric, info in metrics.items():
        label = str((info or {}).get("label") or metric)
        values = {side: [_value((data.get(side) or {}).get(c, {}).get(metric))
                         if isinstance((data.get(side) or {}).get(c), dict) else None for c in codes]
                  for side in ("before", "after")}
        keep = [i for i, c in enumerate(codes) if values["before"][i] is not None or values["after"][i] is not None]
        png = before_after_png([codes[i] for i in keep], [values["before"][i] for i in keep],
                               [values["after"][i] for i in keep], title=label, ylabel=metric)
        if png:
            arrow = "higher is better" if (info or {}).get("higher_is_better", True) else "lower is better"
            figures.append(figure(png, label, f"before (grey) and after (blue) alignment, per language; {arrow}"))
    return f'<div class="grid">{"".join(figures)}</div>' if figures else ""


def nested_titles(folder: Path) -> dict[Path, str]:
    """The sub-folders ``quickstart.json`` names (``dirs``), resolved, with a title each (its key)."""
    data, _ = load_json(folder / "quickstart.json")
    dirs = data.get("dirs") if isinstance(data, dict) and isinstance(data.get("dirs"), dict) else {}
    return {(folder / str(rel)).resolve(): str(key).replace("_", " ") for key, rel in dirs.items()}


def render(folder: Path) -> str:
    """The HTML of a quickstart folder (its sub-folders are rendered as sections of their own)."""
    data, problem = load_json(folder / "quickstart.json")
    if problem or not isinstance(data, dict):
        return warn(problem or "quickstart.json is not an object")
    steps = data.get("steps") if isinstance(data.get("steps"), dict) else {}
    total = sum(s.get("seconds") or 0 for s in steps.values() if isinstance(s, dict)
                and isinstance(s.get("seconds"), (int, float)))
    sizes = data.get("sizes") if isinstance(data.get("sizes"), dict) else {}
    speed = data.get("speed") if isinstance(data.get("speed"), dict) else {}
    measured_speed = None
    if isinstance(speed.get("tokens_per_second"), (int, float)) and isinstance(speed.get("relative"), (int, float)):
        measured_speed = (f"{speed['tokens_per_second']:g} generated tokens/s, {speed['relative']:.2f}× the reference "
                          "(the sizes scale with it)")
    parts = [kv_list([("model", data.get("model")), ("languages", ", ".join(map(str, data.get("langs") or []))),
                      ("budget", f"{data['budget_minutes']:g} minutes" if isinstance(data.get("budget_minutes"),
                                                                                     (int, float)) else None),
                      ("time taken", seconds(total) if steps else None),
                      ("machine speed", measured_speed),
                      ("examples per language", ", ".join(f"{k} {v}" for k, v in sizes.items()) or None),
                      ("aligned model" if not data.get("comparison") else "QAlign stage-I model",
                       data.get("trained_model"))])]
    arms = arms_table(data)
    if arms:
        parts.append("<h4>Base vs MonoReason vs QAlign, per language</h4>")
        parts.append(arms)
        parts.append("<h4>Stage-I panel: base → QAlign's stage-I model, per language</h4>")
    else:
        parts.append("<h4>Before and after alignment, per language</h4>")
    parts.append(headline_table(data))
    aligned = ", ".join(map(str, data.get("langs") or [])) or "the languages"
    parts.append(note("Δ = after − before, green where it moved in the metric's better direction, red where it "
                      f"moved the other way; – = not measured for that language; avg = mean over {aligned} "
                      "(where both values exist)."))
    parts.append(_charts(data))
    if steps:
        parts.append("<h4>Steps</h4>")
        parts.append(table(["step", "status", "time"],
                           [[name, (s or {}).get("status", "?"), seconds((s or {}).get("seconds"))]
                            for name, s in steps.items()], align=["left", "left", "right"]))
    parts.append(config_block(folder))
    return "".join(parts)
