"""Alignment metrics: identical inputs, chance level, hand-computed cosine/baseline, PCA."""

from __future__ import annotations

import numpy as np
import pytest

from polyalign.analysis.alignment.metrics import center, cosine_matrix, pair_scores, pca_2d, retrieval_accuracy


def test_identical_inputs_give_cosine_one_and_retrieval_one() -> None:
    x = np.random.default_rng(0).normal(size=(50, 16))
    for centre in (True, False):
        s = pair_scores(x, x.copy(), centre=centre)
        assert s.cosine == pytest.approx(1.0)
        assert s.retrieval_to_pivot == 1.0 and s.retrieval_from_pivot == 1.0
        assert s.gap > 0.9


def test_independent_random_vectors_give_chance_level_retrieval() -> None:
    rng = np.random.default_rng(1)
    n = 400
    s = pair_scores(rng.normal(size=(n, 32)), rng.normal(size=(n, 32)))
    assert s.retrieval_to_pivot < 5 / n and s.retrieval_from_pivot < 5 / n  # chance is 1/n = 0.0025
    assert abs(s.cosine - s.baseline) < 0.05


def test_shuffled_pairing_averages_to_chance() -> None:
    """For any vectors, a random pairing finds the "translation" with probability exactly 1/n."""
    rng = np.random.default_rng(2)
    n = 20
    x = rng.normal(size=(n, 8))
    y = x + 0.1 * rng.normal(size=(n, 8))  # well aligned: retrieval 1 before shuffling
    assert pair_scores(x, y).retrieval_to_pivot == 1.0
    accuracies = [pair_scores(x, y[rng.permutation(n)]).retrieval_to_pivot for _ in range(400)]
    assert np.mean(accuracies) == pytest.approx(1 / n, abs=0.02)


def test_hand_computed_cosine_baseline_and_retrieval() -> None:
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    r = 2 ** -0.5
    sim = np.array([[1, r, 0], [0, r, 1], [r, 1, r]])
    np.testing.assert_allclose(cosine_matrix(x, y), sim)
    s = pair_scores(x, y, centre=False)
    assert s.cosine == pytest.approx((1 + r + r) / 3)
    assert s.baseline == pytest.approx((r + 0 + 0 + 1 + r + 1) / 6)
    assert s.gap == pytest.approx(s.cosine - s.baseline)
    assert s.retrieval_to_pivot == pytest.approx(1 / 3)  # row 0 → 0 ✓, row 1 → 2 ✗, row 2 → 1 ✗
    assert s.retrieval_from_pivot == pytest.approx(1 / 3)  # column 0 → 0 ✓, 1 → 2 ✗, 2 → 1 ✗
    assert s.raw_cosine == s.cosine and s.n == 3


def test_centring_removes_a_shared_offset() -> None:
    """A large common direction makes everything look similar; centring recovers the structure."""
    rng = np.random.default_rng(3)
    base = rng.normal(size=(30, 16))
    x = base + 50.0
    y = base + rng.normal(scale=0.3, size=base.shape) - 50.0 * np.eye(16)[0] + 40.0
    raw = pair_scores(x, y, centre=False)
    centred = pair_scores(x, y, centre=True)
    assert raw.raw_baseline > 0.9 and raw.gap < 0.05
    assert centred.gap > 0.8 and centred.retrieval_to_pivot == 1.0
    np.testing.assert_allclose(center(x).mean(axis=0), 0.0, atol=1e-9)


def test_retrieval_ties_and_shapes() -> None:
    assert retrieval_accuracy(np.ones((4, 4))) == 0.25  # ties go to the first index
    with pytest.raises(ValueError):
        pair_scores(np.ones((3, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError):
        pair_scores(np.ones((1, 2)), np.ones((1, 2)))


def test_pca_2d_finds_the_main_direction() -> None:
    rng = np.random.default_rng(4)
    points = np.outer(rng.normal(size=100), [3.0, 4.0, 0.0]) + 0.01 * rng.normal(size=(100, 3))
    coords, share = pca_2d(points)
    assert coords.shape == (100, 2) and share[0] > 0.99
    coords1, _ = pca_2d(np.ones((1, 5)))
    assert coords1.shape == (1, 2)
