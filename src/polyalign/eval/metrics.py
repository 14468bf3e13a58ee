"""Per-example metrics and corpus aggregations, shared by the lm-eval YAMLs and the polyalign runner.

`process_results` is what every task's ``utils.py`` hands to lm-eval; `score_output` also returns the
extracted answer for the samples file. Metric names follow docs/architecture.md: numeric ``acc`` (corrected
rule) and ``acc_paper``; QA ``em``, ``f1``, ``contains``; multiple choice ``acc``; translation
``bleu``, ``chrf++``, ``spbleu``, ``comet``; every generative task ``lang_match`` (share of outputs
in the prompt's language, no-language outputs counted as not matching) and ``lang_none`` (share of
outputs with no language at all, reported separately because "answered in English" and "produced no
text" are different failures).

Corpus metrics (BLEU, chrF++, spBLEU, COMET) cannot be averaged per example: the per-example value is
the tuple the aggregation needs, as lm-eval's own BLEU does.

Prompt variants that change what an output is: ``pot`` outputs are programs, executed and scored by
`polyalign.eval.programs` (``acc``, ``acc_paper`` on the printed answer, plus ``pot_<status>``
shares); ``rationale`` outputs are read for their final answer letter only
(`scorers.extract_final_choice`). `prepare` runs a batch's programs in parallel before scoring.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Container, Sequence
from typing import Any

from polyalign.errors import InputError
from polyalign.eval import programs, scorers

__all__ = ["process_results", "score_output", "score_loglik", "prepare", "hypothesis", "agg_bleu", "agg_chrf", "agg_spbleu", "agg_comet",
           "unavailable_reason", "signatures", "CORPUS_METRICS", "COMET_ENV", "COMET_MODEL"]

log = logging.getLogger(__name__)

CORPUS_METRICS = ("bleu", "chrf++", "spbleu", "comet")
COMET_ENV = "POLYALIGN_COMET_MODEL"
"""Environment variable naming a local COMET checkpoint (``.../checkpoints/model.ckpt``)."""
COMET_MODEL = "Unbabel/wmt22-comet-da"
"""x-LLaMA's COMET model (docs/methods.md, x-LLaMA)."""


def _lang_metrics(output: str, lang: str) -> dict[str, float]:
    match = scorers.lang_match(output, lang)
    return {"lang_match": float(match or 0.0), "lang_none": float(match is None)}


def hypothesis(output: str, protocol: str = "polyalign") -> str:
    """A translation output as scored.

    ``polyalign``: its first non-empty line (task version 1 rule): Flores segments are single
    sentences; a model that adds a note or a second attempt after a line break would otherwise be
    scored on both. ``paper``: the whole output stripped, every line kept, as x-LLaMA scores it
    (``inference.py`` strips the prediction; ``eval/translation.bleu.py`` scores it unchanged).
    """
    if protocol == "paper":
        return output.strip()
    return next((line.strip() for line in output.splitlines() if line.strip()), "")


def _gold_text(doc: dict[str, Any]) -> str:
    """A numeric gold as text (the document's ``target``, else its number written plainly)."""
    if doc.get("target") is not None:
        return str(doc["target"])
    value = float(doc["answer"])
    return str(int(value)) if value.is_integer() else str(value)


def score_output(doc: dict[str, Any], output: str) -> tuple[Any, dict[str, Any]]:
    """(extracted answer, metrics) of one generated output."""
    kind, lang = doc["kind"], doc["text_lang"]
    mode = doc.get("prompt_mode")
    paper = doc.get("protocol") == "paper"
    if kind == "numeric" and mode == "pot":
        run, metrics = programs.score_program(output, doc["answer"])
        return run.to_json(), {**metrics, **_lang_metrics(output, lang)}
    if kind == "numeric":
        # acc_paper runs the gold through the same last-number reader, as QAlign does
        # (extract_last_num on gsm8k_data["response"]): a gold of -5 is read as 5.
        metrics = {"acc": float(scorers.is_correct(output, doc["answer"], lang)),
                   "acc_paper": float(scorers.correct_paper(output, scorers.extract_number_paper(_gold_text(doc))))}
        return scorers.extract_number(output, lang), {**metrics, **_lang_metrics(output, lang)}
    if kind == "qa":
        answers = list(doc["answers"])
        # paper: x-LLaMA keeps only the first gold (data/xquad/xquad.py "output": answers[0]) and
        # matches it in the stripped prediction (eval/xquad.match.py)
        contains = scorers.contains(output.strip(), answers[:1]) if paper else scorers.contains(output, answers)
        metrics = {"em": scorers.exact_match(output, answers, lang), "f1": scorers.f1(output, answers, lang),
                   "contains": contains}
        return output.strip(), {**metrics, **_lang_metrics(output, lang)}
    if kind == "choice":
        labels = list(doc["labels"])
        extract = scorers.extract_final_choice if mode == "rationale" else scorers.extract_choice
        letter = extract(output, n_options=len(labels), letters="".join(labels))
        return letter, {"acc": scorers.choice_accuracy(letter, doc["gold"]), **_lang_metrics(output, lang)}
    if kind == "translation":
        hyp = hypothesis(output, doc.get("protocol", "polyalign"))
        ref = doc["reference"]
        # x-LLaMA's spBLEU uses effective_order=True (eval/translation.bleu.py): flagged per item
        metrics = {"bleu": [ref, hyp, lang], "chrf++": [ref, hyp], "spbleu": [ref, hyp, True] if paper else [ref, hyp],
                   "comet": [doc["source"], hyp, ref]}
        return hyp, {**metrics, **_lang_metrics(output, lang)}
    raise ValueError(f"unknown kind {kind!r}")


