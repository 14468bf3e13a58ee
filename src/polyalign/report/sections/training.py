"""A training run (``polyalign train``): stages, loss curve, throughput and the resolved recipe.

Stages come from ``run.json`` when the run finished; an unfinished run has none, so its stages are
the recipe's (``config.yaml``) and whatever each stage folder's ``metrics.jsonl`` holds so far — the
report of a run in progress is still worth reading.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from polyalign.report.charts import loss_curve_png
from polyalign.report.html import figure, kv_list, note, table, warn
from polyalign.report.sections.common import config_block, number, seconds
from polyalign.runfiles import load_json, load_jsonl, load_yaml

__all__ = ["render", "stage_names"]


def stage_names(folder: Path, run: dict[str, Any] | None) -> list[str]:
    """Stage names in training order: run.json's, else the recipe's, else folders with metrics."""
    if run and isinstance(run.get("stages"), list):
        return [str(s.get("name")) for s in run["stages"] if isinstance(s, dict) and s.get("name")]
    recipe = load_yaml(folder / "config.yaml")
    stages = recipe.get("stages") if isinstance(recipe, dict) else None
    names = [str(s["name"]) for s in stages if isinstance(s, dict) and s.get("name")] \
        if isinstance(stages, list) else []
    return names or sorted(p.parent.name for p in folder.glob("*/metrics.jsonl"))


def _stage_row(name: str, record: dict[str, Any], metrics: list[dict[str, Any]]) -> list[Any]:
    train = [r for r in metrics if isinstance(r.get("loss"), (int, float))]
    speeds = [r["tokens_per_s"] for r in train if isinstance(r.get("tokens_per_s"), (int, float))]
    elapsed = max((r["elapsed_s"] for r in metrics if isinstance(r.get("elapsed_s"), (int, float))), default=None)
    steps = record.get("steps") if record else max((r.get("step", 0) for r in train), default=None)
    loss = record.get("train_loss") if record else (train[-1]["loss"] if train else None)
    evals = [r["eval_loss"] for r in metrics if isinstance(r.get("eval_loss"), (int, float))]
    eval_loss = record.get("eval_loss") if record and record.get("eval_loss") is not None else (
        evals[-1] if evals else None)
    kind = " / ".join(str(record[k]) for k in ("type", "finetune") if record.get(k)) if record else "–"
    status = "done" if record else "in progress"
    return [name, kind, status, steps, record.get("examples") if record else None,
            number(train[0]["loss"], 4) if train else "–", number(loss, 4), number(eval_loss, 4),
            f"{statistics.median(speeds):.0f}" if speeds else "–", seconds(elapsed)]


def render(folder: Path) -> str:
    """The HTML of a training run folder."""
    run, problem = load_json(folder / "run.json")
    run = run if isinstance(run, dict) and isinstance(run.get("stages"), list) else None
    parts = []
    if run:
        parts.append(kv_list([("recipe", run.get("name")), ("final model", run.get("final_model")),
                              ("finished", run.get("finished")), ("polyalign", run.get("polyalign_version"))]))
    else:
        why = problem if problem and "not found" not in problem else "run.json not found"
        parts.append(warn(f"{why}: the run has not finished (or was interrupted); showing what the stage folders "
                          "hold so far"))
    records = {str(s.get("name")): s for s in (run or {}).get("stages", []) if isinstance(s, dict)}
    names = stage_names(folder, run)
    metrics = {name: load_jsonl(folder / name / "metrics.jsonl") for name in names}
    rows = [_stage_row(name, records.get(name, {}), metrics[name]) for name in names]
    parts.append(table(["stage", "type / finetune", "status", "steps", "examples", "first loss", "final loss",
                        "eval loss", "tokens/s (median)", "time"], rows,
                       align=["left", "left", "left"] + ["right"] * 7))
    if any(r.get("base") for r in records.values()):
        starts = "; ".join(f"{name} ← {record.get('base')}" for name, record in records.items())
        parts.append(note(f"Each stage starts from: {starts}"))
    title = f"Training loss: {run['name'] if run else folder.name}"
    png = loss_curve_png([(name, metrics[name]) for name in names], title)
    if png:
        parts.append(figure(png, "Loss curve", "Training loss per logged optimizer step (from each stage's "
                            "metrics.jsonl); diamonds: loss on the stage's evaluation data."))
    else:
        parts.append(note("No loss values logged yet (metrics.jsonl empty or missing)."))
    parts.append(config_block(folder))
    return "".join(parts)
