"""MGSM: the benchmark's metadata row, reader and prompt quirks (one folder per benchmark)."""

from __future__ import annotations

from polyalign import langs
from polyalign.eval.taskspec import Benchmark, PaperRule

# QAlign's evaluate/scripts/mgsm_test.py, `main`: the languages it averages (no Telugu).
QALIGN_AVERAGE = ("sw", "en", "zh", "bn", "de", "es", "fr", "ja", "ru", "th")


BENCHMARK = Benchmark(
    "mgsm", "numeric", langs.MGSM_LANGS, lambda lang: (f"mgsm/mgsm_{lang}.tsv",), "tsv_question_answer",
    "google-research/url-nlp, folder mgsm (TSV without header: question<TAB>answer)", hub="juletxara/mgsm",
    variants=("pot",),
    paper=PaperRule("NJUNLP/QAlign evaluate/scripts/mgsm_test.py: get_batch_llama (max_new_tokens=600, no stop), "
                    "extract_last_num on output and gold, main (10-language average)",
                    until=(), max_new_tokens=600, avg_langs=QALIGN_AVERAGE),
)
