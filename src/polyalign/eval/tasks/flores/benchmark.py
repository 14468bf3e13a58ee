"""Flores-101: the benchmark's metadata row, reader and prompt quirks (one folder per benchmark)."""

from __future__ import annotations

from polyalign import langs
from polyalign.eval.taskspec import Benchmark, PaperRule, flores_directions, split_direction

# x-LLaMA (NJUNLP/x-LLM) inference.py decodes up to 512 new tokens with no stop string and strips the
# prediction; its match script scores only the first gold answer.
_INFERENCE = "NJUNLP/x-LLM inference.py: GeneratingArguments.max_new_tokens=512, evaluate_by_generate"



def files(key: str) -> tuple[str, ...]:
    """The source and target devtest files of a direction (Flores-101 file codes)."""
    src, tgt = split_direction(key)
    return tuple(f"flores/devtest/{langs.get(code).flores}.devtest" for code in (src, tgt))


BENCHMARK = Benchmark(
    "flores", "translation", flores_directions(), files, "parallel",
    "Flores-101 release (flores101_dataset/devtest/<code>.devtest, one sentence per line)",
    paper=PaperRule(f"{_INFERENCE} (no stop, whole prediction stripped, every line kept); eval/translation.bleu.py: "
                    "eval_file (BLEU(tokenize='flores101', effective_order=True).corpus_score); "
                    "data/translation/translation.py: _INSTRUCTIONS[0] with iso639 names",
                    until=(), max_new_tokens=512, name_mode="paper",
                    avg_langs=tuple(f"en-{x}" for x in langs.XLLAMA_LANGS) + tuple(f"{x}-en" for x in langs.XLLAMA_LANGS)),
)
