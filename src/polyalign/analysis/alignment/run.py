"""`polyalign analyze alignment`: how close are translations inside the model, layer by layer?

Reads parallel sentences (`parallel_text`), captures mean-pooled hidden states of every layer
(`capture`) and scores each language against the pivot per layer (`measure`, with the `metrics`
matched cosine, mismatched-pair baseline and top-1 retrieval both ways), then writes JSON, Markdown
and figures (`write`). With ``compare_model`` the same sentences go through a second model (e.g.
before and after question alignment, docs/methods.md: question representations of parallel
questions move closer to English after QAlign's stage I).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from polyalign.analysis.alignment.capture import num_layers
from polyalign.analysis.alignment.config import AlignmentConfig
from polyalign.analysis.alignment.measure import ModelAlignment, measure_alignment
from polyalign.analysis.alignment.parallel_text import load_parallel
from polyalign.analysis.alignment.write import write_alignment_outputs
from polyalign.errors import InputError

__all__ = ["AlignmentConfig", "analyze_alignment"]

log = logging.getLogger(__name__)


def analyze_alignment(cfg: AlignmentConfig) -> dict[str, Any]:
    """Run the whole analysis for ``cfg`` and write its outputs into ``cfg.out``.

    Returns:
        The JSON-ready results (also written to ``alignment.json``).
    """
    from polyalign.models.loading import load_model, load_tokenizer
    from polyalign.models.precision import resolve_dtype

    cfg.validate()
    cfg.dtype = resolve_dtype(cfg.dtype)  # the saved config and settings record what ran, not "auto"
    sets = load_parallel(cfg.parallel, pivot=cfg.pivot, langs=cfg.langs, limit=cfg.limit)
    names = [cfg.model] + ([cfg.compare_model] if cfg.compare_model else [])
    labels = _labels(names)
    results = []
    for name, label in zip(names, labels):
        log.info("alignment: capturing %d languages with %s", len(sets), name)
        model = load_model(name, dtype=cfg.dtype)
        tokenizer = load_tokenizer(name)
        if results and cfg.layers is None and num_layers(model) != results[0].num_layers:
            raise InputError(f"--compare-model has {num_layers(model)} layers, --model {results[0].num_layers}: "
                             "compare models of the same depth, or pass --layers present in both")
        results.append(measure_alignment(model, tokenizer, sets, template=cfg.template, layers=cfg.layers,
                                         centre=cfg.center, skip_first=cfg.skip_first_token,
                                         sink_ratio=cfg.sink_ratio,
                                         batch_size=cfg.batch_size, max_length=cfg.max_length,
                                         label=label, name=name))
        del model
    plot_layer = _plot_layer(cfg.plot_layer, results[0])
    return write_alignment_outputs(results, sets, cfg, Path(cfg.out), plot_layer=plot_layer)


def _plot_layer(requested: int | None, result: ModelAlignment) -> int:
    if requested is None:
        return result.layers[int(np.argmax(result.mean_retrieval()))]
    if requested not in result.layers:
        raise InputError(f"--plot-layer {requested} is not among the analysed layers "
                         f"({result.layers[0]}..{result.layers[-1]})")
    return requested


def _labels(names: list[str]) -> list[str]:
    short = [Path(n).name or n for n in names]
    if len(set(short)) < len(short):
        return [f"{s} ({i + 1})" for i, s in enumerate(short)]
    return short
