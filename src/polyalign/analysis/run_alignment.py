"""`polyalign analyze alignment`: how close are translations inside the model, layer by layer?

Reads parallel sentences (`parallel.py`), captures mean-pooled hidden states of every layer
(`capture.py`), scores each language against the pivot per layer (`alignment.py`: matched cosine,
mismatched-pair baseline, top-1 retrieval both ways) and writes JSON, Markdown and figures
(`alignment_report.py`). With ``compare_model`` the same sentences go through a second model (e.g.
before and after question alignment, REFERENCE.md Paper C: "question representations of parallel
questions move closer to English after stage I").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from polyalign.analysis.alignment import PairScores, center, pair_scores
from polyalign.analysis.capture import SINK_RATIO, capture_pooled, num_layers
from polyalign.analysis.parallel import TEMPLATES, ParallelSet, load_parallel, render_input
from polyalign.errors import InputError

__all__ = ["AlignmentConfig", "ModelAlignment", "measure_alignment", "analyze_alignment", "pca_groups"]

log = logging.getLogger(__name__)


@dataclass
class AlignmentConfig:
    """Settings of one alignment analysis (saved as ``alignment_config.yaml`` in the output folder)."""

    model: str
    """Model: zoo name, local folder or hub id."""
    parallel: list[str]
    """``lang=path`` items and/or QAlign-layout folders (see `polyalign.analysis.parallel`)."""
    out: str
    """Output folder."""
    langs: list[str] | None = None
    """Languages to compare with the pivot (default: all found)."""
    pivot: str = "en"
    """The language every other language is compared with."""
    template: str = "raw"
    """raw (sentence alone), alpaca (Alpaca prompt, pool all) or question (Alpaca prompt, pool the sentence)."""
    layers: list[int] | None = None
    """Hidden-state indices to analyse (0 = embeddings); None = all."""
    limit: int | None = None
    """First N usable pairs per language."""
    center: bool = True
    """Per-language mean-centring before cosine and retrieval."""
    skip_first_token: bool = True
    """Leave attention sinks out of the mean: the first token and massive-activation positions."""
    sink_ratio: float = SINK_RATIO
    """With skip_first_token: a position whose norm exceeds this multiple of its sentence's median
    (at any layer) is a sink too; 0 = the first token only."""
    compare_model: str | None = None
    """A second model analysed on the same sentences (e.g. after training)."""
    plot_layer: int | None = None
    """Layer of the PCA figure; default the layer with the best mean retrieval of the first model."""
    batch_size: int = 16
    """Sentences per forward pass."""
    max_length: int = 512
    """Inputs are truncated to this many tokens."""
    dtype: str = "float32"
    """Model weights dtype."""

    def validate(self) -> None:
        if self.template not in TEMPLATES:
            raise InputError(f"template: expected one of {', '.join(TEMPLATES)}, got {self.template!r}")
        if self.batch_size < 1 or self.max_length < 2:
            raise InputError("batch_size must be ≥ 1 and max_length ≥ 2")
        if self.limit is not None and self.limit < 2:
            raise InputError("limit: need at least 2 pairs per language (the baseline uses mismatched pairs)")
        if self.sink_ratio < 0 or 0 < self.sink_ratio <= 1:
            raise InputError(f"sink_ratio: expected 0 (off) or a multiple of the median norm > 1, "
                             f"got {self.sink_ratio}")
        if self.layers is not None and not self.layers:
            raise InputError("layers: give 'all' or a comma-separated list of layer numbers")
        if self.plot_layer is not None and self.layers is not None and self.plot_layer not in self.layers:
            raise InputError(f"plot_layer {self.plot_layer} is not among the layers to analyse {self.layers}")


@dataclass
class ModelAlignment:
    """Per-layer alignment of every language with the pivot, for one model."""

    label: str
    model: str
    layers: list[int]
    num_layers: int
    hidden_size: int
    scores: dict[str, list[PairScores]]
    """Language → one `PairScores` per entry of ``layers``."""
    vectors: dict[str, tuple[np.ndarray, np.ndarray]]
    """Language → (its vectors, its pivot sentences' vectors), each ``[len(layers), n, dim]``."""
    sinks: dict[str, int]
    """Capture statistics: distinct sentences, massive positions dropped besides first tokens."""

    def mean_retrieval(self) -> np.ndarray:
        """Per layer: retrieval accuracy averaged over both directions and all languages."""
        per_lang = [[(s.retrieval_to_pivot + s.retrieval_from_pivot) / 2 for s in rows]
                    for rows in self.scores.values()]
        return np.mean(np.asarray(per_lang), axis=0)


def measure_alignment(model: Any, tokenizer: Any, sets: list[ParallelSet], *, template: str = "raw",
                      layers: list[int] | None = None, centre: bool = True, skip_first: bool = True,
                      sink_ratio: float = SINK_RATIO, batch_size: int = 16, max_length: int = 512, label: str = "model",
                      name: str = "") -> ModelAlignment:
    """Capture and score all parallel sets with one model (one capture pass over all sentences).

    Args:
        model: a loaded causal LM.
        tokenizer: its tokenizer.
        sets: the parallel sets, one per language.
        template: raw, alpaca or question (`polyalign.analysis.parallel.render_input`).
        layers: hidden-state indices; None = all.
        centre: per-language mean-centring.
        skip_first: exclude attention sinks (the first token, massive positions) from the mean.
        sink_ratio: massive-position threshold (`polyalign.analysis.capture.massive_positions`); 0 = off.
        batch_size: sentences per forward pass.
        max_length: truncation length in tokens.
        label: the model's name in tables and figures.
        name: the model as given (path, zoo name or hub id).
    """
    layers = list(range(num_layers(model) + 1)) if layers is None else list(layers)
    inputs = [render_input(text, template) for s in sets for text in (*s.texts, *s.pivot_texts)]
    stats: dict[str, int] = {}
    pooled = capture_pooled(model, tokenizer, [text for text, _ in inputs], spans=[span for _, span in inputs],
                            layers=layers, batch_size=batch_size, skip_first=skip_first, sink_ratio=sink_ratio,
                            max_length=max_length, stats=stats)
    scores: dict[str, list[PairScores]] = {}
    vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    start = 0
    for s in sets:
        n = len(s.texts)
        x, y = pooled[:, start:start + n], pooled[:, start + n:start + 2 * n]
        start += 2 * n
        scores[s.lang] = [pair_scores(x[i], y[i], centre=centre) for i in range(len(layers))]
        vectors[s.lang] = (x, y)
    return ModelAlignment(label=label, model=name, layers=layers, num_layers=num_layers(model),
                          hidden_size=int(model.config.hidden_size), scores=scores, vectors=vectors, sinks=stats)


def analyze_alignment(cfg: AlignmentConfig) -> dict[str, Any]:
    """Run the whole analysis for ``cfg`` and write its outputs into ``cfg.out``.

    Returns:
        The JSON-ready results (also written to ``alignment.json``).
    """
    from polyalign.analysis.alignment_report import write_alignment_outputs
    from polyalign.models.loading import load_model, load_tokenizer
    from polyalign.models.precision import resolve_dtype

    cfg.validate()
    sets = load_parallel(cfg.parallel, pivot=cfg.pivot, langs=cfg.langs, limit=cfg.limit)
    names = [cfg.model] + ([cfg.compare_model] if cfg.compare_model else [])
    labels = _labels(names)
    results = []
    for name, label in zip(names, labels):
        log.info("alignment: capturing %d languages with %s", len(sets), name)
        model = load_model(name, dtype=resolve_dtype(cfg.dtype))
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


def pca_groups(result: ModelAlignment, layer: int, *, centre: bool, pivot: str) -> dict[str, np.ndarray]:
    """Vectors of every language (and the distinct pivot sentences) at ``layer``, ready for PCA."""
    row = result.layers.index(layer)
    groups = {lang: (center(x[row]) if centre else x[row]) for lang, (x, _) in result.vectors.items()}
    pivots = np.concatenate([y[row] for _, y in result.vectors.values()])
    pivots = np.unique(pivots, axis=0)  # the QAlign pivot sides overlap (the same GSM8K questions)
    groups[pivot] = center(pivots) if centre else pivots
    return groups


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
