"""Starter: the benchmark's metadata row, reader and prompt quirks (one folder per benchmark)."""

from __future__ import annotations

from polyalign.eval.taskspec import Benchmark


BENCHMARK = Benchmark(
    # English and eight others in five scripts (polyalign/assets/starter)
    "starter", "numeric", ("en", "de", "fr", "es", "ru", "zh", "ja", "sw", "th"),
    lambda lang: (f"starter/test.{lang}.tsv",), "tsv_question_answer",
    "the starter data shipped with polyalign (polyalign/assets/starter; see its README)", builtin=True,
)
