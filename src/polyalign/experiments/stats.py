"""Paired statistics over items: bootstrap resamples, percentile intervals and the paired tests.

Everything is vectorised over resamples: a bootstrap is a ``(resamples, n)`` matrix of item counts
(how often each item was drawn), so the resampled mean of any per-item metric is one matrix product
and every metric and system of a language reuses the same draws (a paired bootstrap). Averages over
languages resample items within each language and average replicate by replicate (a stratified
bootstrap), which `polyalign.experiments.compare` does with the vectors these functions return.

See docs/compare.md for the definitions and the measured calibration of each test.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

__all__ = ["stream_seed", "bootstrap_indices", "index_counts", "resampled_sums", "percentile_ci",
           "mcnemar_exact", "bootstrap_p_two_sided", "is_binary", "LEVEL"]

LEVEL = 0.95
"""Confidence level of every interval."""


def stream_seed(seed: int, *keys: str) -> int:
    """A seed for one named stream (e.g. a task language), stable across processes and Python versions.

    Each language gets its own draws, so adding a language to a comparison does not move the
    intervals of the others.
    """
    words = [int(seed) & 0xFFFFFFFF] + [zlib.crc32(key.encode("utf-8")) for key in keys]
    return int(np.random.SeedSequence(words).generate_state(1)[0])


def bootstrap_indices(n: int, resamples: int, seed: int) -> np.ndarray:
    """Item indices of every resample, shape ``(resamples, n)``.

    Drawn exactly as sacrebleu's paired bootstrap draws them
    (``default_rng(seed).choice(n, size=(resamples, n), replace=True)``), so a corpus metric's test run
    through sacrebleu with the same seed resamples the same items as our intervals.
    """
    rng = np.random.default_rng(seed)
    return rng.choice(n, size=(resamples, n), replace=True)


def index_counts(indices: np.ndarray, n: int) -> np.ndarray:
    """How often each item occurs in each resample: ``(resamples, n)`` float64 counts."""
    resamples = indices.shape[0]
    flat = (np.arange(resamples, dtype=np.int64)[:, None] * n + indices).ravel()
    return np.bincount(flat, minlength=resamples * n).reshape(resamples, n).astype(np.float64)


def resampled_sums(columns: np.ndarray, resamples: int, seed: int, *, block_cells: int = 1 << 22) -> np.ndarray:
    """Column sums over the items of every resample: ``(resamples, m)`` for ``columns`` of shape ``(n, m)``.

    The draws are `bootstrap_indices`' (generated ``block_cells`` resampled items at a time: numpy's
    generator yields the same stream whether the rows are drawn at once or in blocks), so a column's
    resampled mean is its sum divided by ``n``.
    """
    x = np.asarray(columns, dtype=np.float64)
    n = x.shape[0]
    rng = np.random.default_rng(seed)
    rows = max(1, block_cells // max(n, 1))
    parts = []
    for start in range(0, resamples, rows):
        indices = rng.choice(n, size=(min(rows, resamples - start), n), replace=True)
        parts.append(index_counts(indices, n) @ x)
    return np.concatenate(parts, axis=0)


def percentile_ci(samples: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The percentile interval of bootstrap replicates (2.5th and 97.5th percentiles at 95%)."""
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(np.asarray(samples, dtype=np.float64), [tail, 100 - tail])
    return float(low), float(high)


def mcnemar_exact(system: Sequence[float] | np.ndarray, baseline: Sequence[float] | np.ndarray) -> float:
    """Exact McNemar test of two paired 0/1 vectors: two-sided binomial test on the discordant pairs.

    ``b`` items right only for the system, ``c`` right only for the baseline; under no difference
    each discordant item is either with probability 1/2. No discordant item gives p = 1.
    """
    from scipy.stats import binomtest

    s = np.asarray(system, dtype=np.float64) > 0.5
    t = np.asarray(baseline, dtype=np.float64) > 0.5
    b, c = int(np.sum(s & ~t)), int(np.sum(~s & t))
    if b + c == 0:
        return 1.0
    return float(binomtest(b, b + c, 0.5, alternative="two-sided").pvalue)


def bootstrap_p_two_sided(observed: float, deltas: np.ndarray) -> float:
    """Two-sided bootstrap p of a paired difference: how often a replicate centred on zero (the shift
    method: replicates minus their mean) is at least as far from zero as the observed difference.

    ``(1 + count) / (1 + resamples)``, so p is never 0 from a finite number of resamples.
    """
    d = np.asarray(deltas, dtype=np.float64)
    centred = np.abs(d - d.mean())
    # a tolerance so that float noise in identical systems does not count as "at least as far"
    count = int(np.sum(centred >= abs(observed) - 1e-12))
    return float((1 + count) / (1 + d.shape[0]))


def is_binary(*vectors: Sequence[float] | np.ndarray) -> bool:
    """Whether every value is 0 or 1 (a per-item metric McNemar's test applies to)."""
    return all(np.all((np.asarray(v) == 0) | (np.asarray(v) == 1)) for v in vectors)
