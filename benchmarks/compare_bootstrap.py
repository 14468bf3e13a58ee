"""Bootstrap speed of `polyalign compare` (vectorised count matrices) vs naive per-resample loops.

Two measurements, each the median of repeats in one process on the same synthetic data:

- mean metrics (accuracy): `stats.resampled_sums` over 0/1 columns of several systems vs a Python
  loop that indexes and averages each resample (``x[idx].mean()``), which is what analysis scripts
  usually write; both give the same replicates (checked);
- corpus metrics (chrF++): summed sacrebleu segment statistics (a matrix product, then sacrebleu's
  ``_compute_score_from_stats`` per replicate) vs re-scoring each resampled corpus with
  ``CHRF.corpus_score``; same replicates (checked) — run on fewer resamples, the naive loop is slow.

    python benchmarks/compare_bootstrap.py
    python benchmarks/compare_bootstrap.py --items 1000 --resamples 2000 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from polyalign.experiments import corpus, stats


def _median_seconds(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=250, help="items per language (mGSM: 250)")
    parser.add_argument("--systems", type=int, default=3)
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--corpus-resamples", type=int, default=200, help="resamples of the corpus comparison")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.items
    x = (rng.random((n, args.systems)) < 0.5).astype(np.float64)

    def ours_mean() -> np.ndarray:
        return stats.resampled_sums(x, args.resamples, seed=1) / n

    def naive_mean() -> np.ndarray:
        idx = stats.bootstrap_indices(n, args.resamples, seed=1)
        return np.array([[x[row, s].mean() for s in range(args.systems)] for row in idx])

    assert np.allclose(ours_mean(), naive_mean())
    fast, slow = _median_seconds(ours_mean, args.repeats), _median_seconds(naive_mean, args.repeats)
    print(f"mean metric, {n} items x {args.systems} systems x {args.resamples} resamples: "
          f"vectorised {fast * 1000:.1f} ms, loop {slow * 1000:.1f} ms, speed-up {slow / fast:.1f}x")

    from sacrebleu.metrics import CHRF

    words = ["der", "die", "das", "Haus", "Katze", "Hund", "läuft", "schnell", "heute", "groß", "klein", "und"]
    refs = [" ".join(rng.choice(words, 12)) for _ in range(n)]
    hyps = [" ".join(w for w in r.split() if rng.random() > 0.3) for r in refs]
    metric = corpus.build_metric("chrf++", None, "de")
    reference = CHRF(word_order=2)
    resamples = args.corpus_resamples

    def ours_corpus() -> np.ndarray:
        seg = corpus.corpus_stats(metric, hyps, refs)
        return corpus.score_from_sums(metric, stats.resampled_sums(seg, resamples, seed=2))

    def naive_corpus() -> np.ndarray:
        idx = stats.bootstrap_indices(n, resamples, seed=2)
        return np.array([reference.corpus_score([hyps[i] for i in row], [[refs[i] for i in row]]).score for row in idx])

    assert np.allclose(ours_corpus(), naive_corpus())
    fast, slow = _median_seconds(ours_corpus, args.repeats), _median_seconds(naive_corpus, args.repeats)
    print(f"chrF++, {n} segments x {resamples} resamples: summed statistics {fast * 1000:.1f} ms, "
          f"re-scoring {slow * 1000:.1f} ms, speed-up {slow / fast:.1f}x")


if __name__ == "__main__":
    main()
