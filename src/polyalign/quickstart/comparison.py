"""The quickstart's comparison: the experiment's compare rows plus per-arm accuracy, gap to English and
answer language, each with a 95% bootstrap interval over items.

Items are parallel across languages (item i of every language is the same problem), so the gap to
English of language X in one arm pairs item i of X with item i of English: a paired bootstrap of the
per-item difference. Answer languages come from `polyalign.langid` on the arms' outputs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from polyalign.experiments import stats
from polyalign.experiments.pairing import load_run, pair_runs
from polyalign.langid import detect_language

__all__ = ["summarize", "COMPARISONS", "RESAMPLES"]

TASK, METRIC = "arith", "acc"
RESAMPLES = 2000
COMPARISONS = {"qalign-vs-monoreason": "comparison.json", "vs-base": "comparisons/vs-base/comparison.json"}
"""The experiment's comparisons (name → file under its folder) whose rows the quickstart carries."""


def _interval(columns: np.ndarray, seed: int, *keys: str) -> list[tuple[float, float]]:
    """Percentile intervals of each column's mean (one shared set of draws: a paired bootstrap)."""
    n = columns.shape[0]
    if n == 0:
        return [(float("nan"), float("nan"))] * columns.shape[1]
    means = stats.resampled_sums(columns, RESAMPLES, stats.stream_seed(seed, *keys)) / n
    return [stats.percentile_ci(means[:, j]) for j in range(columns.shape[1])]


def _arm_rows(records: dict[str, list[dict[str, Any]]], seed: int, arm: str) -> dict[str, dict[str, Any]]:
    """Per language: accuracy [CI], gap to English [CI] and the answer-language shares of one arm."""
    english = np.array([float(r.get("metrics", {}).get(METRIC) or 0.0) for r in records.get("en", [])])
    rows: dict[str, dict[str, Any]] = {}
    for lang, recs in records.items():
        acc = np.array([float(r.get("metrics", {}).get(METRIC) or 0.0) for r in recs])
        said = [detect_language(str(r.get("output") or "")).lang for r in recs]
        in_en = np.array([s == "en" for s in said], dtype=float)
        in_lang = np.array([s == lang for s in said], dtype=float)
        n = len(acc)
        columns = [acc, in_en, in_lang]
        paired = lang != "en" and len(english) == n
        if paired:
            columns.append(acc - english)
        cis = _interval(np.stack(columns, axis=1), seed, arm, lang)
        row = {"n": n, "acc": float(acc.mean()) if n else None, "acc_ci_low": cis[0][0], "acc_ci_high": cis[0][1],
               "answers_in_english": float(in_en.mean()) if n else None,
               "answers_in_question_lang": float(in_lang.mean()) if n else None}
        if paired:
            row.update(gap_to_en=float((acc - english).mean()), gap_ci_low=cis[3][0], gap_ci_high=cis[3][1])
        rows[lang] = row
    return rows


def summarize(experiment_out: Path, arms: tuple[str, ...], seed: int = 0) -> dict[str, Any]:
    """quickstart.json's ``"comparison"`` from a finished experiment folder.

    Returns:
        ``{"task", "metric", "level", "rows": compare rows (docs/compare.md contract) with a
        ``comparison`` key naming which comparison each came from, "arms": {arm: {lang: {...}}}}``.
        Fractions in [0, 1]; gaps are language − English within one arm.
    """
    rows: list[dict[str, Any]] = []
    for name, rel in COMPARISONS.items():
        path = experiment_out / rel
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            rows += [{"comparison": name, "baseline": data.get("baseline"), **row} for row in data.get("rows", [])
                     if row.get("metric") == METRIC]
    loaded = {arm: load_run(arm, experiment_out / arm / "eval") for arm in arms}
    paired = pair_runs(loaded)
    per_arm = {arm: _arm_rows({lang: paired.samples[arm][(task, lang)] for (task, lang) in paired.samples[arm]
                               if task == TASK}, seed, arm) for arm in arms}
    return {"task": TASK, "metric": METRIC, "level": stats.LEVEL, "resamples": RESAMPLES, "rows": rows,
            "arms": per_arm}
