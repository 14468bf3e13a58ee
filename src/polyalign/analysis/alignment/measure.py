"""One model's alignment with the pivot, layer by layer: capture every sentence once, score each language.

Shared by the command (`polyalign.analysis.alignment.run`) and its outputs
(`polyalign.analysis.alignment.write`), which both read `ModelAlignment`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from polyalign.analysis.alignment.capture import SINK_RATIO, capture_pooled, num_layers
from polyalign.analysis.alignment.metrics import PairScores, center, pair_scores
from polyalign.analysis.alignment.parallel_text import ParallelSet, render_input

__all__ = ["ModelAlignment", "measure_alignment", "pca_groups"]


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
        template: raw, alpaca or question (`polyalign.analysis.alignment.parallel_text.render_input`).
        layers: hidden-state indices; None = all.
        centre: per-language mean-centring.
        skip_first: exclude attention sinks (the first token, massive positions) from the mean.
        sink_ratio: massive-position threshold (`polyalign.analysis.alignment.capture.massive_positions`); 0 = off.
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


def pca_groups(result: ModelAlignment, layer: int, *, centre: bool, pivot: str) -> dict[str, np.ndarray]:
    """Vectors of every language (and the distinct pivot sentences) at ``layer``, ready for PCA."""
    row = result.layers.index(layer)
    groups = {lang: (center(x[row]) if centre else x[row]) for lang, (x, _) in result.vectors.items()}
    pivots = np.concatenate([y[row] for _, y in result.vectors.values()])
    pivots = np.unique(pivots, axis=0)  # the QAlign pivot sides overlap (the same GSM8K questions)
    groups[pivot] = center(pivots) if centre else pivots
    return groups