def score_loglik(doc: dict[str, Any], results: Sequence[Sequence[Any]]) -> tuple[str, dict[str, float]]:
    """(chosen letter, {"acc"}) from per-option (log-likelihood, is_greedy) results."""
    lls = [float(r[0]) for r in results]
    best = max(range(len(lls)), key=lambda i: lls[i])
    return doc["labels"][best], {"acc": float(best == doc["gold_index"])}


def prepare(docs: Sequence[dict[str, Any]], results: Sequence[Sequence[Any] | None],
            skip: Container[str] = ()) -> None:
    """Do a batch's expensive per-example work at once, before the examples are scored one by one.

    Today: run the programs of ``pot`` outputs in parallel (`polyalign.eval.programs.prefetch`);
    scoring then reads the cached runs. Optional: scoring without it gives the same values.

    Args:
        docs: The batch's documents.
        results: What the backend returned per document (``[text]``, option log-likelihoods, or None).
        skip: Ids already scored (resumed runs): their programs are not run again.
    """
    outputs = [res[0] for doc, res in zip(docs, results)
               if res and isinstance(res[0], str) and doc.get("prompt_mode") == "pot" and doc["id"] not in skip]
    programs.prefetch(outputs)


def process_results(doc: dict[str, Any], results: Sequence[Any]) -> dict[str, Any]:
    """lm-eval hook: generated text (``[str]``) or option log-likelihoods (``[(ll, greedy), ...]``)."""
    if results and not isinstance(results[0], str):
        return score_loglik(doc, results)[1]
    return score_output(doc, results[0])[1]


def _columns(items: Sequence[Sequence[Any]], n: int) -> list[list[Any]]:
    return [[item[i] for item in items] for i in range(n)]


def agg_bleu(items: Sequence[Sequence[Any]]) -> float:
    """Corpus BLEU with the target language's tokenizer (`scorers.translation.tokenizer_for`)."""
    refs, hyps, tgts = _columns(items, 3)
    return scorers.bleu(hyps, refs, tgts[0])[0]


def agg_chrf(items: Sequence[Sequence[Any]]) -> float:
    refs, hyps = _columns(items, 2)
    return scorers.chrf_pp(hyps, refs)[0]


def agg_spbleu(items: Sequence[Sequence[Any]]) -> float:
    """spBLEU, or NaN with a warning when the Flores-101 SentencePiece model is not local.

    (The polyalign runner checks `unavailable_reason` first and leaves the metric out with a note.)
    """
    refs, hyps = _columns(items, 2)
    effective = any(len(item) > 2 and item[2] for item in items)
    try:
        return scorers.spbleu(hyps, refs, effective_order=effective)[0]
    except InputError as err:
        log.warning("spbleu not computed: %s", err)
        return math.nan


def agg_comet(items: Sequence[Sequence[Any]]) -> float:
    """System COMET (``Unbabel/wmt22-comet-da``) from a local checkpoint; NaN with a warning otherwise."""
    reason = unavailable_reason("comet")
    if reason:
        log.warning("comet not computed: %s", reason)
        return math.nan
    from comet import load_from_checkpoint  # optional extra: polyalign[comet]

    srcs, hyps, refs = _columns(items, 3)
    model = load_from_checkpoint(os.environ[COMET_ENV])
    data = [{"src": s, "mt": h, "ref": r} for s, h, r in zip(srcs, hyps, refs)]
    return float(model.predict(data, batch_size=16, gpus=0, progress_bar=False).system_score)


def unavailable_reason(metric: str) -> str | None:
    """Why a metric that needs a local resource cannot be computed here, or None when it can."""
    if metric == "spbleu":
        try:  # a one-segment score runs exactly the lookup a real score would
            scorers.spbleu(["x"], ["x"])
        except InputError as err:
            return str(err)
        return None
    if metric == "comet":
        import importlib.util

        if importlib.util.find_spec("comet") is None:
            return "the comet extra is not installed (pip install 'polyalign[comet]')"
        path = os.environ.get(COMET_ENV)
        if not path or not os.path.isfile(path):
            return (f"COMET needs a local checkpoint of {COMET_MODEL}: set ${COMET_ENV} to its "
                    f"checkpoints/model.ckpt (polyalign never downloads it)")
        return None
    return None


def signatures(target_lang: str, protocol: str = "polyalign") -> dict[str, str]:
    """sacrebleu signatures of the BLEU/chrF++/spBLEU settings used for a target language."""
    from sacrebleu.metrics import BLEU, CHRF

    from polyalign.eval.scorers.translation import tokenizer_for

    # sacrebleu only states "nrefs" after a score: a one-segment score gives the same signature
    metrics = {"bleu": BLEU(tokenize=tokenizer_for(target_lang)), "chrf++": CHRF(word_order=2),
               "spbleu": BLEU(tokenize="none", effective_order=protocol == "paper")}
    metrics["spbleu"].tokenizer_signature = "flores101"  # as scorers.translation.spbleu reports it
    sig = {}
    for name, metric in metrics.items():
        metric.corpus_score(["x"], [["x"]])
        sig[name] = str(metric.get_signature())
    return sig
