"""Question translation (QAlign stage I): the benchmark's metadata row, reader and prompt quirks (one folder per benchmark)."""

from __future__ import annotations

from typing import Any

from polyalign import langs
from polyalign.eval.taskspec import Benchmark, split_direction



def instruction_input(key: str, record: dict[str, Any], name_mode: str) -> tuple[str, str]:
    """QAlign stage I's training format: the request and the question as one instruction, no input."""
    src, tgt = split_direction(key)
    names = (langs.language_name(src, name_mode), langs.language_name(tgt, name_mode))  # type: ignore[arg-type]
    return f"Translate the following sentences from {names[0]} to {names[1]}. {record['source']}", ""


BENCHMARK = Benchmark(
    "qtrans", "translation", tuple(f"{code}-en" for code in langs.MGSM_LANGS if code != "en"),
    lambda key: (f"qtrans/{key}/test.{split_direction(key)[0]}", f"qtrans/{key}/test.en"), "parallel",
    "any line-aligned question pairs, laid out like the QAlign pairs: qtrans/<x>-en/test.<x> and test.en",
    instruction_input=instruction_input,
)
