"""Check an allocation plan's predictions against the evaluation of the model trained on it.

The last step of x-LLaMA's loop (sweep → fit → allocate → build → train → evaluate): the plan file
carries the score the fitted laws predicted for each language (and for the uniform split); an eval
run's ``results.json`` holds what was measured. A law that predicts badly here should not be trusted
to allocate a larger budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polyalign.data.allocation import AllocationPlan
from polyalign.io import read_json
from polyalign.errors import InputError
from polyalign.scaling.fit import canonical_lang

__all__ = ["PredictionCheck", "check_plan", "read_eval_results"]


@dataclass
class PredictionCheck:
    """Predicted vs measured score per language of a plan."""

    metric: str
    task: str
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    """lang → ``{"examples", "key", "predicted", "observed", "error"}`` (error = observed − predicted)."""

    @property
    def mean_abs_error(self) -> float:
        return sum(abs(r["error"]) for r in self.rows.values()) / len(self.rows)

    def table(self) -> str:
        """A plain-text table, one line per language, then the totals."""
        lines = [f"{'lang':<6}{'examples':>10}{'predicted':>11}{'observed':>10}{'error':>9}"]
        for lang, r in self.rows.items():
            lines.append(f"{lang:<6}{r['examples']:>10}{r['predicted']:>11.2f}{r['observed']:>10.2f}{r['error']:>+9.2f}")
        predicted = sum(r["predicted"] for r in self.rows.values())
        observed = sum(r["observed"] for r in self.rows.values())
        lines.append(f"{'sum':<6}{'':>10}{predicted:>11.2f}{observed:>10.2f}{observed - predicted:>+9.2f}")
        lines.append(f"{self.metric} on {self.task}: mean absolute error {self.mean_abs_error:.2f}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "task": self.task, "languages": self.rows,
                "mean_abs_error": self.mean_abs_error}


def read_eval_results(path: str | Path) -> dict[str, dict[str, dict[str, Any]]]:
    """``results`` of an eval run's ``results.json`` (a run folder or the file itself)."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    document = read_json(path, "eval results")
    if not isinstance(document, dict) or not isinstance(document.get("results"), dict):
        raise InputError("expected the results.json of 'polyalign eval' (a 'results' object)", where=str(path))
    return document["results"]


def check_plan(plan: AllocationPlan, results: dict[str, dict[str, dict[str, Any]]],
               task: str | None = None, predictions: str = "predicted") -> PredictionCheck:
    """Pair each planned language's predicted score with the measured one.

    Args:
        plan: A plan written by ``scaling allocate`` (its ``metric`` and ``predicted`` are read).
        results: ``results`` of an eval run; a language is found under its code or a direction to or
            from English (``de-en`` counts as ``de``, as in the sweep's CSV).
        task: The task to read; may be left out when the run has one task.
        predictions: ``predicted`` (the plan) or ``uniform_predicted`` (the uniform split it was compared with).

    Raises:
        InputError: a plan without predictions, an ambiguous or unknown task, a language or metric the
            run did not measure.
    """
    metric = plan.extra.get("metric")
    predicted = plan.extra.get(predictions)
    if not metric or not isinstance(predicted, dict):
        raise InputError(f"the plan has no metric or {predictions!r} scores: write it with 'polyalign scaling allocate'")
    if task is None:
        if len(results) != 1:
            raise InputError(f"the run has tasks {', '.join(results)}: choose one with --task")
        task = next(iter(results))
    if task not in results:
        raise InputError(f"the run has no task {task!r} (it has {', '.join(results)})")
    by_lang: dict[str, str] = {}
    for key in results[task]:
        if key != "avg":
            by_lang.setdefault(canonical_lang(key, f"results of {task}"), key)
    check = PredictionCheck(metric=metric, task=task)
    counts = plan.allocation if predictions == "predicted" else plan.extra.get("uniform", plan.allocation)
    for lang, value in predicted.items():
        key = by_lang.get(lang)
        if key is None:
            raise InputError(f"the run did not evaluate {lang} on {task} (it has {', '.join(results[task])})")
        observed = results[task][key].get(metric)
        if not isinstance(observed, (int, float)) or not math.isfinite(observed):
            raise InputError(f"{task} {key} has no {metric!r} value")
        check.rows[lang] = {"examples": counts.get(lang), "key": key, "predicted": float(value),
                            "observed": float(observed), "error": float(observed) - float(value)}
    return check
