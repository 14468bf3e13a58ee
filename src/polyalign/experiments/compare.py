"""``polyalign compare``: systems against a baseline on paired items, with intervals and paired tests.

Reads top to bottom: load and pair the runs (`pairing`) → pick the metrics → per task language: one
set of bootstrap draws, then per metric each system's score, its resampled scores and the paired test
against the baseline (`stats`, `corpus`) → averages over languages from the same draws → rows →
comparison.json, Markdown and CSV (`tables`). Definitions (Δ, relative gain, tests, averages) are in
docs/compare.md.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from polyalign.errors import InputError
from polyalign.experiments import corpus, stats
from polyalign.experiments.pairing import Paired, Run, load_run, pair_runs

__all__ = ["compare_runs", "FORMAT", "MIN_RESAMPLES", "TESTS"]

FORMAT = "polyalign-comparison/1"
MIN_RESAMPLES = 2000
"""Fewer bootstrap resamples make the 2.5th/97.5th percentiles too noisy to report."""
TESTS = {
    "mcnemar-exact": "exact McNemar: two-sided binomial test on the discordant items (0/1 metrics)",
    "paired-bootstrap": "sacrebleu's paired bootstrap resampling test (corpus metrics of one language)",
    "paired-bootstrap-two-sided": "two-sided bootstrap test on the paired difference, shift method "
                                  "(per-item metrics that are not 0/1; averages over languages)",
}
Outcome = tuple[dict[str, tuple[float, np.ndarray]], dict[str, tuple[str, float]]]
"""Per system (score, resampled scores); per system but the baseline (test name, p-value)."""
_NOT_METRICS = frozenset({"n", "skipped", "comet"})  # COMET: per-segment scores are not in samples/


def compare_runs(runs: dict[str, Path], baseline: str, metrics: list[str] | None = None, out: Path | None = None,
                 seed: int = 0, resamples: int = 2000, *, protocol: str | None = None) -> dict[str, Any]:
    """Compare evaluation runs against a baseline run, item by item.

    Args:
        runs: name -> run folder (``polyalign eval`` output); must include ``baseline``.
        baseline: the name of the baseline run.
        metrics: metrics to compare (default: every metric the runs' results.json have, COMET excepted).
        out: folder to write comparison.json, comparison.md and comparison.csv into (None: write nothing).
        seed: seed of the bootstrap draws (each task language draws from its own stream of it).
        resamples: bootstrap resamples of items (at least `MIN_RESAMPLES`).
        protocol: the scoring protocol the runs must have (``paper`` / ``polyalign``; None: any, the same).

    Returns:
        The comparison (the comparison.json contract of docs/compare.md).

    Raises:
        InputError: unknown baseline, too few resamples, runs that are not comparable, unknown metrics.
    """
    if baseline not in runs:
        raise InputError(f"baseline {baseline!r} is not one of the runs ({', '.join(runs)})")
    if len(runs) < 2:
        raise InputError("give at least one run besides the baseline to compare against it")
    if resamples < MIN_RESAMPLES:
        raise InputError(f"--resamples must be at least {MIN_RESAMPLES}, not {resamples}")
    ordered = {baseline: runs[baseline], **{k: v for k, v in runs.items() if k != baseline}}
    loaded = {name: load_run(name, Path(path)) for name, path in ordered.items()}
    paired = pair_runs(loaded, protocol)
    chosen = _select_metrics(paired, metrics)
    systems = list(loaded)[1:]
    notes: list[str] = []

    rows: list[dict[str, Any]] = []
    for task, task_metrics in chosen.items():
        outcomes: dict[str, dict[str, Outcome]] = {metric: {} for metric in task_metrics}
        for lang in paired.langs[task]:
            present = [m for m in task_metrics if all(m in run.results[task].get(lang, {}) for run in loaded.values())]
            for metric, outcome in _language(paired, task, lang, present, seed, resamples, notes).items():
                outcomes[metric][lang] = outcome
        for metric, per_lang in outcomes.items():
            for lang, (values, tests) in per_lang.items():
                rows += _rows(task, lang, metric, baseline, values, tests, len(paired.ids[(task, lang)]))
            scores = {lang: values for lang, (values, _) in per_lang.items()}
            for label, group in _average_groups(paired, task, list(scores), notes).items():
                rows += _average_rows(task, label, metric, baseline, systems, scores, group, paired)

    comparison = {"kind": FORMAT, "baseline": baseline, "systems": systems, "rows": rows,
                  "provenance": _provenance(loaded, paired, seed, resamples, chosen, notes)}
    comparison = _clean(comparison)
    if out is not None:
        from polyalign.experiments.tables import write_outputs

        write_outputs(comparison, Path(out))
    return comparison


def _select_metrics(paired: Paired, wanted: Sequence[str] | None) -> dict[str, list[str]]:
    """Task -> metrics to compare: those every run reports for some language of the task."""
    available: dict[str, list[str]] = {}
    for task, langs in paired.langs.items():
        names: list[str] = []
        for lang in langs:
            for run in paired.runs.values():
                names += [m for m, v in run.results[task].get(lang, {}).items()
                          if m not in _NOT_METRICS and m not in names and isinstance(v, (int, float))]
        available[task] = [m for m in names if any(all(m in r.results[task].get(lang, {})
                                                       for r in paired.runs.values()) for lang in langs)]
    if not wanted:
        return {task: ms for task, ms in available.items() if ms}
    every = sorted({m for ms in available.values() for m in ms})
    for metric in wanted:
        if metric not in every:
            raise InputError(f"metric {metric!r} is in none of the runs' results (they have: {', '.join(every)})")
    return {task: [m for m in wanted if m in ms] for task, ms in available.items() if set(wanted) & set(ms)}


@dataclass
class _Columns:
    """One metric of one task language, ready to resample: per system an ``(n, k)`` block of columns."""

    blocks: dict[str, np.ndarray]
    """Per-item values (k = 1), or a corpus metric's per-segment sufficient statistics."""
    scorer: Any = None
    """The sacrebleu metric of a corpus metric (None: the score is the mean of the values)."""
    hyps: dict[str, list[str]] | None = None
    refs: list[str] | None = None


def _columns(paired: Paired, task: str, lang: str, metric: str, notes: list[str]) -> _Columns | None:
    samples = {name: paired.samples[name][(task, lang)] for name in paired.runs}
    base = next(iter(paired.runs))
    if metric in corpus.CORPUS:
        items = {name: [s.get("corpus_items", {}).get(metric) for s in recs] for name, recs in samples.items()}
        if any(item is None for recs in items.values() for item in recs):
            notes.append(f"{task} {lang} {metric}: samples/ lack the per-item data of this corpus metric; not compared")
            return None
        refs = [item[0] for item in items[base]]
        signature = ((paired.runs[base].provenance.get("metric_signatures") or {}).get(task) or {}).get(lang, {})
        scorer = corpus.build_metric(metric, signature.get(metric), lang.split("-")[-1])
        hyps = {name: [item[1] for item in recs] for name, recs in items.items()}
        return _Columns({name: corpus.corpus_stats(scorer, h, refs) for name, h in hyps.items()}, scorer, hyps, refs)
    values = {name: [s.get("metrics", {}).get(metric) for s in recs] for name, recs in samples.items()}
    if any(not isinstance(v, (int, float)) for vs in values.values() for v in vs):
        notes.append(f"{task} {lang} {metric}: some samples have no per-item value; not compared")
        return None
    return _Columns({name: np.asarray(vs, dtype=np.float64)[:, None] for name, vs in values.items()})


def _language(paired: Paired, task: str, lang: str, metrics: list[str], seed: int, resamples: int,
              notes: list[str]) -> dict[str, Outcome]:
    """Per metric: per system (score, resampled scores), and per system but the baseline (test, p).

    One set of draws serves every metric and system of the language (a paired bootstrap).
    """
    names = list(paired.runs)
    stream = stats.stream_seed(seed, task, lang)
    prepared = {m: c for m in metrics if (c := _columns(paired, task, lang, m, notes)) is not None}
    if not prepared:
        return {}
    order = [(metric, name) for metric in prepared for name in names]
    sums = stats.resampled_sums(np.hstack([prepared[m].blocks[name] for m, name in order]), resamples, stream)
    outcomes: dict[str, Outcome] = {}
    at = 0
    for metric, cols in prepared.items():
        values: dict[str, tuple[float, np.ndarray]] = {}
        for name in names:
            block = cols.blocks[name]
            part = sums[:, at:at + block.shape[1]]
            at += block.shape[1]
            if cols.scorer is None:
                values[name] = (float(block[:, 0].mean()), part[:, 0] / block.shape[0])
            else:
                values[name] = (float(corpus.score_from_sums(cols.scorer, block.sum(0))[0]),
                                corpus.score_from_sums(cols.scorer, part))
        outcomes[metric] = (values, _tests(cols, metric, values, resamples, stream))
        _check_reported(paired, task, lang, metric, values, notes)
    return outcomes


def _tests(cols: _Columns, metric: str, values: dict[str, tuple[float, np.ndarray]], resamples: int,
           stream: int) -> dict[str, tuple[str, float]]:
    """(test, p) of every system against the baseline (the first of ``values``)."""
    base, *others = list(values)
    tests: dict[str, tuple[str, float]] = {}
    binary = cols.scorer is None and stats.is_binary(*cols.blocks.values())
    for name in others:
        if cols.scorer is not None:
            assert cols.hyps is not None and cols.refs is not None
            tests[name] = ("paired-bootstrap", corpus.sacrebleu_paired_bs(
                cols.scorer, metric, cols.blocks[base], values[base][0], cols.hyps[name], cols.refs, resamples,
                stream))
        elif binary:
            tests[name] = ("mcnemar-exact", stats.mcnemar_exact(cols.blocks[name][:, 0], cols.blocks[base][:, 0]))
        else:
            tests[name] = ("paired-bootstrap-two-sided", stats.bootstrap_p_two_sided(
                values[name][0] - values[base][0], values[name][1] - values[base][1]))
    return tests


def _check_reported(paired: Paired, task: str, lang: str, metric: str, values: dict[str, tuple[float, np.ndarray]],
                    notes: list[str]) -> None:
    """Note a score that differs from the run's own results.json (samples scored with other settings)."""
    for name, (score, _) in values.items():
        reported = paired.runs[name].results[task][lang].get(metric)
        if isinstance(reported, (int, float)) and not math.isclose(score, reported, rel_tol=1e-6, abs_tol=1e-9):
            notes.append(f"{task} {lang} {metric}: {name}'s results.json says {reported:g}, its samples give "
                         f"{score:g}; the comparison uses the samples")


def _row(task: str, lang: str, metric: str, system: str, score: float, base_score: float, boot: np.ndarray,
         base_boot: np.ndarray, test: str | None, p: float | None, n: int) -> dict[str, Any]:
    delta = score - base_score
    is_base = test is None
    ci_low, ci_high = (0.0, 0.0) if is_base else stats.percentile_ci(boot - base_boot)
    score_low, score_high = stats.percentile_ci(boot)
    return {"task": task, "lang": lang, "metric": metric, "system": system, "score": score,
            "baseline_score": base_score, "delta": 0.0 if is_base else delta,
            "rel_gain": delta / base_score if base_score else None, "ci_low": ci_low, "ci_high": ci_high,
            "p_value": p, "test": test, "n": n, "score_ci_low": score_low, "score_ci_high": score_high}


def _rows(task: str, lang: str, metric: str, baseline: str, values: dict[str, tuple[float, np.ndarray]],
          tests: dict[str, tuple[str, float]], n: int) -> list[dict[str, Any]]:
    base_score, base_boot = values[baseline]
    out = []
    for name, (score, boot) in values.items():
        test, p = tests.get(name, (None, None))
        out.append(_row(task, lang, metric, name, score, base_score, boot, base_boot, test, p, n))
    return out


def _average_groups(paired: Paired, task: str, langs: list[str], notes: list[str]) -> dict[str, list[str]]:
    """``avg`` (all languages), ``avg_no_en`` and ``avg_paper`` (the languages results.json names)."""
    groups: dict[str, list[str]] = {}
    if len(langs) >= 2:
        groups["avg"] = list(langs)
        if "en" in langs:
            groups["avg_no_en"] = [lang for lang in langs if lang != "en"]
    base = next(iter(paired.runs.values()))
    paper = ((base.averages.get(task) or {}).get("avg_paper") or {}).get("langs")
    if isinstance(paper, list) and paper:
        missing = [lang for lang in paper if lang not in langs]
        if missing:
            notes.append(f"{task}: avg_paper not computed, the runs lack {', '.join(map(str, missing))}")
        else:
            groups["avg_paper"] = [str(lang) for lang in paper]
    return groups


def _average_rows(task: str, label: str, metric: str, baseline: str, systems: list[str],
                  per_lang: dict[str, dict[str, tuple[float, np.ndarray]]], group: list[str],
                  paired: Paired) -> list[dict[str, Any]]:
    """Rows of an unweighted mean over languages; its replicates average each language's replicates."""
    def mean_of(name: str) -> tuple[float, np.ndarray]:
        return (float(np.mean([per_lang[lang][name][0] for lang in group])),
                np.mean([per_lang[lang][name][1] for lang in group], axis=0))

    n = sum(len(paired.ids[(task, lang)]) for lang in group)
    base_score, base_boot = mean_of(baseline)
    rows = []
    for name in [baseline, *systems]:
        score, boot = mean_of(name)
        is_base = name == baseline
        p = None if is_base else stats.bootstrap_p_two_sided(score - base_score, boot - base_boot)
        row = _row(task, label, metric, name, score, base_score, boot, base_boot,
                   None if is_base else "paired-bootstrap-two-sided", p, n)
        gains = [(per_lang[lang][name][0] - per_lang[lang][baseline][0]) / per_lang[lang][baseline][0]
                 if per_lang[lang][baseline][0] else None for lang in group]
        # the papers' "x% relative on average" may be either; both are reported (docs/compare.md)
        row["rel_gain_lang_mean"] = None if None in gains else float(np.mean(gains))
        row["langs"] = list(group)
        rows.append(row)
    return rows


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _provenance(runs: dict[str, Run], paired: Paired, seed: int, resamples: int, chosen: dict[str, list[str]],
                notes: list[str]) -> dict[str, Any]:
    from importlib import metadata

    packages = {}
    for name in ("polyalign", "numpy", "scipy", "sacrebleu"):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "protocol": paired.protocol, "seed": seed, "resamples": resamples, "level": stats.LEVEL,
        "metrics": chosen, "tests": TESTS,
        "runs": {name: {"path": str(run.path), "results_sha256": _sha256(run.path / "results.json"),
                        "model": run.provenance.get("model"), "backend": run.provenance.get("backend"),
                        "model_sha256": run.provenance.get("model_sha256"),
                        "task_versions": run.provenance.get("task_versions")} for name, run in runs.items()},
        "packages": packages, "notes": list(dict.fromkeys(notes)),
    }


def _clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, non-finite floats to None."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value

