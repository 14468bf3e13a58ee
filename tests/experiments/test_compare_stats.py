"""The statistics of `polyalign compare`: references (scipy, sacrebleu) and calibration under no difference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from polyalign.experiments import corpus, stats


def test_bootstrap_draws_are_sacrebleus_and_sums_are_blockwise_exact():
    idx = stats.bootstrap_indices(7, 50, seed=3)
    assert np.array_equal(idx, np.random.default_rng(3).choice(7, size=(50, 7), replace=True))
    counts = stats.index_counts(idx, 7)
    assert counts.shape == (50, 7) and np.all(counts.sum(1) == 7)
    assert all(counts[r, i] == np.sum(idx[r] == i) for r in range(50) for i in range(7))
    x = np.column_stack([np.arange(7.0), np.arange(7.0) ** 2])
    # drawn 3 resamples per block (21 cells), the sums are those of the draws made all at once
    assert np.allclose(stats.resampled_sums(x, 50, seed=3, block_cells=21), x[idx].sum(1))
    assert np.allclose(stats.resampled_sums(x, 50, seed=3), x[idx].sum(1))


def test_stream_seeds_are_stable_and_distinct():
    assert stats.stream_seed(0, "mgsm", "de") == stats.stream_seed(0, "mgsm", "de")
    assert len({stats.stream_seed(s, "mgsm", lang) for s in (0, 1) for lang in ("de", "en")}) == 4


@pytest.mark.parametrize("b,c,expected", [(5, 1, 14 / 64), (0, 7, 2 / 128), (3, 3, 1.0), (0, 0, 1.0), (10, 0, 2 / 1024)])
def test_mcnemar_exact_hand_computed(b, c, expected):
    # b items right only for the system, c only for the baseline, plus 4 both right and 2 both wrong
    system = [1] * b + [0] * c + [1] * 4 + [0] * 2
    baseline = [0] * b + [1] * c + [1] * 4 + [0] * 2
    assert math.isclose(stats.mcnemar_exact(system, baseline), expected, rel_tol=1e-12)


def test_percentile_interval_of_a_mean_difference_matches_scipy_paired_bootstrap():
    rng = np.random.default_rng(11)
    base = (rng.random(80) < 0.45).astype(float)
    system = np.where(rng.random(80) < 0.3, 1.0, base)
    sums = stats.resampled_sums(np.column_stack([system, base]), 20000, seed=5)
    ours = stats.percentile_ci((sums[:, 0] - sums[:, 1]) / 80)
    ref = sps.bootstrap((system, base), lambda s, b, axis=-1: s.mean(axis) - b.mean(axis), paired=True,
                        vectorized=True, n_resamples=20000, method="percentile", confidence_level=0.95,
                        random_state=np.random.default_rng(99)).confidence_interval
    # two independent Monte Carlo estimates of the same percentiles, on a lattice of 1/80
    assert abs(ours[0] - ref.low) <= 1.5 / 80 and abs(ours[1] - ref.high) <= 1.5 / 80


def test_corpus_resampled_scores_equal_sacrebleu_on_the_resampled_corpus():
    from sacrebleu.metrics import BLEU, CHRF

    refs = ["Die Katze sitzt auf der Matte.", "Es regnet heute.", "Ich habe Hunger.", "Das Haus ist groß.",
            "Wir gehen nach Hause.", "Der Hund bellt laut."]
    hyps = ["Die Katze sitzt auf Matte.", "Heute regnet es.", "Ich habe Hunger.", "Das Haus ist klein.",
            "Wir gehen heim.", "Der Hund bellt."]
    idx = stats.bootstrap_indices(len(refs), 20, seed=1)
    counts = stats.index_counts(idx, len(refs))
    for name, reference in (("bleu", BLEU(tokenize="13a")), ("chrf++", CHRF(word_order=2))):
        metric = corpus.build_metric(name, None, "de")
        seg = corpus.corpus_stats(metric, hyps, refs)
        full = corpus.score_from_sums(metric, seg.sum(0))[0]
        assert math.isclose(full, reference.corpus_score(hyps, [refs]).score, rel_tol=1e-9)
        resampled = corpus.score_from_sums(metric, counts @ seg)
        expected = [reference.corpus_score([hyps[i] for i in row], [[refs[i] for i in row]]).score for row in idx]
        assert np.allclose(resampled, expected, rtol=1e-9, atol=1e-9)


def test_metric_settings_come_from_the_runs_signature():
    assert corpus.build_metric("bleu", "nrefs:1|case:mixed|eff:no|tok:char|smooth:exp|version:2.6.0", "de") \
        .tokenizer.signature() == "char"
    assert corpus.build_metric("bleu", None, "zh").tokenizer.signature() == "zh"
    assert corpus.build_metric("chrf++", "nrefs:1|nc:6|nw:2|space:no", "de").word_order == 2


def test_calibration_under_no_difference():
    """400 comparisons of two systems with the same per-item chance of being right (true Δ = 0).

    At the 5% level each test should reject about 5% of them: the count is asserted inside the
    central 99.8% of Binomial(400, 0.05) (exact McNemar is slightly conservative, hence its lower
    band), and the Δ interval should cover 0 as often as its 95% says.
    """
    rng = np.random.default_rng(2024)
    simulations, n, resamples = 400, 120, 2000
    low, high = sps.binom.ppf([0.001, 0.999], simulations, 0.05)
    mcnemar = bootstrap = outside = 0
    for k in range(simulations):
        difficulty = rng.uniform(0.05, 0.95, n)
        system = (rng.random(n) < difficulty).astype(float)
        base = (rng.random(n) < difficulty).astype(float)
        sums = stats.resampled_sums(np.column_stack([system, base]), resamples, stats.stream_seed(k, "sim"))
        deltas = (sums[:, 0] - sums[:, 1]) / n
        mcnemar += stats.mcnemar_exact(system, base) < 0.05
        bootstrap += stats.bootstrap_p_two_sided(system.mean() - base.mean(), deltas) < 0.05
        ci = stats.percentile_ci(deltas)
        outside += not (ci[0] <= 0 <= ci[1])
    for name, count in (("mcnemar", mcnemar), ("bootstrap", bootstrap), ("ci excludes 0", outside)):
        assert low <= count <= high, f"{name}: {count}/{simulations} rejections, expected {low:.0f}..{high:.0f}"
