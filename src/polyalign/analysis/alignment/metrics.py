"""Cross-lingual alignment metrics on pooled sentence vectors: cosine, baseline, retrieval, PCA.

Pure numpy on ``[n, dim]`` arrays where row i of ``x`` (a language) translates row i of ``y`` (the
pivot). Why each number is needed:

- **Matched cosine alone says little.** Raw hidden states of a decoder share a large common
  direction: on SmolLM2-135M translations and *unrelated* sentence pairs both score 0.78-0.98 (gap
  ≤ 0.05). So every cosine is reported next to its **baseline**, the mean cosine over mismatched
  pairs (i ≠ j), and the **gap** between the two.
- **Per-language mean-centring** (`center`) removes each language's mean vector (its "language
  identity" offset) before comparing, the standard fix for anisotropy in multilingual sentence
  representations (Libovický et al. 2020, "On the Language Neutrality of Pre-trained Multilingual
  Representations"). Without it the common direction hides the sentence-specific signal. After
  centring the baseline is ≈ −cosine/(n−1) by construction (a language's vectors sum to zero), so
  the uncentred cosine and baseline are kept too (``raw_cosine``, ``raw_baseline``).
- **Top-1 retrieval** (does the nearest pivot sentence of x_i by cosine equal y_i, and vice versa)
  is the decision-level view: chance is 1/n, identical inputs give 1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["PairScores", "center", "cosine_matrix", "pair_scores", "retrieval_accuracy", "pca_2d"]


@dataclass(frozen=True)
class PairScores:
    """Alignment of one language with the pivot at one layer."""

    cosine: float
    """Mean cosine similarity of matching pairs (x_i, y_i)."""
    baseline: float
    """Mean cosine similarity of mismatched pairs (x_i, y_j), i ≠ j."""
    gap: float
    """``cosine - baseline``: how much closer translations are than unrelated sentences."""
    retrieval_to_pivot: float
    """Share of x_i whose most similar pivot sentence is y_i (top-1 accuracy, x → pivot)."""
    retrieval_from_pivot: float
    """Share of y_i whose most similar sentence in x is x_i (pivot → x)."""
    n: int
    """Number of pairs; retrieval chance level is 1/n."""
    raw_cosine: float
    """``cosine`` without centring (equal to it when ``centre`` is off)."""
    raw_baseline: float
    """``baseline`` without centring. After centring the baseline is ≈ −cosine/(n−1) by construction
    (each language's vectors sum to zero), so the uncentred pair shows how anisotropic the space is."""

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def center(x: np.ndarray) -> np.ndarray:
    """Subtract the mean over sentences (axis -2): per-language mean-centring."""
    return x - x.mean(axis=-2, keepdims=True)


def cosine_matrix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``[n, m]`` cosine similarities between the rows of ``x`` ``[n, d]`` and ``y`` ``[m, d]``.

    Computed in float64; a zero row has cosine 0 with everything (its norm is floored).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    xn = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    yn = y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)
    return xn @ yn.T


def retrieval_accuracy(sim: np.ndarray) -> float:
    """Share of rows whose highest similarity is on the diagonal (ties go to the lowest index)."""
    return float(np.mean(sim.argmax(axis=1) == np.arange(sim.shape[0])))


def pair_scores(x: np.ndarray, y: np.ndarray, *, centre: bool = True) -> PairScores:
    """Alignment scores of parallel rows ``x[i] ↔ y[i]``.

    Args:
        x: ``[n, dim]`` vectors of one language.
        y: ``[n, dim]`` vectors of their translations in the pivot language.
        centre: mean-centre ``x`` and ``y`` separately first (each by its own language's mean).

    Returns:
        The `PairScores`.
    """
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"expected two [n, dim] arrays of the same shape, got {x.shape} and {y.shape}")
    n = x.shape[0]
    if n < 2:
        raise ValueError("alignment needs at least two parallel pairs (the baseline uses mismatched pairs)")
    raw = cosine_matrix(x, y)
    sim = cosine_matrix(center(x), center(y)) if centre else raw
    matched, baseline = _matched_and_baseline(sim)
    raw_matched, raw_baseline = _matched_and_baseline(raw)
    return PairScores(cosine=matched, baseline=baseline, gap=matched - baseline,
                      retrieval_to_pivot=retrieval_accuracy(sim), retrieval_from_pivot=retrieval_accuracy(sim.T), n=n,
                      raw_cosine=raw_matched, raw_baseline=raw_baseline)


def _matched_and_baseline(sim: np.ndarray) -> tuple[float, float]:
    """Mean of the diagonal, and mean of everything off it."""
    n = sim.shape[0]
    diagonal = float(np.trace(sim))
    return diagonal / n, (float(sim.sum()) - diagonal) / (n * (n - 1))


def pca_2d(points: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """Project ``[n, dim]`` points on their first two principal components.

    Returns:
        ``([n, 2] coordinates, (explained variance share of PC1, of PC2))``.
    """
    data = np.asarray(points, dtype=np.float64)
    data = data - data.mean(axis=0, keepdims=True)
    _, singular, vt = np.linalg.svd(data, full_matrices=False)
    total = float((singular ** 2).sum()) or 1.0
    share = singular[:2] ** 2 / total
    coords = data @ vt[:2].T
    if coords.shape[1] < 2:  # a single dimension or point: pad so callers can always plot x, y
        coords = np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
        share = np.pad(share, (0, 2 - share.shape[0]))
    return coords, (float(share[0]), float(share[1]))
