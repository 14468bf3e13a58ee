"""A scaling folder (``polyalign scaling sweep|fit|allocate``): sweep results, fitted laws, allocation plans.

- ``results.csv`` (one row per language, size and metric) is pivoted to one table per metric:
  languages down, data sizes across — the shape of a scaling curve read as numbers;
- ``fits.md`` is converted as it is, and the ``fit_<lang>.png`` plots are embedded with the chosen
  law from ``fits.json`` as caption;
- allocation plans (any ``*.json`` with the plan's format tag) become a table next to the uniform split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from polyalign.report.discover import plan_files
from polyalign.report.html import esc, figure, kv_list, note, table, warn
from polyalign.report.markdown import markdown_to_html
from polyalign.report.sections.common import config_block, digits_for, number
from polyalign.runfiles import load_bytes, load_csv, load_json, load_text

__all__ = ["render", "results_tables", "plan_table"]


def _float(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def results_tables(path: Path) -> str:
    """One pivot table per metric of a sweep's results.csv (the last row wins for a repeated cell)."""
    rows, problem = load_csv(path)
    if problem:
        return warn(problem)
    cells: dict[str, dict[str, dict[int, float | None]]] = {}
    for row in rows:
        size = _float(row.get("n_examples", ""))
        if size is None:
            continue
        cells.setdefault(row.get("metric") or "?", {}).setdefault(row.get("lang") or "?", {})[int(size)] = \
            _float(row.get("value", ""))
    parts = []
    for metric, by_lang in cells.items():
        sizes = sorted({s for values in by_lang.values() for s in values})
        digits = digits_for(v for values in by_lang.values() for v in values.values())
        parts.append(table(["lang", *(f"{s:,}" for s in sizes)],
                           [[lang, *(number(values.get(s), digits) for s in sizes)]
                            for lang, values in by_lang.items()],
                           align=["left"] + ["right"] * len(sizes),
                           caption=f"{metric} by number of training examples ({path.name}, {len(rows)} rows)"))
    return "".join(parts) or note(f"{path.name} has no rows yet.")


def _fit_caption(entry: Any) -> str:
    if not isinstance(entry, dict):
        return ""
    if not entry.get("chosen"):
        why = "; ".join(map(str, entry.get("warnings") or []))
        return f"not fitted: {why}" if why else "not fitted"
    params = ", ".join(f"{k}={v:.4g}" for k, v in (entry.get("params") or {}).items() if isinstance(v, (int, float)))
    r2 = entry.get("r2")
    return (f"chosen law {entry['chosen']}: y = {entry.get('formula')} ({params})"
            + (f", R² {r2:.4f}" if isinstance(r2, (int, float)) else ""))


def plan_table(path: Path) -> str:
    """An allocation plan: per language the allocation and, when the plan carries them, predictions."""
    plan, problem = load_json(path)
    if problem or not isinstance(plan, dict) or not isinstance(plan.get("allocation"), dict):
        return warn(problem or f"{path.name}: no allocation")
    predicted, uniform = plan.get("predicted") or {}, plan.get("uniform") or {}
    uniform_predicted = plan.get("uniform_predicted") or {}
    digits = 3  # as `polyalign scaling allocate` prints them: plans are compared to the third decimal
    rows = [[lang, count, number(predicted.get(lang), digits), uniform.get(lang),
             number(uniform_predicted.get(lang), digits)] for lang, count in plan["allocation"].items()]
    head = kv_list([("builder", plan.get("builder")), ("budget", plan.get("budget")),
                    ("objective", plan.get("objective")), ("metric", plan.get("metric")),
                    ("objective value", f"{number(plan.get('value'), 3)} vs uniform "
                                        f"{number(plan.get('uniform_value'), 3)}" if "value" in plan else None)])
    notes = "".join(f"<li>{esc(n)}</li>" for n in plan.get("notes") or [])
    return (f"<h4>Allocation plan {esc(path.name)}</h4>" + head
            + table(["lang", "allocated", "predicted", "uniform", "uniform predicted"], rows,
                    align=["left"] + ["right"] * 4) + (f"<ul>{notes}</ul>" if notes else ""))


def render(folder: Path) -> str:
    """The HTML of a scaling folder."""
    parts = []
    if (folder / "results.csv").is_file():
        parts.append("<h4>Sweep results</h4>" + results_tables(folder / "results.csv"))
    fits, problem = load_json(folder / "fits.json")
    text = load_text(folder / "fits.md")
    if text is not None or fits is not None:
        parts.append("<h4>Fitted laws</h4>")
        parts.append(markdown_to_html(text, heading_offset=4) if text is not None else "")
        languages = fits.get("languages") if isinstance(fits, dict) else None
        for png in sorted(folder.glob("fit_*.png")):
            lang = png.stem[len("fit_"):]
            entry = languages.get(lang) if isinstance(languages, dict) else None
            data = load_bytes(png)
            if data is not None:
                parts.append(figure(data, f"Scaling fit: {lang}", _fit_caption(entry)))
    elif problem and "not found" not in problem:
        parts.append(warn(problem))
    for path in plan_files(folder):
        parts.append(plan_table(path))
    parts.append(config_block(folder, ["sweep.yaml", "config.yaml"]))
    return "".join(parts)
