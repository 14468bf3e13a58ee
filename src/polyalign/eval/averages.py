"""Averages over languages, stated explicitly in results.json: ``avg``, ``avg_no_en`` and ``avg_paper``.

Each average is the unweighted mean of the per-language values of every metric (the papers average
per-language scores, not pooled examples) and carries the list of language keys it covers, so that a
reader never has to guess whether English or Telugu is in it. ``avg_paper`` covers the languages the
defining paper averages (`polyalign.eval.protocols.paper_langs`) among those evaluated. Counts
(``n``, ``skipped``) are not averaged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from polyalign.eval.protocols import paper_langs

__all__ = ["averages", "mean_over"]

_COUNTS = frozenset({"n", "skipped"})


def mean_over(per_lang: dict[str, dict[str, Any]], keys: Sequence[str]) -> dict[str, Any]:
    """``{metric: mean over keys, ..., "langs": keys}``; a metric missing for some key is left out."""
    keys = [k for k in keys if k in per_lang]
    out: dict[str, Any] = {}
    if keys:
        metrics = [m for m in per_lang[keys[0]] if m not in _COUNTS]
        for metric in metrics:
            values = [per_lang[k].get(metric) for k in keys]
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                total = math.fsum(float(v) for v in values)  # fsum: the same value in any language order
                out[metric] = total / len(values)
    out["langs"] = list(keys)
    return out


def averages(results: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per task: ``avg`` (every language evaluated), ``avg_no_en`` (without ``en``) and ``avg_paper``."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for task, per_lang in results.items():
        keys = list(per_lang)
        out[task] = {"avg": mean_over(per_lang, keys),
                     "avg_no_en": mean_over(per_lang, [k for k in keys if k != "en"]),
                     "avg_paper": mean_over(per_lang, list(paper_langs(task, keys)))}
    return out
