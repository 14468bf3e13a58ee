"""From samples to per-language metrics, with lm-eval's aggregation functions of each task."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from polyalign.eval.metrics import CORPUS_METRICS, unavailable_reason

if TYPE_CHECKING:
    from lm_eval.api.task import ConfigurableTask

__all__ = ["aggregate"]


def aggregate(task: ConfigurableTask, samples: Sequence[dict[str, Any]], *, expected: int) -> tuple[dict[str, Any], list[str]]:
    """Metric values over the finished samples, ``n``, ``skipped`` (if any) and notes.

    Corpus metrics that need a resource absent here (spBLEU's SentencePiece model, COMET) are left out
    with a note naming what is missing — never replaced by something else.

    Args:
        task: the lm-eval task (its ``aggregation()`` gives the function of each metric).
        samples: finished samples of one task language.
        expected: how many examples were to be scored (the limited data size).
    """
    values: dict[str, Any] = {}
    notes: list[str] = []
    for metric, function in task.aggregation().items():
        if metric in CORPUS_METRICS:
            reason = unavailable_reason(metric)
            if reason:
                notes.append(f"{metric} not computed: {reason}")
                continue
            items = [s["corpus_items"][metric] for s in samples if metric in s.get("corpus_items", {})]
        else:
            items = [s["metrics"][metric] for s in samples if metric in s.get("metrics", {})]
        if items:
            values[metric] = float(function(items))
    values["n"] = len(samples)
    if len(samples) < expected:
        values["skipped"] = expected - len(samples)
    return values, notes
