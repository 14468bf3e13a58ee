"""XQuAD: the benchmark's metadata row, reader and prompt quirks (one folder per benchmark)."""

from __future__ import annotations

from polyalign import langs
from polyalign.eval.taskspec import Benchmark, PaperRule

# x-LLaMA (NJUNLP/x-LLM) inference.py decodes up to 512 new tokens with no stop string and strips the
# prediction; its match script scores only the first gold answer.
_INFERENCE = "NJUNLP/x-LLM inference.py: GeneratingArguments.max_new_tokens=512, evaluate_by_generate"


BENCHMARK = Benchmark(
    "xquad", "qa", langs.XQUAD_LANGS, lambda lang: (f"xquad/xquad.{lang}.json",), "squad",
    "google-deepmind/xquad (SQuAD v1.1 JSON)",
    paper=PaperRule(f"{_INFERENCE} (no stop, prediction stripped); eval/xquad.match.py: eval_file "
                    "(answers[0] from data/xquad/xquad.py, lower-cased substring)",
                    until=(), max_new_tokens=512, avg_langs=langs.XLLAMA_LANGS),
)
