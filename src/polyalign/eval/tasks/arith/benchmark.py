"""arith: the benchmark's metadata row, reader and prompt quirks (one folder per benchmark)."""

from __future__ import annotations

from polyalign.eval.taskspec import Benchmark

BENCHMARK = Benchmark(
    # English and the eight quickstart languages, parallel (polyalign/assets/arith)
    "arith", "numeric", ("en", "de", "fr", "es", "ru", "zh", "ja", "sw", "th"),
    lambda lang: (f"arith/test.{lang}.tsv",), "tsv_question_answer",
    "the arith task shipped with polyalign (polyalign/assets/arith; see its README)", builtin=True,
)
