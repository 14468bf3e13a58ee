"""MLQA: the benchmark's metadata row, reader and prompt quirks (one folder per benchmark)."""

from __future__ import annotations

from polyalign import langs
from polyalign.eval.taskspec import Benchmark, PaperRule

# x-LLaMA (NJUNLP/x-LLM) inference.py decodes up to 512 new tokens with no stop string and strips the
# prediction; its match script scores only the first gold answer.
_INFERENCE = "NJUNLP/x-LLM inference.py: GeneratingArguments.max_new_tokens=512, evaluate_by_generate"


BENCHMARK = Benchmark(
    "mlqa", "qa", langs.MLQA_LANGS, lambda lang: (f"mlqa/test/test-context-{lang}-question-{lang}.json",), "squad",
    "facebookresearch/MLQA, MLQA_V1/test (SQuAD v1.1 JSON)",
    paper=PaperRule(f"{_INFERENCE} (no stop, prediction stripped); eval/mlqa.match.py (= xquad.match.py): "
                    "eval_file (answers[0] from data/mlqa/mlqa.py, lower-cased substring)",
                    until=(), max_new_tokens=512,
                    avg_langs=tuple(code for code in langs.XLLAMA_LANGS if code in langs.MLQA_LANGS)),
)
