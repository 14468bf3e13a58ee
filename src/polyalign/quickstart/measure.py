"""The quickstart's measurements of one model, and the starter data laid out for them.

Each measurement reuses a polyalign command's engine, so the quickstart's numbers mean what the
same numbers mean elsewhere:

* ``polyalign eval --tasks qtrans`` (X→English question translation in QAlign's stage-I prompt):
  chrF++ and the share of translations in English;
* the log-likelihood of the reference English question under the same prompt, per token — the
  training objective of stage I, measured on held-apart questions (`polyalign.infer.loglik`);
* ``polyalign analyze alignment`` (run once after training on both models): retrieval of the
  parallel English question from hidden states, centred, averaged over layers.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from polyalign.quickstart.plan import Sizes

__all__ = ["write_starter_layouts", "measure_model", "retrieval_by_lang", "generation_speed", "STARTER_DIR"]

log = logging.getLogger(__name__)

STARTER_DIR = Path(__file__).resolve().parents[1] / "assets" / "starter"


def _questions(split: str, lang: str) -> list[str]:
    path = STARTER_DIR / f"{split}.{lang}.tsv"
    return [line.split("\t", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_starter_layouts(out: Path, langs: list[str], sizes: Sizes) -> dict[str, Path]:
    """Write the starter questions in the layouts the engines read; returns the folders.

    * ``eval-data/qtrans/<x>-en/test.<x|en>``: every held-apart pair (the ``qtrans`` task's layout);
    * ``align/test.<lang>``: held-apart questions, one per line, for the alignment analysis.
    """
    folders = {"eval_data": out / "eval-data", "align": out / "align"}
    english = _questions("test", "en")
    (folders["align"]).mkdir(parents=True, exist_ok=True)
    (folders["align"] / "test.en").write_text("\n".join(english[:sizes.align]) + "\n", encoding="utf-8")
    for lang in langs:
        test = _questions("test", lang)
        if len(test) != len(english):
            raise RuntimeError(f"starter data: {lang} and en differ in length")  # a packaging bug, not input
        folder = folders["eval_data"] / "qtrans" / f"{lang}-en"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"test.{lang}").write_text("\n".join(test) + "\n", encoding="utf-8")
        (folder / "test.en").write_text("\n".join(english) + "\n", encoding="utf-8")
        (folders["align"] / f"test.{lang}").write_text("\n".join(test[:sizes.align]) + "\n", encoding="utf-8")
    return folders


def measure_model(model: str, out: Path, langs: list[str], sizes: Sizes, eval_data: Path, *,
                  batch_size: int | str = "auto") -> dict[str, dict[str, float | None]]:
    """The stage-I panel's measurements but retrieval; the translations go to ``out/qtrans``.

    The model is loaded once (one ``hf`` backend) and serves the translations and the reference
    log-likelihoods.
    """
    from polyalign.infer.backends import BackendOptions
    from polyalign.infer.backends.hf import HFBackend
    from polyalign.eval.config import EvalConfig
    from polyalign.eval.runner import run_eval

    backend = HFBackend(BackendOptions(model=model, batch_size=batch_size, dtype="auto"))
    directions = [f"{lang}-en" for lang in langs]
    translate = run_eval(EvalConfig(tasks=["qtrans"], out=str(out / "qtrans"), model=model, langs=directions,
                                    data_dir=str(eval_data), limit=sizes.translate, name_mode="paper",
                                    batch_size=batch_size, max_new_tokens=64), backend=backend)["results"]["qtrans"]
    logprob = reference_logprob(backend.model, backend.tokenizer, langs, sizes.loglik, eval_data,
                                batch_size=batch_size)
    del backend
    metrics: dict[str, dict[str, float | None]] = {}
    for lang in ["en", *langs]:
        row = translate.get(f"{lang}-en", {})
        metrics[lang] = {"chrf": row.get("chrf++"), "ref_logprob": logprob.get(lang),
                         "translation_in_english": _percent(row.get("lang_match"))}
    return metrics


def _percent(value: Any) -> float | None:
    return None if value is None else 100.0 * float(value)


def reference_logprob(net: Any, tokenizer: Any, langs: list[str], limit: int, eval_data: Path, *,
                      batch_size: int | str = "auto") -> dict[str, float]:
    """Mean per-token log-probability of the reference English question given the stage-I prompt.

    Args:
        net: the loaded model (the measurement's backend model; `polyalign.infer.loglik` pads itself,
            so the backend's left-padding tokenizer gives the same values).
        tokenizer: its tokenizer.
    """
    from polyalign.eval.documents import build_docs
    from polyalign.infer.loglik import encode_pair, loglikelihoods

    out = {}
    for lang in langs:
        docs = build_docs("qtrans", f"{lang}-en", data_dir=eval_data, name_mode="paper")[:limit]
        pairs = [(doc["prompt"], doc["target"]) for doc in docs]
        scores = loglikelihoods(net, tokenizer, pairs, batch_size=batch_size)
        tokens = sum(len(encode_pair(tokenizer, ctx, cont)[1]) for ctx, cont in pairs)
        out[lang] = sum(score for score, _ in scores) / tokens
    return out


def generation_speed(model: str, langs: list[str], *, per_lang: int = 4, new_tokens: int = 32,
                     repeats: int = 2) -> float:
    """Greedy generation speed of ``model`` on this machine, in generated tokens per second.

    Generation dominates the quickstart, so this one number sizes the run (`plan.sizes_for`).
    ``per_lang`` starter training questions per language decode up to ``new_tokens`` tokens each (tokens
    made are counted) as the arms' evaluation decodes them: the lean loop, ``--dtype auto``, batch
    ``auto``. After a short warm-up the best of ``repeats`` runs is kept, the least disturbed by
    other work on the machine. About 20 s for SmolLM2-135M and the 9 default languages on 2 CPU cores.
    """
    import time

    from polyalign.infer.decode import greedy_token_ids
    from polyalign.models.loading import load_model, load_tokenizer
    from polyalign.models.precision import resolve_dtype

    net, tokenizer = load_model(model, dtype=resolve_dtype("auto")), load_tokenizer(model, padding_side="left")
    pools = [_questions("train", lang) for lang in langs]
    questions = [pools[i % len(pools)][i // len(pools)] for i in range(per_lang * len(pools))]
    encoded = [tokenizer(q)["input_ids"] for q in questions]
    best = 0.0
    greedy_token_ids(net, tokenizer, encoded[:4], max_new_tokens=2)  # warm-up: allocations
    for _ in range(repeats):  # the measurements' own greedy decoding (lean loop, --dtype auto)
        started = time.perf_counter()
        made = sum(len(row) for row in greedy_token_ids(net, tokenizer, encoded, max_new_tokens=new_tokens))
        best = max(best, made / (time.perf_counter() - started))
    del net
    return best


def retrieval_by_lang(alignment: dict[str, Any]) -> list[dict[str, float]]:
    """Per model of an alignment analysis: language → retrieval (both directions, mean over layers), %."""
    rows = []
    for model in alignment["models"]:
        rows.append({lang: 100.0 * sum((r["retrieval_to_pivot"] + r["retrieval_from_pivot"]) / 2
                                       for r in info["by_layer"]) / len(info["by_layer"])
                     for lang, info in model["langs"].items()})
    return rows
