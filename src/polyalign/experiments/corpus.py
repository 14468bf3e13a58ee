"""Corpus metrics (BLEU, chrF++, spBLEU) under resampling, through sacrebleu's own machinery.

A corpus score is not a mean over items: sacrebleu reduces each segment to sufficient statistics
(n-gram matches and lengths, character/word n-gram counts), sums them over the corpus and computes
the score from the sums. Resampling items therefore resamples statistics rows; the sums of every
resample are one matrix product and sacrebleu's ``_compute_score_from_stats`` turns each into a
score. The paired test is sacrebleu's own paired bootstrap (``sacrebleu.significance``), run on the
same seed, hence the same resampled items, as our intervals.

The metric settings are read back from the run's sacrebleu signature (``tok:zh``, ``nw:2``, ...), so a
comparison scores exactly as the evaluation did, whatever tokenizers this machine has.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from polyalign.errors import InputError

__all__ = ["CORPUS", "build_metric", "corpus_stats", "score_from_sums", "sacrebleu_paired_bs"]

CORPUS = ("bleu", "chrf++", "spbleu")
"""Corpus metrics a comparison can resample (COMET needs its model and per-segment scores)."""


def _signature_fields(signature: str | None) -> dict[str, str]:
    fields = {}
    for part in (signature or "").split("|"):
        key, _, value = part.partition(":")
        if value:
            fields[key] = value
    return fields


def build_metric(name: str, signature: str | None, target_lang: str) -> Any:
    """The sacrebleu metric object that scored ``name`` in a run (settings from its signature).

    Args:
        name: ``bleu``, ``chrf++`` or ``spbleu``.
        signature: the run's sacrebleu signature of the metric (None: polyalign's defaults).
        target_lang: the direction's target language (BLEU's tokenizer when no signature says it).

    Raises:
        InputError: spBLEU without the local Flores-101 SentencePiece model.
    """
    from sacrebleu.metrics import BLEU, CHRF

    fields = _signature_fields(signature)
    if name == "chrf++":
        return CHRF(word_order=int(fields.get("nw", 2)), char_order=int(fields.get("nc", 6)))
    if name == "spbleu":
        # spBLEU's tokenizer is polyalign's local copy of the Flores-101 model (never downloaded)
        from polyalign.eval.scorers import translation

        metric = BLEU(tokenize="none")
        metric.tokenizer = translation._LocalSpm(translation._spm_model(None))
        metric.tokenizer_signature = "flores101"
        return metric
    if name == "bleu":
        tok = fields.get("tok")
        if tok is None:
            from polyalign.eval.scorers.translation import tokenizer_for

            tok = tokenizer_for(target_lang)
        try:
            return BLEU(tokenize=tok)
        except (ImportError, ModuleNotFoundError) as err:  # e.g. ja-mecab without MeCab here
            raise InputError(f"BLEU was scored with tok:{tok}, which this machine cannot run ({err}); "
                             "install the tokenizer's extra (sacrebleu[ja] / sacrebleu[ko])") from err
    raise ValueError(f"not a corpus metric: {name!r}")


def corpus_stats(metric: Any, hyps: Sequence[str], refs: Sequence[str]) -> np.ndarray:
    """Per-segment sufficient statistics, shape ``(n, k)``."""
    return np.asarray(metric._extract_corpus_statistics(list(hyps), [list(refs)]), dtype=np.float64)


def score_from_sums(metric: Any, sums: np.ndarray) -> np.ndarray:
    """Scores from summed statistics: one per row of ``sums`` (``(resamples, k)`` or ``(k,)``)."""
    rows = np.atleast_2d(sums)
    return np.array([metric._compute_score_from_stats(list(row)).score for row in rows], dtype=np.float64)


def sacrebleu_paired_bs(metric: Any, name: str, baseline_stats: np.ndarray, baseline_score: float,
                        system_hyps: Sequence[str], refs: Sequence[str], resamples: int, seed: int) -> float:
    """The p-value of sacrebleu's paired bootstrap resampling test (Koehn 2004, as Moses and sacrebleu do it).

    Calls ``sacrebleu.significance._paired_bs_test`` directly: its public wrapper (``PairedTest``)
    takes the seed from ``$SACREBLEU_SEED`` and treats seed 0 as "unseeded". The baseline's segment
    statistics (`corpus_stats`) are passed in, as ``PairedTest`` caches them, rather than extracted
    again for every system.
    """
    from sacrebleu.significance import Result, _paired_bs_test

    baseline_info = {name: (np.asarray(baseline_stats, dtype=np.float32), Result(baseline_score))}
    _, results = _paired_bs_test(baseline_info, "system", list(system_hyps), [list(refs)], {name: metric},
                                 n_samples=resamples, seed=seed)
    return float(results[name].p_value)
